#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Command-line and CSV-reading checks for crm_rfm.

    check_cli.py CRM_RFM [ORDERS.csv]

1. A hand-worked CSV: BOM, CRLF line ends, columns in another order, an extra
   quoted column holding commas, quotes and a line break, ids with a comma
   and with "" escapes, non-ASCII ids. Scores worked out by hand with median
   binning (scheme classic8), with and without --as-of.
2. Bad inputs: missing file, missing column, bad dates (the message must name
   the line and the value), an order after --as-of, a bad number, a quote in
   an unquoted field, an unclosed quote, a duplicate customer with
   --customer-level, --bins 11, --bins 3 with rfm10, --binning mean with
   rfm10, unknown options, a missing input argument.
3. classic8 with the default binning switches to median and says so.
4. With ORDERS.csv: the rows reversed give byte-identical scores for every
   binning method (customers are numbered by customer_id, so even rank
   binning does not depend on row order).
Standard library only.
"""
import csv
import io
import os
import subprocess
import sys
import tempfile

failures = []


def run(exe, *args):
    p = subprocess.run([exe] + list(args), capture_output=True, text=True, encoding="utf-8",
                       errors="replace")
    return p.returncode, p.stdout, p.stderr


def expect(cond, what, detail=""):
    if cond:
        print("ok   " + what)
    else:
        print("FAIL " + what + ("\n     " + detail.replace("\n", "\n     ") if detail else ""))
        failures.append(what)


def expect_error(exe, what, args, code, *needles):
    rc, out, err = run(exe, *args)
    missing = [n for n in needles if n not in err]
    expect(rc == code and not missing and err.startswith("crm_rfm: "),
           what, "exit %d (want %d), stderr %r lacks %r" % (rc, code, err, missing))


def write(path, text, newline="\n", bom=False):
    with open(path, "w", encoding="utf-8", newline="") as fp:
        if bom:
            fp.write("\ufeff")
        fp.write(text.replace("\n", newline))


# Hand-worked case (analysis date 2020-01-11, the day after the last order):
#   'Smith, "Jr"': 2020-01-10 100, 2020-01-01 50  -> R 1 day,  F 2, M 150
#   'Ünïcode':     2019-12-01 10                   -> R 41,     F 1, M 10
#   'plain':       2020-01-05/06/07 30 each        -> R 4,      F 3, M 90
#   'a,b':         2019-11-01 500                  -> R 71,     F 1, M 500
# Medians: recency 22.5 (<= is high: Smith 2, plain 2, others 1),
#          frequency 1.5 (Smith 2, plain 2, others 1),
#          monetary 120 (Smith 2, a,b 2, others 1).
# Byte order of ids: 'Smith, "Jr"' < 'a,b' < 'plain' < 'Ünïcode'.
HAND_CSV = (
    'revenue,note,order_date,customer_id\n'
    '100,"first, ""best"" order",2020-01-10,"Smith, ""Jr"""\n'
    '10,plain note,2019-12-01,Ünïcode\n'
    '30,"two\nlines",2020-01-05,plain\n'
    '50,,2020-01-01,"Smith, ""Jr"""\n'
    '30,,2020-01-06,plain\n'
    '\n'
    '30,x,2020-01-07,plain\n'
    '500,"",2019-11-01,"a,b"\n'
)
HAND_EXPECTED = [
    ['Smith, "Jr"', "1", "2", "150", "2", "2", "2", "222"],
    ["a,b", "71", "1", "500", "1", "1", "2", "112"],
    ["plain", "4", "3", "90", "2", "2", "1", "221"],
    ["Ünïcode", "41", "1", "10", "1", "1", "1", "111"],
]


