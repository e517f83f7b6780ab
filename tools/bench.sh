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
# ccache makes a rebuild of a removed tree cheap), then measures the eight
# rows of our performance issue (#16), each against its target:
#
#   1. zero cost when disabled: upstream's "ovstest test-conntrack
#      benchmark" and "pcap" on pristine and ours, wall time (interleaved,
#      median) and instructions in conntrack_execute() (callgrind), with the
#      functions whose instructions differ (callgrind_annotate of both);
#   2. PMD cost per new connection, offload active vs inactive, and the
#      allocations and system calls that offload adds, by caller;
#   3. PMD cost per packet that hardware resolved vs software lookup;
#   4. offload thread throughput and latency;
#   5. memory per offloaded connection;
#   6. times at 100k and 1M connections, and 4M if the memory allows;
#   7. PMD cycles per packet of established traffic through ovs-vswitchd,
#      offload on vs off (tools/bench-pmd.sh);
#   8. after which packet of its handshake a TCP connection is in hardware;
#
# and, as section 9, tools/bench-insertion.sh if it exists.  2 to 6 and 8
# are "ovstest test-ct-offload-bench" (tests/test-ct-offload-bench.c).
# Prints a table, writes build/bench/results.json, and ends with a headline
# that lists the targets missed.  The measurements take about 20 minutes
# on 2 cores; the first build of each tree about 5 more.  Times suffer from
# other jobs on the machine (the table shows the load average); instruction
# counts do not.
#
# Environment: JOBS (make -j), BENCH_RUNS (runs per tree and variant of the
# upstream benchmark, at least 5), BENCH_QUICK=yes (small sizes, to try the
# script out), BENCH_PREPARE_ONLY=yes (build the trees, measure nothing).

