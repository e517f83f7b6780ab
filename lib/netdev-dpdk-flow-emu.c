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

#include <config.h>

#include "netdev-dpdk-flow-emu.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

/* Driver-side definitions: the emulation stands in for a PMD.  DPDK
 * installs them only when built with -Denable_driver_sdk=true; without
 * them, only the PMD profiles and their checks are built (the unit tests'
 * fake of rte_flow uses them), and dpdk-flow-emu/attach does not exist. */
#ifdef HAVE_RTE_FLOW_DRIVER_H
#include <ethdev_driver.h>
#include <rte_flow_driver.h>
#endif

#include "netdev.h"
#include "netdev-dpdk.h"
#include "netdev-provider.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "rculist.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(netdev_dpdk_flow_emu);

#ifdef HAVE_RTE_FLOW_DRIVER_H

/* How the emulation works.
 *
 * Attaching to a port replaces the port's 'dev_ops' in rte_eth_devices[]
 * with a copy whose flow_ops_get() returns the emulation's rte_flow_ops,
 * so rte_flow_validate() and the others reach it through DPDK's ethdev
 * layer like any PMD.  The port's own rte_flow support, if any, is hidden
 * while the emulation is attached.  Receive callbacks on each of the
 * port's queues match the packets against the rules, in priority order,
 * and apply the first match's actions.
 *
 * Rules are created and destroyed by whichever thread calls rte_flow
 * (under 'emu_mutex') and read by PMD threads in the receive callbacks
 * (under RCU): rules are in an rculist and freed after a grace period,
 * their counters are atomic.
 *
 * A rule is accepted only if the port's PMD profile accepts it (see
 * "PMD profiles" below) and every item, field and action in it is one the
 * emulation applies exactly:
 *
 *   attributes: ingress, any group, any priority.  Packets start in group
 *       0; a rule with JUMP sends them on to the group it names.
 *   items: VOID, then in this order and each at most once, ETH (source,
 *       destination, type; and 'has_vlan', which dpif-offload-dpdk's own
 *       rules set, on ports attached with "has_vlan"), IPV4 (source,
 *       destination, protocol, fragment
 *       field) or IPV6 (source, destination, next header), TCP (ports,
 *       flags) or UDP (ports).  No 'last' ranges.  The parser reads no VLAN
 *       tags and no IPv6 extension headers: such packets match no IPV4 or
 *       IPV6 item, and no TCP or UDP item, respectively.
 *   actions: VOID, MARK, COUNT, AGE, JUMP, QUEUE 0 on a port with one
 *       queue, and RSS over all of the port's receive queues or (for
 *       profiles that want a queue region) a contiguous part of them: a
 *       packet stays on the queue it arrived on, which that RSS could have
 *       chosen as well.
 *
 * AGE is answered by queries (seconds since last hit, aged); the emulation
 * raises no RTE_ETH_EVENT_FLOW_AGED and has no rte_flow_get_aged_flows().
 *
 * Handles carry the number of flushing port stops above their index, so
 * that dpdk-flow-emu/show can count destroys and queries of handles from
 * before a stop ("stale"), which the PMD applies to whatever rule has the
 * index now. */

/* Packet fields that rules match, in network byte order.  Parsed packets
 * and rules zero it first, so that it can be compared bytewise. */
struct emu_key {
    struct eth_addr eth_dst;
    struct eth_addr eth_src;
    ovs_be16 eth_type;
    ovs_be16 ip_frag;           /* IPv4 flags and fragment offset. */
    struct in6_addr ip_src;     /* IPv4 addresses in the first 4 bytes. */
    struct in6_addr ip_dst;
    uint8_t ip_proto;
    uint8_t tcp_flags;
    ovs_be16 tp_src;
    ovs_be16 tp_dst;
    uint8_t vlan;               /* 1 if 'eth_type' is a VLAN TPID. */
};

enum emu_l3 { EMU_L3_ANY, EMU_L3_IPV4, EMU_L3_IPV6 };
enum emu_l4 { EMU_L4_ANY, EMU_L4_TCP, EMU_L4_UDP };

struct emu_rule {
    struct rculist node;            /* In "struct emu_port"'s 'rules'. */
    uint32_t handle;                /* What rte_flow_create() returned. */

    /* Match. */
    uint32_t group;
    uint32_t priority;
    enum emu_l3 l3;                 /* Protocols that the pattern implies. */
    enum emu_l4 l4;
    struct emu_key spec;            /* Already masked. */
    struct emu_key mask;

    /* Actions. */
    bool has_mark;
    bool has_count;
    bool has_age;
    bool has_jump;
    bool has_queue;                 /* QUEUE 0. */
    bool drop;                      /* The PMD made it a drop rule. */
    uint32_t jump_group;
    uint32_t mark;
    uint32_t age_timeout;           /* Seconds. */
    uint16_t rss_queues;            /* 0 if no RSS action. */

    /* Updated by PMD threads. */
    atomic_uint64_t hits;
    atomic_uint64_t bytes;
    atomic_llong last_hit;          /* Creation time before any hit. */
};

/* An attached port. */
struct emu_port {
    uint16_t port_id;
    char *name;                     /* Of the netdev, for show. */
    struct netdev_dpdk_flow_emu_profile profile;
    struct netdev_dpdk_flow_emu_usage usage;
    long long counters_freed;       /* When 'usage' last got waiting
                                     * counters. */

    /* Rules by handle - 1.  Profiles with 'reuse_handles' hand out the
     * lowest free one, the others never reuse one. */
    struct emu_rule **handles;
    size_t n_handles;
    size_t allocated_handles;

    /* rte_eth_devices[port_id].dev_ops while attached. */
    struct eth_dev_ops ops;
    const struct eth_dev_ops *orig_ops;

    struct rculist rules;           /* By increasing 'priority'. */
    size_t n_rules;
    uint64_t n_created;
    uint64_t n_refused;             /* validate() or create() failures. */
    uint64_t n_stop_flushed;        /* Rules that a port stop destroyed. */
    uint64_t n_unknown_destroys;    /* Of handles that name no rule. */

    /* Port stops that flushed rules so far.  Handles carry it above their
     * index (not on 32-bit systems), so that the emulation can tell a
     * handle from before a stop from the same index given again after it
     * (the PMD cannot), and count the operations on such stale handles:
     * they act on whatever rule has the index now, as on mlx5. */
    uint32_t n_stops;
    uint64_t n_stale_destroys;
    uint64_t n_stale_queries;

    /* Accepts the ETH item's 'has_vlan' (attached with "has_vlan"), which
     * dpif-offload-dpdk's own rules set: for tests that run them next to
     * conntrack's. */
    bool has_vlan;
};

/* Per DPDK port id, never freed: receive callbacks get a pointer to it, and
 * a callback that could not be removed (its queue went away) must still
 * find something to read. */
struct emu_slot {
    uint16_t port_id;
    OVSRCU_TYPE(struct emu_port *) port;    /* NULL if not attached. */

    /* Our receive callback on each queue, or NULL. */
    const struct rte_eth_rxtx_callback *cbs[RTE_MAX_QUEUES_PER_PORT];

    /* The port's own 'dev_ops' while attached, for emu_dev_stop(). */
    const struct eth_dev_ops *orig_ops;
};

static struct ovs_mutex emu_mutex = OVS_MUTEX_INITIALIZER;
static struct emu_slot *slots[RTE_MAX_ETHPORTS] OVS_GUARDED_BY(emu_mutex);

static void emu_port_free(struct emu_port *);

/* Receive path. */

/* Parses the headers of 'm' into 'key'.  Only the first segment, which
 * holds the headers of anything that the rules can match. */
static void
emu_parse(const struct rte_mbuf *m, struct emu_key *key, enum emu_l3 *l3,
          enum emu_l4 *l4)
{
    const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
    size_t len = rte_pktmbuf_data_len(m);
    size_t l4_ofs;

    memset(key, 0, sizeof *key);
    *l3 = EMU_L3_ANY;
    *l4 = EMU_L4_ANY;

    if (len < ETH_HEADER_LEN) {
        return;
    }
    memcpy(&key->eth_dst, p, ETH_ADDR_LEN);
    memcpy(&key->eth_src, p + ETH_ADDR_LEN, ETH_ADDR_LEN);
    memcpy(&key->eth_type, p + 2 * ETH_ADDR_LEN, sizeof key->eth_type);
    key->vlan = (key->eth_type == htons(ETH_TYPE_VLAN_8021Q)
                 || key->eth_type == htons(ETH_TYPE_VLAN_8021AD));
    p += ETH_HEADER_LEN;
    len -= ETH_HEADER_LEN;

