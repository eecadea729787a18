#!/bin/bash
# SPDX-License-Identifier: MIT
# Full benchmark: libsegment (bench_rfm) and pandas (bench_pandas.py) on the
# same synthetic data, in one run, with a comparison table. Builds nothing:
# point it at a bench_rfm built with -Dbuildtype=release (or debugoptimized).
#
#   tests/bench/run.sh [--bench PATH] [--customers N] [--transactions N]
#                      [--runs R] [--pandas-runs R] [--only fit|agg]
#                      [--tmpdir DIR] [--keep]
#
# Defaults: 10M customers, 100M transactions, 5 runs each side.
# Needs customers*~64 + transactions*20 bytes of free disk in the temporary
# directory (about 2.7 GB at the defaults) and, for pandas' groupby of 100M
# rows, roughly 10 GB of free memory. Use --transactions to scale down.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/bench-lib.sh"   # bench_* option, build, disk, memory, work-dir helpers; val
bench=${BENCH_RFM:-}
python=${PYTHON:-/usr/bin/python3}
customers=10000000
transactions=100000000
runs=5
pandas_runs=
only=
tmpbase=${TMPDIR:-/tmp}
keep=0

while [ $# -gt 0 ]; do
    case "$1" in
        --bench) bench=$2; shift 2 ;;
        --customers) customers=$2; shift 2 ;;
        --transactions) transactions=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --pandas-runs) pandas_runs=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --tmpdir) tmpbase=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) bench_usage; exit 0 ;;
        *) bench_bad_option "$1" ;;
    esac
done
pandas_runs=${pandas_runs:-$runs}
bench_whole_numbers "$customers" "$transactions" "$runs" "$pandas_runs"

bench_find bench_rfm "$root/build-bench/tests/bench/bench_rfm" "$root"/build*/tests/bench/bench_rfm
bench_require_python numpy pandas

# Disk: inputs (R, F, M float64; customer int32, time int64, amount float64)
# plus the library outputs written for the cross-check (2 int32 + 4 float64
# per customer).
need_kb=$(( (customers * (24 + 8 + 32) + transactions * 20) / 1024 + 10240 ))
bench_check_disk "$tmpbase" "$need_kb" --transactions
# pandas groupby peaks at several times the 20 bytes/row of its input.
want_mem_kb=$(( transactions * 20 * 5 / 1024 ))
bench_warn_mem "$want_mem_kb" \
    "pandas may need ~$((want_mem_kb / 1024)) MB for $transactions transactions (reduce --transactions)"

bench_workdir "$tmpbase" libsegment-bench

only_args=()
[ -n "$only" ] && only_args=(--only "$only")

echo "== libsegment: $bench"
"$bench" --customers "$customers" --transactions "$transactions" --runs "$runs" \
    "${only_args[@]}" --write-dir "$work" | tee "$work/c.out"
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ]; then echo "run.sh: bench_rfm failed ($rc)" >&2; exit 1; fi

echo
echo "== pandas: $python $here/bench_pandas.py"
"$python" "$here/bench_pandas.py" "$work" --runs "$pandas_runs" "${only_args[@]}" |
    tee "$work/py.out"
