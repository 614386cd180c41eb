"""Run every benchmark at a size that takes about a minute; write out/bench/report.json.

    python -m bench            # or: make bench
    python -m bench --scale 5  # five times larger
    python -m bench --only cycle --scale 0.1

Each benchmark is its own command (``python -m bench.<name> ...``) printing one
JSON document; this runner calls them in turn and collects the documents.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

# (name, arguments at scale 1)
BENCHMARKS: list[tuple[str, list[str]]] = [
    ("ledger_post", ["--entries", "200000", "--backend", "sqlite"]),
    ("ledger_post", ["--entries", "200000", "--backend", "postgresql"]),
    ("screening", ["--accounts", "1000000"]),
    ("cycle_kernels", ["--accounts", "200000", "--reference-sample", "1000"]),
    ("cycle", ["--accounts", "10000", "--reference-accounts", "2000"]),
    ("import_customers", ["--rows", "1000000", "--backend", "sqlite"]),
    ("payroll", ["--rows", "100000"]),
    ("api_load", ["--accounts", "5000", "--clients", "50", "--requests", "5000"]),
]
SIZE_FLAGS = ("--entries", "--rows", "--accounts", "--customers")


def scaled(args: list[str], scale: float) -> list[str]:
    out = list(args)
    for i, arg in enumerate(out[:-1]):
        if arg in SIZE_FLAGS:
            out[i + 1] = str(int(int(out[i + 1]) * scale))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path("out/bench/report.json"))
    parser.add_argument("--only", action="append", help="Run only this benchmark (repeatable).")
    args = parser.parse_args()
    unknown = set(args.only or ()) - {name for name, _ in BENCHMARKS}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    results = []
    for name, bench_args in BENCHMARKS:
        if args.only and name not in args.only:
            continue
        command = [sys.executable, "-m", f"bench.{name}", *scaled(bench_args, args.scale)]
        print("running", " ".join(command[1:]), file=sys.stderr, flush=True)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            results.append({"benchmark": name, "args": bench_args, "error": done.stderr[-2000:]})
            continue
        results.append(json.loads(done.stdout))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    json.dump(results, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    if any("error" in r for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
