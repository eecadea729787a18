#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""numpy on the same tag data as bench_tags, for the speed and memory comparison.

Usage: /usr/bin/python3 bench_numpy_tags.py DIR [--runs N] [--no-check]

DIR is what `bench_tags --write-dir DIR` wrote:
  tags.bits       200 bit-packed tag columns, tag-major; bit i of byte j is
                  row 8j+i (numpy's bitorder='little'); each column padded
                  with zero bits to `stride` bytes (a multiple of 8)
  tag_counts.i64  customers per tag, as generated
  q1_rows.i64, q2_rows.i64
                  the rows libsegment's seg_query_select returned
  meta.txt        rows, tags, stride, runs, seed, qN_terms (tag indices a,b,c,d,e
                  of `a and not b and (c or d) and e`), qN_count (libsegment's count)

The columns are unpacked before timing into one numpy bool array per tag
(a (tags, rows) bool array: n bytes per tag), the way a user holds tags in
numpy. Times, single-threaded as numpy is, for each query:

  expr    a & ~b & (c | d) & e                    (the bool result)
  count   np.count_nonzero(a & ~b & (c | d) & e)
  select  np.flatnonzero(a & ~b & (c | d) & e)
  packed_count, packed_select (information only)
          the same on the bit-packed columns viewed as uint64 (n/8 bytes
          per tag), then np.unpackbits + count_nonzero / flatnonzero

Unless --no-check, the per-tag counts are compared with tag_counts.i64 and
each query's count and rows (both numpy forms) with libsegment's; any
mismatch makes the exit status 1.

Prints a table and lines
  NUMPY name=<q>_<op> rows=<n> runs=<r> median_s=<s> min_s=<s> rows_per_s=<x>
  MEMORY numpy_bool_bytes=<b> numpy_packed_bytes=<b>
  CHECK name=<what> mismatches=<k> ...
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
    print(f"bench_numpy_tags: numpy not importable ({exc}); run with /usr/bin/python3",
          file=sys.stderr)
    sys.exit(77)

QUERIES = ("q1", "q2")
OPS = ("expr", "count", "select", "packed_count", "packed_select")


def read_meta(d):
    meta = {}
    with open(os.path.join(d, "meta.txt"), encoding="ascii") as f:
        for line in f:
            line = line.strip()
            if line:
                k, v = line.split("=", 1)
                meta[k] = [int(x) for x in v.split(",")] if "," in v else int(v)
    return meta


def load(d, name, dtype, count=None):
    a = np.fromfile(os.path.join(d, name), dtype=dtype)
    if count is not None and a.size != count:
        raise SystemExit(f"bench_numpy_tags: {name} has {a.size} values, expected {count}")
    return a


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--runs", type=int, default=0, help="default: the runs in meta.txt")
    ap.add_argument("--no-check", action="store_true")
    args = ap.parse_args()

    d = args.dir
    meta = read_meta(d)
    n, n_tags, stride = meta["rows"], meta["tags"], meta["stride"]
    runs = args.runs or meta.get("runs", 7)
    if runs < 1:
        raise SystemExit("bench_numpy_tags: --runs must be >= 1")
    if stride % 8 or stride * 8 < n:
        raise SystemExit(f"bench_numpy_tags: bad stride {stride} for {n} rows")

    t0 = time.perf_counter()
    packed = load(d, "tags.bits", np.uint8, n_tags * stride).reshape(n_tags, stride)
    # One bool column per tag (n bytes each), as a user holds tags in numpy.
    tags = np.unpackbits(packed, axis=1, count=n, bitorder="little").view(np.bool_)
    words = packed.view(np.uint64)  # (tags, stride / 8): the bit-packed form
    print(f"bench_numpy_tags: numpy {np.__version__}, rows={n} tags={n_tags} runs={runs}; "
          f"unpacked in {time.perf_counter() - t0:.1f} s")

    times = {(q, op): [] for q in QUERIES for op in OPS}
    results = {}
    for run in range(runs):
        for q in QUERIES:
            ta, tb, tc, td, te = meta[f"{q}_terms"]
            a, b, c, d_, e = tags[ta], tags[tb], tags[tc], tags[td], tags[te]
            pa, pb, pc, pd, pe = words[ta], words[tb], words[tc], words[td], words[te]

            s = time.perf_counter()
            r_expr = a & ~b & (c | d_) & e
            times[(q, "expr")].append(time.perf_counter() - s)

            s = time.perf_counter()
            r_count = int(np.count_nonzero(a & ~b & (c | d_) & e))
            times[(q, "count")].append(time.perf_counter() - s)

            s = time.perf_counter()
            r_select = np.flatnonzero(a & ~b & (c | d_) & e)
            times[(q, "select")].append(time.perf_counter() - s)

            # Padding bits are 0 in every column, and `a` keeps them 0 after ~b.
            s = time.perf_counter()
            pq = pa & ~pb & (pc | pd) & pe
            r_pcount = int(np.count_nonzero(np.unpackbits(pq.view(np.uint8))))
            times[(q, "packed_count")].append(time.perf_counter() - s)

            s = time.perf_counter()
            pq = pa & ~pb & (pc | pd) & pe
            r_pselect = np.flatnonzero(np.unpackbits(pq.view(np.uint8), count=n,
                                                     bitorder="little"))
            times[(q, "packed_select")].append(time.perf_counter() - s)

            if run == 0:
                results[q] = (r_expr, r_count, r_select, r_pcount, r_pselect)
            del r_expr, r_select, r_pselect, pq

    print(f"  {'operation':<18} {'median_s':>10} {'min_s':>10} {'rows/s':>12}")
    lines = []
    for q in QUERIES:
        for op in OPS:
            t = times[(q, op)]
            med = statistics.median(t)
            print(f"  {q + '_' + op:<18} {med:10.6f} {min(t):10.6f} {n / med:12.3e}")
            lines.append(f"NUMPY name={q}_{op} rows={n} runs={runs} median_s={med:.9f} "
                         f"min_s={min(t):.9f} rows_per_s={n / med:.6e}")
    print()
    for line in lines:
        print(line)
    print(f"MEMORY numpy_bool_bytes={tags.nbytes} numpy_packed_bytes={packed.nbytes} "
          f"tags={n_tags} rows={n}")

    failed = 0
    if not args.no_check:
        want = load(d, "tag_counts.i64", np.int64, n_tags)
        got = np.count_nonzero(tags, axis=1)
        bad = int(np.count_nonzero(got != want))
        print(f"CHECK name=tag_counts mismatches={bad}")
        if bad:
            k = int(np.flatnonzero(got != want)[0])
            print(f"MISMATCH tag index {k}: numpy counts {int(got[k])}, bench_tags {int(want[k])}",
                  file=sys.stderr)
        failed += bad
        for q in QUERIES:
            r_expr, r_count, r_select, r_pcount, r_pselect = results[q]
            lib_count = meta[f"{q}_count"]
            lib_rows = load(d, f"{q}_rows.i64", np.int64)
            bad = 0
            if not (r_count == lib_count == int(np.count_nonzero(r_expr)) == r_pcount
                    == r_select.size == r_pselect.size == lib_rows.size):
                print(f"MISMATCH {q} counts: libsegment {lib_count} ({lib_rows.size} rows "
                      f"selected), numpy {r_count}, expr {int(np.count_nonzero(r_expr))}, "
                      f"packed {r_pcount}, select {r_select.size}, packed select "
                      f"{r_pselect.size}", file=sys.stderr)
                bad += 1
            for label, rows in (("select", r_select), ("packed_select", r_pselect)):
                if rows.size != lib_rows.size or not np.array_equal(rows, lib_rows):
                    m = min(rows.size, lib_rows.size)
                    diff = np.flatnonzero(rows[:m] != lib_rows[:m])
                    at = int(diff[0]) if diff.size else m
                    print(f"MISMATCH {q} {label}: rows differ from libsegment's from position "
                          f"{at}", file=sys.stderr)
                    bad += 1
            print(f"CHECK name={q} mismatches={bad} lib_count={lib_count} numpy_count={r_count}")
            failed += bad
    if failed:
        print(f"bench_numpy_tags: numpy and libsegment DISAGREE ({failed} mismatches)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
