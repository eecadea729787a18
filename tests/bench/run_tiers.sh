#!/bin/bash
# SPDX-License-Identifier: MIT
# Tier benchmark: libsegment (bench_tiers) and numpy (bench_numpy_tiers.py,
# np.select) on the same synthetic data, in one run, with a comparison
# table. Builds nothing: point it at a bench_tiers built with
# -Dbuildtype=release (or debugoptimized).
#
#   tests/bench/run_tiers.sh [--bench PATH] [--rows N] [--runs R]
#                            [--tmpdir DIR] [--keep]
#
# Defaults: 10M rows, 7 runs each side. Needs rows*16 bytes of free disk in
# the temporary directory (160 MB at the defaults) and about 1 GB of memory.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/bench-lib.sh"   # bench_* option, build, disk, memory, work-dir helpers; val
bench=${BENCH_TIERS:-}
python=${PYTHON:-/usr/bin/python3}
rows=10000000
runs=7
tmpbase=${TMPDIR:-/tmp}
keep=0

while [ $# -gt 0 ]; do
    case "$1" in
        --bench) bench=$2; shift 2 ;;
        --rows) rows=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --tmpdir) tmpbase=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) bench_usage; exit 0 ;;
        *) bench_bad_option "$1" ;;
    esac
done
bench_whole_numbers "$rows" "$runs"

bench_find bench_tiers "$root/build-tbench/tests/bench/bench_tiers" \
    "$root/build-bench/tests/bench/bench_tiers" "$root"/build*/tests/bench/bench_tiers
bench_require_python numpy

# Disk: aum float64, txn_90d int32, the library's tiers int32.
bench_check_disk "$tmpbase" $(( rows * 16 / 1024 + 10240 )) --rows

bench_workdir "$tmpbase" libsegment-tbench

# The machine may be shared: record the load next to the timings.
load_before=$(bench_loadavg)

echo "== libsegment: $bench"
"$bench" --rows "$rows" --runs "$runs" --write-dir "$work" | tee "$work/c.out"
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ]; then echo "run_tiers.sh: bench_tiers failed ($rc)" >&2; exit 1; fi

echo
echo "== numpy: $python $here/bench_numpy_tiers.py"
"$python" "$here/bench_numpy_tiers.py" "$work" --runs "$runs" | tee "$work/py.out"
prc=${PIPESTATUS[0]}
rm -f "$work"/*.f64 "$work"/*.i32
load_after=$(bench_loadavg)

# The two sides' outputs; val FILE KIND NAME KEY (bench-lib.sh) reads their fields.
c=$work/c.out
p=$work/py.out
np_med=$(val "$p" NUMPY select median_s)

row() { # label lib_name numpy_median speedup_target pct_floor_target
    local lt rps pct
    lt=$(val "$c" RESULT "$2" median_s)
    rps=$(val "$c" RESULT "$2" rows_per_s)
    pct=$(val "$c" RESULT "$2" pct_floor_bw)
    [ -z "$lt" ] && return
    awk -v label="$1" -v lt="$lt" -v rps="$rps" -v pt="$3" -v st="$4" -v pct="$pct" \
        -v bt="$5" 'BEGIN {
        ps = "-"; rs = "-"; sts = "-"; bts = "-"
        if (pt != "") ps = sprintf("%.6f", pt)
        if (pt != "" && lt > 0) rs = sprintf("%.1fx", pt / lt)
        if (st != "") sts = sprintf(">=%sx %s", st, (pt != "" && lt > 0 && pt / lt >= st) ? "PASS" : "MISS")
        if (bt != "") bts = sprintf(">=%s%% %s", bt, (pct >= bt) ? "PASS" : "MISS")
        printf "%-32s %10.6f %10s %11.3e %9s %-10s %8.1f%% %-10s\n", label, lt, ps, rps, rs, sts,
               pct, bts
    }'
}

echo
echo "== summary: $rows rows, $runs runs each side, single-threaded (medians, seconds)"
echo "   load average before/after: $load_before / $load_after ($(bench_ncpu) CPUs)"
printf "%-32s %10s %10s %11s %9s %-10s %9s %-10s\n" operation libsegment numpy rows/s \
    numpy/lib target %floor_bw target
row "apply (vs np.select)" apply "$np_med" 5 50
row "apply with prev (hysteresis)" apply_prev "" "" ""
row "gaps, critical 0.10" gaps "" "" ""
row "hand-written scalar loop (ref)" ref_loop "" "" ""
row "plain sum aum+txn_90d (floor)" floor_sum "" "" ""
if [ -n "$np_med" ]; then
    fl=$(val "$c" RESULT floor_sum median_s)
    awk -v label="numpy np.select" -v pt="$np_med" -v n="$rows" -v fl="$fl" 'BEGIN {
        pct = 0; if (pt > 0 && fl > 0) pct = 100 * fl / pt
        printf "%-32s %10s %10.6f %11.3e %9s %-10s %8.1f%% %-10s\n", label, "-", pt, n / pt, "-",
               "-", pct, "-"
    }'
fi
echo
echo "numpy/lib = numpy median / libsegment median (same data, same run; target >= 5x)."
echo "%floor_bw = (input bytes / median) / (aum+txn_90d bytes / plain-sum median): apply reads"
echo "12 B/row (aum f64 + txn_90d i32), apply with prev and gaps 16 B/row (+ prev or tiers)."
grep '^CHECK' "$p" | sed 's/^/cross-check numpy vs libsegment: /'
if [ "$prc" != 0 ] || [ -z "$np_med" ]; then
    echo "run_tiers.sh: bench_numpy_tiers.py failed or disagreed with libsegment ($prc)" >&2
    exit 1
fi
exit 0
