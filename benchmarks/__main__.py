"""Every benchmark, one after another: ``.venv/bin/python -m benchmarks``.

    .venv/bin/python -m benchmarks                  # all of them, full size (about 32 minutes)
    .venv/bin/python -m benchmarks --quick          # smaller sizes, a few minutes
    .venv/bin/python -m benchmarks boards uploads   # only these

Each runs as its own process (a clean interpreter, so one cannot warm another's
caches) and prints its own table; benchmarks/README.md explains each and holds the
figures. They need what `scripts/setup.sh` prepares: Docker with the base image,
PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

FULL = {
    "scoring": ["benchmarks.run"],
    "csv": ["benchmarks.csv_readers"],
    "boards": ["benchmarks.boards"],
    "uploads": ["benchmarks.uploads", "--size-mb", "1024"],
    "pipeline": ["benchmarks.pipeline", "--throughput", "300", "--memory", "1000"],
    "scoring-program": ["benchmarks.scoring_program"],
    "audit": ["benchmarks.audit_verify"],
}
QUICK = {
    "scoring": ["benchmarks.run", "--rows", "200000", "--runs", "3"],
    "csv": ["benchmarks.csv_readers", "--quick"],
    "boards": [
        "benchmarks.boards",
        "--teams",
        "2000",
        "--submissions",
        "100000",
        "--runs",
        "5",
        "--wrk-seconds",
        "3",
    ],
    "uploads": ["benchmarks.uploads", "--size-mb", "256", "--runs", "3"],
    "pipeline": [
        "benchmarks.pipeline",
        "--runtimes",
        "runc",
        "--rounds",
        "8",
        "--throughput",
        "60",
        "--scale",
        "20",
        "--max-workers",
        "2",
        "--memory",
        "100",
        "--profile",
        "5",
    ],
    "scoring-program": ["benchmarks.scoring_program", "--quick"],
    "audit": ["benchmarks.audit_verify", "--sizes", "5000,50000", "--teams", "2000"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    names = ", ".join(FULL)
    parser.add_argument("only", nargs="*", metavar="NAME", help=f"of {names} (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args()
    table = QUICK if args.quick else FULL
    unknown = [name for name in args.only if name not in table]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; choose from {', '.join(table)}")
    failed = []
    for name in args.only or list(table):
        print(f"\n=== {name}: python -m {' '.join(table[name])}", flush=True)
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-m", *table[name]])
        print(f"=== {name}: {time.monotonic() - start:.0f} s", flush=True)
        if done.returncode != 0:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
