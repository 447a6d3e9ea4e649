"""`provisioner sim`: run the landscape simulator in the foreground (docs/simulator.md, "Starting it").

`serve()` starts the server (HTTPS with a certificate of its own CA, or plain HTTP with `tls=False`), prints the
base URLs and the simulator's own test credentials, writes the info files (`ca.pem`, the CA to trust;
`cis-key.json`; `sim.env` with `SIM_URL`, `CF_API`, `CF_USERNAME`, `CF_PASSWORD`, `SIM_CA_FILE`; mode 0600,
atomically, after the server listens) when asked to, and
returns 0 after Ctrl-C or SIGTERM (2 for an invalid landscape or faults object, 1 when it cannot listen).

Faults (docs/simulator.md, "Faults"): `faults_file` is a YAML or JSON file holding a faults object; the flags
`latency`, `fail_rate`, `seed` and `stuck_entitlements` override its keys when given (None/False: not given).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

ENV_FILE = "sim.env"
CIS_KEY_FILE = "cis-key.json"
CA_FILE = "ca.pem"


def serve(host: str, port: int, landscape: str | None, job_seconds: float, info_dir: str | None, *,
          latency: float | None = None, fail_rate: float | None = None, seed: int | None = None,
          faults_file: str | None = None, stuck_entitlements: bool = False, tls: bool = True) -> int:
    from provisioner.sim.core.faults import FaultsError
    from provisioner.sim.landscape import LandscapeError
    from provisioner.sim.simulator import Simulator

    try:
        faults = faults_object(faults_file, latency=latency, fail_rate=fail_rate, seed=seed,
                               stuck_entitlements=stuck_entitlements)
        sim = Simulator(landscape=landscape, host=host, port=port, job_seconds=job_seconds, faults=faults, tls=tls)
    except (LandscapeError, FaultsError, ValueError) as exc:
        print(f"provisioner sim: {exc}", file=sys.stderr)
        return 2
    files = [Path(info_dir) / CA_FILE, Path(info_dir) / CIS_KEY_FILE, Path(info_dir) / ENV_FILE] if info_dir else []
    for path in files:  # a stale file must not look like a ready simulator
        path.unlink(missing_ok=True)
    try:
        sim.start()
    except (OSError, OverflowError) as exc:  # OverflowError: a port outside 0-65535
        print(f"provisioner sim: cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}",
              file=sys.stderr)
        return 1

    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        info = sim.info()
        if info_dir:
            _write_info_files(Path(info_dir), info)
        _print_banner(info, files, faults)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        for path in files:
            path.unlink(missing_ok=True)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print("Simulator stopped.", flush=True)
    return 0


def faults_object(path: str | None, *, latency: float | None = None, fail_rate: float | None = None,
                  seed: int | None = None, stuck_entitlements: bool = False) -> dict[str, Any]:
    """The faults object of a file (YAML or JSON) with the command-line flags applied on top. Raises FaultsError
    (`FILE:LINE:COLUMN: key: problem; fix`) for a file that cannot be read or holds an invalid faults object."""
    from provisioner.sim.core.faults import Faults, FaultsError
    from provisioner.sim.core.schema import read_yaml

    faults: dict[str, Any] = {}
    if path:
        data, marks = read_yaml(Path(path), "faults", FaultsError)
        if data is not None:
            Faults.from_dict(data, source=path, marks=marks)  # errors point into the file
            faults = dict(data)
    flags = {"latency": latency, "fail_rate": fail_rate, "seed": seed,
             "entitlements_stuck": True if stuck_entitlements else None}
    faults.update({k: v for k, v in flags.items() if v is not None})
    return faults


def _print_banner(info: dict[str, Any], files: list[Path], faults: dict[str, Any]) -> None:
    key = info["cis_key"]
    lines = [
        f"Landscape simulator listening on {info['url']}",
        f"  CF API:                 {info['cf_api']}",
        f"  CF username:            {info['cf_username']}",
        f"  CF password:            {info['cf_password']}",
        f"  cis key client id:      {key['uaa']['clientid']}",
        f"  cis key grant type:     {key['grant_type']}",
        f"  accounts service:       {key['endpoints']['accounts_service_url']}",
        f"  entitlements service:   {key['endpoints']['entitlements_service_url']}",
        f"  provisioning service:   {key['endpoints']['provisioning_service_url']}",
        f"  Service Manager:        {info['url']}/sm (credentials: the accounts service's serviceManagerBindings)",
        f"  XSUAA mTLS (certurl):   {info['mtls_url']}",
        f"  CA to trust:            {files[0] if files else info['ca_file']}" if info["ca_file"] else
        "  plain HTTP (--http): no TLS on the API port",
    ]
    if faults:
        lines.append(f"  faults:                 {json.dumps(faults, sort_keys=True, default=str)}")
    if files:
        lines.append(f"  info files:             {', '.join(str(f) for f in files)}")
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)


def _write_info_files(directory: Path, info: dict[str, Any]) -> None:
    """ca.pem and cis-key.json first, then sim.env: once sim.env exists, all are complete."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(directory / CA_FILE, Path(info["ca_file"] or str(_authority_ca())).read_text())
    _write_private(directory / CIS_KEY_FILE, json.dumps(info["cis_key"], indent=2) + "\n")
    env = {"SIM_URL": info["url"], "CF_API": info["cf_api"], "CF_USERNAME": info["cf_username"],
           "CF_PASSWORD": info["cf_password"], "SIM_CA_FILE": str((directory / CA_FILE).resolve())}
    _write_private(directory / ENV_FILE, "".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items()))


def _authority_ca() -> Path:
    """The CA of the simulator's mTLS port (written also when the API port is plain HTTP: x509 keys sign in
    there)."""
    from provisioner.sim.core.tls import authority

    return authority().ca_file


def _write_private(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
