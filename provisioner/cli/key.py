"""The ``provisioner key`` commands (check, export, test, rotate) and ``provisioner revoke``: one service key file
or one playbook's key at a time. Registered on the app by :mod:`provisioner.cli.app`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from provisioner.cli.common import Timeout, Verbose, _fail, _guard, _load, _say, _verbose
from provisioner.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from provisioner.playbook.model import Playbook

key_app = typer.Typer(no_args_is_help=True, help="Check, test and export a service key file.")


@key_app.command("check")
def key_check(file: Annotated[Path, typer.Argument(help="The key file to upload to Landscape Management: the bare "
                                                        "JSON object.")],
              tenant: Annotated[str, typer.Option("--tenant", help="The tenant's identity zone (subdomain).")],
              credential_type: Annotated[str | None, typer.Option(
                  "--credential-type", help="Insist on this uaa.credential-type: binding-secret, instance-secret "
                                            "or x509 (an x509 key: its certificate's expiry too). Default: what "
                                            "Landscape Management takes, binding-secret or instance-secret.")]
              = None) -> None:
    """The four Landscape Management format checks, as strict as its upload: one bare JSON object (no
    {"credentials": ...} wrapper, no `cf service-key` text, no BOM), the tenant's zone, client id and secret, a
    binding-secret or instance-secret key (an x509 key is refused: the upload needs a secret). Exit 0 all pass, 1 a
    check failed, 2 the file is unreadable or not strict JSON (duplicate names, NaN, trailing data, ...)."""
    from provisioner.cli import output
    from provisioner.keys import keyfile

    if credential_type not in (None, "instance-secret", "binding-secret", "x509"):
        raise _fail(f"--credential-type {credential_type!r}: use binding-secret, instance-secret or x509",
                    EXIT_BAD_INPUT)
    types = (credential_type,) if credential_type else keyfile.LANDSCAPE_TYPES
    checks = _guard(lambda: keyfile.check_key_file(file, tenant, types))
    output.print_checks(str(file), checks)
    raise typer.Exit(EXIT_OK if all(c.passed for c in checks) else EXIT_FAILED)


EXPORT_TARGETS = ("landscape-management", "alm-setup")


@key_app.command("export")
def key_export(file: Annotated[Path, typer.Argument(help="Key file: bare JSON, {\"credentials\": ...} (CF /details "
                                                         "or a Service Manager binding) or `cf service-key` output.")],
               target: Annotated[str, typer.Option(
                   "--for", help="landscape-management: write the bare object to -o OUT (mode 0600), the file "
                                 "Landscape Management uploads; alm-setup: print the /SDF/ALM_SETUP fields "
                                 "(never the secret).")] = "landscape-management",
               out: Annotated[Path | None, typer.Option("--out", "-o", help="The file to write (landscape-management; "
                                                                            "required: secrets never go to the "
                                                                            "terminal).")] = None,
               force: Annotated[bool, typer.Option("--force", help="Replace a different OUT (kept as a .bak).")]
               = False) -> None:
    """Convert a key file for where it goes. Exit 0 done, 1 OUT differs (use --force), 2 bad input."""
    from provisioner.keys import keyfile

    if target not in EXPORT_TARGETS:
        raise _fail(f"--for {target!r}: use " + " or ".join(EXPORT_TARGETS), EXIT_BAD_INPUT)
    if target == "alm-setup":
        if out is not None:
            raise _fail("-o: --for alm-setup prints fields and writes no file; drop -o", EXIT_BAD_INPUT)
        creds = _guard(lambda: keyfile.read_user_key_file(file))
        for label, value in _guard(lambda: keyfile.alm_setup_fields(creds, str(file))):
            _say(f"{label}: {value}")
        return
    if out is None:
        raise _fail("-o OUT is required: the bare key holds the client secret and is never printed", EXIT_BAD_INPUT)
    creds = _guard(lambda: keyfile.read_user_key_file(file))
    if (creds.get("uaa") or {}).get("credential-type") == keyfile.X509:
        raise _fail(f"{file}: an x509 key cannot be uploaded to Landscape Management: it takes binding-secret or "
                    "instance-secret (its upload checks uaa.clientsecret; an x509 key has a certificate instead); "
                    "export a binding-secret key, and use this one where a client certificate is taken "
                    "(`key export --for alm-setup`)", EXIT_FAILED)
    action = _guard(lambda: keyfile.write_key_file(out, creds, force=force, key_name=str(file)))
    typer.echo(f"{out}: {action} (the bare key object, mode 0600); upload it in Landscape Management > SAP Cloud "
               "ALM Service Key (one key per tenant)")


@key_app.command("test")
def key_test(file: Annotated[Path, typer.Argument(help="Key file (any of the formats `key check` reads).")],
             api: Annotated[bool, typer.Option("--api", help="Also call the Cloud ALM API (endpoints.Api) with the "
                                               "token.")] = False,
             scope: Annotated[list[str] | None, typer.Option(
                 "--scope", help="A scope the token must carry (repeatable), e.g. calm-api.projects.read for an api "
                                 "key. Default: imp-cdm-feature-display-ui and imp-cdm-feature-manage-ui.")] = None,
             verbose: Verbose = False) -> None:
    """Sign in with the key (client credentials; an x509 key: its certificate at uaa.certurl, after checking its
    expiry) and check the token as SAP's library would: signature (the zone's token keys or uaa.verificationkey),
    expiry, identity zone, client and the scopes; exit 1 on any failure. Prints no secret."""
    _verbose(verbose)
    from provisioner.cli import output
    from provisioner.keys import keyfile, keytest

    creds = _guard(lambda: keyfile.read_user_key_file(file))
    scopes = tuple(scope) if scope else keytest.DEFAULT_REQUIRED_SCOPES
    checks = _guard(lambda: keytest.test_key(creds, source=str(file), api=api, required_scopes=scopes))
    output.print_checks(str(file), checks)
    raise typer.Exit(EXIT_OK if all(c.passed for c in checks) else EXIT_FAILED)


IncludeForeign = Annotated[list[str] | None, typer.Option(
    "--include-foreign", help="Act on this key (or, with --recreate-instance, instance) that the tool did not make: "
                              "SAP's generated key (rotate: replace it), a per-system binding, another tool's key "
                              "(revoke: delete it). Repeatable.")]
Purpose = Annotated[str | None, typer.Option("--purpose", help="The purpose whose key (tenant.purposes; default "
                                                               "the Landscape Management one).")]


def _for_purpose(playbook: Path, purpose: str | None, timeout: float | None = None) -> Playbook:
    pb = _load(playbook, timeout)
    chosen = purpose or pb.landscape_management_purpose or pb.tenant.purposes[0]
    if chosen not in pb.tenant.purposes:
        from provisioner.errors import BadInput

        raise BadInput(f"--purpose {chosen}: not in tenant.purposes ({', '.join(pb.tenant.purposes)})")
    return pb.for_purpose(chosen)


@key_app.command("rotate")
def key_rotate(playbook: Annotated[Path, typer.Argument(help="The playbook whose key to rotate.")],
               retire: Annotated[bool, typer.Option(
                   "--retire", help="After the new key is tested and downloaded, delete the old one(s) (asks; "
                                    "--yes in CI).")] = False,
               yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
               include_foreign: IncludeForeign = None, purpose: Purpose = None, timeout: Timeout = None,
               verbose: Verbose = False) -> None:
    """Create a new key, test it and download it, and keep the old one (both sign in) until `key retire`, `key
    rotate --retire` or, after rotation.grace, a `run`. A key this tool did not make (SAP's generated binding) is
    rotated only when --include-foreign names it. An instance-secret key: nothing changes (`key migrate`). Holds
    the key file's lease; one held by another rotation, revoke or run of the tenant is waited for."""
    _verbose(verbose)
    if retire and not yes and not sys.stdin.isatty():  # refused before the new key is made, not after
        raise _fail(f"key rotate --retire asks before it deletes the old key: pass --yes (no prompt without a "
                    f"terminal), or rotate now and run `provisioner key retire {playbook}` later; nothing was changed",
                    EXIT_BAD_INPUT)
    from provisioner.keylife import rotation

    _guard(lambda: rotation.rotate(_for_purpose(playbook, purpose, timeout), _say, tuple(include_foreign or ()),
                                   retire_old=retire, confirm=_confirm(yes, "key rotate --retire deletes")))


@key_app.command("retire")
def key_retire(playbook: Annotated[Path, typer.Argument(help="The playbook whose replaced key(s) to delete.")],
               yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
               purpose: Purpose = None, timeout: Timeout = None, verbose: Verbose = False) -> None:
    """Delete the keys rotations replaced (older than the key in use: the one the key file holds, else the
    newest), after a confirmation (--yes; no prompt without a terminal: exit 2). Upload the new key to Landscape
    Management first: the retired keys stop signing in."""
    _verbose(verbose)
    from provisioner.keylife import rotation

    _guard(lambda: rotation.retire(_for_purpose(playbook, purpose, timeout), _confirm(yes, "key retire deletes"),
                                   _say))


def _confirm(yes: bool, what: str) -> Callable[[list[str]], bool]:
    def confirm(names: list[str]) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise _fail(f"{what} " + ", ".join(names) + "; pass --yes (no prompt without a terminal)",
                        EXIT_BAD_INPUT)
        return typer.confirm("Delete " + ", ".join(names) + "?", default=False)

    return confirm


@key_app.command("migrate")
def key_migrate(playbook: Annotated[Path, typer.Argument(help="The playbook whose instance to move off "
                                                             "instance secrets.")],
                yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
                skip_usage_check: Annotated[bool, typer.Option(
                    "--skip-usage-check", help="Drop instance-secret without reading instanceSecretLastUsedAt "
                                               "(when the Authorization API refuses and you checked it "
                                               "otherwise).")] = False,
                include_foreign: IncludeForeign = None, purpose: Purpose = None, timeout: Timeout = None,
                verbose: Verbose = False) -> None:
    """Move the instance off instance secrets as SAP describes: allow both types, create, download and test a
    binding-secret key, delete the old keys (after a confirmation), check instanceSecretLastUsedAt, then drop
    instance-secret. A migrated instance gets no write. Never SAP's generated credentials unless named."""
    _verbose(verbose)
    from provisioner.keylife import migrate

    _guard(lambda: migrate.migrate(_for_purpose(playbook, purpose, timeout), _confirm(yes, "key migrate deletes"),
                                   typer.echo, tuple(include_foreign or ()), skip_usage_check))


def revoke(playbook: Annotated[Path, typer.Argument(help="The playbook whose key(s) to delete.")],
           yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
           recreate_instance: Annotated[bool, typer.Option(
               "--recreate-instance", help="Delete the instance and its keys and create them again: a new secret "
                                           "(instance-secret keys share the instance's secret).")] = False,
           include_foreign: IncludeForeign = None, purpose: Purpose = None, timeout: Timeout = None,
           verbose: Verbose = False) -> None:
    """Delete the service key(s) this tool made for the playbook, after a confirmation (--yes skips it; no prompt
    without a terminal). Holds the key file's lease, as key rotate does."""
    _verbose(verbose)
    from provisioner.keylife import lifecycle

    _guard(lambda: lifecycle.revoke(_for_purpose(playbook, purpose, timeout), _confirm(yes, "revoke deletes"),
                                    _say, tuple(include_foreign or ()), recreate_instance))
