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

#include "ct-offload-dpdk.h"

#include <errno.h>
#include <sys/socket.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>

#include "cmap.h"
#include "coverage.h"
#include "ct-dpif.h"
#include "ct-offload-provider.h"
#include "dp-packet.h"
#include "hash.h"
#include "netdev.h"
#include "netdev-dpdk.h"
#include "odp-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "ovs-rcu.h"
#include "packets.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ct_offload_dpdk);

COVERAGE_DEFINE(ct_offload_dpdk_enospc);
COVERAGE_DEFINE(ct_offload_dpdk_enotsup);
COVERAGE_DEFINE(ct_offload_dpdk_einval);
COVERAGE_DEFINE(ct_offload_dpdk_error);
COVERAGE_DEFINE(ct_offload_dpdk_refused);
COVERAGE_DEFINE(ct_offload_dpdk_conflict);
COVERAGE_DEFINE(ct_offload_dpdk_retry);
COVERAGE_DEFINE(ct_offload_dpdk_downgrade);
COVERAGE_DEFINE(ct_offload_dpdk_mark_hit);
COVERAGE_DEFINE(ct_offload_dpdk_mark_miss);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* Port stops.  Some PMDs (mlx5) destroy every rte_flow rule of a port that
 * stops, without telling, and then hand out the handles of the destroyed
 * rules to new ones, ours or dpif-offload-dpdk's; destroying or querying a
 * handle from before the stop could then hit someone else's rule.  So
 * netdev-dpdk reports stops and starts (ct_offload_dpdk_port_state_changed())
 * and each rule records the port's 'epoch' at its creation: a rule of an
 * older epoch is gone, its handle is forgotten and never used again.  Every
 * create, destroy and query holds 'port_state_mutex' from the check of the
 * epoch to its return, and netdev-dpdk reports a stop before it stops the
 * port, so no operation on an old handle can follow a stop.  (The mutex
 * is global: operations of an instance are serialized anyway, and the
 * report of a stop only waits for the operation in progress.)
 *
 * Rules that a stop took away come back lazily, on the instance's next
 * call (any connection's add, established, removal or update): see
 * ct_dpdk_catch_up().  Not from the report itself, which comes with
 * netdev-dpdk's locks held while the provider needs them to learn about
 * the port (queues may have changed), nor from the main thread, which
 * would need locking against the offload thread that the core's instance
 * mutex already gives the provider's callbacks. */
static struct ovs_mutex port_state_mutex = OVS_MUTEX_INITIALIZER;
struct ct_dpdk_port_state {
    struct hmap_node node;      /* In 'port_states', by 'port_id'. */
    uint16_t port_id;
    uint32_t epoch;             /* Stops so far. */
    bool stopped;               /* Between a stop and the next start. */
};
/* Ports ever reported; the others have epoch 0 and run.  Never freed. */
static struct hmap port_states OVS_GUARDED_BY(port_state_mutex)
    = HMAP_INITIALIZER(&port_states);

/* Reports so far, for a cheap check of whether anything changed. */
static atomic_uint64_t port_state_seq = 0;

/* Most rules re-created per call into an instance, so that one call does
 * not hold the instance mutex (and the offload thread) for long on ports
 * whose creates are slow (mlx5's root table). */
#define CT_DPDK_REOFFLOAD_BATCH 256

/* Mark spaces.  A conntrack mark is 'bit' | id << 1 | direction, so that
 * a connection needs one id and one table entry for both of its marks.
 * Connections get a wide mark unless one of their ports has a narrow
 * mark width (see ct-offload-dpdk.h). */
enum ct_dpdk_space {
    CT_DPDK_WIDE,
    CT_DPDK_NARROW,
    CT_DPDK_N_SPACES
};

static const struct ct_dpdk_space_info {
    uint32_t bit;
    uint32_t max_id;
    const char *name;
} spaces[CT_DPDK_N_SPACES] = {
    [CT_DPDK_WIDE] = {
        CT_OFFLOAD_DPDK_MARK_BIT,
        (CT_OFFLOAD_DPDK_MARK_MAX - CT_OFFLOAD_DPDK_MARK_BIT) >> 1,
        "24-bit",
    },
    [CT_DPDK_NARROW] = {
        CT_OFFLOAD_DPDK_NARROW_MARK_BIT,
        (CT_OFFLOAD_DPDK_NARROW_MARK_MAX
         - CT_OFFLOAD_DPDK_NARROW_MARK_BIT) >> 1,
        "16-bit",
    },
};

static uint32_t
ct_dpdk_mark(enum ct_dpdk_space space, uint32_t id, enum ct_offload_dir dir)
{
    return spaces[space].bit | id << 1 | dir;
}

/* PMDs whose mark limit a probe cannot find: Marvell cnxk validates and
 * creates a rule with a mark of 0xfffe or more, but stops reading its
 * actions there, which leaves a drop rule (DPDK 25.11,
 * drivers/common/cnxk/roc_npc.c, npc_parse_actions()). */
static const char *const narrow_drivers[] = {
    "net_cn9k", "net_cn10k", "net_cn20k",
};

/* How a port carries connections.
 *
 * Only MARK rules.  The CONNTRACK action and the asynchronous template
 * API are not probed: their functions (rte_flow_info_get(),
 * rte_flow_action_handle_create(), rte_flow_async_*()) are experimental in
 * DPDK 25.11, which OVS does not enable, so no build could reach such
 * code.  Marked packets still run the datapath in software, so the
 * CONNTRACK action would only pay once hardware forwarded them as well.
 *
 * A port starts with the strategy its probe finds and falls back to none
 * after CT_DPDK_MAX_CREATE_FAILURES creates in a row failed (until it
 * changes and is probed again): validation does not always tell (mlx5 in
 * hardware steering mode validates only the pattern). */
enum ct_dpdk_strategy {
    CT_DPDK_NONE,               /* The port cannot carry connections. */
    CT_DPDK_PARTIAL,            /* MARK + COUNT [+ AGE] + RSS, per
                                 * direction. */
};

#define CT_DPDK_MAX_CREATE_FAILURES 8

/* Where a connection rule sends packets: where the port's RSS would have,
 * if the port takes that.  Intel ice takes RSS only over a power of two
 * queues, at least 2 (DPDK 25.11 drivers/net/intel/ice/
 * ice_fdir_filter.c): a port with 1 queue gets QUEUE 0, which is the same,
 * and one with, e.g., 3 queues RSS over its first 2, which at least leaves
 * the connection's packets on fewer queues rather than in software. */
enum ct_dpdk_fate {
    CT_DPDK_RSS,                /* Over all queues. */
    CT_DPDK_RSS_POW2,           /* Over the largest power of two. */
    CT_DPDK_QUEUE,              /* QUEUE 0, on a port with one queue. */
};

/* Where connection rules go on ports that take a JUMP from the root table
 * (group 0) to another group.  On mlx5 the root table is kept by firmware,
 * and every rule there is a firmware command; other groups are written by
 * the PMD itself, much faster (DPDK 25.11 doc/guides/nics/mlx5.rst).  The
 * port then has two rules of its own, while it has connection rules: a
 * JUMP for every packet in the root table, at CT_DPDK_LOW_PRIORITY so that
 * dpif-offload-dpdk's rules (priority 0) still take their packets first,
 * and an RSS over all queues for the packets that no connection rule
 * takes, at the same low priority in CT_DPDK_GROUP, so that a miss there
 * is defined whatever a PMD would do with one.
 *
 * So where dpif-offload-dpdk's partial offload works, its MARK rules win:
 * it offloads the megaflow that leads to ct() at a connection's first
 * packets, which then takes every packet of the connection, above the
 * JUMP by priority and, in the root table, by age (most NICs keep the
 * older of two rules of one priority; rte_flow leaves it undefined).
 * Measured with the emulation (test "with partial flow offload"):
 * connection rules see no packet, packets stay correct, and conntrack
 * looks them up as usual.  A packet carries one mark. */
#define CT_DPDK_GROUP 1
#define CT_DPDK_LOW_PRIORITY 1

/* A port holding fewer rules than this that runs out of space cannot be
 * said to have a table for connections (cnxk: 7 RSS groups), so its
 * ENOSPC and ENOMEM count towards a downgrade.  Bigger tables fill up and
 * empty again with the connections they carry. */
#define CT_DPDK_SMALL_TABLE 64

/* Retries of a create or query that failed with EAGAIN or EBUSY ("retry
 * later", e.g. mlx5 hardware steering while freed counters are being
 * reset), after waiting the base time, then twice, then four times as
 * long: bounded, since the instance mutex is held. */
#define CT_DPDK_RETRIES 3
#define CT_DPDK_CREATE_BACKOFF_US 1000
#define CT_DPDK_QUERY_BACKOFF_US 100

/* rte_flow failures by error number, for show commands. */
enum ct_dpdk_failure {
    CT_DPDK_FAIL_ENOSPC,
    CT_DPDK_FAIL_ENOMEM,
    CT_DPDK_FAIL_ENOTSUP,
    CT_DPDK_FAIL_EINVAL,
    CT_DPDK_FAIL_EAGAIN,
    CT_DPDK_FAIL_OTHER,
    CT_DPDK_N_FAILURES
};

static const char *const failure_names[CT_DPDK_N_FAILURES] = {
    "ENOSPC", "ENOMEM", "ENOTSUP", "EINVAL", "EAGAIN", "other",
};

static const char *
errno_name(int error)
{
    switch (error) {
    case ENOSPC: return "ENOSPC";
    case ENOMEM: return "ENOMEM";
    case ENOTSUP: return "ENOTSUP";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    case EBUSY: return "EBUSY";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EIO: return "EIO";
    default: return "other";
    }
}

/* A port of the owning dpif-offload instance, probed on first use.  Never
 * freed before the instance, so that rules can point to it. */
struct ct_dpdk_port {
    struct hmap_node node;          /* In 'ports', by 'odp_port'. */
    odp_port_t odp_port;
    struct ct_offload_dpdk_port_info info;  /* What was probed. */

    /* Probe results. */
    enum ct_dpdk_strategy strategy;
    char *reason;                   /* Why CT_DPDK_NONE. */
    bool age;                       /* Rules take an AGE action. */
    bool tcp, udp;                  /* Protocols that rules may match. */
    enum ct_dpdk_space space;       /* Mark width. */
    const char *space_why;          /* "probed" or why not. */
    uint32_t group;                 /* 0 or CT_DPDK_GROUP. */
    enum ct_dpdk_fate fate;

    /* The port's own rules while it has connection rules in
     * CT_DPDK_GROUP: the root table's JUMP, the group's miss rule.
     * 'table_port_id' is the DPDK port they are on. */
    struct rte_flow *jump_flow;
    struct rte_flow *miss_flow;
    uint16_t table_port_id;

    /* Create failures in a row, for the downgrade. */
    unsigned int n_create_failures;

    /* The JUMP and miss rules' epoch (see 'port_states'). */
    uint32_t table_epoch;

    /* The instance's 'port_state_seq' when it last counted a restart. */
    uint64_t restart_seq;

    /* Statistics. */
    uint64_t n_rules;               /* Installed now. */
    uint64_t n_created;
    uint64_t n_refused;             /* Connections, for CT_DPDK_NONE. */
    uint64_t n_failures[CT_DPDK_N_FAILURES];
    uint64_t n_retries;             /* EAGAIN or EBUSY, tried again. */
    uint64_t n_downgrades;
    uint64_t n_restarts;            /* Stops seen, with rules to lose. */
    uint64_t n_forgotten;           /* Handles dropped after a stop. */
    uint64_t n_reoffloaded;         /* Rules created again after one. */
    uint64_t n_lost;                /* Rules that could not be. */
};

/* One direction of an offloaded connection: one rule.  'port' is NULL if
 * the connection is offloaded only in the other direction; 'flow' is NULL
 * while the rule is not in hardware: a port stop took it away, and it is
 * created again when the port runs (unless 'lost'). */
struct ct_dpdk_rule {
    struct hmap_node node;          /* In 'rules', by port and tuple. */
    struct ct_dpdk_port *port;
    uint16_t port_id;               /* The rule's, even if 'port' changes. */
    struct ct_dpif_tuple tuple;
    struct rte_flow *flow;
    uint32_t epoch;                 /* The port's when 'flow' was made. */
    uint32_t mark;
    bool lost;                      /* Could not be made again. */
    bool age;                       /* Has an AGE action. */
    uint64_t hits;                  /* At the last COUNT query. */
    uint64_t bytes;
};

/* An offloaded connection, its 'provider_data'. */
struct ct_dpdk_conn {
    struct cmap_node mark_node;     /* In 'marks', by 'base'. */
    uint32_t base;                  /* Mark of the original direction. */
    enum ct_dpdk_space space;
    uint32_t id;
    struct ct_offload_conn *conn;
    struct ct_dpdk_rule rules[CT_OFFLOAD_N_DIRS];
    long long last_used;            /* Hardware's, 0 if never. */
};

/* An instance.  The core serializes calls into it, so only 'marks', which
 * PMD threads read, needs more than that: it is a cmap, and entries are
 * freed after an RCU grace period. */
struct ct_offload_dpdk {
    struct ct_offload up;
    const struct ct_offload_dpdk_flow_api *api;

    struct cmap marks;              /* Contains "struct ct_dpdk_conn"s. */
    struct hmap rules;              /* Contains "struct ct_dpdk_rule"s. */
    struct hmap ports;              /* Contains "struct ct_dpdk_port"s. */
    uint32_t last_id[CT_DPDK_N_SPACES];
    size_t n_space_conns[CT_DPDK_N_SPACES];
    size_t n_conns;
    uint64_t n_conflicts;

    /* Connections offloaded in one direction only (the other port has no
     * usable rte_flow), by that direction: now, and so far. */
    size_t n_one_way[CT_OFFLOAD_N_DIRS];
    uint64_t n_one_way_total[CT_OFFLOAD_N_DIRS];

    /* 'port_state_seq' when the instance last caught up with port stops,
     * and whether rules are left to re-create. */
    uint64_t port_state_seq;
    bool reoffload_pending;
};

static int ct_dpdk_default_port_resolve(const struct ct_offload *,
                                        odp_port_t,
                                        struct ct_offload_dpdk_port_info *);

static void
ct_dpdk_default_backoff(unsigned int usec)
{
    xnanosleep(usec * 1000LL);
}

static const struct ct_offload_dpdk_flow_api default_api = {
    .port_resolve = ct_dpdk_default_port_resolve,
    .validate = rte_flow_validate,
    .create = rte_flow_create,
    .destroy = rte_flow_destroy,
    .query = rte_flow_query,
    .backoff = ct_dpdk_default_backoff,
};

/* Read and written by the main thread only: instances copy it when they
 * are created. */
static const struct ct_offload_dpdk_flow_api *flow_api = &default_api;

void
ct_offload_dpdk_set_flow_api(const struct ct_offload_dpdk_flow_api *api)
{
    flow_api = api ? api : &default_api;
}

static struct ct_offload_dpdk *
dpdk_cast(const struct ct_offload *inst)
{
    return CONTAINER_OF(inst, struct ct_offload_dpdk, up);
}

static int
ct_dpdk_default_port_resolve(const struct ct_offload *inst, odp_port_t port,
                             struct ct_offload_dpdk_port_info *info)
{
    struct netdev *netdev = ct_offload_get_netdev(inst, port);
    struct rte_eth_dev_info dev_info;
    int port_id;

    if (!netdev) {
        return ENODEV;
    }
    /* Only Ethernet device ports have rte_flow (not vhost ports). */
    if (!netdev_dpdk_flow_api_supported(netdev, true)) {
        return EOPNOTSUPP;
    }
    port_id = netdev_dpdk_get_port_id(netdev);
    if (port_id < 0 || !rte_eth_dev_is_valid_port(port_id)) {
        return EOPNOTSUPP;
    }
    info->port_id = port_id;
    info->n_rxq = MIN(netdev_n_rxq(netdev), RTE_MAX_QUEUES_PER_PORT);
    ovs_strlcpy(info->name, netdev_get_name(netdev), sizeof info->name);
    memset(&dev_info, 0, sizeof dev_info);
    if (!rte_eth_dev_info_get(port_id, &dev_info) && dev_info.driver_name) {
        ovs_strlcpy(info->driver, dev_info.driver_name, sizeof info->driver);
    }
    return 0;
}

/* Counts and logs a failure of rte_flow operation 'what' on 'port'.
 * 'error' is a positive errno value.  Returns 'error'. */
static int
ct_dpdk_flow_failed(const struct ct_offload_dpdk *d, struct ct_dpdk_port *port,
                    const char *what, int error,
                    const struct rte_flow_error *flow_error)
{
    enum ct_dpdk_failure kind;

    /* ENOTSUP and EOPNOTSUPP are the same on Linux, where DPDK runs. */
    switch (error) {
    case ENOSPC:
        kind = CT_DPDK_FAIL_ENOSPC;
        COVERAGE_INC(ct_offload_dpdk_enospc);
        break;
    case ENOMEM:
        kind = CT_DPDK_FAIL_ENOMEM;
        COVERAGE_INC(ct_offload_dpdk_enospc);
        break;
    case EAGAIN:
    case EBUSY:
        kind = CT_DPDK_FAIL_EAGAIN;
        COVERAGE_INC(ct_offload_dpdk_error);
        break;
    case ENOTSUP:
        kind = CT_DPDK_FAIL_ENOTSUP;
        COVERAGE_INC(ct_offload_dpdk_enotsup);
        break;
    case EINVAL:
        kind = CT_DPDK_FAIL_EINVAL;
        COVERAGE_INC(ct_offload_dpdk_einval);
        break;
    default:
        kind = CT_DPDK_FAIL_OTHER;
        COVERAGE_INC(ct_offload_dpdk_error);
        break;
    }
    port->n_failures[kind]++;
    VLOG_WARN_RL(&rl, "%s: rte_flow %s on %s (port %"PRIu16") failed: %s "
                 "(%s)", d->up.name, what, port->info.name,
                 port->info.port_id, ovs_strerror(error),
                 flow_error->message ? flow_error->message : "no details");
    return error;
}

/* Rules. */

/* Everything a rule points to, in one place. */
struct ct_dpdk_rule_spec {
    struct rte_flow_attr attr;
    struct rte_flow_item items[4];          /* ETH, IPV4/6, TCP/UDP, END. */
    struct rte_flow_action actions[5];      /* MARK, COUNT, AGE, RSS, END. */

    struct rte_flow_item_eth eth_spec, eth_mask;
    struct rte_flow_item_ipv4 ipv4_spec, ipv4_mask;
    struct rte_flow_item_ipv6 ipv6_spec, ipv6_mask;
    struct rte_flow_item_tcp tcp_spec, tcp_mask;
    struct rte_flow_item_udp udp_spec, udp_mask;

    struct rte_flow_action_mark mark;
    struct rte_flow_action_jump jump;
    struct rte_flow_action_count count;
    struct rte_flow_action_age age;
    struct rte_flow_action_rss rss;
    struct rte_flow_action_queue queue;
    uint16_t queues[RTE_MAX_QUEUES_PER_PORT];
};

static void
spec_add_item(struct ct_dpdk_rule_spec *s, size_t *n,
              enum rte_flow_item_type type, const void *spec,
              const void *mask)
{
    struct rte_flow_item *item;

    ovs_assert(*n < ARRAY_SIZE(s->items));
    item = &s->items[(*n)++];
    item->type = type;
    item->spec = spec;
    item->mask = mask;
    item->last = NULL;
}

static void
spec_add_action(struct ct_dpdk_rule_spec *s, size_t *n,
                enum rte_flow_action_type type, const void *conf)
{
    struct rte_flow_action *action;

    ovs_assert(*n < ARRAY_SIZE(s->actions));
    action = &s->actions[(*n)++];
    action->type = type;
    action->conf = conf;
}

/* Spreads over all the port's queues (or as many as 'fate' says), with the
 * hash types the port's own RSS uses, as dpif-offload-dpdk does for its
 * MARK rules. */
static void
spec_add_fate(struct ct_dpdk_rule_spec *s, size_t *n_actions,
              const struct ct_offload_dpdk_port_info *info,
              enum ct_dpdk_fate fate)
{
    uint16_t n_rxq = MAX(info->n_rxq, 1);

    if (fate == CT_DPDK_QUEUE) {
        s->queue.index = 0;
        spec_add_action(s, n_actions, RTE_FLOW_ACTION_TYPE_QUEUE, &s->queue);
        return;
    } else if (fate == CT_DPDK_RSS_POW2) {
        n_rxq = 1u << log_2_floor(n_rxq);
    }
    for (uint16_t i = 0; i < n_rxq; i++) {
        s->queues[i] = i;
    }
    s->rss = (struct rte_flow_action_rss) {
        .func = RTE_ETH_HASH_FUNCTION_DEFAULT,
        .level = 0,
        .types = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP,
        .queue_num = n_rxq,
        .queue = s->queues,
    };
    spec_add_action(s, n_actions, RTE_FLOW_ACTION_TYPE_RSS, &s->rss);
}

/* The port's JUMP rule (if 'jump') or its miss rule in CT_DPDK_GROUP. */
static void
ct_dpdk_port_rule_build(struct ct_dpdk_rule_spec *s,
                        const struct ct_offload_dpdk_port_info *info,
                        bool jump)
{
    size_t n_items = 0, n_actions = 0;

    memset(s, 0, sizeof *s);
    s->attr.ingress = 1;
    s->attr.group = jump ? 0 : CT_DPDK_GROUP;
    s->attr.priority = CT_DPDK_LOW_PRIORITY;
    spec_add_item(s, &n_items, RTE_FLOW_ITEM_TYPE_ETH, NULL, NULL);
    spec_add_item(s, &n_items, RTE_FLOW_ITEM_TYPE_END, NULL, NULL);
    if (jump) {
        s->jump.group = CT_DPDK_GROUP;
        spec_add_action(s, &n_actions, RTE_FLOW_ACTION_TYPE_JUMP, &s->jump);
    } else {
        spec_add_fate(s, &n_actions, info, CT_DPDK_RSS);
    }
    spec_add_action(s, &n_actions, RTE_FLOW_ACTION_TYPE_END, NULL);
}

/* Builds in 's' the rule in 'group' that marks packets that arrive on
 * 'info' with tuple 't' with 'mark' and otherwise leaves them where RSS
 * would have put them. */
static void
ct_dpdk_rule_build(struct ct_dpdk_rule_spec *s, const struct ct_dpif_tuple *t,
                   const struct ct_dpdk_port *port, uint32_t mark, bool count,
                   bool age)
{
    const struct ct_offload_dpdk_port_info *info = &port->info;
    bool ipv6 = t->l3_type == AF_INET6;
    size_t n_items = 0, n_actions = 0;

    memset(s, 0, sizeof *s);

    /* Priority 0, as dpif-offload-dpdk's own rules. */
    s->attr.ingress = 1;
    s->attr.group = port->group;

    s->eth_spec.hdr.ether_type = htons(ipv6 ? RTE_ETHER_TYPE_IPV6
                                            : RTE_ETHER_TYPE_IPV4);
    s->eth_mask.hdr.ether_type = OVS_BE16_MAX;
    spec_add_item(s, &n_items, RTE_FLOW_ITEM_TYPE_ETH,
                  &s->eth_spec, &s->eth_mask);

    if (ipv6) {
        /* With extension headers (fragments too) 'proto' is not TCP or
         * UDP, so they do not match. */
        memcpy(&s->ipv6_spec.hdr.src_addr, &t->src.in6,
               sizeof s->ipv6_spec.hdr.src_addr);
        memcpy(&s->ipv6_spec.hdr.dst_addr, &t->dst.in6,
               sizeof s->ipv6_spec.hdr.dst_addr);
        s->ipv6_spec.hdr.proto = t->ip_proto;
        memset(&s->ipv6_mask.hdr.src_addr, 0xff,
               sizeof s->ipv6_mask.hdr.src_addr);
        memset(&s->ipv6_mask.hdr.dst_addr, 0xff,
               sizeof s->ipv6_mask.hdr.dst_addr);
        s->ipv6_mask.hdr.proto = 0xff;
        spec_add_item(s, &n_items, RTE_FLOW_ITEM_TYPE_IPV6,
                      &s->ipv6_spec, &s->ipv6_mask);
    } else {
        s->ipv4_spec.hdr.src_addr = t->src.ip;
        s->ipv4_spec.hdr.dst_addr = t->dst.ip;
        s->ipv4_spec.hdr.next_proto_id = t->ip_proto;
        s->ipv4_mask.hdr.src_addr = OVS_BE32_MAX;
        s->ipv4_mask.hdr.dst_addr = OVS_BE32_MAX;
        s->ipv4_mask.hdr.next_proto_id = 0xff;
        /* No fragments: conntrack sees them only once reassembled, and
         * later fragments have no ports. */
        s->ipv4_mask.hdr.fragment_offset = htons(RTE_IPV4_HDR_MF_FLAG
                                                 | RTE_IPV4_HDR_OFFSET_MASK);
        spec_add_item(s, &n_items, RTE_FLOW_ITEM_TYPE_IPV4,
                      &s->ipv4_spec, &s->ipv4_mask);
    }

    if (t->ip_proto == IPPROTO_TCP) {
        s->tcp_spec.hdr.src_port = t->src_port;
        s->tcp_spec.hdr.dst_port = t->dst_port;
        s->tcp_mask.hdr.src_port = OVS_BE16_MAX;
        s->tcp_mask.hdr.dst_port = OVS_BE16_MAX;
        /* No flags: Intel (ice, i40e) and Broadcom (bnxt) refuse them,
         * and they would add no safety, since conntrack checks every
         * marked segment in full (flags, sequence numbers, state) as it
         * checks any other. */
        spec_add_item(s, &n_items, RTE_FLOW_ITEM_TYPE_TCP,
                      &s->tcp_spec, &s->tcp_mask);
    } else {
        s->udp_spec.hdr.src_port = t->src_port;
        s->udp_spec.hdr.dst_port = t->dst_port;
        s->udp_mask.hdr.src_port = OVS_BE16_MAX;
        s->udp_mask.hdr.dst_port = OVS_BE16_MAX;
        spec_add_item(s, &n_items, RTE_FLOW_ITEM_TYPE_UDP,
                      &s->udp_spec, &s->udp_mask);
    }
    spec_add_item(s, &n_items, RTE_FLOW_ITEM_TYPE_END, NULL, NULL);

    s->mark.id = mark;
    spec_add_action(s, &n_actions, RTE_FLOW_ACTION_TYPE_MARK, &s->mark);
    if (count) {
        spec_add_action(s, &n_actions, RTE_FLOW_ACTION_TYPE_COUNT,
                        &s->count);
    }
    if (age) {
        /* Only read for its "seconds since last hit": conntrack decides
         * when a connection expires.  Long enough to keep aging events
         * rare, short enough for PMDs with a small limit (mlx5: about
         * 3275 s). */
        s->age.timeout = 3000;
        spec_add_action(s, &n_actions, RTE_FLOW_ACTION_TYPE_AGE, &s->age);
    }

    spec_add_fate(s, &n_actions, info, port->fate);
    spec_add_action(s, &n_actions, RTE_FLOW_ACTION_TYPE_END, NULL);
}

static uint32_t
ct_dpdk_rule_hash(const struct ct_dpif_tuple *tuple,
                  const struct ct_dpdk_port *port)
{
    /* The core zeroes tuples before filling them in, padding included. */
    return hash_bytes(tuple, sizeof *tuple, hash_pointer(port, 0));
}

static const struct ct_dpdk_rule *
ct_dpdk_rule_find(const struct ct_offload_dpdk *d,
                  const struct ct_dpif_tuple *tuple,
                  const struct ct_dpdk_port *port)
{
    const struct ct_dpdk_rule *rule;

    HMAP_FOR_EACH_WITH_HASH (rule, node, ct_dpdk_rule_hash(tuple, port),
                             &d->rules) {
        if (rule->port == port
            && !memcmp(&rule->tuple, tuple, sizeof *tuple)) {
            return rule;
        }
    }
    return NULL;
}

/* Backs off before retry 'attempt' (0-based) of an operation that failed
 * with 'error', if it is worth another try.  Returns true to retry. */
static bool
ct_dpdk_retry(struct ct_offload_dpdk *d, struct ct_dpdk_port *port,
              int error, int attempt, unsigned int base_us)
{
    if ((error != EAGAIN && error != EBUSY) || attempt >= CT_DPDK_RETRIES) {
        return false;
    }
    port->n_retries++;
    COVERAGE_INC(ct_offload_dpdk_retry);
    d->api->backoff(base_us << attempt);
    return true;
}

/* The port falls back to no offload after too many creates in a row
 * failed. */
static void
ct_dpdk_create_failed(struct ct_offload_dpdk *d, struct ct_dpdk_port *port,
                      int error)
{
    if ((error == ENOSPC || error == ENOMEM)
        && port->n_rules >= CT_DPDK_SMALL_TABLE) {
        /* A full table: it empties again. */
        port->n_create_failures = 0;
        return;
    }
    if (++port->n_create_failures < CT_DPDK_MAX_CREATE_FAILURES
        || port->strategy == CT_DPDK_NONE) {
        return;
    }
    port->strategy = CT_DPDK_NONE;
    free(port->reason);
    port->reason = xasprintf("create failed: %s", errno_name(error));
    port->n_downgrades++;
    COVERAGE_INC(ct_offload_dpdk_downgrade);
    VLOG_WARN("%s: %s (port %"PRIu16"): no more conntrack offload: %u "
              "rules in a row could not be created (%s)", d->up.name,
              port->info.name, port->info.port_id, port->n_create_failures,
              ovs_strerror(error));
}

static struct ct_dpdk_port_state *
ct_dpdk_port_state_find(uint16_t port_id)
    OVS_REQUIRES(port_state_mutex)
{
    struct ct_dpdk_port_state *state;

    HMAP_FOR_EACH_WITH_HASH (state, node, hash_int(port_id, 0),
                             &port_states) {
        if (state->port_id == port_id) {
            return state;
        }
    }
    return NULL;
}

/* Whether a rule made on DPDK port 'port_id' in 'epoch' still exists, as
 * far as port stops go. */
static bool
ct_dpdk_epoch_current(uint16_t port_id, uint32_t epoch)
    OVS_REQUIRES(port_state_mutex)
{
    const struct ct_dpdk_port_state *state = ct_dpdk_port_state_find(port_id);

    return !state || (!state->stopped && state->epoch == epoch);
}

/* Creates the rule in 'spec' on 'port', trying again as ct_dpdk_retry()
 * says.  Returns the flow and its epoch in '*epochp', or NULL after
 * counting and logging the failure and storing its positive errno value
 * in '*errp' (ENETDOWN, neither counted nor logged, if the port is
 * stopped). */
static struct rte_flow *
ct_dpdk_flow_create(struct ct_offload_dpdk *d, struct ct_dpdk_port *port,
                    const struct ct_dpdk_rule_spec *spec, uint32_t *epochp,
                    int *errp)
{
    uint16_t port_id = port->info.port_id;
    struct rte_flow_error error;
    struct rte_flow *flow;
    int err = 0;

    for (int attempt = 0; ; attempt++) {
        memset(&error, 0, sizeof error);
        rte_errno = 0;
        const struct ct_dpdk_port_state *state;

        ovs_mutex_lock(&port_state_mutex);
        state = ct_dpdk_port_state_find(port_id);
        if (state && state->stopped) {
            ovs_mutex_unlock(&port_state_mutex);
            *errp = ENETDOWN;
            return NULL;
        }
        *epochp = state ? state->epoch : 0;
        flow = d->api->create(port_id, &spec->attr, spec->items,
                              spec->actions, &error);
        ovs_mutex_unlock(&port_state_mutex);
        if (flow) {
            return flow;
        }
        /* Some PMDs (cnxk) leave the errno value negated. */
        err = (rte_errno > 0 ? rte_errno
               : rte_errno < 0 && rte_errno > -4096 ? -rte_errno
               : EIO);
        if (!ct_dpdk_retry(d, port, err, attempt,
                           CT_DPDK_CREATE_BACKOFF_US)) {
            break;
        }
    }
    *errp = ct_dpdk_flow_failed(d, port, "create", err, &error);
    return NULL;
}

/* Destroys 'flow', made on 'port_id' in 'epoch', unless a port stop
 * took it already (its handle may name another rule now). */
static void
ct_dpdk_flow_destroy(struct ct_offload_dpdk *d, struct ct_dpdk_port *port,
                     uint16_t port_id, struct rte_flow *flow, uint32_t epoch)
{
    struct rte_flow_error error;
    int ret = 0;

    memset(&error, 0, sizeof error);
    ovs_mutex_lock(&port_state_mutex);
    if (ct_dpdk_epoch_current(port_id, epoch)) {
        ret = d->api->destroy(port_id, flow, &error);
    } else {
        port->n_forgotten++;
    }
    ovs_mutex_unlock(&port_state_mutex);
    if (ret) {
        /* Nothing more to try.  A connection rule's mark no longer
         * resolves, so software handles its packets as if it were gone;
         * should the id name another connection one day, conntrack still
         * compares each marked packet with the connection. */
        ct_dpdk_flow_failed(d, port, "destroy", -ret, &error);
    }
}

/* Removes the port's JUMP and miss rules, if it has them. */
static void
ct_dpdk_port_rules_del(struct ct_offload_dpdk *d, struct ct_dpdk_port *port)
{
    /* The JUMP first: no packet may reach the group without its miss
     * rule. */
    if (port->jump_flow) {
        ct_dpdk_flow_destroy(d, port, port->table_port_id, port->jump_flow,
                             port->table_epoch);
        port->jump_flow = NULL;
    }
    if (port->miss_flow) {
        ct_dpdk_flow_destroy(d, port, port->table_port_id, port->miss_flow,
                             port->table_epoch);
        port->miss_flow = NULL;
    }
}

/* Adds the port's JUMP and miss rules, if its connection rules go to
 * CT_DPDK_GROUP and it does not have them yet.  Returns 0 or a positive
 * errno value. */
static int
ct_dpdk_port_rules_add(struct ct_offload_dpdk *d, struct ct_dpdk_port *port)
{
    struct ct_dpdk_rule_spec *spec;
    int error = 0;

    if (port->group != CT_DPDK_GROUP || port->jump_flow) {
        return 0;
    }
    spec = xmalloc(sizeof *spec);
    port->table_port_id = port->info.port_id;
    ct_dpdk_port_rule_build(spec, &port->info, false);
    port->miss_flow = ct_dpdk_flow_create(d, port, spec, &port->table_epoch,
                                          &error);
    if (port->miss_flow) {
        uint32_t epoch;

        ct_dpdk_port_rule_build(spec, &port->info, true);
        port->jump_flow = ct_dpdk_flow_create(d, port, spec, &epoch, &error);
        if (port->jump_flow && epoch != port->table_epoch) {
            /* The port stopped and started between the two: the miss rule
             * is gone. */
            ct_dpdk_flow_destroy(d, port, port->table_port_id,
                                 port->jump_flow, epoch);
            port->jump_flow = NULL;
            error = ENETDOWN;
        }
        if (!port->jump_flow) {
            ct_dpdk_port_rules_del(d, port);
        }
    }
    free(spec);
    return error;
}

static int
ct_dpdk_rule_create(struct ct_offload_dpdk *d, struct ct_dpdk_port *port,
                    const struct ct_dpif_tuple *tuple, uint32_t mark,
                    struct ct_dpdk_rule *rule)
{
    struct ct_dpdk_rule_spec *spec;
    struct rte_flow *flow = NULL;
    int err;

    uint32_t epoch = 0;

    err = ct_dpdk_port_rules_add(d, port);
    if (!err) {
        spec = xmalloc(sizeof *spec);
        ct_dpdk_rule_build(spec, tuple, port, mark, true, port->age);
        flow = ct_dpdk_flow_create(d, port, spec, &epoch, &err);
        free(spec);
    }
    if (flow && port->jump_flow && epoch != port->table_epoch) {
        /* The port stopped and started since its JUMP: the rule would be
         * out of reach.  Rare enough to be simply refused. */
        ct_dpdk_flow_destroy(d, port, port->info.port_id, flow, epoch);
        flow = NULL;
        err = ENETDOWN;
    }
    if (!flow) {
        if (!port->n_rules) {
            ct_dpdk_port_rules_del(d, port);
        }
        if (err != ENETDOWN) {
            ct_dpdk_create_failed(d, port, err);
        }
        return err;
    }

    memset(rule, 0, sizeof *rule);
    rule->port = port;
    rule->port_id = port->info.port_id;
    rule->tuple = *tuple;
    rule->flow = flow;
    rule->epoch = epoch;
    rule->mark = mark;
    rule->age = port->age;
    port->n_rules++;
    port->n_created++;
    port->n_create_failures = 0;
    return 0;
}

static void
ct_dpdk_rule_destroy(struct ct_offload_dpdk *d, struct ct_dpdk_rule *rule)
{
    if (!rule->flow) {
        return;
    }
    ct_dpdk_flow_destroy(d, rule->port, rule->port_id, rule->flow,
                         rule->epoch);
    rule->flow = NULL;
    if (!--rule->port->n_rules) {
        ct_dpdk_port_rules_del(d, rule->port);
    }
}

/* Ports. */

static struct ct_dpdk_port *
ct_dpdk_port_find(const struct ct_offload_dpdk *d, odp_port_t odp_port)
{
    struct ct_dpdk_port *port;

    HMAP_FOR_EACH_WITH_HASH (port, node, hash_int(odp_to_u32(odp_port), 0),
                             &d->ports) {
        if (port->odp_port == odp_port) {
            return port;
        }
    }
    return NULL;
}

/* Validates a representative rule for 'proto' with the given mark and
 * actions on 'port'.  Returns 0 or a positive errno value and, then, if
 * '*reason' is NULL, a description in it that the caller must free. */
static int
ct_dpdk_probe_rule(struct ct_offload_dpdk *d, const struct ct_dpdk_port *port,
                   uint8_t proto, uint32_t mark, bool count, bool age,
                   const char *what, char **reason)
{
    struct ct_dpdk_rule_spec *spec = xmalloc(sizeof *spec);
    struct ct_dpif_tuple tuple;
    struct rte_flow_error error;
    int ret;

    memset(&tuple, 0, sizeof tuple);
    tuple.l3_type = AF_INET;
    tuple.ip_proto = proto;
    tuple.src.ip = htonl(0xc0000201);   /* 192.0.2.1 */
    tuple.dst.ip = htonl(0xc0000202);   /* 192.0.2.2 */
    tuple.src_port = htons(1);
    tuple.dst_port = htons(2);

    memset(&error, 0, sizeof error);
    ct_dpdk_rule_build(spec, &tuple, port, mark, count, age);
    ret = d->api->validate(port->info.port_id, &spec->attr, spec->items,
                           spec->actions, &error);
    free(spec);
    if (ret) {
        if (!*reason) {
            *reason = xasprintf("%s: %s (%s)", what, ovs_strerror(-ret),
                                error.message ? error.message
                                : "no details");
        }
        return -ret;
    }
    return 0;
}

/* Probes both protocols with the given actions and mark, and keeps in
 * 'port->tcp' and 'port->udp' those that passed.  Returns true if one
 * did. */
static bool
ct_dpdk_probe_protos(struct ct_offload_dpdk *d, struct ct_dpdk_port *port,
                     uint32_t mark, bool count, bool age, const char *what,
                     char **reason)
{
    if (port->udp) {
        port->udp = !ct_dpdk_probe_rule(d, port, IPPROTO_UDP, mark, count,
                                        age, what, reason);
    }
    if (port->tcp) {
        port->tcp = !ct_dpdk_probe_rule(d, port, IPPROTO_TCP, mark, count,
                                        age, what, reason);
    }
    return port->tcp || port->udp;
}

static bool
ct_dpdk_narrow_driver(const char *driver)
{
    for (size_t i = 0; i < ARRAY_SIZE(narrow_drivers); i++) {
        if (!strcmp(driver, narrow_drivers[i])) {
            return true;
        }
    }
    return false;
}

/* Moves 'port->fate' on to the next one worth a try on the port, if
 * any.  Returns false if there is none. */
static bool
ct_dpdk_next_fate(struct ct_dpdk_port *port)
{
    uint16_t n_rxq = MAX(port->info.n_rxq, 1);

    if (port->fate != CT_DPDK_RSS) {
        return false;
    } else if (n_rxq == 1) {
        port->fate = CT_DPDK_QUEUE;
    } else if (!is_pow2(n_rxq)) {
        port->fate = CT_DPDK_RSS_POW2;
    } else {
        return false;
    }
    return true;
}

/* Whether 'port' takes its JUMP and miss rules. */
static bool
ct_dpdk_probe_jump(struct ct_offload_dpdk *d, const struct ct_dpdk_port *port)
{
    struct ct_dpdk_rule_spec *spec = xmalloc(sizeof *spec);
    struct rte_flow_error error;
    bool ok = true;

    for (int jump = 1; jump >= 0 && ok; jump--) {
        memset(&error, 0, sizeof error);
        ct_dpdk_port_rule_build(spec, &port->info, jump);
        ok = !d->api->validate(port->info.port_id, &spec->attr, spec->items,
                               spec->actions, &error);
    }
    free(spec);
    return ok;
}

/* Probes the connection rules of 'port' in 'port->group'. */
static void
ct_dpdk_probe_table(struct ct_offload_dpdk *d, struct ct_dpdk_port *port)
{
    char *reason = NULL;

    free(port->reason);
    port->reason = NULL;
    port->strategy = CT_DPDK_NONE;
    port->age = false;
    port->tcp = port->udp = true;

    /* The fate and the mark width first, with the highest mark of each
     * space: the full width, else 16 bits. */
    port->fate = CT_DPDK_RSS;
    for (;;) {
        if (ct_dpdk_narrow_driver(port->info.driver)) {
            port->space = CT_DPDK_NARROW;
            port->space_why = port->info.driver;
        } else {
            port->space = CT_DPDK_WIDE;
            port->space_why = "probed";
        }
        for (;;) {
            uint32_t mark = ct_dpdk_mark(port->space,
                                         spaces[port->space].max_id,
                                         CT_OFFLOAD_DIR_REPLY);

            if (ct_dpdk_probe_protos(d, port, mark, false, false, "MARK",
                                     &reason)
                || port->space == CT_DPDK_NARROW) {
                break;
            }
            port->space = CT_DPDK_NARROW;
            port->tcp = port->udp = true;
        }
        if (port->tcp || port->udp || !ct_dpdk_next_fate(port)) {
            break;
        }
        port->tcp = port->udp = true;
    }

    /* COUNT is needed too: without hardware last-used times, conntrack
     * would expire busy connections. */
    uint32_t mark = ct_dpdk_mark(port->space, spaces[port->space].max_id,
                                 CT_OFFLOAD_DIR_REPLY);
    bool ok = port->tcp || port->udp;
    if (ok) {
        /* Why one protocol failed is not worth showing. */
        free(reason);
        reason = NULL;
        ok = ct_dpdk_probe_protos(d, port, mark, true, false, "COUNT",
                                  &reason);
    }
    if (ok) {
        char *ignored = NULL;

        port->strategy = CT_DPDK_PARTIAL;
        port->age = true;
        for (int i = 0; i < 2 && port->age; i++) {
            if (i ? port->tcp : port->udp) {
                port->age = !ct_dpdk_probe_rule(d, port,
                                                i ? IPPROTO_TCP
                                                : IPPROTO_UDP, mark, true,
                                                true, "AGE", &ignored);
            }
        }
        free(ignored);
        free(reason);
    } else {
        port->reason = reason;
    }
}

static void
ct_dpdk_probe(struct ct_offload_dpdk *d, struct ct_dpdk_port *port)
{
    port->n_create_failures = 0;
    port->strategy = CT_DPDK_NONE;

    /* Connection rules in CT_DPDK_GROUP if the port has such groups and
     * takes them there, in the root table otherwise.  (Rules that exist
     * stay where they are until they go.) */
    port->group = CT_DPDK_GROUP;
    if (ct_dpdk_probe_jump(d, port)) {
        ct_dpdk_probe_table(d, port);
    }
    if (port->strategy == CT_DPDK_NONE) {
        port->group = 0;
        ct_dpdk_probe_table(d, port);
    }

    if (port->strategy == CT_DPDK_NONE) {
        VLOG_INFO("%s: %s (port %"PRIu16"): no conntrack offload: %s",
                  d->up.name, port->info.name, port->info.port_id,
                  port->reason);
    } else {
        VLOG_INFO("%s: %s (port %"PRIu16"): conntrack offload of %s%s%s "
                  "with MARK (%s), COUNT%s in %s", d->up.name,
                  port->info.name, port->info.port_id,
                  port->tcp ? "TCP" : "",
                  port->tcp && port->udp ? " and " : "",
                  port->udp ? "UDP" : "", spaces[port->space].name,
                  port->age ? ", AGE" : "",
                  port->group ? "group 1" : "the root table");
    }
}

/* The probed state of 'odp_port', probing it on first use and again if it
 * changed (another DPDK port, or another number of queues), or NULL if the
 * port is not a DPDK port of this instance. */
static struct ct_dpdk_port *
ct_dpdk_port_get(struct ct_offload_dpdk *d, odp_port_t odp_port)
{
    struct ct_offload_dpdk_port_info info;
    struct ct_dpdk_port *port;

    memset(&info, 0, sizeof info);
    if (odp_port == ODPP_NONE
        || d->api->port_resolve(&d->up, odp_port, &info)) {
        return NULL;
    }

    port = ct_dpdk_port_find(d, odp_port);
    if (!port) {
        port = xzalloc(sizeof *port);
        port->odp_port = odp_port;
        port->info = info;
        hmap_insert(&d->ports, &port->node, hash_int(odp_to_u32(odp_port),
                                                     0));
        ct_dpdk_probe(d, port);
    } else if (memcmp(&port->info, &info, sizeof info)) {
        port->info = info;
        ct_dpdk_probe(d, port);
    }
    return port;
}

/* Connections. */

static struct ct_dpdk_conn *
ct_dpdk_conn_find(const struct ct_offload_dpdk *d, uint32_t base)
{
    struct ct_dpdk_conn *c;

    CMAP_FOR_EACH_WITH_HASH (c, mark_node, hash_int(base, 0), &d->marks) {
        if (c->base == base) {
            return c;
        }
    }
    return NULL;
}

/* A free id in 'space', or 0 if there is none.  Ids are taken in
 * sequence, so that one comes back only after all the others of its space
 * (about 4 million wide ones, 16 thousand narrow ones): a packet that
 * hardware marked just before its connection's rules went away may wait
 * in a receive ring for a while, and must not then resolve to a newer
 * connection. */
static uint32_t
ct_dpdk_alloc_id(struct ct_offload_dpdk *d, enum ct_dpdk_space space)
{
    uint32_t max_id = spaces[space].max_id;
    uint32_t *last = &d->last_id[space];

    if (d->n_space_conns[space] >= max_id) {
        return 0;
    }
    do {
        *last = *last % max_id + 1;
    } while (ct_dpdk_conn_find(d, ct_dpdk_mark(space, *last,
                                               CT_OFFLOAD_DIR_ORIG)));
    return *last;
}

static void
ct_dpdk_conn_remove(struct ct_offload_dpdk *d, struct ct_dpdk_conn *c)
{
    /* Unpublish the marks first: packets that hardware marks until the
     * rules are gone then take the software path. */
    cmap_remove(&d->marks, &c->mark_node, hash_int(c->base, 0));
    for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
        if (c->rules[i].port) {
            hmap_remove(&d->rules, &c->rules[i].node);
            ct_dpdk_rule_destroy(d, &c->rules[i]);
        } else {
            d->n_one_way[!i]--;
        }
    }
    d->n_conns--;
    d->n_space_conns[c->space]--;
    c->conn->provider_data = NULL;
    /* PMD threads may be reading it. */
    ovsrcu_postpone(free, c);
}

