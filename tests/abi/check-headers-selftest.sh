#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check-headers-selftest.sh CHECK_HEADERS SRC_INCLUDE_DIR BUILD_INCLUDE_DIR LIBRARY MAPFILE
#
# Proves that check-headers.sh can fail. On copies of the public headers it
# injects one defect at a time and requires the check to refuse it, naming
# the right step:
#   - a header that does not include what it uses (C and C++);
#   - a header whose declarations lose their extern "C" block (C++ link);
#   - an unprototyped declaration "()" (C, -Wstrict-prototypes);
#   - an umbrella header that misses a public header;
#   - a header without include guards.
# The unmodified copy must pass. Environment: CC, CXX (as check-headers.sh).
set -eu

if [ "$#" -ne 5 ]; then
    echo "usage: $0 CHECK_HEADERS SRC_INCLUDE_DIR BUILD_INCLUDE_DIR LIBRARY MAPFILE" >&2
    exit 2
fi
check=$1
srcinc=$2
bldinc=$3
lib=$4
map=$5
case "$lib" in /*) ;; *) lib=$PWD/$lib ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/seg-headers-self.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
failures=0

fresh() {
    rm -rf "$tmp/inc"
    mkdir -p "$tmp/inc"
    cp -R "$srcinc/segment" "$tmp/inc/segment"
}

# expect LANG NAME PATTERN [LINK]: check-headers on the copy must fail and
# print PATTERN on a FAIL line; with LINK the link test is run too.
expect() {
    lang=$1 name=$2 pattern=$3
    if [ "${4:-}" = link ]; then
        set -- "$tmp/inc" "$bldinc" "$lib" "$map"
    else
        set -- "$tmp/inc" "$bldinc"
    fi
    if sh "$check" "$lang" "$@" > "$tmp/out" 2>&1; then
        echo "FAIL: $name ($lang): check-headers accepted it"
        failures=$((failures + 1))
    elif ! grep '^FAIL' "$tmp/out" | grep -q -- "$pattern"; then
        echo "FAIL: $name ($lang): no FAIL line mentions '$pattern'"
        sed 's/^/    /' "$tmp/out" | head -n 30
        failures=$((failures + 1))
    else
        echo "ok: $name ($lang) refused"
    fi
}

# 0. The real headers pass in both languages, link test included.
fresh
for lang in c c++; do
    if sh "$check" "$lang" "$tmp/inc" "$bldinc" "$lib" "$map" > "$tmp/out" 2>&1; then
        echo "ok: unmodified headers pass ($lang)"
    else
        echo "FAIL: unmodified headers fail ($lang)"
        sed 's/^/    /' "$tmp/out" | head -n 30
        failures=$((failures + 1))
    fi
done

# 1. frame.h stops including common.h (which defines SEG_API and friends).
fresh
sed 's|^#include <segment/common.h>||' "$srcinc/segment/frame.h" > "$tmp/inc/segment/frame.h"
expect c "frame.h without its include" "segment/frame.h alone"
expect c++ "frame.h without its include" "segment/frame.h alone"

# 2. rfm_scheme.h loses its extern "C" block: only the C++ link test sees it.
fresh
sed 's/^SEG_BEGIN_DECLS$//; s/^SEG_END_DECLS$//' "$srcinc/segment/rfm_scheme.h" > "$tmp/inc/segment/rfm_scheme.h"
expect c++ "rfm_scheme.h without extern \"C\"" "link test" link

# 3. An unprototyped declaration in rfm.h.
fresh
sed 's|^SEG_END_DECLS$|SEG_API int32_t seg_selftest_unprototyped();\nSEG_END_DECLS|' \
    "$srcinc/segment/rfm.h" > "$tmp/inc/segment/rfm.h"
expect c "unprototyped declaration" "segment/rfm.h alone"

# 4. The umbrella misses rfm_scheme.h.
fresh
grep -v '^#include <segment/rfm_scheme.h>' "$srcinc/segment/segment.h" > "$tmp/inc/segment/segment.h"
expect c "umbrella without rfm_scheme.h" "does not include <segment/rfm_scheme.h>"

# 5. common.h without include guards: including it twice redefines things.
fresh
grep -v 'SEGMENT_COMMON_H' "$srcinc/segment/common.h" > "$tmp/inc/segment/common.h"
expect c "common.h without guards" "included twice"

if [ "$failures" -ne 0 ]; then
    echo "check-headers self-test: $failures failure(s)"
    exit 1
fi
echo "check-headers self-test: every defect was refused"