    if (key->eth_type == htons(ETH_TYPE_IP)) {
        size_t ihl;

        if (len < IP_HEADER_LEN || p[0] >> 4 != 4) {
            return;
        }
        ihl = (p[0] & 0xf) * 4;
        if (ihl < IP_HEADER_LEN || len < ihl) {
            return;
        }
        *l3 = EMU_L3_IPV4;
        memcpy(&key->ip_frag, p + 6, sizeof key->ip_frag);
        key->ip_proto = p[9];
        memcpy(&key->ip_src, p + 12, 4);
        memcpy(&key->ip_dst, p + 16, 4);
        if (key->ip_frag & htons(RTE_IPV4_HDR_OFFSET_MASK)) {
            return;             /* Later fragments have no L4 header. */
        }
        l4_ofs = ihl;
    } else if (key->eth_type == htons(ETH_TYPE_IPV6)) {
        if (len < IPV6_HEADER_LEN || p[0] >> 4 != 6) {
            return;
        }
        *l3 = EMU_L3_IPV6;
        key->ip_proto = p[6];
        memcpy(&key->ip_src, p + 8, sizeof key->ip_src);
        memcpy(&key->ip_dst, p + 24, sizeof key->ip_dst);
        l4_ofs = IPV6_HEADER_LEN;
    } else {
        return;
    }

    p += l4_ofs;
    len -= l4_ofs;
    if (key->ip_proto == IPPROTO_TCP && len >= TCP_HEADER_LEN) {
        *l4 = EMU_L4_TCP;
        memcpy(&key->tp_src, p, sizeof key->tp_src);
        memcpy(&key->tp_dst, p + 2, sizeof key->tp_dst);
        key->tcp_flags = p[13];
    } else if (key->ip_proto == IPPROTO_UDP && len >= UDP_HEADER_LEN) {
        *l4 = EMU_L4_UDP;
        memcpy(&key->tp_src, p, sizeof key->tp_src);
        memcpy(&key->tp_dst, p + 2, sizeof key->tp_dst);
    }
}

static bool
emu_rule_matches(const struct emu_rule *rule, const struct emu_key *key,
                 enum emu_l3 l3, enum emu_l4 l4)
{
    const uint8_t *k = (const uint8_t *) key;
    const uint8_t *s = (const uint8_t *) &rule->spec;
    const uint8_t *m = (const uint8_t *) &rule->mask;

    if ((rule->l3 != EMU_L3_ANY && rule->l3 != l3)
        || (rule->l4 != EMU_L4_ANY && rule->l4 != l4)) {
        return false;
    }
    for (size_t i = 0; i < sizeof *key; i++) {
        if ((k[i] & m[i]) != s[i]) {
            return false;
        }
    }
    return true;
}

static void
emu_rule_apply(struct emu_rule *rule, struct rte_mbuf *m, long long now)
{
    uint64_t orig;

    if (rule->has_mark) {
        m->hash.fdir.hi = rule->mark;
        m->ol_flags |= RTE_MBUF_F_RX_FDIR | RTE_MBUF_F_RX_FDIR_ID;
    }
    if (rule->has_count) {
        atomic_add_relaxed(&rule->hits, 1, &orig);
        atomic_add_relaxed(&rule->bytes, rte_pktmbuf_pkt_len(m), &orig);
    }
    if (rule->has_age) {
        atomic_store_relaxed(&rule->last_hit, now);
    }
}

/* Receive callback, on a PMD thread. */
static uint16_t
emu_rx_callback(uint16_t port_id OVS_UNUSED, uint16_t queue OVS_UNUSED,
                struct rte_mbuf *pkts[], uint16_t n_pkts,
                uint16_t max_pkts OVS_UNUSED, void *slot_)
{
    struct emu_slot *slot = slot_;
    struct emu_port *port = ovsrcu_get(struct emu_port *, &slot->port);
    long long now;

    if (!port || rculist_is_empty(&port->rules)) {
        return n_pkts;
    }

    now = time_msec();
    uint16_t n_kept = 0;
    for (uint16_t i = 0; i < n_pkts; i++) {
        uint32_t group = 0;
        struct emu_key key;
        enum emu_l3 l3;
        enum emu_l4 l4;
        bool drop = false;

        emu_parse(pkts[i], &key, &l3, &l4);
        /* Groups only jump forward, so this ends. */
        for (;;) {
            struct emu_rule *rule, *match = NULL;

            RCULIST_FOR_EACH (rule, node, &port->rules) {
                if (rule->group == group
                    && emu_rule_matches(rule, &key, l3, l4)) {
                    match = rule;
                    break;
                }
            }
            if (!match) {
                break;
            }
            emu_rule_apply(match, pkts[i], now);
            drop = match->drop;
            if (drop || !match->has_jump) {
                break;
            }
            group = match->jump_group;
        }
        if (drop) {
            rte_pktmbuf_free(pkts[i]);
        } else {
            pkts[n_kept++] = pkts[i];
        }
    }
    return n_kept;
}

static void
emu_free_callback(struct rte_eth_rxtx_callback *cb)
{
    rte_free(cb);
}

/* Adds our receive callback to the queues of 'slot''s port that lack it
 * (all of them on attach, new ones after a reconfiguration). */
static void
emu_slot_add_callbacks(struct emu_slot *slot)
    OVS_REQUIRES(emu_mutex)
{
    uint16_t n_rxq = rte_eth_devices[slot->port_id].data->nb_rx_queues;

    for (uint16_t q = 0; q < n_rxq && q < RTE_MAX_QUEUES_PER_PORT; q++) {
        if (!slot->cbs[q]) {
            slot->cbs[q] = rte_eth_add_rx_callback(slot->port_id, q,
                                                   emu_rx_callback, slot);
            if (!slot->cbs[q]) {
                VLOG_WARN("dpdk port %"PRIu16" queue %"PRIu16": could not "
                          "add receive callback: %s", slot->port_id, q,
                          rte_strerror(rte_errno));
            }
        }
    }
}

/* Removes our receive callbacks from 'slot''s port.  Those on queues that
 * no longer exist cannot be removed: they stay, and do nothing while the
 * port is not attached. */
static void
emu_slot_remove_callbacks(struct emu_slot *slot)
    OVS_REQUIRES(emu_mutex)
{
    for (size_t q = 0; q < ARRAY_SIZE(slot->cbs); q++) {
        if (slot->cbs[q]
            && !rte_eth_remove_rx_callback(slot->port_id, q, slot->cbs[q])) {
            /* A PMD thread may be running it. */
            ovsrcu_postpone(emu_free_callback,
                            CONST_CAST(struct rte_eth_rxtx_callback *,
                                       slot->cbs[q]));
            slot->cbs[q] = NULL;
        }
    }
}

/* rte_flow operations. */

static struct emu_port *
emu_port_from_dev(const struct rte_eth_dev *dev)
    OVS_REQUIRES(emu_mutex)
{
    uint16_t port_id = dev->data->port_id;

    return (port_id < RTE_MAX_ETHPORTS && slots[port_id]
            ? ovsrcu_get_protected(struct emu_port *, &slots[port_id]->port)
            : NULL);
}

static int
emu_refuse(struct emu_port *port, struct rte_flow_error *error,
           enum rte_flow_error_type type, const void *cause,
           const char *message)
{
    if (port) {
        port->n_refused++;
    }
    return rte_flow_error_set(error, ENOTSUP, type, cause, message);
}

/* Returns true if no bit is set in 'mask' outside 'supported', both 'size'
 * bytes long. */
static bool
emu_mask_supported(const void *mask_, const void *supported_, size_t size)
{
    const uint8_t *mask = mask_;
    const uint8_t *supported = supported_;

    for (size_t i = 0; i < size; i++) {
        if (mask[i] & ~supported[i]) {
            return false;
        }
    }
    return true;
}

/* Copies 'n' bytes of 'spec' & 'mask' and of 'mask' into 'dst_spec' and
 * 'dst_mask'. */
static void
emu_put_field(void *dst_spec_, void *dst_mask_, const void *spec_,
              const void *mask_, size_t n)
{
    uint8_t *dst_spec = dst_spec_;
    uint8_t *dst_mask = dst_mask_;
    const uint8_t *spec = spec_;
    const uint8_t *mask = mask_;

    for (size_t i = 0; i < n; i++) {
        dst_spec[i] = spec[i] & mask[i];
        dst_mask[i] = mask[i];
    }
}

#endif /* HAVE_RTE_FLOW_DRIVER_H */

/* PMD profiles.
 *
 * Each profile restates, in our words, what one PMD of DPDK 25.11 does with
 * the rules that conntrack offload makes: ingress, ETH / IPV4 or IPV6 /
 * TCP or UDP, MARK, COUNT, AGE, RSS, and JUMP for non-root groups.  File
 * names are relative to the DPDK source tree.  Latencies are per
 * synchronous create; no driver documents them, so all of them are
 * estimates, to be replaced by measurements.  Capacities are estimates
 * unless a source is given. */
