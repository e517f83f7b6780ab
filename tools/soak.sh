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

# "make soak": conntrack offload under churn and faults for SOAK_MINUTES
# (default 30) minutes.
#
# Runs ovsdb-server and ovs-vswitchd (copied from build/ovs at start, so
# that a rebuild during the run changes nothing) in build/soak, on the
# dummy datapath with hw-offload=true and the clock running.  Bridge br0
# has three pairs of dummy ports, each pair a client side and a server side
# with conntrack rules:
#
#   p1 -> p2   zone 1, IPv4 and IPv6
#   p3 -> p4   zone 2, IPv4 and IPv6, SNAT to 10.2.255.240 / fd02::f0;
#              bound to the dummy_x dpif-offload instance (Interface
#              other_config:hw-offload-priority), so that both providers
#              carry connections
#   p5 -> p6   zone 3, IPv4 and IPv6; both ports are deleted and added
#              again in every cycle
#
# A driver (Python, below) talks JSON-RPC to ovs-vswitchd's unixctl socket
# directly (no process per call), one connection per "netdev-dummy/receive"
# call and one packet per call: ovs-vswitchd's main loop takes one packet
# per dummy port and iteration, and accepts a new unixctl connection only
# after that, so each packet is processed before the next one is queued
# (with several packets per call, a later call's packet on another port
# could overtake them, and conntrack would see replies before requests).
# SOAK_RATE (default 250) packets per second keeps the load modest.  About
# 8 conversations go on per port pair: TCP (handshake, 1 to 4 data segments
# with consistent sequence and acknowledgement numbers, FIN/FIN/ACK or RST
# teardown) and UDP (1 to 4 request/reply exchanges, then left to expire),
# IPv4 and IPv6.  Packets of connections in the emulated hardware are
# resolved by it (ct_offload_hw_hit).
#
# The run is a sequence of cycles (SOAK_MINUTES * 60 / 20 seconds each,
# between 30 and 90).  In every cycle:
#   - the dummy providers' knobs move to the next phase: fail-percent 1, 50
#     and 100 (dummy_x 50 in that phase, so that hardware still resolves
#     packets), a small capacity (16 for dummy, 8 for dummy_x: both tables
#     fill up), a slow provider (delay-ms=1), none;
#   - a tuple flush of a live UDP connection, a zone flush (zones 1, 2, 3
#     in turn), every third cycle a flush of everything, and every third
#     cycle a flush of the hardware only (ct-offload/flush); TCP
#     conversations of flushed zones end there (see flush());
#   - p5 and p6 are deleted while their connections are in hardware (the
#     conversations on them are abandoned), and added back;
#   - every second cycle hw-offload-ct goes false and true again (the knobs
#     are applied again to the new instances);
#   - a quiescent point: the driver finishes its conversations and starts no
#     new one, the offload queue drains, and the accounting must close.
# Traffic continues during configuration changes (ovs-vsctl runs in the
# background).  A sample every SOAK_SAMPLE seconds (default 10) goes into
# build/soak/report.txt.
#
# Assertions (any failure makes the last line "soak: FAIL <reason>"):
#   - memory: after warm-up (the first quarter of the run), the highest RSS
#     of the last third is at most the reference RSS (highest RSS between
#     25 % and 40 % of the run) plus max(10 %, 8 MiB).  ovs-vswitchd's RSS
#     is about 25 MB here; glibc's arenas and the cmaps/hmaps that double
#     and halve move it by a few MB in steps, which the 8 MiB floor
#     absorbs.  The report states the smallest per-connection leak that the
#     bound detects, given the connections created after the reference.
#   - RCU: ovs-rcu has no counter, so each hw-offload-ct=false is a probe:
#     a destroyed ct-offload instance is freed (and leaves the list that
#     ct-offload-dummy/show prints) only by an ovsrcu_postpone() callback,
#     i.e. after a grace period; it must be gone within 10 s.  The log
#     must not have "blocked ... waiting for ... to quiesce", and the memory
#     bound catches postponed frees that never run.
#   - accounting, at each quiescent point (retried for up to 15 s, as the
#     conntrack sweeper removes expired connections at its own pace; its
#     interval is set to 1 s): pending reaches 0 and queued = processed +
#     pending (dropped events are never queued; dropped must stay 0 with the
#     default queue size); the emulated tables carry exactly the connections
#     the core counts in hardware, and so does dump-conntrack (hw_offload);
#     conntrack's count = held + software-only, where software-only are the
#     connections dump-conntrack does not mark hw_offload: every held
#     connection is programmed once its conversation is complete (held =
#     in hardware), none is stuck.
#   - hardware-resolved traffic: ct_offload_hw_hit grows in every cycle.
#   - the capacity phase fills the "dummy" table to its capacity at least
#     once and hits "full".
#   - hw-offload-ct=false leaves no instance and no ct_offload thread; true
#     brings back both instances and one thread.
#   - no WARN, ERR or EMER in ovs-vswitchd.log and ovsdb-server.log except
#     the expected rate-limited "ct_offload|WARN|...: add|offload failed
#     for ..." (injected failures, full tables) and ct_offload's "Dropped N
#     log messages" summaries of the same rate limiter.
#   - at the end: a flush empties conntrack and the providers' tables
#     (held 0, in hardware 0, ct-offload-dummy/show lists no entry), one
#     more RCU probe, then "ovs-appctl exit" and ovs-vswitchd exits with
#     status 0 within 30 s.