/* Port stops. */

void
ct_offload_dpdk_port_state_changed(uint16_t port_id, bool running)
{
    struct ct_dpdk_port_state *state;
    uint64_t orig;

    ovs_mutex_lock(&port_state_mutex);
    state = ct_dpdk_port_state_find(port_id);
    if (!state) {
        state = xzalloc(sizeof *state);
        state->port_id = port_id;
        hmap_insert(&port_states, &state->node, hash_int(port_id, 0));
    }
    if (!running) {
        state->epoch++;
    }
    state->stopped = !running;
    ovs_mutex_unlock(&port_state_mutex);
    atomic_add(&port_state_seq, 1, &orig);
}

static bool
ct_dpdk_port_stopped(uint16_t port_id)
{
    const struct ct_dpdk_port_state *state;
    bool stopped;

    ovs_mutex_lock(&port_state_mutex);
    state = ct_dpdk_port_state_find(port_id);
    stopped = state && state->stopped;
    ovs_mutex_unlock(&port_state_mutex);
    return stopped;
}

/* Counts a restart of 'port' that lost rules, once per catch-up. */
static void
ct_dpdk_port_lost_rules(const struct ct_offload_dpdk *d,
                        struct ct_dpdk_port *port)
{
    if (port->restart_seq != d->port_state_seq) {
        port->restart_seq = d->port_state_seq;
        port->n_restarts++;
    }
}

