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

# Materialises the patched tree in build/ovs: a git repository whose first
# commit (tag upstream-4.0.0) is pristine Open vSwitch 4.0.0 and whose
# following commits are the entries of patches/series, each one patch to
# upstream files plus the new files it lists.
#
# The history is rebuilt in a scratch worktree with fixed dates, so that an
# unchanged input gives the same commits, and build/ovs is then moved to it
# with "git reset --hard", which rewrites only files whose content changed:
# make recompiles only what an edit touched.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

create_pristine() {
    local tmp=$tree.tmp
    rm -rf "$tmp"
    "$top/tools/fetch-ovs.sh" "$tmp"
    (
        cd "$tmp"
        git init -q -b series
        git config user.name "ct-offload build"
        git config user.email "build@localhost"
        printf '%s\n' $generated_files > .git/info/exclude
        # Makefile.am includes debian/automake.mk, which the Debian orig
        # tarball leaves out.
        mkdir -p debian
        [ -f debian/automake.mk ] || : > debian/automake.mk
        git add -A
        GIT_AUTHOR_DATE="2025-08-18T00:00:00Z" \
        GIT_COMMITTER_DATE="2025-08-18T00:00:00Z" \
            git commit -q -m "Open vSwitch 4.0.0 (pristine)."
        git tag "$upstream_tag"
        # The tarball's generated files come from another autotools version:
        # boot.sh makes them again.
        for f in $generated_files; do
            case $f in /debian/) ;; *) rm -rf "./$f" ;; esac
        done
    )
    mv "$tmp" "$tree"
}

# Checks that every overlay file belongs to exactly one series entry.
check_overlay_coverage() {
    local listed
    listed=$(series_entries | tr ' ' '\n' | sed 1d | grep -v '\.patch$' |
             sort || true)
    local dup
    dup=$(printf '%s\n' "$listed" | uniq -d)
    [ -z "$dup" ] || die "listed twice in patches/series: $dup"
    local missing
    missing=$(comm -23 <(overlay_files) <(printf '%s\n' "$listed" | sed '/^$/d'))
    [ -z "$missing" ] || die "new files not listed in patches/series:
$missing"
}

build_history() {
    local stage=$1 entry patch files info msg
    git -C "$tree" worktree prune
    rm -rf "$stage"
    git -C "$tree" worktree add -q --detach "$stage" "$upstream_tag"
    series_entries | while read -r patch files; do
        [ -f "$top/patches/$patch" ] || die "patches/$patch: no such file"
        info=$(git -C "$stage" mailinfo "$stage/.git-msg" "$stage/.git-diff" \
                   < "$top/patches/$patch")
        if grep -q '^diff --git' "$stage/.git-diff"; then
            git -C "$stage" apply --index "$stage/.git-diff" \
                || die "patches/$patch does not apply"
        fi
        for f in $files; do
            [ -f "$top/$f" ] || die "patches/series lists $f: no such file"
            mkdir -p "$stage/$(dirname "$f")"
            cp -p "$top/$f" "$stage/$f"
            git -C "$stage" add -f "$f"
        done
        msg=$(printf '%s\n' "$info" | sed -n 's/^Subject: //p')
        {
            printf '%s\n\n' "$msg"
            cat "$stage/.git-msg"
        } > "$stage/.git-commit-msg"
        rm -f "$stage/.git-msg" "$stage/.git-diff"
        GIT_AUTHOR_NAME=$(printf '%s\n' "$info" | sed -n 's/^Author: //p') \
        GIT_AUTHOR_EMAIL=$(printf '%s\n' "$info" | sed -n 's/^Email: //p') \
        GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" \
        GIT_COMMITTER_NAME="ct-offload build" \
        GIT_COMMITTER_EMAIL="build@localhost" \
        GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" \
            git -C "$stage" commit -q --cleanup=strip \
                -F "$stage/.git-commit-msg" \
            || die "patches/$patch: nothing to commit"
        rm -f "$stage/.git-commit-msg"
    done
}

[ -d "$tree/.git" ] || create_pristine
check_overlay_coverage

# One scratch worktree per tree: materialising build/ovs and another tree
# (OVS_TREE) at the same time must not share it.
stage=$tree.stage
build_history "$stage"
new=$(git -C "$stage" rev-parse HEAD)
git -C "$tree" worktree remove --force "$stage"

old=$(git -C "$tree" rev-parse HEAD)
if [ "$new" = "$old" ]; then
    exit 0
fi
if tree_is_dirty; then
    # Keep the edits; still bring in new files edited at the top.
    for f in $(overlay_files); do
        if ! cmp -s "$top/$f" "$tree/$f"; then
            mkdir -p "$tree/$(dirname "$f")"
            cp -p "$top/$f" "$tree/$f"
        fi
    done
    note "build/ovs has edits that are not in patches/;" \
         "building it as it is (run 'make writeback' to keep them, or" \
         "'git -C build/ovs checkout .' to drop them)"
    exit 0
fi
git -C "$tree" reset -q --hard "$new"
note "build/ovs now at $(git -C "$tree" rev-list --count "$upstream_tag..HEAD")" \
     "patches on Open vSwitch 4.0.0"
