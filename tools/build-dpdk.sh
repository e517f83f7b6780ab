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
# Usage: build-dpdk.sh
#
# Builds DPDK 25.11.2 (the release Open vSwitch 4.0.0 is validated with)
# from source as a minimal static library set and installs it under a
# prefix outside the clone, so that later clones and CI runs on the same
# machine reuse it.  Writes the prefix to build/dpdk-prefix.
#
# Sources, first match wins, checksum always verified:
#   DPDK_TARBALL=file                     dpdk-25.11.2.tar.xz or the Debian
#                                         orig tarball
#   ../shared/cache/dpdk-25.11.2.tar.xz
#   build/dl/ (an earlier download)
#   the Debian source package dpdk 25.11.2-1 through apt
#
# Environment: DPDK_CACHE (directory holding the installed prefixes,
# default /var/cache/ovs-ct-offload), JOBS.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fetch-lib.sh"

DPDK_VERSION=25.11.2
DEB_VERSION=25.11.2-1
# git archive of tag v25.11.2 (../shared/cache) and Debian's orig tarball:
# the same tree, packed differently.
CACHE_TARBALL=dpdk-$DPDK_VERSION.tar.xz
CACHE_SHA256=27a97830560e92e652cd840efdeae38ffb5671fda23159b919b37829e72851f9
DEB_TARBALL=dpdk_$DPDK_VERSION.orig.tar.xz
DEB_SHA256=418bfe3212640ee95a1cb10af6ed360cad2387686fe2721f8a3a9cd02d5ef4f2

# Only what Open vSwitch and our tests use: PCI and vdev buses, the ring
# mempool, the PMDs the DPDK autotests and our tests create (null, ring,
# af_packet, tap, vhost, virtio).  The driver SDK headers are installed for
# the test-only rte_flow emulation.
meson_args=(
    --buildtype=release -Ddefault_library=static -Dplatform=generic
    -Dtests=false -Dexamples= -Denable_docs=false -Ddisable_apps=*
    -Denable_driver_sdk=true
    -Denable_drivers=bus/pci,bus/vdev,mempool/ring,net/null,net/ring,net/af_packet,net/tap,net/vhost,net/virtio
)

key=$(printf '%s\n' "$DPDK_VERSION" "${meson_args[@]}" | sha256sum | cut -c1-12)
cache=${DPDK_CACHE:-/var/cache/ovs-ct-offload}
prefix=$cache/dpdk-$DPDK_VERSION-$key
dl=$top/build/dl

mkdir -p "$top/build"
if [ -f "$prefix/.complete" ]; then
    note "reusing $prefix"
    echo "$prefix" > "$top/build/dpdk-prefix"
    exit 0
fi

verify_either() {
    local sum
    sum=$(sha256_of "$1")
    [ "$sum" = "$CACHE_SHA256" ] || [ "$sum" = "$DEB_SHA256" ] \
        || die "$1: sha256 $sum matches neither known DPDK $DPDK_VERSION tarball"
}

if [ -n "${DPDK_TARBALL:-}" ]; then
    src=$DPDK_TARBALL
elif [ -f "$top/../shared/cache/$CACHE_TARBALL" ]; then
    src=$top/../shared/cache/$CACHE_TARBALL
elif [ -f "$dl/$CACHE_TARBALL" ]; then
    src=$dl/$CACHE_TARBALL
elif [ -f "$dl/$DEB_TARBALL" ]; then
    src=$dl/$DEB_TARBALL
else
    mkdir -p "$dl"
    apt_source_fetch dpdk "$DEB_VERSION" "$DEB_TARBALL" "$dl" \
        "unstable testing experimental"
    src=$dl/$DEB_TARBALL
fi
[ -f "$src" ] || die "$src: no such file"
verify_either "$src"
note "using $src (sha256 verified)"

work=$top/build/dpdk
rm -rf "$work"
mkdir -p "$work/src"
tar -xJf "$src" -C "$work/src" --strip-components=1 --no-same-owner

# Debian's python has pyelftools; a pyenv one earlier in PATH may not.
export PATH=/usr/bin:$PATH
start=$(date +%s)
note "configuring DPDK $DPDK_VERSION (log: $work/build.log)"
(cd "$work/src" &&
 meson setup "${meson_args[@]}" --prefix="$prefix" --libdir=lib "$work/obj" \
     > "$work/build.log" 2>&1 &&
 ninja -C "$work/obj" -j "${JOBS:-$(nproc)}" >> "$work/build.log" 2>&1 &&
 rm -rf "$prefix" &&
 ninja -C "$work/obj" install >> "$work/build.log" 2>&1) \
    || { tail -n 40 "$work/build.log"; die "DPDK build failed"; }
touch "$prefix/.complete"
rm -rf "$work"
note "built DPDK $DPDK_VERSION in $(( $(date +%s) - start )) s"
echo "$prefix" > "$top/build/dpdk-prefix"