const struct netdev_dpdk_flow_emu_profile netdev_dpdk_flow_emu_profiles[] = {
    /* Everything the emulation can apply, at no cost: what the provider
     * would do on an unconstrained NIC. */
    {
        .name = "ideal",
        .driver = "net_emu_ideal",
        .tcp_flags = true,
        .mark = { true, true },
        .count = { true, true },
        .age = { true, true },
        .rss = { true, true },
        .mark_max = UINT32_MAX,
        .jump = true,
        .full_errno = ENOSPC,
        .rss_full_errno = ENOSPC,
        .refuse_errno = ENOTSUP,
        .validate_actions = true,
    },

    /* mlx5, software steering (dv_flow_en=1), drivers/net/mlx5.
     * - Group 0 is the root table, kept by firmware and shared with the
     *   kernel driver; other groups are reached by JUMP and written by the
     *   PMD itself, which is what makes them fast (doc/guides/nics/
     *   mlx5.rst, "Flow rules" and the fdb_def_rule_en devarg).
     * - MARK ids must stay below MLX5_FLOW_MARK_MAX, 0xfffff0, with the
     *   default dv_xmeta_en=0 (mlx5_flow.c, mlx5_flow_validate_action_
     *   mark()), refused with EINVAL.  The profile uses EINVAL for every
     *   refusal, though other checks there give ENOTSUP.
     * - AGE on the root table falls back to counter-based aging, ASO
     *   aging being for other groups only (mlx5_flow_dv.c,
     *   flow_hit_aso_supported()), so COUNT and AGE work in every
     *   group.
     * - Stopping the port flushes the application's rules (mlx5_trigger.c,
     *   mlx5_dev_stop() -> mlx5_flow_list_flush()); handles are indices
     *   from a pool that hands freed ones out again, and destroying an
     *   unknown one reports no error (mlx5_flow.c, mlx5_flow_list_create()
     *   and mlx5_flow_destroy()).
     * - Tables grow with device memory: capacities and the ENOMEM on
     *   exhaustion are estimates. */
    {
        .name = "mlx5-sws",
        .driver = "mlx5_pci",
        .tcp_flags = true,
        .mark = { true, true },
        .count = { true, true },
        .age = { true, true },
        .rss = { true, true },
        .mark_max = 0xffffef,
        .jump = true,
        .capacity = { 65536, 4194304 },         /* Estimates. */
        .full_errno = ENOMEM,                   /* Estimate. */
        .rss_full_errno = ENOMEM,
        .refuse_errno = EINVAL,
        .validate_actions = true,
        .latency_us = { 100, 10 },              /* Estimates. */
        .stop_flushes = true,
        .reuse_handles = true,
    },

    /* mlx5, hardware steering (dv_flow_en=2), drivers/net/mlx5.
     * - As mlx5-sws for the root table, marks, port stop and handles.
     * - flow_hw_validate() looks at the pattern only, its actions
     *   argument is unused (mlx5_flow_hw.c): an action that create
     *   refuses still validates.
     * - COUNT and AGE on the root table need Linux 6.4 and rdma-core 60
     *   (mlx5.rst, "Flow Count" and "Flow Age" limitations); this profile
     *   is a host without them (Debian 12 runs Linux 6.1).  The errno of
     *   that refusal is an estimate.
     * - Freed counters go through a "wait_reset" ring first: a create
     *   meanwhile may get EAGAIN, "retry later" (mlx5.rst, "Flow Count").
     *   The pool size (0 here: no limit) and the delay are estimates.
     * - Non-root tables take "millions of rules per second" with the
     *   asynchronous API (mlx5.rst); the synchronous latency is an
     *   estimate. */
    {
        .name = "mlx5-hws",
        .driver = "mlx5_pci",
        .tcp_flags = true,
        .mark = { true, true },
        .count = { false, true },
        .age = { false, true },
        .rss = { true, true },
        .mark_max = 0xffffef,
        .jump = true,
        .capacity = { 65536, 4194304 },         /* Estimates. */
        .full_errno = ENOMEM,                   /* Estimate. */
        .rss_full_errno = ENOMEM,
        .counter_reuse_ms = 1,                  /* Estimate. */
        .refuse_errno = ENOTSUP,                /* Estimate. */
        .validate_actions = false,
        .latency_us = { 100, 2 },               /* Estimates. */
        .stop_flushes = true,
        .reuse_handles = true,
    },

    /* Intel E810, drivers/net/intel/ice.
     * - No engine (flow director, switch, ACL) accepts a TCP item that
     *   masks the flags (ice_fdir_filter.c, ice_switch_filter.c,
     *   ice_acl_filter.c: "Invalid TCP mask", EINVAL).
     * - Flow director actions: QUEUE, DROP, PASSTHRU, RSS, MARK, COUNT;
     *   anything else, AGE included, is "Invalid action", EINVAL
     *   (ice_fdir_filter.c, ice_fdir_parse_action()).  MARK is 32 bits.
     * - RSS is a queue region: contiguous queues, a power of two from 2
     *   to 128 (ice_fdir_parse_action_qregion()).
     * - No JUMP: groups only pick an engine in pipeline mode
     *   (ice_generic_flow.c).
     * - The flow director table size is an estimate. */
    {
        .name = "ice",
        .driver = "net_ice",
        .tcp_flags = false,
        .mark = { true, false },
        .count = { true, false },
        .age = { false, false },
        .rss = { true, false },
        .rss_region = true,
        .mark_max = UINT32_MAX,
        .jump = false,
        .capacity = { 16384, 0 },               /* Estimate. */
        .full_errno = ENOSPC,                   /* Estimate. */
        .rss_full_errno = ENOSPC,
        .refuse_errno = EINVAL,
        .validate_actions = true,
        .latency_us = { 20, 0 },                /* Estimate. */
    },

    /* Intel X710, drivers/net/intel/i40e.
     * - TCP flags in the TCP item: "Invalid TCP mask", EINVAL
     *   (i40e_flow.c).
     * - Flow director actions: first QUEUE, DROP or PASSTHRU, then
     *   optionally MARK, FLAG or (after PASSTHRU) RSS, then nothing: no
     *   COUNT, no AGE, MARK never first (i40e_flow.c,
     *   i40e_flow_parse_fdir_action()).  MARK is 32 bits.
     * - attr->group is refused, "Not support group." (i40e_flow.c).
     * - The table size is an estimate. */
    {
        .name = "i40e",
        .driver = "net_i40e",
        .tcp_flags = false,
        .mark = { true, false },
        .count = { false, false },
        .age = { false, false },
        .rss = { true, false },
        .fate_first = true,
        .mark_max = UINT32_MAX,
        .jump = false,
        .capacity = { 8192, 0 },                /* Estimate. */
        .full_errno = ENOSPC,                   /* Estimate. */
        .rss_full_errno = ENOSPC,
        .refuse_errno = EINVAL,
        .validate_actions = true,
        .latency_us = { 20, 0 },                /* Estimate. */
    },

    /* Broadcom, legacy (non-TruFlow) path, drivers/net/bnxt/bnxt_flow.c.
     * - TCP item: only the ports may be masked, "Invalid TCP mask",
     *   EINVAL.
     * - Actions QUEUE, DROP, VF, RSS and MARK; COUNT and AGE are
     *   "Invalid action", EINVAL (bnxt_validate_and_parse_flow()).
     * - attr->group names a VNIC, there is no JUMP.
     * - Each rule is a firmware (HWRM) request: the latency is an
     *   estimate, as is the table size.  Whether the TruFlow path takes
     *   MARK with COUNT and RSS was not verified. */
    {
        .name = "bnxt",
        .driver = "net_bnxt",
        .tcp_flags = false,
        .mark = { true, false },
        .count = { false, false },
        .age = { false, false },
        .rss = { true, false },
        .mark_max = UINT32_MAX,
        .jump = false,
        .capacity = { 8192, 0 },                /* Estimate. */
        .full_errno = ENOSPC,                   /* Estimate. */
        .rss_full_errno = ENOSPC,
        .refuse_errno = EINVAL,
        .validate_actions = true,
        .latency_us = { 100, 0 },               /* Estimate. */
    },

    /* Marvell OCTEON (cn9k, cn10k, cn20k), drivers/common/cnxk and
     * drivers/net/cnxk.
     * - MARK ids must be below 0xfffe.  A higher one is not refused:
     *   npc_parse_actions() (roc_npc.c) logs "mark value must be <
     *   0xfffe" and returns 0 without parsing the remaining actions, so
     *   the rule keeps a zero action word, NIX_RX_ACTIONOP_DROP
     *   (hw/nix.h).  Validation cannot catch it: the rule drops.
     * - COUNT and AGE are accepted (roc_npc.c).
     * - Each RSS action takes one of the RSS groups 1 to 7
     *   (ROC_NIX_RSS_GRPS is 8, group 0 is the port's own, roc_nix.h);
     *   then ENOSPC (roc_npc.c, npc_rss_action_configure()).
     * - Failed creates leave the errno value negated in rte_errno, e.g.
     *   -ENOSPC (cnxk_flow.c, cnxk_flow_create_common(), passes
     *   roc_npc's 'errcode' on), and refusals carry roc_npc's own
     *   NPC_ERR_* codes (roc_npc_priv.h), which are no errno values at
     *   all: the ENOTSUP here stands for them.
     * - No JUMP action.  TCP flag matching was not verified; the MCAM
     *   size and the latency are estimates. */
    {
        .name = "cnxk",
        .driver = "net_cn10k",
        .tcp_flags = true,
        .mark = { true, false },
        .count = { true, false },
        .age = { true, false },
        .rss = { true, false },
        .mark_max = 0xfffd,
        .mark_over_max_drops = true,
        .jump = false,
        .capacity = { 4096, 0 },                /* Estimate. */
        .full_errno = ENOSPC,                   /* Estimate. */
        .rss_rules = 7,
        .rss_full_errno = ENOSPC,
        .refuse_errno = ENOTSUP,                /* See above. */
        .negative_errno = true,
        .validate_actions = true,
        .latency_us = { 50, 0 },                /* Estimate. */
    },
};
const size_t netdev_dpdk_flow_emu_n_profiles
    = ARRAY_SIZE(netdev_dpdk_flow_emu_profiles);