/* Forgets the handles of 'd' that port stops took away. */
static void
ct_dpdk_forget_stale(struct ct_offload_dpdk *d)
{
    struct ct_dpdk_rule *rule;
    struct ct_dpdk_port *port;

    ovs_mutex_lock(&port_state_mutex);
    HMAP_FOR_EACH (port, node, &d->ports) {
        if (port->miss_flow
            && !ct_dpdk_epoch_current(port->table_port_id,
                                      port->table_epoch)) {
            port->n_forgotten += 1 + (port->jump_flow != NULL);
            port->jump_flow = port->miss_flow = NULL;
            ct_dpdk_port_lost_rules(d, port);
        }
    }
    HMAP_FOR_EACH (rule, node, &d->rules) {
        if (rule->flow
            && !ct_dpdk_epoch_current(rule->port_id, rule->epoch)) {
            rule->flow = NULL;
            rule->port->n_rules--;
            rule->port->n_forgotten++;
            ct_dpdk_port_lost_rules(d, rule->port);
        }
    }
    ovs_mutex_unlock(&port_state_mutex);
}

/* Creates 'rule', which a port stop took away, again if its port runs.
 * Returns false if the port does not run. */
static bool
ct_dpdk_reoffload(struct ct_offload_dpdk *d, struct ct_dpdk_rule *rule)
{
    struct ct_dpdk_port *port = ct_dpdk_port_get(d, rule->port->odp_port);
    uint8_t proto = rule->tuple.ip_proto;
    struct ct_dpdk_rule new;
    int error;

    if (port && ct_dpdk_port_stopped(port->info.port_id)) {
        return false;
    }
    /* The port may have changed (queues): ct_dpdk_port_get() probed it
     * again. */
    error = (!port ? ENODEV
             : port->strategy == CT_DPDK_NONE
               || (proto == IPPROTO_TCP ? !port->tcp : !port->udp)
             ? EOPNOTSUPP
             : ct_dpdk_rule_create(d, port, &rule->tuple, rule->mark, &new));
    if (error == ENETDOWN) {
        return false;
    } else if (error) {
        /* Software carries the direction from now on. */
        rule->lost = true;
        rule->port->n_lost++;
        return true;
    }
    rule->port_id = new.port_id;
    rule->flow = new.flow;
    rule->epoch = new.epoch;
    rule->age = new.age;
    rule->hits = 0;
    port->n_reoffloaded++;
    return true;
}

