#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks examples/campaign against an independent computation in Python.

    check_campaign.py CAMPAIGN CUSTOMERS.csv OUTCOMES.csv

CUSTOMERS.csv and OUTCOMES.csv are the sample (examples/data/campaign_*.csv).
Every number the program prints is recomputed here and compared within half
a unit of the last digit printed:

1. The hash of include/segment/experiment.h (FNV-1a-64 + the SplitMix64
   finaliser), re-implemented here and anchored to published test vectors;
   from it the plain, stratified and holdout assignments, compared with the
   program's assignment for EVERY customer (--out file and stdout section).
2. Properties of the assignment: plain arms do not depend on the population
   (a subset in another order gets the same arms), the holdout is the same
   set for every salt, two salts are independent (chi-square), arm shares
   match the weights (binomial test), stratified arms are exact per stratum
   with C's round() (halves away from zero: worked out by hand on strata of
   15 and 25 customers), numeric strata group by value.
3. The evaluation of the sample campaign: per arm counts, conversions, rates
   and value means (pandas), the z-test (formulas with scipy.stats.norm, and
   the p-value also from scipy's chi-square test without continuity
   correction), Welch's t-test (scipy.stats.ttest_ind), the minimum
   detectable effect (the header's formula solved with scipy's brentq) and
   the sample size for the observed lift. A case worked out by hand (10% vs
   20% of 100: z = 1.980, 199 customers per arm, Welch t = 7.036 on 198 df).
4. Cluster mode: the labels (--out and stdout section) against the report:
   sizes, centroids (the inverse transform of the transformed members' mean,
   with each transform re-fitted here), the inertia, every customer nearest
   to its own centre, the order by the first feature's centroid, and the
   profiles against pandas groupby (count, share, mean, median, missing);
   the same output for 1 and 2 threads and for two runs; a case by hand.
