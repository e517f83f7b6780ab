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

# "make check-sanitize": builds the series (build/sanitize) and pristine
# 4.0.0 (build/sanitize-pristine) with the same AddressSanitizer and
# UndefinedBehaviorSanitizer flags, without DPDK, and runs upstream's
# conntrack, NAT and dpif-netdev tests in both, plus ours in the series.
# The testsuite fails a test whose programs leave a sanitizer report (see
# tests/atlocal.in).  Reports the tests that fail with ours and not with
# pristine, each with the first lines of its first sanitizer report, and
# fails if there is one.  Not part of CI: each uncached build takes about
# ten minutes on 2 cores, each run about as long.  TESTS replaces the
# keyword selection (for both trees).

set -euo pipefail
. "$(dirname "$0")/lib.sh"

ours=$top/build/sanitize
pristine_san=$top/build/sanitize-pristine
logdir=$top/build/check-sanitize
jobs=${JOBS:-$(nproc)}
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined"
flags="$flags -fno-sanitize-recover=undefined"
upstream_keys="-k conntrack -k dpif-netdev -k nat"
mkdir -p "$logdir"

OVS_TREE=$ours "$top/tools/materialise.sh"
unpack_pristine "$pristine_san"
for t in "$ours" "$pristine_san"; do
    OVS_TREE=$t CONFIGURE_CFLAGS=$flags \
    CONFIGURE_LDFLAGS=-fsanitize=address,undefined DPDK_PREFIX= \
        "$top/tools/build.sh"
    make -s -C "$t" tests/testsuite > /dev/null
done

run() {
    local t=$1 name=$2 start=$SECONDS
    shift 2
    make -C "$t" check TESTSUITEFLAGS="-j$((jobs + 1)) $*" 2>&1 |
        grep -E '^ *[0-9]+: ' > "$logdir/$name.results" || true
    rm -rf "$logdir/$name.dir"
    cp -r "$t/tests/testsuite.dir" "$logdir/$name.dir" 2>/dev/null || true
    echo "$name: $(grep -c . "$logdir/$name.results" || true) tests," \
         "$(grep -cE ' (ok|expected failure)' "$logdir/$name.results" || true) passed," \
         "$(grep -cE ' FAILED \(' "$logdir/$name.results" || true) failed" \
         "($((SECONDS - start)) s)"
}
any='ok|expected failure \(.*\)|FAILED \(.*\)|UNEXPECTED PASS|skipped \(.*\)'
titles() {
    { grep -E " ($2)\$" "$logdir/$1.results" || true; } |
        sed -E "s/^ *[0-9]+: +//; s/ +($2)\$//" | sort
}

# shellcheck disable=SC2086
run "$pristine_san" pristine ${TESTS:-$upstream_keys}
# shellcheck disable=SC2086
run "$ours" ours ${TESTS:-$upstream_keys -k ct-offload}

new=$(comm -12 <(titles ours 'FAILED \(.*\)') \
               <(titles pristine 'ok|expected failure \(.*\)'))
both=$(comm -12 <(titles ours 'FAILED \(.*\)') \
                <(titles pristine 'FAILED \(.*\)'))
if [ -n "$both" ]; then
    echo "Fail in both trees (not ours to fix):"
    sed 's/^/  /' <<< "$both"
fi
ours_only=$(comm -23 <(titles ours 'FAILED \(.*\)') \
                     <(titles pristine "$any"))
if [ -n "$ours_only" ]; then
    echo "Fail in tests that pristine does not have:"
    sed 's/^/  /' <<< "$ours_only"
    new=$(printf '%s\n%s\n' "$new" "$ours_only" | sed '/^$/d')
fi
if [ -n "$new" ]; then
    echo "Fail with our patches and not on pristine 4.0.0:"
    while read -r title; do
        n=$(grep -F ": $title " "$logdir/ours.results" | head -n 1 |
            awk '{ print $1 + 0 }')
        echo "  $n: $title"
        # Autotest pads the directory names of tests with zeros.
        report=$(ls "$logdir"/ours.dir/*/sanitizers.* 2>/dev/null |
                 grep -E "/0*$n/" | head -n 1 || true)
        if [ -n "$report" ]; then
            grep -m 1 -A 6 -E 'ERROR|runtime error' "$report" |
                sed 's/^/      /'
        else
            echo "      (no sanitizer report: the test failed otherwise)"
        fi
    done <<< "$new"
fi
echo "check-sanitize: $(titles ours 'ok|expected failure \(.*\)' | grep -c . ||
      true) passed with ours, $(printf '%s' "$new" | grep -c . || true) fail" \
     "only with ours, $(printf '%s' "$both" | grep -c . || true) fail in both"
[ -z "$new" ]
