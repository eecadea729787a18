#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Independent reference for the crm_rfm example test: the R package rfm 0.3.0
algorithm written directly in pandas/numpy. It does not use libsegment or
crm_rfm, so the expected files it writes can catch mistakes in either.

    /usr/bin/python3 make_expected.py orders INPUT.csv AS_OF OUT.csv
    /usr/bin/python3 make_expected.py customers INPUT.csv OUT.csv

The algorithm (rfm_table_order / rfm_table_customer in rfm 0.3.0, k = 5 bins):
- orders: group by customer_id; last order date, number of rows, sum of
  revenue; recency_days = AS_OF - last order date, in days.
  customers: recency_days, number_of_orders and revenue are used as given.
- thresholds t_j = quantile(x, j/k, type 7) + 1 for j = 1..k-1 (numpy's
  default 'linear' method is R's type 7);
- frequency and monetary score = 1 + #{j : t_j <= x};
  recency score = k - #{j : t_j <= recency_days} (recent = high);
- rfm_score = 100 R + 10 F + M;
- segment: the rfm vignette's ten boxes below, first match wins, "Others"
  when none matches.
Rows are written in byte order of customer_id.

Run it with /usr/bin/python3 (Debian's python3-pandas and python3-numpy).
"""
import csv
import sys

import numpy as np
import pandas as pd

K = 5

# (name, r_lo, r_hi, f_lo, f_hi, m_lo, m_hi), first match wins.
RFM10 = [
    ("Champions", 5, 5, 5, 5, 5, 5),
    ("Potential Loyalist", 3, 5, 3, 5, 2, 5),
    ("Loyal Customers", 2, 4, 2, 4, 2, 4),
    ("Promising", 3, 4, 1, 3, 3, 5),
    ("New Customers", 4, 5, 1, 3, 1, 5),
    ("Can't Lose Them", 1, 2, 3, 4, 4, 5),
    ("At Risk", 1, 2, 2, 5, 4, 5),
    ("Need Attention", 1, 3, 3, 5, 3, 5),
    ("About To Sleep", 2, 3, 1, 3, 1, 4),
    ("Lost", 1, 1, 1, 5, 1, 5),
]
OTHERS = "Others"

HEADER = ["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score",
          "m_score", "rfm_score", "segment"]


def thresholds(x, k=K):
    probs = [j / k for j in range(1, k)]
    return np.quantile(np.asarray(x, dtype=float), probs, method="linear") + 1.0


def count_le(t, x):
    """Number of thresholds <= each value of x."""
    x = np.asarray(x, dtype=float)
    return (t[np.newaxis, :] <= x[:, np.newaxis]).sum(axis=1)


def segment(r, f, m):
    for name, rl, rh, fl, fh, ml, mh in RFM10:
        if rl <= r <= rh and fl <= f <= fh and ml <= m <= mh:
            return name
    return OTHERS


def score_table(ids, recency, frequency, monetary, k=K):
    recency = np.asarray(recency, dtype=float)
    frequency = np.asarray(frequency, dtype=float)
    monetary = np.asarray(monetary, dtype=float)
    r = k - count_le(thresholds(recency, k), recency)
    f = 1 + count_le(thresholds(frequency, k), frequency)
    m = 1 + count_le(thresholds(monetary, k), monetary)
    out = pd.DataFrame({
        "customer_id": list(ids),
        "recency_days": recency,
        "frequency": frequency,
        "monetary": monetary,
        "r_score": r.astype(int),
        "f_score": f.astype(int),
        "m_score": m.astype(int),
    })
    out["rfm_score"] = 100 * out.r_score + 10 * out.f_score + out.m_score
    out["segment"] = [segment(a, b, c) for a, b, c in zip(out.r_score, out.f_score, out.m_score)]
    order = sorted(range(len(out)), key=lambda i: out.customer_id.iloc[i].encode("utf-8"))
    return out.iloc[order].reset_index(drop=True)


def from_orders(path, as_of):
    df = pd.read_csv(path, dtype={"customer_id": str, "order_date": str},
                     keep_default_na=False, usecols=["customer_id", "order_date", "revenue"])
    df["order_date"] = pd.to_datetime(df["order_date"], format="%Y-%m-%d")
    g = df.groupby("customer_id", sort=False).agg(
        last=("order_date", "max"), frequency=("order_date", "size"),
        monetary=("revenue", "sum"))
    recency = (pd.Timestamp(as_of) - g["last"]).dt.days
    return score_table(g.index, recency, g["frequency"], g["monetary"])


def from_customers(path):
    df = pd.read_csv(path, dtype={"customer_id": str}, keep_default_na=False,
                     usecols=["customer_id", "recency_days", "number_of_orders", "revenue"])
    if not df.customer_id.is_unique:
        raise SystemExit("duplicate customer_id in " + path)
    return score_table(df.customer_id, df.recency_days, df.number_of_orders, df.revenue)


def fmt(v):
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def write(table, path):
    with open(path, "w", newline="", encoding="utf-8") as fp:
        w = csv.writer(fp, lineterminator="\n")
        w.writerow(HEADER)
        for row in table.itertuples(index=False):
            w.writerow([row.customer_id, fmt(row.recency_days), fmt(row.frequency),
                        fmt(row.monetary), row.r_score, row.f_score, row.m_score,
                        row.rfm_score, row.segment])


def main(argv):
    if len(argv) == 5 and argv[1] == "orders":
        write(from_orders(argv[2], argv[3]), argv[4])
    elif len(argv) == 4 and argv[1] == "customers":
        write(from_customers(argv[2]), argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
