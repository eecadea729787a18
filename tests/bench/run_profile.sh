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
bench=${BENCH_PROFILE:-}
builddir=$root/build-bench-profile
python=${PYTHON:-/usr/bin/python3}
rows=10000000
runs=7
pruns=5
tmpbase=${TMPDIR:-/tmp}
keep=0

usage() { sed -n '8,16p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --bench) bench=$2; shift 2 ;;
        --builddir) builddir=$2; shift 2 ;;
        --rows) rows=$2; shift 2 ;;
        --runs) runs=$2; pruns=$2; shift 2 ;;
        --pandas-runs) pruns=$2; shift 2 ;;
        --tmpdir) tmpbase=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run_profile.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
for v in "$rows" "$runs" "$pruns"; do
    case "$v" in ''|*[!0-9]*) echo "run_profile.sh: not a whole number: '$v'" >&2; exit 2 ;; esac
done

if ! "$python" -c 'import numpy, pandas' 2>/dev/null; then
    echo "run_profile.sh: $python cannot import numpy and pandas (use /usr/bin/python3); skipping" >&2
    exit 77
fi

if [ -z "$bench" ]; then
    # A release build of bench_profile (benchmarks at -O0 or -O2 mislead).
    if [ ! -f "$builddir/build.ninja" ]; then
        echo "== meson setup $builddir -Dbuildtype=release"
        meson setup "$builddir" "$root" -Dbuildtype=release -Ddocumentation=disabled || {
            echo "run_profile.sh: meson setup failed" >&2; exit 2; }
    fi
    bt=$(meson introspect --buildoptions "$builddir" 2>/dev/null |
         "$python" -c 'import json, sys
print(next((o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"), "?"))' \
         2>/dev/null)
    if [ "$bt" != release ]; then
        echo "run_profile.sh: warning: $builddir has buildtype '$bt', not release" >&2
    fi
    echo "== meson compile -C $builddir -j 2 tests/bench/bench_profile"
    meson compile -C "$builddir" -j 2 tests/bench/bench_profile >"$builddir/bench_profile-compile.log" 2>&1 || {
        tail -30 "$builddir/bench_profile-compile.log" >&2
        echo "run_profile.sh: building bench_profile failed" >&2; exit 2; }
    bench=$builddir/tests/bench/bench_profile
fi
if [ ! -x "$bench" ]; then
    echo "run_profile.sh: $bench is not an executable bench_profile" >&2
    exit 2
fi

# Disk: the five input columns (32 bytes per row) and the library's profile.
need_kb=$(( rows * 32 / 1024 + 10240 ))
mkdir -p "$tmpbase" || exit 2
avail_kb=$(df -Pk "$tmpbase" | awk 'NR == 2 { print $4 }')
if [ -n "$avail_kb" ] && [ "$avail_kb" -lt "$need_kb" ]; then
    echo "run_profile.sh: $tmpbase has $((avail_kb / 1024)) MB free, need $((need_kb / 1024)) MB;" \
         "use --tmpdir or a smaller --rows" >&2
    exit 2
fi
# Memory: bench_profile's verification holds ~rows*48 bytes besides the data;
# pandas peaks near rows*250 bytes.
mem_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo 2>/dev/null)
need_mem_kb=$(( rows * 250 / 1024 + 65536 ))
if [ -n "$mem_kb" ] && [ "$mem_kb" -lt "$need_mem_kb" ]; then
    echo "run_profile.sh: $((mem_kb / 1024)) MB of memory available, need about" \
         "$((need_mem_kb / 1024)) MB; use a smaller --rows" >&2
    exit 2
fi

work=$(mktemp -d "$tmpbase/libsegment-profilebench.XXXXXX") || exit 2
cleanup() { if [ "$keep" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The machine may be shared: record the load next to the timings.
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

echo "== libsegment: $bench"
"$bench" --rows "$rows" --runs "$runs" --write-dir "$work" | tee "$work/c.out"
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ]; then echo "run_profile.sh: bench_profile failed ($rc)" >&2; exit 1; fi
load_mid=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

echo
echo "== pandas: $python $here/bench_pandas_profile.py"
"$python" "$here/bench_pandas_profile.py" "$work" --runs "$pruns" | tee "$work/py.out"
prc=${PIPESTATUS[0]}
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

# val FILE KIND NAME KEY: the KEY=value field of the first "KIND ..." line
# whose name=NAME.
val() {
    awk -v kind="$2" -v name="$3" -v key="$4" '
        $1 == kind { v = ""; hit = 0
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
     "$load_mid / $load_after ($(nproc 2>/dev/null || echo '?') CPUs)"
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
