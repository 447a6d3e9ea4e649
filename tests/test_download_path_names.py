"""A download path whose name the file system refuses (over 255 bytes) is one line of bad input before any
request, never "unexpected" (the check of the paths a run writes, provisioner/fleet/outpaths.py)."""

from __future__ import annotations

from conftest import cli


def test_a_name_over_255_bytes_is_one_line_before_any_request(landscape):
    path = landscape.dir / ("é" * 300 + ".json")
    pb = landscape.playbook(**{"steps.download.path": str(path)})
    landscape.clear_journal()
    out = cli("plan", pb)
    assert out.exit_code == 1, out.output
    assert out.stderr.startswith(f"error: {pb}: steps.download.path of tenant acme-cloudalm: ")
    assert out.stderr.endswith("cannot use this path for the key file (a name in the path is over 255 bytes; use a "
                               "shorter name)\n") and out.stderr.count("\n") == 1
    assert landscape.journal() == []