# All in a function, so that bash has read the whole script before it runs
# any of it: editing the file during a run does not disturb the run.
main() {
set -euo pipefail
. "$(dirname "$0")/lib.sh"

minutes=${SOAK_MINUTES:-30}
sample=${SOAK_SAMPLE:-10}
dir=$top/build/soak
report=$dir/report.txt

# Daemons left by an interrupted earlier run.
for p in "$dir"/ovs-vswitchd.pid "$dir"/ovsdb-server.pid; do
    if [ -f "$p" ]; then
        pid=$(cat "$p" 2>/dev/null || true)
        if [ -n "$pid" ] && grep -q "$dir" "/proc/$pid/cmdline" 2>/dev/null
        then
            kill "$pid" 2>/dev/null || true
        fi
    fi
done
rm -rf "$dir"
mkdir -p "$dir/bin"
for b in vswitchd/ovs-vswitchd ovsdb/ovsdb-server ovsdb/ovsdb-tool \
         utilities/ovs-vsctl utilities/ovs-appctl utilities/ovs-ofctl; do
    [ -x "$tree/$b" ] || die "$tree/$b missing: run make first"
    cp "$tree/$b" "$dir/bin/"
done
cp "$tree/vswitchd/vswitch.ovsschema" "$dir/"

export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir \
       OVS_PKGDATADIR=$dir
export PATH=$dir/bin:$PATH

vs_pid=
stop() {
    local p pid
    if [ -n "$vs_pid" ] && kill -0 "$vs_pid" 2>/dev/null; then
        kill "$vs_pid" 2>/dev/null || true
    fi
    for p in "$dir"/ovsdb-server.pid; do
        pid=$(cat "$p" 2>/dev/null || true)
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    if [ -n "$vs_pid" ]; then
        wait "$vs_pid" 2>/dev/null || true
    fi
}
trap stop EXIT

finish() {
    echo "soak: $*" | tee -a "$report"
    case $1 in PASS*) exit 0 ;; *) exit 1 ;; esac
}

ovsdb-tool create "$dir/conf.db" "$dir/vswitch.ovsschema"
ovsdb-server --detach --no-chdir --pidfile --log-file -vconsole:off \
    --remote=punix:"$dir/db.sock" "$dir/conf.db"
ovs-vsctl --no-wait init
ovs-vsctl --no-wait set Open_vSwitch . other_config:hw-offload=true

# Not detached: its exit status is the "clean exit" check.
ovs-vswitchd --no-chdir --pidfile --log-file -vconsole:off \
    --enable-dummy --disable-system --disable-system-route \
    > "$dir/ovs-vswitchd.out" 2>&1 &
vs_pid=$!
for _ in $(seq 100); do
    [ -S "$dir/ovs-vswitchd.$vs_pid.ctl" ] && break
    sleep 0.1
done
[ -S "$dir/ovs-vswitchd.$vs_pid.ctl" ] || finish "FAIL ovs-vswitchd did not start"

ovs-vsctl -- add-br br0 -- set bridge br0 datapath_type=dummy fail-mode=secure \
    -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 \
    -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2 \
    -- add-port br0 p3 -- set interface p3 type=dummy ofport_request=3 \
                          other_config:hw-offload-priority=dummy_x \
    -- add-port br0 p4 -- set interface p4 type=dummy ofport_request=4 \
                          other_config:hw-offload-priority=dummy_x \
    -- add-port br0 p5 -- set interface p5 type=dummy ofport_request=5 \
    -- add-port br0 p6 -- set interface p6 type=dummy ofport_request=6

