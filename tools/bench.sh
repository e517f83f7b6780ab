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

# "make bench": the cost and the gain of conntrack offload.
#
# Builds pristine 4.0.0 in build/bench/pristine and the patched tree in
# build/bench/ours (each once; later runs rebuild only what changed, and
# ccache makes a rebuild of a removed tree cheap), then measures:
#
#   1. zero cost when disabled: upstream's "ovstest test-conntrack
#      benchmark" and "pcap" on pristine and ours, wall time (interleaved,
#      median) and instructions in conntrack_execute() (callgrind);
#   2. PMD cost per new connection, offload active vs inactive;
#   3. PMD cost per packet that hardware resolved vs software lookup;
#   4. offload thread throughput and latency;
#   5. memory and times at 100k and 1M connections.
#
# 2 to 5 are "ovstest test-ct-offload-bench" (tests/test-ct-offload-bench.c).
# Prints a table, writes build/bench/results.json, and ends with a line of
# headline ratios.  The measurements take about 3 minutes on 2 cores; the
# first build of each tree about 5 more.  Times suffer from other jobs on
# the machine (the table shows the load average); instruction counts do
# not.
#
# Environment: JOBS (make -j), BENCH_RUNS (runs per tree and variant of the
# upstream benchmark, at least 5), BENCH_QUICK=yes (small sizes, to try the
# script out).

set -euo pipefail
. "$(dirname "$0")/lib.sh"

bench=$top/build/bench
ours=$bench/ours
pristine=$bench/pristine
raw=$bench/raw
bench_src=tests/test-ct-offload-bench.c
python=/usr/bin/python3

runs=${BENCH_RUNS:-9}
[ "$runs" -ge 5 ] || die "BENCH_RUNS must be at least 5"
if [ "${BENCH_QUICK:-no}" = yes ]; then
    zc_pkts=200000 cg_pkts=20000 pcap_convs=2000
    nc_conns=5000 nc_rounds=5 hit_conns=5000 hit_rounds=5 cg_conns=2000
    pipe_conns=50000 pipe_idle=100 scale_sizes="10000 100000"
else
    zc_pkts=5000000 cg_pkts=100000 pcap_convs=40000
    nc_conns=50000 nc_rounds=11 hit_conns=50000 hit_rounds=11 cg_conns=10000
    pipe_conns=500000 pipe_idle=1000 scale_sizes="100000 1000000"
fi

# Trees.

prepare_pristine() {
    if [ ! -d "$pristine" ]; then
        rm -rf "$pristine.tmp"
        "$top/tools/fetch-ovs.sh" "$pristine.tmp"
        mkdir -p "$pristine.tmp/debian"
        : > "$pristine.tmp/debian/automake.mk"
        # The tarball's generated files come from another autotools
        # version: boot.sh makes them again, as for the patched tree.
        rm -f "$pristine.tmp/configure"
        mv "$pristine.tmp" "$pristine"
    fi
    OVS_TREE=$pristine "$top/tools/build.sh"
}

# Writes to $work/tests/automake.mk, in a scratch git repository, the
# tests/automake.mk that the series makes of the pristine one, and prints
# "yes" if it builds the benchmark.
series_automake() {
    local p _
    rm -rf "$work"
    mkdir -p "$work/tests"
    git -C "$work" init -q
    cp "$pristine/tests/automake.mk" "$work/tests/automake.mk"
    series_entries | while read -r p _; do
        if grep -q '^diff --git' "$top/patches/$p"; then
            (cd "$work" &&
             git apply --include=tests/automake.mk "$top/patches/$p") \
                || die "patches/$p does not apply to tests/automake.mk"
        fi
    done
    git -C "$work" add tests/automake.mk
    if grep -q "$bench_src" "$work/tests/automake.mk"; then
        echo yes
    fi
}

