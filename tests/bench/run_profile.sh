#!/bin/bash
# SPDX-License-Identifier: MIT
# Profile benchmark (issue 5): libsegment segment profiles (bench_profile,
# with and without the median) and pandas groupby agg
# (bench_pandas_profile.py) on the same synthetic data, in one run, with a
# comparison table.
#
#   tests/bench/run_profile.sh [--bench PATH | --builddir DIR] [--rows N] [--runs R]
#                              [--pandas-runs R] [--tmpdir DIR] [--keep]
#
# Without --bench, configures DIR (default build-bench-profile in the source
# tree) with -Dbuildtype=release if it has no build.ninja, and compiles
# bench_profile there (-j2). Defaults: 10M rows x 4 columns by 20 labels,
# 7 runs of libsegment, 5 of pandas. Needs about rows*32 bytes of free disk
# in the temporary directory (320 MB at 10M rows) and about rows*250 bytes
# of memory (2.5 GB: pandas' groupby copies and sorts the columns).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/bench-lib.sh"   # bench_* option, build, disk, memory, work-dir helpers; val
bench=${BENCH_PROFILE:-}
builddir=$root/build-bench-profile
python=${PYTHON:-/usr/bin/python3}
rows=10000000
runs=7
pruns=5
tmpbase=${TMPDIR:-/tmp}
keep=0

while [ $# -gt 0 ]; do
    case "$1" in
        --bench) bench=$2; shift 2 ;;
        --builddir) builddir=$2; shift 2 ;;
        --rows) rows=$2; shift 2 ;;
        --runs) runs=$2; pruns=$2; shift 2 ;;
        --pandas-runs) pruns=$2; shift 2 ;;
        --tmpdir) tmpbase=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) bench_usage; exit 0 ;;
        *) bench_bad_option "$1" ;;
    esac
done
bench_whole_numbers "$rows" "$runs" "$pruns"

bench_require_python numpy pandas
# Without --bench: a release build of bench_profile in $builddir.
if [ -z "$bench" ]; then bench_build bench_profile; fi
bench_require_exe bench_profile

# Disk: the five input columns (32 bytes per row) and the library's profile.
bench_check_disk "$tmpbase" $(( rows * 32 / 1024 + 10240 )) --rows
# Memory: bench_profile's verification holds ~rows*48 bytes besides the data;
# pandas peaks near rows*250 bytes.
bench_check_mem $(( rows * 250 / 1024 + 65536 )) "use a smaller --rows"

bench_workdir "$tmpbase" libsegment-profilebench

# The machine may be shared: record the load next to the timings.
load_before=$(bench_loadavg)

echo "== libsegment: $bench"
"$bench" --rows "$rows" --runs "$runs" --write-dir "$work" | tee "$work/c.out"
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ]; then echo "run_profile.sh: bench_profile failed ($rc)" >&2; exit 1; fi
load_mid=$(bench_loadavg)

echo
echo "== pandas: $python $here/bench_pandas_profile.py"
"$python" "$here/bench_pandas_profile.py" "$work" --runs "$pruns" | tee "$work/py.out"
prc=${PIPESTATUS[0]}
load_after=$(bench_loadavg)

# The two sides' outputs; val FILE KIND NAME KEY (bench-lib.sh) reads their fields.
c=$work/c.out
p=$work/py.out
pm=$(val "$p" PANDAS agg_median median_s)
pn=$(val "$p" PANDAS agg_no_median median_s)

# row LABEL LIB_OP PANDAS_MEDIAN_S TARGET
row() {
    local lt lm rps
    lt=$(val "$c" RESULT "$2" median_s)
    lm=$(val "$c" RESULT "$2" min_s)
    rps=$(val "$c" RESULT "$2" rows_per_s)
    [ -z "$lt" ] && return
    awk -v label="$1" -v lt="$lt" -v lm="$lm" -v rps="$rps" -v pt="$3" -v tg="$4" 'BEGIN {
        ps = pt != "" ? sprintf("%.3f", pt) : "-"
        r = pt != "" && lt > 0 ? sprintf("%.1fx", pt / lt) : "-"
        ts = "-"
        if (tg != "" && pt != "") ts = sprintf(">=%sx %s", tg, (lt > 0 && pt / lt >= tg) ? "PASS" : "MISS")
        printf "%-40s %10.4f %10.4f %11.3e %12s %9s %-12s\n", label, lt, lm, rps, ps, r, ts
    }'
}

echo
echo "== summary: $rows rows x 4 columns by 20 labels, single-threaded; medians of $runs runs"
echo "   (libsegment) and $pruns runs (pandas), seconds"
echo "   load average before / between libsegment and pandas / after: $load_before /" \
     "$load_mid / $load_after ($(bench_ncpu) CPUs)"
printf "%-40s %10s %10s %11s %12s %9s %-12s\n" "libsegment operation" median_s min_s \
    "lib rows/s" "pandas (s)" pandas/lib target
row "profile (exact median) vs agg + median" profile "$pm" 10
row "profile no median vs agg + median" profile_no_median "$pm" ""
row "profile no median vs agg w/o median" profile_no_median "$pn" ""
row "floor: plain sum of the inputs" floor_sum "" ""
echo
echo "pandas/lib = pandas median / libsegment median (same data, same run). pandas runs"
echo "df.groupby('label')[4 columns].agg(['count','sum','mean','min','max','std','median'])"
echo "(agg w/o median: the same list without 'median'). The library also gives missing counts"
echo "and shares. The target (>= 10x) is checked for the exact-median profile against pandas"
echo "with median."
grep '^CHECK' "$p" | sed 's/^/cross-check pandas vs libsegment: /'
grep '^verify' "$c" | sed 's/^/cross-check libsegment vs independent C: /'
if grep -q '^MISMATCH' "$c"; then
    echo "run_profile.sh: MISMATCHES between libsegment and the independent computation (see above)" >&2
    exit 1
fi
if [ "$prc" != 0 ] || [ -z "$pm" ]; then
    echo "run_profile.sh: bench_pandas_profile.py failed or disagreed with libsegment ($prc)" >&2
    exit 1
fi
exit 0
