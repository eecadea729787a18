#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""scikit-learn's KMeans on the same data as bench_kmeans, for the per-iteration comparison.

Usage: /usr/bin/python3 bench_sklearn_kmeans.py DIR [--runs N] [--threads T] [--no-check]

DIR is what `bench_kmeans --write-dir DIR` wrote:
  col0.f64, col1.f64, col2.f64   the three feature columns (rows doubles each)
  centroids.f64                  libsegment's centroids (k x 3) after `iters`
                                 Lloyd iterations on one thread
  meta.txt                       rows, k, iters, seed (data), km_seed (k-means++),
                                 runs, lib_inertia, lib_iter

The columns are stacked before timing into the (rows, 3) C-contiguous
float64 matrix scikit-learn wants. The k-means++ centres are drawn once,
timed, by sklearn.cluster.kmeans_plusplus(X, k, random_state=km_seed) (what
KMeans(init='k-means++') runs inside). Then for 1 thread (OMP_NUM_THREADS=1
is set before scikit-learn is imported, and threadpoolctl limits OpenMP and
BLAS when it is installed) and, when threadpoolctl is there, for T threads
(default 2), it times, --runs times (default: the runs in meta.txt):

  fit1  KMeans(n_clusters=k, init=<those centres>, n_init=1, max_iter=1, tol=0,
               algorithm='lloyd').fit(X)
  fitN  the same with max_iter=iters

so one iteration costs (fitN - fit1) / (n_iter(fitN) - n_iter(fit1)): the
input checks, the copy and the final assignment cancel out, and starting
both from the same given centres keeps the seeding (and its noise on a busy
machine) out of the difference. Also, for information, algorithm='elkan'
on 1 thread.

Unless --no-check: the inertia of libsegment's centroids on the data,
computed here with numpy (each row's squared distance to the nearest
centroid, summed), must equal lib_inertia (relative 1e-9).

Prints a table and lines
  SEEDING name=kmeans_plusplus seconds=<s>
  SKLEARN name=<algo>_t<threads> rows=<n> k=<k> iters=<n_iter> runs=<r> per_iter_s=<median>
          per_iter_min_s=<min> fit_s=<median fitN> fit1_s=<median fit1> inertia=<%.17g>
  CHECK name=lib_inertia_numpy mismatches=<0|1> lib=<x> numpy=<y>
Exit status 1 on a failed check, 77 when numpy or scikit-learn is missing.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import numpy as np
    import sklearn
    from sklearn.cluster import KMeans, kmeans_plusplus
except ImportError as exc:  # pragma: no cover - depends on the interpreter
    print(f"bench_sklearn_kmeans: numpy/scikit-learn not importable ({exc}); "
          "run with /usr/bin/python3", file=sys.stderr)
    sys.exit(77)

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None


def read_meta(d):
    meta = {}
    with open(os.path.join(d, "meta.txt"), encoding="ascii") as f:
        for line in f:
            line = line.strip()
            if line:
                k, v = line.split("=", 1)
                meta[k] = float(v) if any(c in v for c in ".en") else int(v)
    return meta


def nearest_inertia(X, cen, chunk=1 << 20):
    """Sum over rows of the squared distance to the nearest centroid."""
    total = 0.0
    for s in range(0, X.shape[0], chunk):
        x = X[s:s + chunk]
        d2 = ((x[:, None, :] - cen[None, :, :]) ** 2).sum(axis=2)
        total += float(d2.min(axis=1).sum())
    return total


def limited(threads):
    """A context limiting OpenMP/BLAS to `threads` (a no-op without threadpoolctl)."""
    if threadpool_limits:
        return threadpool_limits(limits=threads)

    class Nothing:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False
    return Nothing()


def time_config(X, k, iters, init, runs, algorithm, threads):
    fit1, fitn, per = [], [], []
    last = None
    for _ in range(runs):
        t0 = time.perf_counter()
        a = KMeans(n_clusters=k, init=init, n_init=1, max_iter=1, tol=0,
                   algorithm=algorithm).fit(X)
        t1 = time.perf_counter() - t0
        t0 = time.perf_counter()
        b = KMeans(n_clusters=k, init=init, n_init=1, max_iter=iters, tol=0,
                   algorithm=algorithm).fit(X)
        tn = time.perf_counter() - t0
        fit1.append(t1)
        fitn.append(tn)
        per.append((tn - t1) / max(b.n_iter_ - a.n_iter_, 1))
        last = b
    rec = {"name": f"{algorithm}_t{threads}", "rows": X.shape[0], "k": k, "iters": last.n_iter_,
           "runs": runs, "per_iter_s": statistics.median(per), "per_iter_min_s": min(per),
           "fit_s": statistics.median(fitn), "fit1_s": statistics.median(fit1),
           "inertia": last.inertia_}
    fields = []
    for key, v in rec.items():
        if key == "inertia":
            fields.append(f"{key}={v!r}")
        elif isinstance(v, float):
            fields.append(f"{key}={v:.6f}")
        else:
            fields.append(f"{key}={v}")
    print("SKLEARN " + " ".join(fields), flush=True)
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--runs", type=int, default=0, help="default: the runs in meta.txt")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-check", action="store_true")
    args = ap.parse_args()

    meta = read_meta(args.dir)
    n, k, iters, km_seed = meta["rows"], meta["k"], meta["iters"], meta["km_seed"]
    runs = args.runs or meta["runs"]
    X = np.empty((n, 3), dtype=np.float64)
    for j in range(3):
        c = np.fromfile(os.path.join(args.dir, f"col{j}.f64"), dtype=np.float64)
        if c.size != n:
            raise SystemExit(f"bench_sklearn_kmeans: col{j}.f64 has {c.size} values, expected {n}")
        X[:, j] = c
    del c
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}; {n} rows x 3, k={k}, "
          f"max_iter={iters}, tol=0, n_init=1, {runs} runs; "
          f"threadpoolctl {'yes' if threadpool_limits else 'no (OMP_NUM_THREADS=1 only)'}")

    status = 0
    if not args.no_check:
        cen = np.fromfile(os.path.join(args.dir, "centroids.f64"), dtype=np.float64).reshape(k, 3)
        got = nearest_inertia(X, cen)
        lib = meta["lib_inertia"]
        bad = int(abs(got - lib) > 1e-9 * abs(got))
        print(f"CHECK name=lib_inertia_numpy mismatches={bad} lib={lib!r} numpy={got!r}")
        status |= bad

    with limited(1):
        t0 = time.perf_counter()
        init, _ = kmeans_plusplus(X, k, random_state=km_seed)
        t_seed = time.perf_counter() - t0
    print(f"SEEDING name=kmeans_plusplus seconds={t_seed:.6f}", flush=True)

    configs = [("lloyd", 1), ("elkan", 1)]
    if threadpool_limits and args.threads > 1:
        configs.append(("lloyd", args.threads))
    recs = []
    for algorithm, threads in configs:
        with limited(threads):
            recs.append(time_config(X, k, iters, init, runs, algorithm, threads))

    print(f"{'config':12s} {'s/iter':>10s} {'min':>10s} {'fit(max_iter)':>14s} {'fit(1)':>10s} "
          f"{'n_iter':>6s} {'inertia':>22s}")
    for r in recs:
        print(f"{r['name']:12s} {r['per_iter_s']:10.6f} {r['per_iter_min_s']:10.6f} "
              f"{r['fit_s']:14.6f} {r['fit1_s']:10.6f} {r['iters']:6d} {r['inertia']:22.17g}")
    print(f"k-means++ seeding (kmeans_plusplus, 1 thread): {t_seed:.4f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
