#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check-exports.sh LIBRARY MAPFILE
#
# The dynamic symbol table of LIBRARY (nm -D --defined-only) must export
# exactly the names listed in the global sections of the linker version
# script MAPFILE, each with the version node that lists it (name@@NODE),
# and nothing else: no symbol outside the seg_ namespace, no data symbols.
# Version node names themselves (absolute symbols such as SEGMENT_0.1) are
# ignored. Differences are printed both ways; the exit status is 1 on any.
#
# Environment: NM (default nm).
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 LIBRARY MAPFILE" >&2
    exit 2
fi
lib=$1
map=$2
NM=${NM:-nm}

[ -f "$lib" ] || { echo "check-exports: no such library: $lib" >&2; exit 2; }
[ -f "$map" ] || { echo "check-exports: no such map file: $map" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/seg-exports.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

# --- the map: "name node" for every global name, and the list of nodes ----
# Comments (/* */ and #) are removed, then the script is tokenised.
awk -v nodes="$tmp/map-nodes" -v errs="$tmp/map-errors" '
{ buf = buf $0 "\n" }
END {
    while ((s = index(buf, "/*")) > 0) {
        rest = substr(buf, s + 2)
        e = index(rest, "*/")
        if (e == 0) { print "unterminated comment" > errs; buf = substr(buf, 1, s - 1); break }
        buf = substr(buf, 1, s - 1) " " substr(rest, e + 2)
    }
    n = split(buf, lines, "\n")
    buf = ""
    for (i = 1; i <= n; i++) { sub(/#.*/, "", lines[i]); buf = buf lines[i] " " }
    gsub(/[{};:]/, " & ", buf)
    nt = split(buf, t, /[ \t]+/)
    state = 0; node = ""; section = "global"
    for (i = 1; i <= nt; i++) {
        tok = t[i]
        if (tok == "") continue
        if (state == 0) {
            if (tok == "{" ) { print "anonymous version node" > errs; node = ""; state = 1; section = "global"; continue }
            node = tok; print node > nodes; state = 3; continue
        }
        if (state == 3) {
            if (tok != "{") print "expected { after node " node > errs
            state = 1; section = "global"; continue
        }
        if (state == 1) {
            if (tok == "}") { state = 2; continue }
            if (tok == ";" || tok == ":") continue
            if ((tok == "global" || tok == "local") && t[i + 1] == ":") { section = tok; continue }
            if (tok == "extern") { print "extern blocks are not supported: " node > errs; continue }
            if (section != "global") continue
            if (tok ~ /[*?\[]/) { print "wildcard in a global section of " node ": " tok > errs; continue }
            print tok, node
            continue
        }
        if (state == 2) {              # after "}": optional parent node, then ";"
            if (tok == ";") state = 0
            continue
        }
    }
    if (state != 0) print "map file ends inside a version node" > errs
}' "$map" > "$tmp/map-pairs"

touch "$tmp/map-nodes" "$tmp/map-errors"
status=0
if [ -s "$tmp/map-errors" ]; then
    echo "check-exports: cannot use $map:"
    sed 's/^/  /' "$tmp/map-errors"
    status=1
fi

# --- the library: "name version type" per defined dynamic symbol (version
# "@@NODE", "@NODE" or "-" when unversioned) -----------------------------
"$NM" -D --defined-only "$lib" > "$tmp/nm-raw"
awk '
NF >= 2 {
    type = $(NF - 1); sym = $NF; ver = "-"
    if ((p = index(sym, "@")) > 0) { ver = substr(sym, p); sym = substr(sym, 1, p - 1) }
    print sym, ver, type
}' "$tmp/nm-raw" > "$tmp/lib-all"

# Version node names show up as absolute symbols; drop those, keep the rest.
awk 'NR == FNR { node[$1] = 1; next } !($3 == "A" && ($1 in node)) { print }' \
    "$tmp/map-nodes" "$tmp/lib-all" > "$tmp/lib-syms"

if [ ! -s "$tmp/map-pairs" ]; then
    echo "check-exports: $map lists no global names"
    status=1
fi
if ! grep -q '^seg_' "$tmp/lib-syms"; then
    echo "check-exports: $lib exports no seg_ symbol at all"
    status=1
fi

# Duplicates in the map.
cut -d' ' -f1 "$tmp/map-pairs" | sort | uniq -d > "$tmp/map-dups"
if [ -s "$tmp/map-dups" ]; then
    echo "check-exports: listed more than once in $map:"
    sed 's/^/  /' "$tmp/map-dups"
    status=1
fi

# Names outside the seg_ namespace, whatever the map says.
awk '$1 !~ /^seg_/ { print "  " $1 ($2 == "-" ? "" : $2) " (type " $3 ")" }' "$tmp/lib-syms" > "$tmp/foreign"
if [ -s "$tmp/foreign" ]; then
    echo "check-exports: exported symbols outside the seg_ namespace:"
    cat "$tmp/foreign"
    status=1
fi

# Exports must be functions (text symbols); no data crosses the ABI.
awk '$1 ~ /^seg_/ && $3 != "T" { print "  " $1 " (type " $3 ")" }' "$tmp/lib-syms" > "$tmp/nonfunc"
if [ -s "$tmp/nonfunc" ]; then
    echo "check-exports: exported seg_ symbols that are not functions:"
    cat "$tmp/nonfunc"
    status=1
fi

# The two name lists, both ways.
grep '^seg_' "$tmp/map-pairs" | cut -d' ' -f1 | sort -u > "$tmp/map-names" || true
cut -d' ' -f1 "$tmp/map-pairs" | grep -v '^seg_' | sort -u > "$tmp/map-foreign" || true
if [ -s "$tmp/map-foreign" ]; then
    echo "check-exports: $map lists names outside the seg_ namespace:"
    sed 's/^/  /' "$tmp/map-foreign"
    status=1
fi
awk '$1 ~ /^seg_/ { print $1 }' "$tmp/lib-syms" | sort -u > "$tmp/lib-names"

comm -23 "$tmp/map-names" "$tmp/lib-names" > "$tmp/missing"
comm -13 "$tmp/map-names" "$tmp/lib-names" > "$tmp/extra"
if [ -s "$tmp/missing" ]; then
    echo "check-exports: in $map but not exported by $lib:"
    sed 's/^/  /' "$tmp/missing"
    status=1
fi
if [ -s "$tmp/extra" ]; then
    echo "check-exports: exported by $lib but not in $map:"
    sed 's/^/  /' "$tmp/extra"
    status=1
fi

# Each exported name carries the default version of the node that lists it.
awk 'NR == FNR { want[$1] = "@@" $2; next }
     ($1 in want) && $2 != want[$1] {
         print "  " $1 ": exported as " ($2 == "-" ? "(unversioned)" : $1 $2) ", map says " $1 want[$1]
     }' "$tmp/map-pairs" "$tmp/lib-syms" > "$tmp/badver"
if [ -s "$tmp/badver" ]; then
    echo "check-exports: symbol versions differ from $map:"
    cat "$tmp/badver"
    status=1
fi

n_lib=$(wc -l < "$tmp/lib-names" | tr -d ' ')
n_map=$(wc -l < "$tmp/map-names" | tr -d ' ')
if [ "$status" -eq 0 ]; then
    echo "check-exports: OK: $n_lib symbols exported, $n_map listed in $(basename "$map")"
else
    echo "check-exports: FAILED ($n_lib exported seg_ symbols, $n_map in the map)"
fi
exit "$status"
