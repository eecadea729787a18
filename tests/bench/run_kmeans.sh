#!/bin/bash
# SPDX-License-Identifier: MIT
# k-means benchmark (issue 5): libsegment's seg_kmeans_fit (bench_kmeans)
# and scikit-learn's KMeans (bench_sklearn_kmeans.py) on the same synthetic
# data, the same k and iteration count, in one run, with a comparison table.
#
#   tests/bench/run_kmeans.sh [--bench PATH | --builddir DIR] [--rows N] [--runs R]
#                             [--iters I] [--threads T] [--tmpdir DIR] [--keep]
#
# Without --bench, configures DIR (default build-bench-kmeans in the source
# tree) with -Dbuildtype=release if it has no build.ninja, and compiles
# bench_kmeans there (-j2). Defaults: 10M rows x 3 features, k = 8, 10
# iterations (tol 0), 3 runs each side, T = 2. Needs rows*24 bytes of free
# disk in the temporary directory and about rows*100 bytes of memory.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/bench-lib.sh"   # bench_* option, build, disk, memory, work-dir helpers; val
bench=${BENCH_KMEANS:-}
builddir=$root/build-bench-kmeans
python=${PYTHON:-/usr/bin/python3}
rows=10000000
runs=3
iters=10
threads=2
tmpbase=${TMPDIR:-/tmp}
keep=0

while [ $# -gt 0 ]; do
    case "$1" in
        --bench) bench=$2; shift 2 ;;
        --builddir) builddir=$2; shift 2 ;;
        --rows) rows=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --iters) iters=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --tmpdir) tmpbase=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) bench_usage; exit 0 ;;
        *) bench_bad_option "$1" ;;
    esac
done
bench_whole_numbers "$rows" "$runs" "$iters" "$threads"

bench_require_python numpy sklearn
# Without --bench: a release build of bench_kmeans in $builddir.
if [ -z "$bench" ]; then bench_build bench_kmeans; fi
bench_require_exe bench_kmeans

# Disk: three columns of doubles.
bench_check_disk "$tmpbase" $(( rows * 24 / 1024 + 10240 )) --rows
# Memory: the C side holds 3 columns and 4 label arrays (40 bytes a row);
# scikit-learn the matrix, its centred copy, labels and distances
# (about 80 bytes a row at its peak).
bench_check_mem $(( rows * 100 / 1024 + 131072 )) "use a smaller --rows"

bench_workdir "$tmpbase" libsegment-kmeansbench

# The machine may be shared: record the load next to the timings.
load_before=$(bench_loadavg)

echo "== libsegment: $bench"
"$bench" --rows "$rows" --runs "$runs" --iters "$iters" --threads "$threads" \
    --write-dir "$work" | tee "$work/c.out"
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ]; then echo "run_kmeans.sh: bench_kmeans failed ($rc)" >&2; exit 1; fi
load_mid=$(bench_loadavg)

echo
echo "== scikit-learn: OMP_NUM_THREADS=1 $python $here/bench_sklearn_kmeans.py"
OMP_NUM_THREADS=1 "$python" "$here/bench_sklearn_kmeans.py" "$work" --runs "$runs" \
    --threads "$threads" | tee "$work/py.out"