5. Errors: every bad option (exit 2) and bad input (exit 1, FILE:LINE).
Needs numpy, pandas and scipy (exit 77, a skip, without them).
"""
import csv
import io
import math
import os
import re
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import pandas as pd
    from scipy import optimize, stats
except ImportError as e:  # pragma: no cover
    print("skipped: needs numpy, pandas and scipy (%s)" % e)
    sys.exit(77)

failures = []
PROG = "campaign"
HOLDOUT_SALT = b"libsegment-global-holdout"
MASK = (1 << 64) - 1


def expect(cond, what, detail=""):
    if cond:
        print("ok   " + what)
    else:
        print("FAIL " + what + ("\n     " + str(detail).replace("\n", "\n     ") if detail else ""))
        failures.append(what)


def run(exe, *args):
    p = subprocess.run([exe] + [str(a) for a in args], capture_output=True, text=True,
                       encoding="utf-8", errors="replace")
    return p.returncode, p.stdout, p.stderr


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="") as fp:
        fp.write(text)


# --------------------------------------------------------------------------
# The hash (experiment.h), independently.

def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & MASK
    return h


def splitmix_final(h):
    h ^= h >> 30
    h = (h * 0xbf58476d1ce4e5b9) & MASK
    h ^= h >> 27
    h = (h * 0x94d049bb133111eb) & MASK
    return h ^ (h >> 31)


def unit(salt, cid):
    """u in [0, 1) for (salt, id), both bytes."""
    h = splitmix_final(fnv1a64(salt + b"\x00" + cid))
    return (h >> 11) * 2.0 ** -53


def check_hash_vectors():
    # Published FNV-1a 64-bit test vectors, and the first output of SplitMix64
    # seeded with 0 (the finaliser applied to the golden gamma).
    expect(fnv1a64(b"") == 0xcbf29ce484222325 and fnv1a64(b"a") == 0xaf63dc4c8601ec8c and
           fnv1a64(b"foobar") == 0x85944171f73967e8, "oracle: FNV-1a-64 test vectors")
    expect(splitmix_final(0x9e3779b97f4a7c15) == 0xe220a8397b1dcdaf,
           "oracle: SplitMix64 finaliser (first output for seed 0)")


def c_round(x):
    return math.floor(x + 0.5)  # C round() for x >= 0


def plain_arms(ids, salt, control, holdout):
    w0 = control / (control + (1.0 - control))
    out = []
    for cid in ids:
        b = cid.encode("utf-8")
        if holdout > 0 and unit(HOLDOUT_SALT, b) < holdout:
            out.append("holdout")
        else:
            out.append("control" if unit(salt.encode("utf-8"), b) < w0 else "treatment")
    return out


NUMBER = re.compile(r"^[ \t]*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[ \t]*$")


def strata_keys(values):
    """The program's strata: numbers group by value when every non-blank field
    is a number, else by exact text; blank fields form one stratum."""
    numeric = all(v.strip(" \t") == "" or NUMBER.match(v) for v in values)
    keys = []
    for v in values:
        if v.strip(" \t") == "":
            keys.append(None)
        else:
            keys.append(float(v) if numeric else v)
    return keys, numeric


def stratified_arms(ids, keys, salt, control, holdout):
    w0 = control / (control + (1.0 - control))
    arms = [None] * len(ids)
    groups = {}
    for i, cid in enumerate(ids):
        b = cid.encode("utf-8")
        if holdout > 0 and unit(HOLDOUT_SALT, b) < holdout:
            arms[i] = "holdout"
        else:
            groups.setdefault(keys[i], []).append(i)
    for members in groups.values():
        members.sort(key=lambda i: unit(salt.encode("utf-8"), ids[i].encode("utf-8")))
        n_control = c_round(len(members) * w0)
        for pos, i in enumerate(members):
            arms[i] = "control" if pos < n_control else "treatment"
    return arms


def strata_order(values):
    """Display text of the strata in the program's order: by value (numbers)
    or bytes (text), the blank stratum last as '(empty)'."""
    keys, numeric = strata_keys(values)
    first = {}
    for v, k in zip(values, keys):
        first.setdefault(k, v)
    present = [k for k in first if k is not None]
    present.sort(key=(lambda k: k) if numeric else (lambda k: k.encode("utf-8")))
    order = [(k, first[k]) for k in present]
    if None in first:
        order.append((None, "(empty)"))
    return order


# --------------------------------------------------------------------------
# Reading the report.

def read_csv_text(text):
    return list(csv.reader(io.StringIO(text)))


def read_customers(path):
    with open(path, encoding="utf-8-sig", newline="") as fp:
        rows = list(csv.reader(fp))
    return rows[0], rows[1:]


def section(out, title):
    """Lines after the line starting with `title`, up to a blank line."""
    lines = out.split("\n")
    for i, l in enumerate(lines):
        if l.startswith(title):
            body = []
            for m in lines[i + 1:]:
                if m == "":
                    break
                body.append(m)
            return l, body
    return None, []


def table(body):
    return [re.split(r" {2,}", l.strip()) for l in body]


def tail_csv(out, title):
    """The CSV written after the last `title:` line on stdout."""
    i = out.rfind("\n" + title + ":\n")
    if i < 0:
        return None
    return read_csv_text(out[i + len(title) + 3:])


def tolerance(text):
    """Half a unit of the last digit of a printed number."""
    t = text.strip()
    m = re.fullmatch(r"[+-]?\d+(?:\.(\d*))?(?:e([+-]?\d+))?", t)
    if m is None:
        raise ValueError("not a number: %r" % text)
    return 0.5 * 10.0 ** (int(m.group(2) or 0) - len(m.group(1) or ""))


def num_ok(text, expected):
    """Whether `text` (a printed number, maybe with % or pp) is `expected`
    rounded; NaN expects '-'."""
    t = text.strip().replace(" pp", "").rstrip("%")
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return t == "-"
    try:
        v = float(t)
        tol = tolerance(t)
    except ValueError:
        return False
    return abs(v - expected) <= tol * 1.0001 + 1e-9 * abs(expected)


def nums_ok(cells, expected):
    return len(cells) == len(expected) and all(num_ok(c, e) for c, e in zip(cells, expected))


# --------------------------------------------------------------------------
# Statistics, independently (experiment.h "Evaluation").

Z975 = stats.norm.ppf(0.975)
Z_ALPHA = stats.norm.ppf(1 - 0.05 / 2)
Z_POWER = stats.norm.ppf(0.80)


def proportions(na, ca, nb, cb):
    pa, pb = ca / na, cb / nb
    diff = pb - pa
    se_u = math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    p = (ca + cb) / (na + nb)
    se_p = math.sqrt(p * (1 - p) * (1 / na + 1 / nb))
    z = diff / se_p if se_p > 0 else 0.0
    pval = 2 * stats.norm.sf(abs(z)) if se_p > 0 else 1.0
    lift = pb / pa - 1 if pa > 0 else math.nan
    if pa > 0 and pb > 0:
        se_log = math.sqrt((1 - pa) / (na * pa) + (1 - pb) / (nb * pb))
        lo = math.exp(math.log(pb / pa) - Z975 * se_log) - 1
        hi = math.exp(math.log(pb / pa) + Z975 * se_log) - 1
    else:
        lo = hi = math.nan
    return dict(pa=pa, pb=pb, diff=diff, lo=diff - Z975 * se_u, hi=diff + Z975 * se_u,
                lift=lift, lift_lo=lo, lift_hi=hi, z=z, p=pval)


def welch(a, b):
    a = np.asarray([x for x in a if not math.isnan(x)])
    b = np.asarray([x for x in b if not math.isnan(x)])
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    t, p = stats.ttest_ind(b, a, equal_var=False)
    diff = b.mean() - a.mean()
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    return dict(diff=diff, lo=diff - half, hi=diff + half, t=t, df=df, p=p)


def n_needed(p1, mde):
    p2 = p1 + mde
    pbar = (p1 + p2) / 2
    return ((Z_ALPHA * math.sqrt(2 * pbar * (1 - pbar)) +
             Z_POWER * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / mde ** 2)


def mde_for(p1, n):
    hi = 1 - p1 - 1e-15
    if n_needed(p1, hi) > n:
        return math.nan
    return optimize.brentq(lambda m: n_needed(p1, m) - n, 1e-12, hi, xtol=1e-14)


# --------------------------------------------------------------------------
# 1-3. Experiments.

def check_report_header(out, path, n, salt, control, treatment, holdout, strata):
    lines = out.split("\n")
    want = ["Customers: %s: %d customers" % (path, n),
            "Experiment: salt '%s'; control %s%%, treatment %s%%; global holdout %s%%%s"
            % (salt, control, treatment, holdout,
               "; stratified by '%s'" % strata if strata else "")]
    return lines[:2] == want, lines[:2], want


def check_arm_table(out, arms, show_holdout, what):
    title, body = section(out, "Arm sizes:")
    t = table(body)
    n = len(arms)
    names = ["control", "treatment"] + (["holdout"] if show_holdout else [])
    ok = title is not None and t[0] == ["Arm", "Customers", "Share"] and len(t) == len(names) + 2
    if ok:
        for row, name in zip(t[1:], names):
            c = arms.count(name)
            ok = ok and row[0] == name and row[1] == str(c) and num_ok(row[2], 100.0 * c / n)
        ok = ok and t[-1] == ["Total", str(n), "100.00%"]
    expect(ok, "%s: arm sizes table" % what, "\n".join(body))


def check_strata_table(out, arms, values, column, what):
    order = strata_order(values)
    keys, _ = strata_keys(values)
    title, body = section(out, "Arm sizes by stratum")
    t = table(body)
    ok = (title == "Arm sizes by stratum (column '%s', %d strata; control share among the "
          "customers outside the holdout):" % (column, len(order)) and
          t[0] == ["Stratum", "Customers", "control", "treatment", "holdout", "Control share"]
          and len(t) == len(order) + 1)
    for row, (key, text) in zip(t[1:], order):
        members = [a for a, k in zip(arms, keys) if k == key]
        c, tr, h = (members.count(x) for x in ("control", "treatment", "holdout"))
        ok = ok and row[:5] == [text, str(len(members)), str(c), str(tr), str(h)]
        ok = ok and (num_ok(row[5], 100.0 * c / (c + tr)) if c + tr else row[5] == "-")
    expect(ok, "%s: arm sizes by stratum (%d strata)" % (what, len(order)),
           "%s\n%s\nwant order %r" % (title, "\n".join(body), order))


def check_evaluation(out, ids, arms, outcomes_path, what):
    out_df = pd.read_csv(outcomes_path, dtype={"customer_id": str}, keep_default_na=False,
                         na_values={"spend_30d": [""]})
    value_name = [c for c in out_df.columns if c not in ("customer_id", "converted")]
    value_name = value_name[0] if value_name else None
    df = pd.DataFrame({"customer_id": ids, "arm": arms})
    m = df.merge(out_df, on="customer_id", how="left", validate="one_to_one")
    absent = int(m["converted"].isna().sum())
    m["converted"] = m["converted"].fillna(0).astype(int)
    if value_name is None:
        m["v"] = math.nan
    else:
        m["v"] = m[value_name].astype(float)

    title, body = section(out, "Evaluation:")
    expect(title == "Evaluation: %d outcome rows; %d customers without a row (not converted%s)"
           % (len(out_df), absent, ", no value" if value_name else ""),
           "%s: evaluation title (rows, customers without a row)" % what, title)
    t = table(body)
    header = ["Arm", "Customers", "Converted", "Rate"]
    if value_name:
        header += ["Values", "Mean " + value_name]
    names = ["control", "treatment"] + (["holdout"] if (m["arm"] == "holdout").any() else [])
    ok = t[0] == header and len(t) == len(names) + 1
    for row, name in zip(t[1:], names):
        g = m[m["arm"] == name]
        exp = [len(g), int(g["converted"].sum()), 100.0 * g["converted"].mean()]
        ok = ok and row[0] == name and nums_ok(row[1:4], exp)
        if value_name:
            v = g["v"].dropna()
            ok = ok and nums_ok(row[4:6], [len(v), v.mean() if len(v) else math.nan])
    expect(ok, "%s: per arm customers, conversions, rates, value means (pandas)" % what,
           "\n".join(body))

    a = m[m["arm"] == "control"]
    b = m[m["arm"] == "treatment"]
    na, ca, nb, cb = len(a), int(a["converted"].sum()), len(b), int(b["converted"].sum())
    pr = proportions(na, ca, nb, cb)
    # the p-value once more, from scipy's chi-square test of the 2x2 table
    chi = stats.chi2_contingency([[ca, na - ca], [cb, nb - cb]], correction=False)
    expect(abs(chi[1] - pr["p"]) <= 1e-9 * max(1.0, pr["p"]),
           "%s: oracle z-test p-value = scipy chi-square p-value" % what)
    title, body = section(out, "Conversion, treatment vs control")
    ok = title == "Conversion, treatment vs control (two-proportion z-test, pooled; 95% CI):"
    mt = re.fullmatch(r"  Absolute lift: (\S+ pp) \(95% CI (\S+ pp) to (\S+ pp)\)",
                      body[0] if body else "")
    ok = ok and mt is not None and nums_ok(mt.groups(), [100 * pr["diff"], 100 * pr["lo"],
                                                         100 * pr["hi"]])
    mt = re.fullmatch(r"  Relative lift: (\S+) \(95% CI (\S+) to (\S+)\)",
                      body[1] if len(body) > 1 else "")
    ok = ok and mt is not None and nums_ok(mt.groups(), [100 * pr["lift"], 100 * pr["lift_lo"],
                                                         100 * pr["lift_hi"]])
    mt = re.fullmatch(r"  z = (\S+), p = (\S+)", body[2] if len(body) > 2 else "")
    ok = ok and mt is not None and nums_ok(mt.groups(), [pr["z"], pr["p"]]) and len(body) == 3
    expect(ok, "%s: lift, CIs, z and p against the formulas (scipy.stats.norm)" % what,
           "%s\n%s\nwant %r" % (title, "\n".join(body), pr))

    if value_name:
        w = welch(a["v"].tolist(), b["v"].tolist())
        title, body = section(out, "Value '%s'" % value_name)
        ok = title == "Value '%s', treatment vs control (Welch's t-test; 95%% CI):" % value_name
        mt = re.fullmatch(r"  Difference in means: (\S+) \(95% CI (\S+) to (\S+)\)",
                          body[0] if body else "")
        ok = ok and mt is not None and nums_ok(mt.groups(), [w["diff"], w["lo"], w["hi"]])
        mt = re.fullmatch(r"  t = (\S+), df = (\S+), p = (\S+)", body[1] if len(body) > 1 else "")
        ok = ok and mt is not None and nums_ok(mt.groups(), [w["t"], w["df"], w["p"]])
        expect(ok, "%s: Welch's t-test (scipy.stats.ttest_ind)" % what,
               "%s\n%s\nwant %r" % (title, "\n".join(body), w))

    per_arm = (2 * na * nb) // (na + nb)
    title, body = section(out, "Minimum detectable effect")
    ok = title == ("Minimum detectable effect (alpha 0.05 two-sided, power 80%%), base rate "
                   "%.2f%% (control), %d customers per arm (harmonic mean of %d and %d):"
                   % (100 * pr["pa"], per_arm, na, nb))
    mde = mde_for(pr["pa"], per_arm)
    mt = re.fullmatch(r"  MDE: (\S+ pp) \(relative (\S+)\)", body[0] if body else "")
    ok = ok and mt is not None and nums_ok(mt.groups(), [100 * mde, 100 * mde / pr["pa"]])
    need = n_needed(pr["pa"], pr["diff"])
    mt = re.fullmatch(r"  Customers per arm to detect the observed lift \((\S+ pp)\): (\d+)",
                      body[1] if len(body) > 1 else "")
    ok = ok and mt is not None and num_ok(mt.group(1), 100 * pr["diff"])
    if mt is not None:
        got = int(mt.group(2))
        ok = ok and (got == math.ceil(need) or
                     (abs(need - round(need)) < 1e-6 and abs(got - need) <= 1))
    expect(ok, "%s: MDE (brentq on the formula) and customers needed for the observed lift"
           % what, "%s\n%s\nwant mde %r, n %r" % (title, "\n".join(body), mde, need))
    return pr


def check_sample_experiment(exe, customers, outcomes, tmp):
    header, rows = read_customers(customers)
    ids = [r[header.index("customer_id")] for r in rows]
    tiers = [r[header.index("tier")] for r in rows]
    n = len(ids)

    # The documented run (examples/data/README.md): stratified by tier.
    out_path = os.path.join(tmp, "assign.csv")
    rc, out, err = run(exe, "--salt", "spring-2024", "--control", "0.2", "--holdout", "0.05",
                       "--strata", "tier", "--outcomes", outcomes, "--out", out_path, customers)
    expect(rc == 0 and err == "", "documented run: exit 0, nothing on stderr", err)
    ok, got, want = check_report_header(out, customers, n, "spring-2024", "20", "80", "5", "tier")
    expect(ok, "documented run: header lines", "%r\n%r" % (got, want))
    keys, numeric = strata_keys(tiers)
    expect(not numeric, "sample: tier is a text column")
    arms = stratified_arms(ids, keys, "spring-2024", 0.2, 0.05)
    with open(out_path, encoding="utf-8", newline="") as fp:
        written = list(csv.reader(fp))
    expect(written == [["customer_id", "arm"]] + [[i, a] for i, a in zip(ids, arms)],
           "documented run: --out has every customer's arm, in input order, as the "
           "re-implemented stratified assignment gives it",
           "first differences: %r" % [(w, [i, a]) for w, i, a in zip(written[1:], ids, arms)
                                      if w != [i, a]][:5])
    expect(out.endswith("\nWrote %d rows to %s\n" % (n, out_path)) and "\nAssignment:" not in out,
           "documented run: 'Wrote N rows' and no Assignment section with --out")
    check_arm_table(out, arms, True, "documented run")
    check_strata_table(out, arms, tiers, "tier", "documented run")
    pr = check_evaluation(out, ids, arms, outcomes, "documented run")
    expect(pr["p"] < 0.05 and pr["diff"] > 0,
           "sample: the campaign has a real, significant effect under the documented salt",
           pr)

    # The same without --out: the assignment is the final stdout section.
    rc2, out2, err2 = run(exe, "--salt", "spring-2024", "--control", "0.2", "--holdout", "0.05",
                          "--strata", "tier", "--outcomes", outcomes, customers)
    sect = tail_csv(out2, "Assignment")
    expect(rc2 == 0 and sect == written and out2.split("\nAssignment:\n")[0] ==
           out.split("\nWrote ")[0],
           "documented run without --out: same report, the assignment on stdout")

    # Another salt: arms unrelated to the outcomes (no effect expected; just
    # every number checked again, on different arms).
    rc, out, err = run(exe, "--salt", "other-salt", "--control", "0.2", "--holdout", "0.05",
                       "--strata", "tier", "--outcomes", outcomes, customers)
    arms_other = stratified_arms(ids, keys, "other-salt", 0.2, 0.05)
    expect(rc == 0 and tail_csv(out, "Assignment") ==
           [["customer_id", "arm"]] + [[i, a] for i, a in zip(ids, arms_other)],
           "salt other-salt: stratified assignment of every customer")
    check_evaluation(out, ids, arms_other, outcomes, "salt other-salt")

    # Plain assignment, a 10% control (the default), no holdout.
    rc, out, err = run(exe, "--salt", "autumn", customers)
    arms_plain = plain_arms(ids, "autumn", 0.1, 0.0)
    ok, got, want = check_report_header(out, customers, n, "autumn", "10", "90", "0", None)
    expect(rc == 0 and ok, "plain run: header lines", "%r\n%r" % (got, want))
    sect = tail_csv(out, "Assignment")
    expect(sect == [["customer_id", "arm"]] + [[i, a] for i, a in zip(ids, arms_plain)],
           "plain run: every customer's arm = hash interval (no holdout, 10% control)")
    check_arm_table(out, arms_plain, False, "plain run")
    expect(section(out, "Arm sizes by stratum")[0] is None and "Evaluation" not in out,
           "plain run: no strata table, no evaluation")
    c = arms_plain.count("control")
    expect(stats.binomtest(c, n, 0.1).pvalue > 0.001,
           "plain run: control share consistent with 10%% (%d of %d, binomial test)" % (c, n))

    # Plain arms do not depend on the population: a subset, reversed.
    sub = os.path.join(tmp, "subset.csv")
    subrows = rows[::-3]
    write(sub, ",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in subrows))
    rc, out, err = run(exe, "--salt", "autumn", "--holdout", "0.1", sub)
    full = dict(zip(ids, plain_arms(ids, "autumn", 0.1, 0.1)))
    sect = tail_csv(out, "Assignment")
    expect(rc == 0 and sect is not None and
           sect[1:] == [[r[0], full[r[0]]] for r in subrows],
           "plain arms do not depend on the population (every 3rd customer, reversed)")

    # The global holdout is the same set of customers for every salt.
    hold = {}
    for salt in ("alpha", "beta"):
        rc, out, err = run(exe, "--salt", salt, "--holdout", "0.1", "--control", "0.5", customers)
        sect = tail_csv(out, "Assignment") or [[]]
        hold[salt] = {r[0] for r in sect[1:] if r[1] == "holdout"}
        want = {i for i, a in zip(ids, plain_arms(ids, salt, 0.5, 0.1)) if a == "holdout"}
        expect(rc == 0 and hold[salt] == want and sect[1:] ==
               [[i, a] for i, a in zip(ids, plain_arms(ids, salt, 0.5, 0.1))],
               "salt %s with a 10%% holdout: every arm" % salt)
        if salt == "alpha":
            arms_alpha = [r[1] for r in sect[1:]]
        else:
            arms_beta = [r[1] for r in sect[1:]]
    expect(hold["alpha"] == hold["beta"] and 0.07 * n < len(hold["alpha"]) < 0.13 * n,
           "the holdout is the same %d customers for two salts" % len(hold["alpha"]))
    # Two salts are independent: control/treatment of alpha x beta.
    tab = np.zeros((2, 2))
    for x, y in zip(arms_alpha, arms_beta):
        if x != "holdout":
            tab[int(x == "control"), int(y == "control")] += 1
    pval = stats.chi2_contingency(tab, correction=False)[1]
    expect(pval > 0.001, "salts alpha and beta are independent (chi-square p = %.3g)" % pval, tab)

    # Stratified by segment, a second text column; every stratum exact.
    segs = [r[header.index("segment")] for r in rows]
    rc, out, err = run(exe, "--salt", "winter", "--control", "0.3", "--strata", "segment",
                       customers)
    skeys, _ = strata_keys(segs)
    arms_seg = stratified_arms(ids, skeys, "winter", 0.3, 0.0)
    expect(rc == 0 and tail_csv(out, "Assignment") ==
           [["customer_id", "arm"]] + [[i, a] for i, a in zip(ids, arms_seg)],
           "stratified by segment: every customer's arm")
    check_strata_table(out, arms_seg, segs, "segment", "stratified by segment")
    # A numeric column as strata (age): grouped by value, ordered numerically.
    ages = [r[header.index("age")] for r in rows]
    rc, out, err = run(exe, "--salt", "winter", "--control", "0.3", "--strata", "age", customers)
    akeys, numeric = strata_keys(ages)
    arms_age = stratified_arms(ids, akeys, "winter", 0.3, 0.0)
    expect(rc == 0 and numeric and tail_csv(out, "Assignment") ==
           [["customer_id", "arm"]] + [[i, a] for i, a in zip(ids, arms_age)],
           "stratified by age (numeric): every customer's arm")
    check_strata_table(out, arms_age, ages, "age", "stratified by age")


def check_hand_strata(exe, tmp):
    """Worked out by hand: strata of 25 and 15 customers with a 10% control
    get round(2.5) = 3 and round(1.5) = 2 controls (C's round(): halves away
    from zero); '1' and '1.0' are one stratum; blanks are '(empty)'; order
    numeric (2 before 10)."""
    path = os.path.join(tmp, "hand_strata.csv")
    lines = ["customer_id,grp"]
    values = []
    for i in range(25):
        values.append("1" if i % 2 else "1.0")
    for i in range(15):
        values.append("10")
    for i in range(4):
        values.append("2")
    for i in range(3):
        values.append("" if i else " ")
    ids = ["h%03d" % i for i in range(len(values))]
    lines += ["%s,%s" % (i, v) for i, v in zip(ids, values)]
    write(path, "\n".join(lines) + "\n")
    rc, out, err = run(exe, "--salt", "hand", "--strata", "grp", path)
    title, body = section(out, "Arm sizes by stratum")
    t = table(body)
    # first text of the '1' stratum is '1.0' (row 0); the blank stratum: 3 customers
    want = [["Stratum", "Customers", "control", "treatment", "holdout", "Control share"],
            ["1.0", "25", "3", "22", "0", "12.00%"],
            ["2", "4", "0", "4", "0", "0.00%"],
            ["10", "15", "2", "13", "0", "13.33%"],
            ["(empty)", "3", "0", "3", "0", "0.00%"]]
    expect(rc == 0 and t == want, "hand strata: round half away from zero, grouping by value, "
           "numeric order, blank stratum last", "%s\n%s\n%s" % (title, "\n".join(body), err))
    keys, numeric = strata_keys(values)
    arms = stratified_arms(ids, keys, "hand", 0.1, 0.0)
    expect(numeric and tail_csv(out, "Assignment") ==
           [["customer_id", "arm"]] + [[i, a] for i, a in zip(ids, arms)],
           "hand strata: which customers are control (the lowest u of each stratum)")


def check_hand_evaluation(exe, tmp):
    """200 customers in one stratum, control 0.5: 100 and 100. Control: 10
    converted, values alternating 0, 2; treatment: 20 converted, values 1, 3.
    By hand: rates 10% and 20%; lift +10 pp, Wald SE sqrt(.1*.9/100 +
    .2*.8/100) = 0.05, CI 10 -/+ 1.95996 * 5 = +0.20 .. +19.80 pp; relative
    +100%, SE of the log ratio sqrt(.9/10 + .8/20) = sqrt(.13) = 0.360555,
    CI exp(ln 2 -/+ 1.95996 * 0.360555) - 1 = -1.3% .. +305.4%; pooled p 0.15,
    SE sqrt(.15 * .85 * .02) = 0.0504975, z = 1.980, p = 0.0477. Welch: means
    1 and 2, variances 100/99, SE sqrt(2 * 1.0101 / 100) = 0.142134,
    t = 7.036, df = 198, p = 3.16e-11 (scipy), CI 1 -/+ 1.97202 * 0.142134 =
    +0.72 .. +1.28. Sample
    size for 10% -> 20%: (1.95996 * sqrt(.255) + 0.84162 * sqrt(.25))^2 / .01
    = 198.96 -> 199 per arm. MDE with 100 per arm: 14.96 pp (p2 = .2496,
    pbar = .1748: (1.95996 * sqrt(2 * .1748 * .8252) + 0.84162 * sqrt(.09 +
    .2496 * .7504))^2 / .1496^2 = (1.05272 + 0.44319)^2 / .022380 = 100.0)."""
    cust = os.path.join(tmp, "hand_cust.csv")
    write(cust, "customer_id,grp\n" + "".join("e%03d,x\n" % i for i in range(200)))
    assign = os.path.join(tmp, "hand_assign.csv")
    rc, out, err = run(exe, "--salt", "hand-eval", "--control", "0.5", "--strata", "grp",
                       "--out", assign, cust)
    with open(assign, encoding="utf-8") as fp:
        rows = list(csv.reader(fp))[1:]
    control = [r[0] for r in rows if r[1] == "control"]
    treat = [r[0] for r in rows if r[1] == "treatment"]
    expect(rc == 0 and len(control) == 100 and len(treat) == 100, "hand evaluation: 100 + 100")
    outc = os.path.join(tmp, "hand_outcomes.csv")
    lines = ["customer_id,converted,amount"]
    for k, cid in enumerate(control):
        lines.append("%s,%d,%d" % (cid, k < 10, 0 if k % 2 else 2))
    for k, cid in enumerate(treat):
        lines.append("%s,%d,%d" % (cid, k < 20, 1 if k % 2 else 3))
    write(outc, "\n".join(lines) + "\n")
    rc, out, err = run(exe, "--salt", "hand-eval", "--control", "0.5", "--strata", "grp",
                       "--outcomes", outc, "--out", assign, cust)
    ev = out[out.index("\nEvaluation:"):out.index("\nWrote ")] if "\nWrote " in out else out
    want = """