def check_hand(exe, tmp):
    path = os.path.join(tmp, "hand.csv")
    write(path, HAND_CSV, newline="\r\n", bom=True)
    for extra in ([], ["--as-of", "2020-01-11"]):
        out_csv = os.path.join(tmp, "hand_scores.csv")
        rc, out, err = run(exe, "--scheme", "classic8", "--binning", "median", *extra,
                           "--scores", out_csv, path)
        label = "hand-worked CSV, classic8/median" + (" --as-of" if extra else "")
        if rc != 0:
            expect(False, label, "exit %d, stderr %r" % (rc, err))
            continue
        with open(out_csv, newline="", encoding="utf-8") as fp:
            text = fp.read()
        rows = list(csv.reader(io.StringIO(text)))
        got = [r[:8] for r in rows[1:]]
        segs = [r[8] for r in rows[1:]]
        expect(rows[0] == ["customer_id", "recency_days", "frequency", "monetary", "r_score",
                           "f_score", "m_score", "rfm_score", "segment"],
               label + ": header", repr(rows[0]))
        expect(got == HAND_EXPECTED, label + ": scores", "got %r\nwant %r" % (got, HAND_EXPECTED))
        expect('"Smith, ""Jr""",' in text and '"a,b",' in text,
               label + ": ids quoted in the scores file", text)
        expect(all(s for s in segs) and len(set(segs)) == 4,
               label + ": four different classic8 segments", repr(segs))
        expect("analysis date 2020-01-11" in out and "4 customers, 7 orders" in out,
               label + ": report header", out)
        expect(err == "", label + ": nothing on stderr", err)


