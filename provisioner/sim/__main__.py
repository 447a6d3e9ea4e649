"""`python -m provisioner.sim`: the same as `provisioner sim` (docs/simulator.md), with argparse."""

from __future__ import annotations

import argparse
import sys

from provisioner.sim.cli import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m provisioner.sim",
                                     description="Run the landscape simulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 lets the OS choose a free port")
    parser.add_argument("--landscape", default=None, help="landscape YAML file (default: the built-in one)")
    parser.add_argument("--job-seconds", type=float, default=1.0, help="duration of asynchronous jobs")
    parser.add_argument("--info-dir", default=None, help="write sim.env and cis-key.json into this directory")
    args = parser.parse_args(argv)
    return serve(args.host, args.port, args.landscape, args.job_seconds, args.info_dir)


if __name__ == "__main__":
    sys.exit(main())
