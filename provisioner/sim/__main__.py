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
    parser.add_argument("--info-dir", default=None,
                        help="write sim.env, cis-key.json and ca.pem (the CA to trust) into this directory")
    parser.add_argument("--http", action="store_true", help="serve plain HTTP instead of HTTPS (loopback only)")
    faults = parser.add_argument_group("faults (docs/simulator.md, \"Faults\")")
    faults.add_argument("--latency", type=float, default=None, metavar="SECONDS",
                        help="delay added to every API request")
    faults.add_argument("--fail-rate", type=float, default=None, metavar="FRACTION",
                        help="fraction of API requests answered 429/502/503/504 or reset")
    faults.add_argument("--seed", type=int, default=None, metavar="N", help="seed of the fault decisions")
    faults.add_argument("--faults", default=None, metavar="FILE", help="YAML/JSON file with a faults object")
    faults.add_argument("--stuck-entitlements", action="store_true",
                        help="entitlement assignments stay PROCESSING, their jobs IN_PROGRESS")
    args = parser.parse_args(argv)
    return serve(args.host, args.port, args.landscape, args.job_seconds, args.info_dir, latency=args.latency,
                 fail_rate=args.fail_rate, seed=args.seed, faults_file=args.faults,
                 stuck_entitlements=args.stuck_entitlements, tls=not args.http)


if __name__ == "__main__":
    sys.exit(main())