const struct netdev_dpdk_flow_emu_profile *
netdev_dpdk_flow_emu_profile_find(const char *name)
{
    for (size_t i = 0; i < netdev_dpdk_flow_emu_n_profiles; i++) {
        if (!strcmp(netdev_dpdk_flow_emu_profiles[i].name, name)) {
            return &netdev_dpdk_flow_emu_profiles[i];
        }
    }
    return NULL;
}

/* Fills in 'error' and rte_errno as the PMD of 'profile' would for the
 * positive errno value 'code', and returns -code. */
static int
emu_check_error(const struct netdev_dpdk_flow_emu_profile *profile,
                struct rte_flow_error *error, int code,
                enum rte_flow_error_type type, const void *cause,
                const char *message)
{
    rte_flow_error_set(error, profile->negative_errno ? -code : code, type,
                       cause, message);
    return -code;
}

static int
emu_check_refuse(const struct netdev_dpdk_flow_emu_profile *profile,
                 struct rte_flow_error *error, enum rte_flow_error_type type,
                 const void *cause, const char *message)
{
    return emu_check_error(profile, error, profile->refuse_errno, type,
                           cause, message);
}

static bool
emu_rss_is_region(const struct rte_flow_action_rss *rss, uint16_t n_rxq)
{
    if (!rss || rss->queue_num < 2 || rss->queue_num > 128
        || !is_pow2(rss->queue_num)) {
        return false;
    }
    for (uint32_t i = 0; i + 1 < rss->queue_num; i++) {
        if (rss->queue[i + 1] != rss->queue[i] + 1) {
            return false;
        }
    }
    return rss->queue[rss->queue_num - 1] < n_rxq;
}

int
netdev_dpdk_flow_emu_check(
    const struct netdev_dpdk_flow_emu_profile *profile, bool create,
    uint16_t n_rxq, const struct netdev_dpdk_flow_emu_usage *usage,
    const struct rte_flow_attr *attr, const struct rte_flow_item *pattern,
    const struct rte_flow_action *actions, struct rte_flow_error *error,
    bool *drops)
{
    bool fate = false, rss = false, counter = false;
    int kind;

    *drops = false;
    if (!attr || !pattern || !actions) {
        return rte_flow_error_set(error, EINVAL,
                                  RTE_FLOW_ERROR_TYPE_UNSPECIFIED, NULL,
                                  "missing attributes, pattern or actions");
    }
    if (attr->group && !profile->jump) {
        return emu_check_refuse(profile, error, RTE_FLOW_ERROR_TYPE_ATTR_GROUP,
                                attr, "no groups but the root table");
    }
    kind = attr->group ? EMU_NON_ROOT : EMU_ROOT;

    for (const struct rte_flow_item *item = pattern;
         item->type != RTE_FLOW_ITEM_TYPE_END; item++) {
        if (item->type == RTE_FLOW_ITEM_TYPE_TCP && item->spec
            && !profile->tcp_flags) {
            const struct rte_flow_item_tcp *mask
                = item->mask ? item->mask : &rte_flow_item_tcp_mask;

            if (mask->hdr.tcp_flags) {
                return emu_check_refuse(profile, error,
                                        RTE_FLOW_ERROR_TYPE_ITEM, item,
                                        "Invalid TCP mask");
            }
        }
    }
    if (!create && !profile->validate_actions) {
        return 0;
    }

    for (const struct rte_flow_action *a = actions;
         a->type != RTE_FLOW_ACTION_TYPE_END; a++) {
        const char *msg = NULL;

        if (a->type == RTE_FLOW_ACTION_TYPE_VOID) {
            continue;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_MARK) {
            const struct rte_flow_action_mark *mark = a->conf;

            if (!profile->mark[kind] || (profile->fate_first && !fate)) {
                msg = "Invalid action.";
            } else if (mark && mark->id > profile->mark_max) {
                if (profile->mark_over_max_drops) {
                    /* The PMD stops parsing here and succeeds. */
                    *drops = true;
                    return 0;
                }
                msg = "mark id out of range";
            }
        } else if (a->type == RTE_FLOW_ACTION_TYPE_COUNT) {
            msg = profile->count[kind] ? NULL : "Invalid action.";
            counter = true;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_AGE) {
            msg = profile->age[kind] ? NULL : "Invalid action.";
            counter = true;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_RSS) {
            if (!profile->rss[kind]) {
                msg = "Invalid action.";
            } else if (profile->rss_region
                       && !emu_rss_is_region(a->conf, n_rxq)) {
                msg = "RSS is not a queue region";
            }
            fate = rss = true;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_JUMP) {
            const struct rte_flow_action_jump *jump = a->conf;

            msg = (!profile->jump ? "Invalid action."
                   : !jump || jump->group <= attr->group
                   ? "jump must go to a later group" : NULL);
            fate = true;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_QUEUE
                   || a->type == RTE_FLOW_ACTION_TYPE_PASSTHRU
                   || a->type == RTE_FLOW_ACTION_TYPE_DROP) {
            fate = true;
        } else {
            msg = "Invalid action.";
        }
        if (msg) {
            return emu_check_refuse(profile, error,
                                    RTE_FLOW_ERROR_TYPE_ACTION, a, msg);
        }
    }

    if (create) {
        if (profile->capacity[kind]
            && usage->n_rules[kind] >= profile->capacity[kind]) {
            return emu_check_error(profile, error, profile->full_errno,
                                   RTE_FLOW_ERROR_TYPE_UNSPECIFIED, NULL,
                                   "table full");
        }
        if (rss && profile->rss_rules
            && usage->n_rss >= profile->rss_rules) {
            return emu_check_error(profile, error, profile->rss_full_errno,
                                   RTE_FLOW_ERROR_TYPE_ACTION, NULL,
                                   "no free RSS group");
        }
        if (counter && profile->counters
            && usage->n_counters + usage->n_counters_waiting
               >= profile->counters) {
            return emu_check_error(profile, error,
                                   usage->n_counters_waiting
                                   ? EAGAIN : ENOENT,
                                   RTE_FLOW_ERROR_TYPE_ACTION, NULL,
                                   "no free counter");
        }
    }
    return 0;
}

#ifdef HAVE_RTE_FLOW_DRIVER_H
/* Fields of each item that the emulation matches. */
static const struct rte_flow_item_eth eth_supported = {
    .hdr.dst_addr.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
    .hdr.src_addr.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
    .hdr.ether_type = OVS_BE16_MAX,
};
static const struct rte_flow_item_eth eth_vlan_supported = {
    .hdr.dst_addr.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
    .hdr.src_addr.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
    .hdr.ether_type = OVS_BE16_MAX,
    .has_vlan = 1,
};
static const struct rte_flow_item_ipv4 ipv4_supported = {
    .hdr.fragment_offset = OVS_BE16_MAX,
    .hdr.next_proto_id = 0xff,
    .hdr.src_addr = OVS_BE32_MAX,
    .hdr.dst_addr = OVS_BE32_MAX,
};
static const struct rte_flow_item_ipv6 ipv6_supported = {
    .hdr.proto = 0xff,
    .hdr.src_addr.a = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
    .hdr.dst_addr.a = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
};
static const struct rte_flow_item_tcp tcp_supported = {
    .hdr.src_port = OVS_BE16_MAX,
    .hdr.dst_port = OVS_BE16_MAX,
    .hdr.tcp_flags = 0xff,
};
static const struct rte_flow_item_udp udp_supported = {
    .hdr.src_port = OVS_BE16_MAX,
    .hdr.dst_port = OVS_BE16_MAX,
};

/* Layers, for the order of items. */
enum emu_layer { EMU_LAYER_NONE, EMU_LAYER_L2, EMU_LAYER_L3, EMU_LAYER_L4 };

/* Parses 'pattern' into 'rule'.  Returns 0 or a negative errno value after
 * filling in 'error'. */
static int
emu_parse_pattern(struct emu_port *port, const struct rte_flow_item *pattern,
                  struct emu_rule *rule, struct rte_flow_error *error)
{
    enum emu_layer layer = EMU_LAYER_NONE;
    struct emu_key *s = &rule->spec;
    struct emu_key *m = &rule->mask;

