#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""pandas on the same data as bench_profile, for the speed comparison and a cross-check.

Usage: /usr/bin/python3 bench_pandas_profile.py DIR [--runs N] [--no-check]

DIR is what `bench_profile --write-dir DIR` wrote:
  label.i32, aum.f64, revenue.f64, txn_90d.i32, tenure.i64
                  the data (NaN = missing in the float64 columns)
  lib_groups.i64  (label, rows) per group of libsegment's profile
  lib_stats.f64   [group][column][9]: count, missing, sum, share, mean, min,
                  max, std, median (SEG_STAT_* order)
  lib_total.f64   [column][9], seg_profile_total
  meta.txt        rows, runs, seed, groups, columns

The DataFrame (label int32, aum and revenue float64, txn_90d int32, tenure
int64) is built before timing. Times, single-threaded as pandas is:

  agg_median     df.groupby("label")[cols].agg(["count", "sum", "mean", "min",
                 "max", "std", "median"])        (vs seg_profile_compute)
  agg_no_median  the same without "median"       (vs SEG_PROFILE_NO_MEDIAN)

Unless --no-check, the first run's result is compared with libsegment's:
groups (labels ascending, sizes), and per group and column count, missing
(size - count), min, max and median exactly, sum, share, mean and std (ddof 1)
to 1e-9 relative; the totals likewise against the whole columns. Any mismatch
makes the exit status 1.

Prints a table and lines
  PANDAS name=<op> rows=<n> runs=<r> median_s=<s> min_s=<s> rows_per_s=<x>
  CHECK name=<what> mismatches=<k> ...
