#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check-headers.sh c|c++ SRC_INCLUDE_DIR BUILD_INCLUDE_DIR [LIBRARY MAPFILE]
#
# Compiles every public header ALONE, one translation unit per header that
# includes only that header, as C99 or C++11 with
#   -std=c99   -pedantic -Werror -Wall -Wextra  (plus -Wundef -Wstrict-prototypes -Wredundant-decls)
#   -std=c++11 -pedantic -Werror -Wall -Wextra  (plus -Wundef)
# The public headers are SRC_INCLUDE_DIR/segment/*.h and the generated
# BUILD_INCLUDE_DIR/segment/version.h. Then:
#   - every header included twice, and all of them in reverse order (guards);
#   - the umbrella segment.h includes every other public header;
#   - segment.h with -DSEG_API= (how binding generators preprocess it) gives
#     no warning, and `cc -E -P -DSEG_API=` output carries no attributes;
#   - with LIBRARY and MAPFILE: a program that takes the address of every
#     function listed in MAPFILE, declared only by <segment/segment.h>, links
#     against LIBRARY and runs. In C++ this proves the extern "C" linkage of
#     every exported function; in both it proves each is declared publicly.
#
# Environment: CC (for c) or CXX (for c++) is the compiler command;
# SANITIZE is the meson b_sanitize value (the link test then uses
# -fsanitize=SANITIZE, as the library was built with it).
set -eu

if [ "$#" -ne 3 ] && [ "$#" -ne 5 ]; then
    echo "usage: $0 c|c++ SRC_INCLUDE_DIR BUILD_INCLUDE_DIR [LIBRARY MAPFILE]" >&2
    exit 2
fi
lang=$1
srcinc=$2
bldinc=$3
lib=${4:-}
map=${5:-}

case "$lang" in
c)
    comp=${CC:-cc}
    ext=c
    std="-std=c99"
    flags="-pedantic -Werror -Wall -Wextra -Wundef -Wstrict-prototypes -Wredundant-decls"
    ;;
c++)
    comp=${CXX:-c++}
    ext=cc
    std="-std=c++11"
    flags="-pedantic -Werror -Wall -Wextra -Wundef"
    ;;
*)
    echo "check-headers: language must be c or c++, not '$lang'" >&2
    exit 2
    ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/seg-headers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
failures=0
incs="-I$srcinc -I$bldinc"

# compile NAME FILE [EXTRA...]: compile FILE to an object, report.
compile() {
    name=$1
    file=$2
    shift 2
    # shellcheck disable=SC2086  # word splitting of the flag lists is wanted
    if $comp $std $flags $incs "$@" -c "$file" -o "$tmp/out.o" > "$tmp/log" 2>&1 && [ ! -s "$tmp/log" ]; then
        echo "ok: $name"
    else
        echo "FAIL: $name"
        echo "    $comp $std $flags $incs $* -c $file"
        sed 's/^/    /' "$tmp/log"
        failures=$((failures + 1))
    fi
}

