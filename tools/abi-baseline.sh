#!/bin/sh
# SPDX-License-Identifier: MIT
#
# sh tools/abi-baseline.sh: regenerates tests/abi/libsegment.so.0.abi, the
# baseline of the ABI gate (tests/abi/check-abidiff.sh, doc/abi.md). Run it
# in the commit that changes the API on purpose, and commit the new file
# with it. Builds ./build-abi (debugoptimized, with DWARF; the same gcc as
# CI, Debian 12's) and dumps the types reachable from the public headers.
set -eu
cd "$(dirname "$0")/.."
command -v abidw > /dev/null 2>&1 || { echo "$0: abidw not found (apt-get install abigail-tools)"; exit 1; }
if [ ! -f build-abi/meson-private/coredata.dat ]; then
    meson setup build-abi -Dbuildtype=debugoptimized -Dtests=disabled -Ddocumentation=disabled
fi
meson compile -C build-abi
lib=$(find build-abi/lib -maxdepth 1 -type f -name "libsegment.so.0.*" | head -n 1)
abidw --headers-dir include/segment --no-corpus-path --drop-private-types \
      --out-file tests/abi/libsegment.so.0.abi "$lib"
echo "$0: wrote tests/abi/libsegment.so.0.abi from $lib"
