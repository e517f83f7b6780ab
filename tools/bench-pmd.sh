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

# PMD cycles per packet of established TCP traffic through ovs-vswitchd,
# conntrack offload on vs off; row 7 of "make bench" (tools/bench.sh runs
# it).
#
# Usage: bench-pmd.sh OVS_TREE DIR SAMPLES SIZES SECONDS
#
# For each number of connections in SIZES, a fresh ovsdb-server and
# ovs-vswitchd (--enable-dummy, binaries of OVS_TREE) run in DIR with
# hw-offload=true: dpif-offload-dummy and the delivering ct-offload-dummy
# provider are the "hardware".  Bridge br0 (datapath_type=dummy) has two
# PMD-polled ports, p1 (clients) and p2 (servers), of type dummy-pmd, fed
# through netdev-dummy's stream option (options:pstream=punix:...) by the
# generator below, and two sink ports (type dummy) that take the output.
#
# The OpenFlow pipeline has two ct() passes per packet and ACL-like tables
# before and after them (several priorities, drops that the traffic does
# not hit):
#
#   clients, p1:  ACL -> ct(zone=1) -> ACL -> ct(zone=2,nat) -> ACL -> p3
#                 (new connections: commit in zone 1, then, one more
#                 recirculation later, commit in zone 2 with DNAT of the
#                 VIP 172.16.0.1 to 10.200.0.1)
#   servers, p2:  ACL -> ct(zone=2,nat) -> ct(zone=1) -> ACL -> p4
#
# The generator sets up the N connections (SYN, SYN-ACK, ACK, in chunks,
# waiting after each step until the PMD received every packet, so that no
# reply overtakes its request), then sends pure ACKs of established
# connections in both directions, round robin over the connections, as
# fast as the main loop of ovs-vswitchd takes them.  After a warm-up it
# clears the PMD statistics, waits SECONDS and reads
# dpif-netdev/pmd-stats-show: processing cycles per received packet and
# packets per second.
#
# Offload is measured "on" first: the script checks that the connections
# are in the emulated hardware (ct-offload/show, ct-offload-dummy/show and,
# up to 100k connections, dump-conntrack's hw_offload flags) and that the
# provider delivers (does not forward), and counts hardware-resolved
# packets (ct_offload_hw_hit) and skipped lookups
# (conntrack_offload_lookup_skipped) during the window.  Then
# hw-offload-ct=false takes every connection out of hardware; the same
# connections, in the same process, are measured "off".  The PMD gets a
# core of its own (pmd-cpu-mask), every other thread of ovs-vswitchd and
# the generator the other one; every EMC miss inserts
# (emc-insert-inv-prob=1), so that "on", measured first, does not pay for
# a colder EMC.
#
# Each result is a line "pmd.N.MODE.KEY VALUE" appended to SAMPLES; notes
# (what went wrong, what was skipped) are lines appended to SAMPLES.notes.

