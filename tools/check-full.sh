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

# Runs the whole testsuite on the patched tree and on pristine 4.0.0
# (build/pristine, built once), and reports the tests that fail only with
# our patches.  Tests are matched by title, since our .at files shift the
# numbers.  Not part of CI: it takes over two hours on 2 cores.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

logdir=$top/build/check-full
mkdir -p "$logdir"

build_pristine

# Prints the titles of the tests that did not pass in TREE.
run_full() {
    local t=$1 name=$2
    note "running the whole testsuite in $t"
    make -C "$t" check TESTSUITEFLAGS="-j$(( $(nproc) + 1 ))" 2>&1 |
        grep -E '^ *[0-9]+: ' > "$logdir/$name.log" || true
    { grep -E ' (FAILED \(.*\)|UNEXPECTED PASS)$' "$logdir/$name.log" || true; } |
        sed -E 's/^ *[0-9]+: [^ ]+ +//; s/ +(FAILED \(.*\)|UNEXPECTED PASS)$//' |
        sort > "$logdir/$name.failed"
    echo "$name: $(grep -c . "$logdir/$name.log") tests," \
         "$(grep -c . "$logdir/$name.failed" || true) failed"
}

run_full "$pristine" pristine
run_full "$tree" ours

new=$(comm -13 "$logdir/pristine.failed" "$logdir/ours.failed")
if [ -n "$new" ]; then
    echo "Fail with our patches but pass on pristine 4.0.0:"
    printf '  %s\n' "$new"
fi
npass=$(grep -cE ' ok$' "$logdir/ours.log" || true)
echo "$npass passed, $(printf '%s' "$new" | grep -c . || true) failed (new failures only)"
[ -z "$new" ]
