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

# Insertion rate of the DPDK conntrack provider against the rte_flow
# emulation's PMD profiles.
#
# For each profile, "ovstest test-ct-offload-dpdk insertion PROFILE RATE
# SECONDS" (tests/test-ct-offload-dpdk.c) runs the real offload core and
# DPDK provider against a fake NIC that answers as the profile does and
# spends the profile's latency on every rule create, while new connections
# are offered at RATE per second for SECONDS.  Profiles on which the
# provider settles on no offloading strategy are run once and shown with
# their strategy.  Prints a table (carried connections per second, share
# left in software, queue depth, dropped events) and writes
# build/bench/insertion.json.
#
# Target: below 80% of the rate that the profile's latency allows (one
# create per direction), nothing is dropped and at most 1% of the offered
# connections are still in software when the offer stops.  Points that
# miss it are listed under "misses".
#
# Uses build/bench/ours if "make bench" built it with DPDK, else
# build/ovs.  About 1 minute on 2 cores.  Environment: INSERTION_SECONDS
# (default 2), INSERTION_RATES (default "10000 100000 1000000"),
# INSERTION_PROFILES (default all).

set -euo pipefail
. "$(dirname "$0")/lib.sh"

bench=$top/build/bench
raw=$bench/insertion
json_file=$bench/insertion.json
python=/usr/bin/python3

seconds=${INSERTION_SECONDS:-2}
rates=${INSERTION_RATES:-10000 100000 1000000}
profiles=${INSERTION_PROFILES:-ideal mlx5-sws mlx5-hws ice i40e bnxt cnxk}

# The first tree built with DPDK: "make bench" may build ours without.
ovstest=
for tree_dir in "$bench/ours" "$top/build/ovs"; do
    if [ -x "$tree_dir/tests/ovstest" ] \
       && "$tree_dir/tests/ovstest" --help | grep test-ct-offload-dpdk \
              > /dev/null
    then
        ovstest=$tree_dir/tests/ovstest
        break
    fi
done
[ -n "$ovstest" ] \
    || die "no ovstest with test-ct-offload-dpdk: run make with DPDK first"

rm -rf "$raw"
mkdir -p "$raw"
note "$ovstest, ${seconds}s per point"

for profile in $profiles; do
    for rate in $rates; do
        out=$raw/$profile-$rate.txt
        "$ovstest" test-ct-offload-dpdk insertion "$profile" "$rate" \
            "$seconds" > "$out" \
            || die "ovstest test-ct-offload-dpdk insertion $profile $rate" \
                   "$seconds failed"
        # A profile that leaves the provider without a strategy carries
        # nothing at any rate.
        if grep -q '^strategy=none' "$out"; then
            break
        fi
    done
done

"$python" - "$raw" "$json_file" "$seconds" "$rates" "$profiles" <<'EOF'
import json
import os
import sys

raw, json_file, seconds, rates, profiles = sys.argv[1:6]
rates = [int(r) for r in rates.split()]
profiles = profiles.split()

# Below this share of the rate that the latency allows, the target holds.
LOAD = 0.8
SW_MAX = 0.01

def load(path):
    res = {}
    with open(path) as f:
        for line in f:
            key, sep, value = line.rstrip('\n').partition('=')
            if not sep:
                continue
            try:
                res[key] = float(value)
            except ValueError:
                res[key] = value
    return res

def si(v):
    for div, suffix in ((1e6, 'M'), (1e3, 'k')):
        # 999.9k would print as 1e+03k.
        if v >= div * 0.9995:
            return '%.3g%s' % (v / div, suffix)
    return '%.3g' % v

points, no_strategy, misses = [], {}, []
for profile in profiles:
    for rate in rates:
        path = os.path.join(raw, '%s-%d.txt' % (profile, rate))
        if not os.path.exists(path):
            continue
        r = load(path)
        if str(r['strategy']).startswith('none'):
            no_strategy[profile] = r['strategy']
            continue
        lat = (r['profile_latency_root_us'] if r['table'] == 'root'
               else r['profile_latency_group_us'])
        r['rule_latency_us'] = lat
        r['latency_limit_per_s'] = 1e6 / (2 * lat) if lat else None
        r['load'] = r['offered_per_s'] * 2 * lat / 1e6
        r['target'] = r['load'] < LOAD
        if r['target']:
            why = []
            if r['events_dropped']:
                why.append('%d events dropped' % r['events_dropped'])
            if r['share_sw'] > SW_MAX:
                why.append('%.1f%% in software' % (100 * r['share_sw']))
            if why:
                misses.append('%s at %s/s (%.0f%% of the latency limit): %s'
                              % (profile, si(rate), 100 * r['load'],
                                 ', '.join(why)))
        points.append(r)

def out(s=''):
    print(s)

out()
out('Insertion rate, %s s per point: new TCP connections, their "add" and'
    % seconds)
out('"established" events queued at once; default queue (65536 events).')
out()
hdr = ('%-9s %-8s %4s %8s %9s %9s %6s %6s %7s %7s %8s %7s'
       % ('profile', 'table', 'us', 'offered', 'off/s', 'carried/s',
          'sw', 'swfin', 'dpeak', 'dmean', 'drops', 'create'))
out(hdr)
out('-' * len(hdr))
for r in points:
    out('%-9s %-8s %4g %8s %9s %9s %5.1f%% %5.1f%% %7s %7s %8s %6.1fu'
        % (r['profile'], r['table'], r['rule_latency_us'], si(r['rate']),
           si(r['offered_per_s']), si(r['carried_per_s']),
           100 * r['share_sw'], 100 * r['share_sw_final'],
           si(r['depth_peak']), si(r['depth_mean']),
           si(r['events_dropped']), r.get('create_us_mean', 0)))
for profile, strategy in no_strategy.items():
    out('%-9s strategy %s' % (profile, strategy))
out()
out('us: latency per rule create in the table the strategy uses; off/s: '
    'offered')
out('per second as reached; sw: share of offered connections in software '
    'when')
out('the offer stops; swfin: after the queue drained (dropped events); '
    'dpeak,')
out('dmean: queue depth in events; create: mean create time observed.')
out('Every latency but ideal\'s (none) is an estimate: no driver documents '
    'them')
out('(lib/netdev-dpdk-flow-emu.c); capacities are lifted, so that a full '
    'table')
out('does not pass for a slow one.')
out('Target: below %d%% of 1/(2 x latency), no drops and at most %g%% in '
    'software.' % (100 * LOAD, 100 * SW_MAX))
out('Misses: %s' % ('; '.join(misses) if misses else 'none'))

with open(json_file, 'w') as f:
    json.dump({
        'seconds_per_point': float(seconds),
        'rates': rates,
        'points': points,
        'no_strategy': no_strategy,
        'estimates': 'every profile latency except ideal (0)',
        'capacities': 'lifted',
        'target': ('load = offered_per_s * 2 * rule_latency_us / 1e6 < %g: '
                   'events_dropped == 0 and share_sw <= %g'
                   % (LOAD, SW_MAX)),
        'misses': misses,
    }, f, indent=2, sort_keys=True)
out('Wrote %s' % json_file)
EOF
