#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Random-rule oracle for the rule language.

Usage: oracle_rule.py LIBSEGMENT_SO [N_RULES_PER_FRAME]

Builds seeded random frames (doubles with NaN, a double with a validity
bitmap, int64/int32 with validity bitmaps, a dictionary column with
negative codes and a bitmap, a string column with NULLs), generates random
rules from the grammar of doc/rules.md (trees of depth <= 5 mixing
arithmetic, comparisons, between, in, functions, and/or/not and text
tests, printed with the fewest parentheses the precedence allows, plus a
few extra), and evaluates each one twice:

  * with seg_rule_eval() through ctypes, over all rows, over a random
    sub-range, and over a second frame where the text columns swap kinds
    (dictionary <-> string) and the columns come in another order;
  * with an independent numpy evaluator of the documented semantics:
    numbers are doubles with NaN for missing; arithmetic on a missing
    value is missing; x / 0 is missing; min/max with a missing argument
    are missing; coalesce takes the first non-missing argument; a
    comparison with a missing side is unknown; Kleene three-valued
    and/or/not; a row matches only when the rule is true.

Any difference prints the rule, the row and the values, and exits 1.
It also mutates valid rules into mostly invalid ones and checks that
compiling never crashes and fails only with SEG_EPARSE and a
"rule:LINE:COL: " message.
"""

import ctypes
import random
import re
import sys

import numpy as np

SEG_OK = 0
SEG_EPARSE = -11

N_ROWS = 3000
N_FRAMES = 4

# ---------------------------------------------------------------------------
# Library binding
# ---------------------------------------------------------------------------


def load(path):
    lib = ctypes.CDLL(path)
    vp, sz, i32 = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int32
    cp, pcp = ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)
    sigs = {
        "seg_frame_new": (i32, [ctypes.POINTER(vp), sz, vp]),
        "seg_frame_free": (None, [vp]),
        "seg_frame_add_double": (i32, [vp, cp, vp, vp]),
        "seg_frame_add_int64": (i32, [vp, cp, vp, vp]),
        "seg_frame_add_int32": (i32, [vp, cp, vp, vp]),
        "seg_frame_add_string": (i32, [vp, cp, pcp, vp]),
        "seg_frame_add_dict": (i32, [vp, cp, vp, pcp, sz, vp]),
        "seg_rule_compile": (i32, [ctypes.POINTER(vp), cp, sz, vp, cp, vp, cp, sz]),
        "seg_rule_eval": (i32, [vp, vp, sz, sz, vp, cp, sz]),
        "seg_rule_free": (None, [vp]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib


class Frame:
    """A seg_frame plus the Python arrays it borrows (kept alive here)."""

    def __init__(self, lib, n_rows):
        self.lib = lib
        self.keep = []
        self.handle = ctypes.c_void_p()
        rc = lib.seg_frame_new(ctypes.byref(self.handle), n_rows, None)
        assert rc == SEG_OK, rc

    def _ptr(self, arr):
        self.keep.append(arr)
        return arr.ctypes.data_as(ctypes.c_void_p)

    def _bitmap(self, valid):
        if valid is None:
            return None
        bits = np.packbits(valid.astype(np.uint8), bitorder="little")
        return self._ptr(bits)

    def add_numeric(self, name, data, valid):
        fn = {np.float64: self.lib.seg_frame_add_double,
              np.int64: self.lib.seg_frame_add_int64,
              np.int32: self.lib.seg_frame_add_int32}[data.dtype.type]
        data = np.ascontiguousarray(data)
        rc = fn(self.handle, name.encode(), self._ptr(data), self._bitmap(valid))
        assert rc == SEG_OK, (name, rc)

    def add_string(self, name, values, valid):
        arr = (ctypes.c_char_p * len(values))(
            *[None if v is None else v.encode() for v in values])
        self.keep.append(arr)
        rc = self.lib.seg_frame_add_string(self.handle, name.encode(), arr,
                                           self._bitmap(valid))
        assert rc == SEG_OK, (name, rc)

    def add_dict(self, name, codes, vocab, valid):
        codes = np.ascontiguousarray(codes, dtype=np.int32)
        arr = (ctypes.c_char_p * len(vocab))(*[v.encode() for v in vocab])
        self.keep.append(arr)
        rc = self.lib.seg_frame_add_dict(self.handle, name.encode(), self._ptr(codes), arr,
                                         len(vocab), self._bitmap(valid))
        assert rc == SEG_OK, (name, rc)

    def free(self):
        self.lib.seg_frame_free(self.handle)
        self.handle = None


def compile_rule(lib, frame, text):
    rule = ctypes.c_void_p()
    err = ctypes.create_string_buffer(512)
    raw = text.encode()
    rc = lib.seg_rule_compile(ctypes.byref(rule), raw, len(raw), frame.handle, None, None,
                              err, len(err))
    return rc, rule, err.value.decode("utf-8", "replace")


def eval_rule(lib, rule, frame, begin, end):
    out = np.full(end - begin + 1, 0xA5, dtype=np.uint8)
    err = ctypes.create_string_buffer(256)
    rc = lib.seg_rule_eval(rule, frame.handle, begin, end,
                           out.ctypes.data_as(ctypes.c_void_p), err, len(err))
    if rc != SEG_OK:
        return rc, err.value.decode("utf-8", "replace"), None
    if out[end - begin] != 0xA5:
        return -999, "wrote past the end of out_match", None
    return rc, "", out[:end - begin]


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

VOCAB = ["gold", "silver", "bronze", "金卡", "普通", 'a"b', "c\\d", ""]


class Data:
    """Random columns: `num` maps name -> float64 with NaN for missing (the
    oracle's view); `text` maps name -> list of str/None; `build` adds them
    to a frame."""

    def __init__(self, rng, n):
        self.n = n
        r = rng
        grid = np.round(r.uniform(-10, 10, n) * 2) / 2  # multiples of 0.5
        wide = r.uniform(-1000, 1000, n)
        self.cols = []  # (name, kind, payload, valid)
        self.num = {}
        self.text = {}

        # d1: doubles with NaN
        d1 = np.where(r.random(n) < 0.5, grid, wide)
        d1[r.random(n) < 0.12] = np.nan
        self._num("d1", d1, None)
        # d2: doubles with a validity bitmap hiding finite values (and a few NaN)
        d2 = np.round(r.uniform(-5, 5, n))
        d2[r.random(n) < 0.03] = np.nan
        v2 = r.random(n) >= 0.1
        self._num("d2", d2, v2)
        # 月日均资产: non-ASCII name, no missing values, large magnitudes
        aum = np.round(r.lognormal(11, 2, n), 2)
        small = r.random(n) < 0.2
        aum[small] = np.round(r.uniform(0, 10, int(small.sum())))
        self._num("月日均资产", aum, None)
        # i64: small ints, a few around 2^53, validity bitmap over garbage values
        i64 = r.integers(-20, 21, n).astype(np.int64)
        big = r.random(n) < 0.02
        i64[big] = (2 ** 53) + r.integers(-3, 4, int(big.sum()))
        v64 = r.random(n) >= 0.1
        i64[~v64] = r.integers(-(2 ** 62), 2 ** 62, int((~v64).sum()))
        self._num("i64", i64, v64)
        # i32: small ints, validity bitmap
        i32 = r.integers(-10, 11, n).astype(np.int32)
        v32 = r.random(n) >= 0.15
        i32[~v32] = 2 ** 31 - 1
        self._num("i32", i32, v32)
        # k: int32 without a bitmap
        self._num("k", r.integers(0, 6, n).astype(np.int32), None)
        # tier: dictionary with negative codes and a bitmap
        codes = r.integers(0, len(VOCAB), n).astype(np.int32)
        codes[r.random(n) < 0.08] = -1
        codes[r.random(n) < 0.03] = -7
        vt = r.random(n) >= 0.05
        self._dict("tier", codes, VOCAB, vt)
        # seg: strings with NULLs and a bitmap
        sv = [None if x < 0 else VOCAB[x]
              for x in np.where(r.random(n) < 0.1, -1, r.integers(0, len(VOCAB), n))]
        vs = r.random(n) >= 0.05
        self._str("seg", sv, vs)

    def _num(self, name, data, valid):
        self.cols.append((name, "num", data, valid))
        x = data.astype(np.float64)
        if valid is not None:
            x = np.where(valid, x, np.nan)
        self.num[name] = x

    def _dict(self, name, codes, vocab, valid):
        self.cols.append((name, "dict", (codes, vocab), valid))
        vals = [None if c < 0 else vocab[c] for c in codes]
        if valid is not None:
            vals = [v if ok else None for v, ok in zip(vals, valid)]
        self.text[name] = vals

    def _str(self, name, values, valid):
        self.cols.append((name, "str", values, valid))
        vals = list(values)
        if valid is not None:
            vals = [v if ok else None for v, ok in zip(vals, valid)]
        self.text[name] = vals

    def build(self, lib, swap_text=False, order=None):
        """A frame of these columns; with swap_text, dictionary columns are
        passed as strings and string columns as dictionaries."""
        f = Frame(lib, self.n)
        cols = self.cols if order is None else [self.cols[i] for i in order]
        for name, kind, payload, valid in cols:
            if kind == "num":
                f.add_numeric(name, payload, valid)
            elif (kind == "dict") != swap_text:
                if kind == "dict":
                    codes, vocab = payload
                else:
                    vocab = sorted({v for v in payload if v is not None})
                    index = {v: i for i, v in enumerate(vocab)}
                    codes = np.array([-1 if v is None else index[v] for v in payload],
                                     dtype=np.int32)
                f.add_dict(name, codes, vocab, valid)
            else:
                if kind == "str":
                    values = payload
                else:
                    codes, vocab = payload
                    values = [None if c < 0 else vocab[c] for c in codes]
                f.add_string(name, values, valid)
        return f


# ---------------------------------------------------------------------------
# Random rules: trees, printing, evaluation
# ---------------------------------------------------------------------------

NUM_COLS = ["d1", "d2", "月日均资产", "i64", "i32", "k"]
TEXT_COLS = ["tier", "seg"]
CONSTS = [0, 1, 2, 3, 5, 7, 10, 100, -1, -2, -7, 0.5, -0.5, 2.5, 0.25, 1e3, 1e-3, 150.0, 1e6]
CMP_OPS = ["==", "!=", "<", "<=", ">", ">="]

# precedence levels of printed forms
L_OR, L_AND, L_NOT, L_CMP, L_ADD, L_MUL, L_UNARY, L_PRIMARY = 1, 2, 3, 4, 5, 6, 7, 8


class Gen:
    def __init__(self, rng, data):
        self.r = rng
        self.data = data

    def const(self):
        r = self.r
        if r.random() < 0.25:
            # a value present in the data, so == and in hit
            col = self.data.num[r.choice(NUM_COLS)]
            v = col[r.randrange(len(col))]
            if v == v and abs(v) < 1e15:
                return float(v)
        return float(r.choice(CONSTS))

    def num(self, depth):
        r = self.r
        if depth <= 0 or r.random() < 0.3:
            return ("col", r.choice(NUM_COLS)) if r.random() < 0.7 else ("num", self.const())
        x = r.random()
        if x < 0.45:
            return ("bin", r.choice("+-*/"), self.num(depth - 1), self.num(depth - 1))
        if x < 0.55:
            return ("neg", self.num(depth - 1))
        if x < 0.65:
            return ("call", "abs", [self.num(depth - 1)])
        if x < 0.9:
            f = r.choice(["min", "max", "coalesce"])
            return ("call", f, [self.num(depth - 1) for _ in range(r.randint(2, 4))])
        return ("col", r.choice(NUM_COLS))

    def lit(self):
        return self.r.choice(VOCAB + ["zzz", "Gold"])

    def cond(self, depth):
        r = self.r
        if depth <= 0 or r.random() < 0.25:
            return self.leaf(max(depth - 1, 0))
        x = r.random()
        if x < 0.35:
            return ("and", self.cond(depth - 1), self.cond(depth - 1))
        if x < 0.7:
            return ("or", self.cond(depth - 1), self.cond(depth - 1))
        if x < 0.85:
            return ("not", self.cond(depth - 1))
        return self.leaf(depth - 1)

    def leaf(self, depth):
        r = self.r
        d = min(depth, 2)
        x = r.random()
        if x < 0.4:
            right = ("num", self.const()) if r.random() < 0.5 else self.num(d)
            left = self.num(d)
            if r.random() < 0.2:
                left, right = right, left
            return ("cmp", r.choice(CMP_OPS), left, right)
        if x < 0.52:
            lo, hi = sorted([self.const(), self.const()]) if r.random() < 0.8 else \
                [self.const(), self.const()]
            lo_n = ("num", lo) if r.random() < 0.7 else self.num(1)
            hi_n = ("num", hi) if r.random() < 0.7 else self.num(1)
            return ("between", r.random() < 0.3, self.num(d), lo_n, hi_n)
        if x < 0.62:
            return ("in", r.random() < 0.3, self.num(d),
                    [self.const() for _ in range(r.randint(1, 5))])
        if x < 0.67:
            return ("ismiss", self.num(d))
        if x < 0.82:
            return ("scmp", r.choice(["==", "!="]), r.choice(TEXT_COLS), self.lit(),
                    r.random() < 0.2)
        if x < 0.95:
            return ("sin", r.random() < 0.3, r.choice(TEXT_COLS),
                    [self.lit() for _ in range(r.randint(1, 4))])
        return ("smiss", r.choice(TEXT_COLS))


def fmt_num(r, v):
    if v < 0 or (v == 0 and str(v).startswith("-")):
        return "-" + fmt_num(r, -v)
    if v == int(v) and v < 1e15:
        choice = r.random()
        if choice < 0.6:
            return str(int(v))
        if choice < 0.8:
            return repr(v)
        return "%de%d" % (int(v), 0) if v < 10 else "%.6e" % v
    return repr(v) if r.random() < 0.8 else "%.17e" % v


def fmt_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fmt_col(r, name):
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) or r.random() < 0.1:
        return "`" + name + "`"
    return name


class Printer:
    def __init__(self, rng):
        self.r = rng

    def wrap(self, text, level, need):
        if level < need or self.r.random() < 0.08:
            return "(" + text + ")", L_PRIMARY
        return text, level

    def num(self, e):
        k = e[0]
        if k == "col":
            return fmt_col(self.r, e[1]), L_PRIMARY
        if k == "num":
            t = fmt_num(self.r, e[1])
            return t, L_UNARY if t.startswith("-") else L_PRIMARY
        if k == "neg":
            t, _ = self.wrap(*self.num(e[1]), L_UNARY)
            return "-" + (" " if t.startswith("-") or self.r.random() < 0.3 else "") + t, L_UNARY
        if k == "bin":
            lvl = L_ADD if e[1] in "+-" else L_MUL
            a, _ = self.wrap(*self.num(e[2]), lvl)
            b, _ = self.wrap(*self.num(e[3]), lvl + 1)
            return "%s %s %s" % (a, e[1], b), lvl
        if k == "call":
            args = [self.num(a)[0] for a in e[2]]
            return "%s(%s)" % (e[1], ", ".join(args)), L_PRIMARY
        raise ValueError(e)

    def arith(self, e):
        return self.wrap(*self.num(e), L_ADD)[0]

    def cond(self, c):
        k = c[0]
        r = self.r
        if k == "cmp":
            return "%s %s %s" % (self.arith(c[2]), c[1], self.arith(c[3])), L_CMP
        if k == "between":
            return "%s %sbetween %s and %s" % (self.arith(c[2]), "not " if c[1] else "",
                                                self.arith(c[3]), self.arith(c[4])), L_CMP
        if k == "in":
            return "%s %sin (%s)" % (self.arith(c[2]), "not " if c[1] else "",
                                     ", ".join(fmt_num(r, v) for v in c[3])), L_CMP
        if k == "ismiss":
            return "is_missing(%s)" % self.num(c[1])[0], L_PRIMARY
        if k == "smiss":
            return "is_missing(%s)" % fmt_col(r, c[1]), L_PRIMARY
        if k == "scmp":
            col, lit = fmt_col(r, c[2]), fmt_str(c[3])
            if c[4]:
                return "%s %s %s" % (lit, c[1], col), L_CMP
            return "%s %s %s" % (col, c[1], lit), L_CMP
        if k == "sin":
            return "%s %sin (%s)" % (fmt_col(r, c[2]), "not " if c[1] else "",
                                     ", ".join(fmt_str(s) for s in c[3])), L_CMP
        if k == "not":
            t, _ = self.wrap(*self.cond(c[1]), L_NOT)
            return "not " + t, L_NOT
        if k in ("and", "or"):
            lvl = L_AND if k == "and" else L_OR
            a, _ = self.wrap(*self.cond(c[1]), lvl)
            b, _ = self.wrap(*self.cond(c[2]), lvl + 1)
            sep = " %s " % k if r.random() < 0.9 else "\n  %s " % k
            return a + sep + b, lvl
        raise ValueError(c)

    def rule(self, c):
        t, _ = self.cond(c)
        if self.r.random() < 0.05:
            t = "# generated\n" + t + "  # end"
        return t


class Oracle:
    """Independent evaluation of the documented semantics with numpy."""

    def __init__(self, data):
        self.data = data
        self.n = data.n

    def num(self, e):
        k = e[0]
        if k == "col":
            return self.data.num[e[1]]
        if k == "num":
            return np.full(self.n, e[1])
        if k == "neg":
            return -self.num(e[1])
        if k == "bin":
            a, b = self.num(e[2]), self.num(e[3])
            with np.errstate(all="ignore"):
                if e[1] == "+":
                    return a + b
                if e[1] == "-":
                    return a - b
                if e[1] == "*":
                    return a * b
                return np.where(b == 0, np.nan, a / np.where(b == 0, 1.0, b))
        if k == "call":
            args = [self.num(a) for a in e[2]]
            if e[1] == "abs":
                return np.abs(args[0])
            acc = args[0]
            for b in args[1:]:
                if e[1] == "min":
                    acc = np.minimum(acc, b)  # NaN if either is NaN
                elif e[1] == "max":
                    acc = np.maximum(acc, b)
                else:
                    acc = np.where(np.isnan(acc), b, acc)
            return acc
        raise ValueError(e)

    @staticmethod
    def known(t, f):
        return t, f

    def cmp(self, op, a, b):
        known = ~np.isnan(a) & ~np.isnan(b)
        with np.errstate(invalid="ignore"):
            res = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
                   ">=": a >= b}[op]
        return known & res, known & ~res

    def text_test(self, col, lits):
        vals = self.data.text[col]
        present = np.array([v is not None for v in vals])
        hit = np.array([v is not None and v in lits for v in vals])
        return present & hit, present & ~hit

    def cond(self, c):
        k = c[0]
        if k == "cmp":
            return self.cmp(c[1], self.num(c[2]), self.num(c[3]))
        if k == "between":
            x = self.num(c[2])
            t1, f1 = self.cmp(">=", x, self.num(c[3]))
            t2, f2 = self.cmp("<=", x, self.num(c[4]))
            t, f = t1 & t2, f1 | f2
            return (f, t) if c[1] else (t, f)
        if k == "in":
            x = self.num(c[2])
            known = ~np.isnan(x)
            hit = np.zeros(self.n, dtype=bool)
            for v in c[3]:
                hit |= x == v
            t, f = known & hit, known & ~hit
            return (f, t) if c[1] else (t, f)
        if k == "ismiss":
            m = np.isnan(self.num(c[1]))
            return m, ~m
        if k == "smiss":
            m = np.array([v is None for v in self.data.text[c[1]]])
            return m, ~m
        if k == "scmp":
            t, f = self.text_test(c[2], {c[3]})
            return (f, t) if c[1] == "!=" else (t, f)
        if k == "sin":
            t, f = self.text_test(c[2], set(c[3]))
            return (f, t) if c[1] else (t, f)
        if k == "not":
            t, f = self.cond(c[1])
            return f, t
        if k == "and":
            ta, fa = self.cond(c[1])
            tb, fb = self.cond(c[2])
            return ta & tb, fa | fb
        if k == "or":
            ta, fa = self.cond(c[1])
            tb, fb = self.cond(c[2])
            return ta | tb, fa & fb
        raise ValueError(c)


def columns_of(tree, acc):
    if isinstance(tree, tuple):
        if tree[0] in ("col", "scmp", "sin", "smiss"):
            acc.add(tree[1] if tree[0] == "col" else tree[2] if tree[0] != "smiss" else tree[1])
        for x in tree[1:]:
            columns_of(x, acc)
    elif isinstance(tree, list):
        for x in tree:
            columns_of(x, acc)
    return acc


def describe_row(data, cols, row):
    parts = []
    for name in sorted(cols):
        if name in data.num:
            parts.append("%s=%r" % (name, float(data.num[name][row])))
        elif name in data.text:
            parts.append("%s=%r" % (name, data.text[name][row]))
    return ", ".join(parts)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def mutate(r, text):
    """A random edit of a valid rule: most results are invalid."""
    ops = ["(", ")", ",", "and", "or", "not", "==", "=", "!", "<", '"', "`", "-", "1e", "1.2.3",
           "in", "between", "abs(", "#", "\n", "金", "\\", "min(", ".", "\"x", "is_missing"]
    s = text
    for _ in range(r.randint(1, 3)):
        pos = r.randrange(len(s) + 1)
        x = r.random()
        if x < 0.4 and s:
            end = min(len(s), pos + r.randint(1, 4))
            s = s[:pos] + s[end:]
        elif x < 0.8:
            s = s[:pos] + r.choice(ops) + s[pos:]
        else:
            s = s[:pos]
    return s


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    lib = load(sys.argv[1])
    per_frame = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    failures = 0
    n_rules = n_hits = n_rows_true = 0
    n_fuzz = n_fuzz_ok = 0
    msg_re = re.compile(r"^rule:\d+:\d+: .+")

    for seed in range(N_FRAMES):
        rng = np.random.default_rng(1000 + seed)
        r = random.Random(2000 + seed)
        data = Data(rng, N_ROWS)
        frame = data.build(lib)
        order = list(range(len(data.cols)))
        r.shuffle(order)
        other = data.build(lib, swap_text=True, order=order)
        gen, printer, oracle = Gen(r, data), Printer(r), Oracle(data)

        for i in range(per_frame):
            tree = gen.cond(r.randint(1, 5))
            text = printer.rule(tree)
            t, f = oracle.cond(tree)
            assert not (t & f).any(), "oracle bug: true and false at once"
            want = t.astype(np.uint8)

            rc, rule, err = compile_rule(lib, frame, text)
            if rc != SEG_OK:
                print("COMPILE FAILED: rc %d: %s\n  rule: %s" % (rc, err, text))
                failures += 1
                continue
            n_rules += 1
            checks = [(frame, 0, N_ROWS, "full")]
            b = r.randrange(N_ROWS)
            e = r.randrange(b, N_ROWS + 1)
            checks.append((frame, b, e, "range"))
            checks.append((other, 0, N_ROWS, "swapped text kinds"))
            for fr, b, e, what in checks:
                rc, err, got = eval_rule(lib, rule, fr, b, e)
                if rc != SEG_OK:
                    print("EVAL FAILED (%s): rc %d: %s\n  rule: %s" % (what, rc, err, text))
                    failures += 1
                    break
                diff = np.nonzero(got != want[b:e])[0]
                if len(diff):
                    row = b + int(diff[0])
                    cols = columns_of(tree, set())
                    print("MISMATCH (%s, rows %d..%d): %d rows differ\n  rule: %s\n  first row %d:"
                          " library %d, oracle %d (oracle: %s)\n  values: %s\n  tree: %r"
                          % (what, b, e, len(diff), text, row, int(got[diff[0]]), int(want[row]),
                             "true" if t[row] else "false" if f[row] else "unknown",
                             describe_row(data, cols, row), tree))
                    failures += 1
                    break
            lib.seg_rule_free(rule)
            n_hits += int(want.any())
            n_rows_true += int(want.sum())
            if failures >= 10:
                break

            # fuzz: mutated text must compile or fail cleanly
            for _ in range(2):
                bad = mutate(r, text)
                n_fuzz += 1
                rc, rule, err = compile_rule(lib, frame, bad)
                if rc == SEG_OK:
                    n_fuzz_ok += 1
                    rc2, err2, _ = eval_rule(lib, rule, frame, 0, N_ROWS)
                    lib.seg_rule_free(rule)
                    if rc2 != SEG_OK:
                        print("FUZZ: compiled but eval gave %d: %s\n  rule: %r" % (rc2, err2, bad))
                        failures += 1
                elif rc != SEG_EPARSE or not msg_re.match(err):
                    print("FUZZ: rc %d, message %r\n  rule: %r" % (rc, err, bad))
                    failures += 1
        frame.free()
        other.free()
        if failures >= 10:
            break

    print("rule oracle: %d rules x %d rows (%d with matches, %.1f%% rows true); "
          "%d mutated rules (%d compiled); %d failures"
          % (n_rules, N_ROWS, n_hits, 100.0 * n_rows_true / max(1, n_rules * N_ROWS), n_fuzz,
             n_fuzz_ok, failures))
    if n_rules < 2000 and per_frame * N_FRAMES >= 2000:
        print("too few rules checked")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
