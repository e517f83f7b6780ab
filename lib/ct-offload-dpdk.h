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

#ifndef CT_OFFLOAD_DPDK_H
#define CT_OFFLOAD_DPDK_H 1

/* Conntrack offload through DPDK rte_flow, paired with dpif-offload-dpdk.
 *
 * Hardware marks the packets of established connections (MARK + COUNT
 * [+ AGE] + RSS or QUEUE, one rule per direction, in group 1 behind a JUMP
 * on ports that have such groups, in the root table otherwise) and
 * software resolves a marked packet's connection without a lookup.
 * Conntrack marks have CT_OFFLOAD_DPDK_MARK_BIT set; dpif-offload-dpdk
 * allocates its flow marks below it, so that the two never meet.  Ports
 * that carry fewer mark bits get "narrow" marks instead, see below. */

#include <stdbool.h>
#include <stdint.h>

#include "ct-offload.h"
#include "openvswitch/types.h"

struct ct_offload;
struct ct_offload_conn;
struct dp_packet;
struct rte_flow;
struct rte_flow_action;
struct rte_flow_attr;
struct rte_flow_error;
struct rte_flow_item;

extern const struct ct_offload_class ct_offload_dpdk_class;

/* Flow marks with this bit belong to conntrack, the others to flows.  Bit
 * 23, not 31: some NICs carry only 24 bits of mark, and a conntrack mark
 * must survive on them.  The highest marks are left out too: mlx5 refuses
 * marks from 0xfffff0 up (0xffffff is its default mark). */
#define CT_OFFLOAD_DPDK_MARK_BIT 0x00800000u
#define CT_OFFLOAD_DPDK_MARK_MAX 0x00ffffefu

static inline bool
ct_offload_dpdk_is_ct_mark(uint32_t mark)
{
    return mark <= CT_OFFLOAD_DPDK_MARK_MAX
           && (mark & CT_OFFLOAD_DPDK_MARK_BIT) != 0;
}

/* Connections with a port that has only 16 bits of mark (Marvell cnxk:
 * below 0xfffe; mlx5 with few free metadata bits) get marks from this
 * narrower space.  They fall among flow marks, which dpif-offload-dpdk
 * hands out from 1 up: such a mark is taken for a connection only while
 * that connection is offloaded, and should a flow mark ever collide with
 * it, conntrack's check of the packet against the connection sends the
 * packet to the normal path (the flow's own mark shortcut is lost for it,
 * nothing else). */
#define CT_OFFLOAD_DPDK_NARROW_MARK_BIT 0x8000u
#define CT_OFFLOAD_DPDK_NARROW_MARK_MAX 0xfffdu

static inline bool
ct_offload_dpdk_is_narrow_mark(uint32_t mark)
{
    return mark <= CT_OFFLOAD_DPDK_NARROW_MARK_MAX
           && (mark & CT_OFFLOAD_DPDK_NARROW_MARK_BIT) != 0;
}

/* Receive path, on a PMD thread under RCU: if 'mark' is a conntrack mark,
 * tells conntrack which connection and direction 'packet' belongs to (if
 * the connection is still offloaded by 'inst') and returns true; the
 * packet then continues through the normal datapath.  Returns false for
 * flow marks (and for narrow marks of no current connection). */
bool ct_offload_dpdk_packet_recover(const struct ct_offload *inst,
                                    struct dp_packet *packet, uint32_t mark);

/* The connection and direction that 'mark' stands for in 'inst', or false.
 * Any thread, under RCU. */
bool ct_offload_dpdk_mark_lookup(const struct ct_offload *inst,
                                 uint32_t mark,
                                 const struct ct_offload_conn **conn,
                                 enum ct_offload_dir *dir);

/* A port as the provider needs it. */
struct ct_offload_dpdk_port_info {
    uint16_t port_id;           /* DPDK port id. */
    uint16_t n_rxq;             /* Receive queues, for RSS. */
    char name[32];              /* For logs and show commands. */
    char driver[32];            /* The PMD's name, for facts that probes
                                 * cannot find out. */
};

/* Everything the provider asks of DPDK, so that unit tests can run it
 * without hardware.  The rte_flow members have the signatures of the
 * rte_flow functions of the same names. */
struct ct_offload_dpdk_flow_api {
    /* Resolves 'port' of the dpif-offload instance that owns 'inst'.
     * Returns 0, ENODEV if the instance has no such port, or EOPNOTSUPP if
     * it is not a DPDK ethdev port.  Called with the instance mutex held.
     * Default: ct_offload_get_netdev(), netdev_dpdk_get_port_id(),
     * netdev_n_rxq() and rte_eth_dev_info_get(). */
    int (*port_resolve)(const struct ct_offload *inst, odp_port_t port,
                        struct ct_offload_dpdk_port_info *info);

    int (*validate)(uint16_t port_id, const struct rte_flow_attr *,
                    const struct rte_flow_item *pattern,
                    const struct rte_flow_action *actions,
                    struct rte_flow_error *);
    /* On failure returns NULL and sets rte_errno. */
    struct rte_flow *(*create)(uint16_t port_id, const struct rte_flow_attr *,
                               const struct rte_flow_item *pattern,
                               const struct rte_flow_action *actions,
                               struct rte_flow_error *);
    int (*destroy)(uint16_t port_id, struct rte_flow *,
                   struct rte_flow_error *);
    int (*query)(uint16_t port_id, struct rte_flow *,
                 const struct rte_flow_action *action, void *data,
                 struct rte_flow_error *);
    /* Waits 'usec' microseconds before a retry.  Default: xnanosleep(). */
    void (*backoff)(unsigned int usec);
};

/* For unit tests: instances created from now on use 'api' (NULL restores
 * the real one).  'api' must outlive them. */
void ct_offload_dpdk_set_flow_api(const struct ct_offload_dpdk_flow_api *api);

/* netdev-dpdk is about to stop or reset DPDK port 'port_id' ('running'
 * false), or started it again ('running' true).  Registered with
 * netdev_dpdk_register_port_state_cb() when the first instance is
 * created; unit tests call it directly.  Any thread. */
void ct_offload_dpdk_port_state_changed(uint16_t port_id, bool running);

#endif /* ct-offload-dpdk.h */