# All in a function, so that bash has read the whole script before it runs
# any of it: editing the file during a run does not disturb the run.
main() {
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
    big_size=400000 tcp_conns=100
    pmd_sizes="1000 20000" pmd_seconds=3 pmd_budget=60
else
    zc_pkts=5000000 cg_pkts=100000 pcap_convs=40000
    nc_conns=50000 nc_rounds=11 hit_conns=50000 hit_rounds=11 cg_conns=10000
    pipe_conns=500000 pipe_idle=1000 scale_sizes="100000 1000000"
    big_size=4000000 tcp_conns=1000
    pmd_sizes="1000 100000 1000000" pmd_seconds=8 pmd_budget=240
fi

# Trees.

prepare_pristine() {
    unpack_pristine "$pristine"
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
# (and in what it calls) while running COMMAND...  With CG_KEEP=NAME, keeps
# callgrind's output as $raw/cg.NAME (for per-function and per-call
# analysis in the report).
callgrind_count() {
    local toggle=$1 file
    shift
    file=$(mktemp "$raw/callgrind.XXXXXX")
    logged valgrind --tool=callgrind --callgrind-out-file="$file" \
           --toggle-collect="$toggle" "$@" > "$raw/callgrind.log" 2>&1 \
        || { tail -n 20 "$raw/callgrind.log"; die "callgrind $* failed"; }
    awk '/^(summary|totals):/ { n = $2 } END { print n + 0 }' "$file"
    if [ -n "${CG_KEEP:-}" ]; then
        mv "$file" "$raw/cg.$CG_KEEP"
    else
        rm -f "$file"
    fi
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

    note "1/8 zero cost: test-conntrack benchmark, $runs runs of" \
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

    note "1/8 zero cost: pcap of $pcap_convs conversations"
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

    note "1/8 zero cost: instructions in conntrack_execute() (callgrind)"
    for t in pristine ours; do
        bin=$(tree_bin "$t")
        for v in $variants; do
            name=${v%:*} arg=${v#*:}
            sample "zc.bench_$name.$t.instructions" \
                "$(CG_KEEP=zc.bench_$name.$t \
                   callgrind_count conntrack_execute "$bin" \
                       test-conntrack benchmark 1 "$cg_pkts" 32 "$arg")"
        done
        sample "zc.pcap.$t.instructions" \
            "$(CG_KEEP=zc.pcap.$t callgrind_count conntrack_execute "$bin" \
                   test-conntrack pcap "$raw/convs.pcap" 32)"
    done
}

pmd_new_conn() {
    local m

    note "2/8 PMD cost per new connection: $nc_conns connections," \
         "$nc_rounds rounds per mode"
    run_bench "" new-conn "$nc_conns" "$nc_rounds" both
    for m in on off; do
        sample "new_conn.$m.commit_instructions" \
            "$(CG_KEEP=new_conn.$m.commit \
               callgrind_count bench_new_conn "$ours/tests/ovstest" \
                   test-ct-offload-bench new-conn "$cg_conns" 1 "$m")"
        sample "new_conn.$m.reply_instructions" \
            "$(CG_KEEP=new_conn.$m.reply \
               callgrind_count bench_first_reply "$ours/tests/ovstest" \
                   test-ct-offload-bench new-conn "$cg_conns" 1 "$m")"
    done
}

pmd_hw_hit() {
    local m

    note "3/8 PMD cost per offloaded packet: $hit_conns connections," \
         "$hit_rounds rounds per path"
    run_bench "" hw-hit "$hit_conns" "$hit_rounds" both
    for m in hw sw; do
        sample "hw_hit.$m.instructions" \
            "$(callgrind_count bench_hit "$ours/tests/ovstest" \
                   test-ct-offload-bench hw-hit "$cg_conns" 1 "$m")"
    done
}

pipeline() {
    note "4/8 offload thread: $pipe_conns connections," \
         "$pipe_idle one at a time"
    run_bench "" pipeline "$pipe_conns" "$pipe_idle"
}

scale() {
    local n m

    # One process per point: freed memory does not leave the resident set.
    for n in $scale_sizes; do
        for m in off on; do
            note "5-6/8 scale: $n connections, offload $m"
            run_bench "scale.$n.$m." scale "$n" "$m"
        done
    done
    big_point
    memory_back
}

# Whether memory comes back after the largest point's connections are
# flushed or expired (issue #15), offload off as the reference.
memory_back() {
    local n=${scale_sizes##* } m

    for m in off on; do
        note "5/8 memory back: $n connections, offload $m"
        run_bench "memory.$m." memory "$n" "$m"
    done
    sample "meta.memory_conns" "$n"
}

# The largest point of row 6, offload on only, if the machine has the
# memory for it: the need is estimated from the largest point measured
# (RSS per connection, "on", plus the benchmark's own array of 8 bytes per
# connection), with 50 % to spare.
big_point() {
    local last per need avail

    last=${scale_sizes##* }
    per=$(awk -v k="scale.$last.on.rss_bytes_per_conn" \
              '$1 == k { v = $2 } END { print v + 0 }' "$raw/samples")
    need=$(awk -v p="$per" -v n="$big_size" \
               'BEGIN { printf "%d", (p + 8) * n * 1.5 / 1048576 }')
    avail=$(awk '/^MemAvailable:/ { printf "%d", $2 / 1024 }' /proc/meminfo)
    sample "scale.big.need_mib" "$need"
    sample "scale.big.available_mib" "$avail"
    if [ "$need" -ge "$avail" ]; then
        note "5-6/8 scale: $big_size connections need about $need MiB," \
             "$avail MiB available: skipped"
        echo "$big_size connections skipped: need about $need MiB" \
             "(estimated from $last), MemAvailable $avail MiB" \
             >> "$raw/notes"
        return
    fi
    note "5-6/8 scale: $big_size connections, offload on" \
         "(needs about $need MiB of $avail MiB available)"
    run_bench "scale.$big_size.on." scale "$big_size" on
}

pmd_pipeline() {
    note "7/8 PMD cycles per packet through ovs-vswitchd," \
         "$pmd_sizes connections, $pmd_seconds s per mode"
    BENCH_PMD_BUDGET=$pmd_budget "$top/tools/bench-pmd.sh" "$ours" \
        "$bench/pmd" "$raw/samples" "$pmd_sizes" "$pmd_seconds" \
        || echo "tools/bench-pmd.sh failed (status $?)" >> "$raw/notes"
    if [ -f "$raw/samples.notes" ]; then
        cat "$raw/samples.notes" >> "$raw/notes"
    fi
}

tcp_setup() {
    note "8/8 when a TCP connection reaches hardware: $tcp_conns connections"
    run_bench "" tcp-setup "$tcp_conns"
}

# Section 9: another helper's benchmark of the offload thread against the
# rte_flow emulation, if it is there.  Its failure is reported, not fatal.
insertion() {
    local script=$top/tools/bench-insertion.sh

    rm -f "$bench/insertion.json"
    if [ ! -x "$script" ]; then
        echo "tools/bench-insertion.sh is absent (or not executable):" \
             "not run" > "$raw/insertion.out"
        return
    fi
    note "9 insertion: tools/bench-insertion.sh"
    echo "$script" >> "$raw/commands"
    local status=0
    "$script" > "$raw/insertion.out" 2> "$raw/insertion.err" || status=$?
    if [ "$status" != 0 ]; then
        echo "tools/bench-insertion.sh failed (status $status); its stderr:" \
            >> "$raw/insertion.out"
        tail -n 20 "$raw/insertion.err" >> "$raw/insertion.out"
    fi
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
if [ "${BENCH_PREPARE_ONLY:-no}" = yes ]; then
    return 0
fi
measure_start=$SECONDS

rm -rf "$raw"
mkdir -p "$raw"
: > "$raw/commands"
: > "$raw/notes"
for v in zc_pkts cg_pkts pcap_convs nc_conns nc_rounds hit_conns hit_rounds \
         cg_conns pipe_conns pipe_idle big_size tcp_conns pmd_seconds; do
    sample "meta.$v" "${!v}"
done
sample meta.loadavg_start "$(loadavg)"
zero_cost
pmd_new_conn
pmd_hw_hit
pipeline
scale
pmd_pipeline
tcp_setup
insertion
sample meta.loadavg_end "$(loadavg)"
sample meta.total_seconds "$((SECONDS - start))"
sample meta.measure_seconds "$((SECONDS - measure_start))"

"$python" - "$raw" "$bench/results.json" "$bench/insertion.json" <<'EOF'
# Turns the samples into a table on stdout and a JSON file, and prints the
# headline (the targets missed) last.
import json
import os
import re
import statistics
import subprocess
import sys
import time

raw, json_file, insertion_file = sys.argv[1:4]
samples = {}
with open(os.path.join(raw, 'samples')) as f:
    for line in f:
        parts = line.split()
        if len(parts) != 2:
            continue
        try:
            samples.setdefault(parts[0], []).append(float(parts[1]))
        except ValueError:
            continue
with open(os.path.join(raw, 'commands')) as f:
    commands = list(dict.fromkeys(line.rstrip('\n') for line in f))
notes = []
if os.path.exists(os.path.join(raw, 'notes')):
    with open(os.path.join(raw, 'notes')) as f:
        notes = [line.rstrip('\n') for line in f if line.strip()]

results = {'samples': samples, 'commands': commands, 'targets': [],
           'notes': notes}
lines = []


def med(key):
    v = samples.get(key)
    return statistics.median(v) if v else None


def per(key, n_key):
    v, n = med(key), med(n_key)
    return v / n if v is not None and n else None


def div(a, b):
    return a / b if a is not None and b else None


def add(a, b):
    return a + b if a is not None and b is not None else None


def fmt(v, spec):
    return format(v, spec) if v is not None else 'n/a'


def out(s=''):
    lines.append(s)


def target(row, name, value, op, limit, unit='', spec='g'):
    met = (None if value is None
           else value <= limit if op == '<='
           else value < limit if op == '<'
           else value == limit if op == '=='
           else value >= limit)
    results['targets'].append({'row': row, 'name': name, 'value': value,
                               'target': '%s %s%s' % (op, limit, unit),
                               'met': met, 'spec': spec})
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


# Callgrind output analysis.

def cg_file(name):
    path = os.path.join(raw, 'cg.' + name)
    return path if os.path.exists(path) else None


def cg_functions(path):
    """Self Ir per function name, from callgrind_annotate."""
    text = subprocess.run(['callgrind_annotate', '--inclusive=no',
                           '--threshold=100', path],
                          capture_output=True, text=True).stdout
    funcs = {}
    for line in text.splitlines():
        m = re.match(r'^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(?:\S+\s+)?'
                     r'(\S*):(\S+)(?:\s+\[.*\])?\s*$', line)
        if not m:
            continue
        name = m.group(3)
        funcs[name] = funcs.get(name, 0) + int(m.group(1).replace(',', ''))
    return funcs


def cg_calls(path):
    """Calls per (caller, callee) function names, from the raw file."""
    names = {}
    calls = {}
    fn = cfn = None

    def resolve(spec):
        m = re.match(r'\((\d+)\)(?: (.*))?$', spec)
        if not m:
            return spec
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), spec)

    with open(path) as f:
        for line in f:
            if line.startswith('fn='):
                fn = resolve(line[3:].strip())
            elif line.startswith('cfn='):
                cfn = resolve(line[4:].strip())
            elif line.startswith('calls=') and cfn is not None:
                n = int(line[6:].split()[0])
                calls[(fn, cfn)] = calls.get((fn, cfn), 0) + n
    return calls


ALLOC = {'malloc', 'calloc', 'realloc', 'posix_memalign', 'aligned_alloc',
         'memalign', 'valloc'}
SYSCALL = {'write', '__libc_write', '__write', 'writev', 'read', 'syscall',
           'futex', 'poll', 'nanosleep', 'clock_nanosleep', 'sched_yield'}
# Wrappers whose own callers are the ones that matter.
WRAPPERS = {'xmalloc', 'xcalloc', 'xzalloc', 'xrealloc', 'xmalloc__',
            'xcalloc__', 'xzalloc__', 'xrealloc__', 'xmalloc_cacheline',
            'xzalloc_cacheline', 'xmalloc_size_align', 'xzalloc_size_align',
            'xmemdup', 'xmemdup0', 'xstrdup', 'latch_set', 'ovs_mutex_lock_at',
            'ovs_mutex_unlock'}


def callers_of(calls, targets):
    """Calls into 'targets' by their first caller that is not a wrapper:
    {caller: count}."""
    result = {}

    def walk(callee, n, depth):
        for (fn, cfn), c in calls.items():
            if cfn != callee:
                continue
            if fn in WRAPPERS and depth < 4:
                walk(fn, c, depth + 1)
            else:
                result[fn] = result.get(fn, 0) + c

    for t in targets:
        walk(t, 0, 0)
    return result


def short(name):
    return name.split("'")[0]


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
worst_ir = None
for name, label in (('bench_same', 'benchmark'),
                    ('bench_change', 'benchmark change_conn'),
                    ('pcap', 'pcap')):
    for what, desc, spec in (
            ('wall_ms', 'wall ms', '.1f'),
            ('cpu_ms', 'CPU ms, process', '.1f'),
            ('instructions', 'Ir in conntrack_execute', '.0f')):
        p = med('zc.%s.pristine.%s' % (name, what))
        o = med('zc.%s.ours.%s' % (name, what))
        r = div(o, p)
        zc['%s.%s' % (name, what)] = {'pristine': p, 'ours': o, 'ratio': r}
        if what == 'instructions':
            if r is not None and (worst_ir is None or r > worst_ir):
                worst_ir = r
            t = target(1, 'zero cost Ir, %s' % name, r, '<=', 1.002,
                       spec='.4f')
        else:
            t = '(shown, no target)'
        out(ROW % ('%s, %s' % (label, desc), fmt(p, spec), fmt(o, spec),
                   fmt(r, '.4f'), t))
out('   "wall ms" is what the benchmark prints (whole run for pcap); "CPU ms"'
    ' is the')
out('   process\'s user + system time, which preemption by other jobs does '
    'not inflate.')
zc_diff = {}
for name, label in (('bench_same', 'benchmark'), ('pcap', 'pcap')):
    pf, of = cg_file('zc.%s.pristine' % name), cg_file('zc.%s.ours' % name)
    if not pf or not of:
        out('   (no callgrind output kept for %s: no per-function diff)'
            % label)
        continue
    pfun, ofun = cg_functions(pf), cg_functions(of)
    diffs = sorted(((ofun.get(k, 0) - pfun.get(k, 0), k)
                    for k in set(pfun) | set(ofun)),
                   key=lambda x: (-abs(x[0]), x[1]))
    diffs = [d for d in diffs if d[0]]
    zc_diff[name] = [{'function': k, 'pristine': pfun.get(k, 0),
                      'ours': ofun.get(k, 0), 'diff': d}
                     for d, k in diffs[:40]]
    total_p, total_o = sum(pfun.values()), sum(ofun.values())
    out('   per-function self Ir, %s (callgrind_annotate, in '
        'conntrack_execute):' % label)
    out('   total %s pristine, %s ours, %+d; functions whose Ir differ: %d'
        % (format(total_p, ','), format(total_o, ','), total_o - total_p,
           len(diffs)))
    out('     %-40s %14s %14s %10s' % ('function', 'pristine', 'ours',
                                       'diff'))
    for d, k in diffs[:10]:
        out('     %-40s %14s %14s %+10d' % (
            short(k)[:40], format(pfun.get(k, 0), ','),
            format(ofun.get(k, 0), ','), d))
zc['function_diff'] = zc_diff
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


def nc_get(mode, what, kind):
    if kind in ('ns', 'cpu_ns'):
        return med('new_conn.%s.%s_%s' % (mode, what, kind))
    if kind == 'Ir':
        return per('new_conn.%s.%s_instructions' % (mode, what),
                   'meta.cg_conns')
    return med('new_conn.%s.%s_writes' % (mode, what))


for what, label in (('commit', 'ct(commit) of a new connection'),
                    ('reply', 'first reply ("established")'),
                    ('total', 'both: a new connection')):
    for kind, unit, spec in (('ns', 'wall ns', '.1f'),
                             ('cpu_ns', 'CPU ns', '.1f'),
                             ('Ir', 'Ir', '.1f'),
                             ('writes', 'write() calls', '.3f')):
        if what == 'total':
            off = add(nc_get('off', 'commit', kind),
                      nc_get('off', 'reply', kind))
            on = add(nc_get('on', 'commit', kind),
                     nc_get('on', 'reply', kind))
        else:
            off, on = nc_get('off', what, kind), nc_get('on', what, kind)
        r = div(on, off) if kind != 'writes' else None
        nc['%s.%s' % (what, kind)] = {'inactive': off, 'active': on,
                                      'ratio': r}
        t = ''
        if what == 'total' and kind == 'Ir':
            t = target(2, 'new connection Ir', r, '<=', 1.05, spec='.3f')
        elif what == 'total' and kind == 'ns':
            t = target(2, 'new connection wall', r, '<=', 1.10, spec='.3f')
        out(ROW % ('%s, %s' % (label, unit), fmt(off, spec), fmt(on, spec),
                   fmt(r, '.4f') if kind != 'writes' else '', t))
out('   wall ns: in conntrack_execute(); CPU ns: the thread\'s CPU time '
    'for the pass,')
out('   packet metadata resets included; write() calls: the PMD waking the '
    'offload')
out('   thread (latch_set()).  Reached the provider: %s of the connections.'
    % fmt(med('new_conn.on.offered_fraction'), '.2%'))
# Allocations and system calls: what offload adds, by caller (callgrind
# call counts).  conntrack.c takes ct_lock only around conn_lookup() and
# conn_not_found(); ct_offload_conn_alloc() runs before it and
# ct_offload_dp_kick() (latch_set(), the write()) after it.
OUTSIDE_LOCK = {'ct_offload_conn_alloc', 'ct_offload_dp_kick'}
lock_ok = None
extra_all = {}
for what in ('commit', 'reply'):
    files = [cg_file('new_conn.%s.%s' % (m, what)) for m in ('off', 'on')]
    if not all(files):
        continue
    n = med('meta.cg_conns') or 1
    calls = [cg_calls(f) for f in files]
    for kind, targets_ in (('allocations', ALLOC), ('system calls', SYSCALL)):
        by = [callers_of(c, targets_) for c in calls]
        tot = [sum(b.values()) / n for b in by]
        extra = {k: (by[1].get(k, 0) - by[0].get(k, 0)) / n
                 for k in set(by[0]) | set(by[1])}
        extra = {k: v for k, v in extra.items() if v > 0.001}
        extra_all['%s.%s' % (what, kind)] = {
            'inactive_per_conn': tot[0], 'active_per_conn': tot[1],
            'added_by_caller': extra}
        bad = [k for k in extra if short(k) not in OUTSIDE_LOCK]
        if lock_ok is None:
            lock_ok = True
        lock_ok = lock_ok and not bad
        out('   %s, %s per connection: inactive %.3f, active %.3f%s' % (
            what, kind, tot[0], tot[1],
            '; added by ' + ', '.join('%s %.3f' % (short(k), v)
                                      for k, v in sorted(extra.items()))
            if extra else ''))
nc['calls'] = extra_all
out('   Allocations and system calls that offload adds must come from '
    'ct_offload_conn_alloc()')
out('   (before ct_lock) or ct_offload_dp_kick() (after it): conntrack.c '
    'holds ct_lock only')
out('   around conn_lookup() and conn_not_found().  None added under '
    'ct_lock:')
out('     %s' % target(2, 'no allocation or system call added under '
                      'ct_lock', None if lock_ok is None else int(lock_ok),
                      '==', 1, spec='.0f'))
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
               target(3, 'hardware hit %s' % kind, r, '<=', 0.35,
                      spec='.3f')))
out('   CPU ns covers the whole pass: metadata resets, and on the hardware '
    'path')
out('   ct_offload_packet_set_conn().  In hardware: %s of the connections;'
    % fmt(med('hw_hit.in_hw_fraction'), '.2%'))
out('   packets whose ct_state was not +trk+est: %s.'
    % fmt(med('hw_hit.bad_state'), '.0f'))
out('   A hardware-resolved packet skips only the hash and the lookup; the '
    'TCP/UDP state')
out('   update, timer refresh and NAT still run in software (the rst, '
    '"Hardware-resolved')
out('   packets"), which bounds this ratio.')
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
    fmt(drain, ',.0f'), target(4, 'offload thread events/s', drain, '>=',
                               2000000, spec=',.0f')))
