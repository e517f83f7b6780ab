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

# Runs the part of the Open vSwitch testsuite that the series can affect
# (the .at files named in tools/check-suites.txt, which include all of
# ours), re-runs failures once to tell flaky tests from broken ones, and
# ends with "N passed, N failed, N skipped".
#
# TESTS="1-10 42" runs those test numbers instead; SUITES="a.at b.at"
# replaces the list of .at files.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

jobs=${JOBS:-$(nproc)}
logdir=$top/build/check
mkdir -p "$logdir"
log=$logdir/check.log

make -s -C "$tree" tests/testsuite >/dev/null

suites=${SUITES:-$(sed -e 's/#.*//' "$top/tools/check-suites.txt" | xargs)}

# Test numbers of the selected .at files, folded into ranges.
select_tests() {
    "$tree/tests/testsuite" --list |
    awk -v suites=" $suites " '
        /^ *[0-9]+: / {
            split($2, loc, ":")
            if (index(suites, " " loc[1] " ")) print $1 + 0
        }' |
    awk 'NR == 1 { lo = hi = $1; next }
         $1 == hi + 1 { hi = $1; next }
         { printf "%s ", (lo == hi ? lo : lo "-" hi); lo = hi = $1 }
         END { if (NR) print (lo == hi ? lo : lo "-" hi) }'
}

tests=${TESTS:-$(select_tests)}
[ -n "$tests" ] || die "no tests selected"

# Autotest prints one line per test: "NUM: FILE:LINE TITLE STATUS".
run_tests() {
    make -C "$tree" check TESTSUITEFLAGS="-j$((jobs + 1)) $*" 2>&1 |
        grep -E '^ *[0-9]+: ' || true
}

note "running tests $tests"
start=$(date +%s)
run_tests $tests > "$log"

failed=$(grep -E ' FAILED \(' "$log" | awk '{print $1 + 0}' | xargs || true)
flaky=
if [ -n "$failed" ]; then
    note "re-running failed tests once: $failed"
    # Serially: the usual cause of a flaky test here is load on 2 cores.
    jobs=0 run_tests $failed > "$logdir/recheck.log"
    for n in $failed; do
        if grep -qE "^ *$n: .* ok$" "$logdir/recheck.log"; then
            flaky="$flaky $n"
            sed -i -E "s/^( *$n: .*) FAILED \(.*\)$/\1 ok (flaky)/" "$log"
        fi
    done
    [ -z "$flaky" ] || note "passed on re-run (flaky):$flaky"
fi
end=$(date +%s)

passed=$(grep -cE ' (ok|ok \(flaky\)|expected failure)$' "$log" || true)
failed_lines=$(grep -E ' (FAILED \(.*\)|UNEXPECTED PASS)$' "$log" || true)
nfailed=$(printf '%s' "$failed_lines" | grep -c . || true)
skipped=$(grep -cE ' skipped \(.*\)$' "$log" || true)

if [ -n "$failed_lines" ]; then
    echo "Failed tests (logs in $tree/tests/testsuite.dir):"
    printf '%s\n' "$failed_lines"
fi
note "$((passed + nfailed + skipped)) tests in $((end - start)) s; log: $log"
echo "$passed passed, $nfailed failed, $skipped skipped"
[ "$nfailed" = 0 ]
