# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2154  # python, root, builddir, keep: set by the driver
# bench-lib.sh: the shell functions shared by the benchmark drivers in this
# directory (run.sh, run_tiers.sh, run_tags.sh, run_profile.sh,
# run_kmeans.sh). Sourced by bash, not run:
#
#   here=$(cd "$(dirname "$0")" && pwd)
#   . "$here/bench-lib.sh"
#
# Sourcing defines the functions below and sets bench_prog to the driver's
# file name (run_tags.sh, ...), the prefix of every message. Messages go to
# stderr, progress lines ("== ...") to stdout. Exit codes, as in the
# drivers: 2 for a usage or setup error, 77 to skip (meson test reports
# SKIP), 1 for a failed or disagreeing benchmark (left to the drivers). A
# function that exits ends the driver (the EXIT trap of bench_workdir
# still runs).
#
# Variables read, set by the driver before the call:
#   python    interpreter of the Python side (bench_require_python, bench_build)
#   root      source tree (bench_build)
#   builddir  build directory (bench_build)
#   bench     path of the bench program (bench_find, bench_require_exe)
#   keep      1 to keep the work directory at exit (read at exit)
#
# bench_usage
#   Prints the synopsis from the driver's header comment: the lines from
#   "#   tests/bench/..." to the end of that comment block, "# " removed.
# bench_bad_option OPT
#   "unknown option OPT" and the synopsis on stderr; exit 2.
# bench_whole_numbers VALUE...
#   Exit 2 ("not a whole number: 'VALUE'") unless every VALUE is one or
#   more digits.
# bench_require_python MODULE...
#   Exit 77 ("$python cannot import M1 and M2 ...; skipping") unless
#   $python can import every MODULE.
# bench_find NAME CANDIDATE...
#   When bench is empty, sets it to the first executable CANDIDATE. Exit 2
#   ("NAME not found; build it ... or pass --bench PATH") if bench is then
#   empty or not executable. For drivers that build nothing.
# bench_build NAME
#   A release build of tests/bench/NAME in $builddir (benchmarks at -O0 or
#   -O2 mislead): meson setup -Dbuildtype=release -Ddocumentation=disabled
#   when $builddir has no build.ninja (exit 2 if that fails), a warning when
#   its buildtype is not release, then meson compile -j 2 of that one
#   target, logged to $builddir/NAME-compile.log; on failure the log's last
#   30 lines go to stderr, exit 2. Sets bench=$builddir/tests/bench/NAME.
# bench_require_exe NAME
#   Exit 2 ("$bench is not an executable NAME") unless $bench is executable.
# bench_check_disk DIR NEED_KB SIZE_OPTION
#   Creates DIR (exit 2 if mkdir fails). Exit 2 when df reports less than
#   NEED_KB KiB free there ("DIR has A MB free, need N MB; use --tmpdir or a
#   smaller SIZE_OPTION"). Sets avail_kb (empty when df says nothing).
# bench_check_mem NEED_KB HINT
#   Exit 2 when MemAvailable (/proc/meminfo) is below NEED_KB KiB ("A MB of
#   memory available, need about N MB; HINT"). Sets mem_kb (empty when
#   unknown: no check).
# bench_warn_mem NEED_KB TEXT
#   The same test, but only warns ("warning: only A MB of memory available;
#   TEXT") and returns 1 when memory is short, 0 otherwise. Sets mem_kb.
# bench_workdir DIR PREFIX
#   Sets work to a new directory DIR/PREFIX.XXXXXX (mktemp; exit 2 if that
#   fails) and traps EXIT (remove it, or print "kept DIR" when keep=1) and
#   INT, TERM (exit 130).
# bench_loadavg
#   Prints the 1, 5 and 15 minute load averages (nothing without
#   /proc/loadavg). The machine may be shared: drivers record the load next
#   to the timings.
# bench_ncpu
#   Prints the number of CPUs (nproc), or '?'.
# val FILE KIND NAME KEY
#   Prints the value of the KEY=value field of the first line of FILE whose
#   first word is KIND and which has the field name=NAME; NAME '*' takes the
#   first KIND line whatever its name, an empty NAME matches no line. Prints
#   nothing when no line matches or the line has no KEY (status 0).