# All in a function, so that bash has read the whole script before it runs
# any of it: editing the file during a run does not disturb the run.
main() {
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# = 5 ] || die "usage: $0 OVS_TREE DIR SAMPLES SIZES SECONDS"
ovs=$1 dir=$2 samples=$3 sizes=$4 seconds=$5
python=/usr/bin/python3
notes=$samples.notes
# dummy (ports polled by the main thread) only to try the script out.
port_type=${BENCH_PMD_PORT_TYPE:-dummy-pmd}
# The PMD gets the last core to itself when there are at least two.
pin= pmd_core=0 gen=()
if [ "$(nproc)" -ge 2 ] && command -v taskset > /dev/null; then
    pin=yes pmd_core=$(($(nproc) - 1)) gen=(taskset -c 0)
fi

for b in vswitchd/ovs-vswitchd ovsdb/ovsdb-server ovsdb/ovsdb-tool \
         utilities/ovs-vsctl utilities/ovs-appctl utilities/ovs-ofctl; do
    [ -x "$ovs/$b" ] || die "$ovs/$b missing"
done

export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir \
       OVS_PKGDATADIR=$dir
PATH=$ovs/vswitchd:$ovs/ovsdb:$ovs/utilities:$PATH

vs_pid=
db_pid=
stop() {
    if [ -n "$vs_pid" ] && kill -0 "$vs_pid" 2>/dev/null; then
        ovs-appctl -t "$dir/ovs-vswitchd.$vs_pid.ctl" exit > /dev/null \
            2>&1 || kill "$vs_pid" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$vs_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$vs_pid" 2>/dev/null || true
        wait "$vs_pid" 2>/dev/null || true
    fi
    if [ -n "$db_pid" ]; then
        kill "$db_pid" 2>/dev/null || true
        wait "$db_pid" 2>/dev/null || true
    fi
    vs_pid= db_pid=
}
trap stop EXIT

start() {
    local n=$1

    rm -rf "$dir"
    mkdir -p "$dir"
    ovsdb-tool create "$dir/conf.db" "$ovs/vswitchd/vswitch.ovsschema"
    ovsdb-server --no-chdir --log-file -vconsole:off \
        --remote=punix:"$dir/db.sock" "$dir/conf.db" > /dev/null 2>&1 &
    db_pid=$!
    for _ in $(seq 100); do
        [ -S "$dir/db.sock" ] && break
        sleep 0.1
    done
    ovs-vsctl --no-wait init
    # Queue large enough that setup never drops an event (the connection
    # would stay in software).
    ovs-vsctl --no-wait set Open_vSwitch . other_config:hw-offload=true \
        other_config:hw-offload-ct-queue-size=$((4 * n + 65536))
    if [ -n "$pin" ]; then
        ovs-vsctl --no-wait set Open_vSwitch . \
            other_config:pmd-cpu-mask=$(printf '0x%x' $((1 << pmd_core)))
    fi
    # Every EMC miss inserts: the EMC is as warm for "on", measured right
    # after setup, as for "off", measured later (by default 1 miss in 100
    # inserts, and filling the EMC would take longer than a measurement).
    ovs-vsctl --no-wait set Open_vSwitch . other_config:emc-insert-inv-prob=1
    ovs-vswitchd --no-chdir --log-file -vconsole:off \
        --enable-dummy --disable-system --disable-system-route \
        > "$dir/ovs-vswitchd.out" 2>&1 &
    vs_pid=$!
    for _ in $(seq 100); do
        [ -S "$dir/ovs-vswitchd.$vs_pid.ctl" ] && break
        sleep 0.1
    done
    [ -S "$dir/ovs-vswitchd.$vs_pid.ctl" ] \
        || die "ovs-vswitchd did not start (see $dir/ovs-vswitchd.log)"
    ovs-vsctl --timeout=60 -- add-br br0 \
        -- set bridge br0 datapath_type=dummy fail-mode=secure \
        -- add-port br0 p1 -- set interface p1 type=$port_type \
               ofport_request=1 options:pstream=punix:"$dir/p1.sock" \
        -- add-port br0 p2 -- set interface p2 type=$port_type \
               ofport_request=2 options:pstream=punix:"$dir/p2.sock" \
        -- add-port br0 p3 -- set interface p3 type=dummy ofport_request=3 \
        -- add-port br0 p4 -- set interface p4 type=dummy ofport_request=4
    ovs-appctl -t "$dir/ovs-vswitchd.$vs_pid.ctl" dpctl/ct-set-maxconns \
        $((2 * n + 65536)) > /dev/null
    ovs-appctl -t "$dir/ovs-vswitchd.$vs_pid.ctl" ct-offload-dummy/set \
        "dummy[dummy@ovs-dummy]" capacity=$((2 * n + 65536)) > /dev/null

    # Tables 0, 30 and 50: ACLs (the drops and the lower priorities are
    # not hit by the traffic, but classification must pass over them).
    cat > "$dir/flows.txt" <<'EOF'
table=0,priority=1000,ip,nw_src=192.168.0.0/16,actions=drop
table=0,priority=900,tcp,tp_dst=22,actions=drop
table=0,priority=900,tcp,tp_dst=23,actions=drop
table=0,priority=800,udp,actions=drop
table=0,priority=100,in_port=1,tcp,nw_dst=172.16.0.1,tp_dst=80,actions=ct(zone=1,table=10)
table=0,priority=100,in_port=2,tcp,nw_src=10.200.0.1,tp_src=80,actions=ct(zone=2,nat,table=20)
table=0,priority=10,arp,actions=drop
table=0,priority=0,actions=drop
table=10,priority=100,ct_state=+trk+new-inv,tcp,tcp_flags=+syn-ack,actions=ct(commit,zone=1,table=11)
table=10,priority=100,ct_state=+trk+est-inv,tcp,actions=ct(zone=2,nat,table=30)
table=10,priority=0,actions=drop
table=11,priority=100,ct_state=+trk+new-inv,tcp,actions=ct(commit,zone=2,nat(dst=10.200.0.1),table=30)
table=11,priority=0,actions=drop
table=20,priority=100,ct_state=+trk+est-inv,tcp,actions=ct(zone=1,table=50)
table=20,priority=0,actions=drop
table=30,priority=1000,ct_state=+trk+inv,actions=drop
table=30,priority=500,ip,nw_dst=10.200.0.2,actions=drop
table=30,priority=400,tcp,nw_dst=10.200.0.1,tp_dst=80,ct_state=+trk+new,actions=output:3
table=30,priority=400,tcp,nw_dst=10.200.0.1,tp_dst=80,ct_state=+trk+est,actions=output:3
table=30,priority=0,actions=drop
table=50,priority=1000,ct_state=+trk+inv,actions=drop
table=50,priority=500,ip,nw_dst=10.0.0.0/16,actions=drop
table=50,priority=400,tcp,nw_src=172.16.0.1,tp_src=80,ct_state=+trk+est,actions=output:4
table=50,priority=0,actions=drop
EOF
    ovs-ofctl add-flows br0 "$dir/flows.txt"

    # Every thread but the PMD to core 0, so that neither ovs-vswitchd's
    # main loop nor the generator preempts the PMD, whose busy cycles
    # (TSC) would count the time it lost.  Threads created later inherit
    # the main thread's affinity.
    if [ -n "$pin" ]; then
        local t comm
        for t in /proc/"$vs_pid"/task/*; do
            comm=$(cat "$t/comm" 2>/dev/null || true)
            case $comm in
                pmd*) ;;
                # A thread may exit meanwhile.
                *) taskset -p -c 0 "${t##*/}" > /dev/null 2>&1 || true ;;
            esac
        done
    fi
}