Exit status 77 (meson's "skipped") when numpy or pandas is missing.
"""

import argparse
import os
import statistics
import sys
import time

try:
    import numpy as np
    import pandas as pd
except ImportError as exc:  # pragma: no cover - depends on the interpreter
    print(f"bench_pandas_profile: numpy/pandas not importable ({exc}); run with /usr/bin/python3",
          file=sys.stderr)
    sys.exit(77)

COLS = ("aum", "revenue", "txn_90d", "tenure")
FILES = (("aum.f64", np.float64), ("revenue.f64", np.float64), ("txn_90d.i32", np.int32),
         ("tenure.i64", np.int64))
AGGS = ["count", "sum", "mean", "min", "max", "std", "median"]
STATS = ("count", "missing", "sum", "share", "mean", "min", "max", "std", "median")
REL = 1e-9


def read_meta(d):
    meta = {}
    with open(os.path.join(d, "meta.txt"), encoding="ascii") as f:
        for line in f:
            line = line.strip()
            if line:
                k, v = line.split("=", 1)
                meta[k] = v
    return meta


def load(d, name, dtype, count):
    a = np.fromfile(os.path.join(d, name), dtype=dtype)
    if a.size != count:
        raise SystemExit(f"bench_pandas_profile: {name} has {a.size} values, expected {count}")
    return a


def expected(df, res):
    """pandas' answer as lib-shaped arrays: stats [groups, columns, 9], totals [columns, 9]."""
    size = df.groupby("label").size()
    ng = len(size)
    st = np.empty((ng, len(COLS), 9))
    tot = np.empty((len(COLS), 9))
    sz = size.to_numpy(np.float64)
    for c, col in enumerate(COLS):
        a = res[col]
        s = df[col]
        total = float(s.sum())
        st[:, c, 0] = a["count"].to_numpy(np.float64)
        st[:, c, 1] = sz - st[:, c, 0]
        st[:, c, 2] = a["sum"].to_numpy(np.float64)
        st[:, c, 3] = st[:, c, 2] / total if total != 0 else np.nan
        st[:, c, 4] = a["mean"].to_numpy(np.float64)
        st[:, c, 5] = a["min"].to_numpy(np.float64)
        st[:, c, 6] = a["max"].to_numpy(np.float64)
        st[:, c, 7] = a["std"].to_numpy(np.float64)
        st[:, c, 8] = a["median"].to_numpy(np.float64)
        tot[c] = [s.count(), s.isna().sum(), total, 1.0 if total != 0 else np.nan, s.mean(),
                  s.min(), s.max(), s.std(), s.median()]
    return size, st, tot


def compare(what, got, want, failures):
    """got, want: [..., 9]; returns the number of mismatching values."""
    bad = 0
    for k, name in enumerate(STATS):
        g, w = got[..., k], want[..., k]
        if name in ("sum", "share", "mean", "std"):
            with np.errstate(invalid="ignore"):
                ok = (np.abs(g - w) <= REL * np.abs(w)) | (np.isnan(g) & np.isnan(w))
        else:
            ok = (g == w) | (np.isnan(g) & np.isnan(w))
        nbad = int(np.count_nonzero(~ok))
        if nbad:
            i = np.argwhere(~ok)[0]
            failures.append(f"{what} {name}: {nbad} values differ, first at {i.tolist()}: "
                            f"libsegment {g[tuple(i)]!r}, pandas {w[tuple(i)]!r}")
        bad += nbad
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--runs", type=int, default=0, help="default: the runs in meta.txt")
    ap.add_argument("--no-check", action="store_true")
    args = ap.parse_args()

    d = args.dir
    meta = read_meta(d)
    n = int(meta["rows"])
    ng = int(meta["groups"])
    runs = args.runs or int(meta.get("runs", 5))
    if runs < 1:
        raise SystemExit("bench_pandas_profile: --runs must be >= 1")

    t0 = time.perf_counter()
    data = {"label": load(d, "label.i32", np.int32, n)}
    for col, (name, dtype) in zip(COLS, FILES):
        data[col] = load(d, name, dtype, n)
    df = pd.DataFrame(data)
    cols = list(COLS)
    print(f"bench_pandas_profile: pandas {pd.__version__}, numpy {np.__version__}, rows={n} "
          f"runs={runs}; loaded in {time.perf_counter() - t0:.1f} s")

    ops = {"agg_median": AGGS, "agg_no_median": AGGS[:-1]}
    times = {op: [] for op in ops}
    first = None
    for run in range(runs):
        for op, aggs in ops.items():
            s = time.perf_counter()
            res = df.groupby("label")[cols].agg(aggs)
            times[op].append(time.perf_counter() - s)
            if run == 0 and op == "agg_median":
                first = res
            del res

    print(f"  {'operation':<16} {'median_s':>10} {'min_s':>10} {'rows/s':>12}")
    lines = []
    for op, t in times.items():
        med = statistics.median(t)
        print(f"  {op:<16} {med:10.6f} {min(t):10.6f} {n / med:12.3e}")
        lines.append(f"PANDAS name={op} rows={n} runs={runs} median_s={med:.9f} "
                     f"min_s={min(t):.9f} rows_per_s={n / med:.6e}")
    print()
    for line in lines:
        print(line)

    if args.no_check:
        return 0
    failures = []
    size, st, tot = expected(df, first)
    groups = load(d, "lib_groups.i64", np.int64, 2 * ng).reshape(ng, 2)
    lib_st = load(d, "lib_stats.f64", np.float64, ng * len(COLS) * 9).reshape(ng, len(COLS), 9)
    lib_tot = load(d, "lib_total.f64", np.float64, len(COLS) * 9).reshape(len(COLS), 9)
    bad_groups = 0
    if len(size) != ng or not np.array_equal(size.index.to_numpy(np.int64), groups[:, 0]) or \
            not np.array_equal(size.to_numpy(np.int64), groups[:, 1]):
        bad_groups = 1
        failures.append(f"groups: libsegment {groups.tolist()[:5]}..., pandas "
                        f"{list(zip(size.index.tolist(), size.tolist()))[:5]}...")
    print(f"CHECK name=groups mismatches={bad_groups} groups={ng}")
    bad_stats = compare("groups", lib_st, st, failures) if not bad_groups else 1
    print(f"CHECK name=group_stats mismatches={bad_stats} values={lib_st.size}")
    bad_tot = compare("totals", lib_tot, tot, failures)
    print(f"CHECK name=totals mismatches={bad_tot} values={lib_tot.size}")
    for msg in failures[:10]:
        print(f"MISMATCH {msg}", file=sys.stderr)
    if failures:
        print(f"bench_pandas_profile: pandas and libsegment DISAGREE ({len(failures)} kinds of "
              "mismatch)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
