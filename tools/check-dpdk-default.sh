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

# "make check-dpdk-default": proves that Open vSwitch with the series
# configures and builds against a DPDK installed with meson's defaults,
# that is without the driver SDK headers that only -Denable_driver_sdk=true
# installs (our own DPDK build sets it, for the rte_flow emulation that the
# testsuite uses).  It copies the DPDK install that "make build" made,
# removes every header that DPDK's meson files list as driver SDK headers,
# builds the series against that copy in build/dpdk-default, and checks
# that the emulation is left out while the DPDK provider is in, and that
# the DPDK tests pass or skip.  Not part of CI: a full build, about 6
# minutes on 2 cores.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

work=$top/build/dpdk-default
ovs_tree=$work/ovs
prefix=$work/dpdk

[ -f "$top/build/dpdk-prefix" ] || die "no DPDK build yet: run 'make' first"
src_prefix=$(cat "$top/build/dpdk-prefix")
[ -d "$src_prefix/include" ] || die "$src_prefix: no DPDK install"

tarball=${DPDK_TARBALL:-$top/../shared/cache/dpdk-25.11.2.tar.xz}
[ -f "$tarball" ] || tarball=$(ls "$top"/build/dl/dpdk*.tar.* 2>/dev/null \
                               | head -n 1)
[ -f "$tarball" ] || die "no DPDK source tarball to read the header lists from"

rm -rf "$work"
mkdir -p "$work/src"

# Every header that a meson.build lists in driver_sdk_headers.
tar xJf "$tarball" -C "$work/src" --wildcards '*/meson.build'
/usr/bin/python3 - "$work/src" > "$work/sdk-headers" <<'EOF'
import os
import re
import sys

for root, _, files in os.walk(sys.argv[1]):
    if 'meson.build' not in files:
        continue
    text = open(os.path.join(root, 'meson.build')).read()
    for m in re.finditer(r'driver_sdk_headers\s*\+?=\s*files\(([^)]*)\)',
                         text):
        for name in re.findall(r"'([^']+\.h)'", m.group(1)):
            print(os.path.basename(name))
EOF
n=$(sort -u "$work/sdk-headers" | wc -l)
[ "$n" -gt 10 ] || die "found only $n driver SDK headers: parsing failed"

cp -a "$src_prefix" "$prefix"
removed=0
for h in $(sort -u "$work/sdk-headers"); do
    if [ -f "$prefix/include/$h" ]; then
        rm "$prefix/include/$h"
        removed=$((removed + 1))
    fi
done
[ ! -f "$prefix/include/rte_flow_driver.h" ] \
    || die "rte_flow_driver.h is still installed"
find "$prefix" -name '*.pc' -exec sed -i "s#$src_prefix#$prefix#g" {} +
note "DPDK without its $removed driver SDK headers in $prefix"

OVS_TREE=$ovs_tree "$top/tools/materialise.sh"
OVS_TREE=$ovs_tree DPDK_PREFIX=$prefix "$top/tools/build.sh"

! grep -q '^#define HAVE_RTE_FLOW_DRIVER_H 1' "$ovs_tree/config.h" \
    || die "configure found rte_flow_driver.h"
grep -q '^#define DPDK_NETDEV 1' "$ovs_tree/config.h" \
    || die "configure did not enable DPDK"
"$ovs_tree/vswitchd/ovs-vswitchd" --version > "$work/version"
grep -q '^DPDK 25.11' "$work/version" \
    || die "ovs-vswitchd is not linked with DPDK"
! grep -q 'dpdk-flow-emu/attach' "$ovs_tree/vswitchd/ovs-vswitchd" \
    || die "the rte_flow emulation was built"
nm "$ovs_tree/vswitchd/ovs-vswitchd" > "$work/symbols"
if grep -q ' ct_offload_dpdk_class$' "$work/symbols"; then
    note "the DPDK conntrack offload provider is built in"
else
    die "the DPDK conntrack offload provider is missing"
fi

(cd "$ovs_tree" && make -s tests/testsuite > /dev/null)
"$ovs_tree/tests/testsuite" -C "$ovs_tree/tests" \
    AUTOTEST_PATH="$ovs_tree/utilities:$ovs_tree/vswitchd:$ovs_tree/ovsdb:$ovs_tree/tests" \
    -k ct-offload-dpdk > "$work/testsuite.out" 2>&1 || true
grep -E '^ *[0-9]+: ' "$work/testsuite.out" || true
if grep -qE 'FAILED' "$work/testsuite.out"; then
    die "DPDK tests failed (see $ovs_tree/tests/testsuite.log)"
fi
echo "check-dpdk-default: builds against DPDK without driver SDK headers;" \
     "DPDK tests pass or skip"
