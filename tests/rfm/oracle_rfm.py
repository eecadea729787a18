#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Cross-checks libsegment's RFM engine against an independent pandas/numpy
computation on public data sets (see ../shared/data/README.md).

usage: oracle_rfm.py LIBSEGMENT_SO DATA_DIR

Loads the shared library with ctypes and compares:
  * scores on rfm_data_customer.csv, every binning method and bins 2..10
    (R_COMPAT and TIES: R's type-7 quantile, checked against numpy's
    'linear' quantile too; RANK: pandas qcut(rank(method='first'));
    MEAN/MEDIAN: numpy mean/median), plus random heavily tied samples;
  * seg_rfm_aggregate on rfm_data_orders.csv (days) against a pandas groupby;
  * the UCI Online Retail data (seconds, rows with a CustomerID and
    Quantity > 0, amount = Quantity * UnitPrice, analysis 2011-12-10 00:00:00
    UTC): aggregation and R-compatible scores;
  * CDNOW master (YYYYMMDD dates, distinct-day frequency), doubles and int64
    cents (seg_rfm_aggregate_minor).

Counts and scores must match exactly, sums to 1e-9 relative, times to 1e-12.
Prints a summary; exits 1 on any mismatch (listing the first few), 77 if
pandas/numpy are missing or the data directory is absent.
Run it with /usr/bin/python3 (Debian's python3-pandas).
"""

import ctypes as C
import os
import sys

try:
    import numpy as np
    import pandas as pd
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e}")
    sys.exit(77)

# Values from include/segment/rfm.h.
SEG_OK, SEG_EDATA = 0, -10
R, F, M = 0, 1, 2
P_R_BINS, P_F_BINS, P_M_BINS = 100, 101, 102
P_R_BINNING, P_F_BINNING, P_M_BINNING = 110, 111, 112
P_TIME_UNIT, P_FREQUENCY, P_MONETARY, P_NEGATIVE, P_FUTURE, P_MISSING = 200, 201, 202, 203, 204, 205
R_COMPAT, RANK, TIES, FIXED, MEAN, MEDIAN = 1, 2, 3, 4, 5, 6
TIME_DAYS, TIME_SECONDS = 1, 2
FREQ_TRANSACTIONS, FREQ_DAYS = 1, 2
METHOD_NAME = {R_COMPAT: "r-compat", RANK: "rank", TIES: "ties", MEAN: "mean", MEDIAN: "median"}

failures = []
checks = 0


def fail(msg):
    failures.append(msg)


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)


# --------------------------------------------------------------------------
# The library through ctypes.

class Lib:
    def __init__(self, path):
        L = C.CDLL(path)
        P = C.c_void_p
        dp = C.POINTER(C.c_double)
        ip = C.POINTER(C.c_int32)
        lp = C.POINTER(C.c_int64)
        up = C.POINTER(C.c_uint8)
        sz = C.c_size_t
        L.seg_rfm_new.argtypes = [C.POINTER(P), P]
        L.seg_rfm_new.restype = C.c_int32
        L.seg_rfm_free.argtypes = [P]
        L.seg_rfm_free.restype = None
        L.seg_rfm_set_param.argtypes = [P, C.c_int32, C.c_int64]
        L.seg_rfm_set_param.restype = C.c_int32
        L.seg_rfm_fit_score.argtypes = [P, dp, dp, dp, sz, ip, ip, ip, ip, dp]
        L.seg_rfm_fit_score.restype = C.c_int32
        L.seg_rfm_score.argtypes = [P, dp, dp, dp, sz, ip, ip, ip, ip, dp, C.c_char_p, sz]
        L.seg_rfm_score.restype = C.c_int32
        L.seg_rfm_get_thresholds.argtypes = [P, C.c_int32, dp, sz, C.POINTER(sz)]
        L.seg_rfm_get_thresholds.restype = C.c_int32
        L.seg_rfm_last_error.argtypes = [P]
        L.seg_rfm_last_error.restype = C.c_char_p
        agg = [P, ip, lp, None, sz, C.c_int64, sz, dp, dp, dp, dp, up, C.c_char_p, sz]
        L.seg_rfm_aggregate.argtypes = agg[:3] + [dp] + agg[4:]
        L.seg_rfm_aggregate.restype = C.c_int32
        L.seg_rfm_aggregate_minor.argtypes = agg[:3] + [lp] + agg[4:]
        L.seg_rfm_aggregate_minor.restype = C.c_int32
        self.L = L

    def model(self, params=None):
        m = C.c_void_p()
        assert self.L.seg_rfm_new(C.byref(m), None) == SEG_OK
        for key, value in (params or {}).items():
            rc = self.L.seg_rfm_set_param(m, int(key), int(value))
            assert rc == SEG_OK, (key, value, rc)
        return m

    def free(self, m):
        self.L.seg_rfm_free(m)

    @staticmethod
    def _d(a):
        return a.ctypes.data_as(C.POINTER(C.c_double))

    @staticmethod
    def _i(a):
        return a.ctypes.data_as(C.POINTER(C.c_int32))

    def fit_score(self, m, r, f, mo):
        n = len(r)
        r, f, mo = (np.ascontiguousarray(x, dtype=np.float64) for x in (r, f, mo))
        out = [np.full(n, -7, dtype=np.int32) for _ in range(4)]
        w = np.empty(n)
        rc = self.L.seg_rfm_fit_score(m, self._d(r), self._d(f), self._d(mo), n,
                                      *(self._i(o) for o in out), self._d(w))
        if rc != SEG_OK:
            raise RuntimeError(f"fit_score: {rc} {self.L.seg_rfm_last_error(m)}")
        return out

    def score(self, m, r, f, mo):
        n = len(r)
        r, f, mo = (np.ascontiguousarray(x, dtype=np.float64) for x in (r, f, mo))
        out = [np.full(n, -7, dtype=np.int32) for _ in range(4)]
        err = C.create_string_buffer(256)
        rc = self.L.seg_rfm_score(m, self._d(r), self._d(f), self._d(mo), n,
                                  *(self._i(o) for o in out), None, err, 256)
        if rc != SEG_OK:
            raise RuntimeError(f"score: {rc} {err.value}")
        return out

    def thresholds(self, m, dim):
        buf = np.zeros(10)
        n = C.c_size_t()
        rc = self.L.seg_rfm_get_thresholds(m, dim, self._d(buf), 10, C.byref(n))
        assert rc == SEG_OK, rc
        return buf[: n.value].copy()

    def aggregate(self, m, cust, time, amount, analysis, n_cust, minor=False):
        cust = np.ascontiguousarray(cust, dtype=np.int32)
        time = np.ascontiguousarray(time, dtype=np.int64)
        outs = [np.full(n_cust, -12345.0) for _ in range(4)]
        has = np.full(n_cust, 0xA5, dtype=np.uint8)
        err = C.create_string_buffer(256)
        if minor:
            amount = np.ascontiguousarray(amount, dtype=np.int64)
            fn, ap = self.L.seg_rfm_aggregate_minor, amount.ctypes.data_as(C.POINTER(C.c_int64))
        else:
            amount = np.ascontiguousarray(amount, dtype=np.float64)
            fn, ap = self.L.seg_rfm_aggregate, self._d(amount)
        rc = fn(m, self._i(cust), time.ctypes.data_as(C.POINTER(C.c_int64)), ap, len(cust),
                int(analysis), n_cust, *(self._d(o) for o in outs),
                has.ctypes.data_as(C.POINTER(C.c_uint8)), err, 256)
        if rc != SEG_OK:
            raise RuntimeError(f"aggregate: {rc} {err.value}")
        return outs + [has]


# --------------------------------------------------------------------------
# Independent reference implementations.

def r_type7(x, k):
    """R's quantile(x, seq(0, 1, length.out = k + 1), type = 7)[2:k], as R
    computes it: probs j * (1/k), index 1 + (n - 1) p, (1 - h) lo + h hi
    when the index is fractional and the neighbours differ."""
    xs = np.sort(np.asarray(x, dtype=np.float64))
    n = len(xs)
    by = 1.0 / k
    out = []
    for j in range(1, k):
        p = j * by
        index = 1.0 + (n - 1) * p
        lo = int(np.floor(index))
        hi = int(np.ceil(index))
        q = xs[lo - 1]
        if index > lo and xs[hi - 1] != q:
            h = index - lo
            q = (1.0 - h) * q + h * xs[hi - 1]
        out.append(q)
    return np.array(out)


def ref_bins(x, method, k):
    """(bins 1..k before the recency reversal, thresholds) for one column."""
    x = np.asarray(x, dtype=np.float64)
    if method == R_COMPAT:
        t = r_type7(x, k) + 1.0
        # cross-check against numpy's own quantile (a different formula)
        tn = np.quantile(x, [j / k for j in range(1, k)]) + 1.0
        check(np.allclose(t, tn, rtol=1e-12, atol=1e-12),
              f"r-compat k={k}: R-style thresholds {t} vs numpy {tn}")
        return 1 + np.searchsorted(t, x, side="right"), t
    if method == TIES:
        t = r_type7(x, k)
        tn = np.quantile(x, [j / k for j in range(1, k)])
        check(np.allclose(t, tn, rtol=1e-12, atol=1e-12),
              f"ties k={k}: R-style thresholds {t} vs numpy {tn}")
        return 1 + np.searchsorted(t, x, side="left"), t
    if method == RANK:
        s = pd.Series(x)
        b = pd.qcut(s.rank(method="first"), k, labels=False).to_numpy().astype(np.int64) + 1
        t = np.array([x[b == j].max() for j in range(1, k)])
        return b, t
    if method in (MEAN, MEDIAN):
        cut = float(np.mean(x)) if method == MEAN else float(np.median(x))
        return np.where(x >= cut, 2, 1), np.array([cut])
    raise ValueError(method)


def ref_scores(r, f, m, method, k):
    br, tr = ref_bins(r, method, k)
    bf, tf = ref_bins(f, method, k)
    bm, tm = ref_bins(m, method, k)
    levels = 2 if method in (MEAN, MEDIAN) else k
    if method in (MEAN, MEDIAN):
        # recency: x <= cut is "high" (2)
        br = np.where(np.asarray(r) <= tr[0], 2, 1)
        sr = br
    else:
        sr = levels + 1 - br
    return sr, bf, bm, (tr, tf, tm)


def compare_scores(lib, label, r, f, m, method, k):
    model = lib.model({P_R_BINNING: method, P_F_BINNING: method, P_M_BINNING: method,
                       P_R_BINS: k, P_F_BINS: k, P_M_BINS: k})
    try:
        got = lib.fit_score(model, r, f, m)
        sr, sf, sm, thr = ref_scores(r, f, m, method, k)
        for dim, name, want, g in ((R, "R", sr, got[0]), (F, "F", sf, got[1]), (M, "M", sm, got[2])):
            t_lib = lib.thresholds(model, dim)
            ok_t = len(t_lib) == len(thr[dim]) and np.allclose(t_lib, thr[dim], rtol=1e-12,
                                                              atol=1e-12)
            check(ok_t, f"{label} {METHOD_NAME[method]} k={k} {name}: thresholds "
                        f"{list(t_lib)} vs {list(thr[dim])}")
            bad = np.flatnonzero(g != want)
            check(len(bad) == 0,
                  f"{label} {METHOD_NAME[method]} k={k} {name}: {len(bad)} scores differ, first "
                  f"rows {list(bad[:5])}: lib {list(g[bad[:5]])} ref {list(want[bad[:5]])} "
                  f"values {list(np.asarray([r, f, m][dim])[bad[:5]])}")
        cell = 100 * got[0] + 10 * got[1] + got[2]
        check(np.array_equal(cell, got[3]), f"{label} {METHOD_NAME[method]} k={k}: cell codes")
        # seg_rfm_score with the fitted thresholds: same as fit_score except
        # for RANK, where new rows are scored by value: bins (t_{j-1}, t_j].
        s2 = lib.score(model, r, f, m)
        for dim, name in ((R, "R"), (F, "F"), (M, "M")):
            if method == RANK:
                t = lib.thresholds(model, dim)
                b = 1 + np.searchsorted(t, np.asarray([r, f, m][dim]), side="left")
                want = k + 1 - b if dim == R else b
            else:
                want = got[dim]
            bad = np.flatnonzero(s2[dim] != want)
            check(len(bad) == 0, f"{label} {METHOD_NAME[method]} k={k} {name}: seg_rfm_score "
                                 f"differs on {len(bad)} rows, first {list(bad[:5])}")
    finally:
        lib.free(model)


# --------------------------------------------------------------------------

def check_customer_data(lib, data_dir):
    d = pd.read_csv(os.path.join(data_dir, "rfm_data_customer.csv"))
    check(len(d) == 39999, f"rfm_data_customer rows {len(d)}")
    check(int(d.number_of_orders.sum()) == 393223, "rfm_data_customer orders total")
    r = d.recency_days.to_numpy(np.float64)
    f = d.number_of_orders.to_numpy(np.float64)
    m = d.revenue.to_numpy(np.float64)
    for method in (R_COMPAT, TIES, RANK, MEAN, MEDIAN):
        for k in range(2, 11):
            compare_scores(lib, "rfm_data_customer", r, f, m, method, k)
    print(f"rfm_data_customer: {len(d)} customers, 5 methods x bins 2..10")


def check_random(lib):
    rng = np.random.default_rng(20261123)
    for n in (3, 7, 11, 20, 21, 100, 1001, 2520, 2521):
        for k in range(2, 11):
            # heavy ties (small integers), continuous values, and halves
            r = rng.integers(0, 12, n).astype(np.float64)
            f = rng.integers(1, 5, n).astype(np.float64)
            m = np.round(rng.gamma(2.0, 50.0, n), 2)
            for method in (R_COMPAT, TIES, RANK, MEAN, MEDIAN):
                if method == RANK and n < k:
                    continue  # some rank bins would be empty: no thresholds to compare
                compare_scores(lib, f"random n={n}", r, f, m, method, k)
    print("random samples: n in 3..2521, bins 2..10, 5 methods")


def days_since_epoch(dates):
    return ((pd.to_datetime(dates) - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)).to_numpy(
        np.int64)


def compare_aggregate(label, got, want_rec, want_freq, want_mon, want_ten, want_has, tol_time):
    rec, freq, mon, ten, has = got
    check(np.array_equal(has, want_has.astype(np.uint8)), f"{label}: has_purchase")
    check(np.array_equal(freq, want_freq), f"{label}: frequency differs on "
                                           f"{int(np.sum(freq != want_freq))} customers")
    for name, g, w, tol in (("recency", rec, want_rec, tol_time), ("tenure", ten, want_ten, tol_time),
                            ("monetary", mon, want_mon, 1e-9)):
        same_nan = np.array_equal(np.isnan(g), np.isnan(w))
        ok = np.isclose(g, w, rtol=tol, atol=tol) | (np.isnan(g) & np.isnan(w))
        bad = np.flatnonzero(~ok)
        check(same_nan and len(bad) == 0,
              f"{label}: {name} differs on {len(bad)} customers, first {list(bad[:5])}: "
              f"lib {list(g[bad[:5]])} ref {list(w[bad[:5]])}")


def check_orders(lib, data_dir):
    d = pd.read_csv(os.path.join(data_dir, "rfm_data_orders.csv"))
    names = np.array(sorted(d.customer_id.unique(), key=lambda s: s.encode("utf-8")))
    idx = pd.Index(names).get_indexer(d.customer_id)
    day = days_since_epoch(d.order_date)
    analysis = int(days_since_epoch(pd.Series(["2006-12-31"]))[0])
    d = d.assign(c=idx, day=day)
    g = d.groupby("c").agg(last=("day", "max"), first=("day", "min"), n=("day", "size"),
                           amount=("revenue", "sum"), days=("day", "nunique"))
    g = g.reindex(range(len(names)))
    check(len(names) == 995 and int(g.n.sum()) == 4906, "rfm_data_orders: 995 customers, 4906 rows")
    for mode, freq in ((FREQ_TRANSACTIONS, g.n), (FREQ_DAYS, g.days)):
        model = lib.model({P_FREQUENCY: mode})
        got = lib.aggregate(model, idx, day, d.revenue.to_numpy(np.float64), analysis, len(names))
        compare_aggregate(f"rfm_data_orders freq mode {mode}", got,
                          (analysis - g["last"]).to_numpy(np.float64), freq.to_numpy(np.float64),
                          g.amount.to_numpy(np.float64), (analysis - g["first"]).to_numpy(np.float64),
                          np.ones(len(names)), 0)
        lib.free(model)
    print(f"rfm_data_orders: {len(d)} rows, {len(names)} customers")


def check_online_retail(lib, data_dir):
    path = os.path.join(data_dir, "online_retail.csv.gz")
    d = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"})
    check(len(d) == 541909, f"online retail rows {len(d)}")
    d = d[d.CustomerID.notna() & (d.Quantity > 0)].copy()
    check(len(d) == 397924, f"online retail kept rows {len(d)} (README: 397,924)")
    d["amount"] = d.Quantity.astype(np.float64) * d.UnitPrice.astype(np.float64)
    ts = pd.to_datetime(d.InvoiceDate, format="%Y-%m-%d %H:%M:%S")
    d["t"] = ((ts - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)).astype(np.int64)
    analysis = int((pd.Timestamp("2011-12-10 00:00:00") - pd.Timestamp("1970-01-01"))
                   // pd.Timedelta(seconds=1))
    ids = np.sort(d.CustomerID.unique().to_numpy(np.int64))
    d["c"] = pd.Index(ids).get_indexer(d.CustomerID.to_numpy(np.int64))
    n_cust = len(ids)
    check(n_cust == 4339, f"online retail customers {n_cust} (README: 4,339)")
    d["day"] = np.floor_divide(d.t.to_numpy(), 86400)
    purchases = d[d.amount >= 0]
    g = purchases.groupby("c").agg(last=("t", "max"), first=("t", "min"), n=("t", "size"),
                                   days=("day", "nunique")).reindex(range(n_cust))
    net = d.groupby("c").amount.sum().reindex(range(n_cust)).fillna(0.0)
    has = g.n.notna().to_numpy()
    rec = ((analysis - g["last"]) / 86400.0).to_numpy(np.float64)
    ten = ((analysis - g["first"]) / 86400.0).to_numpy(np.float64)
    cust, t, amt = d.c.to_numpy(), d.t.to_numpy(), d.amount.to_numpy(np.float64)
    got_tx = None
    for mode, freq in ((FREQ_TRANSACTIONS, g.n), (FREQ_DAYS, g.days)):
        model = lib.model({P_TIME_UNIT: TIME_SECONDS, P_FREQUENCY: mode})
        got = lib.aggregate(model, cust, t, amt, analysis, n_cust)
        compare_aggregate(f"online retail freq mode {mode}", got, rec,
                          freq.fillna(0).to_numpy(np.float64), net.to_numpy(np.float64), ten,
                          has, 1e-12)
        if mode == FREQ_TRANSACTIONS:
            got_tx = got
        lib.free(model)
    # R-compatible scores on the aggregated values (customers who bought).
    sel = got_tx[4] == 1
    r, f, m = got_tx[0][sel], got_tx[1][sel], got_tx[2][sel]
    compare_scores(lib, "online retail", r, f, m, R_COMPAT, 5)
    for k in (3, 4, 10):
        compare_scores(lib, "online retail", r, f, m, R_COMPAT, k)
    compare_scores(lib, "online retail", r, f, m, RANK, 5)
    compare_scores(lib, "online retail", r, f, m, TIES, 5)
    print(f"online retail: {len(d)} rows, {n_cust} customers, {int(sel.sum())} buyers")


def check_cdnow(lib, data_dir):
    d = pd.read_csv(os.path.join(data_dir, "CDNOW_master.txt"), sep=r"\s+",
                    dtype={"customer_id": str, "date": str})
    check(len(d) == 69659, f"CDNOW rows {len(d)}")
    ids = np.sort(d.customer_id.unique())
    check(len(ids) == 23570, f"CDNOW customers {len(ids)}")
    c = pd.Index(ids).get_indexer(d.customer_id)
    day = days_since_epoch(pd.to_datetime(d.date, format="%Y%m%d"))
    analysis = int(days_since_epoch(pd.Series(["1998-07-01"]))[0])
    cents = np.round(d.dollar_value.to_numpy(np.float64) * 100).astype(np.int64)
    check(int(cents.sum()) == 250031563, f"CDNOW total {cents.sum()} cents (README: $2,500,315.63)")
    d = d.assign(c=c, day=day, cents=cents)
    g = d.groupby("c").agg(last=("day", "max"), first=("day", "min"), n=("day", "size"),
                           days=("day", "nunique"), amount=("dollar_value", "sum"),
                           cents=("cents", "sum")).reindex(range(len(ids)))
    rec = (analysis - g["last"]).to_numpy(np.float64)
    ten = (analysis - g["first"]).to_numpy(np.float64)
    has = np.ones(len(ids))
    model = lib.model({P_FREQUENCY: FREQ_DAYS})
    got = lib.aggregate(model, c, day, d.dollar_value.to_numpy(np.float64), analysis, len(ids))
    compare_aggregate("CDNOW (distinct days)", got, rec, g.days.to_numpy(np.float64),
                      g.amount.to_numpy(np.float64), ten, has, 0)
    check(int(g.days.sum()) < len(d), "CDNOW has several rows on one day")
    # int64 cents: exact
    gm = lib.aggregate(model, c, day, cents, analysis, len(ids), minor=True)
    check(np.array_equal(gm[2], g.cents.to_numpy(np.float64)), "CDNOW cents sums (exact)")
    check(int(gm[2].sum()) == 250031563, "CDNOW cents total from the library")
    check(np.array_equal(gm[1], got[1]), "CDNOW minor frequency")
    compare_scores(lib, "CDNOW", got[0], got[1], got[2], R_COMPAT, 5)
    compare_scores(lib, "CDNOW", got[0], got[1], got[2], RANK, 5)
    lib.free(model)
    print(f"CDNOW: {len(d)} rows, {len(ids)} customers")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    lib_path, data_dir = sys.argv[1], sys.argv[2]
    if not os.path.isdir(data_dir):
        print(f"SKIP: no data directory {data_dir}")
        return 77
    lib = Lib(os.path.abspath(lib_path))
    steps = [("random", lambda: check_random(lib)),
             ("customer", lambda: check_customer_data(lib, data_dir)),
             ("orders", lambda: check_orders(lib, data_dir)),
             ("online retail", lambda: check_online_retail(lib, data_dir)),
             ("cdnow", lambda: check_cdnow(lib, data_dir))]
    for name, step in steps:
        try:
            step()
        except Exception as e:  # a crash in one data set still reports the rest
            fail(f"{name}: {type(e).__name__}: {e}")
    print(f"{checks} checks, {len(failures)} failed")
    for msg in failures[:int(os.environ.get("ORACLE_SHOW", "15"))]:
        print("MISMATCH:", msg)
    if len(failures) > int(os.environ.get("ORACLE_SHOW", "15")):
        print(f"... and {len(failures) - 15} more")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
