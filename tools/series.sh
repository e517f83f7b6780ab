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

# Exports the series as build/series/*.patch (git format-patch) with a
# cover letter, 0000-cover-letter.patch, then proves that the patches apply
# with "git am" on pristine 4.0.0 and that checkpatch.py finds nothing in
# them.  SERIES_BUILD=yes also builds every prefix of the series
# (tools/check-bisect.sh without its tests; slow).
#
# Identity: the patches in patches/ carry a placeholder author and
# Signed-off-by ("ct-offload developers <ct-offload@localhost>"; commits
# made in build/ovs carry "ct-offload build <build@localhost>").  The
# export replaces them with the exporter's git identity, git config
# user.name and user.email as this repository sees them, and refuses to
# export without one.  Authors and sign-offs of real people are kept; the
# exporter's Signed-off-by is added to every patch that lacks it.
# SERIES_AUTHOR="Name <email>" overrides the git identity (for CI).
#
# The cover letter's text is tools/cover-letter.txt; "make bench" figures
# come from build/bench/results.json when it exists.  SUBJECT_PREFIX
# (default "PATCH", e.g. "PATCH v2") is the subject prefix of every mail.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The exporter's identity, read before the git configuration is cut off
# below (user.name is usually in ~/.gitconfig).
if [ -n "${SERIES_AUTHOR:-}" ]; then
    author_name=$(printf '%s\n' "$SERIES_AUTHOR" |
                  sed -n 's/^\(.*[^ ]\) *<[^<>]*>$/\1/p')
    author_email=$(printf '%s\n' "$SERIES_AUTHOR" |
                   sed -n 's/^.*<\([^<>]*\)>$/\1/p')
    [ -n "$author_name" ] && [ -n "$author_email" ] \
        || die "SERIES_AUTHOR=$SERIES_AUTHOR: expected \"Name <email>\""
else
    author_name=$(git -C "$top" config user.name || true)
    author_email=$(git -C "$top" config user.email || true)
fi

# A placeholder identity: the one the patches carry, or any address at
# localhost (the build's own commits).
is_placeholder() {
    case $1 in
        "ct-offload developers <"*|*"@localhost>") return 0 ;;
    esac
    return 1
}

ident="$author_name <$author_email>"
howto="set yours with git config --global user.name \"Your Name\" and"
howto="$howto git config --global user.email you@example.org"
if [ -z "$author_name" ] || [ -z "$author_email" ]; then
    die "no git identity (user.name and user.email): the patches need" \
        "an author and a Signed-off-by; $howto"
elif ! [[ $author_email == *@* ]] || is_placeholder "$ident"; then
    die "\"$ident\" is a placeholder (patches/ carries" \
        "\"ct-offload developers <ct-offload@localhost>\"), not an" \
        "author for the patches; $howto"
fi

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

out=$top/build/series
export_git=$top/build/series-export.git
check=$top/build/series-check
prefix=${SUBJECT_PREFIX:-PATCH}
python=/usr/bin/python3

tree_is_dirty && die "build/ovs has edits not in patches/: run 'make writeback' first"

rm -rf "$out" "$export_git" "$check"
mkdir -p "$out"
n=$(git -C "$tree" rev-list --count "$upstream_tag..HEAD")
if [ "$n" = 0 ]; then
    note "the series is empty"
    echo "0 patches"
    exit 0
fi

# The series again, in a bare scratch clone, with the exporter as author
# (of the placeholder's commits), committer and signer.  The trees are
# build/ovs's own, so the result differs from it only in who and when.
head=$(git -C "$tree" rev-parse HEAD)
git clone -q --bare "$tree" "$export_git"
git --git-dir="$export_git" config user.name "$author_name"
git --git-dir="$export_git" config user.email "$author_email"

