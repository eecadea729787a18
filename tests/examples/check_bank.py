#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks examples/bank_tiers against an independent evaluation in Python.

    check_bank.py BANK_TIERS TIERS_DIR CUSTOMERS.csv PREV.csv

1. The sample (value_pyramid.tiers + groups_activity.tiers, with and without
   --prev, two --critical values): EVERY row of --out against the value
   pyramid and the activity groups written directly in Python (below), with
   the semantics documented in include/segment/tiers.h and rule.h: first match
   wins; a comparison with a missing value is unknown and a row matches only
   when its condition is true; hysteresis through `keep`; gaps and the critical
   flag. The printed tier sizes, AUM sums, critical counts, micro-segment
   table and the PREV summary against the same evaluation; the printed
   migration matrix and rates against pandas.crosstab.
2. The sample really exercises the features: some rows keep their tier only
   through `keep`, some are critical, some gaps are missing values.
3. An unknown tier id in PREV.csv: a warning naming the file and line, and
   that customer is evaluated as having no previous tier.
4. Hand-worked cases for the other rule files (lifecycle_ecommerce,
   lifecycle_high_ticket, groups_product, rfm_segments over all 125 score
   combinations), a UTF-8 column name in backquotes with --aum-column, an
   unreachable tier and a set without `otherwise`.
5. Bad rules: exit 1 and the library's FILE:LINE:COL: message, with the line
   and column worked out by hand. Bad input files: exit 1 naming the line.
   Usage: --help exits 0; unknown option, missing arguments, bad --critical
   exit 2.
