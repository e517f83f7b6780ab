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

# Runs ovsdb-server and ovs-vswitchd from build/ovs in a private directory
# (build/demo), with a userspace (dpif-netdev) bridge of dummy ports and
# hw-offload=true, sends a TCP and a UDP conversation through conntrack
# rules, shows what conntrack and the offload layer report, and stops the
# daemons it started.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=$top/build/demo
rm -rf "$dir"
mkdir -p "$dir"
export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir \
       OVS_PKGDATADIR=$tree
export PATH=$tree/utilities:$tree/vswitchd:$tree/ovsdb:$PATH
compose="/usr/bin/python3 $top/tools/compose.py"

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

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "Starting ovsdb-server and ovs-vswitchd in $dir"
ovsdb-tool create "$dir/conf.db" "$tree/vswitchd/vswitch.ovsschema"
ovsdb-server --detach --no-chdir --pidfile --log-file -vconsole:off \
    --remote=punix:"$dir/db.sock" "$dir/conf.db"
ovs-vsctl --no-wait init
ovs-vswitchd --detach --no-chdir --pidfile --log-file -vconsole:off \
    --enable-dummy --disable-system --disable-system-route
ovs-vsctl -- set Open_vSwitch . other_config:hw-offload=true \
    -- add-br br0 -- set bridge br0 datapath_type=dummy fail-mode=secure \
    -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 \
    -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2
ovs-appctl time/stop > /dev/null

step "Conntrack rules: p1 opens connections to p2, p2 may only answer"
cat > "$dir/flows.txt" <<'EOF'
table=0,priority=10,in_port=1,ip,actions=ct(commit,zone=1),output:2
table=0,priority=10,in_port=2,ip,actions=ct(zone=1,table=1)
table=1,priority=10,ct_state=+trk+est,ip,actions=output:1
table=1,priority=1,actions=drop
EOF
cat "$dir/flows.txt"
ovs-ofctl add-flows br0 "$dir/flows.txt"

send() {
    ovs-appctl netdev-dummy/receive "$1" "$($compose "${@:2}")" > /dev/null
}

step "A TCP conversation 10.0.0.1:40000 -> 10.0.0.2:80 and a UDP one"
c=10.0.0.1:40000 s=10.0.0.2:80
send p1 tcp $c $s S 1000 0
send p2 tcp $s $c SA 5000 1001
send p1 tcp $c $s A 1001 5001
for i in 1 2 3; do
    send p1 tcp $c $s PA $((1001 + (i - 1) * 100)) 5001 100
    send p2 tcp $s $c A 5001 $((1001 + i * 100))
done
send p1 udp 10.0.0.1:5000 10.0.0.2:53 20
send p2 udp 10.0.0.2:53 10.0.0.1:5000 40
ovs-appctl time/warp 500 100 > /dev/null

step "Offloaded: dump-conntrack marks both connections"
show ovs-appctl dpctl/dump-conntrack -s
show ovs-appctl dpctl/ct-stats-show
show ovs-appctl ct-offload/show

step "More traffic: the emulated hardware counts it; conntrack skips only its lookup"
for i in 4 5 6 7 8; do
    send p1 tcp $c $s PA $((1001 + (i - 1) * 100)) 5001 100
    send p2 tcp $s $c A 5001 $((1001 + i * 100))
    send p1 udp 10.0.0.1:5000 10.0.0.2:53 20
done
show ovs-appctl ct-offload-dummy/show

step "Aging: 3 x 25 s of UDP traffic through the hardware (UDP times out after 30 s)"
for i in 1 2 3; do
    ovs-appctl time/warp 25000 1000 > /dev/null
    send p1 udp 10.0.0.1:5000 10.0.0.2:53 20
done
ovs-appctl time/warp 1000 100 > /dev/null
show ovs-appctl dpctl/dump-conntrack
show ovs-appctl ct-offload/show dummy@ovs-dummy
echo "(this hardware hands every packet to software, whose timer keeps the"
echo " connection alive; only hardware that forwards by itself is asked)"

step "Aging: no more traffic, 60 s later the UDP connection is gone"
ovs-appctl time/warp 60000 1000 > /dev/null
show ovs-appctl dpctl/dump-conntrack
show ovs-appctl ct-offload-dummy/show

step "Turning conntrack offload off keeps flow offload, empties the table"
ovs-vsctl set Open_vSwitch . other_config:hw-offload-ct=false
show ovs-appctl ct-offload/show dummy@ovs-dummy
show ovs-appctl dpctl/dump-conntrack

step "Packets forwarded"
show ovs-ofctl dump-ports br0 | grep -E 'port +[12]:' -A1

step "Stopping the daemons"
stop
trap - EXIT
echo "demo: done; logs in $dir"
