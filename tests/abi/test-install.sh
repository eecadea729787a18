#!/bin/sh
# SPDX-License-Identifier: MIT
#
# test-install.sh BUILD_DIR SOURCE_DIR PREFIX LIBDIR INCLUDEDIR VERSION SOVERSION
#
# Stages `meson install --destdir` of BUILD_DIR in a temporary directory and
# checks the result the way a packager and a consumer would:
#   - the headers are include/segment/{segment,common,...,version}.h, exactly
#     the public ones (no private header leaks);
#   - libsegment.so.VERSION, its SONAME libsegment.so.SOVERSION (readelf -d),
#     the symlinks libsegment.so.SOVERSION and libsegment.so, no RUNPATH
#     into the build tree;
#   - libsegment.a and pkgconfig/libsegment.pc (Version: VERSION);
#   - tests/abi/link-smoke.c and, when present, examples/crm_rfm.c (with the
#     examples' own csv.c and util.c) compile and link with ONLY
#     `pkg-config --cflags --libs libsegment` pointed at the staged tree, and
#     run with LD_LIBRARY_PATH at the staged lib dir, resolving libsegment
#     from there;
#   - link-smoke also links with `pkg-config --static` against libsegment.a
#     (proves Libs.private) and runs without libsegment.so.
# PREFIX, LIBDIR and INCLUDEDIR are meson's options (LIBDIR and INCLUDEDIR
# may be relative to PREFIX). Environment: MESON (default meson), CC
# (default cc), PKG_CONFIG (default pkg-config), READELF (default readelf),
# NM (default nm), SANITIZE (meson's b_sanitize; consumers are then built
# with -fsanitize=SANITIZE like the library), KEEP_STAGE=1 keeps the tree.
set -eu

if [ "$#" -ne 7 ]; then
    echo "usage: $0 BUILD_DIR SOURCE_DIR PREFIX LIBDIR INCLUDEDIR VERSION SOVERSION" >&2
    exit 2
fi
build=$1
src=$2
prefix=$3
libdir=$4
includedir=$5
version=$6
soversion=$7
MESON=${MESON:-meson}
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
READELF=${READELF:-readelf}
NM=${NM:-nm}

stage=$(mktemp -d "${TMPDIR:-/tmp}/seg-install.XXXXXX")
if [ "${KEEP_STAGE:-0}" = 1 ]; then
    echo "staged tree kept in $stage"
else
    trap 'rm -rf "$stage"' EXIT HUP INT TERM
fi
destdir=$stage/root
work=$stage/work
mkdir -p "$destdir" "$work"
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
ok() {
    echo "ok: $*"
}