cat > "$dir/flows.txt" <<'EOF'
table=0,priority=10,in_port=1,ip,actions=ct(table=1,zone=1)
table=0,priority=10,in_port=2,ip,actions=ct(table=1,zone=1)
table=0,priority=10,in_port=1,ipv6,actions=ct(table=1,zone=1)
table=0,priority=10,in_port=2,ipv6,actions=ct(table=1,zone=1)
table=0,priority=10,in_port=3,ip,actions=ct(table=1,zone=2,nat)
table=0,priority=10,in_port=4,ip,actions=ct(table=1,zone=2,nat)
table=0,priority=10,in_port=3,ipv6,actions=ct(table=1,zone=2,nat)
table=0,priority=10,in_port=4,ipv6,actions=ct(table=1,zone=2,nat)
table=0,priority=10,in_port=5,ip,actions=ct(table=1,zone=3)
table=0,priority=10,in_port=6,ip,actions=ct(table=1,zone=3)
table=0,priority=10,in_port=5,ipv6,actions=ct(table=1,zone=3)
table=0,priority=10,in_port=6,ipv6,actions=ct(table=1,zone=3)
table=1,priority=10,in_port=1,ct_state=+trk+new,ip,actions=ct(commit,zone=1),output:2
table=1,priority=10,in_port=1,ct_state=+trk+new,ipv6,actions=ct(commit,zone=1),output:2
table=1,priority=10,in_port=3,ct_state=+trk+new,ip,actions=ct(commit,zone=2,nat(src=10.2.255.240)),output:4
table=1,priority=10,in_port=3,ct_state=+trk+new,ipv6,actions=ct(commit,zone=2,nat(src=[fd02::f0])),output:4
table=1,priority=10,in_port=5,ct_state=+trk+new,ip,actions=ct(commit,zone=3),output:6
table=1,priority=10,in_port=5,ct_state=+trk+new,ipv6,actions=ct(commit,zone=3),output:6
table=1,priority=10,in_port=1,ct_state=+trk+est,actions=output:2
table=1,priority=10,in_port=2,ct_state=+trk+est,actions=output:1
table=1,priority=10,in_port=3,ct_state=+trk+est,actions=output:4
table=1,priority=10,in_port=4,ct_state=+trk+est,actions=output:3
table=1,priority=10,in_port=5,ct_state=+trk+est,actions=output:6
table=1,priority=10,in_port=6,ct_state=+trk+est,actions=output:5
table=1,priority=5,ct_state=+trk+inv,actions=drop
table=1,priority=1,actions=drop
EOF
ovs-ofctl add-flows br0 "$dir/flows.txt"

python3 - "$dir" "$vs_pid" "$minutes" "$sample" "$top/tools" <<'PY'
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import time

DIR, VS_PID, MINUTES, SAMPLE, TOOLS = sys.argv[1:6]
VS_PID = int(VS_PID)
TOTAL = float(MINUTES) * 60
SAMPLE = float(SAMPLE)
sys.path.insert(0, TOOLS)
import compose                                   # noqa: E402
import ipaddress                                 # noqa: E402

DP = "dummy@ovs-dummy"
INST = "dummy[%s]" % DP
INST_X = "dummy_x[%s]" % DP
CYCLE = max(30.0, min(90.0, TOTAL / 20))
RATE = float(os.environ.get("SOAK_RATE", 250))  # Packets per second.
PER_PAIR = 8                # Conversations going on per port pair.
NO_EVENTS = os.environ.get("SOAK_NO_EVENTS")   # Debugging: traffic only.

report = open(os.path.join(DIR, "report.txt"), "w")
failures = []


def log(msg):
    line = "%7.1f %s" % (time.time() - T0, msg)
    print(line, flush=True)
    report.write(line + "\n")
    report.flush()


def fail(msg):
    failures.append(msg)
    log("FAIL: " + msg)


class Unixctl:
    """JSON-RPC to ovs-vswitchd's control socket, a connection per call."""

    def __init__(self, path):
        self.path = path
        self.n = 0

    def call(self, method, *params, timeout=60, check=True):
        self.n += 1
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.path)
        s.sendall(json.dumps({"method": method, "params": list(params),
                              "id": self.n}).encode())
        buf, dec = b"", json.JSONDecoder()
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                raise RuntimeError("%s: connection closed" % method)
            buf += chunk
            try:
                msg, _ = dec.raw_decode(buf.decode())
                break
            except ValueError:
                continue
        s.close()
        if msg.get("error") is not None:
            if check:
                raise RuntimeError("%s %s: %s" % (method, " ".join(params),
                                                  msg["error"]))
            return None
        return msg.get("result") or ""


ctl = Unixctl(os.path.join(DIR, "ovs-vswitchd.%d.ctl" % VS_PID))