prc=${PIPESTATUS[0]}
rm -f "$work"/*.f64
load_after=$(bench_loadavg)

# The two sides' outputs; val FILE KIND NAME KEY (bench-lib.sh) reads their fields.
c=$work/c.out
p=$work/py.out

# row LABEL LIB_NAME SKLEARN_NAME TARGET(empty: none)
row() {
    local lt lm ld li ln st sm si sn
    lt=$(val "$c" KMEANS "$2" cb_per_iter_s)
    lm=$(val "$c" KMEANS "$2" cb_per_iter_min_s)
    ld=$(val "$c" KMEANS "$2" per_iter_s)
    li=$(val "$c" KMEANS "$2" inertia)
    ln=$(val "$c" KMEANS "$2" n_iter)
    st=""; sm=""; si=""; sn=""
    if [ -n "$3" ]; then
        st=$(val "$p" SKLEARN "$3" per_iter_s)
        sm=$(val "$p" SKLEARN "$3" per_iter_min_s)
        si=$(val "$p" SKLEARN "$3" inertia)
        sn=$(val "$p" SKLEARN "$3" iters)
    fi
    [ -z "$lt" ] && return
    awk -v label="$1" -v lt="$lt" -v lm="$lm" -v ld="$ld" -v li="$li" -v ln="$ln" -v st="$st" \
        -v sm="$sm" -v si="$si" -v sn="$sn" -v tg="$4" -v sname="$3" 'BEGIN {
        ss = st != "" ? sprintf("%.4f", st) : "-"
        sms = sm != "" ? sprintf("%.4f", sm) : "-"
        ratio = st != "" && lt > 0 ? sprintf("%.2fx", st / lt) : "-"
        rmin = sm != "" && lm > 0 ? sprintf("%.2fx", sm / lm) : "-"
        sis = si != "" ? sprintf("%.10g", si) : "-"
        d = si != "" ? (li - si) / si : ""
        ds = d != "" ? sprintf("%+.5f%%", 100 * d) : "-"
        its = ln "/" (sn != "" ? sn : "-")
        ts = "-"
        if (tg != "" && st != "") {
            ok = lt > 0 && st / lt >= tg && (d < 0 ? -d : d) <= 0.001
            ts = sprintf(">=%sx & 0.1%%: %s", tg, ok ? "PASS" : "MISS")
        }
        printf "%-19s %7.4f %7.4f %7.4f  %-9s %7.4f %7.4f %7s %7s %15.10g %15s %10s %5s %s\n",
               label, lt, lm, ld, sname != "" ? sname : "-", ss, sms, ratio, rmin, li, sis, ds,
               its, ts
    }'
}

echo
echo "== summary: $rows rows x 3 features, k=8, $iters iterations (tol 0, n_init 1)," \
     "$runs runs each side (seconds per iteration)"
echo "   load average before / between C and Python / after: $load_before / $load_mid /" \
     "$load_after ($(bench_ncpu) CPUs)"
printf "%-19s %7s %7s %7s  %-9s %7s %7s %7s %7s %15s %15s %10s %5s %s\n" "libsegment" "median" \
    "min" "(diff)" "sklearn" "median" "min" "sk/lib" "(min)" "lib inertia" "sk inertia" \
    "diff" "iters" "target (1 thread)"
row "lloyd, 1 thread" lloyd_t1 lloyd_t1 2
row "hamerly, 1 thread" hamerly_t1 lloyd_t1 2
row "hamerly, 1 thread" hamerly_t1 elkan_t1 ""
row "lloyd, $threads threads" "lloyd_t$threads" "lloyd_t$threads" ""
row "hamerly, $threads threads" "hamerly_t$threads" "lloyd_t$threads" ""
for cfg in lloyd_t1 hamerly_t1 "lloyd_t$threads" "hamerly_t$threads"; do
    s=$(val "$c" KMEANS "$cfg" setup_s)
    [ -n "$s" ] && printf "libsegment seeding + final assignment, %-11s %.3f s\n" "$cfg" "$s"
done
s=$(val "$p" SEEDING kmeans_plusplus seconds)
[ -n "$s" ] && printf "scikit-learn kmeans_plusplus (1 thread)            %.3f s\n" "$s"
grep '^NOTE' "$c"
echo
echo "libsegment median/min: time between the progress callbacks of iterations 1 and $iters"
echo "over $((iters - 1)); (diff): (fit with max_iter=$iters - fit with max_iter=1) / $((iters - 1))."
echo "scikit-learn: (fit from the same k-means++ centres with max_iter=$iters - with max_iter=1)"
echo "/ the iterations between them. sk/lib: scikit-learn's median over libsegment's (target >= 2x"
echo "on one thread, lloyd vs lloyd and the default hamerly vs lloyd, with the inertias within"
echo "0.1%); (min): the same for the fastest runs, the better guide on a busy machine. The two"
echo "sides draw different k-means++ centres, so their inertias after $iters iterations differ a little."
grep '^CHECK' "$p" | sed 's/^/cross-check numpy vs libsegment: /'
grep '^verify' "$c" | sed 's/^/cross-check libsegment: /'
if grep -q '^MISMATCH' "$c"; then
    echo "run_kmeans.sh: MISMATCHES in bench_kmeans's checks (see above)" >&2
    exit 1
fi
if [ "$prc" != 0 ] || [ -z "$(val "$p" SKLEARN lloyd_t1 per_iter_s)" ]; then
    echo "run_kmeans.sh: bench_sklearn_kmeans.py failed or disagreed with libsegment ($prc)" >&2
    exit 1
fi
exit 0
