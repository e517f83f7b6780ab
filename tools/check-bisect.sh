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

# "make check-bisect": proves that the series is bisectable.  Checks out
# every prefix of the series (the commits of build/ovs) in a scratch clone,
# build/bisect, builds it with tools/build.sh and runs the tests that exist
# at that point: the testsuite with BISECT_TESTSUITEFLAGS (default
# "-k ct-offload"), skipped while no test matches.  Failing tests are run
# again once, serially, as tools/check.sh does.  Stops at the first prefix
# that does not build or whose tests fail.  Slow (a build and a test run
# per patch); not part of CI.
#
# Prefixes are built one after the other in the same clone, so each build
# recompiles only what the patch changed; BISECT_CLEAN=yes builds each
# from scratch instead (ccache still helps).
#
# Environment: DPDK_PREFIX (as for tools/build.sh; the Makefile passes the
# one "make build" uses), JOBS, BISECT_FIRST and BISECT_LAST (patch
# numbers, default all), BISECT_TESTS=no (build only, which is what
# "SERIES_BUILD=yes make series" runs), BISECT_TESTSUITEFLAGS,
# BISECT_CLEAN.  Logs: build/bisect-logs/.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
# Let ccache reuse objects compiled in build/ovs: by default it hashes the
# build directory into every -g compilation.
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

work=$top/build/bisect
logs=$top/build/bisect-logs
jobs=${JOBS:-$(nproc)}
flags=${BISECT_TESTSUITEFLAGS:--k ct-offload}
run_tests=${BISECT_TESTS:-yes}

[ -d "$tree/.git" ] || die "no build/ovs yet: run make first"
tree_is_dirty && die "build/ovs has edits not in patches/: run" \
                     "'make writeback' first (this checks the committed" \
                     "series)"

head=$(git -C "$tree" rev-parse HEAD)
mapfile -t revs < <(git -C "$tree" rev-list --reverse "$upstream_tag..$head")
n=${#revs[@]}
[ "$n" -gt 0 ] || { note "the series is empty"; exit 0; }
first=${BISECT_FIRST:-1}
last=${BISECT_LAST:-$n}
[ "$first" -ge 1 ] && [ "$last" -le "$n" ] && [ "$first" -le "$last" ] \
    || die "BISECT_FIRST=$first, BISECT_LAST=$last: the series has" \
           "patches 1 to $n"

# The clone is kept between runs (its build too); it only fetches the
# series' current commits.
if [ ! -d "$work/.git" ]; then
    rm -rf "$work"
    git clone -q --no-checkout "$tree" "$work"
fi
git -C "$work" fetch -q --tags "$tree" "+$head:refs/heads/bisect-series"
rm -rf "$logs"
mkdir -p "$logs"

# Prints "PASSED FAILED SKIPPED" for the testsuite log lines on stdin.
count() {
    awk '/ (ok|ok \(flaky\)|expected failure)$/ { p++; next }
         / skipped \(.*\)$/ { s++; next }
         / (FAILED \(.*\)|UNEXPECTED PASS)$/ { f++ }
         END { print p + 0, f + 0, s + 0 }'
}

# Runs the testsuite of the clone with FLAGS..., printing one line per
# test ("NUM: FILE:LINE TITLE STATUS").
testsuite() {
    make -C "$work" check TESTSUITEFLAGS="$*" 2>&1 |
        grep -E '^ *[0-9]+: ' || true
}

start=$SECONDS
for i in $(seq "$first" "$last"); do
    rev=${revs[$((i - 1))]}
    subject=$(git -C "$work" log -1 --format=%s "$rev")
    note "patch $i/$n: $subject"
    git -C "$work" -c advice.detachedHead=false checkout -q -f --detach "$rev"
    if [ "${BISECT_CLEAN:-no}" = yes ]; then
        git -C "$work" clean -q -fdx -e /debian/
    fi
    # Makefile.am includes debian/automake.mk, which pristine 4.0.0 (the
    # Debian orig tarball) leaves out: see materialise.sh.
    mkdir -p "$work/debian"
    [ -f "$work/debian/automake.mk" ] || : > "$work/debian/automake.mk"

    if ! OVS_TREE=$work "$top/tools/build.sh" > "$logs/$i-build.log" 2>&1; then
        tail -n 30 "$logs/$i-build.log"
        die "patch $i/$n does not build (logs: $logs/$i-build.log," \
            "$work/make.log)"
    fi
    [ "$run_tests" = yes ] || continue

    make -s -C "$work" tests/testsuite > "$logs/$i-testsuite.log" 2>&1 \
        || { tail -n 30 "$logs/$i-testsuite.log"
             die "patch $i/$n: tests/testsuite does not build"; }
    # shellcheck disable=SC2086
    listed=$("$work/tests/testsuite" -l $flags |
             grep -cE '^ *[0-9]+: ' || true)
    if [ "${listed:-0}" = 0 ]; then
        note "patch $i/$n builds; no test matches '$flags' yet"
        continue
    fi
    # shellcheck disable=SC2086
    testsuite -j$((jobs + 1)) $flags > "$logs/$i-tests.log"
    failed=$(awk '/ FAILED \(/ { print $1 + 0 }' "$logs/$i-tests.log" | xargs)
    if [ -n "$failed" ]; then
        note "patch $i/$n: re-running failed tests once: $failed"
        testsuite $failed > "$logs/$i-recheck.log"
        for t in $failed; do
            if grep -qE "^ *$t: .* ok$" "$logs/$i-recheck.log"; then
                sed -i -E "s/^( *$t: .*) FAILED \(.*\)$/\1 ok (flaky)/" \
                    "$logs/$i-tests.log"
            fi
        done
    fi
    read -r passed nfailed skipped < <(count < "$logs/$i-tests.log")
    note "patch $i/$n builds; tests: $passed passed, $nfailed failed," \
         "$skipped skipped"
    if [ "$nfailed" != 0 ]; then
        grep -E ' (FAILED \(.*\)|UNEXPECTED PASS)$' "$logs/$i-tests.log"
        die "patch $i/$n: tests fail (logs in $work/tests/testsuite.dir)"
    fi
done
note "patches $first to $last of $n build$([ "$run_tests" = yes ] &&
      echo " and pass their tests") ($((SECONDS - start)) s)"
