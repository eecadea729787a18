#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the synthetic bank sample used by examples/bank_tiers.c.

    /usr/bin/python3 examples/data/make_bank_sample.py [OUTDIR]

OUTDIR defaults to the directory of this script. Writes:

customers_bank.csv, one row per customer (2000 rows):
    customer_id               C00001 .. C02000
    aum                       assets under management, yuan, 2 decimals; a
                              log-normal bulk (median about 20,000) plus wealthy
                              and private-banking customers, and customers placed
                              on purpose near the tier lines of
                              examples/tiers/value_pyramid.tiers (50,000,
                              450,000-500,000, 6,000,000), some exactly on them
    txn_90d                   transactions in the last 90 days (0 when the last
                              activity is older than 90 days)
    deposit_share, investment_share, loan_share
                              product shares, 3 decimals, summing to 1
    days_since_last_activity  whole days
  A few fields are empty (missing): aum, txn_90d, days_since_last_activity and
  all three shares, each for a handful of customers; one customer lacks both
  aum and txn_90d, and two have aum 0 and txn_90d 0.

customers_bank_prev.csv, `customer_id,tier`: last month's tier ids, computed
with the value-pyramid `when` rules from last month's balances (this month's
scaled by a random monthly change, with some large moves and some customers
placed just above 500,000 last month so the `keep` rule shows). About 4% of
the customers are absent (new accounts), five have an empty tier, and eight
rows name closed accounts that are not in customers_bank.csv. Rows are
shuffled.

