# SPDX-License-Identifier: MIT
#
# Sourced by tools/test.sh and tools/demo.sh (POSIX sh): checks for meson,
# ninja, a C compiler, pkg-config and Check. When any is missing: as root
# on Debian/Ubuntu, installs the project's packages with apt-get; otherwise
# prints the command to run and exits 1. $0 names the calling script.

PACKAGES="meson ninja-build gcc g++ libc6-dev pkg-config check doxygen python3-pandas python3-numpy python3-scipy python3-sklearn binutils"

missing=""
for tool in meson ninja cc pkg-config; do
    command -v "$tool" > /dev/null 2>&1 || missing="$missing $tool"
done
if ! command -v pkg-config > /dev/null 2>&1 || ! pkg-config --exists check; then
    missing="$missing check(pkg-config)"
fi
if ! /usr/bin/python3 -c 'import numpy, pandas, scipy, sklearn' > /dev/null 2>&1; then
    missing="$missing python3-numpy/pandas/scipy/sklearn"
fi
if [ -n "$missing" ]; then
    echo "$0: missing:$missing"
    if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null 2>&1; then
        echo "$0: installing: apt-get install -y $PACKAGES"
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
