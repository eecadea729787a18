#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Cross-checks libsegment's segment profiles (include/segment/profile.h)
against pandas groupby on public data and on random data.

usage: oracle_profile.py LIBSEGMENT_SO SHARED_DATA_DIR [SEED]

For every profile, every group and every column, and the totals
(seg_profile_total), the library's statistics are compared with pandas:

  groups        df.groupby(keys, sort=True).size(): the keys in ascending
                order (pairs for a two-way table: present pairs only), the
                row counts and count / rows
  count         .count()                         exactly
  missing       .size() - .count()               exactly
  sum           .sum()                           1e-9 relative (*)
                and math.fsum of the group's present values (the exactly
                rounded sum): within 2 eps |S| + count eps^2 sum|x|, the
                error bound of compensated (Neumaier / Kahan-Babuska)
                summation, eps = 2^-53
  share         .sum() / column.sum()            1e-9 relative (*), NaN when the total is 0
  mean          .mean()                          1e-9 relative (*)
  min, max      .min(), .max()                   exactly
  std           a two-pass sample standard deviation computed with pandas
                (groupby mean, transform, groupby sum of squared deviations,
                ddof = 1)                        1e-9 relative (**)
                and .std() itself                1e-9 relative (***)
  median        .median()                        exactly

(*) plus 1e-13 of the sum of |x| (or of that over |total| for shares), for
groups whose values cancel; (**) plus 1e-15 of max |x| for constant groups;
(***) plus 1e-14 of max |x|: pandas' groupby std (Welford's update) loses
digits on values far from 0 (3e-7 relative on two values near 1e9 that
differ by 0.14; the library and the two-pass reference agree to 1e-12).
Groups without a present value must have sum 0 and NaN mean, min, max, std
and median; one present value a NaN std. With SEG_PROFILE_NO_MEDIAN every
median must be NaN, the standard deviation (from shifted one-pass sums)
within NO_MEDIAN_STD_REL of pandas', everything else as above.

Data:
  * UCI Online Retail (541,909 rows): by Country (sparse, negative codes),
    by Country x month, by revenue decile x cancellation; columns Quantity
    (int64), UnitPrice (double), revenue = Quantity x UnitPrice, CustomerID
    (double, NaN for 135,080 rows), CustomerID as int64 with a validity
    bitmap, UnitPrice with the bit cleared where the price is <= 0;
  * CDNOW master (69,659 rows): by customer (23,570 groups), by month x
    (customer id mod 5 - 2); number_of_cds (int32), dollar_value;
  * rfm_data_customer (39,999 rows): recency quintile x orders quartile;
    revenue (int64), number_of_orders and recency_days (int32);
  * random frames (NaN, validity bitmaps on double, int64 and int32
    columns, heavy ties, values near 1e9, groups without present values)
    with 1, 2, 17, 300 and 5000 distinct labels (random int32 values,
    negative ones and the extremes included), one-way and two-way.

