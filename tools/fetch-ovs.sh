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

# Usage: fetch-ovs.sh DESTDIR
#
# Unpacks pristine Open vSwitch 4.0.0 into DESTDIR (which must not exist).
# Sources, first match wins:
#   OVS_SRC=dir       a git checkout that has the tag v4.0.0
#   OVS_TARBALL=file  openvswitch_4.0.0.orig.tar.xz (checksum verified)
#   ../shared/cache/openvswitch_4.0.0.orig.tar.xz (checksum verified)
#   the Debian source package openvswitch 4.0.0-2, fetched with apt-get from
#   the mirror this machine's apt already uses, through a private source
#   list that leaves the system's apt configuration untouched.

set -euo pipefail

OVS_VERSION=4.0.0
DEB_VERSION=4.0.0-2
TARBALL=openvswitch_${OVS_VERSION}.orig.tar.xz
SHA256=2b4d75ed077e94bc649ffbc9be5f9f822db82cf266c920cb3060f94db9d6d796

top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:?usage: fetch-ovs.sh DESTDIR}
dl=${OVS_DL_DIR:-$top/build/dl}

. "$(dirname "$0")/fetch-lib.sh"
die() { echo "fetch-ovs: $*" >&2; exit 1; }

verify() {
    local sum
    sum=$(sha256_of "$1")
    [ "$sum" = "$SHA256" ] || die "$1: sha256 $sum, expected $SHA256; refusing it"
}

[ ! -e "$dest" ] || die "$dest already exists"
mkdir -p "$dl"

if [ -n "${OVS_SRC:-}" ]; then
    git -C "$OVS_SRC" rev-parse -q --verify "v$OVS_VERSION^{commit}" >/dev/null \
        || die "OVS_SRC=$OVS_SRC has no tag v$OVS_VERSION"
    mkdir -p "$dest"
    git -C "$OVS_SRC" archive "v$OVS_VERSION" | tar -x -C "$dest"
    echo "fetch-ovs: using tag v$OVS_VERSION of $OVS_SRC"
    exit 0
fi

if [ -n "${OVS_TARBALL:-}" ]; then
    src=$OVS_TARBALL
elif [ -f "$top/../shared/cache/$TARBALL" ]; then
    src=$top/../shared/cache/$TARBALL
elif [ -f "$dl/$TARBALL" ]; then
    src=$dl/$TARBALL
else
    apt_source_fetch openvswitch "$DEB_VERSION" "$TARBALL" "$dl" "unstable testing"
    verify "$dl/$TARBALL"
    src=$dl/$TARBALL
fi
[ -f "$src" ] || die "$src: no such file"
verify "$src"
echo "fetch-ovs: using $src (sha256 verified)"
mkdir -p "$dest"
tar -xJf "$src" -C "$dest" --strip-components=1 --no-same-owner
