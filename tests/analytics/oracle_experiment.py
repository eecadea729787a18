#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Cross-checks libsegment's A/B experiment functions (experiment.h)
against numpy / scipy.

usage: oracle_experiment.py LIBSEGMENT_SO [SHARED_DATA_DIR]

Assignment (1,000,000 ids "C0000000".."C0999999", plus the 39,999 real
customer ids of rfm_data_customer.csv when SHARED_DATA_DIR has it):
  * the documented hash (FNV-1a-64 of salt, 0x00, id; SplitMix64
    finaliser) reimplemented in plain Python for a few hundred random byte
    strings and vectorised in numpy for all ids; the arm of every id
    (cumulative normalised weights, global holdout with the salt
    "libsegment-global-holdout") must equal the library's exactly;
  * arm counts: chi-square goodness of fit against the weights for six
    weight vectors (zero weights included) and three salts, p > 0.001;
    holdout share: two-sided binomial test, p > 0.001; the same holdout
    set for every salt;
  * independence: chi-square test of the two-way table of two salts'
    arms (scipy.stats.chi2_contingency), p > 0.001;
  * stratified assignment: exact balance (each stratum's arm sizes are
    round(m C_a) - round(m C_{a-1}), within 1 of m w_a) and the exact
    arms of a numpy model (order by stratum, u, id bytes).
Statistics on fixed inputs, relative error <= 1e-9:
  * seg_ab_proportions against formulas re-derived in numpy with
    scipy.stats.norm, the p-value also against Pearson's chi-square
    without continuity correction (chi2_contingency, equal to z^2);
  * seg_ab_means against scipy.stats.ttest_ind(equal_var=False) (t, p),
    the Welch-Satterthwaite df in numpy, the interval from
    scipy.stats.t.ppf polished by a Newton step on scipy.stats.t.sf
    (see t_quantile); NaN values skipped;
  * seg_ab_sample_size against ceil of the closed form with
    scipy.stats.norm.ppf; seg_ab_mde against scipy.optimize.brentq on
    the same closed form, and the round trip mde -> sample size -> n.