bench_prog=${0##*/}

bench_usage() {
    awk '/^#   tests\/bench\// { on = 1 }
         on && !/^#/ { exit }
         on { sub(/^# ?/, ""); print }' "$0"
}

bench_bad_option() {
    echo "$bench_prog: unknown option $1" >&2
    bench_usage >&2
    exit 2
}

bench_whole_numbers() {
    local v
    for v in "$@"; do
        case "$v" in
            ''|*[!0-9]*) echo "$bench_prog: not a whole number: '$v'" >&2; exit 2 ;;
        esac
    done
}

bench_require_python() {
    local imports="$1" names="$1" m
    shift
    for m in "$@"; do imports="$imports, $m"; names="$names and $m"; done
    if ! "$python" -c "import $imports" 2>/dev/null; then
        echo "$bench_prog: $python cannot import $names (use /usr/bin/python3); skipping" >&2
        exit 77
    fi
}

bench_find() {
    local name=$1 b
    shift
    if [ -z "$bench" ]; then
        for b in "$@"; do
            if [ -x "$b" ]; then bench=$b; break; fi
        done
    fi
    if [ -z "$bench" ] || [ ! -x "$bench" ]; then
        echo "$bench_prog: $name not found; build it (meson setup build-bench" \
             "-Dbuildtype=release && meson compile -C build-bench) or pass --bench PATH" >&2
        exit 2
    fi
}

bench_build() {
    local name=$1 bt log=$builddir/$1-compile.log
    if [ ! -f "$builddir/build.ninja" ]; then
        echo "== meson setup $builddir -Dbuildtype=release"
        meson setup "$builddir" "$root" -Dbuildtype=release -Ddocumentation=disabled || {
            echo "$bench_prog: meson setup failed" >&2; exit 2; }
    fi
    bt=$(meson introspect --buildoptions "$builddir" 2>/dev/null |
         "$python" -c 'import json, sys
print(next((o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"), "?"))' \
         2>/dev/null)
    if [ "$bt" != release ]; then
        echo "$bench_prog: warning: $builddir has buildtype '$bt', not release" >&2
    fi
    echo "== meson compile -C $builddir -j 2 tests/bench/$name"
    meson compile -C "$builddir" -j 2 "tests/bench/$name" >"$log" 2>&1 || {
        tail -30 "$log" >&2
        echo "$bench_prog: building $name failed" >&2; exit 2; }
    bench=$builddir/tests/bench/$name
}

bench_require_exe() {
    if [ ! -x "$bench" ]; then
        echo "$bench_prog: $bench is not an executable $1" >&2
        exit 2
    fi
}

bench_check_disk() {
    local dir=$1 need_kb=$2
    mkdir -p "$dir" || exit 2
    avail_kb=$(df -Pk "$dir" | awk 'NR == 2 { print $4 }')
    if [ -n "$avail_kb" ] && [ "$avail_kb" -lt "$need_kb" ]; then
        echo "$bench_prog: $dir has $((avail_kb / 1024)) MB free, need $((need_kb / 1024)) MB;" \
             "use --tmpdir or a smaller $3" >&2
        exit 2
    fi
}

bench_check_mem() {
    mem_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo 2>/dev/null)
    if [ -n "$mem_kb" ] && [ "$mem_kb" -lt "$1" ]; then
        echo "$bench_prog: $((mem_kb / 1024)) MB of memory available, need about" \
             "$(($1 / 1024)) MB; $2" >&2
        exit 2
    fi
}

bench_warn_mem() {
    mem_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo 2>/dev/null)
    if [ -n "$mem_kb" ] && [ "$mem_kb" -lt "$1" ]; then
        echo "$bench_prog: warning: only $((mem_kb / 1024)) MB of memory available; $2" >&2
        return 1
    fi
    return 0
}

bench_cleanup() {
    if [ "$keep" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}

bench_workdir() {
    work=$(mktemp -d "$1/$2.XXXXXX") || exit 2
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_loadavg() {
    cut -d' ' -f1-3 /proc/loadavg 2>/dev/null
}

bench_ncpu() {
    nproc 2>/dev/null || echo '?'
}

val() {
    awk -v kind="$2" -v name="$3" -v key="$4" '
        $1 == kind { v = ""; hit = (name == "*")
            for (i = 2; i <= NF; i++) {
                p = index($i, "="); k = substr($i, 1, p - 1)
                if (k == "name" && name != "" && substr($i, p + 1) == name) hit = 1
                if (k == key) v = substr($i, p + 1)
            }
            if (hit) { print v; exit }
        }' "$1"
}
