#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run-doxygen.sh DOXYGEN DOXYFILE
#
# Runs Doxygen on the configured DOXYFILE with warnings as errors, writing the
# HTML into a temporary directory (the `doc` target's output is not touched).
# WARN_AS_ERROR is FAIL_ON_WARNINGS, so every warning is listed before the
# run fails; on top of that, anything Doxygen prints on stderr is a failure.
# Exit 0 only for a clean run.
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 DOXYGEN DOXYFILE" >&2
    exit 2
fi
doxygen=$1
doxyfile=$2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/seg-doxygen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

status=0
{
    cat "$doxyfile"
    echo "OUTPUT_DIRECTORY = $tmp/out"
    echo "WARN_AS_ERROR = FAIL_ON_WARNINGS"
    echo "WARN_LOGFILE ="
    echo "QUIET = YES"
} | "$doxygen" - > "$tmp/stdout" 2> "$tmp/stderr" || status=$?

if [ -s "$tmp/stderr" ]; then
    echo "doxygen: warnings or errors:"
    cat "$tmp/stderr"
    [ "$status" -ne 0 ] || status=1
fi
if [ "$status" -eq 0 ] && [ ! -f "$tmp/out/html/index.html" ]; then
    echo "doxygen: no html/index.html produced"
    status=1
fi
if [ "$status" -eq 0 ]; then
    echo "doxygen: clean ($(ls "$tmp/out/html" | wc -l | tr -d ' ') files in html/)"
else
    echo "doxygen: FAILED (status $status)"
fi
exit "$status"
