#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Cross-checks libsegment's tag sets and audience queries against a naive
numpy model of the semantics documented in include/segment/tags.h,
tagset.h and query.h.

usage: oracle_tags.py LIBSEGMENT_SO [N_QUERIES] [SEED]

Builds three random registries of about 40 tags each (ASCII, Chinese and
quoted names with spaces, quotes and backslashes; aliases; exclusive
groups; online / offline / draft / disabled statuses; ids with gaps) and a
tag set for each (300000, 300000 and 131073 rows: full chunks of 65536 and
a partial last one). Every tag gets a density from 0.01% to 60%, with some
chunks left empty, made full, or holding exactly 4096 / 4097 rows (the
list / bitmap border); tags are set with seg_tagset_set_rows (shuffled,
with repeats), seg_tagset_set_mask (any non-zero byte), seg_tagset_set,
then partly cleared or reset, in an order that interleaves the tags of
each exclusive group. The model applies the same operations to numpy
boolean arrays: setting a tag clears the other tags of its group on
those rows.

Checked against the model:
  * every tag's seg_tagset_count and seg_tagset_get_mask, and that no row
    holds two tags of one group;
  * seg_tagset_cooccurrence of random tag lists (repeats included);
  * seg_tagset_memory per tag <= n/8 + 16 bytes per chunk, and at most
    what the smallest documented form of each chunk needs (with slack for
    list capacity); the whole set at least the sum of its tags;
  * N_QUERIES (default 2000) random queries -- trees of and / or / not /
    parentheses / true / false, depth up to 6, over names, aliases and
    normalised spellings (case, full-width, extra spaces), bare, in
    backquotes or in double quotes, parenthesised only where precedence
    needs it or at random -- evaluated naively with numpy: seg_query_count,
    seg_query_mask, seg_query_select with random row_begin (chunk borders,
    n_rows) and limits, and full paging for some;
  * disabled tags and unknown names are refused with "query:1:COL: ",
    a set of another registry with SEG_EINVAL.

