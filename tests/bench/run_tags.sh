#!/bin/bash
# SPDX-License-Identifier: MIT
# Tag benchmark (issue 4): libsegment tag sets and audience queries
# (bench_tags), a naive per-row C loop, and numpy bool arrays
# (bench_numpy_tags.py) on the same synthetic data, in one run, with a
# comparison table.
#
#   tests/bench/run_tags.sh [--bench PATH | --builddir DIR] [--rows N] [--runs R]
#                           [--tmpdir DIR] [--keep]
#
# Without --bench, configures DIR (default build-bench-tags in the source
# tree) with -Dbuildtype=release if it has no build.ninja, and compiles
# bench_tags there (-j2). Defaults: 10M rows x 200 tags, 7 runs each side.
# Needs about rows*30 bytes of free disk in the temporary directory (250 MB
# of bit-packed tags at the defaults) and about rows*400 bytes of memory
# (4 GB at 10M rows: bench_tags keeps a uint8 column and a row list per tag).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bench=${BENCH_TAGS:-}
builddir=$root/build-bench-tags
python=${PYTHON:-/usr/bin/python3}
rows=10000000
runs=7
tmpbase=${TMPDIR:-/tmp}
keep=0

usage() { sed -n '8,17p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --bench) bench=$2; shift 2 ;;
        --builddir) builddir=$2; shift 2 ;;
        --rows) rows=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --tmpdir) tmpbase=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run_tags.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
for v in "$rows" "$runs"; do
    case "$v" in ''|*[!0-9]*) echo "run_tags.sh: not a whole number: '$v'" >&2; exit 2 ;; esac
done

if ! "$python" -c 'import numpy' 2>/dev/null; then
    echo "run_tags.sh: $python cannot import numpy (use /usr/bin/python3); skipping" >&2
    exit 77
fi