# Materialises our tree from a copy of the repository that has only the
# new files that patches/series lists, plus a last patch that lists and
# builds the benchmark if the series does not (yet).  materialise.sh
# refuses the repository itself while a new file is not listed, which
# happens while someone works on one.
materialise_listed() {
    local shadow=$bench/src listed=$1 built=$2
    local patch=9999-tests-Build-the-conntrack-offload-benchmark.patch

    rm -rf "$shadow"
    mkdir -p "$shadow"
    {
        (cd "$top" && git ls-files --cached --others --exclude-standard \
                          -- .gitignore patches tools)
        series_entries | tr ' ' '\n' | grep -v '\.patch$' || true
        echo "$bench_src"
    } | sort -u | (cd "$top" && tar -T - --ignore-failed-read -cf -) |
        tar -xf - -C "$shadow"
    git -C "$shadow" init -q

    if [ -z "$built" ] || [ -z "$listed" ]; then
        if [ -z "$built" ]; then
            sed -i 's|^\ttests/test-ct-offload\.c \\$|&\n\ttests/test-ct-offload-bench.c \\|' \
                "$work/tests/automake.mk"
            grep -q "$bench_src" "$work/tests/automake.mk" \
                || die "could not add $bench_src to tests/automake.mk"
        fi
        {
            printf 'From: ct-offload bench <bench@localhost>\n'
            printf 'Subject: [PATCH] tests: Build the conntrack offload'
            printf ' benchmark.\n\nAdded by tools/bench.sh while the'
            printf ' series does not build\n%s.\n---\n' "$bench_src"
            git -C "$work" diff
        } > "$shadow/patches/$patch"
        printf '%s\n' "$patch" >> "$shadow/patches/series"
        if [ -z "$listed" ]; then
            printf '    %s\n' "$bench_src" >> "$shadow/patches/series"
        fi
    fi

    OVS_TREE=$ours "$shadow/tools/materialise.sh"
}

prepare_ours() {
    local work=$bench/automake listed built

    listed=$(series_entries | grep -qw -- "$bench_src" && echo yes || true)
    built=$(series_automake)
    if [ -z "$listed" ] || [ -z "$built" ]; then
        note "the series does not $([ -n "$listed" ] && echo build ||
                                       echo list) $bench_src:" \
             "adding it through a temporary last patch"
        materialise_listed "$listed" "$built"
    elif ! OVS_TREE=$ours "$top/tools/materialise.sh" \
             > "$bench/materialise.log" 2>&1; then
        cat "$bench/materialise.log"
        note "materialising only the files that patches/series lists"
        materialise_listed "$listed" "$built"
    fi
    rm -rf "$work"
    grep -q "$bench_src" "$ours/tests/automake.mk" \
        || die "$ours/tests/automake.mk does not build $bench_src"
    OVS_TREE=$ours "$top/tools/build.sh"
}

# Measurements.  Every sample goes to $raw/samples as "KEY VALUE", every
# command line run to $raw/commands.

sample() {
    echo "$1 $2" >> "$raw/samples"
}

# Runs COMMAND... after noting its command line.
logged() {
    echo "$*" >> "$raw/commands"
    "$@"
}

# Runs "ovstest test-ct-offload-bench ARGS..." of our tree and records each
# "key=value" line it prints, with the key's first component replaced by
# PREFIX if that is not empty.
run_bench() {
    local prefix=$1 out k v
    shift
    out=$(logged "$ours/tests/ovstest" test-ct-offload-bench "$@") \
        || die "ovstest test-ct-offload-bench $* failed"
    while IFS='=' read -r k v; do
        if [ -n "$v" ] && [ -n "$prefix" ]; then
            sample "$prefix${k#*.}" "$v"
        elif [ -n "$v" ]; then
            sample "$k" "$v"
        fi
    done <<< "$out"
}

# Prints the instructions that callgrind counted in the function TOGGLE
# (and in what it calls) while running COMMAND...
callgrind_count() {
    local toggle=$1 file
    shift
    file=$(mktemp "$raw/callgrind.XXXXXX")
    logged valgrind --tool=callgrind --callgrind-out-file="$file" \
           --toggle-collect="$toggle" "$@" > "$raw/callgrind.log" 2>&1 \
        || { tail -n 20 "$raw/callgrind.log"; die "callgrind $* failed"; }
    awk '/^(summary|totals):/ { n = $2 } END { print n + 0 }' "$file"
    rm -f "$file"
}

