"""Service key files: reading (three forms, one strict JSON reader), the Landscape Management format checks, the
``key export`` conversions, and safe writing.

Forms read (:mod:`provisioner.keys.keyjson`): the bare credentials object (the BTP cockpit's download),
``{"credentials":
{...}}`` (CF v3 ``GET /v3/service_credential_bindings/:guid/details``, a Service Manager binding) and the text
``cf service-key`` prints. Landscape Management takes the bare object only; its four format checks (SAP Help,
"Managing Your Service Credentials", Uploading Service Credentials): valid JSON; ``uaa.identityzone`` is the
tenant's; ``uaa.clientid`` and ``uaa.clientsecret`` present; ``uaa.credential-type`` is ``binding-secret``
("approach without Cloud Foundry") or ``instance-secret`` ("approach with Cloud Foundry"). An ``x509`` key (a
client certificate instead of a secret) is refused there, and checked as such only when asked for.

Key files are written atomically with mode 0600 (:mod:`provisioner.safefile`), and an existing different file is
never overwritten silently: without ``force`` the write is refused; with it the old file is kept beside as
``<name>.<UTC time>.bak`` (``.bak.1``, ... when that exists).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner import safefile
from provisioner.errors import BadInput, StepFailed
from provisioner.keys.almsetup import alm_setup_fields as alm_setup_fields  # re-exported (key export)
from provisioner.keys.keyjson import BARE, CLI_TEXT, WRAPPED, ParsedKey, parse_key, shown
from provisioner.keys.x509key import certificate_expiry, describe_expiry

MAX_KEY_FILE_BYTES = safefile.MAX_READ_BYTES
CHECK_NAMES = ("valid JSON", "uaa.identityzone is the tenant's", "uaa.clientid and uaa.clientsecret present",
               "uaa.credential-type")
CERTIFICATE = "certificate"
X509 = "x509"
#: what Landscape Management's upload takes in uaa.credential-type ("Managing Your Service Credentials", 2026-02-04)
LANDSCAPE_TYPES: tuple[str, ...] = ("binding-secret", "instance-secret")
EXPORT_HINT = "run `provisioner key export FILE --for landscape-management -o OUT` to write the bare object"
atomic_write = safefile.atomic_write


@dataclass(frozen=True)
class Check:
    """One check's outcome: ``name``, ``passed`` and a ``message`` that never contains a secret (both made
    :func:`provisioner.safetext.shown`: a message may carry what a server said, a token's claims)."""

    name: str
    passed: bool
    message: str

    def __post_init__(self) -> None:
        from provisioner.safetext import shown as safe

        object.__setattr__(self, "name", safe(self.name, 200))
        object.__setattr__(self, "message", safe(self.message))


def parse_key_text(text: str, source: str) -> dict[str, Any]:
    """The credentials object (a dict) from a key's text in any of the three forms, read strictly (one leading
    BOM tolerated); raises :class:`BadInput` naming ``source``, line and column."""
    return parse_key(text, source).creds


def read_text_file(path: Path, what: str, max_bytes: int = MAX_KEY_FILE_BYTES, *, fifo_seconds: float = 0.0) -> str:
    """Read a UTF-8 text file (``~`` expanded) of at most ``max_bytes`` bytes; raise :class:`BadInput` for missing,
    unreadable, oversized, binary or non-UTF-8, a device, and a FIFO unless ``fifo_seconds`` > 0
    (:func:`provisioner.safefile.read_bytes`): nothing hangs."""
    return safefile.read_text(safefile.expand(path), what, max_bytes, fifo_seconds=fifo_seconds)


def read_key(path: str | Path) -> ParsedKey:
    """Read a key file (``~`` expanded; a regular file of at most 1 MiB, never a FIFO or device) strictly; the
    credentials, the form they came in and whether a BOM led. Raises :class:`BadInput`."""
    p = safefile.expand(path)
    return parse_key(safefile.read_text(p, "key file", MAX_KEY_FILE_BYTES), str(path))


def read_key_file(path: str | Path) -> dict[str, Any]:
    """Read and parse a service key file (any of the three forms, see :func:`read_key`): the credentials dict."""
    return read_key(path).creds


def read_user_key_file(path: str | Path) -> dict[str, Any]:
    """:func:`read_key_file` of a key file a user gives (``key test``, ``key export``), its fields' types checked
    too (:func:`provisioner.clients.answers.keys.check_key_fields`: ``uaa.uaadomain`` a list is one line, exit code
    2)."""
    from provisioner.clients.answers.keys import check_key_fields

    creds = read_key_file(path)
    check_key_fields(creds, str(path))
    return creds


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _form_problem(form: str, bom: bool) -> str | None:
    if form == WRAPPED:
        return 'the key is wrapped in {"credentials": ...} and Landscape Management takes the bare object; ' \
               + EXPORT_HINT
    if form == CLI_TEXT:
        return "the file holds `cf service-key` output (text before the JSON) and Landscape Management takes " \
               "the bare object; " + EXPORT_HINT
    if bom:
        return "the file starts with a byte order mark (BOM); " + EXPORT_HINT + " without it"
    return None


