#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Runs crm_rfm with --scores and compares the scores file, field by field,
with an expected file written by make_expected.py (an independent pandas
implementation of the R package rfm 0.3.0 algorithm).

    check_scores.py CRM_RFM EXPECTED.csv [--orders-known-answers] -- CRM_RFM_ARGS...

Checks:
- crm_rfm exits 0;
- same header and the same customers in the same (byte) order;
- recency_days and frequency equal, monetary within 1e-9 (relative to
  max(1, |expected|)); r_score, f_score, m_score, rfm_score and segment exact;
- the printed summary (customers and revenue per segment) agrees with the
  expected file, and so does the printed win-back list (the 10 customers
  with the highest monetary among those with r_score <= 2, ties by higher
  frequency, then customer_id);
- with --orders-known-answers (for examples/data/orders.csv): 995 customers
  and a frequency sum of 4906, the figures published by the rfm package's
  own tests for this data set.
Standard library only.
"""
import csv
import os
import re
import subprocess
import sys
import tempfile

MAX_REPORTED = 20


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fp:
        rows = list(csv.reader(fp))
    if not rows:
        raise SystemExit("%s: empty file" % path)
    return rows[0], rows[1:]


def num(s):
    return float(s) if s != "" else float("nan")


def compare(got_path, expected_path):
    """Returns a list of difference messages."""
    ghead, grows = read_csv(got_path)
    ehead, erows = read_csv(expected_path)
    diffs = []
    if ghead != ehead:
        return ["header: got %r, expected %r" % (ghead, ehead)]
    if len(grows) != len(erows):
        diffs.append("row count: got %d, expected %d" % (len(grows), len(erows)))
    col = {name: i for i, name in enumerate(ehead)}
    for line, (g, e) in enumerate(zip(grows, erows), start=2):
        if len(g) != len(e):
            diffs.append("line %d: %d fields, expected %d" % (line, len(g), len(e)))
            continue
        cid = e[col["customer_id"]]
        if g[col["customer_id"]] != cid:
            diffs.append("line %d: customer_id %r, expected %r (order or set of customers "
                         "differs)" % (line, g[col["customer_id"]], cid))
            continue
        for name in ehead[1:]:
            gv, ev = g[col[name]], e[col[name]]
            if name == "monetary":
                ok = abs(num(gv) - num(ev)) <= 1e-9 * max(1.0, abs(num(ev)))
            elif name in ("recency_days", "frequency"):
                ok = num(gv) == num(ev)
            else:
                ok = gv == ev
            if not ok:
                diffs.append("customer %r: %s: crm_rfm %r, expected %r" % (cid, name, gv, ev))
    return diffs


def check_summary(stdout, expected_path):
    """Compares the printed segment table and win-back list with the expected file."""
    _, erows = read_csv(expected_path)
    diffs = []
    counts, revenue = {}, {}
    for row in erows:
        seg = row[8]
        counts[seg] = counts.get(seg, 0) + 1
        revenue[seg] = revenue.get(seg, 0.0) + float(row[3])
    lines = stdout.splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if l.startswith("Segment "))
    except StopIteration:
        return ["no segment table in the output"]
    printed = {}
    pattern = re.compile(r"^(.*?)\s+(\d+)\s+([\d.]+)%\s+(-?[\d.]+)\s+([\d.]+)%$")
    for l in lines[start + 1:]:
        mt = pattern.match(l)
        if not mt:
            break
        printed[mt.group(1)] = (int(mt.group(2)), float(mt.group(4)))
    total = printed.pop("Total", None)
    if total is None or total[0] != len(erows):
        diffs.append("summary: Total row %r, expected %d customers" % (total, len(erows)))
    for seg, n in counts.items():
        got = printed.get(seg)
        if got is None or got[0] != n or abs(got[1] - round(revenue[seg], 2)) > 0.006:
            diffs.append("summary: segment %r printed as %r, expected (%d, %.2f)"
                         % (seg, got, n, revenue[seg]))
    for seg, (n, _) in printed.items():
        if seg not in counts and n != 0:
            diffs.append("summary: segment %r has %d customers, expected none" % (seg, n))

    # Win-back list.
    cand = [r for r in erows if int(r[4]) <= 2]
    cand.sort(key=lambda r: (-float(r[3]), -float(r[2]), r[0].encode("utf-8")))
    want = [r[0] for r in cand[:10]]
    try:
        head = next(i for i, l in enumerate(lines) if l.startswith("rank  customer_id"))
    except StopIteration:
        return diffs + ["no win-back table in the output"]
    header = lines[head]
    id_start, seg_start = header.index("customer_id"), header.index("segment")
    got = [l[id_start:seg_start].strip() for l in lines[head + 1:head + 1 + len(want)]]
    if got != want:
        diffs.append("win-back list: got %r, expected %r" % (got, want))
    return diffs


def main(argv):
    if len(argv) < 4 or "--" not in argv:
        sys.exit(__doc__)
    sep = argv.index("--")
    exe, expected = argv[1], argv[2]
    known = "--orders-known-answers" in argv[3:sep]
    args = argv[sep + 1:]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "scores.csv")
        cmd = [exe] + args + ["--scores", out]
        proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8")
        print("$ " + " ".join(cmd))
        print(proc.stdout, end="")
        print(proc.stderr, end="", file=sys.stderr)
        if proc.returncode != 0:
            print("FAIL: crm_rfm exited with %d" % proc.returncode)
            return 1
        diffs = []
        if known:
            _, rows = read_csv(out)
            fsum = sum(float(r[2]) for r in rows)
            if len(rows) != 995:
                diffs.append("known answer: %d customers, expected 995" % len(rows))
            if fsum != 4906:
                diffs.append("known answer: frequency sum %g, expected 4906" % fsum)
        diffs += compare(out, expected)
        diffs += check_summary(proc.stdout, expected)
    if diffs:
        print("FAIL: %d difference(s) against %s; the first ones:" % (len(diffs), expected))
        for d in diffs[:MAX_REPORTED]:
            print("  " + d)
        return 1
    print("OK: scores match %s" % os.path.basename(expected))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
