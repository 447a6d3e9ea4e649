"""What the parts of `make bench` share: a free port, the provisioner's command line, the playbooks of a simulated
landscape's tenants, and the word printed beside a target."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from provisioner.sim import Simulator

ROOT = Path(__file__).resolve().parents[1]
PROVISIONER = [sys.executable, "-m", "provisioner"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_tenant_playbook(sim: Simulator, tmp: Path, count: int = 100) -> Path:
    """Write ``tmp/one.yaml`` (tenant-001) and ``tmp/fleet.yaml`` (tenant-001 ... ``count``); return the first."""
    info = sim.info()
    (tmp / "cis-key.json").write_text(json.dumps(info["cis_key"]))
    os.environ.update(CF_USERNAME=info["cf_username"], CF_PASSWORD=info["cf_password"])
    data: dict[str, Any] = {"version": 1,
            "tenant": {"subdomain": "tenant-001", "provisioned": "2023-01-10"},
            "btp": {"subaccount": "tenant-001", "cis_key": {"file": str(tmp / "cis-key.json")}},
            "cf": {"api": sim.url, "org": "tenant-001", "username": {"env": "CF_USERNAME"},
                   "password": {"env": "CF_PASSWORD"}},
            "steps": {"instance": {"name": "cloudalm-api"}, "download": {"path": str(tmp / "keys" / "{tenant}.json")}}}
    fleet = dict(data)
    fleet["tenants"] = [{"tenant": {"subdomain": f"tenant-{i:03d}"}, "btp": {"subaccount": f"tenant-{i:03d}"},
                         "cf": {"org": f"tenant-{i:03d}"}} for i in range(1, count + 1)]
    (tmp / "fleet.yaml").write_text(yaml.safe_dump(fleet, sort_keys=False))
    data["steps"]["download"]["path"] = str(tmp / "keys" / "tenant-001.json")
    path = tmp / "one.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def verdict(value: float, most: float) -> str:
    """The word printed beside a target: "met" when ``value`` is at most ``most``, else "NOT met"."""
    return "met" if value <= most else "NOT met"