    for (const struct rte_flow_item *item = pattern;
         item->type != RTE_FLOW_ITEM_TYPE_END; item++) {
        enum emu_layer item_layer;
        const void *supported;
        const void *mask;
        size_t size;

        if (item->type == RTE_FLOW_ITEM_TYPE_VOID) {
            continue;
        } else if (item->type == RTE_FLOW_ITEM_TYPE_ETH) {
            item_layer = EMU_LAYER_L2;
            supported = (port && port->has_vlan ? &eth_vlan_supported
                         : &eth_supported);
            mask = &rte_flow_item_eth_mask;
            size = sizeof eth_supported;
        } else if (item->type == RTE_FLOW_ITEM_TYPE_IPV4) {
            item_layer = EMU_LAYER_L3;
            supported = &ipv4_supported;
            mask = &rte_flow_item_ipv4_mask;
            size = sizeof ipv4_supported;
        } else if (item->type == RTE_FLOW_ITEM_TYPE_IPV6) {
            item_layer = EMU_LAYER_L3;
            supported = &ipv6_supported;
            mask = &rte_flow_item_ipv6_mask;
            size = sizeof ipv6_supported;
        } else if (item->type == RTE_FLOW_ITEM_TYPE_TCP) {
            item_layer = EMU_LAYER_L4;
            supported = &tcp_supported;
            mask = &rte_flow_item_tcp_mask;
            size = sizeof tcp_supported;
        } else if (item->type == RTE_FLOW_ITEM_TYPE_UDP) {
            item_layer = EMU_LAYER_L4;
            supported = &udp_supported;
            mask = &rte_flow_item_udp_mask;
            size = sizeof udp_supported;
        } else {
            return emu_refuse(port, error, RTE_FLOW_ERROR_TYPE_ITEM, item,
                              "item not emulated");
        }

        /* Not "ETH / TCP": the L4 item would have to imply an L3
         * protocol, which the emulation does not guess. */
        if (item_layer <= layer
            || (item_layer == EMU_LAYER_L4 && layer != EMU_LAYER_L3)) {
            return emu_refuse(port, error, RTE_FLOW_ERROR_TYPE_ITEM, item,
                              "item order not emulated");
        }
        layer = item_layer;
        if (item->last) {
            return emu_refuse(port, error, RTE_FLOW_ERROR_TYPE_ITEM_LAST,
                              item, "ranges not emulated");
        }
        if (item->mask) {
            mask = item->mask;
        }
        if (!emu_mask_supported(mask, supported, size)) {
            return emu_refuse(port, error, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
                              item, "field not emulated");
        }

        if (item->type == RTE_FLOW_ITEM_TYPE_IPV4) {
            rule->l3 = EMU_L3_IPV4;
        } else if (item->type == RTE_FLOW_ITEM_TYPE_IPV6) {
            rule->l3 = EMU_L3_IPV6;
        } else if (item->type == RTE_FLOW_ITEM_TYPE_TCP) {
            rule->l4 = EMU_L4_TCP;
        } else if (item->type == RTE_FLOW_ITEM_TYPE_UDP) {
            rule->l4 = EMU_L4_UDP;
        }
        if (!item->spec) {
            continue;           /* Matches any header of this protocol. */
        }

        if (item->type == RTE_FLOW_ITEM_TYPE_ETH) {
            const struct rte_flow_item_eth *sp = item->spec, *mk = mask;

            emu_put_field(&s->eth_dst, &m->eth_dst, &sp->hdr.dst_addr,
                          &mk->hdr.dst_addr, ETH_ADDR_LEN);
            emu_put_field(&s->eth_src, &m->eth_src, &sp->hdr.src_addr,
                          &mk->hdr.src_addr, ETH_ADDR_LEN);
            emu_put_field(&s->eth_type, &m->eth_type, &sp->hdr.ether_type,
                          &mk->hdr.ether_type, sizeof s->eth_type);
            if (mk->has_vlan) {
                /* Whether the frame has a tag, which the emulation tells by
                 * its outer type (it parses nothing behind a tag). */
                s->vlan = sp->has_vlan;
                m->vlan = 0xff;
            }
        } else if (item->type == RTE_FLOW_ITEM_TYPE_IPV4) {
            const struct rte_flow_item_ipv4 *sp = item->spec, *mk = mask;

            emu_put_field(&s->ip_frag, &m->ip_frag, &sp->hdr.fragment_offset,
                          &mk->hdr.fragment_offset, sizeof s->ip_frag);
            emu_put_field(&s->ip_proto, &m->ip_proto,
                          &sp->hdr.next_proto_id, &mk->hdr.next_proto_id, 1);
            emu_put_field(&s->ip_src, &m->ip_src, &sp->hdr.src_addr,
                          &mk->hdr.src_addr, 4);
            emu_put_field(&s->ip_dst, &m->ip_dst, &sp->hdr.dst_addr,
                          &mk->hdr.dst_addr, 4);
        } else if (item->type == RTE_FLOW_ITEM_TYPE_IPV6) {
            const struct rte_flow_item_ipv6 *sp = item->spec, *mk = mask;

            emu_put_field(&s->ip_proto, &m->ip_proto, &sp->hdr.proto,
                          &mk->hdr.proto, 1);
            emu_put_field(&s->ip_src, &m->ip_src, &sp->hdr.src_addr,
                          &mk->hdr.src_addr, sizeof s->ip_src);
            emu_put_field(&s->ip_dst, &m->ip_dst, &sp->hdr.dst_addr,
                          &mk->hdr.dst_addr, sizeof s->ip_dst);
        } else if (item->type == RTE_FLOW_ITEM_TYPE_TCP) {
            const struct rte_flow_item_tcp *sp = item->spec, *mk = mask;

            emu_put_field(&s->tp_src, &m->tp_src, &sp->hdr.src_port,
                          &mk->hdr.src_port, sizeof s->tp_src);
            emu_put_field(&s->tp_dst, &m->tp_dst, &sp->hdr.dst_port,
                          &mk->hdr.dst_port, sizeof s->tp_dst);
            emu_put_field(&s->tcp_flags, &m->tcp_flags, &sp->hdr.tcp_flags,
                          &mk->hdr.tcp_flags, 1);
        } else {
            const struct rte_flow_item_udp *sp = item->spec, *mk = mask;

            emu_put_field(&s->tp_src, &m->tp_src, &sp->hdr.src_port,
                          &mk->hdr.src_port, sizeof s->tp_src);
            emu_put_field(&s->tp_dst, &m->tp_dst, &sp->hdr.dst_port,
                          &mk->hdr.dst_port, sizeof s->tp_dst);
        }
    }
    return 0;
}

/* Whether 'rss' sends packets to any of the port's 'n_rxq' queues, and so
 * may leave a packet on the queue where it arrived.  A queue region (which
 * a profile with 'rss_region' wants) may cover fewer queues: the packets
 * that the emulation marks stay where they arrived all the same. */
static bool
emu_rss_supported(const struct emu_port *port,
                  const struct rte_flow_action_rss *rss, uint16_t n_rxq)
{
    bool seen[RTE_MAX_QUEUES_PER_PORT] = { false };

    if (port->profile.rss_region && rss && rss->level <= 1
        && emu_rss_is_region(rss, n_rxq)) {
        return true;
    }
    if (!rss || rss->level > 1 || rss->queue_num != n_rxq
        || (rss->func != RTE_ETH_HASH_FUNCTION_DEFAULT
            && rss->func != RTE_ETH_HASH_FUNCTION_TOEPLITZ)) {
        return false;
    }
    for (uint32_t i = 0; i < rss->queue_num; i++) {
        if (rss->queue[i] >= n_rxq || seen[rss->queue[i]]) {
            return false;
        }
        seen[rss->queue[i]] = true;
    }
    return true;
}

static int
emu_parse_actions(struct emu_port *port, uint16_t n_rxq,
                  const struct rte_flow_action *actions,
                  struct emu_rule *rule, struct rte_flow_error *error)
{
    for (const struct rte_flow_action *a = actions;
         a->type != RTE_FLOW_ACTION_TYPE_END; a++) {
        if (a->type == RTE_FLOW_ACTION_TYPE_VOID) {
            continue;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_MARK
                   && a->conf && !rule->has_mark) {
            const struct rte_flow_action_mark *mark = a->conf;

            rule->has_mark = true;
            rule->mark = mark->id;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_COUNT
                   && !rule->has_count) {
            /* Counter ids only matter to shared counters, which the
             * emulation does not have. */
            rule->has_count = true;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_AGE
                   && a->conf && !rule->has_age) {
            const struct rte_flow_action_age *age = a->conf;

            rule->has_age = true;
            rule->age_timeout = age->timeout;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_RSS && !rule->rss_queues
                   && !rule->has_jump && !rule->has_queue && n_rxq
                   && emu_rss_supported(port, a->conf, n_rxq)) {
            const struct rte_flow_action_rss *rss = a->conf;

            rule->rss_queues = rss->queue_num;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_QUEUE && a->conf
                   && n_rxq == 1 && !rule->has_queue && !rule->has_jump
                   && !rule->rss_queues
                   && !((const struct rte_flow_action_queue *) a->conf)
                       ->index) {
            rule->has_queue = true;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_JUMP && a->conf
                   && !rule->has_jump && !rule->rss_queues
                   && !rule->has_queue
                   && ((const struct rte_flow_action_jump *) a->conf)->group
                      > rule->group) {
            rule->has_jump = true;
            rule->jump_group
                = ((const struct rte_flow_action_jump *) a->conf)->group;
        } else {
            return emu_refuse(port, error, RTE_FLOW_ERROR_TYPE_ACTION, a,
                              "action not emulated");
        }
    }
    return 0;
}