# The public headers, as include names (segment/x.h).
headers=""
for h in "$srcinc"/segment/*.h; do
    [ -f "$h" ] || continue
    headers="$headers segment/$(basename "$h")"
done
if [ -f "$bldinc/segment/version.h" ]; then
    headers="$headers segment/version.h"
else
    echo "FAIL: generated header $bldinc/segment/version.h is missing"
    failures=$((failures + 1))
fi
n_headers=$(echo $headers | wc -w | tr -d ' ')
if [ "$n_headers" -lt 2 ]; then
    echo "FAIL: found only $n_headers public header(s) under $srcinc/segment"
    exit 1
fi
echo "public headers ($n_headers): $headers"
echo "compiler: $($comp --version 2>/dev/null | head -n 1)"

# 1. Each header alone.
for h in $headers; do
    base=$(basename "$h" .h)
    printf '#include <%s>\n' "$h" > "$tmp/alone-$base.$ext"
    compile "$h alone ($std)" "$tmp/alone-$base.$ext"
done

# 2. Each twice, and all in reverse order.
: > "$tmp/twice.$ext"
rev=""
for h in $headers; do
    printf '#include <%s>\n#include <%s>\n' "$h" "$h" >> "$tmp/twice.$ext"
    rev="$h $rev"
done
compile "every header included twice" "$tmp/twice.$ext"
: > "$tmp/reverse.$ext"
for h in $rev; do
    printf '#include <%s>\n' "$h" >> "$tmp/reverse.$ext"
done
compile "all headers in reverse order" "$tmp/reverse.$ext"

# 3. The umbrella includes every other public header (experimental.h aside).
for h in $headers; do
    case "$h" in segment/segment.h | segment/experimental.h) continue ;; esac
    if ! grep -q "^#include <$h>" "$srcinc/segment/segment.h"; then
        echo "FAIL: segment/segment.h does not include <$h>"
        failures=$((failures + 1))
    fi
done

# 4. Binding generators: -DSEG_API= must be accepted silently...
printf '#include <segment/segment.h>\n' > "$tmp/noapi.$ext"
compile "segment.h with -DSEG_API=" "$tmp/noapi.$ext" -DSEG_API=
# ... and give plain prototypes.
# shellcheck disable=SC2086
if $comp $std $incs -E -P -DSEG_API= "$srcinc/segment/segment.h" > "$tmp/pp" 2> "$tmp/log"; then
    # (system headers may use attributes; only our declarations matter)
    if grep 'seg_' "$tmp/pp" | grep -q '__attribute__\|__declspec'; then
        echo "FAIL: cc -E -P -DSEG_API= output still has attributes:"
        grep 'seg_' "$tmp/pp" | grep '__attribute__\|__declspec' | head -n 5 | sed 's/^/    /'
        failures=$((failures + 1))
    elif ! grep -q 'seg_status_str' "$tmp/pp"; then
        echo "FAIL: cc -E -P -DSEG_API= output has no prototypes"
        failures=$((failures + 1))
    else
        echo "ok: -E -P -DSEG_API= gives plain prototypes"
    fi
else
    echo "FAIL: cannot preprocess segment.h"
    sed 's/^/    /' "$tmp/log"
    failures=$((failures + 1))
fi

# 5. Every mapped function is declared publicly and links with C linkage.
if [ -n "$lib" ]; then
    names=$(sed 's|/\*.*\*/||; s|#.*||' "$map" | grep -E '^[[:space:]]*seg_[A-Za-z0-9_]+[[:space:]]*;' | tr -d ' \t;' | sort -u)
    n_names=$(echo $names | wc -w | tr -d ' ')
    if [ "$n_names" -eq 0 ]; then
        echo "FAIL: no seg_ names in $map"
        failures=$((failures + 1))
    fi
    {
        echo '#include <segment/segment.h>'
        echo '#include <stdio.h>'
        echo '#include <string.h>'
        echo 'typedef void (*seg_any_fn)(void);'
        echo 'static const seg_any_fn all_functions[] = {'
        for n in $names; do
            if [ "$lang" = c ]; then
                echo "    (seg_any_fn)$n,"
            else
                echo "    reinterpret_cast<seg_any_fn>(&$n),"
            fi
        done
        echo '};'
        cat <<'SRC'
int main(void)
{
    size_t i, n = sizeof all_functions / sizeof all_functions[0];
    for (i = 0; i < n; i++)
        if (all_functions[i] == 0)
            return 1;
    if (strcmp(seg_version_string(), SEG_VERSION_STRING) != 0) {
        fprintf(stderr, "run-time %s, headers %s\n", seg_version_string(), SEG_VERSION_STRING);
        return 1;
    }
    if (seg_version_number() != (uint32_t)SEG_VERSION_NUMBER)
        return 1;
    if (strcmp(seg_status_str(SEG_OK), seg_status_str(SEG_EINVAL)) == 0)
        return 1;
    printf("%u functions resolved, libsegment %s\n", (unsigned)n, seg_version_string());
    return 0;
}
SRC
    } > "$tmp/link.$ext"
    san=""
    if [ -n "${SANITIZE:-}" ] && [ "${SANITIZE:-}" != none ]; then
        san="-fsanitize=$SANITIZE"
    fi
    # shellcheck disable=SC2086
    if $comp $std $flags $incs $san -o "$tmp/link" "$tmp/link.$ext" "$lib" > "$tmp/log" 2>&1 && [ ! -s "$tmp/log" ]; then
        libdir=$(cd "$(dirname "$lib")" && pwd)
        if LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/link" > "$tmp/run" 2>&1; then
            echo "ok: link test: $(cat "$tmp/run")"
        else
            echo "FAIL: link test program failed:"
            sed 's/^/    /' "$tmp/run"
            failures=$((failures + 1))
        fi
    else
        echo "FAIL: link test does not compile or link ($n_names mapped functions)"
        sed 's/^/    /' "$tmp/log" | head -n 40
        failures=$((failures + 1))
    fi
fi

if [ "$failures" -ne 0 ]; then
    echo "check-headers ($lang): $failures failure(s)"
    exit 1
fi
echo "check-headers ($lang): all passed"
