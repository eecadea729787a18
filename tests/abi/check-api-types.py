#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks the types that cross libsegment's ABI (STYLE.md A.3).

Usage:
  check-api-types.py MAPFILE HEADER_OR_DIR...   (a directory means its *.h)
  check-api-types.py --self-test FIXTURE_HEADER FIXTURE_MAP

For every function declared in the public headers, the return type and every
parameter must not use:
  bool / _Bool, long (any form), va_list, "...", an enum type (by keyword or
  through a typedef), a struct or union by value (pointers are fine).
Also:
  - a function declared in a public header must be marked SEG_API;
  - "()" is refused: a function without parameters is declared "(void)";
  - function-pointer typedefs (callbacks) follow the same rules;
  - fields of public structs follow the same rules and are not bit-fields;
  - the SEG_API functions are exactly the global names of MAPFILE.

--self-test runs the checks on a fixture whose comments of the form
  /* expect: NAME RULE */
list every violation it contains; the reported violations must be exactly
those (nothing missed, nothing extra). Exit status 0 = clean, 1 = violations.
Standard library only.
"""

import glob
import os
import re
import sys

RULES = {
    "bool": "uses bool",
    "long": "uses long",
    "va_list": "uses va_list",
    "varargs": "is variadic (...)",
    "enum": "uses an enum type (pass int32_t)",
    "struct-by-value": "passes or returns a struct/union by value",
    "no-prototype": "is declared with () instead of (void)",
    "no-seg-api": "is declared in a public header without SEG_API",
    "bitfield": "is a bit-field",
    "not-in-map": "is declared SEG_API but not listed in the map",
    "not-declared": "is listed in the map but not declared in any public header",
}


def strip_comments(text):
    """Removes /* */ and // comments, keeping line structure."""
    def repl(m):
        return "\n" * m.group(0).count("\n") if m.group(0).startswith("/*") else ""
    return re.sub(r"/\*.*?\*/|//[^\n]*", repl, text, flags=re.S)


def strip_preprocessor(text):
    """Removes preprocessor lines (with continuations)."""
    text = re.sub(r"\\\n", " ", text)
    return "\n".join("" if line.lstrip().startswith("#") else line for line in text.split("\n"))


def split_top(text, sep):
    """Splits text on sep at parenthesis/brace/bracket depth 0."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def tokens(s):
    return re.findall(r"\.\.\.|[A-Za-z_]\w*|\*|\[|\]|\(|\)|:", s)


class Checker:
    def __init__(self):
        self.enum_types = set()     # typedef names of enums
        self.record_types = set()   # typedef names of structs/unions
        self.functions = {}         # name -> where
        self.violations = []        # (name, rule, where)

    def report(self, name, rule, where):
        self.violations.append((name, rule, where))

    # -- pass 1: type names ------------------------------------------------
    def collect_types(self, code):
        for m in re.finditer(r"\btypedef\s+enum\b[^;{]*(\{[^}]*\})?\s*(\w+)\s*;", code):
            self.enum_types.add(m.group(2))
        for m in re.finditer(r"\btypedef\s+(struct|union)\b\s*\w*\s*(\{[^}]*\})?\s*(\w+)\s*;", code):
            self.record_types.add(m.group(3))

    # -- type rules ----------------------------------------------------------
    def check_type(self, name, text, where, pointer_ok=True):
        """Applies the A.3 rules to a return type, a parameter or a field."""
        toks = tokens(text)
        if "bool" in toks or "_Bool" in toks:
            self.report(name, "bool", where)
        if "long" in toks:
            self.report(name, "long", where)
        if "va_list" in toks or "__builtin_va_list" in toks or "__gnuc_va_list" in toks:
            self.report(name, "va_list", where)
        if "..." in toks:
            self.report(name, "varargs", where)
        if "enum" in toks or any(t in self.enum_types for t in toks):
            self.report(name, "enum", where)
        is_record = "struct" in toks or "union" in toks or any(t in self.record_types for t in toks)
        if is_record and "*" not in toks:
            self.report(name, "struct-by-value", where)

    def check_params(self, name, params, where):
        p = params.strip()
        if p == "":
            self.report(name, "no-prototype", where)
            return
        if p == "void":
            return
        for param in split_top(p, ","):
            self.check_type(name, param, where)

    # -- pass 2: declarations ------------------------------------------------
    def check_file(self, path):
        with open(path, encoding="utf-8") as f:
            raw = f.read()
        code = strip_preprocessor(strip_comments(raw))
        # SEG_BEGIN_DECLS / SEG_END_DECLS are markers, not declarations.
        code = re.sub(r"\bSEG_(BEGIN|END)_DECLS\b", " ", code)
        for stmt in split_top(code, ";"):
            stmt = " ".join(stmt.split())
            if not stmt:
                continue
            where = "%s: %s" % (path, stmt[:70])
            # typedef struct/union with a body: check the fields.
            m = re.match(r"typedef\s+(struct|union)\s*\w*\s*\{(.*)\}\s*(\w+)$", stmt)
            m2 = re.match(r"(struct|union)\s+(\w+)\s*\{(.*)\}$", stmt)
            if m or m2:
                tname = m.group(3) if m else m2.group(2)
                body = m.group(2) if m else m2.group(3)
                for field in split_top(body, ";"):
                    field = field.strip()
                    if not field:
                        continue
                    decl = re.sub(r":.*", "", field)
                    fname = "%s.%s" % (tname, (re.findall(r"\w+", decl) or ["?"])[-1])
                    if ":" in field:
                        self.report(fname, "bitfield", where)
                    self.check_type(fname, decl, where)
                continue
            if stmt.startswith("typedef") or stmt.startswith("enum") or "(" not in stmt:
                # function-pointer typedefs: typedef RET (*NAME)(PARAMS)
                fm = re.match(r"typedef\s+(.*?)\(\s*\*\s*(\w+)\s*\)\s*\((.*)\)$", stmt)
                if fm:
                    self.check_type(fm.group(2), fm.group(1), where)
                    self.check_params(fm.group(2), fm.group(3), where)
                continue
            fm = re.match(r"(.*?)\b(\w+)\s*\((.*)\)$", stmt)
            if not fm:
                continue
            ret, name, params = fm.group(1), fm.group(2), fm.group(3)
            ret_toks = tokens(ret)
            if "SEG_API" not in ret_toks:
                self.report(name, "no-seg-api", where)
            else:
                self.functions[name] = where
            ret = " ".join(t for t in ret_toks if t not in ("SEG_API", "extern"))
            self.check_type(name, ret, where)
            self.check_params(name, params, where)


def map_names(path):
    """Global names of a linker version script."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"#[^\n]*", " ", text)
    names = set()
    for body in re.findall(r"\{(.*?)\}", text, flags=re.S):
        glob = re.split(r"\blocal\s*:", body)[0]
        glob = re.sub(r"\bglobal\s*:", " ", glob)
        for item in glob.split(";"):
            item = item.strip()
            if item:
                names.add(item)
    return names


