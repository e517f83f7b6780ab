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

# Builds the series with AddressSanitizer and UndefinedBehaviorSanitizer in
# build/sanitize and runs our tests plus upstream's conntrack, NAT and
# dpif-netdev tests there.  The testsuite fails a test whose programs
# leave a sanitizer report (see tests/atlocal.in).  Not part of CI: the
# uncached build alone takes about ten minutes on 2 cores.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

export OVS_TREE=$top/build/sanitize
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined"
flags="$flags -fno-sanitize-recover=undefined"

"$top/tools/materialise.sh"
CONFIGURE_CFLAGS=$flags CONFIGURE_LDFLAGS=-fsanitize=address,undefined \
DPDK_PREFIX= "$top/tools/build.sh"
TESTS="${TESTS:--k ct-offload -k conntrack -k dpif-netdev -k nat}" \
    "$top/tools/check.sh"
