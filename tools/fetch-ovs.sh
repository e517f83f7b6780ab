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

die() { echo "fetch-ovs: $*" >&2; exit 1; }

verify() {
    local sum
    sum=$(sha256sum "$1" | cut -d' ' -f1)
    [ "$sum" = "$SHA256" ] || die "$1: sha256 $sum, expected $SHA256; refusing it"
}

# Prints the first Debian archive URI apt is configured with (deb822 or
# one-line format), skipping the security archive.
apt_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" { for (i = 2; i <= NF; i++)
                               if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f"
    done
}

fetch_with_apt() {
    local mirror apt_dir opts
    mirror=$(apt_mirror | grep -v -- '-security' | grep '/debian/*$' | head -n1)
    [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt; set OVS_TARBALL"
    apt_dir=$dl/apt
    rm -rf "$apt_dir"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/parts" \
             "$apt_dir/cache/archives/partial" "$apt_dir/src"
    # Unstable and testing both carry 4.0.0-2 at the time of writing.
    for suite in unstable testing; do
        echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
             "$mirror $suite main"
    done > "$apt_dir/sources.list"
    opts=(-q -o "Dir::Etc::SourceList=$apt_dir/sources.list"
          -o "Dir::Etc::SourceParts=$apt_dir/parts"
          -o "Dir::State::Lists=$apt_dir/lists"
          -o "Dir::Cache=$apt_dir/cache"
          -o "APT::Sandbox::User=root")
    echo "fetch-ovs: downloading openvswitch=$DEB_VERSION from $mirror"
    apt-get "${opts[@]}" update >/dev/null
    (cd "$apt_dir/src" &&
     apt-get "${opts[@]}" source --download-only "openvswitch=$DEB_VERSION" \
         >/dev/null) || die "apt-get source openvswitch=$DEB_VERSION failed"
    [ -f "$apt_dir/src/$TARBALL" ] || die "apt-get did not produce $TARBALL"
    verify "$apt_dir/src/$TARBALL"
    mv "$apt_dir/src/$TARBALL" "$dl/$TARBALL"
    rm -rf "$apt_dir"
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
    fetch_with_apt
    src=$dl/$TARBALL
fi
[ -f "$src" ] || die "$src: no such file"
verify "$src"
echo "fetch-ovs: using $src (sha256 verified)"
mkdir -p "$dest"
tar -xJf "$src" -C "$dest" --strip-components=1 --no-same-owner