# Prints the message of commit $1 with placeholder sign-offs replaced by
# the exporter's, repeated ones dropped, and the exporter's added last if
# it is missing.
export_message() {
    git --git-dir="$export_git" log -1 --format=%B "$1" |
        IDENT="$ident" awk '
            /^Signed-off-by: / {
                if ($0 ~ /@localhost>[ \t]*$/)
                    $0 = "Signed-off-by: " ENVIRON["IDENT"]
                if (seen[$0]++)
                    next
            }
            { print }' |
        git --git-dir="$export_git" interpret-trailers \
            --if-exists addIfDifferent --trailer "Signed-off-by: $ident"
}

now=$(date -R)
parent=$(git --git-dir="$export_git" rev-parse "$upstream_tag^{commit}")
for c in $(git --git-dir="$export_git" rev-list --reverse \
               "$upstream_tag..$head"); do
    orig=$(git --git-dir="$export_git" log -1 --format='%an <%ae>' "$c")
    if is_placeholder "$orig"; then
        a_name=$author_name a_email=$author_email a_date=$now
    else
        a_name=$(git --git-dir="$export_git" log -1 --format=%an "$c")
        a_email=$(git --git-dir="$export_git" log -1 --format=%ae "$c")
        a_date=$(git --git-dir="$export_git" log -1 --format=%aD "$c")
    fi
    parent=$(export_message "$c" |
             GIT_AUTHOR_NAME=$a_name GIT_AUTHOR_EMAIL=$a_email \
             GIT_AUTHOR_DATE=$a_date GIT_COMMITTER_DATE=$now \
                 git --git-dir="$export_git" commit-tree \
                     "$c^{tree}" -p "$parent")
done
git --git-dir="$export_git" update-ref refs/heads/export "$parent"

git --git-dir="$export_git" format-patch -q --zero-commit --cover-letter \
    --subject-prefix="$prefix" -o "$out" "$upstream_tag..export"
