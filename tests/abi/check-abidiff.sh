#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check-abidiff.sh LIB BASELINE HEADERS_DIR: the ABI gate. Compares the
# built shared library with the committed baseline (tests/abi/*.abi, made by
# tools/abi-baseline.sh) and fails on any difference abidiff reports other
# than added functions. abidiff's exit status is a bit field (1 error,
# 2 usage, 4 ABI change that needs review, 8 incompatible change), so any
# non-zero status fails.
#
# Skips (exit 77) when abidiff is not installed or the library has no DWARF
# (a release build): without debug information abidiff sees no types and
# would pass anything. SEG_ABI_REQUIRED=1 (set by .ci/run) turns a skip into
# a failure.
set -u
lib=$1 baseline=$2 headers=$3

skip() {
    echo "check-abidiff: $1"
    if [ "${SEG_ABI_REQUIRED:-0}" = 1 ]; then
        echo "check-abidiff: SEG_ABI_REQUIRED=1, so this is a failure"
        exit 1
    fi
    exit 77
}

command -v abidiff > /dev/null 2>&1 || skip "abidiff not found (Debian: apt-get install abigail-tools)"
readelf -S "$lib" 2> /dev/null | grep -q '\.debug_info' || skip "$lib has no debug information"
[ -f "$baseline" ] || { echo "check-abidiff: no baseline $baseline (run tools/abi-baseline.sh)"; exit 1; }

abidiff --no-added-syms --headers-dir2 "$headers" "$baseline" "$lib"
status=$?
if [ "$status" -ne 0 ]; then
    echo "check-abidiff: abidiff exit status $status: the ABI differs from $baseline."
    echo "  In 0.x a change is allowed when deliberate: regenerate the baseline with"
    echo "  tools/abi-baseline.sh in the same commit and say so in the message (doc/abi.md)."
    exit 1
fi
echo "check-abidiff: OK, no ABI change against $(basename "$baseline")"