Exits 1 on any mismatch (listing the first few), 77 if numpy is missing.
Run it with /usr/bin/python3 (Debian's python3-numpy).
"""

import ctypes as C
import random
import sys
import time

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e}")
    sys.exit(77)

SEG_OK = 0
SEG_EINVAL = -2
SEG_ERANGE = -4
SEG_EPARSE = -11
SEG_TAG_KIND, SEG_TAG_STATUS = 1, 3
SEG_TAG_MODEL = 2
SEG_TAG_DRAFT, SEG_TAG_ONLINE, SEG_TAG_OFFLINE, SEG_TAG_DISABLED = 0, 1, 2, 3
SEG_TAG_GROUP = 4
CHUNK = 65536

# ---- bindings -------------------------------------------------------------

if len(sys.argv) < 2:
    print(__doc__)
    sys.exit(2)
lib = C.CDLL(sys.argv[1])
N_QUERIES = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 20240704

vp = C.c_void_p
i32, i64, sz = C.c_int32, C.c_int64, C.c_size_t
cp = C.c_char_p


def fn(name, res, *args):
    f = getattr(lib, name)
    f.restype = res
    f.argtypes = list(args)
    return f


reg_new = fn("seg_tagreg_new", i32, C.POINTER(vp), vp)
reg_add = fn("seg_tagreg_add", i32, vp, i32, cp, C.POINTER(i32))
reg_add_alias = fn("seg_tagreg_add_alias", i32, vp, i32, cp)
reg_set_text = fn("seg_tagreg_set_text", i32, vp, i32, i32, cp)
reg_set_code = fn("seg_tagreg_set_code", i32, vp, i32, i32, i32)
reg_freeze = fn("seg_tagreg_freeze", i32, vp)
reg_free = fn("seg_tagreg_free", None, vp)
reg_last_error = fn("seg_tagreg_last_error", cp, vp)
reg_find = fn("seg_tagreg_find", i32, vp, cp, C.POINTER(i32))
reg_count = fn("seg_tagreg_count", sz, vp)
set_new = fn("seg_tagset_new", i32, C.POINTER(vp), vp, sz, vp)
set_free = fn("seg_tagset_free", None, vp)
set_freeze = fn("seg_tagset_freeze", i32, vp)
set_one = fn("seg_tagset_set", i32, vp, i32, i64, i32, cp, sz)
set_rows = fn("seg_tagset_set_rows", i32, vp, i32, vp, sz, i32, cp, sz)
set_mask = fn("seg_tagset_set_mask", i32, vp, i32, vp, sz, i32, cp, sz)
set_reset = fn("seg_tagset_reset", i32, vp, i32)
set_get_mask = fn("seg_tagset_get_mask", i32, vp, i32, vp, sz)
set_count = fn("seg_tagset_count", i32, vp, i32, C.POINTER(i64))
set_cooc = fn("seg_tagset_cooccurrence", i32, vp, vp, sz, vp, cp, sz)
set_memory = fn("seg_tagset_memory", i32, vp, i32, C.POINTER(sz))
q_compile = fn("seg_query_compile", i32, C.POINTER(vp), cp, sz, vp, cp, vp, cp, sz)
q_free = fn("seg_query_free", None, vp)
q_count = fn("seg_query_count", i32, vp, vp, C.POINTER(i64), cp, sz)
q_select = fn("seg_query_select", i32, vp, vp, i64, vp, sz, C.POINTER(sz), cp, sz)
q_mask = fn("seg_query_mask", i32, vp, vp, vp, sz, cp, sz)

# ---- bookkeeping ------------------------------------------------------------

failures = []
checks = 0
stats = {"queries": 0, "empty answers": 0, "full answers": 0, "selects": 0, "pages": 0,
         "rows cleared by groups": 0, "max depth": 0}


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
    return cond


def errbuf():
    return C.create_string_buffer(1024)


def ptr(a):
    return a.ctypes.data_as(vp)


# ---- names ------------------------------------------------------------------

CHINESE = ["首购客户", "复购客户", "流失预警", "高净值", "理财偏好", "基金持有", "信用卡活跃",
           "房贷客户", "车贷客户", "代发工资", "新客", "沉睡客户", "私行客户", "年轻客群",
           "银发客群", "女性客户", "高频交易", "线上活跃", "手机银行", "境外消费", "大额存单",
           "贵金属", "保险持有", "外汇交易", "养老金", "社保卡", "公积金", "积分达人"]
SPACED = ["high value", "first purchase", "app user 2024", "e-commerce", "vip \"gold\"",
          "path\\to", "o'brien", "cost (net)", "近30天 活跃", "a/b test"]
KEYWORDS = {"and", "or", "not", "true", "false"}


def norm(s):
    """seg_tag_normalize: full-width ASCII -> ASCII, U+3000 / U+00A0 ->
    space, ASCII lower-case, trim spaces and tabs, squeeze inner runs."""
    out = []
    for ch in s:
        c = ord(ch)
        if 0xFF01 <= c <= 0xFF5E:
            ch = chr(c - 0xFEE0)
        elif ch in "\u3000\u00a0\t":
            ch = " "
        if "A" <= ch <= "Z":
            ch = ch.lower()
        out.append(ch)
    return " ".join(w for w in "".join(out).split(" ") if w)


def bare_ok(s):
    if not s or s in KEYWORDS or "0" <= s[0] <= "9":
        return False
    # (no-break and ideographic spaces are left to quoted names)
    return all(ch == "_" or ch.isascii() and ch.isalnum() or
               not ch.isascii() and ch not in "\u3000\u00a0" for ch in s)


def ascii_upper(s):
    return "".join(ch.upper() if ch.isascii() else ch for ch in s)


def fullwidth(s):
    return "".join(chr(ord(ch) + 0xFEE0) if 0x21 <= ord(ch) <= 0x7E else
                   ("\u3000" if ch == " " else ch) for ch in s)


def spelling(rng, name):
    """A query token that resolves to `name` (a name or alias as registered)."""
    s = name
    r = rng.random()
    if r < 0.15:
        s = ascii_upper(s)
    elif r < 0.25:
        s = fullwidth(s)
    elif r < 0.30:
        s = "".join(ascii_upper(ch) if rng.random() < 0.5 else ch for ch in s)
    quoted_variant = None
    if rng.random() < 0.12:
        # spaces only survive inside quotes
        # (tabs are control characters: not allowed in names, even quoted)
        quoted_variant = rng.choice([" ", "  ", "\u3000", "\u00a0"]) + \
            s.replace(" ", rng.choice([" ", "  ", " \u00a0", "\u3000"])) + \
            rng.choice(["", " ", "\u3000"])
    if quoted_variant is None and bare_ok(s) and rng.random() < 0.7:
        return s
    body = quoted_variant if quoted_variant is not None else s
    if "`" not in body and rng.random() < 0.5:
        return "`" + body + "`"
    return '"' + body.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---- registries ---------------------------------------------------------------

class Registry:
    def __init__(self, handle, tags, groups):
        self.h = handle
        self.tags = tags          # id -> dict(name, aliases, group, status)
        self.groups = groups      # group key -> [ids]
        self.ids = sorted(tags)
        self.queryable = [t for t in self.ids if tags[t]["status"] != SEG_TAG_DISABLED]
        self.disabled = [t for t in self.ids if tags[t]["status"] == SEG_TAG_DISABLED]


def random_registry(rng, label):
    n_tags = rng.randint(36, 44)
    pool_cn = rng.sample(CHINESE, 14)
    pool_sp = rng.sample(SPACED, 6)
    names, used = [], set()

    def fresh(s):
        k = norm(s)
        if k in used or not k:
            return None
        used.add(k)
        return s

    for s in pool_cn + pool_sp:
        names.append(fresh(s))
    i = 0
    while len(names) < n_tags:
        s = fresh(rng.choice(["seg", "Tag", "客群", "lbl", "x"]) + f"_{label}{i:02d}" +
                  rng.choice(["", "_a", "B", "级"]))
        if s:
            names.append(s)
        i += 1
    names = [s for s in names if s]
    rng.shuffle(names)
    h = vp()
    assert reg_new(C.byref(h), None) == SEG_OK
    tags, next_id = {}, 0
    for s in names:
        if rng.random() < 0.3:
            want = 0  # next free id
        else:
            want = next_id + rng.randint(1, 6)
        got = i32(-1)
        rc = reg_add(h, want, s.encode(), C.byref(got))
        if not check(rc == SEG_OK, f"{label}: add {s!r} id {want}: rc {rc} "
                     f"{reg_last_error(h).decode(errors='replace')}"):
            continue
        tid = got.value
        check(want == 0 and tid == next_id + 1 or tid == want,
              f"{label}: add {s!r} id {want}: got id {tid} (previous max {next_id})")
        next_id = max(next_id, tid)
        tags[tid] = {"name": s, "aliases": [], "group": None, "status": SEG_TAG_ONLINE}
    # aliases: English / pinyin-ish / variant spellings
    for tid in list(tags):
        for k in range(rng.choice([0, 0, 1, 1, 2, 3])):
            base = tags[tid]["name"]
            cand = rng.choice([f"alias {tid}.{k}", f"别名{tid}_{k}", f"al_{label}_{tid}_{k}",
                               base + f" v{k}", f"old-{tid}-{k}"])
            if norm(cand) in used:
                continue
            rc = reg_add_alias(h, tid, cand.encode())
            if check(rc == SEG_OK, f"{label}: alias {cand!r} of {tid}: rc {rc}"):
                used.add(norm(cand))
                tags[tid]["aliases"].append(cand)
    # exclusive groups (group names compared like tag names)
    ids = list(tags)
    rng.shuffle(ids)
    groups = {}
    spec = [("lifecycle", 4), ("Value Tier", 3), ("渠道", 3), ("g" + label, 2)]
    pos = 0
    for gname, size in spec:
        members = ids[pos:pos + size]
        pos += size
        for k, tid in enumerate(members):
            # spell the group name differently on each member
            spelled = gname if k == 0 else rng.choice([ascii_upper(gname), " " + gname + " ",
                                                        fullwidth(gname), gname])
            rc = reg_set_text(h, tid, SEG_TAG_GROUP, spelled.encode())
            if check(rc == SEG_OK, f"{label}: group {spelled!r} on {tid}: rc {rc}"):
                tags[tid]["group"] = norm(gname)
        groups[norm(gname)] = members
    # statuses and kinds
    for tid in ids[pos:]:
        r = rng.random()
        st = SEG_TAG_ONLINE
        if r < 0.08:
            st = SEG_TAG_OFFLINE
        elif r < 0.14:
            st = SEG_TAG_DRAFT
        if st != SEG_TAG_ONLINE:
            check(reg_set_code(h, tid, SEG_TAG_STATUS, st) == SEG_OK, f"{label}: status {tid}")
            tags[tid]["status"] = st
        if rng.random() < 0.1:
            check(reg_set_code(h, tid, SEG_TAG_KIND, SEG_TAG_MODEL) == SEG_OK,
                  f"{label}: kind {tid}")
    for tid in rng.sample(ids[pos:], 2):
        check(reg_set_code(h, tid, SEG_TAG_STATUS, SEG_TAG_DISABLED) == SEG_OK,
              f"{label}: disable {tid}")
        tags[tid]["status"] = SEG_TAG_DISABLED
    rc = reg_freeze(h)
    check(rc == SEG_OK, f"{label}: freeze rc {rc} {reg_last_error(h).decode(errors='replace')}")
    check(reg_count(h) == len(tags), f"{label}: count {reg_count(h)} vs {len(tags)}")
    # every name, alias and a normalised variant resolves
    for tid, t in tags.items():
        for s in [t["name"]] + t["aliases"] + [fullwidth(ascii_upper(t["name"]))]:
            out = i32(0)
            rc = reg_find(h, s.encode(), C.byref(out))
            check(rc == SEG_OK and out.value == tid,
                  f"{label}: find {s!r}: rc {rc} id {out.value}, expected {tid}")
    return Registry(h, tags, groups)


# ---- tag sets -------------------------------------------------------------------

DENSITIES = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.03, 0.0625, 0.1, 0.25, 0.4, 0.6]


def chunk_bounds(n):
    return [(b, min(b + CHUNK, n)) for b in range(0, n, CHUNK)]


def random_rows(rng_np, n, reg_rng):
    """Boolean row selection with per-chunk structure."""
    d = reg_rng.choice(DENSITIES)
    m = rng_np.random(n) < d
    for lo, hi in chunk_bounds(n):
        r = reg_rng.random()
        if r < 0.12:
            m[lo:hi] = False
        elif r < 0.20:
            m[lo:hi] = True
        elif r < 0.25 and hi - lo > 4097:
            m[lo:hi] = False
            k = reg_rng.choice([4095, 4096, 4097, 4098])
            m[lo + rng_np.choice(hi - lo, k, replace=False)] = True
        elif r < 0.28:
            m[lo:hi] = False
            m[hi - 1] = True  # only the chunk's last row
    return m


class Model:
    def __init__(self, reg, n):
        self.reg = reg
        self.n = n
        self.m = {t: np.zeros(n, dtype=bool) for t in reg.ids}

    def apply(self, tid, rows_bool, value):
        if value:
            g = self.reg.tags[tid]["group"]
            if g is not None:
                for o in self.reg.groups[g]:
                    if o != tid:
                        stats["rows cleared by groups"] += int(np.count_nonzero(self.m[o] & rows_bool))
                        self.m[o] &= ~rows_bool
            self.m[tid] |= rows_bool
        else:
            self.m[tid] &= ~rows_bool


def set_via_lib(rng, rng_np, h, tid, rows_bool, value, n, label):
    err = errbuf()
    r = rng.random()
    if r < 0.45:
        rows = np.flatnonzero(rows_bool).astype(np.int64)
        if len(rows) and rng.random() < 0.5:
            rows = np.concatenate([rows, rng_np.choice(rows, min(len(rows), 50))])
        rng_np.shuffle(rows)
        rows = np.ascontiguousarray(rows)
        rc = set_rows(h, tid, ptr(rows) if len(rows) else None, len(rows), value, err, 1024)
        check(rc == SEG_OK, f"{label}: set_rows tag {tid} value {value}: rc {rc} {err.value!r}")
    elif r < 0.9 or np.count_nonzero(rows_bool) > 200:
        mask = np.where(rows_bool, rng_np.integers(1, 256, n), 0).astype(np.uint8)
        rc = set_mask(h, tid, ptr(mask), n, value, err, 1024)
        check(rc == SEG_OK, f"{label}: set_mask tag {tid} value {value}: rc {rc} {err.value!r}")
    else:
        for row in np.flatnonzero(rows_bool):
            rc = set_one(h, tid, int(row), value, err, 1024)
            if not check(rc == SEG_OK, f"{label}: set tag {tid} row {row}: rc {rc}"):
                break


def random_set(rng, rng_np, reg, n, label):
    h = vp()
    assert set_new(C.byref(h), reg.h, n, None) == SEG_OK
    model = Model(reg, n)
    # each tag set once, group members twice, in an interleaved order
    order = list(reg.ids)
    for members in reg.groups.values():
        order += members
    rng.shuffle(order)
    for tid in order:
        rows_bool = random_rows(rng_np, n, rng)
        set_via_lib(rng, rng_np, h, tid, rows_bool, 1, n, label)
        model.apply(tid, rows_bool, 1)
    # clear parts of some tags, reset a few
    for tid in rng.sample(reg.ids, len(reg.ids) // 3):
        held = model.m[tid]
        r = rng.random()
        if r < 0.1:
            check(set_reset(h, tid) == SEG_OK, f"{label}: reset {tid}")
            model.apply(tid, np.ones(n, dtype=bool), 0)
            continue
        if r < 0.4:
            # clear most of a dense tag: chunks must shrink to the smaller forms
            clear = held & (rng_np.random(n) < 0.97)
        else:
            clear = rng_np.random(n) < rng.choice([0.001, 0.05, 0.3])
        set_via_lib(rng, rng_np, h, tid, clear, 0, n, label)
        model.apply(tid, clear, 0)
    return h, model


def check_set(rng, h, model, label):
    reg, n = model.reg, model.n
    n_chunks = len(chunk_bounds(n))
    total_tags = 0
    got = np.empty(n, dtype=np.uint8)
    for tid in reg.ids:
        want = model.m[tid]
        c = i64(-1)
        rc = set_count(h, tid, C.byref(c))
        check(rc == SEG_OK and c.value == int(np.count_nonzero(want)),
              f"{label}: count tag {tid}: rc {rc} {c.value} vs {np.count_nonzero(want)}")
        got[:] = 7
        rc = set_get_mask(h, tid, ptr(got), n)
        if check(rc == SEG_OK, f"{label}: get_mask {tid}: rc {rc}"):
            bad = np.flatnonzero(got != want.astype(np.uint8))
            check(len(bad) == 0, f"{label}: get_mask tag {tid}: {len(bad)} rows differ, first "
                  f"{bad[:5].tolist()} (lib {got[bad[:5]].tolist()})")
        # memory
        mem = sz(0)
        rc = set_memory(h, tid, C.byref(mem))
        if check(rc == SEG_OK, f"{label}: memory {tid}: rc {rc}"):
            total_tags += mem.value
            # tagset.h: "never more than n/8 bytes plus 16 bytes per chunk";
            # a bitmap may round its chunk's rows up to whole 64-bit words
            bound = sum(-(-(hi - lo) // 64) * 8 for lo, hi in chunk_bounds(n)) + 16 * n_chunks
            check(mem.value <= bound, f"{label}: memory tag {tid}: {mem.value} > n/8 + 16/chunk "
                  f"= {bound} (n {n}, count {np.count_nonzero(want)}, chunk counts "
                  f"{[int(np.count_nonzero(want[a:b])) for a, b in chunk_bounds(n)]})")
            # the smallest documented form of each chunk, with slack for a
            # list's spare capacity
            lo_need, hi_need = 0, 16 * n_chunks
            for lo, hi in chunk_bounds(n):
                k = int(np.count_nonzero(want[lo:hi]))
                if k == 0 or k == hi - lo:
                    continue
                bitmap = -(-(hi - lo) // 8)
                lo_need += min(2 * k, bitmap)
                hi_need += min(4 * k + 32, 8192)
            check(lo_need <= mem.value <= hi_need,
                  f"{label}: memory tag {tid}: {mem.value} outside [{lo_need}, {hi_need}] for "
                  f"chunk counts {[int(np.count_nonzero(want[a:b])) for a, b in chunk_bounds(n)]}")
    whole = sz(0)
    rc = set_memory(h, 0, C.byref(whole))
    check(rc == SEG_OK and whole.value >= total_tags,
          f"{label}: whole-set memory {whole.value} < sum of tags {total_tags}")
    # exclusive groups: no row holds two tags of a group
    for g, members in reg.groups.items():
        s = sum(model.m[t].astype(np.int32) for t in members)
        check(int(s.max(initial=0)) <= 1, f"{label}: model broke group {g}")
    # co-occurrence
    for _ in range(6):
        k = rng.randint(1, len(reg.ids))
        ids = [rng.choice(reg.ids) for _ in range(k)]
        arr = np.array(ids, dtype=np.int32)
        out = np.full(k * k, -1, dtype=np.int64)
        err = errbuf()
        rc = set_cooc(h, ptr(arr), k, ptr(out), err, 1024)
        if not check(rc == SEG_OK, f"{label}: cooccurrence k {k}: rc {rc} {err.value!r}"):
            continue
        out = out.reshape(k, k)
        cache = {}
        for i in range(k):
            for j in range(i, k):
                key = (min(ids[i], ids[j]), max(ids[i], ids[j]))
                if key not in cache:
                    cache[key] = int(np.count_nonzero(model.m[ids[i]] & model.m[ids[j]]))
                w = cache[key]
                if not check(out[i, j] == w and out[j, i] == w,
                             f"{label}: cooccurrence ({ids[i]},{ids[j]}): {out[i, j]}/{out[j, i]}"
                             f" vs {w}"):
                    break


# ---- queries ----------------------------------------------------------------------

PREC = {"or": 1, "and": 2, "not": 3, "tag": 4, "true": 4, "false": 4}


def gen(rng, reg, depth):
    if depth <= 0 or rng.random() < 0.22:
        r = rng.random()
        if r < 0.04:
            return ("true",)
        if r < 0.08:
            return ("false",)
        return ("tag", rng.choice(reg.queryable))
    r = rng.random()
    if r < 0.2:
        return ("not", gen(rng, reg, depth - 1))
    op = "and" if r < 0.6 else "or"
    return (op, [gen(rng, reg, depth - 1) for _ in range(rng.choice([2, 2, 2, 3]))])


def depth_of(node):
    if node[0] in ("tag", "true", "false"):
        return 0
    if node[0] == "not":
        return 1 + depth_of(node[1])
    return 1 + max(depth_of(c) for c in node[1])


def render(rng, reg, node, need):
    kind = node[0]
    if kind == "tag":
        t = reg.tags[node[1]]
        s = spelling(rng, rng.choice([t["name"]] + t["aliases"]))
    elif kind in ("true", "false"):
        s = kind
    elif kind == "not":
        s = "not " + render(rng, reg, node[1], PREC["not"])
    else:
        sep = rng.choice([f" {kind} ", f"  {kind}\t", f"\n{kind} "]) if rng.random() < 0.1 \
            else f" {kind} "
        s = sep.join(render(rng, reg, c, PREC[kind]) for c in node[1])
    if PREC[kind] < need or rng.random() < 0.08:
        s = rng.choice(["(", "( "]) + s + rng.choice([")", " )"])
    return s


def evaluate(node, model):
    kind = node[0]
    if kind == "tag":
        return model.m[node[1]]
    if kind == "true":
        return np.ones(model.n, dtype=bool)
    if kind == "false":
        return np.zeros(model.n, dtype=bool)
    if kind == "not":
        return ~evaluate(node[1], model)
    parts = [evaluate(c, model) for c in node[1]]
    out = parts[0].copy()
    for p in parts[1:]:
        if kind == "and":
            out &= p
        else:
            out |= p
    return out


def compile_query(text, reg):
    b = text.encode()
    q = vp()
    err = errbuf()
    rc = q_compile(C.byref(q), b, len(b), reg.h, None, None, err, 1024)
    return rc, q, err.value.decode(errors="replace")


def check_query(rng, rng_np, h, model, text, want, label):
    n = model.n
    rc, q, msg = compile_query(text, model.reg)
    if not check(rc == SEG_OK, f"{label}: compile {text!r}: rc {rc} {msg}"):
        return
    try:
        want_rows = np.flatnonzero(want)
        nw = len(want_rows)
        stats["queries"] += 1
        stats["empty answers"] += nw == 0
        stats["full answers"] += nw == n
        err = errbuf()
        c = i64(-1)
        rc = q_count(q, h, C.byref(c), err, 1024)
        if not check(rc == SEG_OK and c.value == nw,
                     f"{label}: count {text!r}: rc {rc} {c.value} vs {nw} {err.value!r}"):
            return
        mask = np.full(n + 1, 0xC7, dtype=np.uint8)
        rc = q_mask(q, h, ptr(mask), n, err, 1024)
        if check(rc == SEG_OK, f"{label}: mask {text!r}: rc {rc} {err.value!r}"):
            bad = np.flatnonzero(mask[:n] != want.astype(np.uint8))
            check(len(bad) == 0 and mask[n] == 0xC7,
                  f"{label}: mask {text!r}: {len(bad)} rows differ, first {bad[:5].tolist()}")
        # select with random starts and limits
        starts = [0, n, rng.randint(0, n)]
        if nw:
            starts.append(int(want_rows[rng.randrange(nw)]))
        b = rng.choice([x for x in range(0, n, CHUNK)])
        starts += [b, max(0, b - 1), min(n, b + 1), max(0, n - 3)]
        for start in rng.sample(starts, 4):
            limit = rng.choice([0, 1, 2, 7, 100, 4097, 70000, nw + 1])
            cap = max(limit, 1) + 2
            out = np.full(cap, -7, dtype=np.int64)
            got_n = sz(12345)
            rc = q_select(q, h, start, ptr(out), limit, C.byref(got_n), err, 1024)
            stats["selects"] += 1
            first = int(np.searchsorted(want_rows, start))
            exp = want_rows[first:first + limit]
            if not check(rc == SEG_OK and got_n.value == len(exp),
                         f"{label}: select {text!r} from {start} limit {limit}: rc {rc} "
                         f"n {got_n.value} vs {len(exp)} {err.value!r}"):
                continue
            check(np.array_equal(out[:len(exp)], exp) and np.all(out[len(exp):] == -7),
                  f"{label}: select {text!r} from {start} limit {limit}: rows differ "
                  f"(first lib {out[:5].tolist()}, want {exp[:5].tolist()})")
        # row_begin past the end
        got_n = sz(12345)
        rc = q_select(q, h, n + 1 + rng.randint(0, 3), None, 0, C.byref(got_n), err, 1024)
        check(rc == SEG_ERANGE and got_n.value == 12345,
              f"{label}: select {text!r} past n_rows: rc {rc} n {got_n.value}")
        # page through the whole answer now and then
        if rng.random() < 0.08:
            limit = rng.choice([997, 4096, 65536, 65537])
            out = np.empty(limit, dtype=np.int64)
            pos, start = 0, 0
            ok = True
            while ok:
                rc = q_select(q, h, start, ptr(out), limit, C.byref(got_n), err, 1024)
                k = got_n.value
                ok = check(rc == SEG_OK and pos + k <= nw and
                           np.array_equal(out[:k], want_rows[pos:pos + k]),
                           f"{label}: paging {text!r} limit {limit} at {start}: rc {rc} n {k}")
                stats["pages"] += 1
                pos += k
                if k < limit:
                    break
                start = int(out[k - 1]) + 1
            check(not ok or pos == nw, f"{label}: paging {text!r}: {pos} rows vs {nw}")
    finally:
        q_free(q)


def check_refusals(rng, h, other_h, model, label):
    reg = model.reg
    # disabled tags, by name and alias, also inside larger queries
    for tid in reg.disabled:
        t = reg.tags[tid]
        for s in [t["name"]] + t["aliases"]:
            prefix = "true and "
            tok = spelling(rng, s)
            text = prefix + tok
            rc, q, msg = compile_query(text, reg)
            col = len(prefix.encode()) + 1
            check(rc == SEG_EPARSE and msg.startswith(f"query:1:{col}: ") and "disabled" in msg,
                  f"{label}: disabled tag {t['name']!r} as {tok!r}: rc {rc} {msg!r}")
            if rc == SEG_OK:
                q_free(q)
    # unknown names
    for k in range(5):
        name = f"nosuch_{k}_{rng.randint(0, 10 ** 6)}"
        text = f"not ({spelling(rng, reg.tags[reg.queryable[0]]['name'])} or {name})"
        rc, q, msg = compile_query(text, reg)
        col = text.encode().index(name.encode()) + 1
        check(rc == SEG_EPARSE and msg.startswith(f"query:1:{col}: unknown tag '{name}'"),
              f"{label}: unknown {text!r}: rc {rc} {msg!r}")
        if rc == SEG_OK:
            q_free(q)
    # a set of another registry
    rc, q, msg = compile_query("true", reg)
    if check(rc == SEG_OK, f"{label}: compile true: {rc}"):
        c = i64(-1)
        rc = q_count(q, other_h, C.byref(c), None, 0)
        check(rc == SEG_EINVAL and c.value == -1, f"{label}: count on a foreign set: rc {rc}")
        q_free(q)


def main():
    t0 = time.time()
    rng = random.Random(SEED)
    rng_np = np.random.default_rng(SEED)
    sizes = [300000, 300000, 131073]
    regs, sets, models = [], [], []
    for k, n in enumerate(sizes):
        label = "ABC"[k]
        reg = random_registry(rng, label)
        h, model = random_set(rng, rng_np, reg, n, f"set {label}")
        if k == 1:
            check(set_freeze(h) == SEG_OK, "freeze set B")
        regs.append(reg)
        sets.append(h)
        models.append(model)
        check_set(rng, h, model, f"set {label}")
    t_build = time.time() - t0
    per = [N_QUERIES * 2 // 5, N_QUERIES * 2 // 5, N_QUERIES - 2 * (N_QUERIES * 2 // 5)]
    for k in range(3):
        reg, h, model = regs[k], sets[k], models[k]
        for i in range(per[k]):
            node = gen(rng, reg, rng.randint(1, 6))
            stats["max depth"] = max(stats["max depth"], depth_of(node))
            text = render(rng, reg, node, 0)
            check_query(rng, rng_np, h, model, text, evaluate(node, model), f"set {'ABC'[k]} q{i}")
            if len(failures) > 20:
                break
        check_refusals(rng, h, sets[(k + 1) % 3], model, f"set {'ABC'[k]}")
        if len(failures) > 20:
            break
    for h in sets:
        set_free(h)
    for reg in regs:
        reg_free(reg.h)
    print(f"tags oracle: 3 registries of {[len(r.ids) for r in regs]} tags, sets of {sizes} rows, "
          f"{stats['queries']} queries, {checks} checks, {len(failures)} failures "
          f"({t_build:.1f} s building, {time.time() - t0:.1f} s in all)")
    print("coverage of the random cases:", ", ".join(f"{k} {v}" for k, v in stats.items()))
    for f in failures[:8]:
        print("FAIL:", f)
        print()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