/* Catches up with port stops and starts since the last call: forgets the
 * handles that stops took away and creates their rules again on ports
 * that run again (at most CT_DPDK_REOFFLOAD_BATCH per call).  Called at the
 * start of every call that handles connections.
 *
 * Lazily, rather than as soon as the port runs: see 'port_states'.  Busy
 * datapaths call the instance all the time (every new or closing
 * connection, and the sweeper's updates); on an idle one, the rules come
 * back with the next connection. */
static void
ct_dpdk_catch_up(struct ct_offload_dpdk *d)
{
    struct ct_dpdk_rule *rule;
    size_t budget = CT_DPDK_REOFFLOAD_BATCH;
    uint64_t seq;

    atomic_read(&port_state_seq, &seq);
    if (seq == d->port_state_seq && !d->reoffload_pending) {
        return;
    }
    d->port_state_seq = seq;
    d->reoffload_pending = false;

    ct_dpdk_forget_stale(d);
    HMAP_FOR_EACH (rule, node, &d->rules) {
        if (rule->flow || rule->lost) {
            continue;
        }
        if (!budget) {
            d->reoffload_pending = true;
            break;
        }
        if (ct_dpdk_reoffload(d, rule)) {
            budget--;
        }
    }
}

/* Provider callbacks. */

static int
dpdk_create(const struct ct_offload_class *class OVS_UNUSED,
            struct dpif_offload *dpif_offload OVS_UNUSED,
            struct ct_offload **instp)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;
    struct ct_offload_dpdk *d = xzalloc(sizeof *d);

    if (ovsthread_once_start(&once)) {
        netdev_dpdk_register_port_state_cb(
            ct_offload_dpdk_port_state_changed);
        ovsthread_once_done(&once);
    }
    d->api = flow_api;
    atomic_read(&port_state_seq, &d->port_state_seq);
    cmap_init(&d->marks);
    hmap_init(&d->rules);
    hmap_init(&d->ports);
    *instp = &d->up;
    return 0;
}