def check_key(creds: dict[str, Any], tenant: str, credential_types: tuple[str, ...] = LANDSCAPE_TYPES, *,
              form: str = BARE, bom: bool = False) -> list[Check]:
    """The four Landscape Management format checks, in SAP's order, accepting ``credential_types`` in
    ``uaa.credential-type`` (default: what Landscape Management takes, binding-secret or instance-secret); with
    ``x509`` accepted, an x509 key passes the third check with ``uaa.certificate`` and ``uaa.key`` instead of the
    secret, and a fifth check tells its certificate's expiry. ``creds`` parsed means the JSON is valid; ``form``
    and ``bom`` (from :func:`read_key`) say whether it is also the bare object Landscape Management takes. Echoed
    values are cut to a short prefix and never the client secret."""
    secret = _get(creds, "uaa.clientsecret")

    def echo(value: Any) -> str:
        if isinstance(secret, str) and secret and isinstance(value, str) and secret in value:
            return "(the client secret's value)"
        return shown(value)

    problem = _form_problem(form, bom)
    checks = [Check(CHECK_NAMES[0], problem is None, problem or "one bare JSON object")]
    zone = _get(creds, "uaa.identityzone")
    expected = "" if zone == tenant else f", expected {shown(tenant)}; use the key of this tenant's SAP Cloud " \
                                         "ALM API instance (one key per tenant)"
    checks.append(Check(CHECK_NAMES[1], zone == tenant, f"uaa.identityzone is {echo(zone)}{expected}"))
    ctype = _get(creds, "uaa.credential-type")
    x509 = ctype == X509 and X509 in credential_types
    fields = ("uaa.clientid", "uaa.certificate", "uaa.key") if x509 else ("uaa.clientid", "uaa.clientsecret")
    missing = [f for f in fields if not (isinstance(_get(creds, f), str) and _get(creds, f))]
    hint = ("; an x509 key signs in with uaa.certificate instead, and Landscape Management needs a secret"
            if ctype == X509 else "; download the key again (BTP cockpit: Instances and Subscriptions > Credentials)")
    checks.append(Check(CHECK_NAMES[2], not missing,
                        ("uaa.clientid, uaa.certificate and uaa.key present (x509: no secret)" if x509
                         else "both present") if not missing else "missing: " + ", ".join(missing) + hint))
    ok = ctype in credential_types
    wanted = " or ".join(credential_types)
    if ok:
        why = ""
    elif ctype == X509:
        why = (f" (expected {wanted}): Landscape Management takes binding-secret or instance-secret (its upload "
               "checks uaa.clientid and uaa.clientsecret; an x509 key has a certificate instead); upload a "
               "binding-secret key, and use this one where a client certificate is taken (/SDF/ALM_SETUP mTLS, "
               "ST-PI 7.40 SP29), checked with --credential-type x509")
    else:
        why = f" (expected {wanted}); use a key whose uaa.credential-type is that (--credential-type says which " \
              "is expected)"
    checks.append(Check(CHECK_NAMES[3], ok, echo(ctype) + why))
    if ctype == X509 or _get(creds, "uaa.certificate") is not None:
        checks.append(certificate_check(creds))
    return checks


def key_file_expiry(path: str | Path) -> dt.datetime | None:
    """When the client certificate of the key file at ``path`` (an x509 key) expires (UTC); None for a key without
    a certificate. Raises :class:`BadInput` for an unreadable file or certificate."""
    return certificate_expiry(read_key_file(path), str(path))


def certificate_check(creds: dict[str, Any]) -> Check:
    """The client certificate's expiry (an x509 key): passes while it is valid."""
    try:
        expiry = certificate_expiry(creds)
    except BadInput as exc:
        return Check(CERTIFICATE, False, str(exc).split(": ", 1)[-1])
    if expiry is None:
        return Check(CERTIFICATE, False, "uaa.certificate is missing")
    valid, words = describe_expiry(expiry)
    return Check(CERTIFICATE, valid, words + ("" if valid else "; create a new key (`provisioner key rotate`)"))


def check_key_file(path: str | Path, tenant: str,
                   credential_types: tuple[str, ...] = LANDSCAPE_TYPES) -> list[Check]:
    """:func:`check_key` on a file, its form included; raises :class:`BadInput` when it cannot be read strictly or
    a field has the wrong type (:func:`provisioner.clients.answers.keys.check_key_fields`)."""
    from provisioner.clients.answers.keys import check_key_fields

    parsed = read_key(path)
    check_key_fields(parsed.creds, str(path))
    return check_key(parsed.creds, tenant, credential_types, form=parsed.form, bom=parsed.bom)