out('   streaming, PMD-bound (packets built too):  %13s events/s' % fmt(
    pl.get('streaming.events_per_s'), ',.0f'))
out('   latency, reply\'s ct() to conn_established(), us:')
out('     one at a time, %s connections: median %s, p99 %s, max %s'
    % (fmt(med('meta.pipe_idle'), ',.0f'),
       fmt(pl.get('idle.latency_p50_us'), '.1f'),
       fmt(pl.get('idle.latency_p99_us'), '.1f'),
       fmt(pl.get('idle.latency_max_us'), '.1f')))
out('       %s' % target(4, 'latency p99, one at a time',
                         pl.get('idle.latency_p99_us'), '<=', 200, ' us',
                         spec='.0f'))
out('     streaming: median %s, p99 %s, max %s' % (
    fmt(pl.get('streaming.latency_p50_us'), '.1f'),
    fmt(pl.get('streaming.latency_p99_us'), '.1f'),
    fmt(pl.get('streaming.latency_max_us'), '.1f')))
out('       %s' % target(4, 'latency p99, streaming',
                         pl.get('streaming.latency_p99_us'), '<=', 1000,
                         ' us', spec='.0f'))
out('   in hardware after the drain: %s of the connections' % fmt(
    pl.get('add_est.in_hw_fraction'), '.2%'))

