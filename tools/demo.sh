#!/bin/sh
# SPDX-License-Identifier: MIT
#
# sh tools/demo.sh [crm_rfm options]: builds libsegment and the example
# program in ./build, then runs the RFM demo on the bundled sample orders:
#
#   build/examples/crm_rfm examples/data/orders.csv
#
# Options given to this script are passed to crm_rfm before the file name
# (for example: sh tools/demo.sh --scheme rfgrid). See
# build/examples/crm_rfm --help.
#
# Needs meson, ninja, a C compiler, pkg-config and Check. When they are
# missing: as root on Debian/Ubuntu they are installed with apt-get;
# otherwise the command to install them is printed and the script stops.
set -eu

cd "$(dirname "$0")/.."

PACKAGES="meson ninja-build gcc g++ libc6-dev pkg-config check doxygen python3-pandas python3-numpy binutils"

missing=""
for tool in meson ninja cc pkg-config; do
    command -v "$tool" > /dev/null 2>&1 || missing="$missing $tool"
done
if command -v pkg-config > /dev/null 2>&1 && ! pkg-config --exists check; then
    missing="$missing check(pkg-config)"
elif ! command -v pkg-config > /dev/null 2>&1; then
    missing="$missing check(pkg-config)"
fi
if [ -n "$missing" ]; then
    echo "tools/demo.sh: missing:$missing"
    if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null 2>&1; then
        echo "tools/demo.sh: installing: apt-get install -y $PACKAGES"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        # shellcheck disable=SC2086
        apt-get install -y $PACKAGES
    else
        echo "Install them with:"
        echo "  sudo apt-get install -y $PACKAGES"
        exit 1
    fi
fi

if [ ! -f build/meson-private/coredata.dat ]; then
    meson setup --werror build
fi
meson compile -C build ${JOBS:+-j "$JOBS"} crm_rfm
echo
echo "\$ build/examples/crm_rfm ${*:+$* }examples/data/orders.csv"
exec build/examples/crm_rfm "$@" examples/data/orders.csv