def check_errors(exe, tmp):
    good = os.path.join(tmp, "good.csv")
    write(good, "customer_id,order_date,revenue\na,2020-01-01,1\nb,2020-01-02,2\n")
    missing = os.path.join(tmp, "no_such_file.csv")
    expect_error(exe, "missing input file", [missing], 1, "no_such_file.csv",
                 "No such file")

    nocol = os.path.join(tmp, "nocol.csv")
    write(nocol, "customer_id,date,revenue\na,2020-01-01,1\n")
    expect_error(exe, "missing column", [nocol], 1, "nocol.csv", "'order_date'")

    nocol2 = os.path.join(tmp, "nocol2.csv")
    write(nocol2, "customer_id,recency_days,revenue\na,1,1\n")
    expect_error(exe, "missing column (customer-level)", ["--customer-level", nocol2], 1,
                 "'number_of_orders'")

    empty = os.path.join(tmp, "empty.csv")
    write(empty, "")
    expect_error(exe, "empty file", [empty], 1, "empty.csv")

    header_only = os.path.join(tmp, "header_only.csv")
    write(header_only, "customer_id,order_date,revenue\n")
    expect_error(exe, "header without rows", [header_only], 1, "no data rows")

    for bad in ["2020-02-30", "2020-13-01", "2020-1-05", "05/01/2020", "2020-01-01x",
                "2019-02-29", ""]:
        path = os.path.join(tmp, "baddate.csv")
        write(path, "customer_id,order_date,revenue\na,2020-01-01,1\n"
                    '"x\ny",2020-01-02,2\nb,%s,3\n' % bad)
        # the record with the bad date starts on line 5 (the quoted id spans 3-4)
        expect_error(exe, "bad date %r names line and value" % bad, [path], 1,
                     "baddate.csv:5:", "'%s'" % bad, "order_date")
    leap = os.path.join(tmp, "leap.csv")
    write(leap, "customer_id,order_date,revenue\na,2020-02-29,1\nb,2000-02-29,2\n")
    rc, out, err = run(exe, "--scheme", "classic8", "--binning", "mean", leap)
    expect(rc == 0 and "analysis date 2020-03-01" in out,
           "leap days accepted, day after 2020-02-29 is 2020-03-01", out + err)

    expect_error(exe, "order after --as-of", ["--as-of", "2020-01-01", good], 1,
                 "good.csv:3:", "2020-01-02", "after the analysis date")
    expect_error(exe, "bad --as-of", ["--as-of", "2020-02-31", good], 2, "--as-of",
                 "2020-02-31")

    for bad in ["abc", "1e", "nan", "inf", "0x10", ""]:
        path = os.path.join(tmp, "badnum.csv")
        write(path, "customer_id,order_date,revenue\na,2020-01-01,%s\n" % bad)
        expect_error(exe, "bad revenue %r" % bad, [path], 1, "badnum.csv:2:", "revenue")

    emptyid = os.path.join(tmp, "emptyid.csv")
    write(emptyid, "customer_id,order_date,revenue\n,2020-01-01,1\n")
    expect_error(exe, "empty customer_id", [emptyid], 1, "emptyid.csv:2:", "customer_id")

    short = os.path.join(tmp, "short.csv")
    write(short, "customer_id,order_date,revenue\na,2020-01-01\n")
    expect_error(exe, "short row", [short], 1, "short.csv:2:")

    quote = os.path.join(tmp, "quote.csv")
    write(quote, 'customer_id,order_date,revenue\na"b,2020-01-01,1\n')
    expect_error(exe, "quote inside an unquoted field", [quote], 1, "quote.csv:2:")

    unclosed = os.path.join(tmp, "unclosed.csv")
    write(unclosed, 'customer_id,order_date,revenue\na,2020-01-01,1\n"b,2020-01-02,2\n')
    expect_error(exe, "unclosed quote", [unclosed], 1, "unclosed.csv:3:", "not closed")

    after = os.path.join(tmp, "after.csv")
    write(after, 'customer_id,order_date,revenue\n"a"x,2020-01-01,1\n')
    expect_error(exe, "text after a closing quote", [after], 1, "after.csv:2:")

    dup = os.path.join(tmp, "dup.csv")
    write(dup, "customer_id,recency_days,number_of_orders,revenue\n7,1,1,1\n8,2,2,2\n7,3,3,3\n")
    expect_error(exe, "duplicate customer (customer-level)", ["--customer-level", dup], 1,
                 "dup.csv:4:", "'7'")
    negrec = os.path.join(tmp, "negrec.csv")
    write(negrec, "customer_id,recency_days,number_of_orders,revenue\n7,-1,1,1\n")
    expect_error(exe, "negative recency_days (customer-level)", ["--customer-level", negrec],
                 1, "negrec.csv:2:", "recency_days")

    expect_error(exe, "--bins 11", ["--bins", "11", good], 2, "--bins", "11")
    expect_error(exe, "--bins 1", ["--bins=1", good], 2, "--bins")
    expect_error(exe, "--bins abc", ["--bins", "abc", good], 2, "--bins")
    expect_error(exe, "--bins 3 with rfm10", ["--bins", "3", good], 2, "rfm10", "--bins")
    expect_error(exe, "--bins 4 with rfgrid", ["--bins", "4", "--scheme", "rfgrid", good], 2,
                 "rfgrid")
    expect_error(exe, "--binning mean with rfm10", ["--binning", "mean", good], 2, "mean",
                 "rfm10")
    expect_error(exe, "unknown --binning", ["--binning", "quartile", good], 2, "quartile")
    expect_error(exe, "unknown --scheme", ["--scheme", "nope", good], 2, "nope")
    expect_error(exe, "unknown option prints usage", ["--frobnicate", good], 2,
                 "--frobnicate", "Usage: crm_rfm")
    expect_error(exe, "missing option value", [good, "--scores"], 2, "--scores", "Usage:")
    expect_error(exe, "empty option value", ["--scores=", good], 2, "empty value", "--scores",
                 "Usage:")
    expect_error(exe, "two inputs after --", ["--", good, good], 2, "more than one", "Usage:")
    expect_error(exe, "no input", [], 2, "Usage:")
    expect_error(exe, "two inputs", [good, good], 2, "Usage:")
    expect_error(exe, "unwritable --scores", ["--scores", os.path.join(tmp, "no", "dir.csv"),
                                              "--scheme", "classic8", "--binning", "mean",
                                              good], 1, "dir.csv")

    rc, out, err = run(exe, "--scheme", "classic8", good)
    expect(rc == 0 and "median" in err and "classic8" in err,
           "classic8 with default binning switches to median, on stderr", err)
    rc, out, err = run(exe, "--help")
    expect(rc == 0 and out.startswith("Usage: crm_rfm") and "Win-back" in out and err == "",
           "--help on stdout, exit 0", err)


def check_row_order(exe, tmp, orders):
    with open(orders, encoding="utf-8", newline="") as fp:
        lines = fp.read().splitlines(keepends=True)
    rev = os.path.join(tmp, "reversed.csv")
    with open(rev, "w", encoding="utf-8", newline="") as fp:
        fp.write(lines[0] + "".join(reversed(lines[1:])))
    for binning in ["r-compatible", "rank", "ties"]:
        outs = []
        for i, path in enumerate([orders, rev]):
            out = os.path.join(tmp, "order%d.csv" % i)
            rc, stdout, err = run(exe, "--binning", binning, "--scores", out, path)
            with open(out, "rb") as fp:
                outs.append((rc, fp.read() if rc == 0 else b""))
        expect(outs[0][0] == 0 and outs[0] == outs[1] and len(outs[0][1]) > 1000,
               "--binning %s: reversed rows give identical scores" % binning)


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    exe = argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        check_hand(exe, tmp)
        check_errors(exe, tmp)
        if len(argv) == 3:
            check_row_order(exe, tmp, argv[2])
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
