"""Steps 6 and 7, check and test: verifications, not changes. Check runs the Landscape Management format checks
on the downloaded key file (SAP Cloud ALM's "Landscape Management" upload: valid JSON, the tenant's identity zone,
client id and secret, the credential type); test signs in with the key's client credentials and checks the
token's scopes (the "Test Service Key" behaviour). Each reports ``passed`` or ``failed``; neither writes.
"""

from __future__ import annotations

from pathlib import Path

from provisioner.keys.keyfile import check_key, read_key_file
from provisioner.keys.keytest import test_key
from provisioner.playbook.load import Playbook
from provisioner.steps.base import Env, Upstream, Verification, VerifyStep


class CheckStep(VerifyStep):
    name = "check"
    needs = ("download",)

    def verify(self, env: Env, upstream: Upstream) -> Verification | None:
        """The format checks on the file at the download path (in ``plan``: None when the download step would
        write it first). Raises :class:`~provisioner.errors.BadInput` when the file cannot be read."""
        pb = env.settings
        path = Path(pb.download_path)
        if env.dry_run and (upstream.planned("download") is not None or not path.exists()):
            return None
        # what Landscape Management takes (binding-secret or instance-secret), unless service.credential_type insists
        return Verification.of(check_key(read_key_file(path), pb.tenant.subdomain, pb.accepted_credential_types))

    def later(self, settings: Playbook) -> str:
        return "check the downloaded key (after the download)"


class TestStep(VerifyStep):
    name = "test"
    needs = ("download", "check")  # a key file that fails the format checks is not signed in with
    ahead = True  # a re-run signs in with the key file it finds while the other steps read
    __test__ = False  # not a pytest class

    def verify(self, env: Env, upstream: Upstream) -> Verification | None:
        """Sign in with the key file's client credentials (``POST <uaa.url>/oauth/token``) and check the scopes;
        None in ``plan`` (plan does not sign in with the key)."""
        if env.dry_run:
            return None
        creds = read_key_file(Path(env.settings.download_path))
        return Verification.of(test_key(creds, required_scopes=env.settings.service.required_scopes,
                                        pool=env.pool, stats=env.stats))

    def later(self, settings: Playbook) -> str:
        return "sign in with the key and check its scopes (on run)"