static void
dpdk_flush(struct ct_offload *inst)
{
    struct ct_offload_dpdk *d = dpdk_cast(inst);
    struct ct_dpdk_conn *c;

    CMAP_FOR_EACH (c, mark_node, &d->marks) {
        ct_dpdk_conn_remove(d, c);
    }
}

static void
dpdk_destroy(struct ct_offload *inst)
{
    struct ct_offload_dpdk *d = dpdk_cast(inst);
    struct ct_dpdk_port *port;

    dpdk_flush(inst);
    ovs_assert(!d->n_conns && hmap_is_empty(&d->rules));
    HMAP_FOR_EACH_POP (port, node, &d->ports) {
        free(port->reason);
        free(port);
    }
    hmap_destroy(&d->ports);
    hmap_destroy(&d->rules);
    cmap_destroy(&d->marks);
    free(d);
}

static bool
dpdk_can_offload(const struct ct_offload *inst OVS_UNUSED,
                 const struct ct_offload_conn *conn)
{
    const struct ct_dpif_tuple *tuple = &conn->tuple[CT_OFFLOAD_DIR_ORIG];

    /* NAT needs nothing here: rules match packets as they arrive (the
     * reply tuple is the translated one), and process_one_hw_resolved() in
     * conntrack.c still runs handle_nat() on a marked packet.  Ports are
     * for conn_add() and conn_established() to judge: a connection whose
     * original direction arrives on a port without rte_flow may still be
     * offloaded in the reply direction. */
    return ((tuple->l3_type == AF_INET || tuple->l3_type == AF_INET6)
            && (tuple->ip_proto == IPPROTO_TCP
                || tuple->ip_proto == IPPROTO_UDP));
}