Exits 1 on any mismatch (listing them), 77 if numpy/scipy are missing.
Run it with /usr/bin/python3 (Debian's python3-numpy, python3-scipy).
"""

import ctypes as C
import math
import os
import random
import sys
import time

try:
    import numpy as np
    from scipy import optimize, stats
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e}")
    sys.exit(77)

SEG_OK = 0
SEG_ARM_HOLDOUT = -1
HOLDOUT_SALT = b"libsegment-global-holdout"
P_MIN = 0.001
REL = 1e-9

if len(sys.argv) < 2:
    print(__doc__)
    sys.exit(2)
lib = C.CDLL(sys.argv[1])
DATA_DIR = sys.argv[2] if len(sys.argv) > 2 else None

i32, i64, sz, dbl, u64 = C.c_int32, C.c_int64, C.c_size_t, C.c_double, C.c_uint64
vp, cp = C.c_void_p, C.c_char_p
PD, PI32, PI64 = C.POINTER(dbl), C.POINTER(i32), C.POINTER(i64)


def fn(name, res, *args):
    f = getattr(lib, name)
    f.restype = res
    f.argtypes = list(args)
    return f


ab_hash = fn("seg_ab_hash", u64, cp, sz, cp, sz)
ab_assign = fn("seg_ab_assign", i32, vp, sz, cp, PD, i32, dbl, PI32, cp, sz)
ab_strat = fn("seg_ab_assign_stratified", i32, vp, PI32, sz, cp, PD, i32, dbl, vp, PI32, cp, sz)
ab_props = fn("seg_ab_proportions", i32, i64, i64, i64, i64, dbl, PD, cp, sz)
ab_means = fn("seg_ab_means", i32, PD, sz, PD, sz, dbl, PD, cp, sz)
ab_ss = fn("seg_ab_sample_size", i32, dbl, dbl, dbl, dbl, PI64)
ab_mde = fn("seg_ab_mde", i32, dbl, i64, dbl, dbl, PD)

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def rel_ok(got, want, tol=REL, scale=0.0):
    """|got - want| <= tol * max(|want|, scale); NaN matches NaN."""
    if math.isnan(want):
        return math.isnan(got)
    return abs(got - want) <= tol * max(abs(want), scale, 1e-300)


# ---- ids as a C array of pointers into one buffer ----------------------------------------


class Ids:
    """n NUL-terminated ids in one numpy buffer, with a pointer array."""

    def __init__(self, ids):
        self.list = ids
        self.n = len(ids)
        total = sum(len(s) + 1 for s in ids)
        self.buf = np.zeros(max(total, 1), dtype=np.uint8)
        offs = np.zeros(self.n, dtype=np.uint64)
        joined = b"\0".join(ids) + b"\0"
        self.buf[: len(joined)] = np.frombuffer(joined, dtype=np.uint8)
        lens = np.fromiter((len(s) + 1 for s in ids), dtype=np.uint64, count=self.n)
        offs[1:] = np.cumsum(lens)[:-1]
        self.ptrs = offs + np.uint64(self.buf.ctypes.data)
        self.p = self.ptrs.ctypes.data

    def hashes(self, salt):
        """Vectorised documented hash of every id (ids grouped by length)."""
        out = np.zeros(self.n, dtype=np.uint64)
        lens = np.fromiter((len(s) for s in self.list), dtype=np.int64, count=self.n)
        for L in np.unique(lens):
            idx = np.nonzero(lens == L)[0]
            mat = np.frombuffer(b"".join(self.list[i] for i in idx), dtype=np.uint8)
            mat = mat.reshape(len(idx), int(L)) if L > 0 else np.zeros((len(idx), 0), np.uint8)
            out[idx] = np_hash(salt, mat)
        return out


MASK = (1 << 64) - 1


def py_hash(salt, id_):
    """The header's recipe with Python integers."""
    h = 0xCBF29CE484222325
    for b in salt + b"\0" + id_:
        h ^= b
        h = (h * 0x100000001B3) & MASK
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & MASK
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & MASK
    return h ^ (h >> 31)


def np_hash(salt, mat):
    """The recipe on a (n, L) uint8 matrix of equal-length ids."""
    with np.errstate(over="ignore"):
        state = 0xCBF29CE484222325
        for b in salt + b"\0":
            state = ((state ^ b) * 0x100000001B3) & MASK
        h = np.full(mat.shape[0], state, dtype=np.uint64)
        prime = np.uint64(0x100000001B3)
        for j in range(mat.shape[1]):
            h ^= mat[:, j].astype(np.uint64)
            h *= prime
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return h


def to_u(h):
    return (h >> np.uint64(11)).astype(np.float64) * 2.0**-53


def bounds_of(w):
    """Cumulative normalised weights, summed left to right in double; the
    last positive arm's bound exactly 1."""
    s = 0.0
    cum = []
    for x in w:
        s += x
        cum.append(s)
    last = max(i for i, x in enumerate(w) if x > 0)
    return np.array([1.0 if a >= last else cum[a] / s for a in range(len(w))])


def model_arms(u, uh, w, q):
    arms = np.searchsorted(bounds_of(w), u, side="right").astype(np.int32)
    if q > 0:
        arms[uh < q] = SEG_ARM_HOLDOUT
    return arms


def lib_assign(ids, salt, w, q):
    out = np.full(ids.n, 12345, dtype=np.int32)
    wa = (dbl * len(w))(*w)
    err = C.create_string_buffer(256)
    rc = ab_assign(ids.p, ids.n, salt, wa, len(w), q, out.ctypes.data_as(PI32), err, 256)
    if rc != SEG_OK:
        raise RuntimeError(f"seg_ab_assign: {rc} {err.value!r}")
    return out


def lib_strat(ids, strata, salt, w, q):
    out = np.full(ids.n, 12345, dtype=np.int32)
    wa = (dbl * len(w))(*w)
    err = C.create_string_buffer(256)
    st = np.ascontiguousarray(strata, dtype=np.int32)
    rc = ab_strat(ids.p, st.ctypes.data_as(PI32), ids.n, salt, wa, len(w), q, None,
                  out.ctypes.data_as(PI32), err, 256)
    if rc != SEG_OK:
        raise RuntimeError(f"seg_ab_assign_stratified: {rc} {err.value!r}")
    return out


# ---- 1. the hash ---------------------------------------------------------------------------


def check_hash():
    rnd = random.Random(5)
    for _ in range(300):
        salt = bytes(rnd.randrange(256) for _ in range(rnd.randrange(30)))
        id_ = bytes(rnd.randrange(256) for _ in range(rnd.randrange(30)))
        got = ab_hash(salt, len(salt), id_, len(id_))
        want = py_hash(salt, id_)
        check(got == want, f"hash({salt!r}, {id_!r}) = {got:016x}, want {want:016x}")
    # numpy model == Python model
    ids = [b"C%07d" % i for i in range(1000)]
    h = np_hash(b"spring-2024", np.frombuffer(b"".join(ids), np.uint8).reshape(1000, 8))
    for i in range(0, 1000, 37):
        check(int(h[i]) == py_hash(b"spring-2024", ids[i]), f"numpy hash model differs at {i}")


# ---- 2. assignment on 1e6 ids ---------------------------------------------------------------

WEIGHTS = [
    [0.5, 0.5],
    [0.1, 0.9],
    [1, 2, 3, 4],
    [0.2, 0.0, 0.5, 0.3],
    [1] * 10,
    [0.0, 0.01, 0.99, 0.0],
]
SALTS = [b"spring-2024", b"campaign-42", "客户-实验-7".encode()]


def gof(counts, w, label):
    w = np.asarray(w, dtype=float)
    pos = w > 0
    check(np.all(counts[~pos] == 0), f"{label}: zero-weight arms got {counts[~pos]}")
    n = counts.sum()
    exp = n * w[pos] / w[pos].sum()
    if pos.sum() >= 2:
        chi2, p = stats.chisquare(counts[pos], exp)
        check(p > P_MIN, f"{label}: chi-square {chi2:.3f}, p = {p:.2e} (counts {counts[pos]})")


def check_assign(big):
    t0 = time.time()
    u_hold = to_u(big.hashes(HOLDOUT_SALT))
    hold_sets = []
    for salt in SALTS:
        u = to_u(big.hashes(salt))
        for w in WEIGHTS:
            for q in (0.0, 0.1):
                got = lib_assign(big, salt, w, q)
                want = model_arms(u, u_hold, w, q)
                bad = np.nonzero(got != want)[0]
                check(len(bad) == 0, f"assign {salt!r} {w} q={q}: {len(bad)} ids differ from "
                      f"the model, first {big.list[bad[0]] if len(bad) else ''}")
                label = f"{salt.decode()} {w} q={q}"
                kept = got[got != SEG_ARM_HOLDOUT]
                gof(np.bincount(kept, minlength=len(w)), w, label)
                if q > 0:
                    held = int((got == SEG_ARM_HOLDOUT).sum())
                    p = stats.binomtest(held, big.n, q).pvalue
                    check(p > P_MIN, f"{label}: holdout {held} of {big.n}, p = {p:.2e}")
                    if w == WEIGHTS[0]:
                        hold_sets.append(got == SEG_ARM_HOLDOUT)
    for s in hold_sets[1:]:
        check(np.array_equal(s, hold_sets[0]), "the holdout set depends on the salt")
    # independence of two salts
    for (w1, w2) in (([1, 1, 1], [0.3, 0.7]), ([0.5, 0.5], [0.5, 0.5]), ([1] * 10, [1, 2, 3, 4])):
        a = lib_assign(big, SALTS[0], w1, 0.0)
        b = lib_assign(big, SALTS[1], w2, 0.0)
        table = np.zeros((len(w1), len(w2)), dtype=np.int64)
        np.add.at(table, (a, b), 1)
        chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
        check(p > P_MIN, f"independence {w1} x {w2}: chi2 {chi2:.2f} ({dof} dof), p = {p:.2e}")
    print(f"assignment: {len(SALTS) * len(WEIGHTS) * 2} runs on {big.n} ids checked "
          f"in {time.time() - t0:.1f} s")


# ---- 3. stratified --------------------------------------------------------------------------


def model_strat(ids, strata, salt, w, q, u=None, u_hold=None):
    u = to_u(ids.hashes(salt)) if u is None else u
    u_hold = to_u(ids.hashes(HOLDOUT_SALT)) if u_hold is None else u_hold
    out = np.empty(ids.n, dtype=np.int32)
    held = (u_hold < q) if q > 0 else np.zeros(ids.n, dtype=bool)
    out[held] = SEG_ARM_HOLDOUT
    keep = np.nonzero(~held)[0]
    # order by (stratum, u, id bytes, index): ties on u broken in Python
    order = keep[np.lexsort((keep, u[keep], strata[keep]))]
    su, ss = u[order], strata[order]
    same = np.nonzero((su[1:] == su[:-1]) & (ss[1:] == ss[:-1]))[0]
    if len(same):
        lo = 0
        while lo < len(order) - 1:
            hi = lo + 1
            while hi < len(order) and su[hi] == su[lo] and ss[hi] == ss[lo]:
                hi += 1
            if hi - lo > 1:
                order[lo:hi] = sorted(order[lo:hi], key=lambda i: (ids.list[i], i))
            lo = hi
    bnd = bounds_of(w)
    starts = np.r_[0, np.nonzero(ss[1:] != ss[:-1])[0] + 1, len(order)]
    for s0, s1 in zip(starts[:-1], starts[1:]):
        m = s1 - s0
        cuts = np.where(bnd >= 1.0, m, np.floor(m * bnd + 0.5)).astype(np.int64)
        ranks = np.arange(m)
        out[order[s0:s1]] = np.searchsorted(cuts, ranks, side="right")
    return out


def check_balance(got, strata, w, label):
    w = np.asarray(w, dtype=float)
    bnd = bounds_of(list(w))
    kept = got != SEG_ARM_HOLDOUT
    labels = np.unique(strata)
    worst = 0.0
    for s in labels:
        sel = kept & (strata == s)
        m = int(sel.sum())
        cnt = np.bincount(got[sel], minlength=len(w))
        cuts = np.where(bnd >= 1.0, m, np.floor(m * bnd + 0.5)).astype(np.int64)
        exact = np.diff(np.r_[0, cuts])
        if not np.array_equal(cnt, exact):
            fail(f"{label}: stratum {s} ({m}): arm sizes {cnt}, want {exact}")
            return
        dev = np.abs(cnt - m * w / w.sum()).max() if m else 0.0
        worst = max(worst, dev)
    check(worst < 1.0, f"{label}: an arm is {worst} customers off its weight")
    return worst


def check_stratified(big, real):
    t0 = time.time()
    rng = np.random.default_rng(20240705)
    strata = rng.integers(-3, 47, size=big.n).astype(np.int32)
    strata[rng.random(big.n) < 0.001] = 2**31 - 1  # a small, huge-labelled stratum
    u = to_u(big.hashes(SALTS[0]))
    u_hold = to_u(big.hashes(HOLDOUT_SALT))
    for w in ([0.1, 0.9], [1, 1, 1], [0.2, 0.0, 0.5, 0.3]):
        for q in (0.0, 0.05):
            label = f"stratified 1e6 {w} q={q}"
            got = lib_strat(big, strata, SALTS[0], w, q)
            want = model_strat(big, strata, SALTS[0], w, q, u, u_hold)
            nbad = int((got != want).sum())
            check(nbad == 0, f"{label}: {nbad} ids differ from the model")
            check(np.array_equal(got == SEG_ARM_HOLDOUT, (u_hold < q) if q > 0 else
                                 np.zeros(big.n, bool)), f"{label}: holdout differs")
            worst = check_balance(got, strata, w, label)
            if worst is not None:
                print(f"{label}: exact, largest deviation from m*w {worst:.3f}")
    if real is not None:
        ids, strata_r = real
        for w in ([0.1, 0.9], [1, 2, 3, 4]):
            label = f"stratified rfm_data_customer {w}"
            got = lib_strat(ids, strata_r, b"real-data", w, 0.02)
            want = model_strat(ids, strata_r, b"real-data", w, 0.02)
            check(np.array_equal(got, want), f"{label}: differs from the model")
            check_balance(got, strata_r, w, label)
            # the same population in another order: the same arms
            perm = rng.permutation(ids.n)
            ids2 = Ids([ids.list[i] for i in perm])
            got2 = lib_strat(ids2, strata_r[perm], b"real-data", w, 0.02)
            check(np.array_equal(got2, got[perm]), f"{label}: depends on the input order")
            print(f"{label}: {ids.n} real ids in {len(np.unique(strata_r))} strata, exact")
    print(f"stratified: checked in {time.time() - t0:.1f} s")


def load_real():
    if not DATA_DIR:
        return None
    path = os.path.join(DATA_DIR, "rfm_data_customer.csv")
    if not os.path.exists(path):
        print(f"note: {path} missing, real-data stratification skipped")
        return None
    import csv

    ids, strata = [], []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ids.append(row["customer_id"].encode())
            strata.append(min(int(row["number_of_orders"]), 20))
    return Ids(ids), np.array(strata, dtype=np.int32)


# ---- 4. statistics ----------------------------------------------------------------------------

PROP_CASES = [
    (1000, 100, 1000, 130, 0.95),
    (5000, 250, 4800, 288, 0.90),
    (200, 37, 180, 21, 0.99),
    (123456, 7890, 120001, 8001, 0.95),
    (10, 1, 12, 7, 0.8),
    (50, 0, 60, 3, 0.95),
    (80, 4, 70, 0, 0.95),
    (1_000_000, 31_000, 1_000_000, 30_500, 0.999),
    (3, 3, 5, 4, 0.5),
]


def check_proportions():
    out = (dbl * 10)()
    err = C.create_string_buffer(256)
    worst = 0.0
    for na, ca, nb, cb, conf in PROP_CASES:
        rc = ab_props(na, ca, nb, cb, conf, out, err, 256)
        if rc != SEG_OK:
            fail(f"proportions {na, ca, nb, cb}: {rc} {err.value!r}")
            continue
        pa, pb = ca / na, cb / nb
        d = pb - pa
        z = stats.norm.isf((1 - conf) / 2)
        pool = (ca + cb) / (na + nb)
        se0 = np.sqrt(pool * (1 - pool) * (1 / na + 1 / nb))
        stat = d / se0 if se0 > 0 else 0.0
        p = 2 * stats.norm.sf(abs(stat)) if se0 > 0 else 1.0
        se1 = np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
        lift = pb / pa - 1 if pa > 0 else math.nan
        if pa > 0 and pb > 0:
            sl = np.sqrt((1 - pa) / (na * pa) + (1 - pb) / (nb * pb))
            llo = np.exp(np.log(pb / pa) - z * sl) - 1
            lhi = np.exp(np.log(pb / pa) + z * sl) - 1
        else:
            llo = lhi = math.nan
        want = [pa, pb, d, d - z * se1, d + z * se1, lift, llo, lhi, stat, p]
        names = ["rate_a", "rate_b", "diff", "diff_lo", "diff_hi", "lift", "lift_lo",
                 "lift_hi", "z", "p"]
        for k in range(10):
            # differences of rates: relative to the rates' scale
            scale = max(pa, pb) if k in (2, 3, 4) else 0.0
            if not rel_ok(out[k], float(want[k]), REL, scale):
                fail(f"proportions {na, ca, nb, cb, conf} {names[k]}: {out[k]!r}, "
                     f"want {float(want[k])!r}")
            elif not math.isnan(want[k]) and want[k] != 0:
                worst = max(worst, abs(out[k] - want[k]) / max(abs(want[k]), scale))
        # Pearson chi-square without continuity correction == z^2
        if 0 < ca + cb < na + nb:
            table = [[ca, na - ca], [cb, nb - cb]]
            chi2, pc, _, _ = stats.chi2_contingency(table, correction=False)
            check(rel_ok(out[8] ** 2, chi2, REL), f"z^2 {out[8] ** 2} != chi2 {chi2}")
            check(rel_ok(out[9], pc, REL), f"p {out[9]} != chi-square p {pc}")
    print(f"proportions: {len(PROP_CASES)} cases, worst relative error {worst:.2e}")


def t_quantile(alpha, df):
    """The upper alpha/2 quantile of Student's t: scipy.stats.t.ppf, polished
    by one Newton step on scipy.stats.t.sf. scipy 1.10's t.ppf (cephes
    stdtri) is only good to about 2e-9 for non-integer df (1.7e-9 at df
    46.43, 4.2e-10 at df 6.6, measured against mpmath), while t.sf is good
    to about 1e-14; one step brings the quantile to about 1e-15. The raw
    ppf must still agree to 1e-8."""
    q0 = stats.t.ppf(1 - alpha / 2, df)
    q = q0 + (stats.t.sf(q0, df) - alpha / 2) / stats.t.pdf(q0, df)
    check(rel_ok(q, q0, 1e-8), f"scipy t.ppf({1 - alpha / 2}, {df}) = {q0!r} far from {q!r}")
    return q


def welch_ref(a, b, conf):
    a = a[~np.isnan(a)]
    b = b[~np.isnan(b)]
    res = stats.ttest_ind(b, a, equal_var=False)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    d = b.mean() - a.mean()
    q = t_quantile(1 - conf, df)
    se = np.sqrt(va + vb)
    return [a.mean(), b.mean(), d, d - q * se, d + q * se, res.statistic, df, res.pvalue]


def check_means():
    rng = np.random.default_rng(7)
    cases = []
    for na, nb, sa, sb, shift, conf in [
        (5, 7, 1.0, 3.0, 1.0, 0.95),
        (2, 3, 0.5, 2.0, 0.3, 0.90),
        (30, 25, 10.0, 12.0, 4.0, 0.95),
        (1000, 1500, 100.0, 80.0, 5.0, 0.99),
        (20000, 30000, 1.0, 1.5, 0.01, 0.95),
        (200000, 150000, 3.0, 3.0, 0.02, 0.95),
        (12, 400, 0.1, 50.0, 2.0, 0.8),
    ]:
        a = rng.normal(100.0, sa, na)
        b = rng.normal(100.0 + shift, sb, nb)
        cases.append((a, b, conf))
    # AUM-like skewed outcomes with missing values
    a = rng.lognormal(10, 1.5, 5000)
    b = rng.lognormal(10.05, 1.5, 5200)
    a[rng.random(5000) < 0.03] = np.nan
    b[rng.random(5200) < 0.05] = np.nan
    cases.append((a, b, 0.95))
    out = (dbl * 8)()
    err = C.create_string_buffer(256)
    names = ["mean_a", "mean_b", "diff", "diff_lo", "diff_hi", "t", "df", "p"]
    worst = 0.0
    for a, b, conf in cases:
        rc = ab_means(a.ctypes.data_as(PD), len(a), b.ctypes.data_as(PD), len(b), conf, out,
                      err, 256)
        if rc != SEG_OK:
            fail(f"means {len(a)}/{len(b)}: {rc} {err.value!r}")
            continue
        want = welch_ref(a, b, conf)
        for k in range(8):
            # the interval bounds: relative to the interval's width
            scale = abs(want[4] - want[3]) if k in (2, 3, 4) else 0.0
            if not rel_ok(out[k], float(want[k]), REL, scale):
                fail(f"means {len(a)}/{len(b)} conf {conf} {names[k]}: {out[k]!r}, "
                     f"want {float(want[k])!r} (rel {abs(out[k] - want[k]) / abs(want[k]):.2e})")
            elif want[k] != 0:
                worst = max(worst, abs(out[k] - want[k]) / max(abs(want[k]), scale))
    print(f"means: {len(cases)} cases (n up to 200000), worst relative error {worst:.2e}")


def formula_n(p1, d, alpha, power):
    p2 = p1 + d
    p = (p1 + p2) / 2
    za = stats.norm.ppf(1 - alpha / 2)
    zb = stats.norm.ppf(power)
    s = za * math.sqrt(2 * p * (1 - p)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return s * s / (d * d)


def check_planning():
    n_out = i64()
    d_out = dbl()
    count = 0
    for p1 in (0.001, 0.01, 0.05, 0.1, 0.3, 0.5, 0.77, 0.95):
        for rel_lift in (-0.5, -0.1, 0.02, 0.1, 0.3, 1.0):
            d = p1 * rel_lift
            if not (0 < p1 + d < 1):
                continue
            for alpha in (0.01, 0.05, 0.1):
                for power in (0.5, 0.8, 0.9, 0.99):
                    rc = ab_ss(p1, d, alpha, power, C.byref(n_out))
                    x = formula_n(p1, d, alpha, power)
                    if x > 2.0**62:
                        check(rc == -4, f"sample size {p1, d}: {rc}, want SEG_ERANGE")
                        continue
                    count += 1
                    want = max(math.ceil(x), 1)
                    near = abs(x - round(x)) < 1e-9 * x
                    ok = rc == SEG_OK and (n_out.value == want or
                                           (near and abs(n_out.value - want) <= 1))
                    check(ok, f"sample size {p1, d, alpha, power}: {rc} {n_out.value}, "
                          f"want {want} ({x!r})")
    print(f"sample size: {count} cases match ceil of the closed form")
    worst = 0.0
    count = 0
    for p1 in (0.002, 0.02, 0.1, 0.25, 0.5, 0.8, 0.97):
        for n in (20, 100, 1000, 12345, 10**6, 10**9):
            for alpha, power in ((0.05, 0.8), (0.01, 0.9), (0.1, 0.5)):
                rc = ab_mde(p1, n, alpha, power, C.byref(d_out))
                if rc != SEG_OK:
                    fail(f"mde {p1, n}: {rc}")
                    continue
                top = 1 - p1
                if formula_n(p1, top * (1 - 1e-15), alpha, power) > n:
                    check(math.isnan(d_out.value), f"mde {p1, n}: {d_out.value}, want NaN")
                    continue
                want = optimize.brentq(lambda d: formula_n(p1, d, alpha, power) - n,
                                       1e-12, top * (1 - 1e-15), xtol=1e-300, rtol=1e-15)
                count += 1
                if not rel_ok(d_out.value, want, REL):
                    fail(f"mde {p1, n, alpha, power}: {d_out.value!r}, want {want!r}")
                else:
                    worst = max(worst, abs(d_out.value - want) / want)
                rc = ab_ss(p1, d_out.value, alpha, power, C.byref(n_out))
                check(rc == SEG_OK and n_out.value == n,
                      f"round trip {p1, n, alpha, power}: mde {d_out.value!r} -> {n_out.value}")
    print(f"mde: {count} cases, worst relative error vs brentq {worst:.2e}, round trips exact")


def main():
    t0 = time.time()
    check_hash()
    big = Ids([b"C%07d" % i for i in range(1_000_000)])
    check_assign(big)
    check_stratified(big, load_real())
    check_proportions()
    check_means()
    check_planning()
    print(f"total {time.time() - t0:.1f} s")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