# 5 and 6. Scale.
out()
out('5/6. Memory and scale, ours: offload active (null provider) vs '
    'inactive')
sizes = sorted({int(k.split('.')[1]) for k in samples
                if re.match(r'scale\.\d+\.off\.', k)})
big = med('meta.big_size')
big = int(big) if big else None
sc = {}
rows = (('rss_bytes_per_conn', 'RSS per connection, bytes', '.0f'),
        ('setup_ms', 'set up (request + reply), ms', '.0f'),
        ('setup_offloaded_ms', 'set up until all offloaded, ms', '.0f'),
        ('expiry_pass_ms', 'expiry pass, all offloaded, ms', '.1f'),
        ('flush_ms', 'conntrack_flush() + wait, ms', '.1f'),
        ('destroy_ms', 'conntrack_destroy() + wait, ms', '.1f'))
has_big = big is not None and med('scale.%d.on.setup_ms' % big) is not None


def kname(n):
    return '%dM' % (n // 1000000) if n >= 1000000 else '%dk' % (n // 1000)


hdr = '   %-32s' % ''
for n in sizes:
    hdr += ' %9s %9s' % (kname(n) + ' off', kname(n) + ' on')
if has_big:
    hdr += ' %9s' % (kname(big) + ' on')
if len(sizes) == 2:
    hdr += ' %7s' % 'growth'
out(hdr)
growth_keys = ('setup_ms', 'expiry_pass_ms', 'flush_ms', 'destroy_ms')
for key, label, spec in rows:
    row = '   %-32s' % label
    for n in sizes:
        for m in ('off', 'on'):
            v = med('scale.%d.%s.%s' % (n, m, key))
            sc.setdefault(str(n), {}).setdefault(m, {})[key] = v
            row += ' %9s' % fmt(v, spec)
    if has_big:
        v = med('scale.%d.on.%s' % (big, key))
        sc.setdefault(str(big), {}).setdefault('on', {})[key] = v
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
    out('   %s: offload adds %s bytes per connection (RSS); expiry pass %s '
        'ns per connection; in hardware %s' % (
            kname(n), fmt(added, '.0f'),
            fmt(exp * 1e6 / n if exp is not None else None, '.1f'),
            fmt(med('scale.%d.on.in_hw_fraction' % n), '.2%')))
if sizes:
    n = sizes[-1]
    added = sc[str(n)]['added_bytes_per_conn']
    out('   5. memory per offloaded connection, core\'s state, at %s: %s B  %s'
        % (kname(n), fmt(added, '.0f'),
           target(5, 'memory per offloaded connection', added, '<=', 64,
                  ' B', spec='.0f')))
    out('      (RSS with offload active minus inactive, per connection; '
        'sizeof(struct')
    out('      ct_offload_conn), the providers\' view inside it, is %s B.  '
        'Provider state:'
        % fmt(med('scale.%d.on.sizeof_ct_offload_conn' % n), '.0f'))
    out('      0 B here (the null provider keeps none); ct-offload-dummy '
        'and ct-offload-dpdk')
    out('      keep their own table entries, not measured here.  struct '
        'conn grows by one')
    out('      pointer, 8 B, counted in the figure.)')
if len(sizes) == 2:
    lin = sizes[1] / sizes[0]
    out('   6. growth, offload on, %s -> %s (linear is %.0fx):' % (
        kname(sizes[0]), kname(sizes[1]), lin))
    for key in growth_keys:
        g = sc.get('growth_on', {}).get(key)
        out('      %-30s %8s  %s' % (
            key.replace('_ms', ''), fmt(g, '.2f') + 'x',
            target(6, 'growth %s %s->%s' % (key, kname(sizes[0]),
                                            kname(sizes[1])),
                   g, '<=', 11, 'x', spec='.2f')))
if has_big and sizes:
    n = sizes[-1]
    lim = round(1.1 * big / n, 2)
    out('   6. growth, offload on, %s -> %s (linear is %.0fx; target the '
        'same 10 %% slack):' % (kname(n), kname(big), big / n))
    for key in growth_keys:
        g = div(med('scale.%d.on.%s' % (big, key)),
                med('scale.%d.on.%s' % (n, key)))
        sc.setdefault('growth_big_on', {})[key] = g
        out('      %-30s %8s  %s' % (
            key.replace('_ms', ''), fmt(g, '.2f') + 'x',
            target(6, 'growth %s %s->%s' % (key, kname(n), kname(big)),
                   g, '<=', lim, 'x', spec='.2f')))
elif big:
    out('   6. %s point: skipped (see the notes below)' % kname(big))
    sc['big_skipped'] = True
mn = med('meta.memory_conns')
if mn:
    out('   5. memory comes back, %s connections set up, then flushed; set '
        'up again, then' % kname(int(mn)))
    out('      expired; RSS once RCU has freed them, then after '
        'malloc_trim(0), which')
    out('      hands glibc\'s free pages back; and what the allocator has '
        'in use; MiB:')
    out('      %-14s %-18s %9s %9s %11s %12s' % (
        'offload', 'figure', 'before', 'with', 'after flush',
        'after expiry'))
    mem = {}
    for m in ('off', 'on'):
        for fig, label in (('rss_mib', 'RSS'),
                           ('trimmed_rss_mib', 'RSS, trimmed'),
                           ('in_use_mib', 'in use')):
            v = [med('memory.%s.%s.%s' % (m, p, fig))
                 for p in ('before', 'with_conns', 'after_flush',
                           'after_expiry')]
            mem.setdefault(m, {})[fig] = v
            out('      %-14s %-18s %9s %9s %11s %12s'
                % (m, label, *(fmt(x, '.1f') for x in v)))
    for m in ('off', 'on'):
        v = mem[m]['in_use_mib']
        d = [(x - v[0]) * 1024 if x is not None and v[0] is not None
             else None for x in v[2:]]
        out('      allocator in use, offload %s: %s KiB after flush, %s KiB '
            'after expiry' % (m, fmt(d[0], '+.0f'), fmt(d[1], '+.0f')))
    for p in ('after_flush', 'after_expiry'):
        g = med('memory.on.%s.growth' % p)
        mem.setdefault('on', {})[p + '_growth'] = g
        out('      %s, offload on: trimmed RSS %s of before  %s' % (
            p.replace('_', ' '), fmt(g * 100 if g is not None else None,
                                     '+.1f') + ' %',
            target(5, 'memory back, %s' % p.replace('_', ' '),
                   g * 100 if g is not None else None, '<=', 5, ' %',
                   spec='.1f')))
    sc['memory_back'] = mem
results['scale'] = sc

# 7. PMD cycles per packet through ovs-vswitchd.
out()
out('7. PMD cycles per packet through ovs-vswitchd (dummy datapath, '
    'dummy-pmd ports),')
out('   established TCP, both directions; pipeline: ACL, ct(zone=1), '
    'ct(zone=2,nat) with')
out('   DNAT, ACL (replies: ct(zone=2,nat), ct(zone=1)); 4 ct() per round '
    'trip; %s s per mode;' % fmt(med('meta.pmd_seconds'), '.0f'))
out('   "on": hw-offload=true with ct-offload-dummy delivering; "off": '
    'hw-offload-ct=false')
out('   afterwards, same process and connections; emc-insert-inv-prob=1.  '
    'Cycles:')
out('   pmd-stats-show busy cycles / packets received.')
psizes = sorted({int(k.split('.')[1]) for k in samples
                 if re.match(r'pmd\.\d+\.', k)})
pm = {}
out('   %-10s %11s %11s %9s %9s %8s %7s %7s %s' % (
    'conns', 'cycles/pkt', 'cycles/pkt', 'kpps', 'kpps', 'fewer', 'in hw',
    'hw-res', 'target'))
out('   %-10s %11s %11s %9s %9s %8s %7s %7s' % (
    '', 'off', 'on', 'off', 'on', 'cycles', '', '/pkt'))
for n in psizes:
    g = lambda k: med('pmd.%d.%s' % (n, k))
    off, on = g('off.cycles_per_pkt'), g('on.cycles_per_pkt')
    gain = 1 - on / off if on is not None and off else None
    pm[str(n)] = {k[len('pmd.%d.' % n):]: med(k) for k in samples
                  if k.startswith('pmd.%d.' % n)}
    pm[str(n)]['fewer_cycles'] = gain
    out('   %-10s %11s %11s %9s %9s %8s %7s %7s %s' % (
        format(n, ','), fmt(off, '.0f'), fmt(on, '.0f'),
        fmt(div(g('off.pps'), 1000), '.0f'), fmt(div(g('on.pps'), 1000),
                                                  '.0f'),
        fmt(gain, '.1%'), fmt(g('on.in_hw_fraction'), '.0%'),
        fmt(g('on.lookup_skipped_per_pkt'), '.2f'),
        target(7, 'PMD fewer cycles per packet, %s connections' % n,
               gain, '>=', 0.25, spec='.3f')))
for n in psizes:
    g = lambda k: med('pmd.%d.%s' % (n, k))
    out('   %s: setup %s s (%s packets lost); %s conntrack connections '
        '(2 zones);' % (format(n, ','), fmt(g('setup_s'), '.1f'),
                        fmt(g('setup_lost_pkts'), '.0f'),
                        fmt(g('conntrack_conns'), ',.0f')))
    out('     "on": in hardware %s (core), emulated table %s entries, %s '
        'zone conflicts,' % (fmt(g('on.in_hw_conns'), ',.0f'),
                             fmt(g('on.dummy_table_entries'), ',.0f'),
                             fmt(g('on.conflicts'), ',.0f')))
    out('     dump-conntrack hw_offload: %s; per packet: %s hw hits, %s '
        'lookups skipped,' % (
            fmt(g('on.dump_hw_offload_conns'), ',.0f')
            if g('on.dump_hw_offload_conns') is not None
            else 'not dumped above 100k',
            fmt(g('on.hw_hit_per_pkt'), '.2f'),
            fmt(g('on.lookup_skipped_per_pkt'), '.2f')))
    out('     %s recirculations; consumed by the emulated hardware '
        '(forwarding): %s;' % (fmt(g('on.recirculations_per_pkt'), '.2f'),
                               fmt(g('on.hw_consumed_pkts'), '.0f')))
    out('     "off": in hardware %s, %s hw hits per packet; PMD busy %s '
        '(on), %s (off);' % (fmt(g('off.in_hw_conns'), ',.0f'),
                             fmt(g('off.hw_hit_per_pkt'), '.2f'),
                             fmt(g('on.busy_fraction'), '.0%'),
                             fmt(g('off.busy_fraction'), '.0%')))
    out('     packets per busy iteration %s (on), %s (off); EMC hits per '
        'packet %s (on), %s (off)' % (
            fmt(g('on.pkts_per_busy_iteration'), '.1f'),
            fmt(g('off.pkts_per_busy_iteration'), '.1f'),
            fmt(g('on.emc_per_pkt'), '.2f'), fmt(g('off.emc_per_pkt'),
                                                  '.2f')))
out('   Why the gain is what it is: hardware resolves a packet to one '
    'connection, but')
out('   each packet here takes two ct() passes in two zones with the same '
    'tuple on its')
out('   input port; the emulated table (like a NIC) holds one of the two, '
    'so at most the')
out('   first pass of one direction skips its lookup ("hw-res/pkt" above: '
    'lookups skipped')
out('   per received packet).  A skipped lookup saves only the hash and '
    'the table')
out('   search: TCP window tracking, timer refresh, NAT, the other ct() '
    'pass, three')
out('   recirculations and classification all still run in software '
    '(design choice, the')
out('   rst, "Hardware-resolved packets").  The emulated hardware\'s own '
    'lookup (ct-')
out('   offload-dummy parses the packet and searches its table) runs on '
    'the PMD thread')
out('   and is counted in "on"; a NIC would do it for free.  The PMD '
    'has a core of its')
out('   own (pmd-cpu-mask; every other thread and the generator on core 0), '
    'but cycles')
out('   are TSC cycles: time the hypervisor or another job takes from it '
    'still counts.')
out('   Where the PMD is not near 100 % busy, input (netdev-dummy\'s '
    'stream, read by the')
out('   main loop) bounds the rate and batches are small.')
results['pmd'] = pm

# 8. TCP connection in hardware.
out()
out('8. When a TCP connection is in hardware: %s connections, packet by '
    'packet (1 SYN with' % fmt(med('meta.tcp_conns'), ',.0f'))
out('   ct(commit), 2 SYN-ACK, 3 final ACK, 4 data, 5 reply data), '
    'offload thread drained')
out('   after each (0: never)')
ts = {k[len('tcp_setup.'):]: med(k) for k in samples
      if k.startswith('tcp_setup.')}
results['tcp_setup'] = ts
out('   offered to the provider (conn_add()) after packet: min %s, max %s'
    % (fmt(ts.get('offered_after_packet_min'), '.0f'),
       fmt(ts.get('offered_after_packet_max'), '.0f')))
out('   in hardware (both directions programmed) after packet: min %s, '
    'max %s' % (fmt(ts.get('in_hw_after_packet_min'), '.0f'),
                fmt(ts.get('in_hw_after_packet_max'), '.0f')))
hw_at = (ts.get('in_hw_after_packet_max')
         if ts.get('in_hw_after_packet_min') == ts.get(
             'in_hw_after_packet_max') else -1)
out('     %s' % target(8, 'in hardware after packet (3: final ACK)',
                       hw_at, '==', 3, spec='.0f'))
out('   packets software found invalid or untracked: %s' % fmt(
    ts.get('bad_state'), '.0f'))

# 9. Insertion, from tools/bench-insertion.sh.
out()
out('9. Offload thread against the rte_flow emulation '
    '(tools/bench-insertion.sh)')
ins_out = ''
if os.path.exists(os.path.join(raw, 'insertion.out')):
    with open(os.path.join(raw, 'insertion.out')) as f:
        ins_out = f.read()
for line in ins_out.rstrip('\n').splitlines():
    out('   ' + line)
ins_misses = []
if os.path.exists(insertion_file):
    try:
        with open(insertion_file) as f:
            ins = json.load(f)
        results['insertion'] = ins
        m = ins.get('misses') if isinstance(ins, dict) else None
        if isinstance(m, list):
            ins_misses = [str(x) for x in m]
    except (OSError, ValueError) as e:
        out('   %s: unreadable (%s)' % (insertion_file, e))
        results['insertion'] = {'error': str(e)}
else:
    out('   (no %s)' % insertion_file)
    results['insertion'] = None

if notes:
    out()
    out('Notes:')
    for n in notes:
        out('   ' + n)

results['total_seconds'] = med('meta.total_seconds')
results['measure_seconds'] = med('meta.measure_seconds')
out()
out('Whole run: %s s, of which measurements %s s.  JSON: %s' % (
    fmt(results['total_seconds'], '.0f'),
    fmt(results['measure_seconds'], '.0f'), json_file))

misses = ['%d: %s %s (%s)' % (t['row'], t['name'],
                              fmt(t['value'], t['spec']), t['target'])
          for t in results['targets'] if t['met'] is False]
unknown = ['%d: %s' % (t['row'], t['name'])
           for t in results['targets'] if t['met'] is None]
misses += ['9: insertion %s' % m for m in ins_misses]
results['misses'] = misses
results['unmeasured'] = unknown
with open(json_file, 'w') as f:
    json.dump(results, f, indent=2, sort_keys=True)
    f.write('\n')

print('\n'.join(lines))
n_t = len(results['targets']) + len(ins_misses)
print('headline: %d of %d targets met; MISSED: %s%s' % (
    n_t - len(misses) - len(unknown), n_t,
    '; '.join(misses) if misses else 'none',
    '; not measured: ' + '; '.join(unknown) if unknown else ''))
EOF
}

main "$@"; exit