/* Returns the port that carries direction 'dir' of 'conn', or NULL (after
 * counting a refusal if 'count'). */
static struct ct_dpdk_port *
ct_dpdk_usable_port(struct ct_offload_dpdk *d,
                    const struct ct_offload_conn *conn,
                    enum ct_offload_dir dir, bool count)
{
    struct ct_dpdk_port *port = ct_dpdk_port_get(d, conn->in_port[dir]);
    uint8_t proto = conn->tuple[dir].ip_proto;

    if (port && (port->strategy == CT_DPDK_NONE
                 || (proto == IPPROTO_TCP ? !port->tcp : !port->udp))) {
        if (count) {
            port->n_refused++;
            COVERAGE_INC(ct_offload_dpdk_refused);
        }
        return NULL;
    }
    return port;
}

/* Whether some port of 'd' carries connections: a connection that starts
 * on a port without rte_flow (a vhost-user port, say) may then have its
 * replies arrive on it. */
static bool
ct_dpdk_has_usable_port(const struct ct_offload_dpdk *d)
{
    const struct ct_dpdk_port *port;

    HMAP_FOR_EACH (port, node, &d->ports) {
        if (port->strategy != CT_DPDK_NONE) {
            return true;
        }
    }
    return false;
}

static int
dpdk_conn_add(struct ct_offload *inst, struct ct_offload_conn *conn)
{
    struct ct_offload_dpdk *d = dpdk_cast(inst);

    ct_dpdk_catch_up(d);

    /* Probes the port on its first connection.  A connection that starts
     * on a port that cannot carry it may still be offloaded in the reply
     * direction, once conn_established() knows the reply's port; but as
     * long as no port of the instance can carry connections, it is passed
     * on here, so that ports without rte_flow do not make every
     * connection fail later.  (A port is probed by the first connection
     * that starts on it, or whose reply arrives on it after one that
     * started on a capable port.) */
    return (ct_dpdk_usable_port(d, conn, CT_OFFLOAD_DIR_ORIG, true)
            || ct_dpdk_has_usable_port(d)
            ? 0 : EOPNOTSUPP);
}