cover=$out/0000-cover-letter.patch
[ -f "$cover" ] || die "git format-patch wrote no $cover"
mapfile -t patches < <(ls "$out"/*.patch |
                       grep -v '/0000-cover-letter\.patch$')
[ "${#patches[@]}" = "$n" ] || die "expected $n patches, got ${#patches[@]}"

# The cover letter: subject and text from tools/cover-letter.txt in place
# of format-patch's "*** SUBJECT HERE ***" and "*** BLURB HERE ***"; the
# list of patches and the diffstat stay.
"$python" - "$cover" "$top/tools/cover-letter.txt" \
    "$top/build/bench/results.json" "$top/build/check/check.log" <<'EOF'
import json
import os
import re
import sys
import time

cover_file, template_file, results_file, check_file = sys.argv[1:5]


def day(path):
    return time.strftime('%Y-%m-%d', time.gmtime(os.path.getmtime(path)))


def check_counts():
    if not os.path.exists(check_file):
        return ['not run for this export.']
    counts = {'passed': 0, 'failed': 0, 'skipped': 0}
    with open(check_file) as f:
        for line in f:
            if not re.match(r' *[0-9]+: ', line):
                continue
            line = line.rstrip()
            if re.search(r' (ok|ok \(flaky\)|expected failure)$', line):
                counts['passed'] += 1
            elif re.search(r' skipped \(.*\)$', line):
                counts['skipped'] += 1
            elif re.search(r' (FAILED \(.*\)|UNEXPECTED PASS)$', line):
                counts['failed'] += 1
    return ['%(passed)d passed, %(failed)d failed, %(skipped)d skipped'
            % counts + ' ("make check", %s).' % day(check_file)]


def bench_figures():
    if not os.path.exists(results_file):
        return ['Not measured in this export.']
    with open(results_file) as f:
        results = json.load(f)
    lines = ['Measured with "make bench" on %s (%d s in all):' % (
        day(results_file), results.get('total_seconds') or 0), '']
    for t in results.get('targets', []):
        v = t.get('value')
        if v is None:
            value = 'n/a'
        elif abs(v) >= 1000:
            value = format(v, ',.0f')
        else:
            value = format(v, '.4g')
        met = {True: 'met', False: 'MISSED', None: 'n/a'}[t.get('met')]
        lines.append('  %-40s %10s  (target %s: %s)' % (
            t['name'], value, t.get('target', '?'), met))
    return lines


with open(template_file) as f:
    template = [l.rstrip('\n') for l in f if not l.startswith('#')]
while template and not template[0].strip():
    template.pop(0)
if not template:
    sys.exit('%s: no subject line' % template_file)
subject = template.pop(0).strip()
while template and not template[0].strip():
    template.pop(0)
body = []
for line in template:
    indent = line[:len(line) - len(line.lstrip())]
    if line.strip() == '@BENCH@':
        body.extend((indent + l).rstrip() for l in bench_figures())
    elif line.strip() == '@CHECK@':
        body.extend((indent + l).rstrip() for l in check_counts())
    else:
        body.append(line)
while body and not body[-1].strip():
    body.pop()

with open(cover_file) as f:
    cover = f.read()
for marker in ('*** SUBJECT HERE ***', '*** BLURB HERE ***'):
    if marker not in cover:
        sys.exit('%s: no "%s" to replace' % (cover_file, marker))
cover = cover.replace('*** SUBJECT HERE ***', subject, 1)
cover = cover.replace('*** BLURB HERE ***', '\n'.join(body), 1)
with open(cover_file, 'w') as f:
    f.write(cover)
EOF

# No placeholder identity may be left in what is posted.
if grep -l -E '^(From|Signed-off-by): .*@localhost>' "$out"/*.patch; then
    die "placeholder identity left in the files above"
fi
note "$n patches and a cover letter by $ident"

# git am on a pristine clone.
git clone -q --no-checkout "$tree" "$check"
git -C "$check" -c advice.detachedHead=false checkout -q "$upstream_tag"
git -C "$check" config user.name "series check"
git -C "$check" config user.email "check@localhost"
git -C "$check" am -q "${patches[@]}" \
    || die "the series does not apply with git am"
[ -z "$(git -C "$check" diff HEAD "$head" --stat)" ] \
    || die "git am result differs from build/ovs"
[ -z "$(git -C "$check" log --format='%an <%ae>' "$upstream_tag..HEAD" |
        grep '@localhost>$')" ] \
    || die "git am gave commits a placeholder author"
note "$n patches apply with git am on Open vSwitch 4.0.0"

# checkpatch, from the patched tree so that our own checkpatch changes (if
# any) apply.  Not on the cover letter, which has no diff.  format-patch
# folds a From: header longer than 78 columns and encodes a name that is
# not ASCII (RFC 2047); checkpatch.py reads the header as it is and then
# finds no Signed-off-by for that author.  So it gets a copy with the
# headers unfolded and decoded, as git am reads them.
failed=0
unfolded=$check/unfolded.patch
for p in "${patches[@]}"; do
    "$python" - "$p" "$unfolded" <<'EOF'
import re
import sys
from email.header import decode_header, make_header

with open(sys.argv[1], encoding='utf8') as f:
    text = f.read()
head, sep, body = text.partition('\n\n')
lines = re.sub(r'\n[ \t]+', ' ', head).split('\n')
for i, line in enumerate(lines):
    name, colon, value = line.partition(': ')
    if colon and name in ('From', 'Subject'):
        lines[i] = name + ': ' + str(make_header(decode_header(value)))
with open(sys.argv[2], 'w', encoding='utf8') as f:
    f.write('\n'.join(lines) + sep + body)
EOF
    if ! "$python" "$check/utilities/checkpatch.py" -q "$unfolded"; then
        echo "(in ${p#"$top"/})"
        failed=1
    fi
done
[ "$failed" = 0 ] || die "checkpatch reported problems"
note "checkpatch: no problems in $n patches"
rm -rf "$check" "$export_git"

if [ "${SERIES_BUILD:-no}" = yes ]; then
    BISECT_TESTS=no "$top/tools/check-bisect.sh"
fi
echo "$n patches and a cover letter in $out"