prc=${PIPESTATUS[0]}
# Free the disk before the summary: the data is no longer needed.
rm -f "$work"/*.f64 "$work"/*.i32 "$work"/*.i64

# The two sides' outputs; val FILE KIND NAME KEY (bench-lib.sh) reads their fields.
c=$work/c.out
p=$work/py.out
# Nominal single-core read bandwidth quoted in the issue, for the
# "how far from the bandwidth floor" column next to the measured floor.
nominal_gbs=25

row() { # label lib_name pandas_name target
    local lt pt fl bytes
    lt=$(val "$c" RESULT "$2" median_s)
    pt=$(val "$p" PANDAS "$3" median_s)
    fl=$(val "$c" RESULT "$2" floor_s)
    bytes=$(val "$c" RESULT "$2" input_bytes)
    [ -z "$lt" ] && return
    awk -v label="$1" -v lt="$lt" -v pt="$pt" -v target="$4" -v fl="$fl" -v bytes="$bytes" \
        -v gbs="$nominal_gbs" 'BEGIN {
        ratio = 0
        if (pt != "" && lt > 0) ratio = pt / lt
        ps = "-"
        if (pt != "") ps = sprintf("%.6f", pt)
        rs = "-"
        if (ratio > 0) rs = sprintf("%.1fx", ratio)
        ts = ""
        st = ""
        if (target != "") {
            ts = target "x"
            st = "MISS"
            if (ratio >= target) st = "PASS"
        }
        xf = "-"
        if (fl > 0) xf = sprintf("%.1fx", lt / fl)
        nom = bytes / (gbs * 1e9)
        xn = "-"
        if (nom > 0) xn = sprintf("%.1fx", lt / nom)
        printf "%-36s %10.6f %10s %8s %7s %-5s %10s %10s\n", label, lt, ps, rs, ts, st, xf, xn
    }'
}

echo
echo "== summary: $customers customers, $transactions transactions," \
     "runs: libsegment $runs, pandas $pandas_runs (medians, seconds)"
printf "%-36s %10s %10s %8s %7s %-5s %10s %10s\n" operation libsegment pandas speedup target "" \
    vs_floor vs_25GB/s
if [ "$only" != agg ]; then
    row "fit+score R-compat (vs pd.cut)" fit_then_score fit_score 30
    row "fit_score one call (vs pd.cut)" fit_score fit_score 30
    row "fit+score R-compat (vs np.digitize)" fit_then_score fit_score_np ""
    row "fit only" fit "" ""
    row "score only" score "" ""
    row "rank quintiles (vs qcut(rank))" fit_score_rank fit_score_rank ""
    row "  breakdown: fit R only" fit_r_only "" ""
    row "  breakdown: fit F only" fit_f_only "" ""
    row "  breakdown: fit M only" fit_m_only "" ""
    row "  breakdown: fit, validation only" fit_validate_only "" ""
    row "plain sum of R,F,M (floor)" floor_sum_rfm "" ""
fi
if [ "$only" != fit ]; then
    row "aggregate (vs groupby.agg)" aggregate aggregate 15
    row "hand-written scatter loop (ref)" aggregate_ref aggregate ""
    row "  breakdown: aggregate, 0 rows" aggregate_0_rows "" ""
    row "plain sum of transactions (floor)" floor_sum_tx "" ""
fi
# The issue's pandas timings on this machine, for comparison with this run's.
issue() { # label lib_name issue_seconds target
    local lt
    lt=$(val "$c" RESULT "$2" median_s)
    [ -z "$lt" ] && return
    awk -v label="$1" -v lt="$lt" -v it="$3" -v target="$4" 'BEGIN {
        r = it / lt
        st = "MISS"
        if (r >= target) st = "PASS"
        printf "%-36s %10.6f %10.3f %7.1fx %6sx %-5s (pandas time quoted in the issue)\n", label, lt, it, r, target, st
    }'
}
if [ "$customers" = 10000000 ] && [ "$transactions" = 100000000 ]; then
    echo
    if [ "$only" != agg ]; then issue "fit+score vs issue's pandas" fit_then_score 5.5 30; fi
    if [ "$only" != fit ]; then issue "aggregate vs issue's pandas" aggregate 24 15; fi
fi
echo
echo "speedup = pandas median / libsegment median (same data, same run)."
echo "vs_floor = libsegment median / median of a plain single-threaded sum over the same"
echo "input arrays; vs_25GB/s = libsegment median / (input bytes / 25 GB/s)."
grep '^CHECK' "$p" | sed 's/^/cross-check pandas vs libsegment: /'
if [ "$prc" != 0 ]; then
    echo "run.sh: bench_pandas.py failed or disagreed with libsegment ($prc)" >&2
    exit 1
fi
exit 0
