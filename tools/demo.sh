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

# Tells the story of conntrack offload in one screen: ovsdb-server and
# ovs-vswitchd from build/ovs run in a private directory (build/demo) with
# a userspace (dpif-netdev) bridge of dummy ports and hw-offload=true; the
# dummy provider emulates a NIC's connection table.  Act 1, hardware that
# hands packets to software (as the DPDK provider's rules do): connections
# offloaded and flagged, one refused because the table is full and still
# correct in software.  Act 2, hardware that forwards by itself: its
# counters rise while software's stand still, and its last-used time keeps
# the connection alive.  Then teardown.  The full log is build/demo/*.log.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=$top/build/demo
rm -rf "$dir"
mkdir -p "$dir"
export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir \
       OVS_PKGDATADIR=$tree
export PATH=$tree/utilities:$tree/vswitchd:$tree/ovsdb:$PATH
compose="/usr/bin/python3 $top/tools/compose.py"
hw='dummy[dummy@ovs-dummy]'

stop() {
    for p in "$dir"/*.pid; do
        [ -f "$p" ] && kill "$(cat "$p" 2>/dev/null)" 2>/dev/null || true
    done
    for p in "$dir"/*.pid; do
        [ -f "$p" ] || continue
        for _ in $(seq 50); do
            kill -0 "$(cat "$p" 2>/dev/null)" 2>/dev/null || break
            sleep 0.1
        done
    done
}
trap stop EXIT

step() { printf '== %s\n' "$*"; }
send() {
    ovs-appctl netdev-dummy/receive "$1" "$($compose "${@:2}")" > /dev/null
}
warp() { ovs-appctl time/warp "$1" 1000 > /dev/null; }
# Waits until the offload thread has handled every queued event.
settle() {
    local i
    for i in $(seq 100); do
        ovs-appctl ct-offload/show dummy@ovs-dummy |
            grep -q 'pending 0,' && return 0
        sleep 0.05
    done
    echo "   (the offload thread has not caught up after 5 s)"
}

# dump-conntrack -s, one connection a line: "tcp 10.0.0.1:40000->10.0.0.2:80
# 86399s ESTABLISHED hw_offload (NIC: 8 packets)".
conns() {
    ovs-appctl dpctl/dump-conntrack -s | sed -E '
        s/^([a-z0-9]+),orig=\(src=([^,]+),dst=([^,]+),sport=([0-9]+),dport=([0-9]+)\),reply=\([^)]*\)/\1 \2:\4->\3:\5/
        s/,zone=[0-9]+//; s/,timeout=([0-9]+)/ \1s/
        s/,protoinfo=\(state=([A-Z_]+)\)/ \1/
        s/,hw_offload=\(provider=dummy,packets=([0-9]+),bytes=[0-9]+\)/ hw_offload (NIC: \1 packets)/
        s/^/   /' | sort
}
# The provider's counters, one line.
counters() {
    ovs-appctl ct-offload/show dummy@ovs-dummy | tr -d , | awk '
        /dummy\[/ { on = 1; next }
        /dummy_x\[/ { on = 0 }
        !on { next }
        /connections:/ { hw = $4 }
        /refused:/ { refused = $2; failed = $4 }
        /kept alive:/ { kept = $5 }
        /table:/ { table = $2; full = $5 }
        END { printf "   %s in hardware, refused %s, failed %s, " \
                     "kept alive %s; table %s full %s\n",
                     hw, refused, failed, kept, table, full }'
}
tx() { ovs-ofctl dump-ports br0 "$1" | grep -o 'tx pkts=[0-9]*' | cut -d= -f2; }

step "Userspace bridge br0 (p1, p2), hw-offload=true, emulated NIC of 2" \
     "entries"
ovsdb-tool create "$dir/conf.db" "$tree/vswitchd/vswitch.ovsschema"
ovsdb-server --detach --no-chdir --pidfile --log-file -vconsole:off \
    --remote=punix:"$dir/db.sock" "$dir/conf.db" 2>> "$dir/stderr" ||
    { cat "$dir/stderr"; die "ovsdb-server did not start"; }
ovs-vsctl --no-wait init
ovs-vswitchd --detach --no-chdir --pidfile --log-file -vconsole:off \
    --enable-dummy --disable-system --disable-system-route 2>> "$dir/stderr" ||
    { cat "$dir/stderr"; die "ovs-vswitchd did not start"; }
ovs-vsctl -- set Open_vSwitch . other_config:hw-offload=true \
    -- add-br br0 -- set bridge br0 datapath_type=dummy fail-mode=secure \
    -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 \
    -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2
ovs-appctl time/stop > /dev/null
ovs-appctl dpctl/ct-set-sweep-interval 1000 > /dev/null
ovs-appctl ct-offload-dummy/set "$hw" capacity=2
ovs-ofctl add-flows br0 - <<'EOF'
table=0,priority=10,in_port=1,ip,actions=ct(commit,zone=1),output:2
table=0,priority=10,in_port=2,ip,actions=ct(zone=1,table=1)
table=1,priority=10,ct_state=+trk+est,ip,actions=output:1
table=1,priority=1,actions=drop
EOF
echo "   p1 > p2: ct(commit,zone=1); p2 > p1: only +trk+est"

# A TCP handshake from $1 to $2 with client sequence $3.
handshake() {
    send p1 tcp "$1" "$2" S "$3" 0
    send p2 tcp "$2" "$1" SA 5000 $(($3 + 1))
    send p1 tcp "$1" "$2" A $(($3 + 1)) 5001
}
# $3 rounds of 100 bytes from $1 to $2 and an ACK back, from sequence $4.
exchange() {
    local i seq
    for i in $(seq "$3"); do
        seq=$(($4 + (i - 1) * 100))
        send p1 tcp "$1" "$2" PA "$seq" 5001 100
        send p2 tcp "$2" "$1" A 5001 $((seq + 100))
    done
}
a=10.0.0.1:40000 b=10.0.0.2:80 c=10.0.0.1:40001
step "Act 1: hardware that hands packets to software.  TCP A, UDP B, TCP C"
handshake $a $b 1000
send p1 udp 10.0.0.1:5000 10.0.0.2:53 20
send p2 udp 10.0.0.2:53 10.0.0.1:5000 40
handshake $c $b 7000
settle
conns
counters
echo "   C stays in software (table full), counted as failed; the log says:"
grep -m1 'offload failed' "$dir/ovs-vswitchd.log" |
    sed -E 's/.*\|WARN\|[^:]*: /   /; s/src=([^,]+),dst=([^,]+),sport=([0-9]+),dport=([0-9]+),zone=[0-9]+/\1:\3->\2:\4/' ||
    echo "   (no log line)"

step "5 exchanges on each TCP connection: software tracks all three"
before=$(ovs-appctl coverage/read-counter conntrack_offload_lookup_skipped)
exchange $a $b 5 1001
exchange $c $b 5 7001
after=$(ovs-appctl coverage/read-counter conntrack_offload_lookup_skipped)
conns
echo "   resolved by the NIC's mark: $((after - before)) of 20 (A's), skipping" \
     "the lookup; C's were looked up"
echo "   p1 sent $(tx 1) packets: every reply reached the client (A 6, B 1," \
     "C 6)"

step "Act 2: hardware that forwards by itself (a NIC doing the whole job)"
ovs-vsctl set Open_vSwitch . other_config:hw-offload-ct=false
ovs-appctl dpctl/flush-conntrack
ovs-vsctl set Open_vSwitch . other_config:hw-offload-ct=true
ovs-appctl ct-offload-dummy/set "$hw" forward=true
send p1 udp 10.0.0.1:6000 10.0.0.2:53 20
send p2 udp 10.0.0.2:53 10.0.0.1:6000 40
settle
tx1=$(tx 1) tx2=$(tx 2)
for i in 1 2 3 4 5; do
    send p1 udp 10.0.0.1:6000 10.0.0.2:53 20
    send p2 udp 10.0.0.2:53 10.0.0.1:6000 40
done
conns
echo "   10 more packets: software sent $(($(tx 1) - tx1)) on p1," \
     "$(($(tx 2) - tx2)) on p2: the NIC took them all"

step "Aging: UDP times out after 30 s; traffic every 25 s only in hardware"
for i in 1 2 3; do
    warp 25000
    send p1 udp 10.0.0.1:6000 10.0.0.2:53 20
done
warp 2000
conns
counters
echo "   75 s on: alive, the sweeper moved software's timer to the NIC's" \
     "last use"
warp 35000
warp 1000
echo "   35 s without traffic: $(ovs-appctl dpctl/dump-conntrack | grep -c . ||
      true) connections, NIC table" \
     "$(ovs-appctl ct-offload-dummy/show "$hw" | grep -c packets= || true)" \
     "entries"

step "Teardown: hw-offload-ct=false empties the NIC table, then stop"
send p1 udp 10.0.0.1:6001 10.0.0.2:53 20
send p2 udp 10.0.0.2:53 10.0.0.1:6001 40
settle
ovs-vsctl set Open_vSwitch . other_config:hw-offload-ct=false
conns
echo "   NIC table: $(ovs-appctl ct-offload-dummy/show | grep -c packets= ||
      true) entries; $(ovs-appctl ct-offload/show | head -n 1)"
stop
trap - EXIT
grep -q -E '\|(ERR|EMER)\|' "$dir/ovs-vswitchd.log" &&
    die "errors in $dir/ovs-vswitchd.log"
echo "demo: done; logs in $dir"
