from conftest import cli
def test_x(make_landscape):
    land = make_landscape(job_seconds=0.0, faults={"seed": 5031, "fail_rate": 0.3, "retry_after": 0,
                                                   "tokens_expire_every": 0.25})
    out = cli("run", land.playbook())
    for e in land.journal():
        print(f'{e["received"]:.3f} {e["handled"]:.3f} {e["method"]} {e["path"][:60]} {e["status"]} {e["fault"]}')
    print(out.output)
    assert 0