def key_json(creds: dict[str, Any]) -> str:
    """The file content for a key: its JSON, indented by 2, with a final newline."""
    return json.dumps(creds, indent=2) + "\n"


def _at(path: Path) -> tuple[Path | None, str | None]:
    """Where a read of the key path ``path`` leads (the regular file, None: nothing there) and, when ``path`` is a
    symbolic link, what it points to (as the link reads; a link to a missing file included). A directory, FIFO,
    device, a link to one or a link loop is a :class:`BadInput`."""
    if os.path.islink(path):
        try:
            text = os.readlink(path)
            os.stat(path)
        except FileNotFoundError:
            return None, text
        except OSError:
            return safefile.target(path), None  # a loop: one line
        return safefile.target(path), text
    return safefile.target(path), None


def key_link(path: str | Path) -> str | None:
    """What the key path points to when it is a symbolic link (never written through), else None."""
    return _at(safefile.expand(path))[1]


def existing_key(path: Path) -> dict[str, Any] | None:
    """The credentials in an existing key file, None when there is no file. A file that does not parse, or is not
    the bare object Landscape Management takes (a wrapper, `cf service-key` text, a BOM), is returned as ``{}``
    (it differs from any key). A key file readable by group or others is tightened to mode 0600 here (not through a
    symbolic link). A path that is a directory, FIFO, device or a link to one is a :class:`BadInput`."""
    p = safefile.expand(path)
    real, link = _at(p)
    if real is None:
        return None
    try:
        parsed = read_key(real)
    except BadInput:
        return {}
    try:
        if link is None and os.stat(real).st_mode & 0o077:
            os.chmod(real, 0o600)
    except OSError:
        pass
    return parsed.creds if parsed.landscape_ready else {}


def own_key(on_disk: Any, creds: Any, tenant: str) -> bool:
    """Whether the key ``on_disk`` (from :func:`existing_key`) is one this tool could have written for ``tenant``:
    a bare key of the tenant's identity zone and, when ``creds`` (the key now) is given, of its client (an older
    key of the same instance)."""
    if not on_disk or _get(on_disk, "uaa.identityzone") != tenant:
        return False
    return creds is None or _get(on_disk, "uaa.clientid") == _get(creds, "uaa.clientid")


def foreign(on_disk: Any, creds: Any, tenant: str | None) -> str:
    """What a key file that differs from the key holds, for a line (never a secret): ``""`` when it is an older
    key of the tenant's, else ``": it holds ..."``."""
    if on_disk is None:
        return ""
    if not on_disk:
        return ": it holds no bare key object (not a key this tool wrote)"
    zone = _get(on_disk, "uaa.identityzone")
    if tenant is not None and zone != tenant:
        return f": it holds a key of identity zone {shown(zone)}, not of tenant {tenant}" if zone is not None \
            else f": it holds no key of tenant {tenant} (no uaa.identityzone)"
    if creds is not None and _get(on_disk, "uaa.clientid") != _get(creds, "uaa.clientid"):
        return ": it holds another client's key (uaa.clientid differs)"
    return ""


def write_key_file(path: str | Path, creds: dict[str, Any], *, force: bool, key_name: str,
                   tenant: str | None = None) -> str:
    """Write the key to ``path`` (``~`` expanded; a regular file, a symbolic link or absent); return ``created``,
    ``updated`` or ``unchanged``.

    Same content already there → ``unchanged`` (the mode is set to 0600 if it was wider). Different content, or a
    symbolic link → :class:`StepFailed` naming what is there (another ``tenant``'s key, no key) unless ``force``;
    with ``force`` the old file is kept as ``<path>.<UTC time>.bak`` (a new name each time), and a link is
    replaced itself: what it points to is never written. A bad path → :class:`BadInput`, nothing written.
    """
    p = safefile.expand(path)
    real, link = _at(p)
    old = existing_key(p) if real is not None else None
    if old is not None and old == creds:
        return "unchanged"
    if link is not None and not force:
        raise StepFailed(f"{p}: is a symbolic link to {link}, not a key file this tool wrote; kept it. Re-run with "
                         "--force to replace the link itself with the key file (what it points to is left "
                         "untouched)")
    if old is not None and not force:
        raise StepFailed(f"{p}: the file differs from service key {key_name!r}{foreign(old, creds, tenant)}; kept "
                         "it. Re-run with --force to replace it (the old file is then kept as a .bak beside it)")
    if old is not None and link is None:
        safefile.backup(p)
    safefile.atomic_write(p, key_json(creds), what="key file", follow=False)
    return "updated" if old is not None or link is not None else "created"
