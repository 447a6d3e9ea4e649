"""What ``run`` and ``plan`` write never clobbers what they read, nor each other: the report (``--report``), the
JUnit file (``--junit``), the resume state (``--resume``) and every tenant's key files (``steps.download.path`` and
the per-purpose paths) are distinct from each other and from every input (the playbooks, the ``{file:}`` secret
files such as the cis or Service Manager key, the CA bundle, the cf CLI's config). Checked before any request, one
line each (:class:`~provisioner.errors.BadInput`: exit 2, ``plan`` 1).

Files are compared as the system sees them, not as spelled: two paths name one file when they lead to the same
device and inode (symbolic links followed), or, for a file not there yet, to the same real path (links in the way
resolved).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner import safefile
from provisioner.errors import BadInput

if TYPE_CHECKING:
    from provisioner.playbook.load import Playbook

Identity = tuple[object, ...]


def identity(path: str | Path) -> Identity:
    """The file ``path`` names (``~`` expanded): ``("inode", device, inode)`` when it exists, else ``("path",
    real path)``."""
    p = safefile.expand(path)
    try:
        st = os.stat(p)
    except (OSError, ValueError):
        return ("path", os.path.realpath(p))
    return ("inode", st.st_dev, st.st_ino)


_FIX = {"--report": "write the report to another file", "--junit": "write the report to another file",
        "--resume": "give the report of an earlier run"}


def check_flags(report: Path | None, junit: Path | None, resume: Path | None, playbooks: Iterable[Path]) -> None:
    """Before the playbooks are read: ``--report`` and ``--junit`` name regular files or nothing yet (never a
    directory, device or FIFO: :func:`provisioner.safefile.target`), and ``--report``, ``--junit`` and ``--resume``
    are three files, none of them a playbook. Raises :class:`BadInput`."""
    for flag, path in (("--report", report), ("--junit", junit)):
        if path is not None:
            safefile.target(safefile.expand(path), f"{flag} file")
    given = {identity(p) for p in playbooks}
    seen: dict[Identity, str] = {}
    for flag, path in (("--report", report), ("--junit", junit), ("--resume", resume)):
        if path is None:
            continue
        here = identity(path)
        if here in given:
            raise BadInput(f"{flag} {path}: is one of the playbooks given; {_FIX[flag]}")
        if here in seen:
            raise BadInput(f"{flag} {path}: is also {seen[here]}; give each its own file")
        seen[here] = flag


def _inputs(pb: Playbook) -> Iterator[tuple[str, str]]:
    """(path, what it is) of every file the tenant's run reads."""
    yield pb.source, f"the playbook {pb.source}"
    for ref in pb.secrets():
        if ref.file is not None:
            yield ref.file, f"the secret file of {ref.where or 'a secret'} (an input)"
    if pb.http.ca_bundle:
        yield pb.http.ca_bundle, f"http.ca_bundle of {pb.source} (an input)"
    if pb.cf is not None and pb.cf.login == "cf-cli":
        from provisioner.engine.credentials import cf_config_path

        yield str(cf_config_path()), "the cf CLI's config.json (an input)"


def key_paths(pb: Playbook) -> list[str]:
    """The tenant's key files: one per purpose."""
    return [pb.for_purpose(purpose).download_path for purpose in pb.tenant.purposes]


def _usable_key_path(pb: Playbook, path: str) -> None:
    """A key path where a key file can go: nothing yet, a regular file, or a symbolic link (never a directory,
    FIFO or device), and its lease file regular or absent. Raises :class:`BadInput` naming the tenant."""
    where = f"{pb.source}: steps.download.path of tenant {pb.tenant.subdomain}"
    p = safefile.expand(path)
    try:
        mode = os.lstat(p).st_mode
    except FileNotFoundError:
        mode = 0
    except (OSError, ValueError):
        mode = -1
    if mode and (mode < 0 or not stat.S_ISLNK(mode)):  # -1: lstat failed (a name too long, ...)
        try:
            safefile.target(p, "key file")
        except BadInput as exc:
            raise BadInput(f"{where}: {exc}") from None
    lease = p.parent / f".{p.name}.lease"
    if os.path.lexists(lease) and not stat.S_ISREG(os.lstat(lease).st_mode):
        raise BadInput(f"{where}: {lease} (the lease file of {p}) is not a regular file; remove it (it only "
                       "records who holds the lease)")


def check_paths(playbooks: list[Playbook], report: Path | None, junit: Path | None, resume: Path | None) -> None:
    """After the playbooks are read, before any request: every key path is usable (:func:`_usable_key_path`),
    and no key path, ``--report``, ``--junit`` or ``--resume`` is an input or another tenant's key path.
    Raises :class:`BadInput` naming both."""
    inputs: dict[Identity, str] = {}
    for pb in playbooks:
        for path, what in _inputs(pb):
            inputs.setdefault(identity(path), what)
    keys: dict[Identity, str] = {}
    for pb in playbooks:
        for path in key_paths(pb):
            _usable_key_path(pb, path)
            here = identity(path)
            what = f"steps.download.path {path} of tenant {pb.tenant.subdomain} ({pb.source})"
            if here in inputs:
                raise BadInput(f"{pb.source}: steps.download.path {path} of tenant {pb.tenant.subdomain}: is "
                               f"{inputs[here]}; give the key its own file")
            keys.setdefault(here, what)
    for flag, given in (("--report", report), ("--junit", junit), ("--resume", resume)):
        if given is None:
            continue
        here = identity(given)
        if here in inputs:
            raise BadInput(f"{flag} {given}: is {inputs[here]}; {_FIX[flag]}")
        if here in keys:
            raise BadInput(f"{flag} {given}: is {keys[here]}; {_FIX[flag]}")