Everything is synthetic (numpy's default_rng with a fixed seed): no real
customer is described. Needs numpy.
"""
import csv
import math
import os
import sys

import numpy as np

SEED = 20240611
N = 2000


def tier_of(aum, txn):
    """The value pyramid's `when` rules (no hysteresis), first match wins."""
    if not math.isnan(aum) and aum >= 6000000:
        return "private_banking"
    if not math.isnan(aum) and aum >= 500000:
        return "wealth"
    if not math.isnan(aum) and not math.isnan(txn) and aum >= 50000 and txn >= 1:
        return "gold"
    return "mass"


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = np.random.default_rng(SEED)

    # Balances: a skewed bulk, then overwrite some customers with chosen ranges.
    aum = np.round(rng.lognormal(mean=math.log(20000), sigma=1.5, size=N), 2)
    idx = rng.permutation(N)
    pos = 0

    def take(k):
        nonlocal pos
        sel = idx[pos:pos + k]
        pos += k
        return sel

    rich = take(18)          # private banking
    aum[rich] = np.round(rng.lognormal(math.log(12e6), 0.5, size=18), 2)
    aum[rich] = np.maximum(aum[rich], 6000000)
    near_pb = take(8)        # 5.4M .. 6M: critical for private banking
    aum[near_pb] = np.round(rng.uniform(5400000, 5999999, size=8), 2)
    wealthy = take(90)       # wealth
    aum[wealthy] = np.round(rng.lognormal(math.log(1.2e6), 0.6, size=90), 2)
    aum[wealthy] = np.clip(aum[wealthy], 500000, 5399999)
    near_w = take(40)        # 440k .. 500k: around the keep line and critical
    aum[near_w] = np.round(rng.uniform(440000, 499999.99, size=40), 2)
    near_g = take(50)        # 44k .. 50k: critical for gold
    aum[near_g] = np.round(rng.uniform(44000, 49999.99, size=50), 2)
    exact = take(6)          # exactly on the lines
    aum[exact] = [6000000, 500000, 450000, 50000, 45000, 49999.99]

    # Activity: 60% active, 25% dormant, 15% churned.
    state = rng.choice(3, size=N, p=[0.60, 0.25, 0.15])
    days = np.where(state == 0, rng.integers(0, 31, size=N),
                    np.where(state == 1, rng.integers(31, 181, size=N),
                             rng.integers(181, 1100, size=N))).astype(float)
    txn = np.where(days <= 90, rng.poisson(5, size=N), 0).astype(float)
    # Wealthier customers are the more active ones, mostly.
    rich_all = np.concatenate([rich, near_pb, wealthy])
    txn[rich_all] = np.maximum(txn[rich_all], rng.poisson(3, size=len(rich_all)))
    # Some gold-sized balances with no transaction: they fail `txn_90d >= 1`.
    idle = take(25)
    aum[idle] = np.round(rng.uniform(50000, 400000, size=25), 2)
    txn[idle] = 0
    days[idle] = rng.integers(91, 400, size=25)

    # Product shares: Dirichlet by customer type (saver, investor, borrower, mixed).
    kind = rng.choice(4, size=N, p=[0.45, 0.2, 0.2, 0.15])
    alpha = np.array([[8, 2, 1], [2, 6, 1], [2, 1, 6], [3, 3, 3]], dtype=float)
    shares = np.vstack([rng.dirichlet(alpha[k]) for k in kind])
    shares = np.round(shares, 3)
    shares[:, 2] = np.round(1 - shares[:, 0] - shares[:, 1], 3)
    shares = np.maximum(shares, 0)

    # Missing values.
    miss_aum = take(6)
    aum[miss_aum] = np.nan
    miss_txn = take(6)
    txn[miss_txn] = np.nan
    aum[miss_txn[:4]] = np.round(rng.uniform(60000, 300000, size=4), 2)  # would be gold
    # Edge cases for the gap: two zero-balance accounts with no transaction
    # (aum and txn_90d equally far from gold, relatively: the first wins) and
    # one account with both missing.
    zero = take(2)
    aum[zero] = 0
    txn[zero] = 0
    days[zero] = [200, 400]
    both = take(1)
    aum[both] = np.nan
    txn[both] = np.nan
    miss_days = take(10)
    days[miss_days] = np.nan
    miss_shares = take(8)
    shares[miss_shares, :] = np.nan

    ids = ["C%05d" % (i + 1) for i in range(N)]

    def fmt(v, digits):
        if math.isnan(v):
            return ""
        if digits == 0 or v == 0:
            return "%d" % v
        if v == int(v) and v >= 100000:
            return "%d" % v          # some balances written without decimals
        return "%.*f" % (digits, v)

    path = os.path.join(outdir, "customers_bank.csv")
    with open(path, "w", newline="") as fp:
        w = csv.writer(fp, lineterminator="\n")
        w.writerow(["customer_id", "aum", "txn_90d", "deposit_share", "investment_share",
                    "loan_share", "days_since_last_activity"])
        for i in range(N):
            w.writerow([ids[i], fmt(aum[i], 2), fmt(txn[i], 0), fmt(shares[i, 0], 3),
                        fmt(shares[i, 1], 3), fmt(shares[i, 2], 3), fmt(days[i], 0)])

    # Last month: balances before this month's change.
    change = rng.lognormal(0, 0.05, size=N)
    big = rng.random(N) < 0.08
    change[big] = rng.lognormal(0, 0.6, size=int(big.sum()))
    aum_prev = aum / change
    txn_prev = np.where(np.isnan(txn), rng.poisson(4, size=N), txn + rng.integers(-2, 3, size=N))
    txn_prev = np.maximum(txn_prev, 0)
    # Half of the customers now at 440k-500k were above 500k last month.
    was_wealth = near_w[: len(near_w) // 2]
    aum_prev[was_wealth] = rng.uniform(500000, 560000, size=len(was_wealth))
    # Some private-banking customers slipped below 6M this month.
    aum_prev[near_pb[:4]] = rng.uniform(6000000, 6500000, size=4)
    miss_prev_aum = np.isnan(aum_prev)
    aum_prev[miss_prev_aum] = rng.lognormal(math.log(20000), 1.5, size=int(miss_prev_aum.sum()))

    rows = []
    absent = set(rng.choice(N, size=80, replace=False).tolist())
    empty_tier = set(rng.choice(sorted(set(range(N)) - absent), size=5, replace=False).tolist())
    for i in range(N):
        if i in absent:
            continue
        t = "" if i in empty_tier else tier_of(aum_prev[i], txn_prev[i])
        rows.append([ids[i], t])
    for j in range(8):
        rows.append(["C9%04d" % (j + 1), ["gold", "mass", "wealth", "mass"][j % 4]])
    order = rng.permutation(len(rows))
    path = os.path.join(outdir, "customers_bank_prev.csv")
    with open(path, "w", newline="") as fp:
        w = csv.writer(fp, lineterminator="\n")
        w.writerow(["customer_id", "tier"])
        for k in order:
            w.writerow(rows[k])


if __name__ == "__main__":
    main()
