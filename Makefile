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

# Conntrack hardware offload for the Open vSwitch 4.0.0 userspace datapath,
# kept as new files plus patches/ and materialised under build/.
# See README.md and CONTRIBUTING.md.

SHELL := /bin/bash
JOBS ?= $(shell nproc)
export JOBS

.PHONY: all build deps materialise check check-full check-system \
        check-sanitize check-valgrind fuzz demo bench series writeback \
        clean distclean

all: build

deps:
	@tools/deps.sh

materialise:
	@tools/materialise.sh

# DPDK=no builds Open vSwitch without DPDK; by default DPDK 25.11.2 is
# built (once per machine, see tools/build-dpdk.sh) and linked statically.
DPDK ?= yes
build: materialise
	@if [ "$(DPDK)" = no ]; then \
	    DPDK_PREFIX= tools/build.sh; \
	else \
	    tools/build-dpdk.sh && \
	    DPDK_PREFIX=$$(cat build/dpdk-prefix) tools/build.sh; \
	fi

# The README's test command: builds, runs the affected part of the upstream
# testsuite plus ours, ends with "N passed, N failed".
check: build
	@tools/check.sh

# The whole upstream testsuite plus ours, compared with pristine 4.0.0.
check-full: build
	@tools/check-full.sh

# Upstream's conntrack system tests (root), pristine vs ours with hw-offload.
check-system:
	@tools/check-system.sh

# Our tests and upstream's conntrack tests under ASan and UBSan, in a tree
# of their own (build/sanitize).
check-sanitize:
	@tools/check-sanitize.sh

# Our tests with every Open vSwitch program under valgrind (upstream's
# check-valgrind, restricted to them); reports in
# build/ovs/tests/testsuite.dir/*/valgrind.*.
check-valgrind: build
	@$(MAKE) -C build/ovs check-valgrind TESTSUITEFLAGS="-k ct-offload"

# Differential fuzzing, longer than the seeds that make check runs:
# make fuzz SEEDS="1 2 3" STEPS=20000
SEEDS ?= $(shell seq 100 109)
STEPS ?= 20000
fuzz: build
	@$(MAKE) -s -C build/ovs tests/ovstest
	@for s in $(SEEDS); do \
	    build/ovs/tests/ovstest test-ct-offload fuzz $$s $(STEPS) || exit 1; \
	done

demo: build
	@tools/demo.sh

# Cost and gain of the offload, measured against pristine 4.0.0 (builds both
# trees under build/bench, then about 3 minutes of measurements).
bench:
	@tools/bench.sh

series: materialise
	@tools/series.sh

writeback:
	@tools/writeback.sh

clean:
	@if [ -f build/ovs/Makefile ]; then $(MAKE) -s -C build/ovs clean; fi
	rm -rf build/series build/check build/demo

distclean:
	rm -rf build
