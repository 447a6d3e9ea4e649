"""Outputs never clobber inputs, nor each other, compared as files (links followed), before any request; and
``--resume`` reads a bounded regular file only (issue 18: "Outputs clobber inputs", "Memory")."""

from __future__ import annotations

import os

import pytest
from conftest import cli


def refused(landscape, *args: str) -> dict[str, str]:
    """Run and plan with ``args``: each exits 2 (plan: 1) with one line on stderr, sends no request; returns the
    line of each command."""
    landscape.clear_journal()
    lines = {}
    for command, code in (("run", 2), ("plan", 1)):
        out = cli(command, *args)
        assert (out.exit_code, out.stdout) == (code, ""), out.output
        assert len(out.stderr.splitlines()) == 1, out.stderr
        lines[command] = out.stderr.strip()
    assert landscape.journal() == []
    return lines


def test_report_and_junit_one_file(landscape):
    pb = landscape.playbook()
    out = landscape.dir / "out.xml"
    line = refused(landscape, pb, "--report", out, "--junit", out)["run"]
    assert line == f"error: --junit {out}: is also --report; give each its own file"
    assert not out.exists()
    out.write_text("<testsuites/>\n")  # an earlier run's
    os.symlink(out, landscape.dir / "alias.xml")  # spelled apart, one file
    line = refused(landscape, pb, "--report", out, "--junit", landscape.dir / "alias.xml")["run"]
    assert line == f"error: --junit {landscape.dir / 'alias.xml'}: is also --report; give each its own file"
    assert out.read_text() == "<testsuites/>\n"


def test_report_on_the_download_path_is_refused_and_the_key_kept(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    key = landscape.key_path.read_bytes()
    line = refused(landscape, pb, "--report", landscape.key_path)["plan"]
    assert line == f"error: --report {landscape.key_path}: is steps.download.path {landscape.key_path} of tenant " \
                   f"acme-cloudalm ({pb}); write the report to another file"
    os.symlink(landscape.key_path, landscape.dir / "report.json")  # a link to the key: the same file
    refused(landscape, pb, "--report", landscape.dir / "report.json")
    assert landscape.key_path.read_bytes() == key and not list(landscape.key_path.parent.glob("*.bak"))


def test_junit_naming_the_cis_key_is_refused_and_the_key_kept(landscape):
    pb = landscape.playbook()
    cis = landscape.dir / "cis-key.json"
    before = cis.read_bytes()
    line = refused(landscape, pb, "--junit", cis)["run"]
    assert line.startswith(f"error: --junit {cis}: is the secret file of {pb}:")
    assert line.endswith(": btp.cis_key (an input); write the report to another file")
    assert cis.read_bytes() == before


def test_resume_is_neither_the_report_nor_an_input(landscape):
    pb = landscape.playbook()
    report = landscape.dir / "report.json"
    assert cli("run", pb, "--report", report).exit_code == 0
    line = refused(landscape, pb, "--resume", report, "--report", report)["run"]
    assert line == f"error: --resume {report}: is also --report; give each its own file"
    line = refused(landscape, pb, "--resume", landscape.dir / "cis-key.json")["run"]
    assert "is the secret file of" in line and line.endswith("(an input); give the report of an earlier run")


def test_a_download_path_that_is_an_input_is_refused(landscape):
    cis = landscape.dir / "cis-key.json"
    before = cis.read_bytes()
    os.symlink(cis, landscape.dir / "key-link.json")
    pb = landscape.playbook(**{"steps.download.path": str(landscape.dir / "key-link.json")})
    line = refused(landscape, pb)["run"]
    assert line.startswith(f"error: {pb}: steps.download.path {landscape.dir / 'key-link.json'} of tenant "
                           f"acme-cloudalm: is the secret file of {pb}:")
    assert line.endswith(": btp.cis_key (an input); give the key its own file")
    assert cis.read_bytes() == before
    own = landscape.playbook(**{"steps.download.path": str(pb)})  # the playbook itself
    assert refused(landscape, own)["run"].endswith(f"is the playbook {own}; give the key its own file")


def test_a_directory_at_the_download_path_is_one_line_before_any_request(landscape):
    """Issue 22: it used to fail after creating the key, with exit 1 and no reason shown."""
    landscape.key_path.mkdir(parents=True)
    line = refused(landscape, landscape.playbook())["run"]
    assert line == f"error: {landscape.dir / 'playbook.yaml'}: steps.download.path of tenant acme-cloudalm: " \
                   f"{landscape.key_path}: is a directory, not a regular file; write the key file to a regular file"
    assert landscape.key_path.is_dir() and list(landscape.key_path.iterdir()) == []


def deep_report(path) -> None:
    path.write_text("[" * 200_000 + "]" * 200_000)


@pytest.mark.parametrize("case", ["device", "fifo", "nested", "directory"])
def test_resume_reads_a_bounded_regular_file_only(landscape, case):
    """``--resume /dev/zero`` once ate memory, a FIFO hung, a deeply nested report raised RecursionError."""
    given = {"device": "/dev/zero", "fifo": str(landscape.dir / "fifo"), "nested": str(landscape.dir / "deep.json"),
             "directory": str(landscape.dir)}[case]
    if case == "fifo":
        os.mkfifo(given)
    if case == "nested":
        deep_report(landscape.dir / "deep.json")
    line = refused(landscape, landscape.playbook(), "--resume", given)["run"]
    assert line == {
        "device": "error: --resume /dev/zero: is a character device, expected a JSON report (a regular file); save "
                  "it to a file",
        "fifo": f"error: --resume {given}: is a FIFO (named pipe), expected a JSON report (a regular file); save it "
                "to a file",
        "nested": f"error: --resume {given}: not a provisioner JSON report (nested too deep)",
        "directory": f"error: --resume {given}: is a directory, expected a JSON report",
    }[case]


def test_resume_over_its_size_limit_is_one_line(landscape, monkeypatch):
    from provisioner.fleet import fanout

    monkeypatch.setattr(fanout, "MAX_RESUME_BYTES", 1000)
    big = landscape.dir / "big.json"
    big.write_text('{"tenants": []}' + " " * 2000)
    line = refused(landscape, landscape.playbook(), "--resume", big)["run"]
    assert line == f"error: --resume {big}: the JSON report is 2015 bytes, over the 1000 byte limit; is it the " \
                   "right file?"


def test_a_download_path_with_a_name_over_255_bytes_is_one_line_naming_it(landscape):
    out = cli("plan", landscape.playbook(**{"steps.download.path": "é" * 300}))
    assert out.exit_code == 1  # plan: bad input is 1
    assert "unexpected" not in out.output
    assert "steps.download.path of tenant acme-cloudalm" in out.output
    assert "a name in the path is over 255 bytes; use a shorter name" in out.output
