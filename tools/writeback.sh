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

# Writes edits made in build/ovs back into this repository.
#
# - Uncommitted edits to tracked files are folded into one commit: the one
#   of the series entry named by PATCH=NNNN-name.patch, or else the last one
#   (not with NO_FOLD=yes).
# - Every commit after upstream-4.0.0 becomes patches/<entry> again (its
#   changes to upstream files); commits beyond the series become new entries.
# - New files created in build/ovs are copied to the top of the repository
#   (existing ones are edited there, not in build/ovs).

set -euo pipefail
. "$(dirname "$0")/lib.sh"

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

[ -d "$tree/.git" ] || die "no build/ovs yet: run make first"
cd "$tree"

mapfile -t entries < <(series_entries)
mapfile -t commits < <(git rev-list --reverse "$upstream_tag..HEAD")

# NO_FOLD=yes leaves uncommitted edits alone (someone else's work in
# progress) and only writes the commits back.
if [ "${NO_FOLD:-no}" != yes ] && tree_is_dirty; then
    target=${commits[${#commits[@]}-1]:-}
    if [ -n "${PATCH:-}" ]; then
        target=
        for i in "${!entries[@]}"; do
            [ "${entries[$i]%% *}" = "$PATCH" ] && target=${commits[$i]:-}
        done
        [ -n "$target" ] || die "PATCH=$PATCH is not an entry of patches/series"
    fi
    [ -n "$target" ] || die "no patch to fold the edits into: commit them" \
                            "in build/ovs first (git commit)"
    tree_edits | xargs git add --
    git commit -q --fixup="$target"
    GIT_SEQUENCE_EDITOR=: git rebase -q -i --autostash --autosquash "$upstream_tag" \
        || die "rebase failed: resolve it in build/ovs, then run again"
    mapfile -t commits < <(git rev-list --reverse "$upstream_tag..HEAD")
fi

[ "${#commits[@]}" -ge "${#entries[@]}" ] \
    || die "build/ovs has ${#commits[@]} commits but patches/series" \
           "${#entries[@]} entries"

overlay=$(overlay_files)
new_series=$(mktemp)
trap 'rm -f "$new_series"' EXIT
[ ! -f "$series_file" ] || sed -n '1,/^[^#]/{/^#/p}' "$series_file" > "$new_series"

for i in "${!commits[@]}"; do
    c=${commits[$i]}
    if [ -n "${entries[$i]:-}" ]; then
        patch=${entries[$i]%% *}
    else
        patch=$(printf '%04d-%s.patch' $((i + 1)) \
                    "$(git log -1 --format=%f "$c" | cut -c1-52)")
    fi
    # New files of this commit: those it adds under the overlay directories,
    # plus those the series already assigned to it.
    added=$(git diff-tree -r --no-commit-id --diff-filter=A --name-only "$c" \
                -- $overlay_dirs)
    files=$(printf '%s\n' ${entries[$i]:+${entries[$i]#* }} $added |
            grep -v '\.patch$' | sort -u | sed '/^$/d' || true)
    excludes=()
    for f in $files $overlay; do
        excludes+=(":(exclude)$f")
    done
    git format-patch -1 --stdout --zero-commit --no-signature "$c" \
        -- . "${excludes[@]}" > "$top/patches/$patch"
    # New files are edited at the top of the repository, which holds the
    # copy that counts; only one that was created in build/ovs is copied.
    for f in $files; do
        if [ ! -e "$top/$f" ]; then
            mkdir -p "$top/$(dirname "$f")"
            git show "HEAD:$f" > "$top/$f"
            note "added $f"
        fi
    done
    {
        echo "$patch"
        for f in $files; do echo "    $f"; done
    } >> "$new_series"
done
mv "$new_series" "$series_file"
trap - EXIT
note "wrote ${#commits[@]} patches; run 'git -C $top status' to review"
