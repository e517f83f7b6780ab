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
# namespaces, veth pairs, real traffic) three ways:
#
#   pristine  pristine 4.0.0 (build/pristine);
#   off       ours (built in a tree of its own, build/system), with
#             hardware offload off, as upstream runs them;
#   active    ours with other_config:hw-offload=true and the emulated
#             conntrack offload hardware on the veth ports
#             (other_config:hw-offload-ct-test-emulation=true, set by
#             OVS_TRAFFIC_VSWITCHD_START when OVS_CT_OFFLOAD_TEST_EMULATION
#             names a directory), so that connections are offloaded and
#             received packets are resolved by the emulated hardware.
#
# It prints the tests whose result differs between the runs (matched by
# title), and per test of the active run the connections that were
# offloaded and the packets that hardware resolved, as recorded by
# OVS_TRAFFIC_VSWITCHD_STOP.  It fails if a test that passes on pristine
# 4.0.0 fails in either run of ours.  The keyword takes the NAT, ALG and
# fragmentation tests too: all are titled "conntrack - ...".  TESTS
# replaces "-k conntrack" (e.g. TESTS="69 70"); RUNS selects the runs to
# (re)do, e.g. RUNS="active", and the table then shows the latest results
# of the others.  OURS=DIR uses an already built tree of ours instead of
# materialising and building build/system; LOGDIR=DIR keeps the logs and
# results in DIR instead of build/check-system/.  Needs root.  Not part of
# CI: on 2 cores each tree takes 7 to 12 minutes to build the first time,
# then about 20 minutes of tests per run.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
export LC_ALL=C                 # One collation for sort, join and comm.
unset OVS_CT_OFFLOAD_TEST_EMULATION

system=$(realpath -m "${OURS:-$top/build/system}")
logdir=${LOGDIR:-$top/build/check-system}
suite=tests/system-userspace-testsuite
tests=${TESTS:--k conntrack}
runs=${RUNS:-pristine off active}
mkdir -p "$logdir"

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, veth pairs)"
DEPS_SYSTEM=yes "$top/tools/deps.sh"

case " $runs " in *" pristine "*) build_pristine ;; esac
case " $runs " in
*" off "* | *" active "*)
    if [ -z "${OURS:-}" ]; then
        OVS_TREE=$system "$top/tools/materialise.sh"
        OVS_TREE=$system DPDK_PREFIX= "$top/tools/build.sh"
    fi
    ;;
esac

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

# "NUMBER<tab>RESULT<tab>TITLE" for each test of run NAME, RESULT one of
# ok, xfail, FAILED, skipped.
numbered() {
    sed -E 's/^ *([0-9]+): +(.*[^ ]) +ok$/\1\tok\t\2/
            s/^ *([0-9]+): +(.*[^ ]) +expected failure \(.*\)$/\1\txfail\t\2/
            s/^ *([0-9]+): +(.*[^ ]) +(FAILED \(.*\)|UNEXPECTED PASS)$/\1\tFAILED\t\2/
            s/^ *([0-9]+): +(.*[^ ]) +skipped \(.*\)$/\1\tskipped\t\2/' \
        "$logdir/$1.results"
}

# "TITLE<tab>RESULT" for each test of run NAME, sorted by title.
results() {
    numbered "$1" | awk -F '\t' '{ print $3 "\t" $2 }' | sort
}