# Setup time grows linearly: a size whose setup, extrapolated from the
# previous size, would take more than BENCH_PMD_BUDGET seconds is replaced
# by the largest multiple of 100k (or 10k) that fits.
budget=${BENCH_PMD_BUDGET:-240}
prev=
for n in $sizes; do
    if [ -n "$prev" ]; then
        s=$(awk -v k="pmd.$prev.setup_s" '$1 == k { v = $2 } END { print v }' \
                "$samples")
        if [ -z "$s" ]; then
            echo "$n connections: skipped, the previous size failed" \
                >> "$notes"
            continue
        fi
        fit=$(awk -v s="$s" -v p="$prev" -v b="$budget" -v n="$n" 'BEGIN {
                  est = s * n / p
                  if (est <= b) { print n; exit }
                  m = int(b / s * p)
                  step = m >= 100000 ? 100000 : 10000
                  print int(m / step) * step }')
        if [ "$fit" != "$n" ]; then
            echo "$n connections: setup estimated at" \
                 "$(awk -v s="$s" -v p="$prev" -v n="$n" \
                        'BEGIN { printf "%.0f", s * n / p }') s" \
                 "(from $s s for $prev), over the budget of $budget s:" \
                 "measured $fit instead" >> "$notes"
            n=$fit
            [ "$n" -gt "$prev" ] || continue
        fi
    fi
    prev=$n
    note "PMD pipeline: $n connections"
    start "$n"
    if ! "${gen[@]}" "$python" - "$dir" "$vs_pid" "$n" "$seconds" "$notes" \
           >> "$samples" <<'EOF'
# The generator and the measurement, see the top of bench-pmd.sh.
import json
import os
import re
import selectors
import socket
import struct
import sys
import threading
import time

