"""Step 5, download: write the key's credentials (the bare object, as the cockpit's download) to the output path,
atomically with mode 0600. Same content there → unchanged; different content → refused unless ``--force`` (the old
file is then kept as a .bak), or when this run created the key and the file holds an older key of this tenant's
(its identity zone and client: the key the old file came from is gone). A file this tool did not write for this
tenant (another tenant's key, no key at all) is never replaced without ``--force``, on a first run too. A symbolic
link at the path is never written through: ``--force`` replaces the link itself and leaves what it pointed to
untouched. Credentials come from the :class:`~provisioner.platform.ServicePlatform` (``key_credentials``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner.errors import StepFailed
from provisioner.keys.keyfile import existing_key, foreign, key_link, own_key, write_key_file
from provisioner.playbook.load import Playbook
from provisioner.steps.base import Action, Change, Env, Output, Step, Upstream
from provisioner.steps.key import KeyOutput


@dataclass(frozen=True)
class DownloadObservation:
    """The file's ``path``, the key's credentials (None when the key step will create the key), the file's content
    (None: no file; ``{}``: it does not parse) and whether the file may be replaced without ``--force`` (this run
    creates or created the key: the key the file came from no longer exists)."""

    path: str
    credentials: Mapping[str, Any] | None
    on_disk: Mapping[str, Any] | None
    replaceable: bool = False
    #: the key's name when the key step found one (a located binding may have any name)
    key_name: str | None = None
    #: what the path points to when it is a symbolic link (never written through)
    link: str | None = None
    #: ``--force``: a file that differs is replaced (the old one kept as a .bak)
    force: bool = False


@dataclass(frozen=True)
class DownloadOutput(Output):
    """The file written (or already holding the key) and the credentials in it (secrets: never print them)."""

    path: str
    credentials: Mapping[str, Any]


class DownloadStep(Step[DownloadObservation, DownloadOutput]):
    name = "download"
    needs = ("key",)

    def read(self, env: Env, upstream: Upstream) -> DownloadObservation:
        path = env.settings.download_path
        on_disk, link = existing_key(Path(path)), key_link(path)
        tenant = env.settings.tenant.subdomain
        key = upstream.output("key", KeyOutput)
        if key is None:
            return DownloadObservation(path, None, on_disk, link=link, replaceable=upstream.planned("key") is not None
                                       and link is None and own_key(on_disk, None, tenant), force=env.force)
        # the wait for a key this run created may have read its credentials already
        credentials = key.credentials if key.credentials is not None and not env.again else \
            env.platform.key_credentials(key.key.guid)
        mine = link is None and own_key(on_disk, credentials, tenant)
        return DownloadObservation(path, credentials, on_disk, replaceable=(key.created or key.replaces_file) and mine,
                                   key_name=key.key.name, link=link, force=env.force)

    def compare(self, settings: Playbook, observation: DownloadObservation, upstream: Upstream) -> Change:
        path = settings.download_path
        name = observation.key_name or settings.key_name
        link = observation.link
        if observation.on_disk == observation.credentials and observation.credentials is not None:
            return Change.of(Action.NONE, f"{path} holds the service key")
        if link is not None:
            return Change.of(Action.UPDATE, f"{path} is a symbolic link to {link}, not a key file this tool wrote; "
                                            "--force replaces the link itself (what it points to is left "
                                            "untouched), else it is kept")
        if observation.credentials is None:
            return Change.of(Action.CREATE if observation.on_disk is None else Action.UPDATE,
                             f"download the new service key to {path}")
        if observation.on_disk is None:
            return Change.of(Action.CREATE, f"download service key {name} to {path}")
        reason = f"{path} differs from service key {name}" + foreign(observation.on_disk, observation.credentials,
                                                                    settings.tenant.subdomain)
        if observation.replaceable:
            reason += " (the key was re-created; the old file is kept as .bak)"
        elif observation.force:
            reason += "; --force replaces it (the old file is kept as a .bak beside it)"
        else:
            reason += "; it is kept unless --force"
        return Change.of(Action.UPDATE, reason)

    def apply(self, env: Env, observation: DownloadObservation, change: Change,
              upstream: Upstream) -> DownloadOutput:
        pb = env.settings
        if observation.credentials is None:
            raise StepFailed("no service key to download")
        creds = dict(observation.credentials)
        write_key_file(pb.download_path, creds, force=env.force or observation.replaceable,
                       key_name=observation.key_name or pb.key_name, tenant=pb.tenant.subdomain)
        replaced = (f"--force: replaced the symbolic link {pb.download_path} with the key file; {observation.link}, "
                    "which it pointed to, is left untouched",) if observation.link is not None else ()
        return DownloadOutput(pb.download_path, creds, notes=replaced)

    def current(self, observation: DownloadObservation) -> DownloadOutput | None:
        if observation.credentials is None:
            return None
        return DownloadOutput(observation.path, observation.credentials)
