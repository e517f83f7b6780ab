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
 * only rules that it applies exactly, and of those only what the PMD
 * profile chosen on attach accepts (see below).
 *
 * Its unixctl commands exist only in processes started with
 * --enable-dummy, as all of the testsuite's. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rte_flow_action;
struct rte_flow_attr;
struct rte_flow_error;
struct rte_flow_item;

void netdev_dpdk_flow_emu_register(void);

/* Table kinds, for the members that differ between them. */
enum {
    EMU_ROOT,                   /* Group 0. */
    EMU_NON_ROOT,               /* Other groups, reached by JUMP. */
    EMU_N_TABLE_KINDS
};

/* How one PMD treats the rules that conntrack offload (and OVS's own
 * partial offload) make: what it accepts, what it refuses and with which
 * error, what it does on its own.  The facts come from DPDK 25.11 driver
 * code and NIC guides, cited in the table in netdev-dpdk-flow-emu.c;
 * numbers that no source gives are labelled estimates there. */
struct netdev_dpdk_flow_emu_profile {
    const char *name;           /* For dpdk-flow-emu/attach. */
    const char *driver;         /* What rte_eth_dev_info_get() calls the
                                 * PMD. */

    /* Pattern. */
    bool tcp_flags;             /* A TCP item may mask the flags. */

    /* Actions, per table kind. */
    bool mark[EMU_N_TABLE_KINDS];
    bool count[EMU_N_TABLE_KINDS];
    bool age[EMU_N_TABLE_KINDS];
    bool rss[EMU_N_TABLE_KINDS];
    bool fate_first;            /* MARK only after a fate action. */
    bool rss_region;            /* RSS must be a contiguous region of a
                                 * power of two queues, 2 to 128. */
    uint32_t mark_max;          /* Highest MARK id accepted. */
    bool mark_over_max_drops;   /* A higher one is not refused: the rest
                                 * of the actions are ignored and matching
                                 * packets dropped. */

    /* Tables. */
    bool jump;                  /* Non-root groups exist, reached by JUMP
                                 * from the root table. */
    size_t capacity[EMU_N_TABLE_KINDS];     /* Rules; 0: no limit. */
    int full_errno;             /* When a table is full. */
    unsigned int rss_rules;     /* Rules with RSS at once; 0: no limit. */
    int rss_full_errno;
    size_t counters;            /* Counters at once; 0: no limit. */
    unsigned int counter_reuse_ms;  /* Until a freed counter is reusable;
                                     * creates meanwhile get EAGAIN. */

    /* Behaviour. */
    int refuse_errno;           /* Unsupported attribute, item, action. */
    bool negative_errno;        /* create() leaves errno values negated in
                                 * rte_errno. */
    bool validate_actions;      /* False: validate checks the pattern
                                 * only, create may still refuse. */
    unsigned int latency_us[EMU_N_TABLE_KINDS];  /* Per create. */
    bool stop_flushes;          /* Stopping the port destroys its rules. */
    bool reuse_handles;         /* Handles are reused small indices and
                                 * destroying an unknown one succeeds. */
};

/* The profiles, and their number. */
extern const struct netdev_dpdk_flow_emu_profile
    netdev_dpdk_flow_emu_profiles[];
extern const size_t netdev_dpdk_flow_emu_n_profiles;

const struct netdev_dpdk_flow_emu_profile *netdev_dpdk_flow_emu_profile_find(
    const char *name);

/* What a port holds now, which some refusals depend on. */
struct netdev_dpdk_flow_emu_usage {
    size_t n_rules[EMU_N_TABLE_KINDS];
    size_t n_rss;               /* Rules with an RSS action. */
    size_t n_counters;          /* Rules with COUNT or AGE. */
    size_t n_counters_waiting;  /* Freed, not reusable yet. */
};

/* Whether a port with 'profile', 'n_rxq' receive queues and 'usage' would
 * accept the rule (to create it if 'create', else only to validate it).
 * Returns 0 or a negative errno value after filling in 'error'.  Sets
 * '*drops' if the PMD would silently turn the rule into a drop rule.
 * Used by the emulation and by unit tests' fakes of rte_flow. */
int netdev_dpdk_flow_emu_check(
    const struct netdev_dpdk_flow_emu_profile *profile, bool create,
    uint16_t n_rxq, const struct netdev_dpdk_flow_emu_usage *usage,
    const struct rte_flow_attr *attr, const struct rte_flow_item *pattern,
    const struct rte_flow_action *actions, struct rte_flow_error *error,
    bool *drops);

#endif /* netdev-dpdk-flow-emu.h */
