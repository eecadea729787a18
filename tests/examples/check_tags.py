#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks examples/crm_tags against an independent evaluation in Python.

    check_tags.py CRM_TAGS TAGS.txt ASSIGN.csv CUSTOMERS.csv

The evaluation below reads the registry text, normalises names, resolves
ASSIGN.csv, sets manual tags, evaluates the rule tags (its own parser of the
rule language with three-valued logic) and the audience queries (its own
parser), following include/segment/tags.h, tagset.h, query.h, rule.h and
the documented behaviour of crm_tags (--help). Then:

1. The sample (tags.txt, tag_assign.csv, tag_customers.csv): the summary
   lines, every `alias -> canonical (id N)` line (one per spelling that is not
   the canonical name, by tag id, then in order of first use), the warnings
   for rows naming the disabled tag, the whole tag table (id, name, category,
   kind, status, customers, share), and for a dozen queries the count, the share and EVERY
   matching id in order (--list-limit above the count); the default limit of
   20 and its "listed" line; --list-limit 0; --count.
2. The sample exercises the features: customers given two lifecycle stages,
   超级客户 set by a rule over another tag (clearing 复购客户), customers
   matching both asset rules of the exclusive group, missing values, the bare
   ASCII tag reference `VIP` in a rule, full-width spellings.
3. Without --frame (customers from ASSIGN.csv in order of first appearance,
   rule tags '-') and without --assign.
4. A small case worked out by hand (exact lines).
5. Errors: unknown tags in QUERY and in ASSIGN.csv name the tag and give the
   suggestions seg_tagreg_suggest() documents (computed here independently,
   and once by hand); an unknown customer names FILE:LINE; a rule tag in
   ASSIGN.csv; a disabled tag and a syntax error in QUERY; registry errors at
   FILE:LINE:COL worked out by hand; a rule column missing from the frame
   (the position of the column in tags.txt); a column named like a tag; bad
   CSV input; missing files; bad usage (exit 2).
