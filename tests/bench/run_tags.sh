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
. "$here/bench-lib.sh"   # bench_* option, build, disk, memory, work-dir helpers; val
bench=${BENCH_TAGS:-}
builddir=$root/build-bench-tags
python=${PYTHON:-/usr/bin/python3}
rows=10000000
runs=7
tmpbase=${TMPDIR:-/tmp}
keep=0

while [ $# -gt 0 ]; do
    case "$1" in
        --bench) bench=$2; shift 2 ;;
        --builddir) builddir=$2; shift 2 ;;
        --rows) rows=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --tmpdir) tmpbase=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) bench_usage; exit 0 ;;
        *) bench_bad_option "$1" ;;
    esac
done
bench_whole_numbers "$rows" "$runs"

bench_require_python numpy
# Without --bench: a release build of bench_tags in $builddir.
if [ -z "$bench" ]; then bench_build bench_tags; fi
bench_require_exe bench_tags

# Disk: 200 bit-packed columns (n/8 bytes each) and the selected rows.
bench_check_disk "$tmpbase" $(( rows * 30 / 1024 + 10240 )) --rows
# Memory: the C side peaks near rows*400 bytes, numpy near rows*250.
bench_check_mem $(( rows * 400 / 1024 + 65536 )) "use a smaller --rows"

bench_workdir "$tmpbase" libsegment-tagbench

# The machine may be shared: record the load next to the timings.
load_before=$(bench_loadavg)

echo "== libsegment: $bench"
"$bench" --rows "$rows" --runs "$runs" --write-dir "$work" | tee "$work/c.out"
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ]; then echo "run_tags.sh: bench_tags failed ($rc)" >&2; exit 1; fi
load_mid=$(bench_loadavg)

echo
echo "== numpy: $python $here/bench_numpy_tags.py"
"$python" "$here/bench_numpy_tags.py" "$work" --runs "$runs" | tee "$work/py.out"
prc=${PIPESTATUS[0]}
rm -f "$work"/tags.bits "$work"/*.i64
load_after=$(bench_loadavg)

# The two sides' outputs; val FILE KIND NAME KEY (bench-lib.sh) reads their fields.
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
     "$load_after ($(bench_ncpu) CPUs)"
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

lib_mem=$(val "$c" MEMORY '*' lib_total_bytes)
np_mem=$(val "$p" MEMORY '*' numpy_bool_bytes)
np_packed=$(val "$p" MEMORY '*' numpy_packed_bytes)
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
