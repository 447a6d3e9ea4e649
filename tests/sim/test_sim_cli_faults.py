"""Simulator: the fault flags of `python -m provisioner.sim` and `provisioner sim` (run as subprocesses)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def _simulator(module: str, info_dir: Path, *args: str) -> Iterator[tuple[dict[str, str], subprocess.Popen]]:
    """Start `python -m MODULE ARGS --info-dir INFO_DIR`, wait for sim.env, yield its values; SIGTERM at the end."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # plain HTTP (--http): these tests are about the fault flags, and this process trusts its own CA, not the child's
    command = [sys.executable, "-m", module, *args, "--port", "0", "--job-seconds", "0", "--info-dir", str(info_dir),
               "--http"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not (info_dir / "sim.env").exists():  # the documented readiness signal
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "sim.env did not appear"
            time.sleep(0.02)
        values = dict(line.split("=", 1) for line in (info_dir / "sim.env").read_text().splitlines())
        yield values, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_fault_flags_override_the_faults_file(tmp_path: Path) -> None:
    faults_file = tmp_path / "faults.yaml"
    faults_file.write_text("seed: 1\nlatency: 0.5\nretry_after: 0\n"
                           "failures:\n  - {paths: [/v3/info], kinds: [reset], times: 1}\n")
    with _simulator("provisioner.sim", tmp_path / "info", "--faults", str(faults_file), "--seed", "42",
                    "--latency", "0", "--fail-rate", "0", "--stuck-entitlements") as (values, proc):
        url = values["SIM_URL"]
        faults = requests.get(url + "/_sim/faults", timeout=10).json()
        assert (faults["seed"], faults["latency"], faults["fail_rate"]) == (42, 0.0, 0.0)
        assert faults["entitlements_stuck"] is True and faults["retry_after"] == 0
        assert faults["failures"][0]["kinds"] == ["reset"]
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(url + "/v3/info", timeout=10)
        assert requests.get(url + "/v3/info", timeout=10).status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert err == ""  # neither the reset nor the requests logged anything
    assert '"entitlements_stuck": true' in out and '"seed": 42' in out  # the banner shows the faults


def test_provisioner_sim_fault_flags(tmp_path: Path) -> None:
    with _simulator("provisioner", tmp_path / "info", "sim", "--fail-rate", "0.25", "--seed", "9",
                    "--latency", "0.01") as (values, proc):
        faults = requests.get(values["SIM_URL"] + "/_sim/faults", timeout=10).json()
        assert (faults["fail_rate"], faults["seed"], faults["latency"]) == (0.25, 9, 0.01)
        assert faults["entitlements_stuck"] is False
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 0


@pytest.mark.parametrize("module", ["provisioner.sim", "provisioner"])
def test_invalid_faults_exit_2(tmp_path: Path, module: str) -> None:
    bad = tmp_path / "faults.json"
    bad.write_text(json.dumps({"failures": [{"kinds": ["418"]}]}))
    prefix = ["sim"] if module == "provisioner" else []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["--faults", str(bad)], ["--fail-rate", "1.5"], ["--faults", str(tmp_path / "missing.yaml")]):
        done = subprocess.run([sys.executable, "-m", module, *prefix, "--port", "0", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith("provisioner sim: ") and "Traceback" not in done.stderr