Needs pandas (run with /usr/bin/python3).
"""
import csv
import io
import math
import os
import subprocess
import sys
import tempfile

import pandas as pd

failures = []
NAN = float("nan")


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


def read_out(path):
    with open(path, encoding="utf-8", newline="") as fp:
        rows = list(csv.reader(fp))
    return rows[0], rows[1:]


# --------------------------------------------------------------------------
# The independent evaluation.

def num(s):
    """CSV field -> float; empty (or blank) is missing."""
    s = s.strip()
    return NAN if s == "" else float(s)


def holds(v, op, k):
    """True, False, or None (unknown) when v is missing."""
    if math.isnan(v):
        return None
    return {">=": v >= k, ">": v > k, "<=": v <= k, "<": v < k, "==": v == k}[op]


def conj_true(row, conds):
    """A conjunction is true only when every comparison is true."""
    return all(holds(row[c], op, k) is True for c, op, k in conds)


# examples/tiers/value_pyramid.tiers, written out by hand: (id, when, keep);
# when None = otherwise.
PYRAMID = [
    ("private_banking", [("aum", ">=", 6000000.0)], None),
    ("wealth", [("aum", ">=", 500000.0)], [("aum", ">=", 450000.0)]),
    ("gold", [("aum", ">=", 50000.0), ("txn_90d", ">=", 1.0)], None),
    ("mass", None, None),
]

# examples/tiers/groups_activity.tiers.
ACTIVITY = [
    ("active", [("days_since_last_activity", "<=", 30.0)]),
    ("dormant", [("days_since_last_activity", "<=", 180.0)]),
    ("churned", [("days_since_last_activity", ">", 180.0)]),
]


def first_match(row, rules):
    for i, r in enumerate(rules):
        if r[1] is None or conj_true(row, r[1]):
            return i
    return -1


def with_hysteresis(row, rules, prev):
    """Tier of a row given its previous tier (-1 = none)."""
    w = first_match(row, rules)
    if prev < 0:
        return w
    if w >= 0 and w <= prev:      # moves up (or is where it was)
        return w
    keep = rules[prev][2] if rules[prev][2] is not None else rules[prev][1]
    if keep is None or conj_true(row, keep):
        return prev
    return w


def gap_of(row, rules, t, critical):
    """(next tier, gap column, gap, critical) for a row in tier t."""
    if t <= 0:
        return -1, None, NAN, 0
    conds = rules[t - 1][1]
    if conds is None:
        return t - 1, None, NAN, 0
    failing = []
    for c, op, k in conds:
        if holds(row[c], op, k) is not True:
            failing.append((c, k, k - row[c]))   # NaN when missing
    best = None
    best_rel = -1.0
    for c, k, g in failing:                    # ties: the first comparison
        rel = math.inf if math.isnan(g) else abs(g) / max(abs(k), 1.0)
        if rel > best_rel:
            best, best_rel = (c, g), rel
    crit = int(bool(failing) and all(not math.isnan(g) and abs(g) <= critical * abs(k)
                                     for c, k, g in failing))
    if best is None:
        return t - 1, None, NAN, 0
    return t - 1, best[0], best[1], crit


def fmt_gap(g):
    return "" if math.isnan(g) else "%.15g" % g


def load_customers(path):
    with open(path, encoding="utf-8-sig", newline="") as fp:
        rd = csv.DictReader(fp)
        rows = []
        for r in rd:
            row = {k: (v if k == "customer_id" else num(v)) for k, v in r.items()}
            rows.append(row)
    return rows


def load_prev(path, ids):
    """customer_id -> tier index, for customers of this run with a known tier."""
    index = {r[0]: i for i, r in enumerate(PYRAMID)}
    prev = {}
    stats = {"rows": 0, "empty": 0, "unknown_tier": 0, "unknown_customer": 0}
    with open(path, encoding="utf-8-sig", newline="") as fp:
        for r in csv.DictReader(fp):
            stats["rows"] += 1
            if r["customer_id"] not in ids:
                stats["unknown_customer"] += 1
            elif r["tier"] == "":
                stats["empty"] += 1
            elif r["tier"] not in index:
                stats["unknown_tier"] += 1
            else:
                prev[r["customer_id"]] = index[r["tier"]]
    return prev, stats


def expected_rows(customers, prev, critical, groups=True):
    out = []
    for row in customers:
        p = prev.get(row["customer_id"], -1) if prev is not None else -1
        t = with_hysteresis(row, PYRAMID, p)
        nxt, col, g, crit = gap_of(row, PYRAMID, t, critical)
        grp = first_match(row, [(a, b) for a, b in ACTIVITY]) if groups else -1
        out.append([row["customer_id"],
                    PYRAMID[t][0] if t >= 0 else "",
                    ACTIVITY[grp][0] if grp >= 0 else "",
                    PYRAMID[nxt][0] if nxt >= 0 else "",
                    col or "", fmt_gap(g), str(crit)])
    return out


# --------------------------------------------------------------------------
# Reading the report.

def table_after(stdout, header_start, n_rows):
    """The n_rows lines after the header line whose words start with the words
    of header_start, split into words."""
    lines = stdout.splitlines()
    want = header_start.split()
    for i, line in enumerate(lines):
        if line.split()[:len(want)] == want:
            return line.split(), [l.split() for l in lines[i + 1:i + 1 + n_rows]]
    return None, []


def pct(x):
    return "-" if math.isnan(x) else "%.1f%%" % (100.0 * x)


def check_sample(exe, tiers_dir, customers_path, prev_path, tmp):
    customers = load_customers(customers_path)
    ids = {r["customer_id"] for r in customers}
    prev, stats = load_prev(prev_path, ids)
    rules = os.path.join(tiers_dir, "value_pyramid.tiers")
    groups = os.path.join(tiers_dir, "groups_activity.tiers")
    out = os.path.join(tmp, "out.csv")

    for use_prev, critical in ((True, None), (True, 0.05), (False, 0.25)):
        label = "sample %s prev, critical %s" % ("with" if use_prev else "without",
                                                  critical if critical is not None else "default")
        args = ["--rules", rules, "--groups", groups, "--out", out]
        if use_prev:
            args += ["--prev", prev_path]
        if critical is not None:
            args += ["--critical", "%g" % critical]
        if os.path.exists(out):
            os.remove(out)
        rc, stdout, stderr = run(exe, *(args + [customers_path]))
        expect(rc == 0 and stderr == "", label + ": exit 0, nothing on stderr",
               "exit %d, stderr %r" % (rc, stderr))
        if rc != 0:
            continue
        header, got = read_out(out)
        expect(header == ["customer_id", "tier", "group", "next_tier", "gap_column", "gap",
                          "critical"], label + ": OUT.csv header", header)
        want = expected_rows(customers, prev if use_prev else None,
                             critical if critical is not None else 0.10)
        expect(len(got) == len(want), label + ": one row per customer",
               "%d rows, want %d" % (len(got), len(want)))
        names = header
        bad = []
        for g, w in zip(got, want):
            for j in range(len(names)):
                if g[j] != w[j]:
                    bad.append("customer %s field %s: bank_tiers %r, Python %r"
                               % (w[0], names[j], g[j], w[j]))
        expect(not bad, label + ": every row and field as the Python evaluation (%d rows)"
               % len(want), "\n".join(bad[:40]) + ("\n... %d in all" % len(bad) if bad else ""))

        # Tier sizes, AUM and critical counts.
        tiers = [w[1] for w in want]
        crit = [w[6] for w in want]
        _, size_rows = table_after(stdout, "Tier Name Customers", len(PYRAMID) + 1)
        problems = []
        for k, (tid, _, _) in enumerate(PYRAMID):
            members = [i for i, t in enumerate(tiers) if t == tid]
            aum = 0.0
            for i in members:
                if not math.isnan(customers[i]["aum"]):
                    aum += customers[i]["aum"]
            n_crit = sum(1 for i in members if crit[i] == "1")
            want_row = [tid, str(len(members)), "%.2f" % aum, str(n_crit)]
            r = size_rows[k] if k < len(size_rows) else []
            got_row = [r[0], r[2], r[4], r[6]] if len(r) == 7 else r
            if got_row != want_row:
                problems.append("got %r, want %r" % (got_row, want_row))
        total = size_rows[-1] if size_rows else []
        n_total_crit = str(sum(1 for c in crit if c == "1"))
        if total[:2] != ["Total", str(len(customers))] or total[-1] != n_total_crit:
            problems.append("total row %r (want %d customers, %s critical)"
                            % (total, len(customers), n_total_crit))
        expect(not problems, label + ": printed tier sizes, AUM and critical counts",
               "\n".join(problems))

        # Micro-segments (tier x group).
        groups_in = [w[2] or "(none)" for w in want]
        cols = [a for a, _ in ACTIVITY] + (["(none)"] if "(none)" in groups_in else [])
        head, micro = table_after(stdout, "tier\\group", len(PYRAMID) + 1)
        problems = []
        if head != ["tier\\group"] + cols + ["Total"]:
            problems.append("header %r" % head)
        for k, (tid, _, _) in enumerate(PYRAMID):
            cnt = [sum(1 for t, g in zip(tiers, groups_in) if t == tid and g == c) for c in cols]
            want_row = [tid] + [str(c) for c in cnt] + [str(sum(cnt))]
            if k >= len(micro) or micro[k] != want_row:
                problems.append("got %r, want %r" % (micro[k] if k < len(micro) else None,
                                                     want_row))
        expect(not problems, label + ": printed micro-segment counts", "\n".join(problems))

        if not use_prev:
            expect("Migration" not in stdout, label + ": no migration matrix without --prev")
            continue
        # The PREV summary line.
        absent = len(ids) - sum(1 for r in customers if r["customer_id"] in prev) \
            - stats["empty"] - stats["unknown_tier"]
        line = ("Previous tiers: %s: %d rows; %d customers absent, %d with an empty tier, "
                "%d with an unknown tier; %d rows for customers not in this run (ignored)"
                % (prev_path, stats["rows"], absent, stats["empty"], stats["unknown_tier"],
                   stats["unknown_customer"]))
        expect(line in stdout.splitlines(), label + ": PREV summary line", line)

        # Migration matrix against pandas.crosstab over the independent labels.
        frm = [PYRAMID[prev[r["customer_id"]]][0] if r["customer_id"] in prev else None
               for r in customers]
        df = pd.DataFrame({"from": frm, "to": tiers}).dropna()
        df = df[df["to"] != ""]
        order = [t for t, _, _ in PYRAMID]
        ct = pd.crosstab(pd.Categorical(df["from"], categories=order),
                         pd.Categorical(df["to"], categories=order), dropna=False)
        head, mig = table_after(stdout, "prev\\now", len(PYRAMID))
        problems = []
        if head != ["prev\\now"] + order + ["Total", "Upgrade", "Retention", "Downgrade"]:
            problems.append("header %r" % head)
        for a, tid in enumerate(order):
            counts = [int(ct.iloc[a, b]) for b in range(len(order))]
            tot = sum(counts)
            up = sum(counts[:a]) / tot if tot else NAN
            stay = counts[a] / tot if tot else NAN
            down = sum(counts[a + 1:]) / tot if tot else NAN
            want_row = [tid] + [str(c) for c in counts] + [str(tot), pct(up), pct(stay),
                                                           pct(down)]
            if a >= len(mig) or mig[a] != want_row:
                problems.append("got %r, want %r" % (mig[a] if a < len(mig) else None,
                                                     want_row))
        expect(not problems, label + ": migration matrix and rates = pandas.crosstab",
               "\n".join(problems))
        n_counted = len(df)
        expect(("Migration (rows: previous tier, columns: this run), %d customers;" % n_counted)
               in stdout, label + ": migration counts %d customers" % n_counted)

        if critical is None:
            # 2. The sample exercises the features.
            kept = sum(1 for r in customers
                       if r["customer_id"] in prev
                       and first_match(r, PYRAMID) > prev[r["customer_id"]]
                       and with_hysteresis(r, PYRAMID, prev[r["customer_id"]])
                       == prev[r["customer_id"]])
            n_crit = sum(1 for w in want if w[6] == "1")
            n_nan = sum(1 for w in want if w[4] != "" and w[5] == "")
            n_up = sum(1 for r in customers if r["customer_id"] in prev
                       and first_match(r, PYRAMID) < prev[r["customer_id"]])
            expect(kept >= 5 and n_crit >= 20 and n_nan >= 3 and n_up >= 10,
                   "sample: %d kept by 'keep', %d critical, %d missing-value gaps, "
                   "%d upgrades" % (kept, n_crit, n_nan, n_up))
            check_unknown_prev(exe, rules, customers_path, customers, prev_path, prev, tmp)


def check_unknown_prev(exe, rules, customers_path, customers, prev_path, prev, tmp):
    """3. An unknown tier id: a warning naming the line; no previous tier."""
    target = None
    for r in customers:
        cid = r["customer_id"]
        if cid in prev and with_hysteresis(r, PYRAMID, prev[cid]) != first_match(r, PYRAMID):
            target = cid
            break
    expect(target is not None, "sample has a customer whose tier depends on PREV")
    if target is None:
        return
    with open(prev_path, encoding="utf-8", newline="") as fp:
        lines = fp.read().split("\n")
    line_no = None
    for i, line in enumerate(lines):
        if line.startswith(target + ","):
            lines[i] = target + ",platinum"
            line_no = i + 1
    bad_prev = os.path.join(tmp, "prev_unknown.csv")
    write(bad_prev, "\n".join(lines))
    out = os.path.join(tmp, "out_unknown.csv")
    rc, stdout, stderr = run(exe, "--rules", rules, "--prev", bad_prev, "--out", out,
                             customers_path)
    expect(rc == 0 and ("%s:%d:" % (bad_prev, line_no)) in stderr and "platinum" in stderr
           and "warning" in stderr,
           "unknown tier id in PREV: warning naming %s:%d" % (os.path.basename(bad_prev), line_no),
           "exit %d, stderr %r" % (rc, stderr))
    if rc == 0:
        _, got = read_out(out)
        row = [g for g in got if g[0] == target]
        r = [c for c in customers if c["customer_id"] == target][0]
        t = first_match(r, PYRAMID)
        expect(row and row[0][1] == PYRAMID[t][0],
               "unknown tier id in PREV: %s gets its when-tier %s (no previous tier)"
               % (target, PYRAMID[t][0]), row)
        expect("1 with an unknown tier" in stdout, "unknown tier id counted in the summary")


# --------------------------------------------------------------------------
# 4. Hand-worked cases.

def run_case(exe, tmp, name, csv_text, args, want_rows, want_stdout=(), want_absent=()):
    data = os.path.join(tmp, name + ".csv")
    out = os.path.join(tmp, name + "_out.csv")
    write(data, csv_text)
    rc, stdout, stderr = run(exe, *(list(args) + ["--out", out, data]))
    if rc != 0:
        expect(False, name, "exit %d, stderr %r" % (rc, stderr))
        return stdout
    _, got = read_out(out)
    diff = []
    for i, w in enumerate(want_rows):
        g = got[i] if i < len(got) else None
        if g != w:
            diff.append("row %d: got %r, want %r" % (i + 1, g, w))
    if len(got) != len(want_rows):
        diff.append("%d rows, want %d" % (len(got), len(want_rows)))
    for s in want_stdout:
        if s not in stdout:
            diff.append("stdout lacks %r" % s)
    for s in want_absent:
        if s in stdout:
            diff.append("stdout has %r" % s)
    expect(not diff, name, "\n".join(diff) + "\n--- stdout:\n" + stdout)
    return stdout


def check_hand_cases(exe, tiers_dir, tmp):
    T = lambda f: os.path.join(tiers_dir, f)  # noqa: E731

    # lifecycle_ecommerce: super needs 10 orders, 5000 yuan, 180 days; keep 8 / 4000.
    ecom = ("customer_id,order_count,gmv_365d,days_since_first_order\n"
            "u1,12,8000,400\n"     # super
            "u2,12,8000,100\n"     # repeat: days 180-100 = 80 short (rel 0.44), not critical
            "u3,9,4800,200\n"      # repeat: orders 1 short (rel 0.1), gmv 200 (0.04): critical
            "u4,1,99,\n"           # first: orders 2-1 = 1 (rel 0.5)
            "u5,0,0,\n"            # new: orders 1 short (rel 1)
            "u6,,300,10\n"         # new: order_count missing -> gap column, no gap value
            "u7,2,0,5\n")          # repeat: orders 8 (0.8), gmv 5000 (1.0), days 175 (0.97)
    run_case(exe, tmp, "lifecycle_ecommerce", ecom, ["--rules", T("lifecycle_ecommerce.tiers")], [
        ["u1", "super", "", "", "", "", "0"],
        ["u2", "repeat", "", "super", "days_since_first_order", "80", "0"],
        ["u3", "repeat", "", "super", "order_count", "1", "1"],
        ["u4", "first", "", "repeat", "order_count", "1", "0"],
        ["u5", "new", "", "first", "order_count", "1", "0"],
        ["u6", "new", "", "first", "order_count", "", "0"],
        ["u7", "repeat", "", "super", "gmv_365d", "5000", "0"],
    ], ["no tier is shadowed", "(no column 'aum', so no AUM share)"], ["AUM %"])
    # With last month's stages: u2, u3 keep super (8 orders, 4000 yuan); u7 does not;
    # u4 was repeat, fails `order_count >= 2` (no keep) and drops to first.
    prev = os.path.join(tmp, "ecom_prev.csv")
    write(prev, "customer_id,tier\nu2,super\nu3,super\nu7,super\nu4,repeat\nu5,\n")
    run_case(exe, tmp, "lifecycle_ecommerce with prev", ecom,
             ["--rules", T("lifecycle_ecommerce.tiers"), "--prev", prev], [
                 ["u1", "super", "", "", "", "", "0"],
                 ["u2", "super", "", "", "", "", "0"],
                 ["u3", "super", "", "", "", "", "0"],
                 ["u4", "first", "", "repeat", "order_count", "1", "0"],
                 ["u5", "new", "", "first", "order_count", "1", "0"],
                 ["u6", "new", "", "first", "order_count", "", "0"],
                 ["u7", "repeat", "", "super", "gmv_365d", "5000", "0"],
             ], ["4 customers; not counted: 3 without a previous tier",
                 "Previous tiers: %s: 5 rows; 2 customers absent, 1 with an empty tier" % prev])

    # lifecycle_high_ticket.
    ht = ("customer_id,order_count,quoted,interactions,days_since_first_contact\n"
          "h1,5,1,20,700\n"   # super
          "h2,2,1,8,300\n"    # repeat: 1 order short of super (rel 1/3)
          "h3,1,1,5,100\n"    # first
          "h4,0,1,3,50\n"     # intent: order_count 1 short
          "h5,0,0,2,200\n"    # potential: quoted 1 short, not critical
          "h6,0,0,2,400\n"    # stranger (cold): days 365-400 = -35, 35 <= 36.5: critical
          "h7,0,0,0,10\n"     # stranger: interactions 1 short
          "h8,,,,\n")         # stranger: both comparisons missing; the first is reported
    run_case(exe, tmp, "lifecycle_high_ticket", ht, ["--rules", T("lifecycle_high_ticket.tiers")], [
        ["h1", "super", "", "", "", "", "0"],
        ["h2", "repeat", "", "super", "order_count", "1", "0"],
        ["h3", "first", "", "repeat", "order_count", "1", "0"],
        ["h4", "intent", "", "first", "order_count", "1", "0"],
        ["h5", "potential", "", "intent", "quoted", "1", "0"],
        ["h6", "stranger", "", "potential", "days_since_first_contact", "-35", "1"],
        ["h7", "stranger", "", "potential", "interactions", "1", "0"],
        ["h8", "stranger", "", "potential", "interactions", "", "0"],
    ])

    # groups_product, as --groups next to a one-tier set.
    one = os.path.join(tmp, "one.tiers")
    write(one, 'tier all "全部客户" otherwise\n')
    prod = ("customer_id,deposit_share,investment_share,loan_share\n"
            "g1,0.7,0.2,0.1\n"      # saver
            "g2,0.6,0.4,0\n"        # saver (first match, on the line)
            "g3,0.3,0.5,0.2\n"      # investor
            "g4,0.3,0.3,0.4\n"      # borrower
            "g5,0.34,0.33,0.33\n"   # mixed
            "g6,,,\n")              # mixed (missing)
    run_case(exe, tmp, "groups_product", prod,
             ["--rules", one, "--groups", T("groups_product.tiers")], [
                 ["g1", "all", "saver", "", "", "", "0"],
                 ["g2", "all", "saver", "", "", "", "0"],
                 ["g3", "all", "investor", "", "", "", "0"],
                 ["g4", "all", "borrower", "", "", "", "0"],
                 ["g5", "all", "mixed", "", "", "", "0"],
                 ["g6", "all", "mixed", "", "", "", "0"],
             ], ["Groups: saver = 储蓄型, investor = 投资型, borrower = 贷款型, mixed = 综合型"])

    # rfm_segments: all 125 score combinations plus missing scores, against the
    # boxes of the issue (first match wins; between is inclusive).
    boxes = [("champions", 5, 5, 5, 5, 5, 5), ("potential_loyalist", 3, 5, 3, 5, 2, 5),
             ("loyal_customers", 2, 4, 2, 4, 2, 4), ("promising", 3, 4, 1, 3, 3, 5),
             ("new_customers", 4, 5, 1, 3, 1, 5), ("cant_lose_them", 1, 2, 3, 4, 4, 5),
             ("at_risk", 1, 2, 2, 5, 4, 5), ("need_attention", 1, 3, 3, 5, 3, 5),
             ("about_to_sleep", 2, 3, 1, 3, 1, 4), ("lost", 1, 1, 1, 5, 1, 5)]
    text = "customer_id,r_score,f_score,m_score\n"
    want = []
    seen = set()
    for r in range(1, 6):
        for f in range(1, 6):
            for m in range(1, 6):
                cid = "r%df%dm%d" % (r, f, m)
                text += "%s,%d,%d,%d\n" % (cid, r, f, m)
                seg = "others"
                for b in boxes:
                    if b[1] <= r <= b[2] and b[3] <= f <= b[4] and b[5] <= m <= b[6]:
                        seg = b[0]
                        break
                seen.add(seg)
                want.append([cid, seg, {"r_score": r, "f_score": f, "m_score": m}])
    text += "missing_r,,5,5\n"
    want.append(["missing_r", "others", {"r_score": NAN, "f_score": 5, "m_score": 5}])
    ids = [b[0] for b in boxes] + ["others"]
    # tiers.h: "x between a and b" is analysed as x >= a and x <= b, in rule
    # order (r, f, m), so gaps are reported towards the next higher box.
    rules = [(b[0], [("r_score", ">=", b[1]), ("r_score", "<=", b[2]),
                     ("f_score", ">=", b[3]), ("f_score", "<=", b[4]),
                     ("m_score", ">=", b[5]), ("m_score", "<=", b[6])], None) for b in boxes]
    rules.append(("others", None, None))
    rows = []
    for cid, seg, vals in want:
        k = ids.index(seg)
        nxt, col, g, crit = gap_of(vals, rules, k, 0.10)
        rows.append([cid, seg, "", ids[nxt] if nxt >= 0 else "", col or "", fmt_gap(g),
                     str(crit)])
    expect(seen == set(ids), "rfm grid reaches every segment", sorted(set(ids) - seen))
    run_case(exe, tmp, "rfm_segments (125 score cells)", text,
             ["--rules", T("rfm_segments.tiers")], rows, ["(tier, 11 tiers)", "no tier is shadowed"])

    # A UTF-8 column name in backquotes, --aum-column, and a comma in a quoted id.
    utf = os.path.join(tmp, "utf8.tiers")
    write(utf, 'tier vip "贵宾" when `月日均资产` >= 1000000\ntier std "标准" otherwise\n')
    data = ('customer_id,月日均资产\n'
            '"a,1",1500000\n'         # vip
            'b,950000\n'              # std: 50000 short, 5%: critical
            'c,\n'                    # std, missing
            'd,100\n')                # std
    rows = [["a,1", "vip", "", "", "", "", "0"],
            ["b", "std", "", "vip", "月日均资产", "50000", "1"],
            ["c", "std", "", "vip", "月日均资产", "", "0"],
            ["d", "std", "", "vip", "月日均资产", "999900", "0"]]
    run_case(exe, tmp, "UTF-8 column, --aum-column", data,
             ["--rules", utf, "--aum-column", "月日均资产"], rows,
             ["AUM share (column '月日均资产'; 1 customers with a missing value count as 0)"])
    out = run_case(exe, tmp, "absent AUM column: sizes only", data, ["--rules", utf], rows,
                   ["(no column 'aum', so no AUM share)"], ["AUM %"])
    _, sizes = table_after(out, "Tier Name Customers", 3)
    expect(sizes == [["vip", "贵宾", "1", "25.0%", "0"], ["std", "标准", "3", "75.0%", "1"],
                     ["Total", "4", "100.0%", "1"]], "sizes-only table", sizes)

    # Coverage: an unreachable tier and no catch-all.
    cov = os.path.join(tmp, "coverage.tiers")
    write(cov, 'tier a "A" when aum >= 100\n'
               'tier b "B" when aum >= 200\n'            # inside a: unreachable
               'tier c "C" when aum >= 50 and txn_90d >= 1\n')
    data = "customer_id,aum,txn_90d\nx,150,0\ny,60,1\nz,60,0\n"
    run_case(exe, tmp, "coverage: unreachable tier, no otherwise", data, ["--rules", cov], [
        ["x", "a", "", "", "", "", "0"],
        ["y", "c", "", "b", "aum", "140", "0"],
        ["z", "", "", "", "", "", "0"],
    ], ["warning: tier 'b' can never match: tier 'a' (earlier)",
        "warning: no 'otherwise' tier: a customer that matches no rule gets no tier "
        "(1 customers in this run)", "(none)"],
        ["tier 'c' can never match", "tier 'a' can never match"])


# --------------------------------------------------------------------------
# 5. Errors and usage.

def check_errors(exe, tiers_dir, customers_path, tmp):
    rules = os.path.join(tiers_dir, "value_pyramid.tiers")

    def rules_error(name, text, line, col, needle, groups=False):
        path = os.path.join(tmp, name)
        write(path, text)
        args = ["--rules", rules, "--groups", path] if groups else ["--rules", path]
        rc, out, err = run(exe, *(args + [customers_path]))
        prefix = "%s:%d:%d: " % (path, line, col)
        expect(rc == 1 and err.startswith(prefix) and needle in err.splitlines()[0],
               "bad rules %s: exit 1, message starts '%s:%d:%d:'" % (name, name, line, col),
               "exit %d, stderr %r" % (rc, err))

    # "tier b "B" when aum >= and": 'and' starts at byte 24 of line 3.
    rules_error("syntax.tiers", '# comment\ntier a "A" when aum >= 100\n'
                'tier b "B" when aum >= and txn_90d >= 1\ntier c "C" otherwise\n', 3, 24, "'and'")
    rules_error("column.tiers", 'tier a "A" when balance >= 1\ntier b "B" otherwise\n', 1, 17,
                "'balance'")
    rules_error("keyword.tiers", 'tier a "A" when aum >= 1\nlevel b "B" otherwise\n', 2, 1,
                "'tier' or 'group'")
    rules_error("duplicate.tiers", 'tier a "A" when aum >= 1\ntier a "B" otherwise\n', 2, 6,
                "twice")
    # ')' is at byte 46 of 'group a "A" when days_since_last_activity <= )'.
    rules_error("groups.tiers", 'group a "A" when days_since_last_activity <= )\n', 1, 46,
                "')'", groups=True)

    def fails(what, code, args, *needles):
        rc, out, err = run(exe, *args)
        missing = [n for n in needles if n not in err]
        expect(rc == code and not missing and err.startswith("bank_tiers: "),
               "%s: exit %d" % (what, code), "exit %d, stderr %r lacks %r" % (rc, err, missing))

    fails("rules file missing", 1, ["--rules", os.path.join(tmp, "nope.tiers"), customers_path],
          "nope.tiers")
    fails("CUSTOMERS.csv missing", 1, ["--rules", rules, os.path.join(tmp, "nope.csv")],
          "cannot open", "nope.csv")
    bad = os.path.join(tmp, "bad_value.csv")
    write(bad, "customer_id,aum,txn_90d\nA,1,2\nB,12x,3\n")
    fails("bad number", 1, ["--rules", rules, bad], "bad_value.csv:3:", "'aum'", "'12x'")
    write(bad, "customer_id,aum,txn_90d\nA,1,2\nB,3\n")
    fails("short record", 1, ["--rules", rules, bad], "bad_value.csv:3:")
    write(bad, "customer_id,aum,txn_90d\nA,1,2\nB,3,4\nA,5,6\n")
    fails("duplicate customer", 1, ["--rules", rules, bad], "'A' appears twice")
    write(bad, "aum,txn_90d\n1,2\n")
    fails("no customer_id column", 1, ["--rules", rules, bad], "customer_id")
    write(bad, "customer_id,aum\n")
    fails("no data rows", 1, ["--rules", rules, bad], "no data rows")
    write(bad, "customer_id,aum,txn_90d\nA,1,2\n")
    rc, out, err = run(exe, "--rules", os.path.join(tiers_dir, "groups_product.tiers"), bad)
    expect(rc == 1 and "groups_product.tiers:" in err and "deposit_share" in err,
           "rule column missing from the data names the column", err)
    prev = os.path.join(tmp, "dup_prev.csv")
    write(prev, "customer_id,tier\nA,gold\nA,mass\n")
    fails("duplicate customer in PREV", 1, ["--rules", rules, "--prev", prev, bad],
          "dup_prev.csv:3:", "twice")
    write(prev, "customer_id,level\nA,gold\n")
    fails("PREV without a tier column", 1, ["--rules", rules, "--prev", prev, bad], "'tier'")

    rc, out, err = run(exe, "--help")
    expect(rc == 0 and out.startswith("Usage: bank_tiers") and err == "", "--help exits 0")
    rc, out, err = run(exe, "-h")
    expect(rc == 0 and out.startswith("Usage: bank_tiers"), "-h exits 0")
    fails("no arguments", 2, [], "missing --rules")
    fails("missing CUSTOMERS.csv argument", 2, ["--rules", rules], "missing CUSTOMERS.csv")
    fails("missing --rules", 2, [customers_path], "missing --rules")
    fails("unknown option", 2, ["--rules", rules, "--tiers", "x", customers_path],
          "unknown option '--tiers'")
    fails("option without its value", 2, [customers_path, "--rules"], "missing value")
    fails("two input files", 2, ["--rules", rules, customers_path, customers_path],
          "more than one")
    for v in ("-0.1", "abc", "nan", "inf", "0.1x"):
        fails("--critical %s" % v, 2, ["--rules", rules, "--critical", v, customers_path],
              "--critical")
    rc, out, err = run(exe, "--rules=" + rules, "--critical=0", "--", customers_path)
    expect(rc == 0 and "within 0% of its threshold" in out, "--opt=value, --critical 0 and --",
           "exit %d, %r" % (rc, err))


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    exe, tiers_dir, customers_path, prev_path = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        check_sample(exe, tiers_dir, customers_path, prev_path, tmp)
        check_hand_cases(exe, tiers_dir, tmp)
        check_errors(exe, tiers_dir, customers_path, tmp)
    if failures:
        print("\n%d check(s) failed:\n  %s" % (len(failures), "\n  ".join(failures)))
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
