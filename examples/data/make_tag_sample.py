#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the synthetic CRM sample used by examples/crm_tags.c.

    /usr/bin/python3 examples/data/make_tag_sample.py [OUTDIR]

OUTDIR defaults to the directory of this script. The tag vocabulary is
examples/data/tags.txt (written by hand). Writes:

tag_customers.csv, one row per customer (2000 rows, ids C100001 .. C102000),
the columns the rule tags of tags.txt use:
    aum            average daily assets of the month, yuan, 2 decimals
                   (log-normal; a few customers exactly on or just under the
                   100,000 and 1,000,000 lines of 大众富裕 and 高净值)
    txn_90d        transactions in the last 90 days (integer)
    orders_365d    orders in the last year (integer; higher for repeat buyers)
    spend_365d     spending in the last year, yuan, 2 decimals
    online_share   share of online transactions, 3 decimals (some exactly 0.7)
    age            whole years
  Each column is empty (missing) for a handful of customers, so the rules'
  three-valued logic shows: a customer with missing txn_90d is neither 高频
  nor 低频.

tag_assign.csv, `customer_id,tag`: manual tags as several source systems
would export them, shuffled. Tags are written with many spellings: canonical
names, Chinese and English aliases, other letter cases, full-width letters
("ＶＩＰ"), and spaces around the name. Most customers have a lifecycle stage
(新客 / 首购客户 / 复购客户); about 3% are given two stages (the higher id
wins in crm_tags), some rows are repeated, a few name the disabled tag
2019促销名单 (skipped with a warning), and some customers have no row at all.

Everything is synthetic (Python's random module with a fixed seed): no real
customer is described. Needs only the standard library.
"""
import csv
import math
import os
import random
import sys

SEED = 20240704
N = 2000

# Spellings used for each manual tag, with weights.
SPELLINGS = {
    "新客": [("新客", 5), ("新客户", 3), ("new customer", 2), ("New Customer", 1)],
    "首购客户": [("首购客户", 4), ("客户首单", 3), ("客户已下单", 2), ("first purchase", 2),
             ("First Purchase", 1)],
    "复购客户": [("复购客户", 5), ("复购", 2), ("repeat buyer", 2), ("二次购买", 1)],
    "vip": [("vip", 3), ("VIP", 3), ("ＶＩＰ", 2), ("Vip", 1), ("ｖｉｐ", 1), (" VIP ", 1),
            ("VIP客户", 2), ("ＶＩＰ客户", 1), ("贵宾", 2)],
    "理财偏好": [("理财偏好", 3), ("理财", 2), ("wealth interest", 1)],
    "基金持有": [("基金持有", 3), ("持有基金", 2), ("fund holder", 1), ("Fund Holder", 1)],
    "流失预警": [("流失预警", 2), ("流失风险", 2), ("churn risk", 1), ("CHURN RISK", 1)],
    "投诉客户": [("投诉客户", 1), ("投诉", 1)],
    "2019促销名单": [("2019促销名单", 1), ("老促销", 1)],
}


def spell(rng, tag):
    names, weights = zip(*SPELLINGS[tag])
    return rng.choices(names, weights)[0]


def maybe_missing(rng, value, p):
    return None if rng.random() < p else value


def fmt(v, decimals=None):
    if v is None:
        return ""
    if decimals is None:
        return str(int(v))
    return "%.*f" % (decimals, v)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = random.Random(SEED)

    customers = []
    assign = []
    for i in range(N):
        cid = "C%06d" % (100001 + i)
        stage = rng.choices(["none", "new", "first", "repeat"], [8, 15, 30, 47])[0]
        activity = rng.lognormvariate(math.log(4), 1.0)
        aum = round(rng.lognormvariate(math.log(50000), 1.6), 2)
        txn = int(rng.expovariate(1.0 / activity))
        if stage == "new":
            orders = 0
        elif stage == "first":
            orders = 1
        else:
            orders = 2 + int(rng.expovariate(1.0 / 6))
        spend = round(orders * rng.lognormvariate(math.log(1500), 0.7), 2)
        online = round(min(1.0, max(0.0, rng.gauss(0.55, 0.25))), 3)
        if rng.random() < 0.03:
            online = 0.7
        age = rng.randint(18, 85)
        customers.append({"customer_id": cid, "aum": aum, "txn_90d": txn,
                          "orders_365d": orders, "spend_365d": spend,
                          "online_share": online, "age": age, "stage": stage})

    # Values exactly on and just under the asset lines.
    picks = rng.sample(range(N), 12)
    for k, v in zip(picks, [1000000, 1000000, 1000000, 999999.99, 999999.99,
                            100000, 100000, 100000, 99999.99, 99999.99, 1000000.01, 100000.01]):
        customers[k]["aum"] = v
    # Missing values.
    for c in customers:
        c["aum"] = maybe_missing(rng, c["aum"], 0.015)
        c["txn_90d"] = maybe_missing(rng, c["txn_90d"], 0.015)
        c["orders_365d"] = maybe_missing(rng, c["orders_365d"], 0.01)
        c["spend_365d"] = maybe_missing(rng, c["spend_365d"], 0.01)
        c["online_share"] = maybe_missing(rng, c["online_share"], 0.02)
        c["age"] = maybe_missing(rng, c["age"], 0.02)

    stage_tag = {"new": "新客", "first": "首购客户", "repeat": "复购客户"}
    for c in customers:
        cid = c["customer_id"]
        if c["stage"] != "none":
            assign.append((cid, spell(rng, stage_tag[c["stage"]])))
            if rng.random() < 0.03:   # a second, conflicting stage
                other = rng.choice([t for s, t in stage_tag.items() if s != c["stage"]])
                assign.append((cid, spell(rng, other)))
        aum = c["aum"] if c["aum"] is not None else 0.0
        if rng.random() < (0.35 if aum >= 500000 else 0.05):
            assign.append((cid, spell(rng, "vip")))
        if rng.random() < (0.40 if aum >= 100000 else 0.12):
            assign.append((cid, spell(rng, "理财偏好")))
        if rng.random() < 0.15:
            assign.append((cid, spell(rng, "基金持有")))
        if rng.random() < 0.10:
            assign.append((cid, spell(rng, "流失预警")))
        if rng.random() < 0.02:
            assign.append((cid, spell(rng, "投诉客户")))
    for cid in rng.sample([c["customer_id"] for c in customers], 5):
        assign.append((cid, spell(rng, "2019促销名单")))
    assign += rng.sample(assign, 25)   # repeated rows, as merged exports have
    rng.shuffle(assign)

    with open(os.path.join(outdir, "tag_customers.csv"), "w", encoding="utf-8",
              newline="") as fp:
        w = csv.writer(fp, lineterminator="\n")
        w.writerow(["customer_id", "aum", "txn_90d", "orders_365d", "spend_365d",
                    "online_share", "age"])
        for c in customers:
            w.writerow([c["customer_id"], fmt(c["aum"], 2), fmt(c["txn_90d"]),
                        fmt(c["orders_365d"]), fmt(c["spend_365d"], 2),
                        fmt(c["online_share"], 3), fmt(c["age"])])
    with open(os.path.join(outdir, "tag_assign.csv"), "w", encoding="utf-8", newline="") as fp:
        w = csv.writer(fp, lineterminator="\n")
        w.writerow(["customer_id", "tag"])
        w.writerows(assign)


if __name__ == "__main__":
    main()
