#!/bin/bash
# Copyright (c) 2026 The ct-offload authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at:
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

# Installs the Debian 12 packages needed to build and test, only if some
# are missing; prints nothing when all are there.  The Makefile runs it
# before anything that materialises or builds, so "make demo" and "make
# check" need no set-up step.

set -euo pipefail

packages=(
    # Open vSwitch build.
    autoconf automake libtool make gcc pkg-config libssl-dev libcap-ng-dev
    libnuma-dev ccache git xz-utils
    # Build scripts run with Debian's python, not a pyenv one.
    python3 python3-sortedcontainers python3-netaddr python3-pyparsing
    # DPDK build.
    meson ninja-build python3-pyelftools
    # Testsuite helpers (openssl makes the testsuite's certificates).
    procps iproute2 tcpdump openssl
)
# Upstream's system testsuite (tools/check-system.sh, not CI): traffic in
# namespaces.
if [ "${DEPS_SYSTEM:-no}" = yes ]; then
    packages+=(iputils-ping netcat-openbsd curl lftp ethtool
               python3-pyftpdlib)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0

echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" > /dev/null