# Runs the selected tests of TREE's SUITE (a testsuite script) with the
# Makefile's recipe and prints the counts.  The run gets network and mount
# namespaces of its own, with an empty /run/netns, so that the fixed names
# of the tests (ovs-netdev, br0, at_ns0, ...) cannot clash with another
# userspace datapath on this host, and nothing a test leaves survives it.
run_system() {
    local t=$1 name=$2 start=$SECONDS
    shift 2
    note "running the system tests '$tests' in $t ($name)"
    # A copy of the testsuite per run, so that runs in one tree have
    # directories and logs of their own and can run at the same time.
    cp "$t/$suite" "$t/$suite-$name"
    unshare --net --mount -- sh -c '
        mkdir -p /run/netns && mount -t tmpfs none /run/netns &&
        ip link set lo up && exec "$@"' sh \
        make -C "$t" check-system-userspace TESTSUITEFLAGS="$tests" \
             SYSTEM_USERSPACE_TESTSUITE="$suite-$name" "$@" \
             > "$logdir/$name.log" 2>&1 || true
    cp "$t/$suite-$name.log" "$logdir/$name.testsuite.log"
    grep -E '^ *[0-9]+: ' "$logdir/$name.log" > "$logdir/$name.results" || true
    titles "$name" "$fail" > "$logdir/$name.failed"
    echo "$name: $(grep -c . "$logdir/$name.results" || true) tests," \
         "$(count "$name" "$pass") passed, $(count "$name" "$fail") failed," \
         "$(count "$name" "$skip") skipped ($(( (SECONDS - start) / 60 )) minutes)"
}

# Prints "NUMBER OFFLOADED HW_HIT SKIPPED DUMPS" for each test of the
# active run that recorded its figures: connections programmed in hardware
# (summed over the provider instances), packets that the emulated hardware
# resolved (ct_offload_hw_hit), lookups that conntrack then skipped, and
# dumps of dpctl/dump-conntrack that showed a connection in hardware.
offload_figures() {
    local f n
    for f in "$logdir/active.offload"/*.txt; do
        [ -e "$f" ] || continue
        n=${f##*/}
        sed -nE 's/^ct_offload_hw_hit: ([0-9]+)$/hit \1/p
                 s/^conntrack_offload_lookup_skipped: ([0-9]+)$/skip \1/p
                 s/^ +added: [0-9]+, offloaded: ([0-9]+),.*/off \1/p
                 s/^hw_offload_dump$/dump 1/p' "$f" |
            awk -v n="${n%.txt}" '
                { v[$1] += $2 }
                END { print n, v["off"] + 0, v["hit"] + 0, v["skip"] + 0,
                            v["dump"] + 0 }'
    done | sort -n
}

# dpctl/dump-conntrack ends the connections that are in hardware with
# ",hw_offload" (as for the kernel's [HW_OFFLOAD] flag), which upstream's
# expected outputs predate.  The active run puts this wrapper of TREE's
# ovs-appctl in DIR first in the tests' PATH: it drops the mark, so that
# the tests go on to check the rest, and counts in the test's figures the
# dumps that showed a connection in hardware.
appctl_wrapper() {
    mkdir -p "$2"
    cat > "$2/ovs-appctl" <<EOF
#!/bin/sh
real=$1/utilities/ovs-appctl
case " \$* " in
*" dpctl/dump-conntrack "*) ;;
*) exec "\$real" "\$@" ;;
esac
out=\$(mktemp) || exit 1
"\$real" "\$@" > "\$out"
rc=\$?
if grep -q ',hw_offload' "\$out"; then
    # The test's directory is named after its number.
    echo "hw_offload_dump" \\
        >> "$logdir/active.offload/\$(basename "\$PWD" | sed 's/^0*//').txt"
fi
sed 's/,hw_offload.*\$//' "\$out"
rm -f "\$out"
exit \$rc
EOF
    chmod +x "$2/ovs-appctl"
}

# TREE's AUTOTEST_PATH, from its Makefile.
autotest_path() {
    printf 'print-autotest-path:\n\t@echo $(AUTOTEST_PATH)\n' |
        make -s --no-print-directory -C "$1" -f Makefile -f - \
             print-autotest-path
}

# Built before the runs, so that "make check-system-userspace" finds
# nothing to do in a tree that two runs share.
for run in $runs; do
    case $run in
    pristine)
        make -s -C "$pristine" all "$suite"
        ;;
    off | active)
        make -s -C "$system" all "$suite"
        grep -q OVS_CT_OFFLOAD_TEST_EMULATION "$system/$suite" ||
            die "OVS_TRAFFIC_VSWITCHD_START of $system ignores" \
                "OVS_CT_OFFLOAD_TEST_EMULATION"
        ;;
    *)
        die "unknown run '$run' (pristine, off, active)"
        ;;
    esac