Standard library only.
"""
import csv
import math
import os
import re
import subprocess
import sys
import tempfile

failures = []
PROG = "crm_tags"


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
# Names (tags.h: "Names").

def normalize(name):
    out = []
    for ch in name:
        cp = ord(ch)
        if 0xFF01 <= cp <= 0xFF5E:
            ch = chr(cp - 0xFEE0)
        if ch in ("\t", "\u3000", "\u00a0"):
            ch = " "
        if "A" <= ch <= "Z":
            ch = ch.lower()
        out.append(ch)
    s = "".join(out).strip(" ")
    return re.sub(" +", " ", s)


def levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


# --------------------------------------------------------------------------
# The registry text (TAGS.md grammar), enough of it for valid files.

def parse_string(line, i):
    """A "string" starting at line[i] == '"'; returns (text, next index)."""
    out = []
    i += 1
    while line[i] != '"':
        if line[i] == "\\":
            i += 1
        out.append(line[i])
        i += 1
    return "".join(out), i + 1


def parse_registry(text):
    tags = {}
    cur = None
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        m = re.match(r"\s*([a-z_-]+)", line)
        if not m:
            continue
        kw, i = m.group(1), m.end()
        if kw == "when":
            cur["rule"] = line[i:].strip(" \t")
            cur["kind"] = "rule"
            continue
        # Tokens: strings, words; a '#' outside a string ends the line.
        toks = []
        while i < len(line):
            c = line[i]
            if c in " \t":
                i += 1
            elif c == "#":
                break
            elif c == '"':
                s, i = parse_string(line, i)
                toks.append(s)
            else:
                j = i
                while j < len(line) and line[j] not in " \t#\"":
                    j += 1
                toks.append(line[i:j])
                i = j
        if kw == "tag":
            cur = {"id": int(toks[0]), "name": toks[1], "aliases": [], "category": "",
                   "group": "", "kind": "fact", "status": "online", "rule": None}
            tags[cur["id"]] = cur
        elif kw == "alias":
            cur["aliases"] += toks
        elif kw in ("category", "group", "owner", "desc", "status", "source"):
            cur[kw] = toks[0]
        elif kw == "kind":
            cur["kind"] = toks[0]
    names = {}
    for t in tags.values():
        for n in [t["name"]] + t["aliases"]:
            names[normalize(n)] = t["id"]
    return tags, names


def suggest(tags, name, cap=3):
    """seg_tagreg_suggest(): ids within max(2, (len + 1) / 2) code points."""
    key = normalize(name)
    limit = max(2, (len(key) + 1) // 2)
    found = []
    for tid in sorted(tags):
        t = tags[tid]
        best = None
        for n in [t["name"]] + t["aliases"]:
            k = normalize(n)
            d = 1 if (key in k or k in key) else levenshtein(key, k)
            best = d if best is None else min(best, d)
        if best <= limit:
            found.append((best, tid))
    found.sort()
    return [tags[tid]["name"] for _, tid in found[:cap]]


def did_you_mean(tags, name):
    s = suggest(tags, name)
    if not s:
        return ""
    return "; did you mean " + ", ".join("'%s'" % n for n in s) + "?"


# --------------------------------------------------------------------------
# The rule language (doc/rules.md), numbers only, three-valued logic:
# numbers are floats (NaN missing), conditions True / False / None.

RULE_TOKEN = re.compile(r"\s*(?:(#.*)|(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
                        r"|([A-Za-z_][A-Za-z0-9_]*)|`([^`]+)`|(==|!=|<=|>=|<|>|[-+*/(),]))")


def rule_tokens(text):
    toks, i = [], 0
    while i < len(text):
        m = RULE_TOKEN.match(text, i)
        if m is None:
            if text[i:].strip() == "":
                break
            raise ValueError("rule token at %r" % text[i:])
        i = m.end()
        if m.group(1):
            break
        if m.group(2):
            toks.append(("num", float(m.group(2))))
        elif m.group(3):
            w = m.group(3)
            toks.append(("kw", w) if w in ("and", "or", "not", "between", "in") else ("name", w))
        elif m.group(4):
            toks.append(("name", m.group(4)))
        elif m.group(5):
            toks.append(("op", m.group(5)))
    return toks


class RuleParser:
    """Parses a rule to a function row -> value."""

    def __init__(self, text, resolve):
        self.t = rule_tokens(text)
        self.i = 0
        self.resolve = resolve   # name -> function(row) -> float

    def peek(self, kind=None, val=None):
        if self.i >= len(self.t):
            return False
        k, v = self.t[self.i]
        return (kind is None or k == kind) and (val is None or v == val)

    def take(self, kind=None, val=None):
        if not self.peek(kind, val):
            raise ValueError("expected %s %s at %d in %r" % (kind, val, self.i, self.t))
        self.i += 1
        return self.t[self.i - 1][1]

    def parse(self):
        f = self.or_expr()
        if self.i != len(self.t):
            raise ValueError("trailing tokens %r" % self.t[self.i:])
        return f

    def or_expr(self):
        f = self.and_expr()
        while self.peek("kw", "or"):
            self.take()
            f = (lambda a, b: lambda r: k_or(a(r), b(r)))(f, self.and_expr())
        return f

    def and_expr(self):
        f = self.not_expr()
        while self.peek("kw", "and"):
            self.take()
            f = (lambda a, b: lambda r: k_and(a(r), b(r)))(f, self.not_expr())
        return f

    def not_expr(self):
        if self.peek("kw", "not"):
            self.take()
            f = self.not_expr()
            return lambda r: k_not(f(r))
        return self.test()

    def test(self):
        if self.peek("op", "(") and self.is_condition_group():
            self.take()
            f = self.or_expr()
            self.take("op", ")")
            return f
        a = self.sum()
        negate = False
        if self.peek("kw", "not"):
            self.take()
            negate = True
        if self.peek("kw", "between"):
            self.take()
            lo = self.sum()
            self.take("kw", "and")
            hi = self.sum()
            f = (lambda a, lo, hi: lambda r: k_and(cmp(a(r), ">=", lo(r)),
                                                   cmp(a(r), "<=", hi(r))))(a, lo, hi)
        elif self.peek("kw", "in"):
            self.take()
            self.take("op", "(")
            items = [self.sum()]
            while self.peek("op", ","):
                self.take()
                items.append(self.sum())
            self.take("op", ")")
            f = (lambda a, items: lambda r: k_or_all([cmp(a(r), "==", x(r)) for x in items]))(
                a, items)
        else:
            op = self.take("op")
            b = self.sum()
            f = (lambda a, op, b: lambda r: cmp(a(r), op, b(r)))(a, op, b)
        return (lambda g: lambda r: k_not(g(r)))(f) if negate else f

    def is_condition_group(self):
        """Whether the '(' at the cursor opens a condition (not arithmetic)."""
        depth, j = 0, self.i
        while j < len(self.t):
            k, v = self.t[j]
            if v == "(":
                depth += 1
            elif v == ")":
                depth -= 1
                if depth == 0:
                    return False
            elif depth == 1 and (k == "kw" or v in ("==", "!=", "<", "<=", ">", ">=")):
                return True
            j += 1
        return False

    def sum(self):
        f = self.product()
        while self.peek("op", "+") or self.peek("op", "-"):
            op = self.take()
            g = self.product()
            f = (lambda a, b, op: lambda r: a(r) + b(r) if op == "+" else a(r) - b(r))(f, g, op)
        return f

    def product(self):
        f = self.unary()
        while self.peek("op", "*") or self.peek("op", "/"):
            op = self.take()
            g = self.unary()
            f = (lambda a, b, op: lambda r: a(r) * b(r) if op == "*" else div(a(r), b(r)))(
                f, g, op)
        return f

    def unary(self):
        if self.peek("op", "-"):
            self.take()
            f = self.unary()
            return lambda r: -f(r)
        if self.peek("num"):
            v = self.take()
            return lambda r: v
        if self.peek("op", "("):
            self.take()
            f = self.sum()
            self.take("op", ")")
            return f
        return self.resolve(self.take("name"))


def div(a, b):
    return math.nan if b == 0 or math.isnan(a) or math.isnan(b) else a / b


def cmp(a, op, b):
    if math.isnan(a) or math.isnan(b):
        return None
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def k_and(a, b):
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def k_or(a, b):
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def k_or_all(xs):
    v = False
    for x in xs:
        v = k_or(v, x)
    return v


def k_not(a):
    return None if a is None else not a


# --------------------------------------------------------------------------
# Audience queries (query.h grammar).

QUERY_TOKEN = re.compile(r"\s*(?:(\()|(\))|`([^`]*)`|\"([^\"]*)\"|([A-Za-z_\u0080-\U0010ffff]"
                         r"[A-Za-z0-9_\u0080-\U0010ffff]*))")


def query_ids(tags, names, text, n_rows, has):
    """The rows matching the query: `has(tag_id, row)`."""
    toks, i = [], 0
    while i < len(text):
        if text[i:].strip() == "":
            break
        m = QUERY_TOKEN.match(text, i)
        if m is None:
            raise ValueError("query token at %r" % text[i:])
        i = m.end()
        if m.group(1) or m.group(2):
            toks.append(("op", m.group(1) or m.group(2)))
        elif m.group(5) in ("and", "or", "not", "true", "false"):
            toks.append(("kw", m.group(5)))
        else:
            name = m.group(3) if m.group(3) is not None else (
                m.group(4) if m.group(4) is not None else m.group(5))
            toks.append(("name", names[normalize(name)]))
    pos = [0]

    def peek(v):
        return pos[0] < len(toks) and toks[pos[0]][1] == v

    def or_():
        f = and_()
        while peek("or"):
            pos[0] += 1
            f = (lambda a, b: lambda r: a(r) or b(r))(f, and_())
        return f

    def and_():
        f = unary()
        while peek("and"):
            pos[0] += 1
            f = (lambda a, b: lambda r: a(r) and b(r))(f, unary())
        return f

    def unary():
        k, v = toks[pos[0]]
        pos[0] += 1
        if v == "not":
            f = unary()
            return lambda r: not f(r)
        if v == "(":
            f = or_()
            assert toks[pos[0]][1] == ")"
            pos[0] += 1
            return f
        if v == "true":
            return lambda r: True
        if v == "false":
            return lambda r: False
        return lambda r, tid=v: has(tid, r)

    f = or_()
    assert pos[0] == len(toks)
    return [r for r in range(n_rows) if f(r)]


# --------------------------------------------------------------------------
# The whole computation of crm_tags.

def num(s):
    s = s.strip()
    return math.nan if s == "" else float(s)


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fp:
        return list(csv.reader(fp))


class Model:
    def __init__(self, registry_path, assign_path, frame_path):
        with open(registry_path, encoding="utf-8") as fp:
            self.tags, self.names = parse_registry(fp.read())
        self.ids = []
        self.row_of = {}
        self.cols = {}
        if frame_path:
            rows = read_csv(frame_path)
            header = rows[0]
            for name in header[1:]:
                self.cols[name] = []
            for r in rows[1:]:
                self.row_of[r[0]] = len(self.ids)
                self.ids.append(r[0])
                for name, v in zip(header[1:], r[1:]):
                    self.cols[name].append(num(v))
        self.spellings = []        # distinct spellings in order of first use
        self.disabled_lines = []   # (line, spelling)
        self.n_assign_rows = 0
        assigned = []              # (tag id, row)
        if assign_path:
            rows = read_csv(assign_path)
            header = rows[0]
            pi, pt = header.index("customer_id"), header.index("tag")
            for line, r in enumerate(rows[1:], 2):   # no blank lines in these files
                cid, spelling = r[pi], r[pt]
                self.n_assign_rows += 1
                tid = self.names[normalize(spelling)]
                if spelling not in self.spellings:
                    self.spellings.append(spelling)
                if cid not in self.row_of:
                    assert not frame_path
                    self.row_of[cid] = len(self.ids)
                    self.ids.append(cid)
                if self.tags[tid]["status"] == "disabled":
                    self.disabled_lines.append((line, spelling))
                    continue
                assigned.append((tid, self.row_of[cid]))
        self.n = len(self.ids)
        self.has = {tid: [False] * self.n for tid in self.tags}
        # Manual tags: one tag at a time in ascending id order; setting a tag
        # of an exclusive group clears the group's other tags on that row.
        for tid in sorted(self.tags):
            for t2, row in assigned:
                if t2 == tid:
                    self.set(tid, row)
        self.evaluated = bool(frame_path)
        if frame_path:
            self.eval_rules()

    def group_of(self, tid):
        g = self.tags[tid]["group"]
        return normalize(g) if g else None

    def set(self, tid, row):
        self.has[tid][row] = True
        g = self.group_of(tid)
        if g is not None:
            for other in self.tags:
                if other != tid and self.group_of(other) == g:
                    self.has[other][row] = False

    def rule_fn(self, tid):
        deps = []

        def resolve(name):
            key = normalize(name)
            if key in self.names:
                dep = self.names[key]
                deps.append(dep)
                return lambda r: 1.0 if self.has[dep][r] else 0.0
            col = self.cols[name]
            return lambda r: col[r]
        f = RuleParser(self.tags[tid]["rule"], resolve).parse()
        return f, deps

    def eval_rules(self):
        live = [t for t in sorted(self.tags)
                if self.tags[t]["kind"] == "rule" and self.tags[t]["status"] != "disabled"]
        fns = {t: self.rule_fn(t) for t in live}
        done, order = set(), []

        def visit(t):
            if t in done:
                return
            done.add(t)
            for d in fns[t][1]:
                if d in fns:
                    visit(d)
            order.append(t)
        for t in live:
            visit(t)
        for t in order:
            mask = [fns[t][0](r) is True for r in range(self.n)]
            g = self.group_of(t)
            if g is not None:   # a row matching several rule tags of a group: the first id
                for u in live:
                    if u < t and self.group_of(u) == g:
                        um = [fns[u][0](r) is True for r in range(self.n)]
                        mask = [a and not b for a, b in zip(mask, um)]
            for r in range(self.n):
                if mask[r]:
                    self.set(t, r)
                else:
                    self.has[t][r] = False

    def count(self, tid):
        return sum(self.has[tid])

    def query(self, text):
        return query_ids(self.tags, self.names, text, self.n, lambda t, r: self.has[t][r])


def pct(part, total):
    return "%.1f%%" % (100.0 * part / total if total else 0.0)


# --------------------------------------------------------------------------
# Reading the report.

TABLE_ROW = re.compile(r"^\s*(\d+)  (.+?)\s+(\S+)\s+(fact|rule|model)\s+(draft|online|offline|"
                       r"disabled)\s+(\d+|-)\s+(\S+)$")


def report_parts(out):
    lines = out.split("\n")
    parts = {"spellings": None, "table": [], "ids": [], "listed": None}
    for i, line in enumerate(lines):
        if line.startswith("Tag spellings: "):
            parts["spelling_head"] = line
            parts["spellings"] = []
            for l in lines[i + 1:]:
                if l == "":
                    break
                parts["spellings"].append(l)
        if line.startswith("Tags (") and i + 1 < len(lines):
            parts["table_head"] = line
            parts["table_header"] = lines[i + 1].split()
            for l in lines[i + 2:]:
                m = TABLE_ROW.match(l)
                if not m:
                    parts["after_table"] = l
                    break
                parts["table"].append(list(m.groups()))
        if line.startswith("Matching customers: "):
            parts["matching"] = line
            for l in lines[i + 1:]:
                if l.startswith("  "):
                    parts["ids"].append(l[2:])
                elif l.startswith("("):
                    parts["listed"] = l
                elif l:
                    parts.setdefault("extra", []).append(l)
    return parts


def expected_table(m):
    rows = []
    for tid in sorted(m.tags):
        t = m.tags[tid]
        unpopulated = t["status"] == "disabled" or (t["kind"] == "rule" and not m.evaluated)
        c = m.count(tid)
        rows.append([str(tid), t["name"], t["category"] or "-", t["kind"], t["status"],
                     "-" if unpopulated else str(c), "-" if unpopulated else pct(c, m.n)])
    return rows


def check_report(exe, m, label, args, query, registry, assign, frame, limit=None,
                 count_only=False):
    """Runs one query and checks the whole report against the model."""
    full = list(args)
    if limit is not None:
        full += ["--list-limit", str(limit)]
    if count_only:
        full += ["--count"]
    rc, out, err = run(exe, *(full + ["--", query]))
    expect(rc == 0, "%s: exit 0" % label, "exit %d, stderr %r" % (rc, err))
    if rc != 0:
        return None
    p = report_parts(out)
    problems = []

    # Summary lines.
    kinds = [t["kind"] for t in m.tags.values()]
    want = ("Registry: %s: %d tags (%d fact, %d rule, %d model; %d disabled)"
            % (registry, len(m.tags), kinds.count("fact"), kinds.count("rule"),
               kinds.count("model"),
               sum(1 for t in m.tags.values() if t["status"] == "disabled")))
    if want not in out.split("\n"):
        problems.append("missing line %r" % want)
    if frame:
        want = "Customers: %s: %d customers, %d numeric columns" % (frame, m.n, len(m.cols))
        if want not in out.split("\n"):
            problems.append("missing line %r" % want)
    if assign:
        want = "Assignments: %s: %d rows, %d skipped (disabled tag)%s" % (
            assign, m.n_assign_rows, len(m.disabled_lines),
            "" if frame else "; customers taken from this file")
        if want not in out.split("\n"):
            problems.append("missing line %r" % want)
        # By tag id, then in order of first use.
        aliases = ["%s -> %s (id %d)" % (s, m.tags[tid]["name"], tid)
                   for tid in sorted(m.tags) for s in m.spellings
                   if m.names[normalize(s)] == tid and s != m.tags[tid]["name"]]
        head = "Tag spellings: %d distinct, %d of them not the canonical name%s" % (
            len(m.spellings), len(aliases), ":" if aliases else "")
        if p.get("spelling_head") != head:
            problems.append("spelling header %r, want %r" % (p.get("spelling_head"), head))
        if p["spellings"] != aliases:
            problems.append("alias lines %r\nwant %r" % (p["spellings"], aliases))
        want_err = "".join("%s: warning: %s:%d: tag '%s' is disabled; row skipped\n"
                           % (PROG, assign, line, s) for line, s in m.disabled_lines[:20])
        if err != want_err:
            problems.append("stderr %r, want %r" % (err, want_err))
    elif err != "":
        problems.append("stderr %r" % err)

    # The tag table.
    if p.get("table_head") != "Tags (%d customers):" % m.n:
        problems.append("table title %r" % p.get("table_head"))
    if p.get("table_header") != ["Id", "Tag", "Category", "Kind", "Status", "Customers",
                                 "Share"]:
        problems.append("table header %r" % p.get("table_header"))
    want_rows = expected_table(m)
    if p["table"] != want_rows:
        bad = [(g, w) for g, w in zip(p["table"], want_rows) if g != w]
        problems.append("table rows differ (%d rows, want %d): %r" % (len(p["table"]),
                                                                    len(want_rows), bad[:8]))
    no_frame = "No --frame: rule tags are not evaluated ('-')."
    if (no_frame in out.split("\n")) == bool(frame):
        problems.append("'No --frame' line %s" % ("present" if frame else "missing"))

    # The query.
    rows = m.query(query)
    ids = [m.ids[r] for r in rows]
    want = "Matching customers: %d of %d (%s)" % (len(ids), m.n, pct(len(ids), m.n))
    if p.get("matching") != want:
        problems.append("matching line %r, want %r" % (p.get("matching"), want))
    if ("Query: %s" % query) not in out.split("\n"):
        problems.append("no 'Query:' line")
    if count_only:
        want_ids, want_listed = [], None
    else:
        lim = 20 if limit is None else limit
        want_ids = ids[:lim]
        want_listed = (None if len(want_ids) == len(ids) else
                       "(%d of %d listed; --list-limit N lists more)" % (len(want_ids), len(ids)))
    if p["ids"] != want_ids:
        problems.append("ids %r\nwant %r" % (p["ids"][:30], want_ids[:30]))
    if p["listed"] != want_listed:
        problems.append("listed line %r, want %r" % (p["listed"], want_listed))
    if p.get("extra"):
        problems.append("unexpected lines after the count: %r" % p["extra"])
    expect(not problems, "%s: report = Python evaluation (%d matching)" % (label, len(ids)),
           "\n".join(problems))
    return ids


# --------------------------------------------------------------------------
# 1-3. The sample.

SAMPLE_QUERIES = [
    "高净值 and not 流失预警",
    "vip and (理财偏好 or 基金持有)",
    "ＶＩＰ or 贵宾",
    "`first purchase` or \"repeat buyer\"",
    "重点维护",
    "超级客户 or 复购客户",
    "not 高频 and not 低频",
    "大众富裕 and 线上偏好 and not 银发客户",
    "信用卡潜客",
    "投诉客户 or `churn risk`",
    "HNW or `mass affluent`",
    "true",
    "false",
    "not (新客 or 首购客户 or 复购客户 or 超级客户)",
]


def check_sample(exe, registry, assign, frame):
    m = Model(registry, assign, frame)
    args = ["--registry", registry, "--assign", assign, "--frame", frame]
    for q in SAMPLE_QUERIES:
        check_report(exe, m, "sample %r" % q, args, q, registry, assign, frame, limit=100000)
    check_report(exe, m, "sample, default --list-limit", args, "复购客户", registry, assign, frame)
    check_report(exe, m, "sample, --list-limit 0", args, "vip", registry, assign, frame, limit=0)
    check_report(exe, m, "sample, --list-limit 7", args, "理财偏好", registry, assign, frame,
                 limit=7)
    check_report(exe, m, "sample, --count", args, "高净值 or 大众富裕", registry, assign, frame,
                 count_only=True)

    # 2. The sample exercises what it should.
    rows = read_csv(assign)[1:]
    stages = {}
    life = {normalize(n) for t in m.tags.values() if t["group"] == "lifecycle"
            for n in [t["name"]] + t["aliases"]}
    for cid, tag in rows:
        if normalize(tag) in life:
            stages.setdefault(cid, set()).add(m.names[normalize(tag)])
    two = sum(1 for s in stages.values() if len(s) > 1)
    both_assets = sum(1 for v in m.cols["aum"] if v >= 1e6)
    missing_txn = sum(1 for v in m.cols["txn_90d"] if math.isnan(v))
    super_id, repeat_id = m.names[normalize("超级客户")], m.names[normalize("复购客户")]
    key_id, vip_id = m.names[normalize("重点维护")], m.names[normalize("vip")]
    prospect = m.names[normalize("信用卡潜客")]
    vip_blocks = sum(1 for r in range(m.n) if m.has[vip_id][r] and
                     m.cols["aum"][r] >= 50000 and 25 <= m.cols["age"][r] <= 45)
    fullwidth = [s for s in m.spellings if any(0xFF01 <= ord(c) <= 0xFF5E for c in s)]
    stats = ("%d customers with two lifecycle stages, %d 超级客户, %d 重点维护, %d with "
             "aum >= 1e6 (both asset rules), %d missing txn_90d, %d vip kept out of "
             "信用卡潜客 by `VIP == 0`, full-width spellings %r"
             % (two, m.count(super_id), m.count(key_id), both_assets, missing_txn, vip_blocks,
                fullwidth))
    expect(two >= 10 and m.count(super_id) >= 20 and m.count(key_id) >= 5 and
           both_assets >= 10 and missing_txn >= 10 and vip_blocks >= 3 and len(fullwidth) >= 3
           and m.count(repeat_id) > 0 and m.disabled_lines,
           "sample exercises the features: " + stats)

    # 3. Without --frame / without --assign.
    m2 = Model(registry, assign, None)
    args = ["--registry", registry, "--assign", assign]
    for q in ("vip and 理财偏好", "not 复购客户", "高净值 or 新客"):
        check_report(exe, m2, "no --frame %r" % q, args, q, registry, assign, None,
                     limit=100000)
    m3 = Model(registry, None, frame)
    args = ["--registry", registry, "--frame", frame]
    for q in ("高频 and not 低频", "vip or 复购客户", "超级客户", "信用卡潜客"):
        check_report(exe, m3, "no --assign %r" % q, args, q, registry, None, frame,
                     limit=100000)


# --------------------------------------------------------------------------
# 4. Worked out by hand.

HAND_TAGS = """\
# hand-worked registry
tag 1 "新客"
  group life
