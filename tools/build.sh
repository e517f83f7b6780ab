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

# Boots, configures and builds an Open vSwitch tree (build/ovs by default).
# Each step runs only when its output is missing; later changes to
# configure.ac or automake inputs are picked up by the rebuild rules that
# automake puts in the Makefile, so an unchanged tree compiles nothing.
#
# Environment: OVS_TREE (tree to build), JOBS (make -j), EXTRA_CONFIGURE
# (more configure arguments, split at spaces), CONFIGURE_CFLAGS and
# CONFIGURE_LDFLAGS (CFLAGS and LDFLAGS for configure), DPDK_PREFIX (static DPDK to link with; empty
# builds without DPDK).  A tree configured with a different DPDK_PREFIX is
# configured again.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

jobs=${JOBS:-$(nproc)}
cd "$tree"

if [ ! -x configure ]; then
    note "running boot.sh in $tree"
    ./boot.sh > boot.log 2>&1 || { cat boot.log; die "boot.sh failed"; }
fi

# configure records its arguments in config.status; reconfigure when the
# DPDK choice changed since.
want_dpdk=${DPDK_PREFIX:-none}
if [ -f Makefile ] && [ "$(cat .dpdk-prefix 2>/dev/null)" != "$want_dpdk" ]; then
    note "DPDK changed ($(cat .dpdk-prefix 2>/dev/null || echo unknown)" \
         "-> $want_dpdk): configuring again"
    rm -f Makefile
fi

if [ ! -f Makefile ]; then
    cc=${CC:-gcc}
    if [ -z "${CC:-}" ] && command -v ccache >/dev/null; then
        cc="ccache gcc"
    fi
    args=(--enable-Werror --enable-ssl --enable-libcapng
          --localstatedir=/var --sysconfdir=/etc --prefix=/usr
          "CC=$cc" PYTHON3=/usr/bin/python3)
    [ -z "${CONFIGURE_CFLAGS:-}" ] || args+=("CFLAGS=$CONFIGURE_CFLAGS")
    [ -z "${CONFIGURE_LDFLAGS:-}" ] || args+=("LDFLAGS=$CONFIGURE_LDFLAGS")
    if [ -n "${DPDK_PREFIX:-}" ]; then
        args+=(--with-dpdk=static
               "PKG_CONFIG_PATH=$DPDK_PREFIX/lib/pkgconfig")
    fi
    note "configuring $tree: ${args[*]} ${EXTRA_CONFIGURE:-}"
    # shellcheck disable=SC2086
    ./configure "${args[@]}" ${EXTRA_CONFIGURE:-} > configure.log 2>&1 \
        || { tail -n 40 configure.log; die "configure failed (see $tree/configure.log)"; }
    grep -q '^#define HAVE_OPENSSL 1' config.h || die "configure did not enable OpenSSL"
    grep -q '^#define HAVE_LIBCAPNG 1' config.h || die "configure did not enable libcap-ng"
    if [ -n "${DPDK_PREFIX:-}" ]; then
        grep -q '^#define DPDK_NETDEV 1' config.h || die "configure did not enable DPDK"
    fi
    echo "$want_dpdk" > .dpdk-prefix
fi

note "building $tree with $jobs jobs"
make -j"$jobs" V=0 > make.log 2>&1 || {
    grep -E -B2 -A8 'error|Error' make.log | head -n 80
    die "build failed (see $tree/make.log)"
}
if grep -q -E '^[^ ]*\.c:[0-9]+:[0-9]+: warning' make.log; then
    grep -E '^[^ ]*\.c:[0-9]+:[0-9]+: warning' make.log
    die "build emitted warnings"
fi
note "built $tree"
