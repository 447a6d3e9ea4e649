"""Service key files: reading (three formats), the Landscape Management format checks, and safe writing.

Formats accepted (../shared/reference/cloud-alm-api-and-prior-art.md §1.3): the bare credentials object (the BTP
cockpit's download), ``{"credentials": {...}}`` (``cf curl .../details``) and the text ``cf service-key`` prints
(header lines, then JSON). Checks are the four of seed 002 ("Uploading Service Credentials"): valid JSON;
``uaa.identityzone`` is the tenant's; ``uaa.clientid`` and ``uaa.clientsecret`` present; ``uaa.credential-type`` is
``instance-secret`` (``binding-secret`` for keys from the subaccount-level, non-CF route).

Key files are written atomically (temporary file in the same folder, fsync, rename) with mode 0600, and an
existing different file is never overwritten silently: without ``force`` the write is refused; with it the old file
is kept beside as ``<name>.<UTC time>.bak``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner.errors import BadInput, StepFailed

MAX_KEY_FILE_BYTES = 1024 * 1024
_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}
CHECK_NAMES = ("valid JSON", "uaa.identityzone is the tenant's", "uaa.clientid and uaa.clientsecret present",
               "uaa.credential-type")


@dataclass(frozen=True)
class Check:
    """One check's outcome: ``name``, ``passed`` and a ``message`` that never contains a secret."""

    name: str
    passed: bool
    message: str


def parse_key_text(text: str, source: str) -> dict[str, Any]:
    """Return the credentials object from a key file's text; raise :class:`BadInput` naming line and column."""
    stripped = text.lstrip("\ufeff")
    start = 0
    if not stripped.strip():
        raise BadInput(f"{source}:1:1: the key is empty; expected the service key's JSON "
                       "(the cockpit's download or `cf service-key` output)")
    if not stripped.lstrip().startswith("{"):
        try:
            other = json.loads(stripped)
        except (ValueError, RecursionError):
            pass
        else:  # JSON, but an array, a string, ...
            raise BadInput(f"{source}:1:1: the key is a JSON {_JSON_KINDS.get(type(other), 'value')}, expected an "
                           "object; use the service key's JSON as downloaded")
        # `cf service-key` output: header lines, a blank line, then the JSON
        lines = stripped.splitlines(keepends=True)
        for i, line in enumerate(lines):
            if line.lstrip().startswith("{"):
                start = sum(len(x) for x in lines[:i])
                break
        else:
            raise BadInput(f"{source}:1:1: no JSON object found; expected the service key's JSON "
                           "(the cockpit's download or `cf service-key` output)")
    try:
        value = json.loads(stripped[start:])
    except RecursionError:
        raise BadInput(f"{source}:1:1: the JSON nests too deeply; expected the service key's JSON "
                       "(the cockpit's download or `cf service-key` output)") from None
    except json.JSONDecodeError as exc:
        line = stripped.count("\n", 0, start + exc.pos) + 1
        col = start + exc.pos - (stripped.rfind("\n", 0, start + exc.pos) + 1) + 1
        raise BadInput(f"{source}:{line}:{col}: not valid JSON ({exc.msg}); "
                       "expected the service key's JSON (the cockpit's download or `cf service-key` output)") from None
    if not isinstance(value, dict):  # not reached for now: a text not starting with { is handled above
        raise BadInput(f"{source}:1:1: the key is a JSON {_JSON_KINDS.get(type(value), 'value')}, expected an "
                       "object; use the service key's JSON as downloaded")
    if isinstance(value.get("credentials"), dict) and "uaa" not in value:
        value = value["credentials"]
    return value


def read_text_file(path: Path, what: str, max_bytes: int = MAX_KEY_FILE_BYTES) -> str:
    """Read a UTF-8 text file; raise :class:`BadInput` for missing, unreadable, oversized, binary or non-UTF-8."""
    try:
        with path.open("rb") as fh:  # bounded read: /dev/zero or a pipe may have no size
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:
            size = path.stat().st_size
            over = f"{size} bytes, over" if size > max_bytes else "over"
            raise BadInput(f"{path}: the {what} is {over} the {max_bytes} byte limit; is it the right file?")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such {what}; check the path") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: is a directory, expected a {what}") from None
    except PermissionError:
        raise BadInput(f"{path}: cannot read the {what} (permission denied); check its mode") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path}: cannot read the {what} ({getattr(exc, 'strerror', None) or exc})") from None
    if b"\x00" in data:
        raise BadInput(f"{path}: the {what} is binary, expected UTF-8 text; is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise BadInput(f"{path}:{line}:{col}: the {what} is not UTF-8 text; save it as UTF-8") from None


def read_key_file(path: str | Path) -> dict[str, Any]:
    """Read and parse a service key file (any of the three formats)."""
    p = Path(path)
    return parse_key_text(read_text_file(p, "key file"), str(p))


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def check_key(creds: dict[str, Any], tenant: str,
              credential_types: tuple[str, ...] = ("instance-secret",)) -> list[Check]:
    """The four Landscape Management format checks, in the seed's order. ``creds`` parsed means JSON is valid."""
    checks = [Check(CHECK_NAMES[0], True, "the key parses as a JSON object")]
    zone = _get(creds, "uaa.identityzone")
    checks.append(Check(CHECK_NAMES[1], zone == tenant,
                        f"uaa.identityzone is {zone!r}" + ("" if zone == tenant else f", expected {tenant!r}")))
    missing = [f for f in ("uaa.clientid", "uaa.clientsecret")
               if not (isinstance(_get(creds, f), str) and _get(creds, f))]
    checks.append(Check(CHECK_NAMES[2], not missing,
                        "both present" if not missing else "missing: " + ", ".join(missing)))
    ctype = _get(creds, "uaa.credential-type")
    ok = ctype in credential_types
    checks.append(Check(CHECK_NAMES[3], ok, f"{ctype!r}" + ("" if ok else " (expected "
                                                             + " or ".join(credential_types) + ")")))
    return checks


def key_json(creds: dict[str, Any]) -> str:
    """The file content for a key: its JSON, indented by 2, with a final newline."""
    return json.dumps(creds, indent=2) + "\n"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, content: str, mode: int = 0o600) -> None:
    """Write ``content`` to ``path`` atomically with ``mode`` (default 0600; new folders get 0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def existing_key(path: Path) -> dict[str, Any] | None:
    """The credentials in an existing key file, None when there is no file; a file that does not parse is returned
    as ``{}`` (it differs from any key)."""
    if not path.exists():
        return None
    try:
        return read_key_file(path)
    except BadInput:
        return {}


def write_key_file(path: str | Path, creds: dict[str, Any], *, force: bool, key_name: str) -> str:
    """Write the key to ``path``; return ``created``, ``updated`` or ``unchanged``.

    Same content already there → ``unchanged`` (the mode is set to 0600 if it was wider). Different content →
    :class:`StepFailed` unless ``force``; with ``force`` the old file is kept as ``<path>.<UTC time>.bak``.
    """
    p = Path(path)
    old = existing_key(p)
    if old is not None and old == creds:
        if p.stat().st_mode & 0o077:
            os.chmod(p, 0o600)
        return "unchanged"
    if old is not None:
        if not force:
            raise StepFailed(f"{p}: the file differs from service key {key_name!r}; kept it. Re-run with --force "
                             "to replace it (the old file is then kept as a .bak beside it)")
        backup = p.with_name(f"{p.name}.{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.bak")
        atomic_write(backup, p.read_text(encoding="utf-8", errors="replace"))
    atomic_write(p, key_json(creds))
    return "updated" if old is not None else "created"
