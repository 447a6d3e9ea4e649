"""The playbook model holds its rules across fields and locates them (issue 21, item 5): built directly, a
``Playbook`` refuses what the loader refuses, with the same one line, located from the positions given as
validation context; secret references are located by the model, the data given is left as it is; and reading a
playbook does not go through the key-file module."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.errors import BadInput
from provisioner.playbook.model import Playbook

ROOT = Path(__file__).resolve().parents[1]
DATA = {
    "source": "pb.yaml", "version": 1,
    "tenant": {"subdomain": "acme-cloudalm", "provisioned": "2023-03-01"},
    "btp": {"subaccount": "acme-cloudalm", "cis_key": {"file": "cis-key.json"}},
    "cf": {"api": "https://api.cf.example.com", "org": "acme-cloudalm", "client_id": "me"},
    "steps": {"download": {"path": "keys/acme-cloudalm.json"}},
}
MARKS = {("cf",): (9, 1), ("btp",): (6, 1), ("btp", "cis_key"): (8, 3), ("tenant", "provisioned"): (4, 3)}


def test_a_rule_across_fields_is_the_models_and_names_the_line() -> None:
    with pytest.raises(BadInput) as info:
        Playbook.model_validate(DATA, context={"marks": MARKS})
    assert str(info.value) == "pb.yaml:9:1: cf: login client_credentials needs client_id and client_secret; add " \
                              "client_secret"
    with pytest.raises(BadInput, match=r"^pb\.yaml:1:1: cf: login client_credentials"):  # no positions: 1:1
        Playbook.model_validate(DATA)


def test_a_future_provisioning_date_is_refused_by_the_model() -> None:
    data = copy.deepcopy(DATA)
    data["cf"]["client_secret"] = {"env": "CF_SECRET"}
    data["tenant"]["provisioned"] = "2999-01-01"
    with pytest.raises(BadInput, match=r"^pb\.yaml:4:3: tenant\.provisioned: 2999-01-01 is in the future; "):
        Playbook.model_validate(data, context={"marks": MARKS})


def test_secret_references_are_located_by_the_model_not_in_the_data() -> None:
    data = copy.deepcopy(DATA)
    data["cf"]["client_secret"] = {"env": "CF_SECRET"}
    given = copy.deepcopy(data)
    pb = Playbook.model_validate(data, context={"marks": MARKS})
    assert data == given
    assert pb.btp.cis_key is not None and pb.btp.cis_key.where == "pb.yaml:8:3: btp.cis_key"
    assert pb.cf is not None and pb.cf.client_secret is not None
    assert pb.cf.client_secret.where == "pb.yaml:9:1: cf.client_secret"  # its parent's position
    assert pb.cf.login == "client_credentials"


def test_validate_reads_the_playbook_without_the_key_file_module() -> None:
    code = ("import sys\nsys.argv = ['provisioner', 'validate', 'playbooks/demo.yaml']\n"
            "from provisioner.cli.app import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('provisioner.keys.keyfile')), file=sys.stderr)")
    env = {**os.environ, "CF_API": "https://api.cf.eu10.hana.ondemand.com"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env=env)
    assert "valid (tenant acme-cloudalm" in proc.stdout, proc.stderr
    assert json.loads(proc.stderr.strip().splitlines()[-1].replace("'", '"')) == []
