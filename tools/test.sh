#!/bin/sh
# SPDX-License-Identifier: MIT
#
# sh tools/test.sh: configures ./build (meson setup --werror, or reconfigure),
# builds, and runs every test suite: unit, rfm, abi, bench smoke tests and,
# when Doxygen is installed, the documentation warning check.
#
# Needs meson, ninja, a C compiler, pkg-config and Check. When they are
# missing: as root on Debian/Ubuntu they are installed with apt-get;
# otherwise the command to install them is printed and the script stops.
# JOBS=N limits build parallelism (default: ninja's choice).
set -eu

cd "$(dirname "$0")/.."

. tools/ensure-deps.sh

if [ -f build/meson-private/coredata.dat ]; then
    meson setup --reconfigure --werror build
else
    meson setup --werror build
fi
meson compile -C build ${JOBS:+-j "$JOBS"}
meson test -C build --print-errorlogs