tree_bin() {
    case $1 in
        ours) echo "$ours/tests/ovstest" ;;
        pristine) echo "$pristine/tests/ovstest" ;;
    esac
}

# The tree order of run R: alternating, so that neither tree always runs
# right after the other one.
tree_order() {
    if (( $1 % 2 )); then echo "pristine ours"; else echo "ours pristine"; fi
}

loadavg() {
    cut -d' ' -f1 /proc/loadavg
}

# Runs COMMAND... with its output to $raw/out and prints its wall time and
# CPU time (user + system, all threads), in milliseconds.  CPU time leaves
# out the time other jobs on the machine take the CPU from it.
timed() {
    echo "$*" >> "$raw/commands"
    "$python" -c '
import os, subprocess, sys, time
with open(sys.argv[1], "w") as out:
    start = time.monotonic()
    p = subprocess.Popen(sys.argv[2:], stdout=out)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
if status:
    sys.exit("%s failed" % " ".join(sys.argv[2:]))
print("%.3f %.3f" % (wall * 1e3, (ru.ru_utime + ru.ru_stime) * 1e3))
' "$raw/out" "$@"
}

zero_cost() {
    local variants="same:0 change:1" v name arg r t bin ms times

    note "1/5 zero cost: test-conntrack benchmark, $runs runs of" \
         "$zc_pkts packets per tree and variant"
    for r in $(seq "$runs"); do
        for v in $variants; do
            name=${v%:*} arg=${v#*:}
            for t in $(tree_order "$r"); do
                bin=$(tree_bin "$t")
                times=$(timed "$bin" test-conntrack benchmark 1 "$zc_pkts" \
                            32 "$arg")
                ms=$(sed -n 's/^conntrack: *\([0-9]*\) ms$/\1/p' "$raw/out")
                [ -n "$ms" ] || die "test-conntrack benchmark printed no time"
                sample "zc.bench_$name.$t.wall_ms" "$ms"
                sample "zc.bench_$name.$t.cpu_ms" "${times#* }"
            done
        done
    done

    note "1/5 zero cost: pcap of $pcap_convs conversations"
    "$python" - "$raw/convs.pcap" "$pcap_convs" <<'EOF'
# Writes a pcap of N short conversations, half TCP (handshake, a data
# segment each way, FIN each way, last ACK) and half UDP (a request and a
# reply), up to 64 in flight at once, with valid checksums.
import struct
import sys

path, n = sys.argv[1], int(sys.argv[2])


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def packet(src, dst, proto, l4):
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 0, 0x4000, 64,
                     proto, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    pseudo = src + dst + struct.pack('!BBH', 0, proto, len(l4))
    c = csum(pseudo + l4)
    off = 16 if proto == 6 else 6
    l4 = l4[:off] + struct.pack('!H', c or 0xffff) + l4[off + 2:]
    eth = b'\x50\x54\x00\x00\x00\x02\x50\x54\x00\x00\x00\x01\x08\x00'
    return eth + ip + l4


def tcp(sport, dport, seq, ack, flags, payload=b''):
    return struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags,
                       65535, 0, 0) + payload


def udp(sport, dport, payload):
    return struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload


def conversation(i):
    c = bytes([10, 1, (i >> 8) & 0xff, i & 0xff])
    s = bytes([10, 2, 0, 1 + i % 200])
    cp, sp = 1024 + i % 60000, 80 if i % 2 == 0 else 53
    if i % 2:
        yield packet(c, s, 17, udp(cp, sp, b'q' * 32))
        yield packet(s, c, 17, udp(sp, cp, b'r' * 64))
        return
    SYN, ACK, FIN, PSH = 2, 16, 1, 8
    a, b, d = 1000, 5000, b'x' * 100
    yield packet(c, s, 6, tcp(cp, sp, a, 0, SYN))
    yield packet(s, c, 6, tcp(sp, cp, b, a + 1, SYN | ACK))
    yield packet(c, s, 6, tcp(cp, sp, a + 1, b + 1, ACK))
    yield packet(c, s, 6, tcp(cp, sp, a + 1, b + 1, PSH | ACK, d))
    yield packet(s, c, 6, tcp(sp, cp, b + 1, a + 101, PSH | ACK, d))
    yield packet(c, s, 6, tcp(cp, sp, a + 101, b + 101, FIN | ACK))
    yield packet(s, c, 6, tcp(sp, cp, b + 101, a + 102, FIN | ACK))
    yield packet(c, s, 6, tcp(cp, sp, a + 102, b + 102, ACK))


with open(path, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    t = 0
    active, nxt = [], 0
    while active or nxt < n:
        while len(active) < 64 and nxt < n:
            active.append(conversation(nxt))
            nxt += 1
        for conv in list(active):
            p = next(conv, None)
            if p is None:
                active.remove(conv)
                continue
            t += 1
            f.write(struct.pack('<IIII', t // 1000000, t % 1000000, len(p),
                                len(p)))
            f.write(p)
EOF
    for r in $(seq "$runs"); do
        for t in $(tree_order "$r"); do
            bin=$(tree_bin "$t")
            times=$(timed "$bin" test-conntrack pcap "$raw/convs.pcap" 32)
            sample "zc.pcap.$t.wall_ms" "${times% *}"
            sample "zc.pcap.$t.cpu_ms" "${times#* }"
            sample "zc.pcap.$t.packets" "$(grep -c . "$raw/out")"
        done
    done

    note "1/5 zero cost: instructions in conntrack_execute() (callgrind)"
    for t in pristine ours; do
        bin=$(tree_bin "$t")
        for v in $variants; do
            name=${v%:*} arg=${v#*:}
            sample "zc.bench_$name.$t.instructions" \
                "$(callgrind_count conntrack_execute "$bin" \
                       test-conntrack benchmark 1 "$cg_pkts" 32 "$arg")"
        done
        sample "zc.pcap.$t.instructions" \
            "$(callgrind_count conntrack_execute "$bin" \
                   test-conntrack pcap "$raw/convs.pcap" 32)"
    done
}

pmd_new_conn() {
    local m

    note "2/5 PMD cost per new connection: $nc_conns connections," \
         "$nc_rounds rounds per mode"
    run_bench "" new-conn "$nc_conns" "$nc_rounds" both
    for m in on off; do
        sample "new_conn.$m.commit_instructions" \
            "$(callgrind_count bench_new_conn "$ours/tests/ovstest" \
                   test-ct-offload-bench new-conn "$cg_conns" 1 "$m")"
        sample "new_conn.$m.reply_instructions" \
            "$(callgrind_count bench_first_reply "$ours/tests/ovstest" \
                   test-ct-offload-bench new-conn "$cg_conns" 1 "$m")"
    done
}

pmd_hw_hit() {
    local m

    note "3/5 PMD cost per offloaded packet: $hit_conns connections," \
         "$hit_rounds rounds per path"
    run_bench "" hw-hit "$hit_conns" "$hit_rounds" both
    for m in hw sw; do
        sample "hw_hit.$m.instructions" \
            "$(callgrind_count bench_hit "$ours/tests/ovstest" \
                   test-ct-offload-bench hw-hit "$cg_conns" 1 "$m")"
    done
}

pipeline() {
    note "4/5 offload thread: $pipe_conns connections," \
         "$pipe_idle one at a time"
    run_bench "" pipeline "$pipe_conns" "$pipe_idle"
}

scale() {
    local n m

    # One process per point: freed memory does not leave the resident set.
    for n in $scale_sizes; do
        for m in off on; do
            note "5/5 scale: $n connections, offload $m"
            run_bench "scale.$n.$m." scale "$n" "$m"
        done
    done
}

# Callgrind counts instructions: "perf stat -e instructions" has no
# hardware counter to read in these virtual machines.
if ! command -v valgrind > /dev/null; then
    note "installing valgrind"
    SUDO=
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends valgrind > /dev/null
fi

start=$SECONDS
mkdir -p "$bench"
prepare_pristine
prepare_ours
note "trees ready after $((SECONDS - start)) s"

rm -rf "$raw"
mkdir -p "$raw"
: > "$raw/commands"
for v in zc_pkts cg_pkts pcap_convs nc_conns nc_rounds hit_conns hit_rounds \
         cg_conns pipe_conns pipe_idle; do
    sample "meta.$v" "${!v}"
done
sample meta.loadavg_start "$(loadavg)"
zero_cost
pmd_new_conn
pmd_hw_hit
pipeline
scale
sample meta.loadavg_end "$(loadavg)"
sample meta.total_seconds "$((SECONDS - start))"

"$python" - "$raw/samples" "$raw/commands" "$bench/results.json" <<'EOF'
# Turns the samples into a table on stdout and a JSON file, and prints the
# headline ratios last.
import json
import os
import statistics
import sys
import time

samples_file, commands_file, json_file = sys.argv[1:4]
samples = {}
with open(samples_file) as f:
    for line in f:
        k, v = line.split()
        samples.setdefault(k, []).append(float(v))
with open(commands_file) as f:
    commands = list(dict.fromkeys(line.rstrip('\n') for line in f))

results = {'samples': samples, 'commands': commands, 'targets': []}
lines = []


def med(key):
    v = samples.get(key)
    return statistics.median(v) if v else None


def per(key, n_key):
    v, n = med(key), med(n_key)
    return v / n if v is not None and n else None


def div(a, b):
    return a / b if a is not None and b else None


def fmt(v, spec):
    return format(v, spec) if v is not None else 'n/a'


def out(s=''):
    lines.append(s)


def target(name, value, op, limit, unit=''):
    met = (None if value is None
           else value <= limit if op == '<='
           else value < limit if op == '<'
           else value >= limit)
    results['targets'].append({'name': name, 'value': value,
                               'target': '%s %s%s' % (op, limit, unit),
                               'met': met})
    return '%s %s%s %s' % (op, limit, unit, {True: 'met', False: 'MISSED',
                                             None: 'n/a'}[met])


ROW = '   %-46s %10s %10s %7s  %s'

out('Conntrack offload benchmark: Open vSwitch 4.0.0 + series ("ours") vs '
    'pristine 4.0.0')
out('%s, %d cores, load average %s at start, %s at end.' % (
    time.strftime('%Y-%m-%d %H:%M'), os.cpu_count(),
    fmt(med('meta.loadavg_start'), '.2f'),
    fmt(med('meta.loadavg_end'), '.2f')))
out('Times are medians of interleaved runs (other jobs on the machine add '
    'noise to them);')
out('"Ir" is instructions counted by valgrind --tool=callgrind '
    '(deterministic; perf has no')
out('instruction counter on this VM), in the timed function and its '
    'callees only.')

# 1. Zero cost.
out()
out('1. Zero cost when disabled: ovstest test-conntrack, offload not enabled')
out('   benchmark: 1 thread, %s packets, batch 32, %d runs per tree; Ir: '
    '%s packets' % (fmt(med('meta.zc_pkts'), ',.0f'),
                    len(samples.get('zc.bench_same.ours.wall_ms', [])),
                    fmt(med('meta.cg_pkts'), ',.0f')))
out('   pcap: %s conversations (half TCP, 8 packets; half UDP, 2), %s '
    'packets, batch 32' % (fmt(med('meta.pcap_convs'), ',.0f'),
                           fmt(med('zc.pcap.ours.packets'), ',.0f')))
out(ROW % ('', 'pristine', 'ours', 'ratio', 'target'))
zc = {}
worst = {'wall_ms': None, 'cpu_ms': None, 'instructions': None}
for name, label in (('bench_same', 'benchmark'),
                    ('bench_change', 'benchmark change_conn'),
                    ('pcap', 'pcap')):
    for what, desc, spec, limit in (
            ('wall_ms', 'wall ms', '.1f', 1.01),
            ('cpu_ms', 'CPU ms, process', '.1f', 1.01),
            ('instructions', 'Ir in conntrack_execute', '.0f', 1.005)):
        p = med('zc.%s.pristine.%s' % (name, what))
        o = med('zc.%s.ours.%s' % (name, what))
        r = div(o, p)
        zc['%s.%s' % (name, what)] = {'pristine': p, 'ours': o, 'ratio': r}
        if r is not None and (worst[what] is None or r > worst[what]):
            worst[what] = r
        out(ROW % ('%s, %s' % (label, desc), fmt(p, spec), fmt(o, spec),
                   fmt(r, '.4f'), target('zero cost %s %s' % (name, what),
                                         r, '<=', limit)))
target('zero cost wall, worst', worst['wall_ms'], '<=', 1.01)
target('zero cost CPU, worst', worst['cpu_ms'], '<=', 1.01)
target('zero cost Ir, worst', worst['instructions'], '<=', 1.005)
out('   "wall ms" is what the benchmark prints (whole run for pcap); "CPU ms"'
    ' is the')
out('   process\'s user + system time, which preemption by other jobs does '
    'not inflate.')
results['zero_cost'] = zc

# 2. New connections.
out()
out('2. PMD cost per new connection, same binary (ours): offload active '
    '(null provider)')
out('   vs inactive; %s connections x %s rounds per mode, Ir over %s '
    'connections' % (fmt(med('meta.nc_conns'), ',.0f'),
                     fmt(med('meta.nc_rounds'), '.0f'),
                     fmt(med('meta.cg_conns'), ',.0f')))
out(ROW % ('', 'inactive', 'active', 'ratio', 'target'))
nc = {}
for what, label, tgt in (('commit', 'ct(commit) of a new connection', True),
                         ('reply', 'first reply ("established")', False)):
    for kind, unit, spec in (('ns', 'wall ns', '.1f'),
                             ('cpu_ns', 'CPU ns', '.1f'),
                             ('Ir', 'Ir', '.1f'),
                             ('writes', 'write() calls', '.3f')):
        if kind in ('ns', 'cpu_ns'):
            off = med('new_conn.off.%s_%s' % (what, kind))
            on = med('new_conn.on.%s_%s' % (what, kind))
        elif kind == 'Ir':
            off = per('new_conn.off.%s_instructions' % what, 'meta.cg_conns')
            on = per('new_conn.on.%s_instructions' % what, 'meta.cg_conns')
        else:
            off = med('new_conn.off.%s_writes' % what)
            on = med('new_conn.on.%s_writes' % what)
        r = div(on, off) if kind != 'writes' else None
        nc['%s.%s' % (what, kind)] = {'inactive': off, 'active': on,
                                      'ratio': r}
        t = (target('new connection %s %s' % (what, kind), r, '<=', 1.10)
             if tgt and kind != 'writes' else '')
        out(ROW % ('%s, %s' % (label, unit), fmt(off, spec), fmt(on, spec),
                   fmt(r, '.4f') if kind != 'writes' else '', t))
out('   wall ns: in conntrack_execute(); CPU ns: the thread\'s CPU time '
    'for the pass,')
out('   packet metadata resets included; write() calls: the PMD waking the '
    'offload')
out('   thread (latch_set()).  Reached the provider: %s of the connections.'
    % fmt(med('new_conn.on.offered_fraction'), '.2%'))
results['new_conn'] = nc

# 3. Hardware hits.
out()
out('3. PMD cost per packet of an established UDP connection: resolved by '
    'hardware')
out('   (ct_offload_packet_set_conn() first) vs software lookup, ct() '
    'without commit;')
out('   %s connections x %s rounds per path, Ir over %s' % (
    fmt(med('meta.hit_conns'), ',.0f'), fmt(med('meta.hit_rounds'), '.0f'),
    fmt(med('meta.cg_conns'), ',.0f')))
out(ROW % ('', 'software', 'hardware', 'ratio', 'target'))
hh = {}
for kind, sw, hw, spec in (
        ('ns', med('hw_hit.sw.ns_per_pkt'), med('hw_hit.hw.ns_per_pkt'),
         '.1f'),
        ('cpu_ns', med('hw_hit.sw.cpu_ns_per_pkt'),
         med('hw_hit.hw.cpu_ns_per_pkt'), '.1f'),
        ('Ir', per('hw_hit.sw.instructions', 'meta.cg_conns'),
         per('hw_hit.hw.instructions', 'meta.cg_conns'), '.1f')):
    r = div(hw, sw)
    hh[kind] = {'software': sw, 'hardware': hw, 'ratio': r}
    out(ROW % ('ct() per packet, %s' % {'ns': 'wall ns',
                                         'cpu_ns': 'CPU ns'}.get(kind, kind),
               fmt(sw, spec), fmt(hw, spec), fmt(r, '.4f'),
               target('hardware hit %s' % kind, r, '<=', 0.5)))
out('   CPU ns covers the whole pass: metadata resets, and on the hardware '
    'path')
out('   ct_offload_packet_set_conn().  In hardware: %s of the connections;'
    % fmt(med('hw_hit.in_hw_fraction'), '.2%'))
out('   packets whose ct_state was not +trk+est: %s.'
    % fmt(med('hw_hit.bad_state'), '.0f'))
results['hw_hit'] = hh

# 4. Pipeline.
out()
out('4. Offload pipeline, one offload thread, provider that does no work; '
    '%s connections' % fmt(med('meta.pipe_conns'), ',.0f'))
pl = {k[len('pipeline.'):]: med(k) for k in samples
      if k.startswith('pipeline.')}
drain = None
if pl.get('add_est.events_per_s') and pl.get('del.events_per_s'):
    drain = (pl['add_est.events'] + pl['del.events']) / (
        pl['add_est.events'] / pl['add_est.events_per_s']
        + pl['del.events'] / pl['del.events_per_s'])
pl['drain_events_per_s'] = drain
results['pipeline'] = pl
out('   queued backlog drained, add + established: %13s events/s' % fmt(
    pl.get('add_est.events_per_s'), ',.0f'))
out('   queued backlog drained, del:               %13s events/s' % fmt(
    pl.get('del.events_per_s'), ',.0f'))
out('   queued backlog drained, all:               %13s events/s  %s' % (
    fmt(drain, ',.0f'), target('pipeline events/s', drain, '>=', 1000000)))
out('   streaming, PMD-bound (packets built too):  %13s events/s' % fmt(
    pl.get('streaming.events_per_s'), ',.0f'))
out('   latency, reply\'s ct() to conn_established(), us:')
out('     idle, %s connections one at a time: median %s, p99 %s, max %s'
    % (fmt(med('meta.pipe_idle'), ',.0f'),
       fmt(pl.get('idle.latency_p50_us'), '.1f'),
       fmt(pl.get('idle.latency_p99_us'), '.1f'),
       fmt(pl.get('idle.latency_max_us'), '.1f')))
out('       %s' % target('idle latency p99', pl.get('idle.latency_p99_us'),
                         '<', 1000, ' us'))
out('     streaming: median %s, p99 %s, max %s' % (
    fmt(pl.get('streaming.latency_p50_us'), '.1f'),
    fmt(pl.get('streaming.latency_p99_us'), '.1f'),
    fmt(pl.get('streaming.latency_max_us'), '.1f')))
out('   in hardware after the drain: %s of the connections' % fmt(
    pl.get('add_est.in_hw_fraction'), '.2%'))

# 5. Scale.
out()
out('5. Scale, ours: offload active (null provider) vs inactive')
sizes = sorted({int(k.split('.')[1]) for k in samples
                if k.startswith('scale.')})
sc = {}
rows = (('rss_bytes_per_conn', 'RSS per connection, bytes', '.0f'),
        ('setup_ms', 'set up (request + reply), ms', '.0f'),
        ('setup_offloaded_ms', 'set up until all offloaded, ms', '.0f'),
        ('expiry_pass_ms', 'expiry pass, all offloaded, ms', '.1f'),
        ('flush_ms', 'conntrack_flush() + wait, ms', '.1f'),
        ('destroy_ms', 'conntrack_destroy() + wait, ms', '.1f'))
hdr = '   %-32s' % ''
for n in sizes:
    hdr += ' %9s %9s' % ('%dk off' % (n // 1000), '%dk on' % (n // 1000))
if len(sizes) == 2:
    hdr += ' %7s' % 'growth'
out(hdr)
for key, label, spec in rows:
    row = '   %-32s' % label
    for n in sizes:
        for m in ('off', 'on'):
            v = med('scale.%d.%s.%s' % (n, m, key))
            sc.setdefault(str(n), {}).setdefault(m, {})[key] = v
            row += ' %9s' % fmt(v, spec)
    if len(sizes) == 2 and key != 'rss_bytes_per_conn':
        g = div(med('scale.%d.on.%s' % (sizes[1], key)),
                med('scale.%d.on.%s' % (sizes[0], key)))
        sc.setdefault('growth_on', {})[key] = g
        row += ' %7s' % (fmt(g, '.1f') + 'x')
    out(row)
for n in sizes:
    on = med('scale.%d.on.rss_bytes_per_conn' % n)
    off = med('scale.%d.off.rss_bytes_per_conn' % n)
    added = on - off if on is not None and off is not None else None
    sc[str(n)]['added_bytes_per_conn'] = added
    exp = med('scale.%d.on.expiry_pass_ms' % n)
    out('   %dk: offload adds %s bytes per connection; expiry pass %s ns '
        'per connection; in hardware %s' % (
            n // 1000, fmt(added, '.0f'),
            fmt(exp * 1e6 / n if exp is not None else None, '.1f'),
            fmt(med('scale.%d.on.in_hw_fraction' % n), '.2%')))
if len(sizes) == 2:
    out('   growth: on, %dk -> %dk (linear is %.0fx)' % (
        sizes[0] // 1000, sizes[1] // 1000, sizes[1] / sizes[0]))
out('   sizeof(struct ct_offload_conn) = %s bytes, the providers\' view; '
    'the core\'s' % fmt(med('scale.%d.on.sizeof_ct_offload_conn'
                            % sizes[0]) if sizes else None, '.0f'))
out('   struct around it is private, hence RSS.  struct conn grows by one '
    'pointer (+8 bytes).')
results['scale'] = sc

results['total_seconds'] = med('meta.total_seconds')
out()
out('Whole run: %s s.  JSON: %s' % (fmt(results['total_seconds'], '.0f'),
                                     json_file))
with open(json_file, 'w') as f:
    json.dump(results, f, indent=2, sort_keys=True)
    f.write('\n')

targets = {x['name']: x for x in results['targets']}


def head(label, tname, spec, unit=''):
    x = targets[tname]
    return '%s %s%s (%s %s)' % (label, fmt(x['value'], spec), unit,
                                x['target'],
                                {True: 'met', False: 'MISSED',
                                 None: 'n/a'}[x['met']])


print('\n'.join(lines))
print('headline: ' + '; '.join([
    head('zero-cost wall', 'zero cost wall, worst', '.3f'),
    head('CPU', 'zero cost CPU, worst', '.3f'),
    head('Ir', 'zero cost Ir, worst', '.4f'),
    head('new-conn wall', 'new connection commit ns', '.2f'),
    head('CPU', 'new connection commit cpu_ns', '.2f'),
    head('Ir', 'new connection commit Ir', '.3f'),
    head('hw-hit wall', 'hardware hit ns', '.3f'),
    head('CPU', 'hardware hit cpu_ns', '.3f'),
    head('pipeline', 'pipeline events/s', ',.0f', ' ev/s'),
    head('idle p99', 'idle latency p99', '.0f', ' us'),
]))
EOF
