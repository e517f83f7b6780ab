/*
 * Copyright (c) 2026 The ct-offload authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

#ifndef NETDEV_DPDK_FLOW_EMU_H
#define NETDEV_DPDK_FLOW_EMU_H 1

/* A software emulation of rte_flow on DPDK ethdev ports, for tests only.
 *
 * No virtual PMD accepts the MARK, COUNT and AGE actions that conntrack
 * offload needs.  Once attached to a port, the emulation answers that
 * port's rte_flow calls (they still go through DPDK's ethdev layer) and
 * applies the rules it accepted to the packets the port receives, so that
 * end-to-end tests can run real DPDK ports in ovs-vswitchd.  It accepts
 * only rules that it applies exactly; it refuses the others with ENOTSUP.
 *
 * Its unixctl commands exist only in processes started with
 * --enable-dummy, as all of the testsuite's. */

void netdev_dpdk_flow_emu_register(void);

#endif /* netdev-dpdk-flow-emu.h */