done

run() {
    case $1 in
    pristine)
        run_system "$pristine" pristine
        ;;
    off)
        run_system "$system" off
        ;;
    active)
        rm -rf "$logdir/active.offload"
        mkdir "$logdir/active.offload"
        appctl_wrapper "$system" "$logdir/active.bin"
        OVS_CT_OFFLOAD_TEST_EMULATION=$logdir/active.offload \
            run_system "$system" active \
            AUTOTEST_PATH="$logdir/active.bin:$(autotest_path "$system")"
        ;;
    esac
}

# PARALLEL=yes runs them at the same time, each in namespaces of its own:
# the tests mostly wait, but a test that fails only then may be a victim
# of the load (re-run it alone with TESTS and RUNS).
pids=
for run in $runs; do
    rm -f "$logdir/$run.results" "$logdir/$run.failed"
    if [ "${PARALLEL:-no}" = yes ]; then
        run "$run" &
        pids="$pids $!"
    else
        run "$run"
    fi
done
for pid in $pids; do
    wait "$pid" || die "a run failed (see $logdir)"
done

# The table of differing results, with the latest results of each run
# (also of runs that RUNS left out).
set --
for run in pristine off active; do
    [ ! -f "$logdir/$run.results" ] || set -- "$@" "$run"
done
if [ $# -gt 1 ]; then
    join_all=$(results "$1")
    for run in "${@:2}"; do
        join_all=$(join -t $'\t' -a 1 -a 2 -e - -o auto \
                       <(printf '%s\n' "$join_all") <(results "$run"))
    done
    diffs=$(awk -F '\t' '{ for (i = 3; i <= NF; i++) {
                               if ($i != $2) { print; next } } }' \
                <<< "$join_all")
    if [ -n "$diffs" ]; then
        echo "Tests whose result differs:"
        { printf 'test'; printf '\t%s' "$@"; echo
          printf '%s\n' "$diffs"; } | column -t -s $'\t' | sed 's/^/  /'
    else
        echo "No test's result differs between the runs ($*)."
    fi
fi

# What the active run offloaded, per test: a table of all its tests in
# build/check-system/active.offload.txt, and a summary.
if [ -d "$logdir/active.offload" ]; then
    offload_figures | tr ' ' '\t' > "$logdir/active.figures"
    {
        printf 'test\tresult\toffloaded\thw_hit\tlookup_skipped'
        printf '\thw_dumps\ttitle\n'
        numbered active |
            awk -F '\t' 'FILENAME == ARGV[1] { f[$1] = $2 "\t" $3 "\t" $4 "\t" $5
                                               next }
                         { print $1 "\t" $2 "\t" \
                                 ($1 in f ? f[$1] : "-\t-\t-\t-") "\t" $3 }' \
                "$logdir/active.figures" -
    } > "$logdir/active.offload.txt"
    awk -F '\t' 'NR > 1 && $2 == "ok" && $3 != "-" {
                     n++; o += $3 > 0; h += $4 > 0; s += $5 > 0; d += $6 > 0
                     to += $3; th += $4
                 }
                 END {
                     printf "active: of %d passed tests, %d offloaded >= 1 " \
                            "connection, %d had >= 1 packet resolved by " \
                            "hardware (%d >= 1 lookup skipped), %d showed " \
                            "a connection in hardware in dump-conntrack; " \
                            "%d connections offloaded, %d packets " \
                            "resolved in all\n", n, o, h, s, d, to, th
                 }' "$logdir/active.offload.txt"
    echo "Per-test figures: $logdir/active.offload.txt"
fi

status=0
for run in off active; do
    [ -f "$logdir/$run.failed" ] && [ -f "$logdir/pristine.results" ] ||
        continue
    new=$(comm -12 "$logdir/$run.failed" <(titles pristine "$pass"))
    if [ -n "$new" ]; then
        echo "Fail in '$run' but pass on pristine 4.0.0:"
        sed 's/^/  /' <<< "$new"
        status=1
    fi
done
exit $status