tag 2 "首购客户"
  alias "客户首单" "first purchase"
  group life
tag 3 "复购客户"
  group life
tag 5 "vip"
  alias "贵宾"
tag 6 "高净值"
  category "资产/规模"
  when aum >= 1000000
tag 7 "重点"
  when `高净值` == 1 and vip == 1
tag 8 "停用"
  status disabled
"""
HAND_CUSTOMERS = "customer_id,aum\na,2000000\nb,500\nc,\nd,1000000\n"
HAND_ASSIGN = ("customer_id,tag\n"
               "a,客户首单\n"        # 2
               "a,复购客户\n"        # 3: a keeps 复购客户 (id 3 > 2)
               "b,复购客户\n"        # 4
               "b,新客\n"            # 5: b keeps 复购客户 although 新客 comes later
               "c,FIRST PURCHASE\n"  # 6: c 首购客户
               "a,ＶＩＰ\n"          # 7
               "d,贵宾\n"            # 8
               "c,停用\n")           # 9: disabled, skipped


def check_hand(exe, tmp):
    reg = os.path.join(tmp, "hand.tags")
    cus = os.path.join(tmp, "hand_customers.csv")
    asg = os.path.join(tmp, "hand_assign.csv")
    write(reg, HAND_TAGS)
    write(cus, HAND_CUSTOMERS)
    write(asg, HAND_ASSIGN)
    rc, out, err = run(exe, "--registry", reg, "--assign", asg, "--frame", cus,
                       "--list-limit", "10", "重点 and 复购客户")
    lines = out.split("\n")
    want = [
        "Registry: %s: 7 tags (5 fact, 2 rule, 0 model; 1 disabled)" % reg,
        "Customers: %s: 4 customers, 1 numeric columns" % cus,
        "Assignments: %s: 8 rows, 1 skipped (disabled tag)" % asg,
        "Tag spellings: 7 distinct, 4 of them not the canonical name:",
        "客户首单 -> 首购客户 (id 2)",
        "FIRST PURCHASE -> 首购客户 (id 2)",
        "ＶＩＰ -> vip (id 5)",
        "贵宾 -> vip (id 5)",
        "",
        "Tags (4 customers):",
    ]
    expect(rc == 0 and lines[:len(want)] == want, "hand case: summary and alias lines",
           "exit %d, stderr %r\n%s" % (rc, err, out))
    expect(err == "%s: warning: %s:9: tag '停用' is disabled; row skipped\n" % (PROG, asg),
           "hand case: warning for the disabled tag on line 9", err)
    table = [r for r in (TABLE_ROW.match(l) for l in lines) if r]
    got = [list(r.groups()) for r in table]
    expect(got == [["1", "新客", "-", "fact", "online", "0", "0.0%"],
                   ["2", "首购客户", "-", "fact", "online", "1", "25.0%"],
                   ["3", "复购客户", "-", "fact", "online", "2", "50.0%"],
                   ["5", "vip", "-", "fact", "online", "2", "50.0%"],
                   ["6", "高净值", "资产/规模", "rule", "online", "2", "50.0%"],
                   ["7", "重点", "-", "rule", "online", "2", "50.0%"],
                   ["8", "停用", "-", "fact", "disabled", "-", "-"]],
           "hand case: tag table", got)
    tail = lines[lines.index("Query: 重点 and 复购客户"):]
    expect(tail[:4] == ["Query: 重点 and 复购客户", "Matching customers: 1 of 4 (25.0%)", "  a",
                        ""], "hand case: 重点 and 复购客户 -> a", tail)

    def ids(args, query):
        rc, out, err = run(exe, *(args + [query]))
        return rc, report_parts(out)["ids"], out

    full = ["--registry", reg, "--assign", asg, "--frame", cus]
    # c has a missing aum: 高净值 is false (unknown is not a match), so the
    # tag is 0 and `not 高净值` matches c.
    for q, want_ids in (("not 高净值", ["b", "c"]),
                        ("`first purchase` or 新客", ["c"]),
                        ("客户首单 or 复购客户", ["a", "b", "c"]),
                        ("贵宾 and not 重点", []),
                        ("not vip", ["b", "c"])):
        rc, got, out = ids(full, q)
        expect(rc == 0 and got == want_ids, "hand case: %r -> %r" % (q, want_ids), out)
    # Without --frame: customers in order of first appearance (a b c d), rules '-'.
    rc, got, out = ids(["--registry", reg, "--assign", asg], "vip")
    table = [list(r.groups()) for r in (TABLE_ROW.match(l) for l in out.split("\n")) if r]
    expect(rc == 0 and got == ["a", "d"] and "Tags (4 customers):" in out and
           table[4:6] == [["6", "高净值", "资产/规模", "rule", "online", "-", "-"],
                          ["7", "重点", "-", "rule", "online", "-", "-"]] and
           table[3] == ["5", "vip", "-", "fact", "online", "2", "50.0%"],
           "hand case without --frame", out)
    rc, out, err = run(exe, "--registry", reg, "--assign", asg, "--count", "重点 or 复购客户")
    expect(rc == 0 and "Matching customers: 2 of 4 (50.0%)" in out.split("\n") and
           report_parts(out)["ids"] == [] and out.endswith("(50.0%)\n"),
           "hand case --count without --frame: rule tag 重点 is empty", out)


# --------------------------------------------------------------------------
# 5. Errors.

def check_errors(exe, registry, assign, frame, tmp):
    tags, names = parse_registry(open(registry, encoding="utf-8").read())
    base = ["--registry", registry, "--assign", assign, "--frame", frame]

    def fails(what, code, args, *needles, first_line=None, prefix=PROG + ": "):
        rc, out, err = run(exe, *args)
        missing = [n for n in needles if n not in err]
        line0 = err.split("\n")[0]
        ok = rc == code and not missing and err.startswith(prefix)
        if first_line is not None:
            ok = ok and line0 == first_line
        expect(ok, "%s: exit %d" % (what, code),
               "exit %d, stderr %r (lacks %r; want first line %r)"
               % (rc, err, missing, first_line))
        return err

    # Unknown tags in QUERY: the library's message with the documented suggestions.
    fails("query 'vipp' (by hand: vip contains... is contained in it)", 1,
          base + ["高净值 and vipp"],
          first_line="%s: query:1:15: unknown tag 'vipp'; did you mean 'vip'?" % PROG)
    for q, name, col in (("理财偏爱", "理财偏爱", 1), ("vip or 高净客户", "高净客户", 8),
                         ("`first purchas` and vip", "first purchas", 1),
                         ("复购 and 超级", "超级", 12),
                         ("zzzzzzzz", "zzzzzzzz", 1)):
        fails("unknown tag in QUERY %r" % q, 1, base + [q],
              first_line="%s: query:1:%d: unknown tag '%s'%s" % (PROG, col, name,
                                                                 did_you_mean(tags, name)))
    expect(suggest(tags, "zzzzzzzz") == [] and suggest(tags, "高净客户")[:1] == ["高净值"],
           "suggestion oracle: none for zzzzzzzz, 高净值 first for 高净客户")
    # (a name starting with a digit needs quotes in a query)
    fails("disabled tag in QUERY", 1, base + ["vip or `2019促销名单`"], "query:1:8:", "2019促销名单")
    fails("tag name starting with a digit, unquoted", 1, base + ["2019促销名单"], "query:1:1:")
    fails("disabled tag by alias in QUERY", 1, base + ["老促销"], "query:1:1:")
    fails("query syntax error", 1, base + ["vip and"], "query:1:")
    fails("query syntax error: unbalanced (", 1, base + ["(vip or 高频"], "query:1:")

    # ASSIGN.csv problems.
    bad = os.path.join(tmp, "bad_assign.csv")
    write(bad, "customer_id,tag\nC100001,vip\nC100002,vipp\n")
    fails("unknown tag in ASSIGN (by hand)", 1, ["--registry", registry, "--assign", bad,
                                                 "--frame", frame, "vip"],
          first_line="%s: %s:3: unknown tag 'vipp'; did you mean 'vip'?" % (PROG, bad))
    for t in ("理财偏爱", "Churn  Risks", "首购"):
        write(bad, "customer_id,tag\nC100001,vip\nC100003,理财\nC100002,%s\n" % t)
        fails("unknown tag %r in ASSIGN" % t, 1,
              ["--registry", registry, "--assign", bad, "--frame", frame, "vip"],
              first_line="%s: %s:4: unknown tag '%s'%s" % (PROG, bad, t, did_you_mean(tags, t)))
    write(bad, "customer_id,tag\nC100001,vip\nC100002,理财\nC999999,vip\n")
    fails("unknown customer in ASSIGN", 1,
          ["--registry", registry, "--assign", bad, "--frame", frame, "vip"],
          first_line="%s: %s:4: unknown customer 'C999999' (not in %s)" % (PROG, bad, frame))
    write(bad, "customer_id,tag\nC100001,vip\nC100002,高频交易\n")
    fails("rule tag in ASSIGN", 1,
          ["--registry", registry, "--assign", bad, "--frame", frame, "vip"],
          "%s:3:" % bad, "'高频交易'", "rule tag")
    write(bad, "customer_id,label\nC100001,vip\n")
    fails("ASSIGN without a tag column", 1, ["--registry", registry, "--assign", bad, "vip"],
          "%s:1:" % bad, "'tag'")
    write(bad, "customer_id,tag\nC100001,\n")
    fails("empty tag in ASSIGN", 1, ["--registry", registry, "--assign", bad, "vip"],
          "%s:2:" % bad)
    write(bad, "customer_id,tag\nC100001,\"vip\n")
    fails("unclosed quote in ASSIGN", 1, ["--registry", registry, "--assign", bad, "vip"],
          bad)
    write(bad, "customer_id,tag\n")
    fails("ASSIGN without rows and no --frame", 1, ["--registry", registry, "--assign", bad,
                                                   "vip"], "no data rows")

    # CUSTOMERS.csv problems.
    badf = os.path.join(tmp, "bad_customers.csv")
    write(badf, "customer_id,aum\nA,1\nB,12x\n")
    fails("bad number in CUSTOMERS", 1, ["--registry", registry, "--frame", badf, "vip"],
          "%s:3:" % badf, "'aum'", "'12x'")
    write(badf, "customer_id,aum\nA,1\nA,2\n")
    fails("duplicate customer in CUSTOMERS", 1, ["--registry", registry, "--frame", badf,
                                                  "vip"], "%s:3:" % badf, "'A'")
    write(badf, "customer_id,aum\nA,1,2\n")
    fails("short/long record in CUSTOMERS", 1, ["--registry", registry, "--frame", badf,
                                                 "vip"], "%s:2:" % badf)
    # A rule column missing from the frame: the error points at the column in tags.txt.
    rows = read_csv(frame)
    drop = rows[0].index("age")
    write(badf, "".join(",".join(r[:drop] + r[drop + 1:]) + "\n" for r in rows))
    rc, out, err = run(exe, "--registry", registry, "--frame", badf, "vip")
    m = re.match(re.escape(registry) + r":(\d+):(\d+): (.*)", err)
    ok = rc == 1 and m is not None
    if ok:
        line = open(registry, encoding="utf-8").read().split("\n")[int(m.group(1)) - 1]
        col = int(m.group(2))
        ok = (line.encode("utf-8")[col - 1:col + 2] == b"age" and
              line.lstrip().startswith("when") and "'age'" in m.group(3))
    expect(ok, "rule column missing from the frame: TAGS.txt:LINE:COL at 'age'",
           "exit %d, stderr %r" % (rc, err))
    # A frame column named like a tag a rule uses (`高净值` in 重点维护).
    write(badf, "customer_id,aum,txn_90d,orders_365d,spend_365d,online_share,age,高净值\n"
                "A,1,1,1,1,0.5,30,1\n")
    rc, out, err = run(exe, "--registry", registry, "--frame", badf, "vip")
    expect(rc == 1 and err.startswith(registry + ":") and "高净值" in err,
           "frame column named like a tag: error at the rule in TAGS.txt", err)

    # Registry errors at FILE:LINE:COL, worked out by hand.
    regp = os.path.join(tmp, "bad.tags")

    def reg_error(what, text, line, cols, *needles):
        """cols: the column, or the columns allowed where the grammar leaves it open."""
        write(regp, text)
        rc, out, err = run(exe, "--registry", regp, "--frame", frame, "true")
        cols = cols if isinstance(cols, tuple) else (cols,)
        prefixes = ["%s:%d:%d: " % (regp, line, c) for c in cols]
        missing = [n for n in needles if n not in err]
        expect(rc == 1 and any(err.startswith(p) for p in prefixes) and not missing
               and len(err.split("\n")) == 2,
               "bad registry (%s): exit 1, '%s'" % (what, prefixes[0][len(tmp) + 1:]),
               "exit %d, stderr %r lacks %r" % (rc, err, missing))

    reg_error("unknown keyword", 'tag 1 "a"\n  colour "red"\n', 2, 3, "colour")
    reg_error("bad version", "libsegment-tags 2\ntag 1 \"a\"\n", 1, 17)
    reg_error("attribute before any tag", '# c\n  alias "x"\n', 2, 3)
    reg_error("id 0", 'tag 1 "a"\ntag 0 "b"\n', 2, 5)
    reg_error("duplicate id", 'tag 1 "a"\ntag 1 "b"\n', 2, 5)
    reg_error("alias taken (full-width)", 'tag 1 "vip"\ntag 2 "贵宾"\n  alias "ＶＩＰ"\n', 3, 9,
              "ＶＩＰ", "vip")
    reg_error("category with an empty level", 'tag 1 "a"\n  category "行为//交易"\n', 2, 12)
    reg_error("repeated category", 'tag 1 "a"\n  category "x"\n  category "y"\n', 3, (3, 12))
    reg_error("rule syntax error", 'tag 1 "a"\n  when aum => 1\n', 2, 12)
    reg_error("unknown status", 'tag 1 "a"\n  status live\n', 2, 10, "live")
    write(regp, 'tag 1 "a"\n  when `b` == 1\ntag 2 "b"\n  when a == 1\n')
    rc, out, err = run(exe, "--registry", regp, "--frame", frame, "true")
    expect(rc == 1 and re.match(re.escape(regp) + r":[24]:\d+: ", err) is not None
           and "cycle" in err.lower(),
           "bad registry (rule cycle): exit 1, at one of the `when` lines", err)
    write(regp, 'tag 1 "a"\n  when agee >= 2 or aum >= 1\n')
    rc, out, err = run(exe, "--registry", regp, "--frame", frame, "true")
    expect(rc == 1 and err.startswith(regp + ":2:8: ") and "'agee'" in err,
           "rule with an unknown column: TAGS.txt:2:8", err)

    # Missing files.
    nope = os.path.join(tmp, "nope")
    fails("registry missing", 1, ["--registry", nope + ".txt", "--frame", frame, "vip"],
          "cannot open", "nope.txt")
    fails("ASSIGN missing", 1, ["--registry", registry, "--assign", nope + ".csv", "vip"],
          "cannot open", "nope.csv")
    fails("CUSTOMERS missing", 1, ["--registry", registry, "--frame", nope + "2.csv", "vip"],
          "cannot open", "nope2.csv")

    # Usage.
    rc, out, err = run(exe, "--help")
    expect(rc == 0 and out.startswith("Usage: crm_tags") and err == "", "--help exits 0")
    rc, out, err = run(exe, "-h")
    expect(rc == 0 and out.startswith("Usage: crm_tags"), "-h exits 0")
    fails("no arguments", 2, [], "missing --registry")
    fails("missing --registry", 2, ["--frame", frame, "vip"], "missing --registry")
    fails("missing QUERY", 2, ["--registry", registry, "--frame", frame], "missing QUERY")
    fails("no --assign nor --frame", 2, ["--registry", registry, "vip"], "--assign")
    fails("unknown option", 2, base + ["--query", "vip"], "unknown option '--query'")
    fails("option without its value", 2, ["vip", "--registry"], "missing value")
    fails("empty option value", 2, ["--registry=", "--frame", frame, "vip"], "empty value")
    fails("two queries", 2, base + ["vip", "高频"], "more than one QUERY")
    for v in ("-1", "abc", "1.5", "", "+3", "99999999999999999999999"):
        fails("--list-limit %r" % v, 2, base + ["--list-limit=" + v, "vip"],
              "--list-limit" if v else "empty value")
    rc, out, err = run(exe, "--registry=" + registry, "--frame=" + frame, "--list-limit=3",
                       "--", "vip")
    expect(rc == 0 and "Matching customers: " in out, "--opt=value and --", err)


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    exe, registry, assign, frame = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        check_sample(exe, registry, assign, frame)
        check_hand(exe, tmp)
        check_errors(exe, registry, assign, frame, tmp)
    if failures:
        print("\n%d check(s) failed:\n  %s" % (len(failures), "\n  ".join(failures)))
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