Exits 1 on any mismatch (listing the first few), 77 when pandas is missing
or the data directory does not exist. Run it with /usr/bin/python3.
"""

import ctypes as C
import math
import os
import sys
import time

try:
    import numpy as np
    import pandas as pd
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e}")
    sys.exit(77)

SEG_OK = 0
NO_MEDIAN = 1
STATS = ("count", "missing", "sum", "share", "mean", "min", "max", "std", "median")
S_COUNT, S_MISSING, S_SUM, S_SHARE, S_MEAN, S_MIN, S_MAX, S_STD, S_MEDIAN = range(9)
T_DOUBLE, T_INT64, T_INT32 = "double", "int64", "int32"
REL = 1e-9
NO_MEDIAN_STD_REL = 1e-9

failures = []
checks = 0
worst = {"sum": 0.0, "mean": 0.0, "std": 0.0, "std_no_median": 0.0, "sum_ulps": 0.0}


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
    return cond


# ---- bindings -------------------------------------------------------------------


class Lib:
    def __init__(self, path):
        L = C.CDLL(path)
        vp, i32, sz, dp = C.c_void_p, C.c_int32, C.c_size_t, C.POINTER(C.c_double)

        def fn(name, res, *args):
            f = getattr(L, name)
            f.restype = res
            f.argtypes = list(args)
            return f

        self.frame_new = fn("seg_frame_new", i32, C.POINTER(vp), sz, vp)
        self.frame_free = fn("seg_frame_free", None, vp)
        self.add = {
            T_DOUBLE: fn("seg_frame_add_double", i32, vp, C.c_char_p, vp, vp),
            T_INT64: fn("seg_frame_add_int64", i32, vp, C.c_char_p, vp, vp),
            T_INT32: fn("seg_frame_add_int32", i32, vp, C.c_char_p, vp, vp),
        }
        self.compute = fn("seg_profile_compute", i32, C.POINTER(vp), vp, vp, vp,
                          C.POINTER(C.c_char_p), sz, i32, vp, C.c_char_p, sz)
        self.free = fn("seg_profile_free", None, vp)
        self.n_groups = fn("seg_profile_n_groups", sz, vp)
        self.n_columns = fn("seg_profile_n_columns", sz, vp)
        self.group = fn("seg_profile_group", i32, vp, sz, C.POINTER(i32), C.POINTER(i32),
                        C.POINTER(C.c_int64), dp)
        self.value = fn("seg_profile_value", i32, vp, sz, sz, i32, dp)
        self.total = fn("seg_profile_total", i32, vp, sz, i32, dp)


class Frame:
    """A libsegment frame over numpy columns: (name, kind, values, valid or None)."""

    def __init__(self, lib, n, columns):
        self.lib = lib
        self.keep = []
        self.ptr = C.c_void_p()
        assert lib.frame_new(C.byref(self.ptr), n, None) == SEG_OK
        dtypes = {T_DOUBLE: np.float64, T_INT64: np.int64, T_INT32: np.int32}
        for name, kind, values, valid in columns:
            a = np.ascontiguousarray(values, dtype=dtypes[kind])
            assert a.shape == (n,)
            vb = None
            if valid is not None:
                vb = np.packbits(np.asarray(valid, dtype=bool), bitorder="little")
                vb = np.ascontiguousarray(vb, dtype=np.uint8)
            self.keep += [a, vb]
            rc = lib.add[kind](self.ptr, name.encode(), a.ctypes.data,
                               None if vb is None else vb.ctypes.data)
            assert rc == SEG_OK, (name, rc)

    def close(self):
        self.lib.frame_free(self.ptr)
        self.ptr = None


def lib_profile(lib, frame, labels, labels2, cols, flags):
    """Computes a profile and reads everything back: dict with l1, l2, count,
    share (per group), st [groups, columns, 9] and tot [columns, 9]."""
    l1 = np.ascontiguousarray(labels, dtype=np.int32)
    l2 = None if labels2 is None else np.ascontiguousarray(labels2, dtype=np.int32)
    names = (C.c_char_p * max(len(cols), 1))(*[c.encode() for c in cols])
    p = C.c_void_p()
    err = C.create_string_buffer(512)
    rc = lib.compute(C.byref(p), frame.ptr, l1.ctypes.data,
                     None if l2 is None else l2.ctypes.data, names, len(cols), flags, None, err,
                     len(err))
    if rc != SEG_OK:
        raise RuntimeError(f"seg_profile_compute: {rc} {err.value.decode(errors='replace')}")
    try:
        ng, nc = lib.n_groups(p), lib.n_columns(p)
        assert nc == len(cols)
        out = {"l1": np.empty(ng, np.int64), "l2": np.empty(ng, np.int64),
               "count": np.empty(ng, np.int64), "share": np.empty(ng),
               "st": np.empty((ng, nc, 9)), "tot": np.empty((nc, 9))}
        a, b, n, s, v = C.c_int32(), C.c_int32(), C.c_int64(), C.c_double(), C.c_double()
        ra, rb, rn, rs, rv = C.byref(a), C.byref(b), C.byref(n), C.byref(s), C.byref(v)
        group, value, total = lib.group, lib.value, lib.total
        st = out["st"]
        for g in range(ng):
            assert group(p, g, ra, rb, rn, rs) == SEG_OK
            out["l1"][g], out["l2"][g], out["count"][g], out["share"][g] = (a.value, b.value,
                                                                            n.value, s.value)
            for c in range(nc):
                row = st[g, c]
                for k in range(9):
                    if value(p, g, c, k, rv) != SEG_OK:
                        raise RuntimeError(f"seg_profile_value({g}, {c}, {k}) failed")
                    row[k] = v.value
        for c in range(nc):
            for k in range(9):
                assert total(p, c, k, rv) == SEG_OK
                out["tot"][c, k] = v.value
        return out
    finally:
        lib.free(p)


# ---- pandas ---------------------------------------------------------------------


def pandas_profile(df, keys, cols):
    """The same statistics with pandas; df holds the keys and float64 value
    columns (NaN = missing)."""
    n = len(df)
    g = df.groupby(keys, sort=True)
    size = g.size()
    agg = g[cols].agg(["count", "sum", "mean", "min", "max", "std", "median"])
    asum = df[cols].abs().groupby([df[k] for k in keys], sort=True).sum()
    ng = len(size)
    idx = size.index
    if len(keys) == 1:
        l1 = np.asarray(idx, dtype=np.int64)
        l2 = np.zeros(ng, np.int64)
    else:
        l1 = np.asarray(idx.get_level_values(0), dtype=np.int64)
        l2 = np.asarray(idx.get_level_values(1), dtype=np.int64)
    st = np.empty((ng, len(cols), 9))
    tot = np.empty((len(cols), 9))
    gabs = np.empty((ng, len(cols)))
    tabs = np.empty(len(cols))
    std2 = np.empty((ng, len(cols)))
    tstd2 = np.empty(len(cols))
    sz = size.to_numpy(np.float64)
    by = [df[k] for k in keys]
    fs = np.empty((ng, len(cols)))
    tfs = np.empty(len(cols))
    order = np.argsort(g.ngroup().to_numpy(), kind="stable")
    bounds = np.cumsum(size.to_numpy())[:-1]
    for c, col in enumerate(cols):
        s = df[col]
        total_sum = s.sum()
        a = agg[col]
        st[:, c, S_COUNT] = a["count"].to_numpy(np.float64)
        st[:, c, S_MISSING] = sz - st[:, c, S_COUNT]
        st[:, c, S_SUM] = a["sum"].to_numpy(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            st[:, c, S_SHARE] = (st[:, c, S_SUM] / total_sum if total_sum != 0
                                 else np.full(ng, np.nan))
        st[:, c, S_MEAN] = a["mean"].to_numpy(np.float64)
        st[:, c, S_MIN] = a["min"].to_numpy(np.float64)
        st[:, c, S_MAX] = a["max"].to_numpy(np.float64)
        st[:, c, S_STD] = a["std"].to_numpy(np.float64)
        st[:, c, S_MEDIAN] = a["median"].to_numpy(np.float64)
        gabs[:, c] = asum[col].to_numpy(np.float64)
        tot[c] = [s.count(), s.isna().sum(), total_sum, 1.0 if total_sum != 0 else np.nan,
                  s.mean(), s.min(), s.max(), s.std(), s.median()]
        tabs[c] = s.abs().sum()
        # two-pass standard deviation: deviations from the group mean
        dev2 = (s - g[col].transform("mean")) ** 2
        ss = dev2.groupby(by, sort=True).sum().to_numpy(np.float64)
        cnt = st[:, c, S_COUNT]
        with np.errstate(divide="ignore", invalid="ignore"):
            std2[:, c] = np.where(cnt >= 2, np.sqrt(ss / (cnt - 1)), np.nan)
        v = s.to_numpy(np.float64)
        fs[:, c] = [math.fsum(part[~np.isnan(part)]) for part in np.split(v[order], bounds)]
        tfs[c] = math.fsum(v[~np.isnan(v)])
        k = s.count()
        tstd2[c] = np.sqrt(((s - s.mean()) ** 2).sum() / (k - 1)) if k >= 2 else np.nan
    return {"std2": std2, "tstd2": tstd2, "fsum": fs, "tfsum": tfs,
            "l1": l1, "l2": l2, "count": size.to_numpy(np.int64), "share": sz / n, "st": st,
            "tot": tot, "gabs": gabs, "tabs": tabs, "n": n}


# ---- comparison -----------------------------------------------------------------


def compare(name, got, exp, cols, flags):
    """Every statistic of every group and the totals; returns mismatches found."""
    before = len(failures)
    n = exp["n"]
    ng = len(exp["count"])
    if not check(len(got["count"]) == ng, f"{name}: {len(got['count'])} groups, pandas {ng}"):
        return 1
    for what in ("l1", "l2", "count"):
        bad = np.flatnonzero(got[what] != exp[what])
        check(len(bad) == 0, f"{name}: group {what} differs at {bad[:5].tolist()}: "
              f"{got[what][bad[:5]].tolist()} vs pandas {exp[what][bad[:5]].tolist()}")
    shr = exp["count"] / n
    check(np.allclose(got["share"], shr, rtol=1e-15, atol=0), f"{name}: group shares")

    def one(where, gst, est, gabs, tabs, std2, fsum, c):
        # gst, est: [..., 9] arrays for one column; gabs: sum |x| per row
        cnt = est[:, S_COUNT]
        col = cols[c]
        for k in (S_COUNT, S_MISSING, S_MIN, S_MAX, S_MEDIAN):
            want = est[:, k]
            if k == S_MEDIAN and flags & NO_MEDIAN:
                want = np.full_like(want, np.nan)
            ok = (gst[:, k] == want) | (np.isnan(gst[:, k]) & np.isnan(want))
            bad = np.flatnonzero(~ok)
            check(len(bad) == 0,
                  f"{name}: {where} {col} {STATS[k]} differs in {len(bad)} of {len(ok)}, first "
                  f"at {bad[:3].tolist()}: {gst[bad[:3], k].tolist()} vs pandas "
                  f"{want[bad[:3]].tolist()}")
        with np.errstate(divide="ignore", invalid="ignore"):
            mx = np.maximum(np.abs(est[:, S_MIN]), np.abs(est[:, S_MAX]))
            tol = {S_SUM: REL * np.abs(est[:, S_SUM]) + 1e-13 * gabs,
                   S_MEAN: REL * np.abs(est[:, S_MEAN]) + np.where(cnt > 0, 1e-13 * gabs / cnt, 0),
                   S_SHARE: REL * np.abs(est[:, S_SHARE]) + 1e-13 * gabs / abs(tabs)
                   if tabs != 0 else np.zeros(len(cnt)),
                   S_STD: (NO_MEDIAN_STD_REL if flags & NO_MEDIAN else REL) * np.abs(std2)
                   + 1e-15 * np.nan_to_num(mx),
                   "pandas std": REL * np.abs(est[:, S_STD]) + 1e-14 * np.nan_to_num(mx)}
        for k, t in tol.items():
            if k == "pandas std":
                g, e = gst[:, S_STD], est[:, S_STD]
            elif k == S_STD:
                g, e = gst[:, k], std2
            else:
                g, e = gst[:, k], est[:, k]
            t = np.nan_to_num(t)
            both_nan = np.isnan(g) & np.isnan(e)
            with np.errstate(invalid="ignore"):
                ok = both_nan | (np.abs(g - e) <= t) | ((g == e) & np.isinf(e))
            bad = np.flatnonzero(~ok)
            what = k if isinstance(k, str) else STATS[k]
            check(len(bad) == 0,
                  f"{name}: {where} {col} {what} differs in {len(bad)} of {len(ok)}, first "
                  f"at {bad[:3].tolist()}: {g[bad[:3]].tolist()} vs pandas {e[bad[:3]].tolist()}"
                  f" (tolerance {t[bad[:3]].tolist()})")
            fin = ~np.isnan(e) & (np.abs(e) > 1e-12 * np.nan_to_num(mx)) & ~np.isnan(g)
            if fin.any() and k in (S_SUM, S_MEAN, S_STD):
                r = float(np.max(np.abs(g[fin] - e[fin]) / np.abs(e[fin])))
                key = {S_SUM: "sum", S_MEAN: "mean"}.get(k) or \
                    ("std_no_median" if flags & NO_MEDIAN else "std")
                worst[key] = max(worst[key], r)
        # the exactly rounded sum
        eps = 2.0 ** -53
        g = gst[:, S_SUM]
        t = 2 * eps * np.abs(fsum) + cnt * eps * eps * gabs
        bad = np.flatnonzero(~(np.abs(g - fsum) <= t))
        check(len(bad) == 0,
              f"{name}: {where} {col} sum vs math.fsum differs in {len(bad)} of {len(g)}, first "
              f"at {bad[:3].tolist()}: {g[bad[:3]].tolist()} vs {fsum[bad[:3]].tolist()}")
        nz = fsum != 0
        if nz.any():
            worst["sum_ulps"] = max(worst["sum_ulps"], float(np.max(
                np.abs(g[nz] - fsum[nz]) / np.spacing(np.abs(fsum[nz])))))
        # NaN rules, independently of pandas
        none = cnt == 0
        check(np.all(gst[none, S_SUM] == 0), f"{name}: {where} {col}: groups without values "
              "must sum to 0")
        for k in (S_MEAN, S_MIN, S_MAX, S_STD, S_MEDIAN):
            check(np.all(np.isnan(gst[none, k])), f"{name}: {where} {col}: {STATS[k]} of a "
                  "group without values must be NaN")
        check(np.all(np.isnan(gst[cnt == 1, S_STD])), f"{name}: {where} {col}: std of one "
              "value must be NaN")

    for c in range(len(cols)):
        one("group", got["st"][:, c, :], exp["st"][:, c, :], exp["gabs"][:, c], exp["tabs"][c],
            exp["std2"][:, c], exp["fsum"][:, c], c)
        one("total", got["tot"][c:c + 1, :], exp["tot"][c:c + 1, :], exp["tabs"][c:c + 1],
            exp["tabs"][c], exp["tstd2"][c:c + 1], exp["tfsum"][c:c + 1], c)
    return len(failures) - before


def run_case(lib, name, df, keys, frame_cols, cols):
    """frame_cols: (name, kind, values, valid) for the frame; df: keys + the
    pandas view of each column (float64, NaN = missing)."""
    n = len(df)
    frame = Frame(lib, n, frame_cols)
    try:
        exp = pandas_profile(df, keys, cols)
        l1 = df[keys[0]].to_numpy(np.int64)
        l2 = df[keys[1]].to_numpy(np.int64) if len(keys) > 1 else None
        for flags in (0, NO_MEDIAN):
            t0 = time.time()
            got = lib_profile(lib, frame, l1, l2, cols, flags)
            label = f"{name} [{'x'.join(keys)}{', no median' if flags else ''}]"
            bad = compare(label, got, exp, cols, flags)
            print(f"  {label}: {len(exp['count'])} groups x {len(cols)} columns, "
                  f"{'OK' if not bad else f'{bad} MISMATCHES'} ({time.time() - t0:.1f} s)")
    finally:
        frame.close()


# ---- real data ------------------------------------------------------------------


def online_retail(lib, data_dir):
    path = os.path.join(data_dir, "online_retail.csv.gz")
    d = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str})
    check(len(d) == 541909, f"online retail rows {len(d)}")
    check(int(d.CustomerID.isna().sum()) == 135080, "online retail: 135,080 missing CustomerID")
    n = len(d)
    qty = d.Quantity.to_numpy(np.int64)
    price = d.UnitPrice.to_numpy(np.float64)
    revenue = qty.astype(np.float64) * price
    cid = d.CustomerID.to_numpy(np.float64)  # NaN for missing
    cid_ok = ~np.isnan(cid)
    cid_i64 = np.where(cid_ok, np.nan_to_num(cid), -999999).astype(np.int64)  # junk under bit 0
    pos = price > 0
    countries = np.sort(d.Country.unique())
    code = pd.Index(countries).get_indexer(d.Country)
    country = code * 7919 - 100000  # sparse, mostly negative labels
    ts = pd.to_datetime(d.InvoiceDate, format="%Y-%m-%d %H:%M:%S")
    month = (ts.dt.year * 100 + ts.dt.month).to_numpy(np.int64)
    decile = pd.qcut(revenue, 10, labels=False, duplicates="drop").astype(np.int64)
    cancel = d.InvoiceNo.str.startswith("C").to_numpy().astype(np.int64)
    check(int(cancel.sum()) == 9288, "online retail: 9,288 cancellations")
    frame_cols = [("Quantity", T_INT64, qty, None), ("UnitPrice", T_DOUBLE, price, None),
                  ("revenue", T_DOUBLE, revenue, None), ("CustomerID", T_DOUBLE, cid, None),
                  ("cust_i64", T_INT64, cid_i64, cid_ok),
                  ("price_pos", T_DOUBLE, price, pos)]
    cols = [c[0] for c in frame_cols]
    df = pd.DataFrame({"country": country, "month": month, "decile": decile, "cancel": cancel,
                       "Quantity": qty.astype(np.float64), "UnitPrice": price,
                       "revenue": revenue, "CustomerID": cid,
                       "cust_i64": np.where(cid_ok, cid_i64, np.nan),
                       "price_pos": np.where(pos, price, np.nan)})
    print(f"online retail: {n} rows, {len(countries)} countries")
    run_case(lib, "online retail", df, ["country"], frame_cols, cols)
    run_case(lib, "online retail", df, ["country", "month"], frame_cols, cols)
    run_case(lib, "online retail", df, ["decile", "cancel"], frame_cols, cols)


def cdnow(lib, data_dir):
    d = pd.read_csv(os.path.join(data_dir, "CDNOW_master.txt"), sep=r"\s+",
                    dtype={"customer_id": str, "date": str})
    check(len(d) == 69659, f"CDNOW rows {len(d)}")
    cust = d.customer_id.astype(np.int64).to_numpy()
    month = (d.date.str.slice(0, 6)).astype(np.int64).to_numpy()
    cds = d.number_of_cds.to_numpy(np.int32)
    dollars = d.dollar_value.to_numpy(np.float64)
    frame_cols = [("number_of_cds", T_INT32, cds, None), ("dollar_value", T_DOUBLE, dollars, None)]
    cols = [c[0] for c in frame_cols]
    df = pd.DataFrame({"cust": cust, "month": month, "m5": cust % 5 - 2,
                       "number_of_cds": cds.astype(np.float64), "dollar_value": dollars})
    print(f"CDNOW: {len(d)} rows, {len(np.unique(cust))} customers")
    run_case(lib, "CDNOW", df, ["cust"], frame_cols, cols)
    run_case(lib, "CDNOW", df, ["month", "m5"], frame_cols, cols)


def rfm_customers(lib, data_dir):
    d = pd.read_csv(os.path.join(data_dir, "rfm_data_customer.csv"))
    check(len(d) == 39999, f"rfm_data_customer rows {len(d)}")
    rev = d.revenue.to_numpy(np.int64)
    orders = d.number_of_orders.to_numpy(np.int32)
    rec = d.recency_days.to_numpy(np.int32)
    rq = pd.qcut(rec, 5, labels=False, duplicates="drop").astype(np.int64)
    oq = pd.qcut(orders, 4, labels=False, duplicates="drop").astype(np.int64)
    frame_cols = [("revenue", T_INT64, rev, None), ("number_of_orders", T_INT32, orders, None),
                  ("recency_days", T_INT32, rec, None)]
    cols = [c[0] for c in frame_cols]
    df = pd.DataFrame({"rq": rq, "oq": oq, "revenue": rev.astype(np.float64),
                       "number_of_orders": orders.astype(np.float64),
                       "recency_days": rec.astype(np.float64)})
    print(f"rfm_data_customer: {len(d)} rows")
    run_case(lib, "rfm customers", df, ["rq"], frame_cols, cols)
    run_case(lib, "rfm customers", df, ["rq", "oq"], frame_cols, cols)


# ---- random data ----------------------------------------------------------------


def random_data(lib, rng, n, k, k2):
    pool = np.unique(np.concatenate([
        np.array([-1, 7, 1000000, np.iinfo(np.int32).min, np.iinfo(np.int32).max, 0]),
        rng.integers(np.iinfo(np.int32).min, np.iinfo(np.int32).max, size=4 * k,
                     dtype=np.int64, endpoint=True)]))
    pool = rng.permutation(pool)[:k]
    labels = pool[rng.integers(0, k, size=n)]
    labels2 = None
    if k2:
        pool2 = rng.permutation(np.arange(-k2, 3 * k2))[:k2]
        labels2 = pool2[rng.integers(0, k2, size=n)]
    # d: normal-ish, NaN 10%, validity bit cleared 5%, no present value for one label
    d = rng.normal(40.0, 90.0, size=n)
    d[rng.random(n) < 0.10] = np.nan
    d_ok = rng.random(n) >= 0.05
    if k > 2:
        d[labels == pool[1]] = np.nan
    i64 = rng.integers(-10**9, 10**9, size=n, endpoint=True)
    i64_ok = rng.random(n) >= 0.10
    i32 = rng.integers(0, 50, size=n).astype(np.int32)  # heavy ties
    i32_ok = rng.random(n) >= 0.05
    big = 1e9 + rng.integers(0, 100000, size=n) / 100.0
    ties = np.round(rng.exponential(20.0, size=n) * 2) / 2  # steps of 0.5
    frame_cols = [("d", T_DOUBLE, d, d_ok), ("i64", T_INT64, i64, i64_ok),
                  ("i32", T_INT32, i32, i32_ok), ("big", T_DOUBLE, big, None),
                  ("ties", T_DOUBLE, ties, None)]
    cols = [c[0] for c in frame_cols]
    df = pd.DataFrame({"k1": labels, "d": np.where(d_ok, d, np.nan),
                       "i64": np.where(i64_ok, i64.astype(np.float64), np.nan),
                       "i32": np.where(i32_ok, i32.astype(np.float64), np.nan),
                       "big": big, "ties": ties})
    keys = ["k1"]
    if labels2 is not None:
        df["k2"] = labels2
        keys.append("k2")
    return df, keys, frame_cols, cols


def synthetic(lib, seed):
    rng = np.random.default_rng(seed)
    for n, k, k2 in ((1000, 1, 0), (3000, 2, 0), (40000, 17, 0), (40000, 300, 0),
                     (100000, 5000, 0), (40000, 17, 3), (60000, 300, 50), (50000, 5000, 3),
                     (20000, 1, 7)):
        df, keys, frame_cols, cols = random_data(lib, rng, n, k, k2)
        run_case(lib, f"random n={n} k={k} k2={k2}", df, keys, frame_cols, cols)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    lib_path, data_dir = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20240705
    if not os.path.isdir(data_dir):
        print(f"SKIP: no data directory {data_dir}")
        return 77
    lib = Lib(os.path.abspath(lib_path))
    t0 = time.time()
    steps = [("online retail", lambda: online_retail(lib, data_dir)),
             ("cdnow", lambda: cdnow(lib, data_dir)),
             ("rfm customers", lambda: rfm_customers(lib, data_dir)),
             ("random", lambda: synthetic(lib, seed))]
    for name, step in steps:
        try:
            step()
        except Exception as e:  # a crash in one data set still reports the rest
            check(False, f"{name}: {type(e).__name__}: {e}")
    print("largest relative differences from pandas: " +
          ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    print(f"{checks} checks, {len(failures)} failed ({time.time() - t0:.1f} s)")
    show = int(os.environ.get("ORACLE_SHOW", "15"))
    for msg in failures[:show]:
        print("MISMATCH:", msg)
    if len(failures) > show:
        print(f"... and {len(failures) - show} more")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