/* Parses a rule into 'rule' and returns 0, or returns a negative errno
 * value after filling in 'error'. */
static int
emu_parse_rule(struct emu_port *port, uint16_t n_rxq, bool create,
               const struct rte_flow_attr *attr,
               const struct rte_flow_item pattern[],
               const struct rte_flow_action actions[],
               struct emu_rule *rule, struct rte_flow_error *error)
    OVS_REQUIRES(emu_mutex)
{
    int err;

    memset(rule, 0, sizeof *rule);
    if (create && port->usage.n_counters_waiting
        && time_msec() - port->counters_freed
           >= port->profile.counter_reuse_ms) {
        port->usage.n_counters_waiting = 0;
    }
    /* First what the PMD would say. */
    err = netdev_dpdk_flow_emu_check(&port->profile, create, n_rxq,
                                     &port->usage, attr, pattern, actions,
                                     error, &rule->drop);
    if (err) {
        port->n_refused++;
        return err;
    }
    if (!attr->ingress || attr->egress || attr->transfer) {
        return emu_refuse(port, error, RTE_FLOW_ERROR_TYPE_ATTR, attr,
                          "only ingress rules are emulated");
    }
    rule->group = attr->group;
    rule->priority = attr->priority;

    err = emu_parse_pattern(port, pattern, rule, error);
    if (!err && rule->drop) {
        /* The PMD ignored the actions. */
    } else if (!err && (create || port->profile.validate_actions)) {
        err = emu_parse_actions(port, n_rxq, actions, rule, error);
    }
    return err;
}

static int
emu_validate(struct rte_eth_dev *dev, const struct rte_flow_attr *attr,
             const struct rte_flow_item pattern[],
             const struct rte_flow_action actions[],
             struct rte_flow_error *error)
{
    struct emu_rule rule;
    struct emu_port *port;
    int err;

    ovs_mutex_lock(&emu_mutex);
    port = emu_port_from_dev(dev);
    err = (port
           ? emu_parse_rule(port, dev->data->nb_rx_queues, false, attr,
                            pattern, actions, &rule, error)
           : emu_refuse(NULL, error, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, NULL,
                        "flow emulation detached"));
    ovs_mutex_unlock(&emu_mutex);
    return err;
}

/* A free handle of 'port' for 'rule'. */
static uint32_t
emu_handle_alloc(struct emu_port *port, struct emu_rule *rule)
    OVS_REQUIRES(emu_mutex)
{
    size_t idx = port->n_handles;

    if (port->profile.reuse_handles) {
        for (idx = 0; idx < port->n_handles; idx++) {
            if (!port->handles[idx]) {
                break;
            }
        }
    }
    if (idx == port->n_handles) {
        if (port->n_handles >= port->allocated_handles) {
            port->handles = x2nrealloc(port->handles,
                                       &port->allocated_handles,
                                       sizeof *port->handles);
        }
        port->n_handles++;
    }
    port->handles[idx] = rule;
    return idx + 1;
}

/* The handle that rte_flow_create() returns for 'rule'. */
static struct rte_flow *
emu_handle_to_flow(const struct emu_port *port, uint32_t handle)
{
    uint64_t value = handle;

    if (UINTPTR_MAX > UINT32_MAX) {
        value |= (uint64_t) port->n_stops << 32;
    }
    return (struct rte_flow *) (uintptr_t) value;
}

static struct rte_flow *
emu_create(struct rte_eth_dev *dev, const struct rte_flow_attr *attr,
           const struct rte_flow_item pattern[],
           const struct rte_flow_action actions[],
           struct rte_flow_error *error)
{
    struct emu_rule *rule = xmalloc(sizeof *rule);
    unsigned int latency_us;
    struct emu_port *port;
    struct emu_rule *pos;
    uint32_t handle;

    ovs_mutex_lock(&emu_mutex);
    port = emu_port_from_dev(dev);
    if (!port) {
        emu_refuse(NULL, error, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, NULL,
                   "flow emulation detached");
        goto error;
    }
    if (emu_parse_rule(port, dev->data->nb_rx_queues, true, attr, pattern,
                       actions, rule, error)) {
        goto error;
    }

    atomic_init(&rule->hits, 0);
    atomic_init(&rule->bytes, 0);
    atomic_init(&rule->last_hit, time_msec());

    /* The port may have gained queues since the last rule. */
    emu_slot_add_callbacks(slots[port->port_id]);

    /* After the rules of the same priority: the oldest matching rule
     * wins, as on most NICs. */
    struct rculist *before = &port->rules;
    RCULIST_FOR_EACH_PROTECTED (pos, node, &port->rules) {
        if (pos->priority > rule->priority) {
            before = &pos->node;
            break;
        }
    }
    rculist_insert(before, &rule->node);
    handle = rule->handle = emu_handle_alloc(port, rule);
    port->usage.n_rules[rule->group ? EMU_NON_ROOT : EMU_ROOT]++;
    port->usage.n_rss += rule->rss_queues != 0;
    port->usage.n_counters += rule->has_count || rule->has_age;
    port->n_rules++;
    port->n_created++;
    latency_us = port->profile.latency_us[rule->group ? EMU_NON_ROOT
                                                      : EMU_ROOT];
    ovs_mutex_unlock(&emu_mutex);

    /* The time the PMD would take, outside the mutex: PMDs serialize
     * their own tables, not other ports'. */
    if (latency_us) {
        xnanosleep(latency_us * 1000LL);
    }
    return emu_handle_to_flow(port, handle);

error:
    ovs_mutex_unlock(&emu_mutex);
    free(rule);
    return NULL;
}

/* Returns the rule of 'port' that 'flow' names, or NULL if there is none:
 * callers may pass a handle that another PMD (or an earlier attachment)
 * gave, or one whose rule a port stop destroyed. */
static struct emu_rule *
emu_rule_find(const struct emu_port *port, const struct rte_flow *flow,
              bool *stale)
    OVS_REQUIRES(emu_mutex)
{
    uint64_t value = (uintptr_t) flow;
    uint32_t idx = value & UINT32_MAX;

    *stale = (UINTPTR_MAX > UINT32_MAX && port->profile.stop_flushes
              && (value >> 32) != port->n_stops);
    return idx >= 1 && idx <= port->n_handles ? port->handles[idx - 1] : NULL;
}

static void
emu_rule_destroy(struct emu_port *port, struct emu_rule *rule)
    OVS_REQUIRES(emu_mutex)
{
    rculist_remove(&rule->node);
    port->handles[rule->handle - 1] = NULL;
    port->usage.n_rules[rule->group ? EMU_NON_ROOT : EMU_ROOT]--;
    port->usage.n_rss -= rule->rss_queues != 0;
    if (rule->has_count || rule->has_age) {
        port->usage.n_counters--;
        port->usage.n_counters_waiting++;
        port->counters_freed = time_msec();
    }
    port->n_rules--;
    /* PMD threads may be matching packets against it. */
    ovsrcu_postpone(free, rule);
}

static int
emu_destroy(struct rte_eth_dev *dev, struct rte_flow *flow,
            struct rte_flow_error *error)
{
    struct emu_rule *rule = NULL;
    struct emu_port *port;
    int err = 0;

    bool stale = false;

    ovs_mutex_lock(&emu_mutex);
    port = emu_port_from_dev(dev);
    if (port) {
        rule = emu_rule_find(port, flow, &stale);
        port->n_stale_destroys += stale;
    }
    if (rule) {
        emu_rule_destroy(port, rule);
    } else if (port && port->profile.reuse_handles) {
        /* mlx5 does not tell. */
        port->n_unknown_destroys++;
    } else {
        err = rte_flow_error_set(error, EINVAL, RTE_FLOW_ERROR_TYPE_HANDLE,
                                 flow, "no such flow");
    }
    ovs_mutex_unlock(&emu_mutex);
    return err;
}

static int
emu_flush(struct rte_eth_dev *dev, struct rte_flow_error *error OVS_UNUSED)
{
    struct emu_port *port;

    ovs_mutex_lock(&emu_mutex);
    port = emu_port_from_dev(dev);
    if (port) {
        struct emu_rule *rule;

        RCULIST_FOR_EACH_SAFE_PROTECTED (rule, node, &port->rules) {
            emu_rule_destroy(port, rule);
        }
    }
    ovs_mutex_unlock(&emu_mutex);
    return 0;
}

static int
emu_query(struct rte_eth_dev *dev, struct rte_flow *flow,
          const struct rte_flow_action *action, void *data,
          struct rte_flow_error *error)
{
    struct emu_rule *rule = NULL;
    struct emu_port *port;
    int err = 0;

    bool stale = false;

