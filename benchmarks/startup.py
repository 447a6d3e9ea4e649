"""`make bench` (d): the console script's start-up, and the floor under it (the libraries `validate` must load)."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from landscapes import ROOT

STARTUP_TARGETS_MS = {"--help": 80, "validate playbooks/demo.yaml": 120}
"""(d): median wall time of each command line, in milliseconds (issue 12)."""


FLOOR_SCRIPT = ("import yaml\nfrom pydantic import BaseModel\nclass M(BaseModel):\n    a: str\n"
                "M.model_validate(yaml.safe_load('a: b'))\n")
"""(d): the libraries ``validate`` must load (the playbook is read with yaml into pydantic models), alone."""


def startup(runs: int = 15) -> None:
    """(d) The console script's start-up: median of ``runs`` of each command of :data:`STARTUP_TARGETS_MS`
    (output to a pipe, as in CI; bytecode caches written by a first run, as an installed package has them), the
    CPU time (user+sys) of the same runs (``RUSAGE_CHILDREN``: other load on the machine disturbs it less), and
    the largest import costs of ``validate`` (``python -X importtime``)."""
    exe = str(Path(sys.executable).parent / "provisioner")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("CF_API", "https://api.cf.eu10.hana.ondemand.com")  # playbooks/demo.yaml interpolates it
    for command, target in STARTUP_TARGETS_MS.items():
        argv = [exe, *command.split()]
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, cwd=ROOT, env=env)  # writes the caches
        times, cpu = [], []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, cwd=ROOT, env=env)
            times.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        median = statistics.median(times) * 1000
        print(f"(d) provisioner {command}: median {median:.0f} ms, min {min(times) * 1000:.0f} ms over {runs} runs "
              f"(target <= {target} ms median: {'met' if median <= target else 'NOT met'}); CPU (user+sys, less "
              f"disturbed by other load) median {statistics.median(cpu) * 1000:.0f} ms, min {min(cpu) * 1000:.0f} ms")
    floor = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", FLOOR_SCRIPT], check=True,
                       env={**env, "PYDANTIC_DISABLE_PLUGINS": "__all__"})  # as the provisioner sets it
        floor.append(time.perf_counter() - t0)
    print(f"(d) the floor under validate's target: this Python importing pydantic and yaml and building one "
          f"model, nothing of the provisioner: median {statistics.median(floor) * 1000:.0f} ms, min "
          f"{min(floor) * 1000:.0f} ms")
    trace = subprocess.run([sys.executable, "-X", "importtime", "-m", "provisioner", "validate", "playbooks/demo.yaml"],
                           capture_output=True, text=True, cwd=ROOT, env=env).stderr
    by_package: dict[str, int] = {}
    for line in trace.splitlines()[1:]:
        if line.startswith("import time:"):
            own, _, name = line[len("import time:"):].split("|")
            package = name.strip().split(".")[0]
            by_package[package] = by_package.get(package, 0) + int(own)
    top = sorted(by_package.items(), key=lambda kv: -kv[1])[:6]
    print("(d) validate's import time by package (python -X importtime, own time): "
          + ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in top))
