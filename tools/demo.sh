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

. tools/ensure-deps.sh

if [ ! -f build/meson-private/coredata.dat ]; then
    meson setup --werror build
fi
meson compile -C build ${JOBS:+-j "$JOBS"} crm_rfm
echo
echo "\$ build/examples/crm_rfm ${*:+$* }examples/data/orders.csv"
exec build/examples/crm_rfm "$@" examples/data/orders.csv
