#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""pandas on the same data as bench_rfm, for the speed comparison.

Usage: /usr/bin/python3 bench_pandas.py DIR [--runs N] [--only fit|agg] [--no-check]

DIR is what `bench_rfm --write-dir DIR` wrote (raw native-endian arrays and
meta.txt, see README.md). Times, single-threaded as pandas is:

  fit_score       R-compatible quintile scoring written the pandas way:
                  thresholds = x.quantile([.2, .4, .6, .8]) + 1 (type 7 is
                  pandas' default 'linear'), then
                  pd.cut(x, [-inf, *thresholds, inf], right=False, labels=1..5)
                  which is R's [lower, upper) binning; recency reversed
                  (6 - bin); cell = 100 R + 10 F + M.
                  pd.qcut cannot express this: R adds 1 to the quantiles and
                  qcut refuses (or, with duplicates='drop', renumbers) the
                  repeated edges that tied frequencies produce.
  fit_score_np    the same with np.digitize instead of pd.cut (what a user
                  tuning for speed writes).
  fit_score_rank  pd.qcut(x.rank(method="first"), 5, labels=False) + 1, the
                  definition of SEG_BINNING_RANK.
  aggregate       df.groupby('customer').agg(last=('time','max'),
                  first=('time','min'), count=('time','size'),
                  sum=('amount','sum')); recency = asof - last,
                  tenure = asof - first.

Input arrays are loaded and wrapped in a DataFrame before timing. Unless
--no-check, the results of the first run are compared with the library's
outputs that bench_rfm wrote (exact scores, exact recency/frequency/tenure,
monetary to 1e-9 relative); a mismatch makes the exit status 1.

Prints a human-readable table and lines
  PANDAS name=<op> rows=<n> runs=<r> median_s=<s> min_s=<s> rows_per_s=<x>
  CHECK name=<what> mismatches=<k>
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
    print(f"bench_pandas: numpy/pandas not importable ({exc}); run with /usr/bin/python3",
          file=sys.stderr)
    sys.exit(77)

QS = [0.2, 0.4, 0.6, 0.8]
LABELS = [1, 2, 3, 4, 5]


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
        raise SystemExit(f"bench_pandas: {name} has {a.size} values, expected {count}")
    return a


# ---------------------------------------------------------------- fit/score

def fit_score_cut(df):
    scores = {}
    for col in ("r", "f", "m"):
        x = df[col]
        t = x.quantile(QS).to_numpy() + 1.0
        b = pd.cut(x, np.concatenate(([-np.inf], t, [np.inf])), right=False,
                   labels=LABELS).astype("int64")
        scores[col] = 6 - b if col == "r" else b
    return 100 * scores["r"] + 10 * scores["f"] + scores["m"]


def fit_score_digitize(df):
    scores = {}
    for col in ("r", "f", "m"):
        x = df[col]
        t = x.quantile(QS).to_numpy() + 1.0
        b = np.digitize(x.to_numpy(), t) + 1  # 1 + #{t_j <= x}
        scores[col] = 6 - b if col == "r" else b
    return pd.Series(100 * scores["r"] + 10 * scores["f"] + scores["m"], index=df.index)


def fit_score_rank(df):
    scores = {}
    for col in ("r", "f", "m"):
        b = pd.qcut(df[col].rank(method="first"), 5, labels=False) + 1
        scores[col] = 6 - b if col == "r" else b
    return 100 * scores["r"] + 10 * scores["f"] + scores["m"]


# -------------------------------------------------------------- aggregation

def aggregate(df, asof):
    g = df.groupby("customer").agg(last=("time", "max"), first=("time", "min"),
                                   count=("time", "size"), sum=("amount", "sum"))
    g["recency"] = asof - g["last"]
    g["tenure"] = asof - g["first"]
    return g


def check_agg(d, meta, g):
    n = meta["customers"]
    lib = {k: load(d, f"lib_agg_{k}.f64", np.float64, n)
           for k in ("recency", "frequency", "monetary", "tenure")}
    idx = g.index.to_numpy()
    bad = 0
    bad += int(np.count_nonzero(lib["recency"][idx] != g["recency"].to_numpy()))
    bad += int(np.count_nonzero(lib["tenure"][idx] != g["tenure"].to_numpy()))
    bad += int(np.count_nonzero(lib["frequency"][idx] != g["count"].to_numpy()))
    want_m = g["sum"].to_numpy()
    bad += int(np.count_nonzero(np.abs(lib["monetary"][idx] - want_m)
                                > 1e-9 * np.maximum(1.0, np.abs(want_m))))
    # Customers pandas has no group for: no purchase, so F = 0, R = NaN.
    absent = np.ones(n, dtype=bool)
    absent[idx] = False
    bad += int(np.count_nonzero(lib["frequency"][absent] != 0))
    bad += int(np.count_nonzero(~np.isnan(lib["recency"][absent])))
    return bad, int(absent.sum())


# --------------------------------------------------------------------------

def timed(fn, runs):
    times, result = [], None
    for i in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        if i == 0:
            result = out
        del out
    return times, result


def report(name, rows, times):
    med = statistics.median(times)
    print(f"  {name:<16} {med:10.6f} {min(times):10.6f} {rows / med:12.3e}")
    return (f"PANDAS name={name} rows={rows} runs={len(times)} median_s={med:.9f} "
            f"min_s={min(times):.9f} rows_per_s={rows / med:.6e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--runs", type=int, default=0, help="default: the runs in meta.txt")
    ap.add_argument("--only", choices=("fit", "agg"))
    ap.add_argument("--no-check", action="store_true")
    args = ap.parse_args()

    d = args.dir
    meta = read_meta(d)
    runs = args.runs or meta.get("runs", 5)
    n, ntx, asof = meta["customers"], meta["transactions"], meta["analysis_time"]
    check = not args.no_check
    print(f"bench_pandas: pandas {pd.__version__}, numpy {np.__version__}, "
          f"customers={n} transactions={ntx} runs={runs}")

    lines, checks, failed = [], [], 0
    print(f"  {'operation':<16} {'median_s':>10} {'min_s':>10} {'rows/s':>12}")

    if args.only in (None, "fit") and meta.get("has_fit", 1):
        df = pd.DataFrame({"r": load(d, "cust_r.f64", np.float64, n),
                           "f": load(d, "cust_f.f64", np.float64, n),
                           "m": load(d, "cust_m.f64", np.float64, n)})
        have_lib = check
        lib_cell = load(d, "lib_cell.i32", np.int32, n) if have_lib else None
        lib_rank = load(d, "lib_cell_rank.i32", np.int32, n) if have_lib else None
        for name, fn, ref in (("fit_score", fit_score_cut, lib_cell),
                              ("fit_score_np", fit_score_digitize, lib_cell),
                              ("fit_score_rank", fit_score_rank, lib_rank)):
            times, cell = timed(lambda fn=fn: fn(df), runs)
            lines.append(report(name, n, times))
            if ref is not None:
                bad = int(np.count_nonzero(cell.to_numpy().astype(np.int64) != ref))
                checks.append(f"CHECK name={name} mismatches={bad}")
                failed += bad
        del df

    if args.only in (None, "agg") and meta.get("has_agg", 1):
        tx = pd.DataFrame({"customer": load(d, "tx_customer.i32", np.int32, ntx),
                           "time": load(d, "tx_time.i64", np.int64, ntx),
                           "amount": load(d, "tx_amount.f64", np.float64, ntx)})
        times, g = timed(lambda: aggregate(tx, asof), runs)
        lines.append(report("aggregate", ntx, times))
        del tx
        if check:
            bad, absent = check_agg(d, meta, g)
            checks.append(f"CHECK name=aggregate mismatches={bad} customers_without_rows={absent}")
            failed += bad

    print()
    for line in lines + checks:
        print(line)
    if failed:
        print(f"bench_pandas: pandas and libsegment DISAGREE ({failed} mismatches)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