Evaluation: 200 outcome rows; 0 customers without a row (not converted, no value)
Arm        Customers  Converted    Rate  Values  Mean amount
control          100         10  10.00%     100         1.00
treatment        100         20  20.00%     100         2.00

Conversion, treatment vs control (two-proportion z-test, pooled; 95% CI):
  Absolute lift: +10.00 pp (95% CI +0.20 pp to +19.80 pp)
  Relative lift: +100.0% (95% CI -1.3% to +305.4%)
  z = 1.980, p = 0.0477

Value 'amount', treatment vs control (Welch's t-test; 95% CI):
  Difference in means: +1.00 (95% CI +0.72 to +1.28)
  t = 7.036, df = 198.0, p = 3.16e-11

Minimum detectable effect (alpha 0.05 two-sided, power 80%), base rate 10.00% (control), 100 customers per arm (harmonic mean of 100 and 100):
  MDE: +14.96 pp (relative +149.6%)
  Customers per arm to detect the observed lift (+10.00 pp): 199
"""
    got_lines = ev.split("\n")
    want_lines = want.split("\n")
    mde_line = [l for l in got_lines if l.startswith("  MDE: ")]
    expect(rc == 0 and got_lines == want_lines, "hand evaluation: the whole evaluation, worked out by hand",
           "got:\n%s\nwant:\n%s" % (ev, want))
    # the p-value of t = 1 / sqrt(2 * 1.0101 / 100) on 198 df (scipy: 3.1634e-11)
    expect(abs(2 * stats.t.sf(1 / math.sqrt(2 * (100 / 99) / 100), 198) - 3.16e-11) < 0.005e-11,
           "hand evaluation: p of t = 7.036 on 198 df is 3.16e-11 (scipy)")
    mde = mde_for(0.10, 100)
    m = re.fullmatch(r"  MDE: (\S+ pp) \(relative (\S+)\)", mde_line[0] if mde_line else "")
    expect(m is not None and nums_ok(m.groups(), [100 * mde, 100 * mde / 0.10]) and
           abs(mde - 0.1496) < 0.00005, "hand evaluation: MDE at 10%% with 100 per arm = %.4f" % mde,
           mde_line)

    # Customers absent from OUTCOMES.csv count as not converted, no value.
    write(outc, "\n".join(lines[:51]) + "\n")  # the first 50 controls only
    rc, out, err = run(exe, "--salt", "hand-eval", "--control", "0.5", "--strata", "grp",
                       "--outcomes", outc, cust)
    title, body = section(out, "Evaluation:")
    expect(rc == 0 and title == "Evaluation: 50 outcome rows; 150 customers without a row "
           "(not converted, no value)" and table(body)[1:] ==
           [["control", "100", "10", "10.00%", "50", "1.00"],
            ["treatment", "100", "0", "0.00%", "0", "-"]] and
           "  not computed: fewer than 2 values in the treatment arm" in out and
           "Relative lift: -100.0% (95% CI - to -)" in out,
           "hand evaluation: customers without a row; no values in an arm", out + err)
    # Only the treatment arm converts: no relative lift, no MDE (base rate 0).
    write(outc, "\n".join(lines[:1] + lines[101:]) + "\n")
    rc, out, err = run(exe, "--salt", "hand-eval", "--control", "0.5", "--strata", "grp",
                       "--outcomes", outc, cust)
    pr = proportions(100, 0, 100, 20)
    want = ("  Absolute lift: +20.00 pp (95%% CI +%.2f pp to +%.2f pp)\n"
            "  Relative lift: - (95%% CI - to -)\n"
            "  z = 4.714, p = 2.43e-06\n" % (100 * pr["lo"], 100 * pr["hi"]))
    # by hand: pooled p = .1, SE sqrt(.1 * .9 * .02) = .042426, z = .2 / .042426 = 4.714;
    # Wald SE sqrt(.2 * .8 / 100) = .04, CI 20 -/+ 7.84 pp
    expect(rc == 0 and want in out and abs(pr["lo"] - 0.1216) < 1e-4 and
           "  not computed: needs a control rate strictly between 0% and 100%" in out,
           "hand evaluation: control rate 0 (relative lift '-', z = 4.714, no MDE)",
           out + err + "\nwant:\n" + want)
    # One customer: an arm is empty, so nothing to compare.
    one = os.path.join(tmp, "one.csv")
    write(one, "customer_id\nonly\n")
    write(outc, "customer_id,converted\nonly,1\n")
    rc, out, err = run(exe, "--salt", "hand-eval", "--outcomes", outc, one)
    arm = plain_arms(["only"], "hand-eval", 0.1, 0.0)[0]
    empty = "treatment" if arm == "control" else "control"
    title, body = section(out, "Evaluation:")
    rows = {arm: [arm, "1", "1", "100.00%"], empty: [empty, "0", "0", "-"]}
    expect(rc == 0 and table(body)[1:] == [rows["control"], rows["treatment"]] and
           "\nNo comparison: the %s arm is empty.\n" % empty in out and "lift" not in out and
           tail_csv(out, "Assignment") == [["customer_id", "arm"], ["only", arm]],
           "one customer (%s): no comparison, the %s arm is empty" % (arm, empty), out + err)
    # Without a value column; everyone converted in both arms (rate 1: no MDE).
    write(outc, "customer_id,converted\n" + "".join("%s,1\n" % c for c in control + treat))
    rc, out, err = run(exe, "--salt", "hand-eval", "--control", "0.5", "--strata", "grp",
                       "--outcomes", outc, cust)
    expect(rc == 0 and "Evaluation: 200 outcome rows; 0 customers without a row (not "
           "converted)\n" in out and "  z = 0.000, p = 1\n" in out and "Value '" not in out and
           "  not computed: needs a control rate strictly between 0% and 100%" in out,
           "hand evaluation: no value column; both rates 1 (z 0, p 1, no MDE)", out + err)


# --------------------------------------------------------------------------
# 4. Clusters.

def fit_transform(x, name):
    """(forward, inverse) fitted on the complete values x, per kmeans.h."""
    if name == "none":
        return (lambda v: v), (lambda v: v)
    if name == "log1p":
        return np.log1p, np.expm1
    if name == "zscore":
        mu, sd = x.mean(), x.std(ddof=0)
        sd = sd if sd != 0 else 1.0
    elif name == "minmax":
        mu, sd = x.min(), x.max() - x.min()
        sd = sd if sd != 0 else 1.0
    else:  # robust: median / IQR, type-7 quartiles (numpy's default)
        q1, q3 = np.percentile(x, [25, 75])
        mu, sd = np.median(x), q3 - q1
        sd = sd if sd != 0 else 1.0
    return (lambda v: (v - mu) / sd), (lambda v: v * sd + mu)


def check_clusters(exe, customers, tmp, k, features, transforms, extra=(), profile=None,
                   strict=False, what=""):
    labels_path = os.path.join(tmp, "clusters.csv")
    args = ["--cluster", k, "--features", ",".join(features), "--transform",
            ",".join(transforms)] + list(extra)
    if profile:
        args += ["--profile", ",".join(profile)]
    rc, out, err = run(exe, *(args + ["--out", labels_path, customers]))
    expect(rc == 0 and err == "", "%s: exit 0, nothing on stderr" % what, err)
    if rc != 0:
        return None
    with open(labels_path, encoding="utf-8", newline="") as fp:
        lab_rows = list(csv.reader(fp))
    rc2, out2, err2 = run(exe, *(args + [customers]))
    expect(rc2 == 0 and tail_csv(out2, "Clusters") == lab_rows and
           out2.split("\nClusters:\n")[0] == out.split("\nWrote ")[0],
           "%s: stdout section = --out file, same report" % what)

    df = pd.read_csv(customers, dtype={"customer_id": str, "tier": str, "segment": str},
                     keep_default_na=False,
                     na_values={c: [""] for c in ("age", "aum", "txn_90d", "spend_90d", "x", "y")})
    ids = df["customer_id"].tolist()
    expect(lab_rows[0] == ["customer_id", "cluster"] and [r[0] for r in lab_rows[1:]] == ids,
           "%s: labels file: header, every customer in input order" % what)
    lab = np.array([int(r[1]) if r[1] != "" else -1 for r in lab_rows[1:]])
    X = df[features].to_numpy(dtype=float)
    complete = ~np.isnan(X).any(axis=1)
    expect(np.array_equal(lab >= 0, complete),
           "%s: a customer has no cluster exactly when a feature is missing (%d)"
           % (what, int((~complete).sum())))
    kk = int(k)
    expect(set(lab[complete].tolist()) == set(range(kk)), "%s: labels 0..%d all used"
           % (what, kk - 1))

    # Transforms fitted on the complete rows; centres = transformed means.
    T = np.empty_like(X)
    inverse = []
    for j, name in enumerate(transforms if len(transforms) > 1 else transforms * len(features)):
        fwd, inv = fit_transform(X[complete, j], name)
        T[:, j] = fwd(X[:, j])
        inverse.append(inv)
    centres = np.array([T[lab == c].mean(axis=0) for c in range(kk)])
    orig = np.array([[inverse[j](centres[c, j]) for j in range(len(features))]
                     for c in range(kk)])
    d2 = ((T[complete][:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    own = d2[np.arange(len(d2)), lab[complete]]
    inertia = own.sum()
    sizes = [int((lab == c).sum()) for c in range(kk)]

    lines = out.split("\n")
    m = re.fullmatch(r"Fitted on (\d+) customers \((\d+) with a missing feature get no "
                     r"cluster\); inertia (\S+) \(transformed units\), (\d+) iterations",
                     lines[2] if len(lines) > 2 else "")
    expect(lines[0] == "Customers: %s: %d customers" % (customers, len(ids)) and
           lines[1].startswith("k-means: k = %d; features %s" % (kk, ", ".join(
               "%s (%s)" % (f, t) for f, t in zip(features, transforms if len(transforms) > 1
                                                    else transforms * len(features))))) and
           m is not None and int(m.group(1)) == int(complete.sum()) and
           int(m.group(2)) == int((~complete).sum()) and
           lines[3] == "Clusters are numbered by the centroid of '%s', descending." % features[0],
           "%s: summary lines" % what, "\n".join(lines[:4]))
    if m is not None:
        expect(abs(float(m.group(3)) - inertia) <= 5e-6 * inertia,
               "%s: inertia = sum of squared distances to the transformed means (%.6g)"
               % (what, inertia), m.group(3))

    title, body = section(out, "Centroids (original units):")
    t = table(body)
    ok = t[0] == ["Cluster", "Customers"] + list(features) and len(t) == kk + 1
    for c in range(kk):
        ok = ok and t[c + 1][0] == str(c) and t[c + 1][1] == str(sizes[c])
        ok = ok and nums_ok(t[c + 1][2:], [orig[c, j] for j in range(len(features))])
    expect(ok, "%s: centroids (inverse transform of the members' transformed mean) and sizes"
           % what, "%s\nwant sizes %r\n%r" % ("\n".join(body), sizes, orig))
    expect(all(orig[c, 0] >= orig[c + 1, 0] for c in range(kk - 1)),
           "%s: clusters ordered by the first feature's centroid, descending" % what)
    if strict:
        best = d2.min(axis=1)
        bad = int((own > best * (1 + 1e-9) + 1e-12).sum())
        expect(bad == 0, "%s: every customer is in the cluster of its nearest centre" % what,
               "%d customers are not" % bad)

    # Profiles against pandas groupby.
    cols = list(profile) if profile else list(features)
    df["label"] = lab
    n = len(df)
    title, body = section(out, "Profiles (seg_profile_compute;")
    t = table(body)
    has_missing = [bool(df[c].isna().any()) for c in cols]
    header = ["Cluster", "Customers", "Share"]
    for c, miss in zip(cols, has_missing):
        header += ["%s mean" % c, "%s median" % c] + (["%s missing" % c] if miss else [])
    groups = list(range(kk)) + ([-1] if (lab < 0).any() else [])
    ok = t[0] == header and len(t) == len(groups) + 2
    gb = df.groupby("label")
    for row, g in zip(t[1:], groups + ["all"]):
        part = df if g == "all" else gb.get_group(g)
        name = "all" if g == "all" else ("none" if g == -1 else str(g))
        want = [len(part), 100.0 * len(part) / n]
        for c, miss in zip(cols, has_missing):
            s = part[c]
            want += [s.mean(), s.median()] + ([int(s.isna().sum())] if miss else [])
        ok = ok and row[0] == name and nums_ok(row[1:], want)
        if not ok:
            print("     profile row %r, want %r" % (row, want))
            break
    expect(ok, "%s: profiles = pandas groupby (count, share, mean, median, missing)" % what,
           "\n".join(body))
    return out


def check_sample_clusters(exe, customers, tmp):
    out1 = check_clusters(exe, customers, tmp, "4", ["aum", "txn_90d", "spend_90d"],
                          ["log1p"], profile=["aum", "txn_90d", "spend_90d", "age"],
                          what="k=4 log1p")
    rc, out2, err = run(exe, "--cluster", "4", "--features", "aum,txn_90d,spend_90d",
                        "--transform", "log1p", "--profile", "aum,txn_90d,spend_90d,age",
                        "--threads", "2", customers)
    rc3, out3, err3 = run(exe, "--cluster", "4", "--features", "aum,txn_90d,spend_90d",
                          "--transform", "log1p", "--profile", "aum,txn_90d,spend_90d,age",
                          customers)
    expect(rc == 0 and rc3 == 0 and out2 == out3 and out1 is not None and
           out3.split("\nClusters:\n")[0] == out1.split("\nWrote ")[0],
           "k=4 log1p: identical output with 2 threads and on a second run")
    check_clusters(exe, customers, tmp, "5", ["aum", "txn_90d", "spend_90d"],
                   ["log1p", "zscore", "robust"], extra=["--tol", "0", "--seed", "7"],
                   strict=True, what="k=5 log1p,zscore,robust tol 0")
    check_clusters(exe, customers, tmp, "3", ["spend_90d", "age"], ["minmax"],
                   extra=["--tol", "0", "--n-init", "2", "--max-iter", "1000"], strict=True,
                   what="k=3 minmax tol 0")
    check_clusters(exe, customers, tmp, "1", ["age"], ["none"], strict=True, what="k=1")


def check_hand_clusters(exe, tmp):
    path = os.path.join(tmp, "hand_clusters.csv")
    write(path, "customer_id,x,y,note\na,1,0,p\nb,2,0,q\nc,3,0,r\nd,10,0,s\ne,11,0,t\n"
                "f,12,0,u\ng,,5,v\n")
    rc, out, err = run(exe, "--cluster", "2", "--features", "x,y", path)
    want = """Customers: PATH: 7 customers
k-means: k = 2; features x (none), y (none); seed 1, 4 runs, max_iter 300, tol 0.0001
Fitted on 6 customers (1 with a missing feature get no cluster); inertia 4 (transformed units), ITER iterations
Clusters are numbered by the centroid of 'x', descending.

Centroids (original units):
Cluster  Customers      x     y
0                3  11.00  0.00
1                3   2.00  0.00

Profiles (seg_profile_compute; per column the mean and median of the present values):
Cluster  Customers    Share  x mean  x median  x missing  y mean  y median
0                3   42.86%   11.00     11.00          0    0.00      0.00
1                3   42.86%    2.00      2.00          0    0.00      0.00
none             1   14.29%       -         -          1    5.00      5.00
all              7  100.00%    6.50      6.50          1   0.714      0.00

Clusters:
customer_id,cluster
a,1
b,1
c,1
d,0
e,0
f,0
g,
""".replace("PATH", path)
    got = re.sub(r", \d+ iterations", ", ITER iterations", out)
    expect(rc == 0 and got == want, "hand clusters: the whole report, worked out by hand",
           "got:\n%s\nwant:\n%s\n%s" % (out, want, err))


# --------------------------------------------------------------------------
# 5. Errors.

def check_errors(exe, customers, outcomes, tmp):
    def fails(what, code, args, *needles, first_line=None):
        rc, out, err = run(exe, *args)
        missing = [n for n in needles if n not in err]
        ok = rc == code and not missing and err.startswith(PROG + ": ")
        if first_line is not None:
            ok = ok and err.split("\n")[0] == first_line
        expect(ok, "%s: exit %d" % (what, code),
               "exit %d, stderr %r (lacks %r; want first line %r)" % (rc, err, missing,
                                                                      first_line))

    bad = os.path.join(tmp, "bad.csv")
    # Usage.
    rc, out, err = run(exe, "--help")
    expect(rc == 0 and out.startswith("Usage: campaign") and "--cluster K" in out and
           "--outcomes" in out and err == "", "--help exits 0 and describes both modes")
    fails("no arguments", 2, [], "missing --salt")
    fails("no CUSTOMERS.csv", 2, ["--salt", "s"], "missing CUSTOMERS.csv")
    fails("two CUSTOMERS.csv", 2, ["--salt", "s", customers, customers], "more than one")
    fails("unknown option", 2, ["--salt", "s", "--arms", "3", customers],
          "unknown option '--arms'")
    fails("option without its value", 2, [customers, "--salt"], "missing value")
    fails("empty --salt", 2, ["--salt=", customers], "empty value")
    for v in ("0", "1", "-0.1", "1.5", "abc", "0.1x", "nan", "inf"):
        fails("--control %s" % v, 2, ["--salt", "s", "--control", v, customers],
              "--control needs a share 0 < X < 1", "'%s'" % v)
    for v in ("1", "-0.01", "2", "x"):
        fails("--holdout %s" % v, 2, ["--salt", "s", "--holdout", v, customers],
              "--holdout needs a share 0 <= Q < 1")
    fails("modes mixed", 2, ["--salt", "s", "--cluster", "3", "--features", "aum", customers],
          "cannot be combined")
    fails("--features without --cluster", 2, ["--features", "aum", customers],
          "missing --cluster")
    fails("--cluster without --features", 2, ["--cluster", "3", customers], "missing --features")
    for v in ("0", "1025", "2.5", "-1", "x"):
        fails("--cluster %s" % v, 2, ["--cluster", v, "--features", "aum", customers],
              "--cluster needs a whole number from 1 to 1024")
    fails("unknown transform", 2, ["--cluster", "3", "--features", "aum", "--transform", "log",
                                   customers], "unknown transform", "'log'")
    fails("transform count", 2, ["--cluster", "3", "--features", "aum,age", "--transform",
                                 "log1p,none,none", customers], "one per feature (2)")
    fails("feature named twice", 2, ["--cluster", "3", "--features", "aum,age,aum", customers],
          "column named twice in --features", "'aum'")
    fails("empty feature name", 2, ["--cluster", "3", "--features", "aum,,age", customers],
          "empty name")
    for opt, v in (("--seed", "-1"), ("--n-init", "0"), ("--max-iter", "0"),
                   ("--threads", "257"), ("--tol", "-1"), ("--seed", "1e300")):
        fails("%s %s" % (opt, v), 2, ["--cluster", "3", "--features", "aum", opt, v, customers],
              opt)

    # CUSTOMERS.csv.
    nope = os.path.join(tmp, "nope.csv")
    fails("missing CUSTOMERS.csv file", 1, ["--salt", "s", nope], "cannot open", "nope.csv")
    write(bad, "")
    fails("empty CUSTOMERS.csv", 1, ["--salt", "s", bad], "the file is empty")
    write(bad, "customer_id,aum\n")
    fails("no data rows", 1, ["--salt", "s", bad], "no data rows")
    write(bad, "id,aum\nA,1\n")
    fails("no customer_id column", 1, ["--salt", "s", bad],
          first_line="%s: %s:1: missing column 'customer_id' in the header" % (PROG, bad))
    write(bad, "customer_id,aum\nA,1\nB,2\nA,3\n")
    fails("duplicate customer", 1, ["--salt", "s", bad],
          first_line="%s: %s:4: customer_id 'A' appears twice" % (PROG, bad))
    write(bad, "customer_id,aum\nA,1\n,2\n")
    fails("empty customer id", 1, ["--salt", "s", bad], "%s:3:" % bad)
    write(bad, "customer_id,aum\nA,1\nB,2,3\n")
    fails("record too long", 1, ["--salt", "s", bad], "%s:3: 3 fields, the header has 2" % bad)
    write(bad, "customer_id,aum\nA,\"1\n")
    fails("unclosed quote", 1, ["--salt", "s", bad], bad)
    write(bad, "customer_id,aum,aum\nA,1,2\n")
    fails("column twice", 1, ["--salt", "s", bad], "column 'aum' appears twice")
    fails("unknown --strata column", 1, ["--salt", "s", "--strata", "tierx", customers],
          first_line="%s: %s: no column 'tierx' (--strata) in the header" % (PROG, customers))
    fails("--strata customer_id", 1, ["--salt", "s", "--strata", "customer_id", customers],
          "no column 'customer_id'")
    # A text column is fine for the experiment, not as a feature.
    fails("text column as a feature", 1, ["--cluster", "2", "--features", "aum,tier", customers],
          first_line="%s: %s:2: column 'tier' (--features): bad value 'mass' (expected a "
                     "number, or an empty field for a missing value)" % (PROG, customers))
    write(bad, "customer_id,aum,tier\nA,1,x\nB,2,y\nC,3x,z\n")
    fails("text feature, numeric --profile", 1, ["--cluster", "1", "--features", "tier",
                                                 "--profile", "aum", bad],
          "column 'tier' (--features)")
    fails("bad number in a feature (line 4)", 1, ["--cluster", "1", "--features", "aum",
                                                  "--profile", "aum", bad],
          first_line="%s: %s:4: column 'aum' (--features): bad value '3x' (expected a number, "
                     "or an empty field for a missing value)" % (PROG, bad))
    write(bad, "customer_id,aum,age\nA,1,3\nB,2,4\nC,3,5x\n")
    fails("bad number in --profile", 1, ["--cluster", "1", "--features", "aum", "--profile",
                                         "age", bad], "%s:4: column 'age' (--profile)" % bad)
    fails("unknown feature", 1, ["--cluster", "2", "--features", "aum,wealth", customers],
          first_line="%s: %s: no column 'wealth' (--features) in the header" % (PROG, customers))
    fails("unknown --profile column", 1, ["--cluster", "2", "--features", "aum", "--profile",
                                          "aum,zz", customers], "no column 'zz' (--profile)")
    # Library errors in cluster mode.
    write(bad, "customer_id,x\nA,1\nB,2\nC,\n")
    fails("more clusters than complete rows (library)", 1,
          ["--cluster", "3", "--features", "x", bad], "clustering: ")
    write(bad, "customer_id,x\nA,1\nB,-1\nC,3\n")
    fails("log1p of -1 (library)", 1, ["--cluster", "2", "--features", "x", "--transform",
                                       "log1p", bad], "clustering: ", "'x'")

    # OUTCOMES.csv.
    header, rows = read_customers(customers)
    first, second = rows[0][0], rows[1][0]
    base = ["--salt", "s", "--control", "0.2", customers]

    def outcome_error(what, text, *needles, first_line=None):
        write(bad, text)
        fails("OUTCOMES: " + what, 1, ["--outcomes", bad] + base, *needles,
              first_line=first_line)

    fails("OUTCOMES missing", 1, ["--outcomes", nope] + base, "cannot open", "nope.csv")
    outcome_error("empty", "", "the file is empty")
    outcome_error("no converted column", "customer_id,bought\n%s,1\n" % first,
                  first_line="%s: %s:1: missing column 'converted' in the header" % (PROG, bad))
    outcome_error("two value columns", "customer_id,converted,a,b\n%s,1,2,3\n" % first,
                  first_line="%s: %s:1: unexpected column 4 'b' in the header (expected "
                             "customer_id,converted and at most one value column)" % (PROG, bad))
    outcome_error("unknown customer", "customer_id,converted\n%s,1\nZZ999,0\n" % first,
                  first_line="%s: %s:3: unknown customer 'ZZ999' (not in %s)"
                             % (PROG, bad, customers))
    outcome_error("customer twice", "customer_id,converted\n%s,1\n%s,0\n%s,0\n"
                  % (first, second, first),
                  first_line="%s: %s:4: customer '%s' appears twice" % (PROG, bad, first))
    for v in ("2", "", "yes", "0.5", "-1"):
        outcome_error("converted %r" % v, "customer_id,converted\n%s,%s\n" % (first, v),
                      first_line="%s: %s:2: converted must be 0 or 1, got '%s'" % (PROG, bad, v))
    outcome_error("bad value", "customer_id,converted,spend\n%s,1,12.5\n%s,0,abc\n"
                  % (first, second),
                  first_line="%s: %s:3: column 'spend': bad value 'abc' (expected a number, or "
                             "an empty field for a missing value)" % (PROG, bad))
    outcome_error("short record", "customer_id,converted,spend\n%s,1\n" % first,
                  "%s:2: 2 fields, the header has 3" % bad)
    # --out not writable.
    fails("--out in a missing directory", 1,
          ["--salt", "s", "--out", os.path.join(tmp, "no", "such.csv"), customers],
          "cannot open the --out file")


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    exe, customers, outcomes = sys.argv[1:]
    check_hash_vectors()
    with tempfile.TemporaryDirectory() as tmp:
        check_sample_experiment(exe, customers, outcomes, tmp)
        check_hand_strata(exe, tmp)
        check_hand_evaluation(exe, tmp)
        check_sample_clusters(exe, customers, tmp)
        check_hand_clusters(exe, tmp)
        check_errors(exe, customers, outcomes, tmp)
    if failures:
        print("\n%d check(s) failed:\n  %s" % (len(failures), "\n  ".join(failures)))
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
