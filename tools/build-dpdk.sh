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
# machine reuse it.  Writes the prefix to build/dpdk-prefix, or an empty
# build/dpdk-prefix when Open vSwitch is to be built without DPDK.
#
# DPDK=auto (the default) builds DPDK if its source can be had and
# otherwise says so in one line and leaves build/dpdk-prefix empty, so that
# Open vSwitch is built without DPDK and the DPDK tests skip; DPDK=yes
# fails instead; DPDK=no only empties build/dpdk-prefix.
#
# Sources, first match wins, checksum always verified:
#   DPDK_TARBALL=file                     dpdk-25.11.2.tar.xz or the Debian
#                                         orig tarball
#   ../shared/cache/dpdk-25.11.2.tar.xz
#   build/dl/ (an earlier download)
#   the Debian source package dpdk 25.11.2-1 through apt
#   DPDK's release tarball from fast.dpdk.org (curl, 20 s at most)
# The two downloads are tried again only a day after they last failed (or
# after "rm build/dl/dpdk-unavailable"), except with DPDK=yes; their output
# goes to build/dl/dpdk-fetch.log.
#
# Environment: DPDK, DPDK_CACHE (directory holding the installed prefixes,
# default /var/cache/ovs-ct-offload), JOBS, DPDK_DRY_RUN=yes (choose and
# verify the source, print it, build nothing).

set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fetch-lib.sh"

DPDK_VERSION=25.11.2
DEB_VERSION=25.11.2-1
# git archive of tag v25.11.2 (../shared/cache) and Debian's orig tarball:
# the same tree, packed differently.  A download from fast.dpdk.org is
# accepted only with one of these two checksums.  Debian usually takes an
# orig tarball unchanged from upstream's release, which would make it match
# DEB_SHA256; this was not checked (no access to fast.dpdk.org here), so
# if it is refused, pin its own sha256 here after checking it.
CACHE_TARBALL=dpdk-$DPDK_VERSION.tar.xz
CACHE_SHA256=27a97830560e92e652cd840efdeae38ffb5671fda23159b919b37829e72851f9
DEB_TARBALL=dpdk_$DPDK_VERSION.orig.tar.xz
DEB_SHA256=418bfe3212640ee95a1cb10af6ed360cad2387686fe2721f8a3a9cd02d5ef4f2
RELEASE_URL=https://fast.dpdk.org/rel/dpdk-$DPDK_VERSION.tar.xz

mode=${DPDK:-auto}
case $mode in
    auto|yes|no) ;;
    *) die "DPDK=$mode: expected auto, yes or no" ;;
esac
dry_run=${DPDK_DRY_RUN:-no}

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
log=$dl/dpdk-fetch.log
unavailable=$dl/dpdk-unavailable

# Records PREFIX (empty: no DPDK) for the Makefile, except in a dry run.
set_prefix() {
    if [ "$dry_run" != yes ]; then
        echo "$1" > "$top/build/dpdk-prefix"
    fi
}

mkdir -p "$top/build"
if [ "$mode" = no ]; then
    set_prefix ""
    exit 0
fi
if [ -f "$prefix/.complete" ]; then
    note "reusing $prefix"
    set_prefix "$prefix"
    exit 0
fi

sha_ok() {
    local sum
    sum=$(sha256_of "$1")
    [ "$sum" = "$CACHE_SHA256" ] || [ "$sum" = "$DEB_SHA256" ]
}

verify_either() {
    sha_ok "$1" \
        || die "$1: sha256 $(sha256_of "$1") matches neither known DPDK" \
               "$DPDK_VERSION tarball"
}

# Tries the two downloads, quietly (output to $log); prints the tarball it
# got, or nothing.
download() {
    local tmp

    mkdir -p "$dl"
    : > "$log"
    # apt_source_fetch() dies on failure: a subshell keeps this script
    # going.
    if (apt_source_fetch dpdk "$DEB_VERSION" "$DEB_TARBALL" "$dl" \
            "unstable testing experimental") >> "$log" 2>&1 \
       && [ -f "$dl/$DEB_TARBALL" ]; then
        if sha_ok "$dl/$DEB_TARBALL"; then
            echo "$dl/$DEB_TARBALL"
            return
        fi
        echo "$DEB_TARBALL: unknown sha256, removed" >> "$log"
        rm -f "$dl/$DEB_TARBALL"
    fi
    rm -rf "$dl/apt"
    if ! command -v curl > /dev/null; then
        echo "no curl: not trying $RELEASE_URL" >> "$log"
        return
    fi
    tmp=$dl/$CACHE_TARBALL.part
    echo "curl $RELEASE_URL" >> "$log"
    if curl -fsSL --max-time 20 -o "$tmp" "$RELEASE_URL" >> "$log" 2>&1; then
        if sha_ok "$tmp"; then
            mv "$tmp" "$dl/$CACHE_TARBALL"
            echo "$dl/$CACHE_TARBALL"
            return
        fi
        echo "$RELEASE_URL: sha256 $(sha256_of "$tmp") is not pinned," \
             "refused" >> "$log"
    fi
    rm -f "$tmp"
}

# Sets src to the source tarball to use, or to nothing.
src=
if [ -n "${DPDK_TARBALL:-}" ]; then
    src=$DPDK_TARBALL
    [ -f "$src" ] || die "DPDK_TARBALL=$src: no such file"
elif [ -f "$top/../shared/cache/$CACHE_TARBALL" ]; then
    src=$top/../shared/cache/$CACHE_TARBALL
elif [ -f "$dl/$CACHE_TARBALL" ]; then
    src=$dl/$CACHE_TARBALL
elif [ -f "$dl/$DEB_TARBALL" ]; then
    src=$dl/$DEB_TARBALL
elif [ "$mode" = yes ] || [ -z "$(find "$unavailable" -mmin -1440 \
                                       2>/dev/null)" ]; then
    src=$(download)
    if [ -z "$src" ]; then
        mkdir -p "$dl"
        touch "$unavailable"
    else
        rm -f "$unavailable"
    fi
fi

if [ -z "$src" ]; then
    [ "$mode" = auto ] \
        || die "DPDK=yes: no DPDK $DPDK_VERSION source (DPDK_TARBALL," \
               "../shared/cache/$CACHE_TARBALL, build/dl, apt-get source" \
               "dpdk=$DEB_VERSION and $RELEASE_URL all failed; see" \
               "${log#$top/})"
    note "no DPDK $DPDK_VERSION source (see ${log#$top/}): building" \
         "without DPDK, its tests will skip (make DPDK=yes to insist)"
    set_prefix ""
    exit 0
fi
verify_either "$src"
note "using $src (sha256 verified)"
if [ "$dry_run" = yes ]; then
    note "dry run: would build DPDK into $prefix"
    exit 0
fi

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
set_prefix "$prefix"