    ovs_mutex_lock(&emu_mutex);
    port = emu_port_from_dev(dev);
    if (port) {
        rule = emu_rule_find(port, flow, &stale);
        port->n_stale_queries += stale;
    }
    if (!rule) {
        err = rte_flow_error_set(error, EINVAL, RTE_FLOW_ERROR_TYPE_HANDLE,
                                 flow, "no such flow");
    } else if (action->type == RTE_FLOW_ACTION_TYPE_COUNT
               && rule->has_count) {
        struct rte_flow_query_count *count = data;
        uint64_t hits, bytes, orig;

        atomic_read_relaxed(&rule->hits, &hits);
        atomic_read_relaxed(&rule->bytes, &bytes);
        if (count->reset) {
            /* Subtracts, so as not to lose concurrent hits. */
            atomic_sub_relaxed(&rule->hits, hits, &orig);
            atomic_sub_relaxed(&rule->bytes, bytes, &orig);
        }
        count->hits_set = 1;
        count->bytes_set = 1;
        count->hits = hits;
        count->bytes = bytes;
    } else if (action->type == RTE_FLOW_ACTION_TYPE_AGE && rule->has_age) {
        struct rte_flow_query_age *age = data;
        long long last_hit;
        long long sec;

        atomic_read_relaxed(&rule->last_hit, &last_hit);
        sec = MAX(time_msec() - last_hit, 0) / 1000;
        memset(age, 0, sizeof *age);
        age->sec_since_last_hit = MIN(sec, 0xffffff);
        age->sec_since_last_hit_valid = 1;
        age->aged = sec >= rule->age_timeout;
    } else {
        err = rte_flow_error_set(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                                 action, "no such action in the flow");
    }
    ovs_mutex_unlock(&emu_mutex);
    return err;
}

static const struct rte_flow_ops emu_flow_ops = {
    .validate = emu_validate,
    .create = emu_create,
    .destroy = emu_destroy,
    .flush = emu_flush,
    .query = emu_query,
};

static int
emu_flow_ops_get(struct rte_eth_dev *dev OVS_UNUSED,
                 const struct rte_flow_ops **ops)
{
    *ops = &emu_flow_ops;
    return 0;
}

/* Ports. */

/* The port's dev_stop while attached.  PMDs whose stop flushes the
 * application's rules (mlx5) lose them here, before the port stops. */
static int
emu_dev_stop(struct rte_eth_dev *dev)
{
    uint16_t port_id = dev->data->port_id;
    const struct eth_dev_ops *orig = NULL;

    ovs_mutex_lock(&emu_mutex);
    if (port_id < RTE_MAX_ETHPORTS && slots[port_id]) {
        struct emu_port *port = emu_port_from_dev(dev);

        orig = slots[port_id]->orig_ops;
        if (port && port->profile.stop_flushes) {
            struct emu_rule *rule;

            RCULIST_FOR_EACH_SAFE_PROTECTED (rule, node, &port->rules) {
                emu_rule_destroy(port, rule);
                port->n_stop_flushed++;
            }
            port->n_stops++;
        }
    }
    ovs_mutex_unlock(&emu_mutex);
    return orig && orig->dev_stop ? orig->dev_stop(dev) : 0;
}

static void
emu_port_free(struct emu_port *port)
{
    struct emu_rule *rule;

    RCULIST_FOR_EACH_SAFE_PROTECTED (rule, node, &port->rules) {
        rculist_remove(&rule->node);
        free(rule);
    }
    free(port->handles);
    free(port->name);
    free(port);
}

/* Unpublishes the port of 'slot', whose rules (if any) go with it. */
static void
emu_slot_detach(struct emu_slot *slot)
    OVS_REQUIRES(emu_mutex)
{
    struct emu_port *port = ovsrcu_get_protected(struct emu_port *,
                                                 &slot->port);
    struct rte_eth_dev *dev = &rte_eth_devices[slot->port_id];

    emu_slot_remove_callbacks(slot);
    if (dev->dev_ops == &port->ops) {
        dev->dev_ops = port->orig_ops;
    }
    ovsrcu_set(&slot->port, NULL);
    /* Receive callbacks and rte_flow callers may still be using it. */
    ovsrcu_postpone(emu_port_free, port);
}

/* RTE_ETH_EVENT_DESTROY, just before DPDK releases a port: its rules and
 * receive callbacks must not outlive it, since its id may be reused. */
static int
emu_port_destroyed(uint16_t port_id, enum rte_eth_event_type type OVS_UNUSED,
                   void *aux OVS_UNUSED, void *ret_param OVS_UNUSED)
{
    ovs_mutex_lock(&emu_mutex);
    if (port_id < RTE_MAX_ETHPORTS && slots[port_id]) {
        struct emu_slot *slot = slots[port_id];
        struct emu_port *port;

        port = ovsrcu_get_protected(struct emu_port *, &slot->port);
        if (port) {
            if (port->n_rules) {
                /* The rte_flow user did not destroy them first, which real
                 * hardware would not forgive either. */
                VLOG_WARN("%s (dpdk port %"PRIu16"): released with %"
                          PRIuSIZE" rules", port->name, port_id,
                          port->n_rules);
            }
            emu_slot_detach(slot);
        }
    }
    ovs_mutex_unlock(&emu_mutex);
    return 0;
}

/* The DPDK port id of netdev 'name', or an error message. */
static char *
emu_lookup_port(const char *name, uint16_t *port_id)
{
    struct netdev *netdev = netdev_from_name(name);
    int id;

    if (!netdev) {
        return xasprintf("%s: no such port", name);
    }
    id = netdev_dpdk_get_port_id(netdev);
    netdev_close(netdev);
    if (id < 0 || id >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(id)) {
        return xasprintf("%s: not a DPDK ethdev port", name);
    }
    *port_id = id;
    return NULL;
}

static struct emu_port *
emu_port_find(uint16_t port_id)
    OVS_REQUIRES(emu_mutex)
{
    return (slots[port_id]
            ? ovsrcu_get_protected(struct emu_port *, &slots[port_id]->port)
            : NULL);
}

static void
emu_unixctl_attach(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *aux OVS_UNUSED)
{
    static bool destroy_cb_registered OVS_GUARDED_BY(emu_mutex);
    struct netdev_dpdk_flow_emu_profile profile;
    struct emu_port *port;
    struct emu_slot *slot;
    struct rte_eth_dev *dev;
    uint16_t port_id;
    char *error;

    bool has_vlan = false;

    if (argc > 2 && !strcmp(argv[argc - 1], "has_vlan")) {
        has_vlan = true;
        argc--;
    }

    /* A profile, or the actions of "ideal" to keep: "mark [count] [age]"
     * (for a port that lacks some). */
    profile = netdev_dpdk_flow_emu_profiles[0];
    if (argc > 2 && netdev_dpdk_flow_emu_profile_find(argv[2])) {
        if (argc > 3) {
            unixctl_command_reply_error(conn, "a profile or actions");
            return;
        }
        profile = *netdev_dpdk_flow_emu_profile_find(argv[2]);
    } else if (argc > 2) {
        bool mark = false, count = false, age = false;

        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "mark")) {
                mark = true;
            } else if (!strcmp(argv[i], "count")) {
                count = true;
            } else if (!strcmp(argv[i], "age")) {
                age = true;
            } else {
                struct ds s = DS_EMPTY_INITIALIZER;

                ds_put_cstr(&s, "profiles:");
                for (size_t j = 0; j < netdev_dpdk_flow_emu_n_profiles;
                     j++) {
                    ds_put_format(&s, " %s",
                                  netdev_dpdk_flow_emu_profiles[j].name);
                }
                ds_put_cstr(&s, "; or actions: mark, count, age");
                unixctl_command_reply_error(conn, ds_cstr(&s));
                ds_destroy(&s);
                return;
            }
        }
        for (int k = 0; k < EMU_N_TABLE_KINDS; k++) {
            profile.mark[k] = mark;
            profile.count[k] = count;
            profile.age[k] = age;
        }
        /* Root table only, as before profiles. */
        profile.jump = false;
        profile.name = (count && age ? "mark count age"
                        : count ? "mark count"
                        : age ? "mark age"
                        : mark ? "mark" : "no actions");
    }
    error = emu_lookup_port(argv[1], &port_id);
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }

    ovs_mutex_lock(&emu_mutex);
    if (!destroy_cb_registered) {
        int err = rte_eth_dev_callback_register(RTE_ETH_ALL,
                                                RTE_ETH_EVENT_DESTROY,
                                                emu_port_destroyed, NULL);
        if (err) {
            ovs_mutex_unlock(&emu_mutex);
            unixctl_command_reply_error(conn, "could not register for port "
                                        "release events");
            return;
        }
        destroy_cb_registered = true;
    }
    if (emu_port_find(port_id)) {
        ovs_mutex_unlock(&emu_mutex);
        unixctl_command_reply_error(conn, "already attached");
        return;
    }
    if (!slots[port_id]) {
        slots[port_id] = xzalloc(sizeof *slots[port_id]);
        slots[port_id]->port_id = port_id;
    }
    slot = slots[port_id];

    dev = &rte_eth_devices[port_id];
    port = xzalloc(sizeof *port);
    port->port_id = port_id;
    port->name = xstrdup(argv[1]);
    port->profile = profile;
    port->has_vlan = has_vlan;
    port->orig_ops = dev->dev_ops;
    port->ops = *dev->dev_ops;
    port->ops.flow_ops_get = emu_flow_ops_get;
    port->ops.dev_stop = emu_dev_stop;
    slot->orig_ops = dev->dev_ops;
    rculist_init(&port->rules);

    /* Published before the new 'dev_ops', which lead to it. */
    ovsrcu_set(&slot->port, port);
    emu_slot_add_callbacks(slot);
    /* Other threads may read 'dev_ops' now: both tables work. */
    dev->dev_ops = &port->ops;
    ovs_mutex_unlock(&emu_mutex);

    unixctl_command_reply(conn, NULL);
}