static int
dpdk_conn_established(struct ct_offload *inst, struct ct_offload_conn *conn,
                      struct netdev *reply_netdev OVS_UNUSED)
{
    struct ct_offload_dpdk *d = dpdk_cast(inst);
    struct ct_dpdk_port *ports[CT_OFFLOAD_N_DIRS];
    struct ct_dpdk_conn *c;
    int error;

    ct_dpdk_catch_up(d);

    /* A direction that arrives on a port without usable rte_flow (a
     * vhost-user or tap port, a port of another provider, one whose
     * strategy is none) stays in software, the other one is offloaded:
     * marks only classify packets, so each direction stands on its own.
     * Neither: passed on.  (conn_add() counted a refusal of the original
     * direction's port already.) */
    for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
        ports[i] = ct_dpdk_usable_port(d, conn, i,
                                       i == CT_OFFLOAD_DIR_REPLY);
    }
    if (!ports[CT_OFFLOAD_DIR_ORIG] && !ports[CT_OFFLOAD_DIR_REPLY]) {
        return EOPNOTSUPP;
    }
    for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
        if (ports[i] && ct_dpdk_rule_find(d, &conn->tuple[i], ports[i])) {
            /* Same tuple on the same port, another zone: hardware cannot
             * tell them apart. */
            d->n_conflicts++;
            COVERAGE_INC(ct_offload_dpdk_conflict);
            return EEXIST;
        }
    }

    c = xzalloc(sizeof *c);
    c->space = ((ports[0] && ports[0]->space == CT_DPDK_NARROW)
                || (ports[1] && ports[1]->space == CT_DPDK_NARROW)
                ? CT_DPDK_NARROW : CT_DPDK_WIDE);
    c->id = ct_dpdk_alloc_id(d, c->space);
    if (!c->id) {
        free(c);
        return ENOSPC;
    }
    c->base = ct_dpdk_mark(c->space, c->id, CT_OFFLOAD_DIR_ORIG);
    c->conn = conn;
    for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
        if (!ports[i]) {
            continue;
        }
        error = ct_dpdk_rule_create(d, ports[i], &conn->tuple[i],
                                    ct_dpdk_mark(c->space, c->id, i),
                                    &c->rules[i]);
        if (error) {
            /* Every usable direction or none: a direction that failed
             * would fail again and again. */
            for (int j = 0; j < i; j++) {
                ct_dpdk_rule_destroy(d, &c->rules[j]);
            }
            /* Never published: no reader can have it. */
            free(c);
            return error;
        }
    }

    for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
        if (ports[i]) {
            hmap_insert(&d->rules, &c->rules[i].node,
                        ct_dpdk_rule_hash(&c->rules[i].tuple, ports[i]));
        } else {
            d->n_one_way[!i]++;
            d->n_one_way_total[!i]++;
        }
    }
    cmap_insert(&d->marks, &c->mark_node, hash_int(c->base, 0));
    d->n_conns++;
    d->n_space_conns[c->space]++;
    conn->provider_data = c;
    return 0;
}

static void
dpdk_conn_del(struct ct_offload *inst, struct ct_offload_conn *conn)
{
    struct ct_offload_dpdk *d = dpdk_cast(inst);

    ct_dpdk_catch_up(d);
    if (conn->provider_data) {
        ct_dpdk_conn_remove(d, conn->provider_data);
    }
}

/* Queries 'action' of 'rule' as rte_flow_query() does, or returns -ESTALE
 * if a port stop took the rule away. */
static int
ct_dpdk_flow_query(struct ct_offload_dpdk *d, const struct ct_dpdk_rule *rule,
                   const struct rte_flow_action *action, void *data,
                   struct rte_flow_error *error)
{
    int ret = -ESTALE;

    ovs_mutex_lock(&port_state_mutex);
    if (rule->flow && ct_dpdk_epoch_current(rule->port_id, rule->epoch)) {
        ret = d->api->query(rule->port_id, rule->flow, action, data, error);
    }
    ovs_mutex_unlock(&port_state_mutex);
    return ret;
}

/* Queries the counters of 'rule' and, if it saw packets since the last
 * query, updates 'c->last_used'.  Returns 0 or a positive errno value
 * (ESTALE if the rule is not in hardware now). */
static int
ct_dpdk_rule_update(struct ct_offload_dpdk *d, struct ct_dpdk_conn *c,
                    struct ct_dpdk_rule *rule, long long now)
{
    struct rte_flow_action_count count_conf = { .id = 0 };
    struct rte_flow_action count = {
        .type = RTE_FLOW_ACTION_TYPE_COUNT, .conf = &count_conf,
    };
    struct rte_flow_query_count counters = { .reset = 0 };
    struct rte_flow_error error;
    int ret;

    for (int attempt = 0; ; attempt++) {
        memset(&error, 0, sizeof error);
        memset(&counters, 0, sizeof counters);
        ret = ct_dpdk_flow_query(d, rule, &count, &counters, &error);
        if (ret == -ESTALE) {
            return ESTALE;
        }
        if (!ret || !ct_dpdk_retry(d, rule->port, -ret, attempt,
                                   CT_DPDK_QUERY_BACKOFF_US)) {
            break;
        }
    }
    if (ret) {
        return ct_dpdk_flow_failed(d, rule->port, "query", -ret, &error);
    }
    if (counters.bytes_set) {
        rule->bytes = counters.bytes;
    }
    if (!counters.hits_set || counters.hits <= rule->hits) {
        return 0;
    }
    rule->hits = counters.hits;

    /* New packets: used now, or when AGE says, which is more precise if
     * conntrack asks long after the last packet. */
    long long used = now;
    if (rule->age) {
        struct rte_flow_query_age age_data;
        struct rte_flow_action age = { .type = RTE_FLOW_ACTION_TYPE_AGE };

        memset(&age_data, 0, sizeof age_data);
        if (!ct_dpdk_flow_query(d, rule, &age, &age_data, &error)
            && age_data.sec_since_last_hit_valid) {
            used = now - age_data.sec_since_last_hit * 1000LL;
        }
    }
    c->last_used = MAX(c->last_used, used);
    return 0;
}

static int
dpdk_conn_update(struct ct_offload *inst, struct ct_offload_conn *conn,
                 struct ct_offload_hw_stats *stats)
{
    struct ct_offload_dpdk *d = dpdk_cast(inst);
    struct ct_dpdk_conn *c = conn->provider_data;
    long long now = time_msec();
    int error = 0, n_ok = 0;

    memset(stats, 0, sizeof *stats);
    ct_dpdk_catch_up(d);
    if (!c) {
        return ENOENT;
    }
    error = ENOENT;
    for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
        struct ct_dpdk_rule *rule = &c->rules[i];

        if (!rule->port) {
            continue;
        }

        int err = ct_dpdk_rule_update(d, c, rule, now);

        if (err) {
            error = err;
        } else {
            n_ok++;
        }
        stats->packets += rule->hits;
        stats->bytes += rule->bytes;
    }
    stats->last_used = c->last_used;
    /* One direction's counters are enough to keep a busy connection. */
    return n_ok ? 0 : error;
}

static int
compare_ports(const void *a_, const void *b_)
{
    const struct ct_dpdk_port *const *a = a_;
    const struct ct_dpdk_port *const *b = b_;
    uint32_t pa = odp_to_u32((*a)->odp_port);
    uint32_t pb = odp_to_u32((*b)->odp_port);

    return pa < pb ? -1 : pa > pb;
}

static const char *
strategy_name(enum ct_dpdk_strategy strategy)
{
    return strategy == CT_DPDK_PARTIAL ? "partial" : "none";
}

static const char *
protocols(const struct ct_dpdk_port *port)
{
    return (port->tcp && port->udp ? "TCP UDP"
            : port->tcp ? "TCP" : port->udp ? "UDP" : "none");
}

static const char *
table_name(const struct ct_dpdk_port *port)
{
    return port->group ? "group 1" : "root";
}

