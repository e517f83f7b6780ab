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

# Runs upstream's conntrack system tests for the userspace datapath
# ("make check-system-userspace TESTSUITEFLAGS='-k conntrack'": network
# namespaces, veth pairs, real traffic) on pristine 4.0.0 (build/pristine)
# and then on ours, built in a tree of its own (build/system) with
# other_config:hw-offload=true in every test, and reports the tests that
# fail only with ours, matched by title.  The keyword takes the NAT, ALG
# and fragmentation tests too: all are titled "conntrack - ...".  TESTS
# replaces "-k conntrack" (e.g. TESTS="69 70").  Needs root.  Not part of
# CI: on 2 cores each tree takes 7 to 12 minutes to build the first time,
# then about 22 minutes of tests.  Logs in build/check-system/.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

system=$top/build/system
logdir=$top/build/check-system
suite=tests/system-userspace-testsuite
tests=${TESTS:--k conntrack}
mkdir -p "$logdir"

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, veth pairs)"
DEPS_SYSTEM=yes "$top/tools/deps.sh"

build_pristine
OVS_TREE=$system "$top/tools/materialise.sh"
OVS_TREE=$system DPDK_PREFIX= "$top/tools/build.sh"

pass='ok|expected failure \(.*\)'
fail='FAILED \(.*\)|UNEXPECTED PASS'
skip='skipped \(.*\)'

# Titles of the tests of run NAME whose result matches the regular
# expression RE.  Results read " 69: conntrack - IPv4 ping      ok".
titles() {
    { grep -E " ($2)\$" "$logdir/$1.results" || true; } |
        sed -E "s/^ *[0-9]+: +//; s/ +($2)\$//" | sort
}
count() { titles "$@" | grep -c . || true; }

# Runs the selected tests of TREE's SUITE (a testsuite script) with the
# Makefile's recipe and prints the counts.  The run gets network and mount
# namespaces of its own, with an empty /run/netns, so that the fixed names
# of the tests (ovs-netdev, br0, at_ns0, ...) cannot clash with another
# userspace datapath on this host, and nothing a test leaves survives it.
run_system() {
    local t=$1 name=$2 s=$3 start=$SECONDS
    note "running the system tests '$tests' in $t ($name)"
    unshare --net --mount -- sh -c '
        mkdir -p /run/netns && mount -t tmpfs none /run/netns &&
        ip link set lo up && exec "$@"' sh \
        make -C "$t" check-system-userspace SYSTEM_USERSPACE_TESTSUITE="$s" \
             TESTSUITEFLAGS="$tests" > "$logdir/$name.log" 2>&1 || true
    cp "$t/$s.log" "$logdir/$name.testsuite.log"
    grep -E '^ *[0-9]+: ' "$logdir/$name.log" > "$logdir/$name.results" || true
    titles "$name" "$fail" > "$logdir/$name.failed"
    echo "$name: $(grep -c . "$logdir/$name.results" || true) tests," \
         "$(count "$name" "$pass") passed, $(count "$name" "$fail") failed," \
         "$(count "$name" "$skip") skipped ($(( (SECONDS - start) / 60 )) minutes)"
}

# hw-offload=true in every test of ours: _OVS_VSWITCHD_START runs
# "ovs-vsctl --no-wait init" (a line that echoes it, a line that runs it)
# before it starts ovs-vswitchd.  The "Flow/Conntrack HW offload is
# enabled" lines ovs-vswitchd then prints are in the harness's stderr
# filter already.
make -s -C "$pristine" "$suite"
make -s -C "$system" "$suite"
sed -E 's/(ovs-vsctl --no-wait init)( ?"?)$/\1 -- set Open_vSwitch . other_config:hw-offload=true\2/' \
    "$system/$suite" > "$system/$suite-hwol"
grep -q 'init -- set Open_vSwitch . other_config:hw-offload=true$' \
    "$system/$suite-hwol" || die "no 'ovs-vsctl --no-wait init' in $suite"

run_system "$pristine" pristine "$suite"
run_system "$system" ours "$suite-hwol"

new=$(comm -12 "$logdir/ours.failed" <(titles pristine "$pass"))
if [ -n "$new" ]; then
    echo "Fail with our patches but pass on pristine 4.0.0:"
    sed 's/^/  /' <<< "$new"
fi
echo "$(count ours "$pass") passed, $(printf '%s' "$new" | grep -c . || true) failed"
[ -z "$new" ]
