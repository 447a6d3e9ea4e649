"""`provisioner validate`: bad playbooks fail with file:line, the key and a fix, before any API call."""

from __future__ import annotations

import re

from conftest import cli


def test_valid_playbook(landscape):
    out = cli("validate", landscape.playbook())
    assert out.exit_code == 0, out.output
    assert "valid" in out.stdout


def test_instance_name_of_33_characters(landscape):
    pb = landscape.playbook(**{"steps.instance.name": "a" * 33})
    landscape.clear_journal()
    out = cli("validate", pb)
    assert out.exit_code == 2
    assert re.search(r"playbook\.yaml:\d+:\d+: steps\.instance\.name: .* has 33 characters \(at most 32\); "
                     r"use e\.g\. 'a{32}'", out.stderr), out.stderr
    assert landscape.journal() == []


def test_instance_name_with_a_space(landscape):
    pb = landscape.playbook(**{"steps.instance.name": "cloud alm api"})
    out = cli("validate", pb)
    assert out.exit_code == 2
    assert re.search(r"playbook\.yaml:\d+:\d+: steps\.instance\.name: 'cloud alm api' contains spaces "
                     r"\(use underscores\); use e\.g\. 'cloud_alm_api'", out.stderr), out.stderr


def test_run_refuses_invalid_name_before_any_call(landscape):
    pb = landscape.playbook(**{"steps.instance.name": "cloud alm api"})
    landscape.clear_journal()
    out = cli("run", pb)
    assert out.exit_code == 2
    assert landscape.journal() == []


def test_unknown_key_suggests_the_right_one(landscape):
    pb = landscape.playbook(**{"cf.orgg": "x"})
    out = cli("validate", pb)
    assert out.exit_code == 2
    assert "cf.orgg: unknown key; did you mean 'org'?" in out.stderr


def test_inline_secret_is_refused(landscape):
    pb = landscape.playbook(**{"cf.password": "hunter2"})
    out = cli("validate", pb)
    assert out.exit_code == 2
    assert "cf.password: inline secrets are not allowed" in out.stderr
    assert "hunter2" not in out.output


def test_bad_flags_exit_2_but_1_for_plan_whose_2_means_changes_pending(tmp_path):
    import subprocess
    import sys

    def code(*args):
        return subprocess.run([sys.executable, "-m", "provisioner", *args], capture_output=True, text=True,
                              cwd=tmp_path).returncode

    assert code("run", "--parallel", "0", "pb.yaml") == 2
    assert code("plan", "--parallel", "0", "pb.yaml") == 1
    assert code("run", "--dry-run", "--parallel", "0", "pb.yaml") == 1