static void
format_fate(const struct ct_dpdk_port *port, struct ds *ds)
{
    uint16_t n_rxq = MAX(port->info.n_rxq, 1);

    if (port->fate == CT_DPDK_QUEUE) {
        ds_put_cstr(ds, "QUEUE 0");
    } else if (port->fate == CT_DPDK_RSS_POW2) {
        ds_put_format(ds, "RSS over %u of %"PRIu16" queues",
                      1u << log_2_floor(n_rxq), n_rxq);
    } else {
        ds_put_cstr(ds, "RSS");
    }
}

static void
dpdk_format_port(const struct ct_dpdk_port *port, struct ds *ds)
{
    ds_put_format(ds, "port %"PRIu32": %s (dpdk port %"PRIu16"): strategy %s",
                  odp_to_u32(port->odp_port), port->info.name,
                  port->info.port_id, strategy_name(port->strategy));
    if (port->strategy == CT_DPDK_PARTIAL) {
        ds_put_format(ds, " (MARK, COUNT%s)", port->age ? ", AGE" : "");
    } else {
        ds_put_format(ds, " (%s)", port->reason);
    }
    ds_put_format(ds, ", rules %"PRIu64", created %"PRIu64", refused %"
                  PRIu64"\n", port->n_rules, port->n_created,
                  port->n_refused);
    ds_put_format(ds, "  protocols: %s, marks: %s (%s), table: %s, fate: ",
                  protocols(port), spaces[port->space].name,
                  port->space_why, table_name(port));
    format_fate(port, ds);
    ds_put_format(ds, ", retries %"PRIu64", downgrades %"PRIu64"\n",
                  port->n_retries, port->n_downgrades);
    ds_put_cstr(ds, "  failures:");
    for (int i = 0; i < CT_DPDK_N_FAILURES; i++) {
        ds_put_format(ds, "%s %s %"PRIu64, i ? "," : "", failure_names[i],
                      port->n_failures[i]);
    }
    ds_put_char(ds, '\n');
    if (port->n_restarts || port->n_forgotten) {
        ds_put_format(ds, "  restarts %"PRIu64": handles forgotten %"PRIu64
                      ", rules re-offloaded %"PRIu64", lost %"PRIu64"\n",
                      port->n_restarts, port->n_forgotten,
                      port->n_reoffloaded, port->n_lost);
    }
}

static struct json *
dpdk_port_to_json(const struct ct_dpdk_port *port)
{
    struct json *json = json_object_create();
    struct json *failures = json_object_create();

    json_object_put_string(json, "name", port->info.name);
    json_object_put(json, "dpdk_port_id",
                    json_integer_create(port->info.port_id));
    json_object_put_string(json, "strategy", strategy_name(port->strategy));
    if (port->strategy == CT_DPDK_PARTIAL) {
        json_object_put(json, "age", json_boolean_create(port->age));
    } else {
        json_object_put_string(json, "reason", port->reason);
    }
    json_object_put_string(json, "protocols", protocols(port));
    json_object_put_string(json, "marks", spaces[port->space].name);
    json_object_put_string(json, "table", table_name(port));
    struct ds fate = DS_EMPTY_INITIALIZER;
    format_fate(port, &fate);
    json_object_put_string(json, "fate", ds_cstr(&fate));
    ds_destroy(&fate);
    json_object_put(json, "rules", json_integer_create(port->n_rules));
    json_object_put(json, "created", json_integer_create(port->n_created));
    json_object_put(json, "refused", json_integer_create(port->n_refused));
    json_object_put(json, "retries", json_integer_create(port->n_retries));
    json_object_put(json, "downgrades",
                    json_integer_create(port->n_downgrades));
    for (int i = 0; i < CT_DPDK_N_FAILURES; i++) {
        json_object_put(failures, failure_names[i],
                        json_integer_create(port->n_failures[i]));
    }
    json_object_put(json, "failures", failures);
    json_object_put(json, "restarts", json_integer_create(port->n_restarts));
    json_object_put(json, "forgotten",
                    json_integer_create(port->n_forgotten));
    json_object_put(json, "reoffloaded",
                    json_integer_create(port->n_reoffloaded));
    json_object_put(json, "lost", json_integer_create(port->n_lost));
    return json;
}

static void
dpdk_get_debug(const struct ct_offload *inst, struct ds *ds,
               struct json *json)
{
    const struct ct_offload_dpdk *d = dpdk_cast(inst);
    size_t n_ports = hmap_count(&d->ports), n = 0;
    const struct ct_dpdk_port **ports;
    const struct ct_dpdk_port *port;

    /* Stable output for tests. */
    ports = xmalloc(MAX(n_ports, 1) * sizeof *ports);
    HMAP_FOR_EACH (port, node, &d->ports) {
        struct ct_offload_dpdk_port_info info;

        /* Not ports that left the datapath. */
        if (port->n_rules
            || !d->api->port_resolve(inst, port->odp_port, &info)) {
            ports[n++] = port;
        }
    }
    qsort(ports, n, sizeof *ports, compare_ports);

    if (ds) {
        ds_put_format(ds, "dpdk: %"PRIuSIZE" connections, %"PRIu64
                      " conflicts\n", d->n_conns, d->n_conflicts);
        if (d->n_one_way_total[0] || d->n_one_way_total[1]) {
            ds_put_format(ds, "one way: %"PRIuSIZE" original only, %"
                          PRIuSIZE" reply only (so far %"PRIu64", %"PRIu64
                          ")\n", d->n_one_way[CT_OFFLOAD_DIR_ORIG],
                          d->n_one_way[CT_OFFLOAD_DIR_REPLY],
                          d->n_one_way_total[CT_OFFLOAD_DIR_ORIG],
                          d->n_one_way_total[CT_OFFLOAD_DIR_REPLY]);
        }
        for (size_t i = 0; i < n; i++) {
            dpdk_format_port(ports[i], ds);
        }
    } else {
        struct json *json_ports = json_object_create();

        for (size_t i = 0; i < n; i++) {
            char *key = xasprintf("%"PRIu32, odp_to_u32(ports[i]->odp_port));

            json_object_put(json_ports, key, dpdk_port_to_json(ports[i]));
            free(key);
        }
        json_object_put(json, "dpdk_connections",
                        json_integer_create(d->n_conns));
        json_object_put(json, "dpdk_conflicts",
                        json_integer_create(d->n_conflicts));
        json_object_put(json, "dpdk_original_only",
                        json_integer_create(
                            d->n_one_way[CT_OFFLOAD_DIR_ORIG]));
        json_object_put(json, "dpdk_reply_only",
                        json_integer_create(
                            d->n_one_way[CT_OFFLOAD_DIR_REPLY]));
        json_object_put(json, "dpdk_ports", json_ports);
    }
    free(ports);
}

/* Receive path. */

bool
ct_offload_dpdk_mark_lookup(const struct ct_offload *inst, uint32_t mark,
                            const struct ct_offload_conn **conn,
                            enum ct_offload_dir *dir)
{
    const struct ct_dpdk_conn *c;

    if (!inst || (!ct_offload_dpdk_is_ct_mark(mark)
                  && !ct_offload_dpdk_is_narrow_mark(mark))) {
        return false;
    }
    c = ct_dpdk_conn_find(dpdk_cast(inst), mark & ~1u);
    if (!c) {
        return false;
    }
    *conn = c->conn;
    *dir = mark & 1 ? CT_OFFLOAD_DIR_REPLY : CT_OFFLOAD_DIR_ORIG;
    return true;
}

bool
ct_offload_dpdk_packet_recover(const struct ct_offload *inst,
                               struct dp_packet *packet, uint32_t mark)
{
    const struct ct_offload_conn *conn;
    enum ct_offload_dir dir;

    if (ct_offload_dpdk_is_narrow_mark(mark)) {
        /* Flow marks share this range: only marks of a current
         * connection are ours. */
        if (!ct_offload_dpdk_mark_lookup(inst, mark, &conn, &dir)) {
            return false;
        }
        if (ct_offload_packet_set_conn(packet, conn, dir)) {
            COVERAGE_INC(ct_offload_dpdk_mark_hit);
        } else {
            COVERAGE_INC(ct_offload_dpdk_mark_miss);
        }
        return true;
    }
    if (!ct_offload_dpdk_is_ct_mark(mark)) {
        return false;
    }
    /* A connection just removed leaves packets that software tracks as
     * usual.  The mark does not depend on the zone of the ct() action that
     * will see the packet: process_one_hw_resolved() in conntrack.c compares
     * zones and sends a packet seen in another zone to the normal
     * lookup. */
    if (ct_offload_dpdk_mark_lookup(inst, mark, &conn, &dir)
        && ct_offload_packet_set_conn(packet, conn, dir)) {
        COVERAGE_INC(ct_offload_dpdk_mark_hit);
    } else {
        COVERAGE_INC(ct_offload_dpdk_mark_miss);
    }
    return true;
}

const struct ct_offload_class ct_offload_dpdk_class = {
    .type = "dpdk",
    .priority = 30,
    /* MARK rules only classify: every packet still reaches software. */
    .forwards = false,
    .create = dpdk_create,
    .destroy = dpdk_destroy,
    .can_offload = dpdk_can_offload,
    .conn_add = dpdk_conn_add,
    .conn_established = dpdk_conn_established,
    .conn_del = dpdk_conn_del,
    .conn_update = dpdk_conn_update,
    .flush = dpdk_flush,
    .get_debug = dpdk_get_debug,
};