def run(map_path, headers):
    ck = Checker()
    codes = []
    for h in headers:
        with open(h, encoding="utf-8") as f:
            codes.append(strip_preprocessor(strip_comments(f.read())))
    for code in codes:
        ck.collect_types(code)
    for h in headers:
        ck.check_file(h)
    mapped = map_names(map_path)
    for name in sorted(set(ck.functions) - mapped):
        ck.report(name, "not-in-map", ck.functions[name])
    for name in sorted(mapped - set(ck.functions)):
        ck.report(name, "not-declared", map_path)
    return ck


def main(argv):
    if len(argv) >= 2 and argv[1] == "--self-test":
        if len(argv) != 4:
            print(__doc__)
            return 2
        fixture, fmap = argv[2], argv[3]
        ck = run(fmap, [fixture])
        with open(fixture, encoding="utf-8") as f:
            expected = set(tuple(m) for m in re.findall(r"expect:\s*(\S+)\s+(\S+)\s*\*/", f.read()))
        got = set((n, r) for n, r, _ in ck.violations)
        for n, r in sorted(expected):
            if r not in RULES:
                print("fixture error: unknown rule %s" % r)
                return 1
        missed = sorted(expected - got)
        extra = sorted(got - expected)
        for n, r in missed:
            print("MISSED: %s %s" % (n, RULES[r]))
        for n, r in extra:
            print("UNEXPECTED: %s %s" % (n, RULES[r]))
        print("self-test: %d expected violations, %d reported, %d missed, %d unexpected"
              % (len(expected), len(got), len(missed), len(extra)))
        return 1 if (missed or extra or not expected) else 0

    if len(argv) < 3:
        print(__doc__)
        return 2
    headers = []
    for arg in argv[2:]:
        if os.path.isdir(arg):
            headers += sorted(glob.glob(os.path.join(arg, "*.h")))
        else:
            headers.append(arg)
    ck = run(argv[1], headers)
    for name, rule, where in ck.violations:
        print("%s %s\n    at %s" % (name, RULES[rule], where))
    print("check-api-types: %d functions checked in %d headers, %d violation(s)"
          % (len(ck.functions), len(headers), len(ck.violations)))
    if not ck.functions:
        print("check-api-types: no SEG_API function found")
        return 1
    return 1 if ck.violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