if [ -z "$bench" ]; then
    # A release build of bench_tags (benchmarks at -O0 or -O2 mislead).
    if [ ! -f "$builddir/build.ninja" ]; then
        echo "== meson setup $builddir -Dbuildtype=release"
        meson setup "$builddir" "$root" -Dbuildtype=release -Ddocumentation=disabled || {
            echo "run_tags.sh: meson setup failed" >&2; exit 2; }
    fi
    bt=$(meson introspect --buildoptions "$builddir" 2>/dev/null |
         "$python" -c 'import json, sys
print(next((o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"), "?"))' \
         2>/dev/null)
    if [ "$bt" != release ]; then
        echo "run_tags.sh: warning: $builddir has buildtype '$bt', not release" >&2
    fi
    echo "== meson compile -C $builddir -j 2 tests/bench/bench_tags"
    meson compile -C "$builddir" -j 2 tests/bench/bench_tags >"$builddir/bench_tags-compile.log" 2>&1 || {
        tail -30 "$builddir/bench_tags-compile.log" >&2
        echo "run_tags.sh: building bench_tags failed" >&2; exit 2; }
    bench=$builddir/tests/bench/bench_tags
fi
if [ ! -x "$bench" ]; then
    echo "run_tags.sh: $bench is not an executable bench_tags" >&2
    exit 2
fi

# Disk: 200 bit-packed columns (n/8 bytes each) and the selected rows.
need_kb=$(( rows * 30 / 1024 + 10240 ))
mkdir -p "$tmpbase" || exit 2
avail_kb=$(df -Pk "$tmpbase" | awk 'NR == 2 { print $4 }')
if [ -n "$avail_kb" ] && [ "$avail_kb" -lt "$need_kb" ]; then
    echo "run_tags.sh: $tmpbase has $((avail_kb / 1024)) MB free, need $((need_kb / 1024)) MB;" \
         "use --tmpdir or a smaller --rows" >&2
    exit 2
fi
# Memory: the C side peaks near rows*400 bytes, numpy near rows*250.
mem_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo 2>/dev/null)
need_mem_kb=$(( rows * 400 / 1024 + 65536 ))
if [ -n "$mem_kb" ] && [ "$mem_kb" -lt "$need_mem_kb" ]; then
    echo "run_tags.sh: $((mem_kb / 1024)) MB of memory available, need about" \
         "$((need_mem_kb / 1024)) MB; use a smaller --rows" >&2
    exit 2
fi

work=$(mktemp -d "$tmpbase/libsegment-tagbench.XXXXXX") || exit 2
cleanup() { if [ "$keep" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The machine may be shared: record the load next to the timings.
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

echo "== libsegment: $bench"
"$bench" --rows "$rows" --runs "$runs" --write-dir "$work" | tee "$work/c.out"
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ]; then echo "run_tags.sh: bench_tags failed ($rc)" >&2; exit 1; fi
load_mid=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

echo
echo "== numpy: $python $here/bench_numpy_tags.py"
"$python" "$here/bench_numpy_tags.py" "$work" --runs "$runs" | tee "$work/py.out"
prc=${PIPESTATUS[0]}
rm -f "$work"/tags.bits "$work"/*.i64
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

# val FILE KIND NAME KEY: the KEY=value field of the first "KIND ..." line
# whose name=NAME (any line of KIND when NAME is empty).
val() {
    awk -v kind="$2" -v name="$3" -v key="$4" '
        $1 == kind { v = ""; hit = (name == "")
            for (i = 2; i <= NF; i++) {
                p = index($i, "="); k = substr($i, 1, p - 1)
                if (k == "name" && substr($i, p + 1) == name) hit = 1
                if (k == key) v = substr($i, p + 1)
            }
            if (hit) { print v; exit }
        }' "$1"
}

c=$work/c.out
p=$work/py.out

# row LABEL LIB_OP NAIVE_OP NUMPY_OP PACKED_OP TARGET
row() {
    local lt rps nt pt kt
    lt=$(val "$c" RESULT "$2" median_s)
    rps=$(val "$c" RESULT "$2" rows_per_s)
    nt=""; pt=""; kt=""
    [ -n "$3" ] && nt=$(val "$c" RESULT "$3" median_s)
    [ -n "$4" ] && pt=$(val "$p" NUMPY "$4" median_s)
    [ -n "$5" ] && kt=$(val "$p" NUMPY "$5" median_s)
    [ -z "$lt" ] && return
    awk -v label="$1" -v lt="$lt" -v rps="$rps" -v nt="$nt" -v pt="$pt" -v kt="$kt" \
        -v tg="$6" 'BEGIN {
        f = "%-28s %10.6f %10s %10s %10s %11.3e %8s %9s %8s %-10s\n"
        ns = nt != "" ? sprintf("%.6f", nt) : "-"
        ps = pt != "" ? sprintf("%.6f", pt) : "-"
        ks = kt != "" ? sprintf("%.6f", kt) : "-"
        nr = nt != "" && lt > 0 ? sprintf("%.1fx", nt / lt) : "-"
        pr = pt != "" && lt > 0 ? sprintf("%.1fx", pt / lt) : "-"
        kr = kt != "" && lt > 0 ? sprintf("%.1fx", kt / lt) : "-"
        ts = "-"
        if (tg != "" && pt != "") ts = sprintf(">=%sx %s", tg, (lt > 0 && pt / lt >= tg) ? "PASS" : "MISS")
        printf f, label, lt, ns, ps, ks, rps, nr, pr, kr, ts
    }'
}

echo
echo "== summary: $rows rows x 200 tags, $runs runs each side, single-threaded (medians, seconds)"
echo "   load average before / between C and numpy / after: $load_before / $load_mid /" \
     "$load_after ($(nproc 2>/dev/null || echo '?') CPUs)"
for q in q1 q2; do
    echo "   $q: $(grep "^$q: " "$c" | sed "s/^$q: //")"
done
printf "%-28s %10s %10s %10s %10s %11s %8s %9s %8s %-10s\n" operation libsegment "naive C" \
    "numpy" "np packed" "lib rows/s" naive/lib numpy/lib pack/lib target
for q in q1 q2; do
    row "$q count" "${q}_count" "${q}_naive_count" "${q}_count" "${q}_packed_count" 10
    row "$q select (all rows)" "${q}_select" "${q}_naive_select" "${q}_select" "${q}_packed_select" 10
    row "$q mask (numpy: bool expr)" "${q}_mask" "" "${q}_expr" "" ""
    row "$q C byte loop, vectorised" "${q}_bytes_count" "" "" "" ""
    row "$q C bit-packed loop (floor)" "${q}_bits_count" "" "" "" ""
    row "$q compile" "${q}_compile" "" "" "" ""
done
row "build: set_mask x 200 tags" build_mask "" "" "" ""
row "build: set_rows x 200 tags" build_rows "" "" "" ""
echo "(build rows/s counts tag cells: rows x 200 / median)"

lib_mem=$(val "$c" MEMORY "" lib_total_bytes)
np_mem=$(val "$p" MEMORY "" numpy_bool_bytes)
np_packed=$(val "$p" MEMORY "" numpy_packed_bytes)
if [ -n "$lib_mem" ] && [ -n "$np_mem" ]; then
    awk -v lm="$lib_mem" -v nm="$np_mem" -v pk="$np_packed" 'BEGIN {
        printf "memory: libsegment %.1f MB; numpy bool %.1f MB (lib = %.2f%% of it); numpy bool / 8 " \
               "%.1f MB: lib/(bool/8) = %.3f %s (target <= 1); numpy bit-packed %.1f MB\n",
               lm / 1e6, nm / 1e6, 100 * lm / nm, nm / 8e6, lm / (nm / 8),
               lm <= nm / 8 ? "PASS" : "MISS", pk / 1e6
    }'
fi
grep '^NOTE' "$c"
echo
echo "numpy/lib = numpy median / libsegment median (same data, same run; target >= 10x for count"
echo "and select). naive C: the per-row loop with branches over uint8 columns. np packed: the"
echo "query on numpy's bit-packed columns (uint64 &, ~, |, then unpackbits), information only."
echo "C byte loop / bit-packed loop: hand-written fused count over uint8 columns / over the five"
echo "columns bit-packed in uint64 words (popcount): yardsticks for the library's count."
grep '^CHECK' "$p" | sed 's/^/cross-check numpy vs libsegment: /'
grep '^verify' "$c" | sed 's/^/cross-check libsegment vs naive C: /'
if grep -q '^MISMATCH' "$c"; then
    echo "run_tags.sh: MISMATCHES between libsegment and the naive C loop (see above)" >&2
    exit 1
fi
if [ "$prc" != 0 ] || [ -z "$(val "$p" NUMPY q1_count median_s)" ]; then
    echo "run_tags.sh: bench_numpy_tags.py failed or disagreed with libsegment ($prc)" >&2
    exit 1
fi
exit 0
