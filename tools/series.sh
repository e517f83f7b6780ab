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

# Exports the series as build/series/*.patch (git format-patch), then proves
# that it applies with "git am" on pristine 4.0.0 and that checkpatch.py
# finds nothing.  SERIES_BUILD=yes also builds every prefix of the series
# (bisectability; slow).

set -euo pipefail
. "$(dirname "$0")/lib.sh"

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

out=$top/build/series
tree_is_dirty && die "build/ovs has edits not in patches/: run 'make writeback' first"

rm -rf "$out"
mkdir -p "$out"
n=$(git -C "$tree" rev-list --count "$upstream_tag..HEAD")
if [ "$n" = 0 ]; then
    note "the series is empty"
    echo "0 patches"
    exit 0
fi
git -C "$tree" format-patch -q --zero-commit -o "$out" "$upstream_tag..HEAD"

# git am on a pristine clone.
check=$top/build/series-check
rm -rf "$check"
git clone -q --no-checkout "$tree" "$check"
git -C "$check" -c advice.detachedHead=false checkout -q "$upstream_tag"
git -C "$check" config user.name "series check"
git -C "$check" config user.email "check@localhost"
git -C "$check" am -q "$out"/*.patch || die "the series does not apply with git am"
[ -z "$(git -C "$check" diff HEAD "$(git -C "$tree" rev-parse HEAD)" --stat)" ] \
    || die "git am result differs from build/ovs"
note "$n patches apply with git am on Open vSwitch 4.0.0"

# checkpatch, from the patched tree so that our own checkpatch changes (if
# any) apply.
failed=0
for p in "$out"/*.patch; do
    if ! /usr/bin/python3 "$check/utilities/checkpatch.py" -q "$p"; then
        failed=1
    fi
done
[ "$failed" = 0 ] || die "checkpatch reported problems"
note "checkpatch: no problems in $n patches"

if [ "${SERIES_BUILD:-no}" = yes ]; then
    for i in $(seq 1 "$n"); do
        rev=$(git -C "$check" rev-list --reverse "$upstream_tag..HEAD" | sed -n "${i}p")
        git -C "$check" -c advice.detachedHead=false checkout -q "$rev"
        git -C "$check" clean -q -fdx -e /debian/
        mkdir -p "$check/debian" && : > "$check/debian/automake.mk"
        note "building patch $i/$n"
        OVS_TREE=$check "$top/tools/build.sh" >/dev/null \
            || die "patch $i/$n does not build (see $check/make.log)"
    done
    note "every prefix of the series builds"
fi
rm -rf "$check"
echo "$n patches in $out"
