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
        check-sanitize check-valgrind check-bisect check-dpdk check-dpdk-default \
        fuzz \
        demo bench soak series writeback clean distclean

all: build

# Installs missing build dependencies (apt-get); quiet when none is
# missing.  Everything that materialises or builds runs it first.
deps:
	@tools/deps.sh

materialise: deps
	@tools/materialise.sh

# DPDK=auto (the default) builds DPDK 25.11.2 (once per machine, see
# tools/build-dpdk.sh) and links it statically when its source can be had,
# and otherwise builds without it; DPDK=yes insists, DPDK=no never uses it.
DPDK ?= auto
build: materialise
	@DPDK=$(DPDK) tools/build-dpdk.sh
	@DPDK_PREFIX=$$(cat build/dpdk-prefix) tools/build.sh

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

# Upstream's DPDK system tests (root, hugepages) on pristine 4.0.0 built
# with the same DPDK, on ours, and on ours with hw-offload=true.
check-dpdk: materialise
	@DPDK=yes tools/build-dpdk.sh
	@DPDK_PREFIX=$$(cat build/dpdk-prefix) tools/build.sh
	@tools/check-dpdk.sh

# Upstream's conntrack tests (and ours) under ASan and UBSan, in trees of
# their own (build/sanitize, build/sanitize-pristine), compared.
check-sanitize: deps
	@tools/check-sanitize.sh

# Our tests with every Open vSwitch program under valgrind (upstream's
# check-valgrind, restricted to them), then errors and definite leaks per
# test; reports in build/ovs/tests/testsuite.dir/*/valgrind.*, the table in
# build/check-valgrind/summary.txt.
check-valgrind: build
	@tools/check-valgrind.sh

# Differential fuzzing, longer than the seeds that make check runs: the
# defaults send about 1.3 million packets (about a minute).
# make fuzz SEEDS="1 2 3" STEPS=20000
SEEDS ?= $(shell seq 100 109)
STEPS ?= 40000
fuzz: build
	@$(MAKE) -s -C build/ovs tests/ovstest
	@for s in $(SEEDS); do \
	    build/ovs/tests/ovstest test-ct-offload fuzz $$s $(STEPS) || exit 1; \
	done

demo: build
	@tools/demo.sh

# Cost and gain of the offload, measured against pristine 4.0.0 (builds both
# trees under build/bench, then about 3 minutes of measurements).
bench: deps
	@tools/bench.sh

# Exports build/series/*.patch with a cover letter, authored and signed
# off by your git identity (git config user.name and user.email).
series: materialise
	@tools/series.sh

# Builds every prefix of the series in build/bisect and runs the tests that
# exist at that point (-k ct-offload); slow, not part of CI.
check-bisect: materialise
	@DPDK=$(DPDK) tools/build-dpdk.sh
	@DPDK_PREFIX=$$(cat build/dpdk-prefix) tools/check-bisect.sh

# Soak: SOAK_MINUTES (default 30) of conntrack churn with flushes, port
# changes, hw-offload-ct toggles, failure injection and full tables on the
# dummy datapath, checking memory, RCU, the offload accounting, the log and
# a clean exit; writes build/soak/report.txt and ends with "soak: PASS" or
# "soak: FAIL <reason>".  make soak SOAK_MINUTES=3 for a short run.
SOAK_MINUTES ?= 30
soak: build
	@SOAK_MINUTES=$(SOAK_MINUTES) tools/soak.sh

# Builds the series against a copy of our DPDK without its driver SDK
# headers (as meson installs DPDK by default), in build/dpdk-default.
check-dpdk-default: build
	@tools/check-dpdk-default.sh

writeback:
	@tools/writeback.sh

clean:
	@if [ -f build/ovs/Makefile ]; then $(MAKE) -s -C build/ovs clean; fi
	rm -rf build/series build/check build/demo build/bisect build/bisect-logs \
	       build/soak build/dpdk-default

distclean:
	rm -rf build
