#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the synthetic campaign sample used by examples/campaign.c.

    /usr/bin/python3 examples/data/make_campaign_sample.py [OUTDIR]

OUTDIR defaults to the directory of this script. Writes two files, byte for
byte the same on every run (Python's random module with a fixed seed):

campaign_customers.csv, 4000 customers (ids CP00001 .. CP04000):
    tier           value tier from aum: mass (< 50,000), affluent (< 500,000),
                   wealth (< 6,000,000), private; empty where aum is missing
    segment        life stage from age: young (< 35), family (< 60), senior
    age            whole years
    aum            assets under management, yuan, 2 decimals (log-normal)
    txn_90d        transactions in the last 90 days (integer)
    spend_90d      card spending in the last 90 days, yuan, 2 decimals
  Customers come from four personas (dormant savers, active spenders,
  wealthy investors, young starters) with different levels of aum, txn_90d
  and spend_90d, so k-means on log1p of these columns finds groups. A few
  customers have a missing aum (and so an empty tier), txn_90d or spend_90d.

campaign_outcomes.csv, `customer_id,converted,spend_30d`: the outcome of a
campaign run as
    campaign --salt spring-2024 --control 0.2 --holdout 0.05 --strata tier
that is, arms from libsegment's documented stratified assignment, which this
script re-implements (include/segment/experiment.h). The campaign works:
a customer of the treatment arm converts with 1.5 times the probability of
the others (a base rate of 8% to 16% by tier), and a converted customer's
spend_30d is log-normal, 20% higher on average under treatment; 0 for a
customer who did not convert. Rows are shuffled; about 2% of the customers
have no row (campaign counts them as not converted), and a few spend_30d
fields are empty (missing). With another salt the arms are unrelated to
the outcomes, and the lift is within chance.

Everything is synthetic: no real customer is described. Standard library only.
"""
import math
import os
import random
import sys

SEED = 20240515
N = 4000
SALT = "spring-2024"
CONTROL = 0.2
HOLDOUT = 0.05
HOLDOUT_SALT = "libsegment-global-holdout"

# persona: (weight, aum log-mean, aum log-sd, txn mean, spend log-mean, age range)
PERSONAS = [
    ("dormant saver", 0.30, math.log(120000), 0.9, 1.0, math.log(600), (45, 80)),
    ("active spender", 0.30, math.log(25000), 0.8, 28.0, math.log(9000), (25, 55)),
    ("wealthy investor", 0.15, math.log(1500000), 1.0, 8.0, math.log(20000), (40, 75)),
    ("young starter", 0.25, math.log(4000), 0.9, 10.0, math.log(1500), (18, 32)),
]
BASE_RATE = {"mass": 0.08, "affluent": 0.10, "wealth": 0.13, "private": 0.16, "": 0.10}
TREATMENT_RATE_FACTOR = 1.5
TREATMENT_VALUE_FACTOR = 1.2

MASK = (1 << 64) - 1


def ab_hash(salt, cid):
    """The hash of include/segment/experiment.h: FNV-1a-64 over salt, 0x00,
    id, then the SplitMix64 finaliser."""
    h = 0xcbf29ce484222325
    for b in salt.encode("utf-8") + b"\x00" + cid.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001b3) & MASK
    h ^= h >> 30
    h = (h * 0xbf58476d1ce4e5b9) & MASK
    h ^= h >> 27
    h = (h * 0x94d049bb133111eb) & MASK
    h ^= h >> 31
    return h


def unit(salt, cid):
    return (ab_hash(salt, cid) >> 11) * 2.0 ** -53


def c_round(x):
    """C's round() for x >= 0: halves away from zero."""
    return math.floor(x + 0.5)


def stratified_arms(ids, strata):
    """Arm per id: -1 holdout, 0 control, 1 treatment."""
    arm = {}
    by_stratum = {}
    for cid, s in zip(ids, strata):
        if unit(HOLDOUT_SALT, cid) < HOLDOUT:
            arm[cid] = -1
        else:
            by_stratum.setdefault(s, []).append(cid)
    for members in by_stratum.values():
        members.sort(key=lambda c: unit(SALT, c))
        n_control = c_round(len(members) * CONTROL)
        for i, cid in enumerate(members):
            arm[cid] = 0 if i < n_control else 1
    return arm


def tier_of(aum):
    if aum is None:
        return ""
    if aum < 50000:
        return "mass"
    if aum < 500000:
        return "affluent"
    if aum < 6000000:
        return "wealth"
    return "private"


def segment_of(age):
    return "young" if age < 35 else "family" if age < 60 else "senior"


def poisson(rng, lam):
    """Knuth's method (lam is small here), or a rounded normal above 30."""
    if lam > 30:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def money(v):
    return "" if v is None else "%.2f" % v


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = random.Random(SEED)
    weights = [p[1] for p in PERSONAS]
    rows = []
    for i in range(N):
        cid = "CP%05d" % (i + 1)
        _, _, aum_mu, aum_sd, txn_mean, spend_mu, (age_lo, age_hi) = rng.choices(
            PERSONAS, weights)[0]
        age = rng.randint(age_lo, age_hi)
        aum = round(math.exp(rng.gauss(aum_mu, aum_sd)), 2)
        txn = poisson(rng, txn_mean * math.exp(rng.gauss(0, 0.3)))
        spend = round(math.exp(rng.gauss(spend_mu, 0.7)) * (txn > 0 or rng.random() < 0.3), 2)
        if rng.random() < 0.004:
            aum = None
        if rng.random() < 0.003:
            txn = None
        if rng.random() < 0.003:
            spend = None
        rows.append((cid, tier_of(aum), segment_of(age), age, aum, txn, spend))

    with open(os.path.join(outdir, "campaign_customers.csv"), "w", encoding="utf-8",
              newline="") as fp:
        fp.write("customer_id,tier,segment,age,aum,txn_90d,spend_90d\n")
        for cid, tier, segment, age, aum, txn, spend in rows:
            fp.write("%s,%s,%s,%d,%s,%s,%s\n" % (cid, tier, segment, age, money(aum),
                                                 "" if txn is None else txn, money(spend)))

    arm = stratified_arms([r[0] for r in rows], [r[1] for r in rows])
    out = []
    for cid, tier, segment, age, aum, txn, spend in rows:
        if rng.random() < 0.02:
            continue  # no outcome row
        p = BASE_RATE[tier] * (TREATMENT_RATE_FACTOR if arm[cid] == 1 else 1.0)
        converted = 1 if rng.random() < p else 0
        value = 0.0
        if converted:
            scale = 800.0 * (1.0 + math.log1p(aum or 0.0) / 10.0)
            if arm[cid] == 1:
                scale *= TREATMENT_VALUE_FACTOR
            value = round(scale * math.exp(rng.gauss(0, 0.5)), 2)
        text = "" if rng.random() < 0.005 else "%.2f" % value
        out.append("%s,%d,%s\n" % (cid, converted, text))
    rng.shuffle(out)
    with open(os.path.join(outdir, "campaign_outcomes.csv"), "w", encoding="utf-8",
              newline="") as fp:
        fp.write("customer_id,converted,spend_30d\n")
        fp.writelines(out)


if __name__ == "__main__":
    main()