DIR, VS_PID, N, SECONDS = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                           float(sys.argv[4]))
NOTES = sys.argv[5]
# Streams per port: netdev-dummy reads one frame per stream and main loop
# iteration (in two reads).  With 4 or more, some streams stop being read
# after a few frames (seen with netdev-dummy of 4.0.0), so 2.
STREAMS = int(os.environ.get('BENCH_PMD_STREAMS', '2'))
CHUNK = 20000           # Connections per setup step.
VIP, REAL = 0xac100001, 0x0ac80001      # 172.16.0.1, 10.200.0.1
A, B = 1000, 5000                       # Client's and server's ISN.
SYN, ACK = 0x02, 0x10


def sample(key, value):
    if value != 'nan':
        print('pmd.%d.%s %s' % (N, key, value), flush=True)


def log(msg):
    with open(NOTES, 'a') as f:
        f.write('%d connections: %s\n' % (N, msg))
    print('bench-pmd.sh: %d: %s' % (N, msg), file=sys.stderr, flush=True)


class Unixctl:
    def __init__(self, path):
        self.path = path
        self.n = 0

    def call(self, method, *params):
        self.n += 1
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(300)
        s.connect(self.path)
        s.sendall(json.dumps({'method': method, 'params': list(params),
                              'id': self.n}).encode())
        buf, dec = b'', json.JSONDecoder()
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                raise RuntimeError('%s: connection closed' % method)
            buf += chunk
            try:
                msg, _ = dec.raw_decode(buf.decode())
                break
            except ValueError:
                continue
        s.close()
        if msg.get('error') is not None:
            raise RuntimeError('%s: %s' % (method, msg['error']))
        return msg.get('result') or ''


ctl = Unixctl(os.path.join(DIR, 'ovs-vswitchd.%d.ctl' % VS_PID))


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def client(i):
    return 0x0a010000 + (i >> 8), 1024 + (i & 0xff)


def frame(src, dst, sport, dport, seq, ack, flags):
    s, d = struct.pack('!I', src), struct.pack('!I', dst)
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags,
                      65535, 0, 0)
    c = csum(s + d + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 0, 0x4000, 64,
                     6, 0, s, d)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    f = (b'\x50\x54\x00\x00\x00\x02\x50\x54\x00\x00\x00\x01\x08\x00'
         + ip + tcp)
    f += b'\0' * (60 - len(f))
    return struct.pack('!H', len(f)) + f


FRAME_LEN = 62          # Every frame above, with its length.


def syn(i):
    c, p = client(i)
    return frame(c, VIP, p, 80, A, 0, SYN)


def syn_ack(i):
    c, p = client(i)
    return frame(REAL, c, 80, p, B, A + 1, SYN | ACK)


def ack(i):
    c, p = client(i)
    return frame(c, VIP, p, 80, A + 1, B + 1, ACK)


def server_ack(i):
    c, p = client(i)
    return frame(REAL, c, 80, p, B + 1, A + 1, ACK)


