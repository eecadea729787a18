#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""numpy on the same data as bench_tiers, for the speed comparison.

Usage: /usr/bin/python3 bench_numpy_tiers.py DIR [--runs N] [--no-check]

DIR is what `bench_tiers --write-dir DIR` wrote: aum.f64 (float64, NaN =
missing), txn.i32 (int32), out.i32 (the library's tiers without prev) and
meta.txt (rows, runs, seed). Times, single-threaded as numpy is, the value
pyramid written the numpy way:

  select   np.select([aum >= 6e6, aum >= 5e5, (aum >= 5e4) & (txn >= 1)],
                     [0, 1, 2], 3)

NaN compares false in numpy, as a missing value makes a comparison
"unknown, not true" in libsegment's rule language, so missing aum falls
through to the catch-all (3) on both sides. The timed expression includes
the comparisons (as a user writes it); the arrays are loaded before timing.
Unless --no-check, the first run's result is compared with out.i32; a
mismatch makes the exit status 1.

Prints a table and lines
  NUMPY name=select rows=<n> runs=<r> median_s=<s> min_s=<s> rows_per_s=<x>
  CHECK name=select mismatches=<k>
Exit status 77 (meson's "skipped") when numpy is missing.
"""

import argparse
import os
import statistics
import sys
import time

try:
    import numpy as np
except ImportError as exc:  # pragma: no cover - depends on the interpreter
    print(f"bench_numpy_tiers: numpy not importable ({exc}); run with /usr/bin/python3",
          file=sys.stderr)
    sys.exit(77)


def read_meta(d):
    meta = {}
    with open(os.path.join(d, "meta.txt"), encoding="ascii") as f:
        for line in f:
            line = line.strip()
            if line:
                k, v = line.split("=", 1)
                meta[k] = int(v)
    return meta


def load(d, name, dtype, count):
    a = np.fromfile(os.path.join(d, name), dtype=dtype)
    if a.size != count:
        raise SystemExit(f"bench_numpy_tiers: {name} has {a.size} values, expected {count}")
    return a


def tiers_select(aum, txn):
    return np.select([aum >= 6e6, aum >= 5e5, (aum >= 5e4) & (txn >= 1)], [0, 1, 2], 3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--runs", type=int, default=0, help="default: the runs in meta.txt")
    ap.add_argument("--no-check", action="store_true")
    args = ap.parse_args()

    d = args.dir
    meta = read_meta(d)
    n = meta["rows"]
    runs = args.runs or meta.get("runs", 7)
    if runs < 1:
        raise SystemExit("bench_numpy_tiers: --runs must be >= 1")
    aum = load(d, "aum.f64", np.float64, n)
    txn = load(d, "txn.i32", np.int32, n)
    print(f"bench_numpy_tiers: numpy {np.__version__}, rows={n} runs={runs}")

    times, result = [], None
    for i in range(runs):
        t0 = time.perf_counter()
        out = tiers_select(aum, txn)
        times.append(time.perf_counter() - t0)
        if i == 0:
            result = out
        del out

    med = statistics.median(times)
    print(f"  {'operation':<10} {'median_s':>10} {'min_s':>10} {'rows/s':>12}")
    print(f"  {'select':<10} {med:10.6f} {min(times):10.6f} {n / med:12.3e}")
    print()
    print(f"NUMPY name=select rows={n} runs={runs} median_s={med:.9f} "
          f"min_s={min(times):.9f} rows_per_s={n / med:.6e}")

    failed = 0
    if not args.no_check:
        lib = load(d, "out.i32", np.int32, n)
        bad = int(np.count_nonzero(result.astype(np.int64) != lib))
        counts = np.bincount(result, minlength=4)
        print(f"CHECK name=select mismatches={bad} "
              f"tiers={','.join(str(int(c)) for c in counts)}")
        failed += bad
    if failed:
        print(f"bench_numpy_tiers: numpy and libsegment DISAGREE ({failed} mismatches)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
