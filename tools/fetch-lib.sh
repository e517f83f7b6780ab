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
# Helpers shared by fetch-ovs.sh and build-dpdk.sh.  Sourced, not run; the
# caller defines die().

# Prints the sha256 of FILE.
sha256_of() {
    sha256sum "$1" | cut -d' ' -f1
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

# Usage: apt_source_fetch PACKAGE VERSION FILE DLDIR "SUITE..."
#
# Downloads the Debian source package PACKAGE=VERSION from the mirror this
# machine's apt already uses, through a private source list that leaves the
# system's apt configuration untouched, and moves its FILE to DLDIR.  apt
# verifies the files against the signed Sources index; callers still check
# FILE's checksum.
apt_source_fetch() {
    local pkg=$1 version=$2 file=$3 dl=$4 suites=$5
    local mirror apt_dir opts suite
    mirror=$(apt_mirror | grep -v -- '-security' | grep '/debian/*$' | head -n1)
    [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt"
    apt_dir=$dl/apt
    rm -rf "$apt_dir"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/parts" \
             "$apt_dir/cache/archives/partial" "$apt_dir/src"
    for suite in $suites; do
        echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
             "$mirror $suite main"
    done > "$apt_dir/sources.list"
    opts=(-q -o "Dir::Etc::SourceList=$apt_dir/sources.list"
          -o "Dir::Etc::SourceParts=$apt_dir/parts"
          -o "Dir::State::Lists=$apt_dir/lists"
          -o "Dir::Cache=$apt_dir/cache"
          -o "APT::Sandbox::User=root")
    echo "${0##*/}: downloading $pkg=$version from $mirror"
    apt-get "${opts[@]}" update >/dev/null
    (cd "$apt_dir/src" &&
     apt-get "${opts[@]}" source --download-only "$pkg=$version" >/dev/null) \
        || die "apt-get source $pkg=$version failed"
    [ -f "$apt_dir/src/$file" ] || die "apt-get did not produce $file"
    mv "$apt_dir/src/$file" "$dl/$file"
    rm -rf "$apt_dir"
}
