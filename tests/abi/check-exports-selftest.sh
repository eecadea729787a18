#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check-exports-selftest.sh CHECK_EXPORTS LIBRARY MAPFILE
#
# Proves that check-exports.sh can fail: it must accept the real library
# with the real map, and refuse (exit 1, naming the culprit) a map that
# misses a symbol, a map with a symbol the library lacks, a map that puts a
# symbol in another version node, and a library that exports a name
# outside seg_. Environment: CC (default cc), NM.
set -eu

if [ "$#" -ne 3 ]; then
    echo "usage: $0 CHECK_EXPORTS LIBRARY MAPFILE" >&2
    exit 2
fi
check=$1
lib=$2
map=$3
CC=${CC:-cc}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/seg-exports-self.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
failures=0

# expect_fail NAME PATTERN LIB MAP: check-exports must exit 1 and print PATTERN.
expect_fail() {
    if sh "$check" "$3" "$4" > "$tmp/out" 2>&1; then
        echo "FAIL: $1: check-exports accepted it"
        sed 's/^/    /' "$tmp/out"
        failures=$((failures + 1))
    elif ! grep -q -- "$2" "$tmp/out"; then
        echo "FAIL: $1: output does not mention '$2'"
        sed 's/^/    /' "$tmp/out"
        failures=$((failures + 1))
    else
        echo "ok: $1"
    fi
}

# 0. The real pair passes.
if sh "$check" "$lib" "$map" > "$tmp/out" 2>&1; then
    echo "ok: real library and map agree"
else
    echo "FAIL: real library and map disagree"
    sed 's/^/    /' "$tmp/out"
    failures=$((failures + 1))
fi

# A symbol the map lists: the first global name.
victim=$(grep -E '^[[:space:]]+seg_[A-Za-z0-9_]+;' "$map" | head -n 1 | tr -d ' \t;')
[ -n "$victim" ] || { echo "FAIL: no seg_ name found in $map"; exit 1; }

# 1. Drop it from the map: exported but not listed.
grep -v -E "^[[:space:]]+$victim;" "$map" > "$tmp/missing.map"
expect_fail "symbol missing from the map" "$victim" "$lib" "$tmp/missing.map"

# 2. Add a name the library lacks: listed but not exported.
awk '{ print } /global:/ && !done { print "    seg_selftest_no_such_function;"; done = 1 }' \
    "$map" > "$tmp/extra.map"
expect_fail "map lists a missing function" "seg_selftest_no_such_function" "$lib" "$tmp/extra.map"

# 3. Move the victim into a new node: the version no longer matches.
{
    grep -v -E "^[[:space:]]+$victim;" "$map"
    first_node=$(grep -E '^[A-Za-z_][A-Za-z0-9_.]*[[:space:]]*\{' "$map" | head -n 1 | sed 's/[[:space:]]*{.*//')
    printf 'SEGMENT_SELFTEST {\n  global:\n    %s;\n} %s;\n' "$victim" "$first_node"
} > "$tmp/moved.map"
expect_fail "symbol in the wrong version node" "map says $victim@@SEGMENT_SELFTEST" "$lib" "$tmp/moved.map"

# 4. A library that leaks a name outside seg_.
cat > "$tmp/leak.c" <<'SRC'
int seg_selftest_ok(void);
int leaked_helper(void);
int seg_selftest_ok(void) { return 1; }
int leaked_helper(void) { return 2; }
SRC
printf 'SELFTEST_1 {\n  global:\n    seg_selftest_ok;\n    leaked_helper;\n  local:\n    *;\n};\n' > "$tmp/leak-build.map"
printf 'SELFTEST_1 {\n  global:\n    seg_selftest_ok;\n  local:\n    *;\n};\n' > "$tmp/leak.map"
if $CC -shared -fPIC -o "$tmp/libleak.so" "$tmp/leak.c" -Wl,--version-script,"$tmp/leak-build.map" 2> "$tmp/cc.err"; then
    expect_fail "non-seg_ export" "leaked_helper" "$tmp/libleak.so" "$tmp/leak.map"
    # and the same library with an honest map still fails on the namespace
    expect_fail "non-seg_ export listed in the map" "outside the seg_ namespace" "$tmp/libleak.so" "$tmp/leak-build.map"
else
    echo "FAIL: cannot build the leaking test library with $CC"
    sed 's/^/    /' "$tmp/cc.err"
    failures=$((failures + 1))
fi

# 5. An unversioned export (no version script at all).
if $CC -shared -fPIC -o "$tmp/libnover.so" "$tmp/leak.c" 2> "$tmp/cc.err"; then
    expect_fail "unversioned export" "seg_selftest_ok: exported as (unversioned)" "$tmp/libnover.so" "$tmp/leak.map"
else
    echo "FAIL: cannot build the unversioned test library with $CC"
    failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
    echo "check-exports self-test: $failures failure(s)"
    exit 1
fi
echo "check-exports self-test: all cases behave"