static void
emu_unixctl_detach(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[], void *aux OVS_UNUSED)
{
    struct emu_port *port;
    uint16_t port_id;
    char *error;

    error = emu_lookup_port(argv[1], &port_id);
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }

    ovs_mutex_lock(&emu_mutex);
    port = emu_port_find(port_id);
    if (!port) {
        error = xasprintf("%s: not attached", argv[1]);
    } else if (port->n_rules) {
        /* Their owner would later hand their handles to the port's own
         * rte_flow driver. */
        error = xasprintf("%s: %"PRIuSIZE" rules remain", argv[1],
                          port->n_rules);
    } else {
        emu_slot_detach(slots[port_id]);
    }
    ovs_mutex_unlock(&emu_mutex);

    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

/* Formats field 'name' of 'n' bytes if 'mask' is not zero, as
 * "name=value[/mask]" in hexadecimal, or with 'format' for full masks. */
static void
emu_format_field(struct ds *s, const char *name, const void *value_,
                 const void *mask_, size_t n,
                 void (*format)(struct ds *, const void *))
{
    const uint8_t *value = value_;
    const uint8_t *mask = mask_;

    if (is_all_zeros(mask, n)) {
        return;
    }
    ds_put_format(s, ",%s=", name);
    if (format && is_all_ones(mask, n)) {
        format(s, value);
        return;
    }
    ds_put_hex(s, value, n);
    if (!is_all_ones(mask, n)) {
        ds_put_char(s, '/');
        ds_put_hex(s, mask, n);
    }
}

static void
emu_format_eth(struct ds *s, const void *ea)
{
    ds_put_format(s, ETH_ADDR_FMT, ETH_ADDR_BYTES_ARGS((const uint8_t *) ea));
}

static void
emu_format_ip4(struct ds *s, const void *ip)
{
    ovs_be32 addr;

    memcpy(&addr, ip, sizeof addr);
    ds_put_format(s, IP_FMT, IP_ARGS(addr));
}

static void
emu_format_ip6(struct ds *s, const void *ip)
{
    ipv6_format_addr(ip, s);
}

static void
emu_format_be16(struct ds *s, const void *value)
{
    ovs_be16 x;

    memcpy(&x, value, sizeof x);
    ds_put_format(s, "%"PRIu16, ntohs(x));
}

static void
emu_format_rule(struct ds *s, const struct emu_rule *rule)
{
    const struct emu_key *k = &rule->spec;
    const struct emu_key *m = &rule->mask;
    size_t ip_len = rule->l3 == EMU_L3_IPV6 ? sizeof k->ip_src : 4;
    uint64_t hits, bytes;

    if (rule->group) {
        ds_put_format(s, "group=%"PRIu32",", rule->group);
    }
    ds_put_format(s, "priority=%"PRIu32, rule->priority);
    if (rule->l3 != EMU_L3_ANY) {
        ds_put_cstr(s, rule->l3 == EMU_L3_IPV4 ? ",ipv4" : ",ipv6");
    }
    if (rule->l4 != EMU_L4_ANY) {
        ds_put_cstr(s, rule->l4 == EMU_L4_TCP ? ",tcp" : ",udp");
    }
    emu_format_field(s, "eth_dst", &k->eth_dst, &m->eth_dst, ETH_ADDR_LEN,
                     emu_format_eth);
    emu_format_field(s, "eth_src", &k->eth_src, &m->eth_src, ETH_ADDR_LEN,
                     emu_format_eth);
    if (m->vlan) {
        ds_put_format(s, ",has_vlan=%d", k->vlan);
    }
    emu_format_field(s, "eth_type", &k->eth_type, &m->eth_type,
                     sizeof k->eth_type, NULL);
    emu_format_field(s, "src", &k->ip_src, &m->ip_src, ip_len,
                     ip_len == 4 ? emu_format_ip4 : emu_format_ip6);
    emu_format_field(s, "dst", &k->ip_dst, &m->ip_dst, ip_len,
                     ip_len == 4 ? emu_format_ip4 : emu_format_ip6);
    emu_format_field(s, "proto", &k->ip_proto, &m->ip_proto, 1, NULL);
    emu_format_field(s, "frag", &k->ip_frag, &m->ip_frag, sizeof k->ip_frag,
                     NULL);
    emu_format_field(s, "sport", &k->tp_src, &m->tp_src, sizeof k->tp_src,
                     emu_format_be16);
    emu_format_field(s, "dport", &k->tp_dst, &m->tp_dst, sizeof k->tp_dst,
                     emu_format_be16);
    emu_format_field(s, "tcp_flags", &k->tcp_flags, &m->tcp_flags, 1, NULL);

    ds_put_cstr(s, " actions=");
    if (rule->drop) {
        ds_put_cstr(s, "drop,");
    }
    if (rule->has_mark) {
        ds_put_format(s, "mark(%#"PRIx32"),", rule->mark);
    }
    if (rule->has_count) {
        ds_put_cstr(s, "count,");
    }
    if (rule->has_age) {
        ds_put_format(s, "age(%"PRIu32"),", rule->age_timeout);
    }
    if (rule->rss_queues) {
        ds_put_format(s, "rss(%"PRIu16" queues),", rule->rss_queues);
    }
    if (rule->has_queue) {
        ds_put_cstr(s, "queue(0),");
    }
    if (rule->has_jump) {
        ds_put_format(s, "jump(%"PRIu32"),", rule->jump_group);
    }
    ds_chomp(s, ',');

    atomic_read_relaxed(&CONST_CAST(struct emu_rule *, rule)->hits, &hits);
    atomic_read_relaxed(&CONST_CAST(struct emu_rule *, rule)->bytes, &bytes);
    ds_put_format(s, " hits=%"PRIu64" bytes=%"PRIu64"\n", hits, bytes);
}

static void
emu_unixctl_show(struct unixctl_conn *conn, int argc, const char *argv[],
                 void *aux OVS_UNUSED)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    uint16_t port_id = 0;

    if (argc > 1) {
        char *error = emu_lookup_port(argv[1], &port_id);

        if (error) {
            unixctl_command_reply_error(conn, error);
            free(error);
            return;
        }
    }

    ovs_mutex_lock(&emu_mutex);
    for (uint16_t i = 0; i < RTE_MAX_ETHPORTS; i++) {
        const struct emu_port *port = emu_port_find(i);
        const struct emu_rule *rule;

        if (!port || (argc > 1 && i != port_id)) {
            continue;
        }
        ds_put_format(&s, "%s (dpdk port %"PRIu16"): %s, rules %"PRIuSIZE
                      ", created %"PRIu64", refused %"PRIu64,
                      port->name, i, port->profile.name,
                      port->n_rules, port->n_created, port->n_refused);
        if (port->profile.stop_flushes) {
            ds_put_format(&s, ", flushed by stop %"PRIu64
                          ", unknown destroys %"PRIu64,
                          port->n_stop_flushed, port->n_unknown_destroys);
            if (port->n_stops) {
                ds_put_format(&s, ", stops %"PRIu32", stale destroys %"
                              PRIu64", stale queries %"PRIu64,
                              port->n_stops, port->n_stale_destroys,
                              port->n_stale_queries);
            }
        }
        ds_put_char(&s, '\n');
        RCULIST_FOR_EACH_PROTECTED (rule, node, &port->rules) {
            ds_put_cstr(&s, "  ");
            emu_format_rule(&s, rule);
        }
    }
    if (argc > 1 && !s.length) {
        ovs_mutex_unlock(&emu_mutex);
        unixctl_command_reply_error(conn, "not attached");
        ds_destroy(&s);
        return;
    }
    ovs_mutex_unlock(&emu_mutex);

    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

#endif /* HAVE_RTE_FLOW_DRIVER_H */

void
netdev_dpdk_flow_emu_register(void)
{
#ifdef HAVE_RTE_FLOW_DRIVER_H
    unixctl_command_register("dpdk-flow-emu/attach",
                             "PORT [PROFILE | mark [count] [age]] "
                             "[has_vlan]", 1, 5,
                             emu_unixctl_attach, NULL);
    unixctl_command_register("dpdk-flow-emu/detach", "PORT", 1, 1,
                             emu_unixctl_detach, NULL);
    unixctl_command_register("dpdk-flow-emu/show", "[PORT]", 0, 1,
                             emu_unixctl_show, NULL);
#endif
}