def connect(port):
    socks = []
    for _ in range(STREAMS):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(os.path.join(DIR, '%s.sock' % port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        socks.append(s)
    return socks


def write_all(pairs, stop=None):
    """Writes each (socket, bytes) in full; with 'stop' (an Event), writes
    each buffer over and over until it is set, and then up to the end of
    the frame it was in: netdev-dummy reads the next bytes as a length, and
    closes a stream whose framing is lost."""
    sel = selectors.DefaultSelector()
    for s, data in pairs:
        if data:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_WRITE, [memoryview(data), 0])
    while sel.get_map():
        if stop is not None and stop.is_set():
            break
        for key, _ in sel.select(timeout=0.5):
            st = key.data
            try:
                st[1] += key.fileobj.send(st[0][st[1]:st[1] + (1 << 18)])
            except BlockingIOError:
                continue
            if st[1] == len(st[0]):
                if stop is None:
                    sel.unregister(key.fileobj)
                else:
                    st[1] = 0
    for key in list(sel.get_map().values()):
        st = key.data
        rest = -st[1] % FRAME_LEN
        if rest:
            key.fileobj.setblocking(True)
            key.fileobj.sendall(st[0][st[1]:st[1] + rest])
    sel.close()


def spread(socks, frames):
    """Deals 'frames' to 'socks' round robin: (socket, bytes) pairs."""
    k = len(socks)
    return [(socks[j], b''.join(frames[j::k])) for j in range(k)]


def pmd_stats():
    """Sums of dpif-netdev/pmd-stats-show (pmd-perf-show's format) over
    the threads that received packets: packets, busy cycles (from each
    thread's cycles/pkt), datapath passes and their kinds."""
    text = ctl.call('dpif-netdev/pmd-stats-show')
    out = {'received': 0, 'busy_cycles': 0, 'used_cycles': 0, 'passes': 0,
           'busy_iterations': 0,
           'phwol': 0, 'emc': 0, 'smc': 0, 'megaflow': 0, 'upcalls': 0}
    for sect in re.split(r'\n(?=\S)', text):
        m = re.search(r'Rx packets: *(\d+)(?:.*?([\d.]+) cycles/pkt)?', sect)
        if not m or not int(m.group(1)):
            continue
        n = int(m.group(1))
        out['received'] += n
        out['busy_cycles'] += n * float(m.group(2) or 0)
        for key, rx in (('used_cycles', r'Used TSC cycles: *(\d+)'),
                        ('passes', r'Datapath passes: *(\d+)'),
                        ('busy_iterations', r'busy iterations: *(\d+)'),
                        ('phwol', r'PHWOL hits: *(\d+)'),
                        ('emc', r'EMC hits: *(\d+)'),
                        ('smc', r'SMC hits: *(\d+)'),
                        ('megaflow', r'Megaflow hits: *(\d+)'),
                        ('upcalls', r'Upcalls: *(\d+)')):
            v = re.search(rx, sect)
            out[key] += int(v.group(1)) if v else 0
    return out, text


def received():
    return pmd_stats()[0]['received']


def counter(name):
    return int(ctl.call('coverage/read-counter', name).strip() or 0)


def send_step(socks, frames, base):
    """Sends 'frames' and waits until the PMD received them all, or
    received nothing more for 2 s; returns the new count and the number of
    frames the PMD never received (netdev-dummy drops frames beyond 100
    queued per port)."""
    write_all(spread(socks, frames))
    want = base + len(frames)
    last, since = -1, time.monotonic()
    while True:
        got = received()
        if got >= want:
            return got, 0
        if got != last:
            last, since = got, time.monotonic()
        elif time.monotonic() - since > 2:
            return got, want - got
        time.sleep(0.005)


def setup(p1, p2):
    base = received()
    lost = 0
    start = time.monotonic()
    resent = 0
    for first in range(0, N, CHUNK):
        idx = range(first, min(N, first + CHUNK))
        for socks, make in ((p1, syn), (p2, syn_ack), (p1, ack)):
            frames = [make(i) for i in idx]
            # netdev-dummy drops what does not fit its queue: the whole
            # step again (conntrack takes retransmissions as such) until
            # one pass loses nothing.
            for _ in range(5):
                base, l = send_step(socks, frames, base)
                if not l:
                    break
                resent += 1
            lost += l
    sample('setup_s', '%.3f' % (time.monotonic() - start))
    sample('setup_lost_pkts', lost)
    sample('setup_resent_steps', resent)
    return lost


def settle(get, limit=120):
    """Polls 'get' until it gives the same value twice 0.5 s apart."""
    prev = get()
    for _ in range(limit * 2):
        time.sleep(0.5)
        cur = get()
        if cur == prev:
            return cur
        prev = cur
    return prev


def in_hw():
    """Connections in hardware, the core's count, and the entries of the
    emulated tables, from ct-offload/show (ct-offload-dummy/show would
    list every entry)."""
    text = ctl.call('ct-offload/show')
    return (sum(int(x) for x in re.findall(r'(\d+) in hardware', text)),
            sum(int(x) for x in re.findall(r'table: (\d+)/', text)))


def measure(mode, p1, p2, frames1, frames2):
    stop = threading.Event()

    def write():
        try:
            write_all(spread(p1, frames1) + spread(p2, frames2), stop)
        except OSError as e:
            log('%s: the generator failed: %s' % (mode, e))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(2)               # Warm-up: caches, EMC, SMC.
        hit0 = counter('ct_offload_hw_hit')
        fwd0 = counter('datapath_drop_hw_post_process_consumed')
        skip0 = counter('conntrack_offload_lookup_skipped')
        ctl.call('dpif-netdev/pmd-stats-clear')
        t0 = time.monotonic()
        time.sleep(SECONDS)
        st, text = pmd_stats()
        dt = time.monotonic() - t0
        # The threads add their coverage counts to the totals now and then:
        # both ends of this window lag alike.
        hit = counter('ct_offload_hw_hit') - hit0
        skip = counter('conntrack_offload_lookup_skipped') - skip0
        fwd = counter('datapath_drop_hw_post_process_consumed') - fwd0
    finally:
        stop.set()
        writer.join()
    with open(os.path.join(DIR, 'pmd-stats-%s.txt' % mode), 'w') as f:
        f.write(text)
    pkts = st['received']
    busy = st['busy_cycles']
    sample('%s.packets' % mode, int(pkts))
    sample('%s.pps' % mode, '%.0f' % (pkts / dt))
    sample('%s.cycles_per_pkt' % mode,
           '%.1f' % (busy / pkts) if pkts else 'nan')
    if st['used_cycles']:
        sample('%s.busy_fraction' % mode,
               '%.4f' % (busy / st['used_cycles']))
    if st['busy_iterations']:
        sample('%s.pkts_per_busy_iteration' % mode,
               '%.2f' % (pkts / st['busy_iterations']))
    if pkts:
        sample('%s.recirculations_per_pkt' % mode,
               '%.3f' % (st['passes'] / pkts - 1))
        for k in ('phwol', 'emc', 'smc', 'megaflow', 'upcalls'):
            sample('%s.%s_per_pkt' % (mode, k), '%.3f' % (st[k] / pkts))
    # Coverage counts over a slightly longer window than the PMD
    # statistics (warm-up excluded): as fractions, they are close enough.
    sample('%s.hw_hit_per_pkt' % mode, '%.3f' % (hit / pkts if pkts else 0))
    # A delivering provider hands every packet to software; one that
    # forwards consumes those it resolves (ct-offload-dummy's forward=true).
    sample('%s.hw_consumed_pkts' % mode, fwd)
    if fwd:
        log('%s: the emulated hardware consumed %d packets: it forwards, '
            'it does not deliver' % (mode, fwd))
    sample('%s.lookup_skipped_per_pkt' % mode,
           '%.3f' % (skip / pkts if pkts else 0))


def main():
    p1, p2 = connect('p1'), connect('p2')
    time.sleep(1)           # Let the main loop accept the streams.
    lost = setup(p1, p2)
    nconns = settle(lambda: int(ctl.call('dpctl/ct-get-nconns').strip()))
    sample('conntrack_conns', nconns)
    hw, table = settle(in_hw)
    text = ctl.call('ct-offload/show')
    sample('on.in_hw_conns', hw)
    sample('on.dummy_table_entries', table)
    sample('on.in_hw_fraction', '%.4f' % (hw / N))
    sample('on.conflicts',
           sum(int(x) for x in re.findall(r'conflicts (\d+)', text)))
    with open(os.path.join(DIR, 'offload-show-on.txt'), 'w') as f:
        f.write(text)
    if N <= 100000:
        dump = ctl.call('dpctl/dump-conntrack')
        sample('on.dump_hw_offload_conns',
               sum(1 for line in dump.splitlines() if 'hw_offload' in line))
    if lost:
        log('%d setup packets were dropped by netdev-dummy (queue full)'
            % lost)
    if hw < N * 0.99:
        log('only %d of %d connections in the emulated hardware' % (hw, N))

    frames1 = [ack(i) for i in range(N)]
    frames2 = [server_ack(i) for i in range(N)]
    measure('on', p1, p2, frames1, frames2)

    if os.system('ovs-vsctl --timeout=60 set Open_vSwitch . '
                 'other_config:hw-offload-ct=false'):
        sys.exit('could not set hw-offload-ct=false: no "off" figures')
    settle(lambda: ctl.call('ct-offload/show'), limit=30)
    sample('off.in_hw_conns', in_hw()[0])
    measure('off', p1, p2, frames1, frames2)
    sample('off.conntrack_conns',
           int(ctl.call('dpctl/ct-get-nconns').strip()))


main()
EOF
    then
        echo "$n connections: the measurement failed (see $dir)" |
            tee -a "$notes"
    fi
    stop
done
}

main "$@"; exit
