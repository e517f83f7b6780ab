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

# "make check-valgrind": our tests (-k ct-offload, or TESTS) with every
# Open vSwitch program under valgrind's memcheck, through upstream's
# check-valgrind target (its wrappers, flags and suppressions), JOBS tests
# at a time (default: the number of cores).  Upstream's target leaves the
# reports in the test directories and passes a test whatever they say; this
# script then reads every report and prints, per test, the errors valgrind
# found and the bytes definitely lost, and fails if any test has either or
# if a test failed.  The table is kept in build/check-valgrind/summary.txt.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

jobs=${JOBS:-$(nproc)}
logdir=$top/build/check-valgrind
dir=$tree/tests/testsuite.dir
mkdir -p "$logdir"
rm -rf "$dir"

start=$SECONDS
# shellcheck disable=SC2086
make -C "$tree" check-valgrind \
     TESTSUITEFLAGS="-j$jobs ${TESTS:--k ct-offload}" 2>&1 |
    tee "$logdir/testsuite.log" | grep -E '^ *[0-9]+: ' \
    > "$logdir/results" || true
n_tests=$(grep -c . "$logdir/results" || true)
n_failed=$(grep -cE ' FAILED \(' "$logdir/results" || true)

# One line per test that ran: number, valgrind logs, errors other than
# leaks, bytes definitely lost, bytes possibly lost (not a failure: glibc's
# thread-local storage of threads alive at exit shows there), result,
# title.
shopt -s nullglob
for t in "$dir"/*/; do
    n=$(basename "$t" | sed 's/^0*//')
    logs=("$t"/valgrind.*)
    line=$(grep -m 1 -E "^ *$n: " "$logdir/results" |
           sed -E 's/^ *[0-9]+: +//')
    title=$(sed -E 's/ +(ok|FAILED .*|skipped .*|expected failure .*)$//' \
            <<< "$line")
    result=$(grep -oE ' (ok|FAILED|skipped|expected failure)( \(.*)?$' \
             <<< "$line" | awk '{ print $1 }')
    cat "${logs[@]}" /dev/null |
        awk -v n="$n" -v logs="${#logs[@]}" -v title="$title" \
            -v result="${result:-?}" '
            # With --leak-check=full, the summary counts leak records too.
            /ERROR SUMMARY:/ { errors += $4 }
            / lost in loss record / { errors-- }
            /definitely lost:/ { gsub(",", "", $4); lost += $4 }
            /possibly lost:/ { gsub(",", "", $4); possibly += $4 }
            END { printf "%5d %5d %7d %9d %9d  %-8s %s\n", n, logs,
                         errors, lost, possibly, result, title }'
done | sort -n > "$logdir/per-test"

{
    echo "valgrind (memcheck) on $n_tests tests," \
         "$((SECONDS - start)) s, $jobs at a time"
    printf '%5s %5s %7s %9s %9s  %-8s %s\n' test logs errors "lost (B)" \
        possibly result title
    cat "$logdir/per-test"
    awk '{ logs += $2; e += $3; l += $4; p += $5; if ($3 || $4) bad++ }
         END { printf "total: %d valgrind logs, %d errors, %d bytes" \
                      " definitely lost (%d possibly); %d tests with" \
                      " errors or definite leaks\n", logs, e, l, p, bad + 0 }' \
        "$logdir/per-test"
    echo "testsuite: $n_tests tests, $n_failed failed under valgrind"
    grep -E ' FAILED \(' "$logdir/results" | sed 's/^/  /' || true
} | tee "$logdir/summary.txt"

[ "$n_failed" -eq 0 ] &&
    ! awk '$3 || $4 { bad = 1 } END { exit !bad }' "$logdir/per-test"