def vsctl_start(*args):
    return subprocess.Popen(["ovs-vsctl", "--timeout=60"] + list(args),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


# Packets.

def tcp(src, sport, dst, dport, flags, seq, ack, length=0):
    f = sum({"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}[c] for c in flags)
    l4 = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff,
                     ack & 0xffffffff, 5 << 4, f, 65535, 0, 0) + b"x" * length
    return compose.frame(src, dst, 6, l4).hex()


def udp(src, sport, dst, dport, length):
    l4 = struct.pack("!HHHH", sport, dport, 8 + length, 0) + b"x" * length
    return compose.frame(src, dst, 17, l4).hex()


class Conv:
    """A conversation: steps alternate client side, server side."""

    def __init__(self, pair, proto, v6, cli, sport, srv, dport, nat):
        self.pair, self.proto, self.v6 = pair, proto, v6
        self.cli, self.sport, self.srv, self.dport = cli, sport, srv, dport
        back = nat or cli       # Where the server's packets go.
        steps = []
        if proto == "tcp":
            c, s = random.getrandbits(32), random.getrandbits(32)
            n, L = random.randint(1, 4), 100
            C = lambda *a: tcp(cli, sport, srv, dport, *a)   # noqa: E731
            S = lambda *a: tcp(srv, dport, back, sport, *a)  # noqa: E731
            steps.append([C("S", c, 0)])
            steps.append([S("SA", s, c + 1)])
            steps.append([C("A", c + 1, s + 1), C("PA", c + 1, s + 1, L)])
            steps.append([S("A", s + 1, c + 1 + L)])
            for k in range(2, n + 1):
                steps.append([C("PA", c + 1 + (k - 1) * L, s + 1, L)])
                steps.append([S("A", s + 1, c + 1 + k * L)])
            end = c + 1 + n * L
            if random.random() < 0.15:
                steps.append([C("R", end, 0)])
            else:
                steps.append([C("FA", end, s + 1)])
                steps.append([S("FA", s + 1, end + 1)])
                steps.append([C("A", end + 1, s + 2)])
        else:
            for _ in range(random.randint(1, 4)):
                steps.append([udp(cli, sport, srv, dport,
                                  random.randint(20, 200))])
                steps.append([udp(srv, dport, back, sport,
                                  random.randint(20, 200))])
        self.steps = steps
        self.i = 0
        self.last_exchange = None   # Time of the last full UDP exchange.

    def done(self):
        return self.i >= len(self.steps)


class Pair:
    def __init__(self, zone, cport, sport, net4, net6, nat4, nat6):
        self.zone, self.cport, self.sport = zone, cport, sport
        self.net4, self.net6, self.nat4, self.nat6 = net4, net6, nat4, nat6
        self.convs = []
        self.present = True


pairs = [
    Pair(1, "p1", "p2", "10.1", "fd01::", None, None),
    Pair(2, "p3", "p4", "10.2", "fd02::", "10.2.255.240", "fd02::f0"),
    Pair(3, "p5", "p6", "10.3", "fd03::", None, None),
]
counter = [0]
stats = {"convs": 0, "tcp": 0, "udp": 0, "v6": 0, "calls": 0, "pkts": 0}


def new_conv(pair):
    # A tuple not used for a long time: client address and port from a
    # counter (the client port also stays unique among live connections of
    # the SNAT zone, so that SNAT keeps it).
    counter[0] += 1
    k = counter[0]
    sport = 10000 + k % 50000
    proto = "tcp" if random.random() < 0.6 else "udp"
    v6 = random.random() < 0.35
    if v6:
        cli = ipaddress.ip_address("%s%x:%x" % (pair.net6, 1 + (k >> 16) % 255,
                                                 k & 0xffff))
        srv = ipaddress.ip_address("%sff:%x" % (pair.net6, 1 + k % 7))
        nat = pair.nat6 and ipaddress.ip_address(pair.nat6)
    else:
        cli = ipaddress.ip_address("%s.%d.%d" % (pair.net4,
                                                 1 + (k >> 8) % 200, k & 255))
        srv = ipaddress.ip_address("%s.250.%d" % (pair.net4, 1 + k % 7))
        nat = pair.nat4 and ipaddress.ip_address(pair.nat4)
    dport = 80 if proto == "tcp" else 53
    stats["convs"] += 1
    stats[proto] += 1
    stats["v6"] += v6
    return Conv(pair, proto, v6, cli, sport, srv, dport, nat)


def receive(port, pkts):
    # One packet per call: ovs-vswitchd's main loop takes one packet per
    # dummy port and iteration, and accepts the next unixctl connection
    # only after that, so the packet is processed before the next call's;
    # with several packets per call, those left in one port's queue could
    # be overtaken by a later call's packets on another port.
    for pkt in pkts:
        now = time.time()
        if now < pace[0]:
            time.sleep(pace[0] - now)
        pace[0] = max(pace[0], now - 1) + 1.0 / RATE
        ctl.call("netdev-dummy/receive", port, pkt)
        stats["calls"] += 1
        stats["pkts"] += 1


pace = [0.0]


def tick(start_new=True):
    """One step on the client side then one on the server side for every
    conversation."""
    for pair in pairs:
        if not pair.present:
            continue
        if start_new:
            while len(pair.convs) < PER_PAIR:
                pair.convs.append(new_conv(pair))
        for port in (pair.cport, pair.sport):
            for conv in pair.convs:
                if not conv.done():
                    receive(port, conv.steps[conv.i])
                    conv.i += 1
                    if port == pair.sport and conv.proto == "udp":
                        conv.last_exchange = time.time()
        pair.convs = [c for c in pair.convs if not c.done()]


def drain():
    while any(p.convs for p in pairs if p.present):
        tick(start_new=False)


def run_with_traffic(proc):
    while proc.poll() is None:
        tick()
    if proc.returncode:
        raise RuntimeError("ovs-vsctl failed: %s"
                           % proc.stderr.read().decode().strip())


# State.

def rss_kb():
    with open("/proc/%d/status" % VS_PID) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def offload_show():
    text = ctl.call("ct-offload/show")
    st = {"active": None, "insts": {}, "queued": 0, "processed": 0,
          "pending": 0, "dropped": 0}
    cur = None
    for line in text.splitlines():
        m = re.match(r"(\S+): (active|inactive)$", line)
        if m and m.group(1) == DP:
            st["active"] = m.group(2) == "active"
            continue
        m = re.match(r"\s+events: queued (\d+), processed (\d+), "
                     r"pending (\d+), dropped (\d+)", line)
        if m:
            st["queued"], st["processed"], st["pending"], st["dropped"] = \
                map(int, m.groups())
            continue
        m = re.match(r"\s+(\S+\[\S+\]): priority", line)
        if m:
            cur = st["insts"].setdefault(m.group(1), {})
            continue
        m = re.match(r"\s+connections: (\d+) held, (\d+) in hardware", line)
        if m and cur is not None:
            cur["held"], cur["in_hw"] = map(int, m.groups())
        m = re.match(r"\s+refused: (\d+), failed: (\d+)", line)
        if m and cur is not None:
            cur["refused"], cur["failed"] = map(int, m.groups())
        m = re.match(r"\s+table: (\d+)/(\d+) connections, full (\d+), "
                     r"injected failures (\d+), conflicts (\d+)", line)
        if m and cur is not None:
            (cur["used"], cur["cap"], cur["full"], cur["injected"],
             cur["conflicts"]) = map(int, m.groups())
    st["held"] = sum(i.get("held", 0) for i in st["insts"].values())
    st["in_hw"] = sum(i.get("in_hw", 0) for i in st["insts"].values())
    st["used"] = sum(i.get("used", 0) for i in st["insts"].values())
    return st


def conntrack():
    lines = [x for x in ctl.call("dpctl/dump-conntrack").splitlines() if x]
    return len(lines), sum(",hw_offload" in x for x in lines)


def counter_value(name):
    return int(ctl.call("coverage/read-counter", name).strip() or 0)


def ct_threads():
    n = 0
    for t in os.listdir("/proc/%d/task" % VS_PID):
        try:
            with open("/proc/%d/task/%s/comm" % (VS_PID, t)) as f:
                n += f.read().startswith("ct_offload")
        except OSError:
            pass
    return n


def cpu_seconds():
    with open("/proc/%d/stat" % VS_PID) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


samples = []
capacity_full_seen = [False]


def take_sample(phase):
    st = offload_show()
    conns, hw = conntrack()
    s = {"t": time.time() - T0, "rss": rss_kb(), "conns": conns,
         "ct_hw": hw, "held": st["held"], "in_hw": st["in_hw"],
         "used": st["used"], "queued": st["queued"],
         "processed": st["processed"], "pending": st["pending"],
         "dropped": st["dropped"], "hw_hit": counter_value("ct_offload_hw_hit"),
         "cpu": cpu_seconds(), "phase": phase,
         "active": st["active"]}
    samples.append(s)
    i = st["insts"].get(INST)
    if phase == "capacity" and i and i["used"] == i["cap"] and i["full"]:
        capacity_full_seen[0] = True
    report.write("%7.1f %8d %6d %6d %5d %5d %5d %9d %9d %5d %5d %9d %6.1f %s%s\n"
                 % (s["t"], s["rss"], s["conns"], s["ct_hw"], s["held"],
                    s["in_hw"], s["used"], s["queued"], s["processed"],
                    s["pending"], s["dropped"], s["hw_hit"], s["cpu"],
                    phase, "" if st["active"] else " (offload off)"))
    report.flush()
    if st["dropped"]:
        fail("%d events dropped with the default queue size" % st["dropped"])
    if st["queued"] < st["processed"]:
        fail("processed %d > queued %d" % (st["processed"], st["queued"]))


# Knob phases: (label, knobs of "dummy", knobs of "dummy_x").
PHASES = [
    ("fail-1", "fail-percent=1", "fail-percent=1"),
    ("fail-50", "fail-percent=50", "fail-percent=50"),
    ("fail-100", "fail-percent=100", "fail-percent=50"),
    ("capacity", "capacity=16", "capacity=8"),
    ("slow", "delay-ms=1", "delay-ms=1"),
    ("clean", "", ""),
]
phase = [PHASES[-1]]
seed = [1]


def apply_knobs():
    label, k, kx = phase[0]
    for inst, knobs in ((INST, k), (INST_X, kx)):
        seed[0] += 1
        args = {"capacity": "65536", "fail-every": "0", "fail-percent": "0",
                "delay-ms": "0", "seed": str(seed[0])}
        for kv in knobs.split():
            key, val = kv.split("=")
            args[key] = val
        ctl.call("ct-offload-dummy/set", inst,
                 *["%s=%s" % kv for kv in args.items()])


def wait_for(what, pred, timeout, traffic=True):
    start = time.time()
    while True:
        v = pred()
        if v:
            return time.time() - start
        if time.time() - start > timeout:
            fail("%s: not within %d s" % (what, timeout))
            return None
        if traffic:
            tick()
        else:
            time.sleep(0.1)


rcu_probes = []


def toggle_offload():
    """hw-offload-ct false then true, with traffic; the freeing of the old
    instances is the RCU probe."""
    run_with_traffic(vsctl_start("set", "Open_vSwitch", ".",
                                 "other_config:hw-offload-ct=false"))
    st = offload_show()
    if st["active"] or st["insts"]:
        fail("hw-offload-ct=false: ct-offload/show still lists %s"
             % (list(st["insts"]) or "an active datapath"))
    lat = wait_for("RCU probe (destroyed instances freed)",
                   lambda: not ctl.call("ct-offload-dummy/show").strip(), 10)
    if lat is not None:
        rcu_probes.append(lat)
    if ct_threads():
        fail("hw-offload-ct=false: a ct_offload thread remains")
    run_with_traffic(vsctl_start("set", "Open_vSwitch", ".",
                                 "other_config:hw-offload-ct=true"))
    wait_for("hw-offload-ct=true: instances back",
             lambda: (lambda st: st["active"] and len(st["insts"]) == 2)(
                 offload_show()), 10)
    apply_knobs()
    if ct_threads() != 1:
        fail("hw-offload-ct=true: %d ct_offload threads" % ct_threads())
    log("hw-offload-ct toggled; RCU probe %.2f s"
        % (rcu_probes[-1] if rcu_probes and lat is not None else -1))


quiescent = []


def quiescent_check(label):
    drain()
    if wait_for("offload queue drained",
                lambda: offload_show()["pending"] == 0, 20,
                traffic=False) is None:
        return
    start, last = time.time(), None
    while time.time() - start < 15:
        st = offload_show()
        conns, ct_hw = conntrack()
        st2 = offload_show()
        sw = conns - ct_hw
        problems = []
        if st != st2:
            problems.append("changed while read")
        if st["queued"] != st["processed"] + st["pending"]:
            problems.append("queued %d != processed %d + pending %d"
                            % (st["queued"], st["processed"], st["pending"]))
        if st["held"] != st["in_hw"]:
            problems.append("held %d != in hardware %d"
                            % (st["held"], st["in_hw"]))
        if st["used"] != st["in_hw"]:
            problems.append("table entries %d != in hardware %d"
                            % (st["used"], st["in_hw"]))
        if conns != st["held"] + sw:
            problems.append("conntrack %d != held %d + software-only %d"
                            % (conns, st["held"], sw))
        last = (st, conns, ct_hw, sw, problems)
        if not problems:
            break
        time.sleep(0.3)
    st, conns, ct_hw, sw, problems = last
    per = " ".join("%s held=%d hw=%d used=%d/%d full=%d inj=%d"
                   % (n.split("[")[0], i["held"], i["in_hw"], i["used"],
                      i["cap"], i["full"], i["injected"])
                   for n, i in sorted(st["insts"].items()))
    quiescent.append((label, not problems))
    log("quiescent %s: conntrack %d = held %d + software-only %d; "
        "queued %d = processed %d + pending %d; %s%s"
        % (label, conns, st["held"], sw, st["queued"], st["processed"],
           st["pending"], per,
           "" if not problems else "; " + "; ".join(problems)))
    if problems:
        fail("accounting at quiescent point %s: %s"
             % (label, "; ".join(problems)))
        name = "quiescent-%s.txt" % label.replace("/", "-")
        with open(os.path.join(DIR, name), "w") as f:
            f.write(ctl.call("ct-offload/show"))
            f.write(ctl.call("dpctl/dump-conntrack", "-s"))
            f.write(ctl.call("ct-offload-dummy/show"))
            f.write(subprocess.run(["ovs-ofctl", "dump-flows", "br0"],
                                   capture_output=True, text=True).stdout)
            f.write(ctl.call("coverage/show"))


flush_count = {"all": 0, "zone": 0, "tuple": 0, "offload": 0}
last_flush = [0.0]


def flush(kind, zone=None):
    if kind == "offload":
        # Hardware only: the connections continue in software.
        ctl.call("ct-offload/flush")
    elif kind in ("all", "zone"):
        ctl.call("dpctl/flush-conntrack",
                 *(["zone=%d" % zone] if kind == "zone" else []))
        # TCP conversations of the flushed connections end here: their
        # next packets would create connections picked up mid-stream,
        # which stay held but never established (so never programmed)
        # until they expire, and the accounting could not tell them from
        # lost ones.  UDP conversations go on with new connections.
        for pair in pairs:
            if kind == "all" or pair.zone == zone:
                pair.convs = [c for c in pair.convs if c.proto == "udp"]
    else:
        # A UDP connection of zone 1 whose last exchange came after the
        # last flush: it exists, so the flush must find it.
        cands = [c for c in pairs[0].convs
                 if c.proto == "udp" and c.last_exchange
                 and c.last_exchange > last_flush[0]]
        if not cands:
            tick()
            return False
        c = random.choice(cands)
        fam = "ipv6" if c.v6 else "nw"
        ctl.call("dpctl/flush-conntrack", "zone=1",
                 "ct_%s_src=%s,ct_%s_dst=%s,ct_nw_proto=17,"
                 "ct_tp_src=%d,ct_tp_dst=%d"
                 % (fam, c.cli, fam, c.srv, c.sport, c.dport))
    last_flush[0] = time.time()
    flush_count[kind] += 1
    return True


def ports(add):
    p5 = pairs[2]
    if add:
        run_with_traffic(vsctl_start(
            "add-port", "br0", "p5", "--", "set", "interface", "p5",
            "type=dummy", "ofport_request=5", "--", "add-port", "br0", "p6",
            "--", "set", "interface", "p6", "type=dummy",
            "ofport_request=6"))
        p5.present = True
    else:
        p5.present = False
        p5.convs = []           # Left in conntrack and hardware.
        run_with_traffic(vsctl_start("del-port", "br0", "p5", "--",
                                     "del-port", "br0", "p6"))


# Main.

T0 = time.time()
report.write("soak: %s minutes, cycles of %.0f s, samples every %.0f s\n"
             % (MINUTES, CYCLE, SAMPLE))
report.write("   time  rss(kB)  conns ct_hw  held in_hw table    queued "
             "processed pend.  drop    hw_hit cpu(s) phase\n")

try:
    wait_for("conntrack offload active",
             lambda: (lambda st: st["active"] and len(st["insts"]) == 2)(
                 offload_show()), 20, traffic=False)
    ctl.call("vlog/set", "ct_offload:file:info")
    ctl.call("dpctl/ct-set-sweep-interval", "1000")
    apply_knobs()
    hw_hit_cycle = counter_value("ct_offload_hw_hit")
    next_sample = 0.0
    cycle = 0
    while time.time() - T0 < TOTAL - 5:
        c0 = time.time()
        phase[0] = PHASES[cycle % len(PHASES)]
        apply_knobs()
        log("cycle %d: phase %s" % (cycle, phase[0][0]))
        # (fraction of the cycle, action)
        plan = [
            (0.15, lambda: flush("tuple")),
            (0.25, lambda: ports(False)),
            (0.35, lambda: flush("zone", 1 + cycle % 3)),
            (0.45, lambda: ports(True)),
            (0.50, lambda: cycle % 3 == 0 and flush("offload")),
            (0.55, lambda: cycle % 3 == 2 and flush("all")),
            (0.60, lambda: cycle % 2 == 1 and toggle_offload()),
            (0.85, lambda: quiescent_check("%d/%s" % (cycle, phase[0][0]))),
        ]
        for frac, action in plan:
            while time.time() < c0 + frac * CYCLE:
                if time.time() - T0 >= next_sample:
                    take_sample(phase[0][0])
                    next_sample += SAMPLE
                tick()
            if not NO_EVENTS or frac == 0.85:
                action()
        while time.time() < c0 + CYCLE and time.time() - T0 < TOTAL - 5:
            if time.time() - T0 >= next_sample:
                take_sample(phase[0][0])
                next_sample += SAMPLE
            tick()
        hw_hit = counter_value("ct_offload_hw_hit")
        if hw_hit <= hw_hit_cycle:
            fail("cycle %d: no hardware-resolved packet" % cycle)
        hw_hit_cycle = hw_hit
        cycle += 1

    # The end: no traffic, flush, everything empty.
    drain()
    if not pairs[2].present:
        ports(True)
    phase[0] = PHASES[-1]
    apply_knobs()
    take_sample("end")
    flush("all")
    wait_for("final flush processed",
             lambda: offload_show()["pending"] == 0, 20, traffic=False)
    st = offload_show()
    conns, _ = conntrack()
    tables = ctl.call("ct-offload-dummy/show")
    entries = [x for x in tables.splitlines() if x and not x.endswith(":")]
    log("final: conntrack %d, held %d, in hardware %d, table entries %d, "
        "queued %d, processed %d, pending %d"
        % (conns, st["held"], st["in_hw"], len(entries), st["queued"],
           st["processed"], st["pending"]))
    if conns or st["held"] or st["in_hw"] or entries or st["used"]:
        fail("connections left after the final flush")
    if st["queued"] != st["processed"] + st["pending"]:
        fail("final: queued != processed + pending")
    toggle_offload()
    take_sample("end")
except Exception as e:                          # noqa: BLE001
    fail("driver: %s: %s" % (type(e).__name__, e))

# Verdict on the samples.
summary = []
if samples:
    T = samples[-1]["t"]
    ref = [s["rss"] for s in samples if 0.25 * T <= s["t"] <= 0.40 * T]
    last = [s["rss"] for s in samples if s["t"] >= 2 * T / 3]
    if ref and last:
        W, L = max(ref), max(last)
        bound = W + max(W // 10, 8 * 1024)
        after = [s for s in samples if s["t"] > 0.40 * T]
        created = stats["convs"] * (T - 0.40 * T) / T
        summary.append("RSS: reference %d kB (max over 25-40 %% of the run), "
                       "last third max %d kB, bound %d kB (+max(10 %%, "
                       "8 MiB)); %s; a leak of >= %d bytes per connection "
                       "would exceed it"
                       % (W, L, bound, "ok" if L <= bound else "EXCEEDED",
                          (bound - W) * 1024 // max(1, int(created))))
        if L > bound:
            fail("RSS %d kB in the last third > bound %d kB" % (L, bound))
    else:
        fail("too few samples for the memory check")
    cpu = samples[-1]["cpu"] - samples[0]["cpu"]
    summary.append("ovs-vswitchd CPU: %.0f s over %.0f s (%.0f %%)"
                   % (cpu, T, 100 * cpu / max(T, 1)))
summary.append("traffic: %d conversations (%d TCP, %d UDP, %d IPv6), %d "
               "packets in %d netdev-dummy/receive calls"
               % (stats["convs"], stats["tcp"], stats["udp"], stats["v6"],
                  stats["pkts"], stats["calls"]))
if samples:
    summary.append("hardware-resolved packets (ct_offload_hw_hit): %d"
                   % samples[-1]["hw_hit"])
summary.append("flushes: %d all, %d zone, %d tuple (dpctl/flush-conntrack),"
               " %d hardware only (ct-offload/flush)"
               % (flush_count["all"], flush_count["zone"],
                  flush_count["tuple"], flush_count["offload"]))
summary.append("RCU probes: %d, all freed, slowest %.2f s"
               % (len(rcu_probes), max(rcu_probes or [0])))
summary.append("quiescent points: %d, %d closed"
               % (len(quiescent), sum(ok for _, ok in quiescent)))
if not capacity_full_seen[0] and TOTAL >= 4 * CYCLE:
    fail("the capacity phase never filled the table")
for line in summary:
    log(line)
with open(os.path.join(DIR, "verdict"), "w") as f:
    if failures:
        f.write("FAIL %s%s\n" % (failures[0], " (+%d more)"
                                 % (len(failures) - 1)
                                 if len(failures) > 1 else ""))
    else:
        f.write("PASS %d conversations, %d packets (%d resolved by "
                "hardware), RSS %d -> %d kB (bound %d), %d/%d quiescent "
                "points closed, %d RCU probes\n"
                % (stats["convs"], stats["pkts"], samples[-1]["hw_hit"], W,
                   L, bound, sum(ok for _, ok in quiescent), len(quiescent),
                   len(rcu_probes)))
PY
verdict=$(cat "$dir/verdict" 2>/dev/null || echo "FAIL driver crashed")

# Clean exit.
ovs-appctl -t "$dir/ovs-vswitchd.$vs_pid.ctl" exit > /dev/null 2>&1 || true
rc=timeout
for _ in $(seq 300); do
    if ! kill -0 "$vs_pid" 2>/dev/null; then
        rc=0
        wait "$vs_pid" || rc=$?
        break
    fi
    sleep 0.1
done
vs_pid_done=$vs_pid
[ "$rc" = timeout ] || vs_pid=
ovs-appctl -t "$dir/ovsdb-server.$(cat "$dir/ovsdb-server.pid").ctl" exit \
    > /dev/null 2>&1 || true
echo "exit: ovs-vswitchd ($vs_pid_done) status $rc" >> "$report"

# Unexpected warnings and errors.
grep -E '\|(WARN|ERR|EMER)\|' "$dir/ovs-vswitchd.log" "$dir/ovsdb-server.log" \
    | grep -vE '\|ct_offload(\([^)]*\))?\|WARN\|[^ ]+: (add|offload) failed for ' \
    | grep -vE '\|ct_offload(\([^)]*\))?\|WARN\|Dropped [0-9]+ log messages' \
    > "$dir/unexpected-log.txt" || true
n_expected=$(grep -cE '\|ct_offload(\([^)]*\))?\|WARN\|' "$dir/ovs-vswitchd.log" || true)
echo "log: $n_expected expected rate-limited ct_offload warnings," \
     "$(wc -l < "$dir/unexpected-log.txt") unexpected" >> "$report"
sed 's/^/  unexpected: /' "$dir/unexpected-log.txt" | head -20 >> "$report"

case $verdict in
    FAIL*) finish "$verdict" ;;
esac
[ "$rc" = 0 ] || finish "FAIL ovs-vswitchd exit status $rc"
[ -s "$dir/unexpected-log.txt" ] && \
    finish "FAIL unexpected log: $(head -1 "$dir/unexpected-log.txt" | cut -c1-200)"
finish "$verdict; $minutes min, clean exit"
}

main "$@"
exit