# Absolute install dirs inside the staging root.
case "$libdir" in /*) s_lib=$destdir$libdir ;; *) s_lib=$destdir$prefix/$libdir ;; esac
case "$includedir" in /*) s_inc=$destdir$includedir ;; *) s_inc=$destdir$prefix/$includedir ;; esac

san=""
if [ -n "${SANITIZE:-}" ] && [ "${SANITIZE:-}" != none ]; then
    san="-fsanitize=$SANITIZE"
fi

# --- 1. stage ----------------------------------------------------------------
echo "== meson install --destdir $destdir (prefix $prefix, libdir $libdir)"
if ! $MESON install -C "$build" --no-rebuild --destdir "$destdir" > "$work/install.log" 2>&1; then
    sed 's/^/    /' "$work/install.log"
    echo "FAIL: meson install"
    exit 1
fi
ok "meson install"

# --- 2. headers --------------------------------------------------------------
expected=""
for h in "$src"/include/segment/*.h; do
    expected="$expected $(basename "$h")"
done
expected="$expected version.h"
for h in segment.h version.h $expected; do
    if [ -f "$s_inc/segment/$h" ]; then
        :
    else
        fail "header $prefix/.../include/segment/$h not installed"
    fi
done
for f in "$s_inc"/segment/*; do
    [ -e "$f" ] || continue
    b=$(basename "$f")
    case " $expected " in
    *" $b "*) ;;
    *) fail "unexpected file installed in include/segment: $b" ;;
    esac
done
if grep -q "define SEG_VERSION_STRING \"$version\"" "$s_inc/segment/version.h" 2> /dev/null; then
    ok "headers: include/segment/{$(echo $expected | tr ' ' ',')}"
else
    fail "installed version.h does not define SEG_VERSION_STRING \"$version\""
fi

# --- 3. libraries --------------------------------------------------------------
so_real=$s_lib/libsegment.so.$version
so_name=libsegment.so.$soversion
if [ -f "$so_real" ] && [ ! -L "$so_real" ]; then
    ok "libsegment.so.$version"
else
    fail "$so_real missing or not a regular file"
fi
for l in "$so_name" libsegment.so; do
    if [ -L "$s_lib/$l" ] && [ -f "$s_lib/$l" ]; then
        ok "symlink $l -> $(readlink "$s_lib/$l")"
    else
        fail "$l is not a symlink to the library"
    fi
done
if [ -f "$so_real" ]; then
    soname=$($READELF -d "$so_real" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
    if [ "$soname" = "$so_name" ]; then
        ok "SONAME $soname"
    else
        fail "SONAME is '$soname', expected $so_name"
    fi
    if $READELF -d "$so_real" | grep -q 'R\(UN\)\{0,1\}PATH'; then
        fail "installed library keeps an RPATH/RUNPATH: $($READELF -d "$so_real" | grep 'R\(UN\)\{0,1\}PATH')"
    else
        ok "no RPATH/RUNPATH in the installed library"
    fi
fi
if [ -f "$s_lib/libsegment.a" ] && $NM "$s_lib/libsegment.a" 2> /dev/null | grep -q ' T seg_version_string$'; then
    ok "libsegment.a (defines seg_version_string)"
else
    fail "$s_lib/libsegment.a missing or without seg_version_string"
fi
pc=$s_lib/pkgconfig/libsegment.pc
if [ -f "$pc" ]; then
    if grep -q "^Version: $version\$" "$pc"; then
        ok "pkgconfig/libsegment.pc (Version: $version)"
    else
        fail "libsegment.pc has no 'Version: $version'"
    fi
else
    fail "$pc not installed"
fi

if [ "$failures" -ne 0 ]; then
    echo "test-install: $failures failure(s) in the staged tree; skipping the consumer builds"
    exit 1
fi

# --- 4. consumers through pkg-config only ---------------------------------------
# The staged .pc says prefix=$prefix; the sysroot maps it into the stage.
# PKG_CONFIG_LIBDIR (not _PATH) keeps an installed libsegment.pc out of it.
pkgconf() {
    PKG_CONFIG_LIBDIR=$s_lib/pkgconfig PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR=$destdir \
        PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 \
        "$PKG_CONFIG" "$@" libsegment
}
if ! cflags=$(pkgconf --cflags) || ! libs=$(pkgconf --libs) || ! slibs=$(pkgconf --static --libs); then
    fail "pkg-config cannot read the staged libsegment.pc"
    exit 1
fi
echo "pkg-config --cflags: $cflags"
echo "pkg-config --libs:   $libs"
echo "pkg-config --static --libs: $slibs"
case " $cflags " in *" -I$destdir"*) ok "cflags point into the stage" ;; *) fail "cflags do not point into the stage" ;; esac
case " $libs " in *" -L$destdir"*" -lsegment "*) ok "libs point into the stage" ;; *) fail "libs do not give -L<stage> -lsegment" ;; esac

# run_in_stage NAME PROGRAM [ARGS]: runs with the staged lib dir only, checks
# that libsegment resolved from there.
run_in_stage() {
    name=$1
    shift
    if LD_LIBRARY_PATH=$s_lib ldd "$1" 2> /dev/null | grep 'libsegment' | grep -q "$s_lib/"; then
        ok "$name resolves libsegment from the stage"
    else
        fail "$name does not resolve libsegment from the stage:"
        LD_LIBRARY_PATH=$s_lib ldd "$1" 2>&1 | sed 's/^/    /'
    fi
    if LD_LIBRARY_PATH=$s_lib "$@" > "$work/run.out" 2>&1; then
        ok "$name runs: $(head -n 1 "$work/run.out")"
    else
        rc=$?
        fail "$name exited with $rc:"
        sed 's/^/    /' "$work/run.out" | head -n 20
        return 1
    fi
}

# 4a. link-smoke, shared.
# shellcheck disable=SC2086  # pkg-config output is a list of flags
if $CC -std=c99 -pedantic -Wall -Wextra -Werror $san $cflags -o "$work/link-smoke" \
    "$src/tests/abi/link-smoke.c" $libs > "$work/cc.log" 2>&1; then
    ok "link-smoke.c compiles and links (shared)"
    run_in_stage link-smoke "$work/link-smoke" || true
else
    fail "link-smoke.c does not build with pkg-config flags:"
    sed 's/^/    /' "$work/cc.log"
fi

# 4b. link-smoke, static: libsegment.a plus Libs.private.
static_libs=$(echo " $slibs " | sed 's/ -lsegment / -l:libsegment.a /')
# shellcheck disable=SC2086
if $CC -std=c99 -pedantic -Wall -Wextra -Werror $san $cflags -o "$work/link-smoke-static" \
    "$src/tests/abi/link-smoke.c" $static_libs > "$work/cc.log" 2>&1; then
    if $READELF -d "$work/link-smoke-static" | grep NEEDED | grep -q libsegment; then
        fail "the static link still needs libsegment.so"
    elif "$work/link-smoke-static" > "$work/run.out" 2>&1; then
        ok "link-smoke links statically (pkg-config --static) and runs: $(head -n 1 "$work/run.out")"
    else
        fail "static link-smoke failed:"
        sed 's/^/    /' "$work/run.out"
    fi
else
    fail "link-smoke.c does not link against libsegment.a with pkg-config --static flags:"
    sed 's/^/    /' "$work/cc.log"
fi

# 4c. The shipped example, when it exists: same flags, the example's own
# sources, run with --help.
example=$src/examples/crm_rfm.c
if [ -f "$example" ]; then
    ex_src="$example"
    for helper in csv.c util.c; do
        if [ -f "$src/examples/$helper" ]; then
            ex_src="$ex_src $src/examples/$helper"
        fi
    done
    # shellcheck disable=SC2086
    if $CC -std=c11 -Wall -Wextra $san $cflags -o "$work/crm_rfm" $ex_src $libs > "$work/cc.log" 2>&1; then
        ok "examples/crm_rfm.c compiles and links with pkg-config flags only"
        if run_in_stage "crm_rfm --help" "$work/crm_rfm" --help; then
            grep -q 'Usage' "$work/run.out" || fail "crm_rfm --help prints no usage"
        fi
    else
        fail "examples/crm_rfm.c does not build with pkg-config flags:"
        sed 's/^/    /' "$work/cc.log"
    fi
else
    echo "note: $example not found; link-smoke.c stood in for it"
fi

if [ "$failures" -ne 0 ]; then
    echo "test-install: $failures failure(s)"
    exit 1
fi
echo "test-install: all passed"
