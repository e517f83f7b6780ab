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

/* Unit tests of the DPDK conntrack offload provider.  A recording fake of
 * rte_flow stands in for the NIC, through the provider's seam, and each
 * test compares the rules it received with what the provider promises.
 * The fake answers as a PMD profile of the rte_flow emulation would
 * (lib/netdev-dpdk-flow-emu.h), or as its own flags say. */

#include <config.h>
#undef NDEBUG
#include <errno.h>
#include <sys/socket.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_flow.h>

#include "coverage.h"
#include "ct-dpif.h"
#include "ct-offload.h"
#include "ct-offload-dpdk.h"
#include "ct-offload-provider.h"
#include "dp-packet.h"
#include "netdev-dpdk-flow-emu.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "ovs-rcu.h"
#include "ovstest.h"
#include "packets.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"

#define DP_NAME "dpdk@test"

/* The provider's coverage counters: count() returns and zeroes this
 * thread's part, and the tests call the provider on this thread. */
extern struct coverage_counter counter_ct_offload_dpdk_enospc;
extern struct coverage_counter counter_ct_offload_dpdk_enotsup;
extern struct coverage_counter counter_ct_offload_dpdk_einval;
extern struct coverage_counter counter_ct_offload_dpdk_error;
extern struct coverage_counter counter_ct_offload_dpdk_refused;
extern struct coverage_counter counter_ct_offload_dpdk_conflict;
extern struct coverage_counter counter_ct_offload_dpdk_retry;
extern struct coverage_counter counter_ct_offload_dpdk_downgrade;

static unsigned int
coverage_take(struct coverage_counter *c)
{
    return c->count();
}

/* The fake NIC. */

struct fake_port {
    odp_port_t odp_port;
    uint16_t port_id;
    uint16_t n_rxq;
    bool dpdk;                  /* False: not a DPDK Ethernet port. */
    bool gone;                  /* Removed from the datapath. */
    bool mark;                  /* Accepts MARK. */
    bool count;                 /* Accepts COUNT. */
    bool age;                   /* Accepts AGE. */
    bool jump;                  /* Accepts JUMP and non-root groups. */

    /* If nonnull, the port answers as this profile says instead. */
    const struct netdev_dpdk_flow_emu_profile *profile;
    struct netdev_dpdk_flow_emu_usage usage;
};

struct rec_item {
    enum rte_flow_item_type type;
    bool has_spec, has_mask;
    uint8_t spec[64], mask[64];
};

struct rec_action {
    enum rte_flow_action_type type;
    union {
        uint8_t conf[64];
        uint64_t align_;        /* For the casts to action types. */
    };
    uint16_t queues[16];
};

struct fake_rule {
    bool live;
    uint16_t port_id;
    struct rte_flow_attr attr;
    struct rec_item items[8];
    size_t n_items;
    struct rec_action actions[8];
    size_t n_actions;
    uint32_t mark;
    bool drops;                 /* The profile made it a drop rule. */
    bool rss, counter;          /* For the profile's usage. */

    /* What queries return. */
    uint64_t hits, bytes;
    bool age_valid;
    uint32_t age_sec;
};

#define MAX_RULES 64

/* Filled in by the provider's calls: the tests read it only after the
 * calls returned (directly, or after ct_offload_dp_wait()). */
static struct fake {
    struct fake_port ports[8];
    size_t n_ports;

    struct fake_rule rules[MAX_RULES];
    size_t n_rules;

    /* Failure injection: the Nth create/destroy/query from now fails with
     * 'fail_errno' (1 is the next one); the next 'fail_creates' creates
     * and 'fail_queries' queries fail with it. */
    int fail_create_in;
    int fail_destroy_in;
    int fail_query_in;
    int fail_creates;
    int fail_queries;
    bool fail_query_all;
    int fail_errno;

    /* Calls. */
    int n_validate, n_create, n_destroy, n_query;
    int n_backoffs;
    unsigned int backoff_us;    /* In total. */
    uint32_t last_validate_mark;
} fake;

static struct fake_port *
fake_port_by_id(uint16_t port_id)
{
    for (size_t i = 0; i < fake.n_ports; i++) {
        if (fake.ports[i].port_id == port_id) {
            return &fake.ports[i];
        }
    }
    ovs_assert(false);
    return NULL;
}

static struct fake_port *
fake_port_add(uint32_t odp_port, uint16_t n_rxq)
{
    struct fake_port *p = &fake.ports[fake.n_ports++];

    *p = (struct fake_port) {
        .odp_port = u32_to_odp(odp_port),
        .port_id = 100 + odp_port,
        .n_rxq = n_rxq,
        .dpdk = true,
        .mark = true,
        .count = true,
        .age = true,
    };
    return p;
}

static struct fake_port *
fake_port_add_profile(uint32_t odp_port, uint16_t n_rxq,
                      const struct netdev_dpdk_flow_emu_profile *profile)
{
    struct fake_port *p = fake_port_add(odp_port, n_rxq);

    p->profile = profile;
    return p;
}

static bool
fake_take_failure(int *counter)
{
    if (*counter > 0) {
        *counter -= 1;
        return *counter == 0;
    }
    return false;
}

static int
fake_port_resolve(const struct ct_offload *inst OVS_UNUSED, odp_port_t port,
                  struct ct_offload_dpdk_port_info *info)
{
    for (size_t i = 0; i < fake.n_ports; i++) {
        struct fake_port *p = &fake.ports[i];

        if (p->odp_port == port && !p->gone) {
            if (!p->dpdk) {
                return EOPNOTSUPP;
            }
            info->port_id = p->port_id;
            info->n_rxq = p->n_rxq;
            snprintf(info->name, sizeof info->name, "p%"PRIu32,
                     odp_to_u32(port));
            snprintf(info->driver, sizeof info->driver, "%s",
                     p->profile ? p->profile->driver : "net_fake");
            return 0;
        }
    }
    return ENODEV;
}

static int
fake_validate(uint16_t port_id, const struct rte_flow_attr *attr,
              const struct rte_flow_item pattern[],
              const struct rte_flow_action actions[],
              struct rte_flow_error *error)
{
    struct fake_port *p = fake_port_by_id(port_id);

    fake.n_validate++;
    for (const struct rte_flow_action *a = actions;
         a->type != RTE_FLOW_ACTION_TYPE_END; a++) {
        if (a->type == RTE_FLOW_ACTION_TYPE_MARK) {
            const struct rte_flow_action_mark *mark = a->conf;

            fake.last_validate_mark = mark->id;
        }
    }
    if (p->profile) {
        bool drops;

        return netdev_dpdk_flow_emu_check(p->profile, false, p->n_rxq,
                                          &p->usage, attr, pattern, actions,
                                          error, &drops);
    }
    if (attr->group && !p->jump) {
        error->type = RTE_FLOW_ERROR_TYPE_ATTR_GROUP;
        error->message = "no groups";
        return -ENOTSUP;
    }
    for (const struct rte_flow_action *a = actions;
         a->type != RTE_FLOW_ACTION_TYPE_END; a++) {
        const char *msg = NULL;

        if (a->type == RTE_FLOW_ACTION_TYPE_JUMP) {
            msg = p->jump ? NULL : "no jump";
        } else if (a->type == RTE_FLOW_ACTION_TYPE_MARK) {
            msg = p->mark ? NULL : "no mark";
        } else if (a->type == RTE_FLOW_ACTION_TYPE_COUNT) {
            msg = p->count ? NULL : "no count";
        } else if (a->type == RTE_FLOW_ACTION_TYPE_AGE) {
            msg = p->age ? NULL : "no age";
        }
        if (msg) {
            error->type = RTE_FLOW_ERROR_TYPE_ACTION;
            error->message = msg;
            return -ENOTSUP;
        }
    }
    return 0;
}

/* The size of the spec and mask of an item of 'type' (-Wswitch-enum
 * rules out a switch over DPDK's long enums). */
static size_t
item_size(enum rte_flow_item_type type)
{
    return (type == RTE_FLOW_ITEM_TYPE_ETH ? sizeof(struct rte_flow_item_eth)
            : type == RTE_FLOW_ITEM_TYPE_IPV4
            ? sizeof(struct rte_flow_item_ipv4)
            : type == RTE_FLOW_ITEM_TYPE_IPV6
            ? sizeof(struct rte_flow_item_ipv6)
            : type == RTE_FLOW_ITEM_TYPE_TCP
            ? sizeof(struct rte_flow_item_tcp)
            : type == RTE_FLOW_ITEM_TYPE_UDP
            ? sizeof(struct rte_flow_item_udp)
            : 0);
}

static size_t
action_size(enum rte_flow_action_type type)
{
    return (type == RTE_FLOW_ACTION_TYPE_MARK
            ? sizeof(struct rte_flow_action_mark)
            : type == RTE_FLOW_ACTION_TYPE_COUNT
            ? sizeof(struct rte_flow_action_count)
            : type == RTE_FLOW_ACTION_TYPE_AGE
            ? sizeof(struct rte_flow_action_age)
            : type == RTE_FLOW_ACTION_TYPE_RSS
            ? sizeof(struct rte_flow_action_rss)
            : 0);
}

static struct rte_flow *
fake_create(uint16_t port_id, const struct rte_flow_attr *attr,
            const struct rte_flow_item pattern[],
            const struct rte_flow_action actions[],
            struct rte_flow_error *error)
{
    struct fake_port *p = fake_port_by_id(port_id);
    bool drops = false;
    struct fake_rule *r;

    fake.n_create++;
    if (fake_take_failure(&fake.fail_create_in) || fake.fail_creates > 0) {
        fake.fail_creates -= fake.fail_creates > 0;
        error->type = RTE_FLOW_ERROR_TYPE_UNSPECIFIED;
        error->message = "injected";
        rte_errno = fake.fail_errno;
        return NULL;
    }
    if (p->profile) {
        int ret = netdev_dpdk_flow_emu_check(p->profile, true, p->n_rxq,
                                             &p->usage, attr, pattern,
                                             actions, error, &drops);
        if (ret) {
            /* rte_errno as the profile's PMD leaves it. */
            return NULL;
        }
    }
    ovs_assert(fake.n_rules < MAX_RULES);
    r = &fake.rules[fake.n_rules++];
    memset(r, 0, sizeof *r);
    r->live = true;
    r->drops = drops;
    r->port_id = port_id;
    r->attr = *attr;
    for (const struct rte_flow_item *it = pattern; ; it++) {
        struct rec_item *ri = &r->items[r->n_items++];
        size_t size = item_size(it->type);

        ri->type = it->type;
        ovs_assert(size <= sizeof ri->spec);
        ovs_assert(!it->last);
        ri->has_spec = it->spec != NULL;
        ri->has_mask = it->mask != NULL;
        if (it->spec) {
            memcpy(ri->spec, it->spec, size);
        }
        if (it->mask) {
            memcpy(ri->mask, it->mask, size);
        }
        if (it->type == RTE_FLOW_ITEM_TYPE_END) {
            break;
        }
    }
    for (const struct rte_flow_action *a = actions; ; a++) {
        struct rec_action *ra = &r->actions[r->n_actions++];

        ra->type = a->type;
        if (a->conf) {
            memcpy(ra->conf, a->conf, action_size(a->type));
        }
        if (a->type == RTE_FLOW_ACTION_TYPE_MARK) {
            r->mark = ((const struct rte_flow_action_mark *) a->conf)->id;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_RSS) {
            const struct rte_flow_action_rss *rss = a->conf;

            ovs_assert(rss->queue_num <= ARRAY_SIZE(ra->queues));
            memcpy(ra->queues, rss->queue,
                   rss->queue_num * sizeof rss->queue[0]);
            r->rss = true;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_COUNT
                   || a->type == RTE_FLOW_ACTION_TYPE_AGE) {
            r->counter = true;
        } else if (a->type == RTE_FLOW_ACTION_TYPE_END) {
            break;
        }
    }
    p->usage.n_rules[attr->group ? EMU_NON_ROOT : EMU_ROOT]++;
    p->usage.n_rss += r->rss;
    p->usage.n_counters += r->counter;
    return (struct rte_flow *) (uintptr_t) (r - fake.rules + 1);
}

static struct fake_rule *
fake_rule(struct rte_flow *flow)
{
    uintptr_t idx = (uintptr_t) flow;

    ovs_assert(idx >= 1 && idx <= fake.n_rules);
    return &fake.rules[idx - 1];
}

static int
fake_destroy(uint16_t port_id, struct rte_flow *flow,
             struct rte_flow_error *error)
{
    struct fake_rule *r = fake_rule(flow);

    struct fake_port *p = fake_port_by_id(port_id);

    fake.n_destroy++;
    ovs_assert(r->live && r->port_id == port_id);
    /* Gone even when reporting a failure: that is the worst case. */
    r->live = false;
    p->usage.n_rules[r->attr.group ? EMU_NON_ROOT : EMU_ROOT]--;
    p->usage.n_rss -= r->rss;
    p->usage.n_counters -= r->counter;
    if (fake_take_failure(&fake.fail_destroy_in)) {
        error->message = "injected";
        return -fake.fail_errno;
    }
    return 0;
}

static int
fake_query(uint16_t port_id, struct rte_flow *flow,
           const struct rte_flow_action *action, void *data,
           struct rte_flow_error *error)
{
    struct fake_rule *r = fake_rule(flow);

    fake.n_query++;
    ovs_assert(r->live && r->port_id == port_id);
    if (fake_take_failure(&fake.fail_query_in) || fake.fail_query_all
        || fake.fail_queries > 0) {
        fake.fail_queries -= fake.fail_queries > 0;
        error->message = "injected";
        return -fake.fail_errno;
    }
    if (action->type == RTE_FLOW_ACTION_TYPE_COUNT) {
        struct rte_flow_query_count *q = data;

        ovs_assert(!q->reset);
        q->hits_set = q->bytes_set = 1;
        q->hits = r->hits;
        q->bytes = r->bytes;
        return 0;
    } else if (action->type == RTE_FLOW_ACTION_TYPE_AGE) {
        struct rte_flow_query_age *q = data;

        ovs_assert(r->n_actions > 2
                   && r->actions[2].type == RTE_FLOW_ACTION_TYPE_AGE);
        q->sec_since_last_hit_valid = r->age_valid;
        q->sec_since_last_hit = r->age_sec;
        return 0;
    }
    return -ENOTSUP;
}

static void
fake_backoff(unsigned int usec)
{
    fake.n_backoffs++;
    fake.backoff_us += usec;
}

static const struct ct_offload_dpdk_flow_api fake_api = {
    .port_resolve = fake_port_resolve,
    .validate = fake_validate,
    .create = fake_create,
    .destroy = fake_destroy,
    .query = fake_query,
    .backoff = fake_backoff,
};

static size_t
n_live_rules(void)
{
    size_t n = 0;

    for (size_t i = 0; i < fake.n_rules; i++) {
        n += fake.rules[i].live;
    }
    return n;
}

/* Test setup. */

static struct ct_offload *
setup(void)
{
    struct ct_offload *inst;

    memset(&fake, 0, sizeof fake);
    ct_offload_dpdk_set_flow_api(&fake_api);
    ovs_assert(!ct_offload_create(&ct_offload_dpdk_class, NULL, DP_NAME,
                                  &inst));
    /* Forget counts left by earlier tests in this process. */
    coverage_take(&counter_ct_offload_dpdk_enospc);
    coverage_take(&counter_ct_offload_dpdk_enotsup);
    coverage_take(&counter_ct_offload_dpdk_einval);
    coverage_take(&counter_ct_offload_dpdk_error);
    coverage_take(&counter_ct_offload_dpdk_refused);
    coverage_take(&counter_ct_offload_dpdk_conflict);
    coverage_take(&counter_ct_offload_dpdk_retry);
    coverage_take(&counter_ct_offload_dpdk_downgrade);
    return inst;
}

static void
teardown(struct ct_offload *inst)
{
    ct_offload_destroy(inst);
    ct_offload_dpdk_set_flow_api(NULL);
    ovs_assert(!n_live_rules());
}

/* A connection from port 'orig' (10.0.0.1:sport -> 10.0.0.2:80, or the
 * same in 2001:db8::/64) answered on port 'reply'. */
static void
conn_init(struct ct_offload_conn *conn, int af, uint8_t proto,
          uint16_t sport, uint32_t orig, uint32_t reply)
{
    struct ct_dpif_tuple *o = &conn->tuple[CT_OFFLOAD_DIR_ORIG];
    struct ct_dpif_tuple *r = &conn->tuple[CT_OFFLOAD_DIR_REPLY];

    memset(conn, 0, sizeof *conn);
    o->l3_type = af;
    o->ip_proto = proto;
    if (af == AF_INET) {
        o->src.ip = htonl(0x0a000001);
        o->dst.ip = htonl(0x0a000002);
    } else {
        ovs_assert(inet_pton(AF_INET6, "2001:db8::1", &o->src.in6) == 1);
        ovs_assert(inet_pton(AF_INET6, "2001:db8::2", &o->dst.in6) == 1);
    }
    o->src_port = htons(sport);
    o->dst_port = htons(80);

    r->l3_type = af;
    r->ip_proto = proto;
    r->src = o->dst;
    r->dst = o->src;
    r->src_port = o->dst_port;
    r->dst_port = o->src_port;

    conn->in_port[CT_OFFLOAD_DIR_ORIG] = u32_to_odp(orig);
    conn->in_port[CT_OFFLOAD_DIR_REPLY] = u32_to_odp(reply);
}

static int
offload(struct ct_offload *inst, struct ct_offload_conn *conn)
{
    int error;

    if (!inst->class->can_offload(inst, conn)) {
        return EPERM;
    }
    error = inst->class->conn_add(inst, conn);
    if (!error) {
        error = inst->class->conn_established(inst, conn, NULL);
    }
    return error;
}

static char *
debug_text(struct ct_offload *inst)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    inst->class->get_debug(inst, &ds, NULL);
    return ds_steal_cstr(&ds);
}

static void
expect_debug(struct ct_offload *inst, const char *expected)
{
    char *s = debug_text(inst);

    if (strcmp(s, expected)) {
        fprintf(stderr, "get_debug:\n%s\nexpected:\n%s\n", s, expected);
        ovs_assert(false);
    }
    free(s);
}

static void
check_item(const struct rec_item *ri, enum rte_flow_item_type type,
           const void *spec, const void *mask)
{
    size_t size = item_size(type);

    ovs_assert(ri->type == type);
    ovs_assert(ri->has_spec && ri->has_mask);
    ovs_assert(!memcmp(ri->spec, spec, size));
    ovs_assert(!memcmp(ri->mask, mask, size));
}

/* Checks that 'r' is the rule for packets with tuple 't' arriving on
 * 'port', with an AGE action if 'age'. */
static void
check_rule(const struct fake_rule *r, const struct ct_dpif_tuple *t,
           const struct fake_port *port, bool age)
{
    bool ipv6 = t->l3_type == AF_INET6;
    size_t n = 0;

    ovs_assert(r->live);
    ovs_assert(r->port_id == port->port_id);
    ovs_assert(r->attr.ingress && !r->attr.egress && !r->attr.transfer);
    ovs_assert(r->attr.group == 0 && r->attr.priority == 0);

    /* Pattern. */
    ovs_assert(r->n_items == 4);

    struct rte_flow_item_eth eth_spec, eth_mask;
    memset(&eth_spec, 0, sizeof eth_spec);
    memset(&eth_mask, 0, sizeof eth_mask);
    eth_spec.hdr.ether_type = htons(ipv6 ? 0x86dd : 0x0800);
    eth_mask.hdr.ether_type = htons(0xffff);
    check_item(&r->items[0], RTE_FLOW_ITEM_TYPE_ETH, &eth_spec, &eth_mask);

    if (ipv6) {
        struct rte_flow_item_ipv6 spec, mask;

        memset(&spec, 0, sizeof spec);
        memset(&mask, 0, sizeof mask);
        memcpy(&spec.hdr.src_addr, &t->src.in6, 16);
        memcpy(&spec.hdr.dst_addr, &t->dst.in6, 16);
        spec.hdr.proto = t->ip_proto;
        memset(&mask.hdr.src_addr, 0xff, 16);
        memset(&mask.hdr.dst_addr, 0xff, 16);
        mask.hdr.proto = 0xff;
        check_item(&r->items[1], RTE_FLOW_ITEM_TYPE_IPV6, &spec, &mask);
    } else {
        struct rte_flow_item_ipv4 spec, mask;

        memset(&spec, 0, sizeof spec);
        memset(&mask, 0, sizeof mask);
        spec.hdr.src_addr = t->src.ip;
        spec.hdr.dst_addr = t->dst.ip;
        spec.hdr.next_proto_id = t->ip_proto;
        mask.hdr.src_addr = htonl(0xffffffff);
        mask.hdr.dst_addr = htonl(0xffffffff);
        mask.hdr.next_proto_id = 0xff;
        /* MF and the offset must be 0: no fragments. */
        mask.hdr.fragment_offset = htons(0x3fff);
        check_item(&r->items[1], RTE_FLOW_ITEM_TYPE_IPV4, &spec, &mask);
    }

    if (t->ip_proto == IPPROTO_TCP) {
        struct rte_flow_item_tcp spec, mask;

        memset(&spec, 0, sizeof spec);
        memset(&mask, 0, sizeof mask);
        spec.hdr.src_port = t->src_port;
        spec.hdr.dst_port = t->dst_port;
        mask.hdr.src_port = htons(0xffff);
        mask.hdr.dst_port = htons(0xffff);
        /* No flags: software checks them. */
        check_item(&r->items[2], RTE_FLOW_ITEM_TYPE_TCP, &spec, &mask);
    } else {
        struct rte_flow_item_udp spec, mask;

        memset(&spec, 0, sizeof spec);
        memset(&mask, 0, sizeof mask);
        spec.hdr.src_port = t->src_port;
        spec.hdr.dst_port = t->dst_port;
        mask.hdr.src_port = htons(0xffff);
        mask.hdr.dst_port = htons(0xffff);
        check_item(&r->items[2], RTE_FLOW_ITEM_TYPE_UDP, &spec, &mask);
    }
    ovs_assert(r->items[3].type == RTE_FLOW_ITEM_TYPE_END);

    /* Actions. */
    ovs_assert(r->n_actions == (age ? 5 : 4));
    ovs_assert(r->actions[n++].type == RTE_FLOW_ACTION_TYPE_MARK);
    ovs_assert(ct_offload_dpdk_is_ct_mark(r->mark));
    ovs_assert(r->actions[n++].type == RTE_FLOW_ACTION_TYPE_COUNT);
    if (age) {
        const struct rte_flow_action_age *a;

        ovs_assert(r->actions[n].type == RTE_FLOW_ACTION_TYPE_AGE);
        a = ALIGNED_CAST(const struct rte_flow_action_age *,
                         r->actions[n].conf);
        ovs_assert(a->timeout == 3000);
        n++;
    }

    const struct rte_flow_action_rss *rss;
    ovs_assert(r->actions[n].type == RTE_FLOW_ACTION_TYPE_RSS);
    rss = ALIGNED_CAST(const struct rte_flow_action_rss *,
                       r->actions[n].conf);
    ovs_assert(rss->queue_num == port->n_rxq);
    ovs_assert(rss->func == RTE_ETH_HASH_FUNCTION_DEFAULT);
    ovs_assert(rss->level == 0 && rss->key_len == 0);
    ovs_assert(rss->types
               == (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP));
    for (uint16_t q = 0; q < port->n_rxq; q++) {
        ovs_assert(r->actions[n].queues[q] == q);
    }
    n++;
    ovs_assert(r->actions[n].type == RTE_FLOW_ACTION_TYPE_END);
}

/* Tests. */

/* TCP and UDP over IPv4 and IPv6: one rule per direction, on its own
 * port, exact 5-tuple, distinct marks that lead back to the connection. */
static void
test_rules(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    static const int afs[] = { AF_INET, AF_INET6 };
    static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
    struct ct_offload *inst = setup();
    struct fake_port *p1 = fake_port_add(1, 4);
    struct fake_port *p2 = fake_port_add(2, 2);
    uint32_t marks_seen[8];
    size_t n_marks = 0;

    p2->age = false;
    for (size_t i = 0; i < ARRAY_SIZE(afs); i++) {
        for (size_t j = 0; j < ARRAY_SIZE(protos); j++) {
            struct ct_offload_conn conn;
            const struct ct_offload_conn *found;
            enum ct_offload_dir dir;
            size_t n_rules = fake.n_rules;

            conn_init(&conn, afs[i], protos[j], 1000 + i * 2 + j, 1, 2);
            ovs_assert(!offload(inst, &conn));
            ovs_assert(conn.provider_data);
            ovs_assert(fake.n_rules == n_rules + 2);

            struct fake_rule *orig = &fake.rules[n_rules];
            struct fake_rule *reply = &fake.rules[n_rules + 1];
            check_rule(orig, &conn.tuple[CT_OFFLOAD_DIR_ORIG], p1, true);
            check_rule(reply, &conn.tuple[CT_OFFLOAD_DIR_REPLY], p2, false);
            ovs_assert(orig->mark != reply->mark);

            ovs_assert(ct_offload_dpdk_mark_lookup(inst, orig->mark,
                                                   &found, &dir));
            ovs_assert(found == &conn && dir == CT_OFFLOAD_DIR_ORIG);
            ovs_assert(ct_offload_dpdk_mark_lookup(inst, reply->mark,
                                                   &found, &dir));
            ovs_assert(found == &conn && dir == CT_OFFLOAD_DIR_REPLY);

            /* Every connection has marks of its own. */
            for (size_t k = 0; k < n_marks; k++) {
                ovs_assert(marks_seen[k] != orig->mark
                           && marks_seen[k] != reply->mark);
            }
            marks_seen[n_marks++] = orig->mark;
            marks_seen[n_marks++] = reply->mark;

            /* Delete: both rules go, the marks no longer resolve. */
            uint32_t omark = orig->mark, rmark = reply->mark;
            int n_destroy = fake.n_destroy;
            inst->class->conn_del(inst, &conn);
            ovs_assert(!conn.provider_data);
            ovs_assert(fake.n_destroy == n_destroy + 2);
            ovs_assert(!orig->live && !reply->live);
            ovs_assert(!ct_offload_dpdk_mark_lookup(inst, omark, &found,
                                                    &dir));
            ovs_assert(!ct_offload_dpdk_mark_lookup(inst, rmark, &found,
                                                    &dir));
        }
    }

    /* Flow marks are not conntrack marks. */
    const struct ct_offload_conn *found;
    enum ct_offload_dir dir;
    ovs_assert(!ct_offload_dpdk_mark_lookup(inst, 1, &found, &dir));
    ovs_assert(!ct_offload_dpdk_mark_lookup(inst, CT_OFFLOAD_DPDK_MARK_BIT - 1,
                                            &found, &dir));
    /* Above 24 bits: a flow mark, even with the conntrack bit set and the
     * id of a live connection. */
    struct ct_offload_conn live;
    conn_init(&live, AF_INET, IPPROTO_TCP, 999, 1, 2);
    ovs_assert(!offload(inst, &live));
    uint32_t live_mark = fake.rules[fake.n_rules - 2].mark;
    ovs_assert(ct_offload_dpdk_mark_lookup(inst, live_mark, &found, &dir));
    ovs_assert(!ct_offload_dpdk_mark_lookup(inst, live_mark | 0x01000000,
                                            &found, &dir));
    inst->class->conn_del(inst, &live);

    /* Not offloaded: other protocols. */
    struct ct_offload_conn conn;
    fake_port_add(3, 1)->dpdk = false;
    conn_init(&conn, AF_INET, IPPROTO_ICMP, 0, 1, 2);
    ovs_assert(!inst->class->can_offload(inst, &conn));
    conn_init(&conn, AF_INET, IPPROTO_SCTP, 5, 1, 2);
    ovs_assert(!inst->class->can_offload(inst, &conn));
    /* NAT is fine: software still rewrites marked packets. */
    conn_init(&conn, AF_INET, IPPROTO_TCP, 5, 1, 2);
    conn.nat_action = 1;
    ovs_assert(inst->class->can_offload(inst, &conn));
    /* A port that is not a DPDK port (3) or not ours (9) leaves its
     * direction to software; the other one is offloaded. */
    static const uint32_t pairs[][2] = { {3, 2}, {9, 2}, {1, 3}, {1, 9} };
    for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
        conn_init(&conn, AF_INET, IPPROTO_TCP, 5, pairs[i][0], pairs[i][1]);
        ovs_assert(!offload(inst, &conn));
        ovs_assert(n_live_rules() == 1);
        inst->class->conn_del(inst, &conn);
    }
    /* Neither: passed on. */
    conn_init(&conn, AF_INET, IPPROTO_TCP, 5, 3, 9);
    ovs_assert(offload(inst, &conn) == EOPNOTSUPP);
    ovs_assert(!n_live_rules());

    teardown(inst);
}

/* Probing: strategy per port from the probe results, and what show
 * says. */
static void
test_probe(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct ct_offload *inst = setup();
    struct fake_port *full = fake_port_add(1, 2);
    struct fake_port *no_count = fake_port_add(2, 1);
    struct fake_port *no_mark = fake_port_add(3, 1);
    struct fake_port *no_age = fake_port_add(4, 1);
    struct ct_offload_conn conn;

    no_count->count = false;
    no_mark->mark = false;
    no_age->age = false;

    /* First use probes UDP and TCP: MARK, then COUNT, then AGE, with the
     * widest conntrack mark. */
    conn_init(&conn, AF_INET, IPPROTO_TCP, 1, 1, 1);
    ovs_assert(!inst->class->conn_add(inst, &conn));
    ovs_assert(fake.n_validate == 1 + 6);
    ovs_assert(fake.last_validate_mark == CT_OFFLOAD_DPDK_MARK_MAX);
    /* Known now: no more probes. */
    ovs_assert(!inst->class->conn_add(inst, &conn));
    ovs_assert(fake.n_validate == 7);

    /* Without COUNT or MARK: no offload, counted as refusals, once per
     * direction.  (conn_add() takes the connection while a port that
     * could carry its reply is known.)  Without MARK at full width, 16
     * bits were tried too. */
    conn_init(&conn, AF_INET, IPPROTO_TCP, 2, 2, 2);
    ovs_assert(!inst->class->conn_add(inst, &conn));
    ovs_assert(inst->class->conn_established(inst, &conn, NULL)
               == EOPNOTSUPP);
    ovs_assert(fake.n_validate == 7 + 1 + 4);
    conn_init(&conn, AF_INET, IPPROTO_TCP, 3, 3, 3);
    ovs_assert(offload(inst, &conn) == EOPNOTSUPP);
    /* RSS and then, on this port of one queue, QUEUE. */
    ovs_assert(fake.n_validate == 12 + 1 + 8);
    ovs_assert(fake.last_validate_mark == CT_OFFLOAD_DPDK_NARROW_MARK_MAX);
    ovs_assert(coverage_take(&counter_ct_offload_dpdk_refused) == 4);

    /* Without AGE: MARK and COUNT only. */
    conn_init(&conn, AF_INET, IPPROTO_UDP, 4, 4, 4);
    ovs_assert(!offload(inst, &conn));
    check_rule(&fake.rules[0], &conn.tuple[CT_OFFLOAD_DIR_ORIG], no_age,
               false);
    check_rule(&fake.rules[1], &conn.tuple[CT_OFFLOAD_DIR_REPLY], no_age,
               false);

    /* Reply on a port without offload: the original direction only. */
    conn_init(&conn, AF_INET, IPPROTO_TCP, 5, 1, 3);
    ovs_assert(!offload(inst, &conn));
    ovs_assert(n_live_rules() == 3);

    expect_debug(inst,
        "dpdk: 2 connections, 0 conflicts\n"
        "one way: 1 original only, 0 reply only (so far 1, 0)\n"
        "port 1: p1 (dpdk port 101): strategy partial (MARK, COUNT, AGE), "
        "rules 1, created 1, refused 0\n"
        "  protocols: TCP UDP, marks: 24-bit (probed), table: root, "
        "fate: RSS, retries 0, downgrades 0\n"
        "  failures: ENOSPC 0, ENOMEM 0, ENOTSUP 0, EINVAL 0, EAGAIN 0, "
        "other 0\n"
        "port 2: p2 (dpdk port 102): strategy none (COUNT: Operation not "
        "supported (no count)), rules 0, created 0, refused 2\n"
        "  protocols: none, marks: 24-bit (probed), table: root, "
        "fate: RSS, retries 0, downgrades 0\n"
        "  failures: ENOSPC 0, ENOMEM 0, ENOTSUP 0, EINVAL 0, EAGAIN 0, "
        "other 0\n"
        "port 3: p3 (dpdk port 103): strategy none (MARK: Operation not "
        "supported (no mark)), rules 0, created 0, refused 3\n"
        "  protocols: none, marks: 16-bit (probed), table: root, "
        "fate: QUEUE 0, retries 0, downgrades 0\n"
        "  failures: ENOSPC 0, ENOMEM 0, ENOTSUP 0, EINVAL 0, EAGAIN 0, "
        "other 0\n"
        "port 4: p4 (dpdk port 104): strategy partial (MARK, COUNT), "
        "rules 2, created 2, refused 0\n"
        "  protocols: TCP UDP, marks: 24-bit (probed), table: root, "
        "fate: RSS, retries 0, downgrades 0\n"
        "  failures: ENOSPC 0, ENOMEM 0, ENOTSUP 0, EINVAL 0, EAGAIN 0, "
        "other 0\n");

    /* JSON. */
    struct json *json = json_object_create();
    inst->class->get_debug(inst, NULL, json);
    char *s = json_to_string(json, JSSF_SORT);
    ovs_assert(strstr(s, "\"dpdk_connections\":2"));
    ovs_assert(strstr(s, "\"dpdk_original_only\":1"));
    ovs_assert(strstr(s, "\"4\":{\"age\":false,\"created\":2,"
                         "\"downgrades\":0,\"dpdk_port_id\":104,"
                         "\"failures\":{\"EAGAIN\":0,\"EINVAL\":0,"
                         "\"ENOMEM\":0,\"ENOSPC\":0,\"ENOTSUP\":0,"
                         "\"other\":0},\"fate\":\"RSS\","
                         "\"forgotten\":0,\"lost\":0,"
                         "\"marks\":\"24-bit\","
                         "\"name\":\"p4\",\"protocols\":\"TCP UDP\","
                         "\"refused\":0,\"reoffloaded\":0,"
                         "\"restarts\":0,\"retries\":0,\"rules\":2,"
                         "\"strategy\":\"partial\",\"table\":\"root\"}"));
    ovs_assert(strstr(s, "\"reason\":\"MARK: Operation not supported "
                         "(no mark)\""));
    free(s);
    json_destroy(json);

    /* A port that changes (here its queues) is probed again, and its
     * rules then spread over the new queues. */
    int n_validate = fake.n_validate;
    full->n_rxq = 3;
    conn_init(&conn, AF_INET, IPPROTO_TCP, 6, 1, 1);
    ovs_assert(!offload(inst, &conn));
    ovs_assert(fake.n_validate == n_validate + 1 + 6);
    check_rule(&fake.rules[fake.n_rules - 1],
               &conn.tuple[CT_OFFLOAD_DIR_REPLY], full, true);

    teardown(inst);
}

/* What each PMD profile of the emulation leads the provider to, on two
 * ports of that profile with 2 receive queues: the strategy it settles on
 * after 'n_conns' TCP and UDP connections, how many of them hardware
 * carries, and what show says. */
struct profile_case {
    const char *profile;
    uint16_t n_rxq;
    bool root_only;             /* The profile without JUMP. */
    int n_conns;
    int n_in_hw;
    const char *strategy;       /* Of port 1, as show has it. */
    const char *more;           /* More that show must say. */
};

static const struct profile_case profile_cases[] = {
    { "ideal", 2, false, 4, 4, "strategy partial (MARK, COUNT, AGE)",
      "protocols: TCP UDP, marks: 24-bit (probed), table: group 1, "
      "fate: RSS" },
    { "mlx5-sws", 2, false, 4, 4, "strategy partial (MARK, COUNT, AGE)",
      "protocols: TCP UDP, marks: 24-bit (probed), table: group 1, "
      "fate: RSS" },
    /* COUNT and AGE work outside the root table. */
    { "mlx5-hws", 2, false, 4, 4, "strategy partial (MARK, COUNT, AGE)",
      "protocols: TCP UDP, marks: 24-bit (probed), table: group 1, "
      "fate: RSS" },
    /* In the root table, validation passes and every create fails:
     * downgraded after 8 in a row, one per connection. */
    { "mlx5-hws", 2, true, 10, 0, "strategy none (create failed: ENOTSUP)",
      "table: root, fate: RSS, retries 0, downgrades 1\n"
      "  failures: ENOSPC 0, ENOMEM 0, ENOTSUP 8, EINVAL 0, EAGAIN 0" },
    /* RSS only as a queue region of 2, 4, ... queues. */
    { "ice", 2, false, 4, 4, "strategy partial (MARK, COUNT)",
      "protocols: TCP UDP, marks: 24-bit (probed), table: root, "
      "fate: RSS" },
    { "ice", 1, false, 4, 4, "strategy partial (MARK, COUNT)",
      "table: root, fate: QUEUE 0" },
    { "ice", 3, false, 4, 4, "strategy partial (MARK, COUNT)",
      "table: root, fate: RSS over 2 of 3 queues" },
    { "i40e", 2, false, 2, 0, "strategy none (MARK: Invalid argument "
      "(Invalid action.))", "refused 2" },
    { "bnxt", 2, false, 2, 0, "strategy none (COUNT: Invalid argument "
      "(Invalid action.))", "refused 2" },
    /* 16-bit marks, known from the driver; 7 RSS groups per port, then
     * ENOSPC (negated in rte_errno) on a table too small to count as
     * one. */
    { "cnxk", 2, false, 16, 7, "strategy none (create failed: ENOSPC)",
      "protocols: TCP UDP, marks: 16-bit (net_cn10k), table: root, "
      "fate: RSS, retries 0, downgrades 1" },
};

static void
test_profiles(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    /* Every profile has a case. */
    for (size_t i = 0; i < netdev_dpdk_flow_emu_n_profiles; i++) {
        const char *name = netdev_dpdk_flow_emu_profiles[i].name;
        bool found = false;

        for (size_t j = 0; j < ARRAY_SIZE(profile_cases); j++) {
            found = found || !strcmp(profile_cases[j].profile, name);
        }
        ovs_assert(found);
    }

    for (size_t i = 0; i < ARRAY_SIZE(profile_cases); i++) {
        const struct profile_case *pc = &profile_cases[i];
        struct netdev_dpdk_flow_emu_profile profile
            = *netdev_dpdk_flow_emu_profile_find(pc->profile);
        struct ct_offload_conn conns[16];
        struct ct_offload *inst = setup();
        int n_in_hw = 0;

        ovs_assert(pc->n_conns <= ARRAY_SIZE(conns));
        profile.jump = profile.jump && !pc->root_only;
        fake_port_add_profile(1, pc->n_rxq, &profile);
        fake_port_add_profile(2, pc->n_rxq, &profile);
        for (int j = 0; j < pc->n_conns; j++) {
            conn_init(&conns[j], j % 2 ? AF_INET6 : AF_INET,
                      j % 4 < 2 ? IPPROTO_TCP : IPPROTO_UDP, 100 + j, 1, 2);
            if (!offload(inst, &conns[j])) {
                n_in_hw++;
            }
        }

        char *s = debug_text(inst);
        if (n_in_hw != pc->n_in_hw || !strstr(s, pc->strategy)
            || !strstr(s, pc->more)) {
            fprintf(stderr, "profile %s: %d in hardware, expected %d\n%s",
                    pc->profile, n_in_hw, pc->n_in_hw, s);
            ovs_assert(false);
        }
        free(s);

        /* What hardware got is what the profile takes: no TCP flags,
         * marks within the port's width, and in group 1 the JUMP and miss
         * rules of each port. */
        size_t n_port_rules = 0;
        for (size_t j = 0; j < fake.n_rules; j++) {
            const struct fake_rule *r = &fake.rules[j];

            ovs_assert(!r->drops && r->mark <= profile.mark_max);
            if (r->items[2].type == RTE_FLOW_ITEM_TYPE_TCP) {
                struct rte_flow_item_tcp mask;

                memcpy(&mask, r->items[2].mask, sizeof mask);
                ovs_assert(!mask.hdr.tcp_flags);
            }
            if (r->live && r->mark) {
                const struct ct_offload_conn *found;
                enum ct_offload_dir dir;

                ovs_assert(ct_offload_dpdk_mark_lookup(inst, r->mark,
                                                       &found, &dir));
                ovs_assert(r->attr.group == (profile.jump ? 1 : 0));
            } else if (r->live) {
                ovs_assert(profile.jump && r->attr.priority == 1);
                ovs_assert(r->items[0].type == RTE_FLOW_ITEM_TYPE_ETH
                           && !r->items[0].has_spec);
                ovs_assert(r->actions[0].type
                           == (r->attr.group ? RTE_FLOW_ACTION_TYPE_RSS
                               : RTE_FLOW_ACTION_TYPE_JUMP));
                n_port_rules++;
            }
        }
        ovs_assert(n_port_rules == (n_in_hw && profile.jump ? 4 : 0));
        for (int j = 0; j < pc->n_conns; j++) {
            inst->class->conn_del(inst, &conns[j]);
        }
        teardown(inst);
    }
}

/* Checks 'actions' with a TCP pattern whose flags mask is 'tcp_flags' in
 * 'group' against 'profile'.  Returns 0 or a negative errno value. */
static int
emu_check(const struct netdev_dpdk_flow_emu_profile *profile, bool create,
          uint16_t n_rxq, const struct netdev_dpdk_flow_emu_usage *usage,
          uint32_t group, uint8_t tcp_flags,
          const struct rte_flow_action actions[], bool *drops)
{
    struct rte_flow_item_tcp tcp_spec, tcp_mask;
    struct rte_flow_attr attr = { .ingress = 1, .group = group };
    struct rte_flow_error error;

    memset(&tcp_spec, 0, sizeof tcp_spec);
    memset(&tcp_mask, 0, sizeof tcp_mask);
    tcp_mask.hdr.dst_port = htons(0xffff);
    tcp_mask.hdr.tcp_flags = tcp_flags;

    const struct rte_flow_item pattern[] = {
        { .type = RTE_FLOW_ITEM_TYPE_ETH },
        { .type = RTE_FLOW_ITEM_TYPE_IPV4 },
        { .type = RTE_FLOW_ITEM_TYPE_TCP, .spec = &tcp_spec,
          .mask = &tcp_mask },
        { .type = RTE_FLOW_ITEM_TYPE_END },
    };
    memset(&error, 0, sizeof error);
    return netdev_dpdk_flow_emu_check(profile, create, n_rxq, usage, &attr,
                                      pattern, actions, &error, drops);
}

/* The profiles' facts that the provider's runs do not show directly. */
static void
test_profile_facts(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    const struct netdev_dpdk_flow_emu_profile *ice, *i40e, *cnxk;
    struct netdev_dpdk_flow_emu_profile hws;
    struct netdev_dpdk_flow_emu_usage usage;
    struct rte_flow_action_mark mark = { .id = 1 };
    uint16_t queues[2] = { 0, 1 };
    struct rte_flow_action_rss rss = { .queue_num = 2, .queue = queues };
    bool drops;

    const struct rte_flow_action mark_count_rss[] = {
        { .type = RTE_FLOW_ACTION_TYPE_MARK, .conf = &mark },
        { .type = RTE_FLOW_ACTION_TYPE_COUNT },
        { .type = RTE_FLOW_ACTION_TYPE_RSS, .conf = &rss },
        { .type = RTE_FLOW_ACTION_TYPE_END },
    };

    memset(&usage, 0, sizeof usage);
    ice = netdev_dpdk_flow_emu_profile_find("ice");
    i40e = netdev_dpdk_flow_emu_profile_find("i40e");
    cnxk = netdev_dpdk_flow_emu_profile_find("cnxk");
    hws = *netdev_dpdk_flow_emu_profile_find("mlx5-hws");
    ovs_assert(ice && i40e && cnxk);
    ovs_assert(!netdev_dpdk_flow_emu_profile_find("nfp"));

    /* TCP flags: ice and i40e refuse them, mlx5 takes them. */
    ovs_assert(!emu_check(ice, true, 2, &usage, 0, 0, mark_count_rss,
                          &drops));
    ovs_assert(emu_check(ice, true, 2, &usage, 0, 0x10, mark_count_rss,
                         &drops) == -EINVAL);
    ovs_assert(emu_check(i40e, false, 2, &usage, 0, 0, mark_count_rss,
                         &drops) == -EINVAL);
    ovs_assert(!emu_check(&hws, true, 2, &usage, 1, 0x10, mark_count_rss,
                          &drops));

    /* mlx5 HWS: COUNT in the root table validates, and fails to create;
     * a freed counter not yet reset makes creates wait (EAGAIN), none at
     * all is ENOENT. */
    ovs_assert(!emu_check(&hws, false, 2, &usage, 0, 0, mark_count_rss,
                          &drops));
    ovs_assert(emu_check(&hws, true, 2, &usage, 0, 0, mark_count_rss,
                         &drops) == -ENOTSUP);
    hws.counters = 1;
    usage.n_counters = 1;
    ovs_assert(emu_check(&hws, true, 2, &usage, 1, 0, mark_count_rss,
                         &drops) == -ENOENT);
    usage.n_counters = 0;
    usage.n_counters_waiting = 1;
    ovs_assert(emu_check(&hws, true, 2, &usage, 1, 0, mark_count_rss,
                         &drops) == -EAGAIN);
    ovs_assert(rte_errno == EAGAIN);
    usage.n_counters_waiting = 0;

    /* cnxk: a mark from 0xfffe up passes, and the rule drops; the 8th
     * RSS rule finds no RSS group, with rte_errno negated. */
    mark.id = 0xfffd;
    ovs_assert(!emu_check(cnxk, true, 2, &usage, 0, 0, mark_count_rss,
                          &drops) && !drops);
    mark.id = 0xfffe;
    ovs_assert(!emu_check(cnxk, false, 2, &usage, 0, 0, mark_count_rss,
                          &drops) && drops);
    mark.id = 1;
    usage.n_rss = 7;
    ovs_assert(emu_check(cnxk, true, 2, &usage, 0, 0, mark_count_rss,
                         &drops) == -ENOSPC);
    ovs_assert(rte_errno == -ENOSPC);
    usage.n_rss = 0;

    /* ice: RSS only over a region of 2, 4, ... queues; no groups. */
    ovs_assert(emu_check(ice, true, 3, &usage, 0, 0, mark_count_rss,
                         &drops) == 0);
    rss.queue_num = 1;
    ovs_assert(emu_check(ice, true, 1, &usage, 0, 0, mark_count_rss,
                         &drops) == -EINVAL);
    rss.queue_num = 2;
    ovs_assert(emu_check(ice, true, 2, &usage, 1, 0, mark_count_rss,
                         &drops) == -EINVAL);
}

/* In group 1: each port gets its miss rule, then its JUMP, with its first
 * connection rule, and loses them with its last one; if they cannot be
 * created, neither is the connection. */
static void
test_jump(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct ct_offload *inst = setup();
    struct ct_offload_conn conn, conn2;
    struct fake_port *p1, *p2;

    p1 = fake_port_add(1, 2);
    p2 = fake_port_add(2, 2);
    p1->jump = p2->jump = true;
    conn_init(&conn, AF_INET, IPPROTO_TCP, 1, 1, 2);

    /* The JUMP fails: the miss rule goes again. */
    fake.fail_create_in = 2;
    fake.fail_errno = ENOTSUP;
    ovs_assert(offload(inst, &conn) == EOPNOTSUPP);
    ovs_assert(fake.n_create == 2 && !n_live_rules());

    ovs_assert(!offload(inst, &conn));
    ovs_assert(n_live_rules() == 6);
    for (int i = 0; i < 2; i++) {
        const struct fake_rule *miss = &fake.rules[1 + 3 * i];
        const struct fake_rule *jump = &fake.rules[2 + 3 * i];
        const struct fake_rule *rule = &fake.rules[3 + 3 * i];

        ovs_assert(miss->attr.group == 1 && miss->attr.priority == 1
                   && miss->actions[0].type == RTE_FLOW_ACTION_TYPE_RSS);
        ovs_assert(jump->attr.group == 0 && jump->attr.priority == 1
                   && jump->actions[0].type == RTE_FLOW_ACTION_TYPE_JUMP);
        ovs_assert(rule->attr.group == 1 && rule->attr.priority == 0
                   && rule->mark);
    }

    /* A second connection shares them. */
    conn_init(&conn2, AF_INET, IPPROTO_UDP, 2, 1, 2);
    ovs_assert(!offload(inst, &conn2));
    ovs_assert(n_live_rules() == 8);
    inst->class->conn_del(inst, &conn);
    ovs_assert(n_live_rules() == 6);
    inst->class->conn_del(inst, &conn2);
    ovs_assert(!n_live_rules());

    char *s = debug_text(inst);
    ovs_assert(strstr(s, "table: group 1, fate: RSS"));
    free(s);
    teardown(inst);
}

/* EAGAIN and EBUSY are tried again, a bounded number of times, with
 * growing waits; other errors are not. */
static void
test_retry(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct ct_offload *inst = setup();
    struct ct_offload_hw_stats stats;
    struct ct_offload_conn conn;

    fake_port_add(1, 1);
    fake_port_add(2, 1);
    conn_init(&conn, AF_INET, IPPROTO_TCP, 1, 1, 2);

    /* Two EAGAINs: the third try works. */
    fake.fail_creates = 2;
    fake.fail_errno = EAGAIN;
    ovs_assert(!offload(inst, &conn));
    ovs_assert(fake.n_backoffs == 2 && fake.backoff_us == 1000 + 2000);
    ovs_assert(coverage_take(&counter_ct_offload_dpdk_retry) == 2);
    inst->class->conn_del(inst, &conn);

    /* Four EBUSYs: three retries, then the error. */
    fake.n_backoffs = fake.backoff_us = 0;
    fake.fail_creates = 4;
    fake.fail_errno = EBUSY;
    ovs_assert(offload(inst, &conn) == EBUSY);
    ovs_assert(fake.n_backoffs == 3
               && fake.backoff_us == 1000 + 2000 + 4000);
    ovs_assert(!n_live_rules());
    fake.fail_creates = 0;

    /* Not for other errors. */
    fake.n_backoffs = 0;
    fake.fail_create_in = 1;
    fake.fail_errno = ENOSPC;
    ovs_assert(offload(inst, &conn) == ENOSPC);
    ovs_assert(!fake.n_backoffs);

    /* Queries: shorter waits. */
    ovs_assert(!offload(inst, &conn));
    fake.backoff_us = 0;
    fake.fail_queries = 1;
    fake.fail_errno = EAGAIN;
    ovs_assert(!inst->class->conn_update(inst, &conn, &stats));
    ovs_assert(fake.n_backoffs == 1 && fake.backoff_us == 100);

    char *s = debug_text(inst);
    ovs_assert(strstr(s, "port 1: p1 (dpdk port 101): strategy partial "
                         "(MARK, COUNT, AGE), rules 1, created 2, refused 0\n"
                         "  protocols: TCP UDP, marks: 24-bit (probed), "
                         "table: root, fate: RSS, retries 6, downgrades 0\n"
                         "  failures: ENOSPC 1, ENOMEM 0, ENOTSUP 0, "
                         "EINVAL 0, EAGAIN 1, other 0\n"));
    free(s);
    inst->class->conn_del(inst, &conn);
    teardown(inst);
}

/* Create failures in a row turn a port's offload off, unless the port's
 * table is merely full; any success starts the count again. */
static void
test_downgrade(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct ct_offload_conn conns[8];
    struct ct_offload *inst = setup();
    struct ct_offload_conn conn;

    fake_port_add(1, 1);
    fake_port_add(2, 1);

    /* 7 failures, a success, 7 failures: still on. */
    fake.fail_errno = EINVAL;
    for (int round = 0; round < 2; round++) {
        fake.fail_creates = 7;
        for (int i = 0; i < 7; i++) {
            conn_init(&conn, AF_INET, IPPROTO_UDP, 10 + i, 1, 2);
            ovs_assert(offload(inst, &conn) == EINVAL);
        }
        conn_init(&conns[round], AF_INET, IPPROTO_UDP, 100 + round, 1, 2);
        if (!round) {
            ovs_assert(!offload(inst, &conns[round]));
        }
    }
    /* The 8th in a row: off, and the connections it holds stay. */
    fake.fail_creates = 1;
    ovs_assert(offload(inst, &conns[1]) == EINVAL);
    ovs_assert(coverage_take(&counter_ct_offload_dpdk_downgrade) == 1);
    /* A new connection: its reply direction only, on p2. */
    conn_init(&conn, AF_INET, IPPROTO_UDP, 30, 1, 2);
    ovs_assert(!offload(inst, &conn));
    ovs_assert(n_live_rules() == 3);
    char *s = debug_text(inst);
    ovs_assert(strstr(s, "port 1: p1 (dpdk port 101): strategy none "
                         "(create failed: EINVAL), rules 1, created 1, "
                         "refused 1\n"
                         "  protocols: TCP UDP, marks: 24-bit (probed), "
                         "table: root, fate: RSS, retries 0, "
                         "downgrades 1\n"));
    free(s);
    inst->class->conn_del(inst, &conns[0]);
    teardown(inst);
}

/* 16-bit marks: known for cnxk, whose probe cannot tell (it drops
 * instead of refusing), probed for a PMD that refuses wider marks. */
static void
test_narrow(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct netdev_dpdk_flow_emu_profile narrow
        = *netdev_dpdk_flow_emu_profile_find("ideal");
    const struct ct_offload_conn *found;
    struct ct_offload *inst = setup();
    struct ct_offload_conn conn, conn2;
    enum ct_offload_dir dir;
    struct dp_packet *pkt;

    narrow.mark_max = 0xffff;
    narrow.jump = false;
    fake_port_add_profile(1, 1, &narrow);
    fake_port_add(2, 1);
    fake_port_add_profile(3, 1, netdev_dpdk_flow_emu_profile_find("cnxk"));

    /* A narrow port makes the connection's marks narrow on both ports. */
    conn_init(&conn, AF_INET, IPPROTO_TCP, 1, 1, 2);
    ovs_assert(!offload(inst, &conn));
    ovs_assert(fake.rules[0].mark == CT_OFFLOAD_DPDK_NARROW_MARK_BIT + 2);
    ovs_assert(fake.rules[1].mark == CT_OFFLOAD_DPDK_NARROW_MARK_BIT + 3);
    ovs_assert(ct_offload_dpdk_mark_lookup(inst, fake.rules[1].mark, &found,
                                           &dir));
    ovs_assert(found == &conn && dir == CT_OFFLOAD_DIR_REPLY);

    /* A narrow mark of no connection is a flow mark. */
    pkt = dp_packet_new(64);
    pkt_metadata_init(&pkt->md, u32_to_odp(1));
    ovs_assert(!ct_offload_dpdk_packet_recover(
                   inst, pkt, CT_OFFLOAD_DPDK_NARROW_MARK_BIT + 4));
    dp_packet_delete(pkt);

    /* cnxk: never a mark from 0xfffe up, without probing wider ones. */
    int n_validate = fake.n_validate;
    conn_init(&conn2, AF_INET6, IPPROTO_UDP, 2, 3, 3);
    ovs_assert(!offload(inst, &conn2));
    ovs_assert(fake.n_validate == n_validate + 1 + 6);
    ovs_assert(fake.last_validate_mark == CT_OFFLOAD_DPDK_NARROW_MARK_MAX);
    ovs_assert(fake.rules[2].mark == CT_OFFLOAD_DPDK_NARROW_MARK_BIT + 4);

    char *s = debug_text(inst);
    ovs_assert(strstr(s, "port 1: p1 (dpdk port 101): strategy partial "
                         "(MARK, COUNT, AGE), rules 1, created 1, refused 0\n"
                         "  protocols: TCP UDP, marks: 16-bit (probed)"));
    ovs_assert(strstr(s, "  protocols: TCP UDP, marks: 24-bit (probed)"));
    ovs_assert(strstr(s, "  protocols: TCP UDP, marks: 16-bit "
                         "(net_cn10k)"));
    free(s);
    inst->class->conn_del(inst, &conn);
    inst->class->conn_del(inst, &conn2);
    teardown(inst);
}

/* Each rte_flow failure: the right error back to the core, nothing left
 * in hardware, counted by errno. */
static void
test_errors(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct ct_offload *inst = setup();
    struct ct_offload_conn conn, conn2;

    fake_port_add(1, 1);
    fake_port_add(2, 1);

    /* First direction fails: nothing created. */
    conn_init(&conn, AF_INET, IPPROTO_TCP, 1, 1, 2);
    fake.fail_create_in = 1;
    fake.fail_errno = ENOSPC;
    ovs_assert(offload(inst, &conn) == ENOSPC);
    ovs_assert(!conn.provider_data && !n_live_rules());
    ovs_assert(coverage_take(&counter_ct_offload_dpdk_enospc) == 1);

    /* Second direction fails: the first is destroyed. */
    fake.fail_create_in = 2;
    fake.fail_errno = EINVAL;
    int n_destroy = fake.n_destroy;
    ovs_assert(offload(inst, &conn) == EINVAL);
    ovs_assert(fake.n_destroy == n_destroy + 1);
    ovs_assert(!conn.provider_data && !n_live_rules());
    ovs_assert(coverage_take(&counter_ct_offload_dpdk_einval) == 1);

    fake.fail_create_in = 2;
    fake.fail_errno = ENOTSUP;
    ovs_assert(offload(inst, &conn) == EOPNOTSUPP);
    ovs_assert(!conn.provider_data && !n_live_rules());
    ovs_assert(coverage_take(&counter_ct_offload_dpdk_enotsup) == 1);

    /* A PMD that does not set rte_errno: still a failure. */
    fake.fail_create_in = 1;
    fake.fail_errno = 0;
    ovs_assert(offload(inst, &conn) == EIO);
    /* EBUSY, still after the retries. */
    fake.fail_creates = 4;
    fake.fail_errno = EBUSY;
    ovs_assert(offload(inst, &conn) == EBUSY);
    ovs_assert(!conn.provider_data && !n_live_rules());
    ovs_assert(coverage_take(&counter_ct_offload_dpdk_error) == 2);

    /* Then it works, and the failures show per port. */
    ovs_assert(!offload(inst, &conn));
    ovs_assert(n_live_rules() == 2);

    /* The same tuples in another zone cannot share the ports. */
    conn2 = conn;
    conn2.zone = 1;
    conn2.provider_data = NULL;
    ovs_assert(offload(inst, &conn2) == EEXIST);
    ovs_assert(n_live_rules() == 2);
    ovs_assert(coverage_take(&counter_ct_offload_dpdk_conflict) == 1);

    expect_debug(inst,
        "dpdk: 1 connections, 1 conflicts\n"
        "port 1: p1 (dpdk port 101): strategy partial (MARK, COUNT, AGE), "
        "rules 1, created 3, refused 0\n"
        "  protocols: TCP UDP, marks: 24-bit (probed), table: root, "
        "fate: RSS, retries 3, downgrades 0\n"
        "  failures: ENOSPC 1, ENOMEM 0, ENOTSUP 0, EINVAL 0, EAGAIN 1, "
        "other 1\n"
        "port 2: p2 (dpdk port 102): strategy partial (MARK, COUNT, AGE), "
        "rules 1, created 1, refused 0\n"
        "  protocols: TCP UDP, marks: 24-bit (probed), table: root, "
        "fate: RSS, retries 0, downgrades 0\n"
        "  failures: ENOSPC 0, ENOMEM 0, ENOTSUP 1, EINVAL 1, EAGAIN 0, "
        "other 0\n");

    /* A destroy that fails still forgets the connection. */
    fake.fail_destroy_in = 1;
    fake.fail_errno = EIO;
    inst->class->conn_del(inst, &conn);
    ovs_assert(!conn.provider_data && !n_live_rules());
    ovs_assert(coverage_take(&counter_ct_offload_dpdk_error) == 1);
    /* Not a conflict any more. */
    ovs_assert(!offload(inst, &conn2));
    inst->class->conn_del(inst, &conn2);

    /* Nothing to delete: no calls. */
    n_destroy = fake.n_destroy;
    inst->class->conn_del(inst, &conn);
    ovs_assert(fake.n_destroy == n_destroy);

    teardown(inst);
}

/* Hardware last-used from COUNT, made precise by AGE. */
static void
test_update(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct ct_offload *inst = setup();
    struct ct_offload_hw_stats stats;
    struct ct_offload_conn conn;
    struct fake_rule *orig, *reply;
    long long t0, used;

    fake_port_add(1, 1)->age = false;
    fake_port_add(2, 1);
    conn_init(&conn, AF_INET, IPPROTO_TCP, 1, 1, 2);
    ovs_assert(!offload(inst, &conn));
    orig = &fake.rules[0];
    reply = &fake.rules[1];

    /* No packets yet: unknown. */
    ovs_assert(!inst->class->conn_update(inst, &conn, &stats));
    ovs_assert(!stats.packets && !stats.bytes && !stats.last_used);

    /* Hits on one direction: used now. */
    orig->hits = 5;
    orig->bytes = 500;
    t0 = time_msec();
    ovs_assert(!inst->class->conn_update(inst, &conn, &stats));
    ovs_assert(stats.packets == 5 && stats.bytes == 500);
    ovs_assert(stats.last_used >= t0 && stats.last_used <= time_msec());
    used = stats.last_used;

    /* No new hits: the same time, however late conntrack asks. */
    xnanosleep(20 * 1000 * 1000);
    ovs_assert(!inst->class->conn_update(inst, &conn, &stats));
    ovs_assert(stats.packets == 5 && stats.last_used == used);

    /* Hits on the other direction, which has AGE: 3 s ago. */
    reply->hits = 2;
    reply->bytes = 100;
    reply->age_valid = true;
    reply->age_sec = 3;
    ovs_assert(!inst->class->conn_update(inst, &conn, &stats));
    ovs_assert(stats.packets == 7 && stats.bytes == 600);
    ovs_assert(stats.last_used == used);    /* Older than what we know. */

    /* New hits everywhere: now again. */
    orig->hits = 6;
    t0 = time_msec();
    ovs_assert(!inst->class->conn_update(inst, &conn, &stats));
    ovs_assert(stats.last_used >= t0);
    inst->class->conn_del(inst, &conn);

    /* AGE alone, on a new connection: now minus its seconds. */
    conn_init(&conn, AF_INET, IPPROTO_UDP, 2, 2, 2);
    ovs_assert(!offload(inst, &conn));
    orig = &fake.rules[fake.n_rules - 2];
    orig->hits = 1;
    orig->age_valid = true;
    orig->age_sec = 10;
    t0 = time_msec();
    ovs_assert(!inst->class->conn_update(inst, &conn, &stats));
    ovs_assert(stats.last_used >= t0 - 10000
               && stats.last_used <= time_msec() - 10000);

    /* One direction's query fails: the other one's counts. */
    orig->hits = 2;
    fake.fail_query_in = 1;
    fake.fail_errno = EIO;
    ovs_assert(!inst->class->conn_update(inst, &conn, &stats));
    ovs_assert(stats.packets == 1);
    /* Both fail: an error, and conntrack goes by its own timer. */
    fake.fail_query_all = true;
    ovs_assert(inst->class->conn_update(inst, &conn, &stats) == EIO);
    fake.fail_query_all = false;
    inst->class->conn_del(inst, &conn);

    /* Unknown connection. */
    ovs_assert(inst->class->conn_update(inst, &conn, &stats) == ENOENT);
    teardown(inst);
}

/* flush() removes every rule of the instance. */
static void
test_flush(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct ct_offload *inst = setup();
    struct ct_offload_conn conns[3];
    uint32_t marks[6];

    fake_port_add(1, 1);
    fake_port_add(2, 1);
    for (int i = 0; i < 3; i++) {
        conn_init(&conns[i], AF_INET, IPPROTO_TCP, 10 + i, 1, 2);
        ovs_assert(!offload(inst, &conns[i]));
    }
    ovs_assert(n_live_rules() == 6);
    for (int i = 0; i < 6; i++) {
        marks[i] = fake.rules[i].mark;
    }

    inst->class->flush(inst);
    ovs_assert(!n_live_rules());
    ovs_assert(fake.n_destroy == 6);
    for (int i = 0; i < 3; i++) {
        ovs_assert(!conns[i].provider_data);
    }
    for (int i = 0; i < 6; i++) {
        const struct ct_offload_conn *found;
        enum ct_offload_dir dir;

        ovs_assert(!ct_offload_dpdk_mark_lookup(inst, marks[i], &found,
                                                &dir));
    }
    char *s = debug_text(inst);
    ovs_assert(strstr(s, "dpdk: 0 connections"));
    ovs_assert(strstr(s, "rules 0, created 3"));
    free(s);
    teardown(inst);
}

/* The port stops, as netdev-dpdk does on MTU, queue and reset changes: its
 * rules go, as on mlx5 (and the fake asserts that no destroy or query uses
 * a dead rule's handle). */
static void
fake_port_stop(struct fake_port *p)
{
    ct_offload_dpdk_port_state_changed(p->port_id, false);
    for (size_t i = 0; i < fake.n_rules; i++) {
        if (fake.rules[i].port_id == p->port_id) {
            fake.rules[i].live = false;
        }
    }
    memset(&p->usage, 0, sizeof p->usage);
}

static void
fake_port_start(struct fake_port *p)
{
    ct_offload_dpdk_port_state_changed(p->port_id, true);
}

/* The live rule on 'p' with 'mark', or NULL. */
static const struct fake_rule *
fake_rule_find(const struct fake_port *p, uint32_t mark)
{
    for (size_t i = 0; i < fake.n_rules; i++) {
        const struct fake_rule *r = &fake.rules[i];

        if (r->live && r->port_id == p->port_id && r->mark == mark) {
            return r;
        }
    }
    return NULL;
}

/* A port stop takes its rules away: their handles are forgotten, never
 * destroyed or queried, and the rules come back on the next call once the
 * port runs, with the port as it is then. */
static void
test_restart(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct ct_offload *inst = setup();
    struct fake_port *p1 = fake_port_add(1, 2);
    struct fake_port *p2 = fake_port_add(2, 2);
    struct ct_offload_conn conns[3], other;
    struct ct_offload_hw_stats stats;
    uint32_t marks[3];
    int n_destroy;

    for (int i = 0; i < 3; i++) {
        conn_init(&conns[i], AF_INET, IPPROTO_TCP, 1000 + i, 1, 2);
        ovs_assert(!offload(inst, &conns[i]));
    }
    for (int i = 0; i < 3; i++) {
        marks[i] = fake.rules[2 * i + 1].mark;
        ovs_assert(fake.rules[2 * i + 1].port_id == p2->port_id);
    }
    ovs_assert(n_live_rules() == 6);

    /* p2 stops.  Updates query p1's rules only. */
    fake_port_stop(p2);
    n_destroy = fake.n_destroy;
    ovs_assert(n_live_rules() == 3);
    fake.rules[0].hits = 5;
    ovs_assert(!inst->class->conn_update(inst, &conns[0], &stats));
    ovs_assert(stats.packets == 5);

    /* A connection established meanwhile is not offloaded at all (its
     * rule on p1 is taken out again), nor counted as a failure of p2. */
    conn_init(&other, AF_INET, IPPROTO_UDP, 2000, 1, 2);
    ovs_assert(offload(inst, &other) == ENETDOWN);
    ovs_assert(fake.n_destroy == n_destroy + 1);

    /* A connection removed meanwhile: only its rule on p1 is destroyed. */
    inst->class->conn_del(inst, &conns[2]);
    ovs_assert(fake.n_destroy == n_destroy + 2);
    ovs_assert(n_live_rules() == 2);

    /* p2 runs again, with 4 queues now.  The next call brings its rules
     * back, with their marks, spread over the 4 queues. */
    p2->n_rxq = 4;
    fake_port_start(p2);
    ovs_assert(n_live_rules() == 2);
    ovs_assert(!inst->class->conn_update(inst, &conns[1], &stats));
    ovs_assert(n_live_rules() == 4);
    for (int i = 0; i < 2; i++) {
        const struct fake_rule *r = fake_rule_find(p2, marks[i]);

        ovs_assert(r);
        check_rule(r, &conns[i].tuple[CT_OFFLOAD_DIR_REPLY], p2, true);
        ovs_assert(r->actions[3].type == RTE_FLOW_ACTION_TYPE_RSS);
        ovs_assert(ALIGNED_CAST(const struct rte_flow_action_rss *,
                                r->actions[3].conf)->queue_num == 4);
    }
    ovs_assert(!fake_rule_find(p2, marks[2]));

    /* Marks still resolve, and the new rules count from 0. */
    const struct ct_offload_conn *found;
    enum ct_offload_dir dir;
    ovs_assert(ct_offload_dpdk_mark_lookup(inst, marks[1], &found, &dir)
               && found == &conns[1] && dir == CT_OFFLOAD_DIR_REPLY);
    for (size_t i = 0; i < fake.n_rules; i++) {
        if (fake.rules[i].live && fake.rules[i].port_id == p2->port_id) {
            fake.rules[i].hits = 1;
        }
    }
    ovs_assert(!inst->class->conn_update(inst, &conns[0], &stats));
    ovs_assert(stats.packets == 5 + 1);

    char *s = debug_text(inst);
    ovs_assert(strstr(s, "dpdk: 2 connections, 0 conflicts\n"));
    ovs_assert(strstr(s, "  restarts 1: handles forgotten 3, rules "
                      "re-offloaded 2, lost 0\n"));
    free(s);

    /* A stop of p1 with no start: removal forgets its handles. */
    fake_port_stop(p1);
    n_destroy = fake.n_destroy;
    for (int i = 0; i < 2; i++) {
        inst->class->conn_del(inst, &conns[i]);
    }
    ovs_assert(fake.n_destroy == n_destroy + 2);
    ovs_assert(!n_live_rules());
    fake_port_start(p1);
    teardown(inst);
}

/* A connection with one port that cannot carry it is offloaded in the
 * direction that arrives on the other one. */
static void
test_one_way(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct ct_offload *inst = setup();
    struct fake_port *p1 = fake_port_add(1, 1);
    struct fake_port *p2 = fake_port_add(2, 1);
    struct fake_port *p3 = fake_port_add(3, 1);
    struct ct_offload_conn conns[4];
    struct ct_offload_hw_stats stats;

    p2->mark = false;           /* Strategy none. */
    p3->dpdk = false;           /* No rte_flow: vhost-user, say. */

    /* Nothing known to carry connections yet: a connection from p3 is
     * passed on at once. */
    conn_init(&conns[0], AF_INET, IPPROTO_TCP, 1, 3, 1);
    ovs_assert(inst->class->conn_add(inst, &conns[0]) == EOPNOTSUPP);

    /* p1 -> p2 and p1 -> p3: the original direction. */
    conn_init(&conns[0], AF_INET, IPPROTO_TCP, 1, 1, 2);
    ovs_assert(!offload(inst, &conns[0]));
    ovs_assert(n_live_rules() == 1);
    check_rule(&fake.rules[0], &conns[0].tuple[CT_OFFLOAD_DIR_ORIG], p1,
               true);
    conn_init(&conns[1], AF_INET, IPPROTO_UDP, 2, 1, 3);
    ovs_assert(!offload(inst, &conns[1]));
    ovs_assert(n_live_rules() == 2);

    /* p3 -> p1, now that p1 is known: the reply direction. */
    conn_init(&conns[2], AF_INET6, IPPROTO_TCP, 3, 3, 1);
    ovs_assert(!offload(inst, &conns[2]));
    ovs_assert(n_live_rules() == 3);
    check_rule(&fake.rules[2], &conns[2].tuple[CT_OFFLOAD_DIR_REPLY], p1,
               true);
    ovs_assert(fake.rules[2].mark & 1);

    /* p2 -> p3: neither. */
    conn_init(&conns[3], AF_INET, IPPROTO_TCP, 4, 2, 3);
    ovs_assert(offload(inst, &conns[3]) == EOPNOTSUPP);
    ovs_assert(n_live_rules() == 3);

    /* Updates read the one rule. */
    fake.rules[2].hits = 7;
    ovs_assert(!inst->class->conn_update(inst, &conns[2], &stats));
    ovs_assert(stats.packets == 7 && stats.last_used);

    char *s = debug_text(inst);
    ovs_assert(strstr(s, "dpdk: 3 connections, 0 conflicts\n"
                      "one way: 2 original only, 1 reply only "
                      "(so far 2, 1)\n"));
    free(s);

    struct json *json = json_object_create();
    inst->class->get_debug(inst, NULL, json);
    s = json_to_string(json, JSSF_SORT);
    ovs_assert(strstr(s, "\"dpdk_original_only\":2"));
    ovs_assert(strstr(s, "\"dpdk_reply_only\":1"));
    free(s);
    json_destroy(json);

    for (int i = 0; i < 3; i++) {
        inst->class->conn_del(inst, &conns[i]);
    }
    ovs_assert(!n_live_rules());
    s = debug_text(inst);
    ovs_assert(strstr(s, "one way: 0 original only, 0 reply only "
                      "(so far 2, 1)\n"));
    free(s);
    teardown(inst);
}

/* Through the core: connections offloaded by the offload thread, marked
 * packets resolved to them, port removal and deletion. */
static void
test_core(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    static int conn_a, conn_b;  /* Stand-ins for conntrack's entries. */
    struct ct_offload_conn *oa, *ob;
    struct ct_offload_conn tmpl;
    struct ct_offload_dp *dp;
    struct ct_offload *inst;
    struct dp_packet *pkt;
    uint32_t mark_a_orig = 0, mark_a_reply = 0, mark_b = 0;

    ct_offload_set_enabled_for_testing(true);
    inst = setup();
    dp = ct_offload_dp_ref(DP_NAME);
    fake_port_add(1, 1);
    fake_port_add(2, 1);
    fake_port_add(3, 1);

    /* A: ports 1 -> 2.  B: ports 1 -> 3. */
    conn_init(&tmpl, AF_INET, IPPROTO_TCP, 1, 1, 2);
    oa = ct_offload_conn_add(dp, (struct conn *) &conn_a,
                             &tmpl.tuple[CT_OFFLOAD_DIR_ORIG],
                             &tmpl.tuple[CT_OFFLOAD_DIR_REPLY], 0, 0,
                             u32_to_odp(1));
    conn_init(&tmpl, AF_INET6, IPPROTO_UDP, 2, 1, 3);
    ob = ct_offload_conn_add(dp, (struct conn *) &conn_b,
                             &tmpl.tuple[CT_OFFLOAD_DIR_ORIG],
                             &tmpl.tuple[CT_OFFLOAD_DIR_REPLY], 7, 0,
                             u32_to_odp(1));
    ovs_assert(oa && ob);
    ct_offload_conn_seen(dp, oa, true, true, u32_to_odp(2));
    ct_offload_conn_seen(dp, ob, true, true, u32_to_odp(3));
    ct_offload_dp_wait(dp);
    ovs_assert(ct_offload_conn_in_hw(oa) && ct_offload_conn_in_hw(ob));
    ovs_assert(n_live_rules() == 4);

    for (size_t i = 0; i < fake.n_rules; i++) {
        const struct ct_offload_conn *found;
        enum ct_offload_dir dir;

        ovs_assert(ct_offload_dpdk_mark_lookup(inst, fake.rules[i].mark,
                                               &found, &dir));
        if (found == oa) {
            if (dir == CT_OFFLOAD_DIR_ORIG) {
                mark_a_orig = fake.rules[i].mark;
            } else {
                mark_a_reply = fake.rules[i].mark;
            }
        } else {
            ovs_assert(found == ob);
            if (dir == CT_OFFLOAD_DIR_REPLY) {
                mark_b = fake.rules[i].mark;
            }
        }
    }

    ovs_assert(mark_a_orig && mark_a_reply && mark_b);

    /* Marked packets reach conntrack with their connection. */
    pkt = dp_packet_new(64);
    pkt_metadata_init(&pkt->md, u32_to_odp(1));
    ovs_assert(ct_offload_dpdk_packet_recover(inst, pkt, mark_a_orig));
    ovs_assert(pkt->md.conn == (struct conn *) &conn_a && !pkt->md.reply);
    pkt_metadata_init(&pkt->md, u32_to_odp(2));
    ovs_assert(ct_offload_dpdk_packet_recover(inst, pkt, mark_a_reply));
    ovs_assert(pkt->md.conn == (struct conn *) &conn_a && pkt->md.reply);
    pkt_metadata_init(&pkt->md, u32_to_odp(3));
    ovs_assert(ct_offload_dpdk_packet_recover(inst, pkt, mark_b));
    ovs_assert(pkt->md.conn == (struct conn *) &conn_b && pkt->md.reply);
    /* A flow mark is left to flow offload. */
    pkt_metadata_init(&pkt->md, u32_to_odp(1));
    ovs_assert(!ct_offload_dpdk_packet_recover(inst, pkt, 42));
    ovs_assert(!pkt->md.conn);

    /* Port 2 goes (first from the datapath, as dpif-offload-dpdk does): A
     * leaves hardware, B stays, show forgets port 2. */
    char *s = debug_text(inst);
    ovs_assert(strstr(s, "port 2: p2"));
    free(s);
    fake.ports[1].gone = true;
    ct_offload_port_del(inst, u32_to_odp(2));
    s = debug_text(inst);
    ovs_assert(!strstr(s, "port 2: p2") && strstr(s, "port 3: p3"));
    free(s);
    ovs_assert(!ct_offload_conn_in_hw(oa) && ct_offload_conn_in_hw(ob));
    ovs_assert(n_live_rules() == 2);
    pkt_metadata_init(&pkt->md, u32_to_odp(1));
    ovs_assert(ct_offload_dpdk_packet_recover(inst, pkt, mark_a_orig));
    ovs_assert(!pkt->md.conn);

    /* Conntrack deletes both, then frees them. */
    ct_offload_conn_del(dp, oa);
    ct_offload_conn_del(dp, ob);
    ct_offload_dp_wait(dp);
    ovs_assert(!n_live_rules());
    pkt_metadata_init(&pkt->md, u32_to_odp(3));
    ovs_assert(ct_offload_dpdk_packet_recover(inst, pkt, mark_b));
    ovs_assert(!pkt->md.conn);
    ct_offload_conn_free(oa);
    ct_offload_conn_free(ob);

    dp_packet_delete(pkt);
    teardown(inst);
    ct_offload_dp_unref(dp);
    ct_offload_set_enabled_for_testing(false);
}

/* Insertion rate.
 *
 * insertion PROFILE RATE SECONDS [QUEUE_SIZE]
 *
 * A benchmark, run by tools/bench-insertion.sh and asserting nothing about
 * time: the real core and DPDK provider against a fake NIC that answers as
 * the emulation's PMD 'PROFILE' does and takes as long per create as the
 * profile says.  This thread offers RATE new connections per second for
 * SECONDS seconds, queueing for each the "add" and "established" events
 * that conntrack queues for a connection that is answered at once (a
 * two-port TCP connection, 10.x.y.z -> 10.100.0.1:80); the offload thread
 * programs them as it can.  Prints "key=value" lines.
 *
 * The profile's capacities are lifted: a full table refuses at once and
 * would measure table size, not the insertion rate.  Create latencies are
 * spent spinning, not sleeping: nanosleep() oversleeps a few microseconds
 * by tens of them, which would swamp 2 us and 10 us latencies.
 *
 * The queue depth is sampled by this thread between bursts; it is the
 * number of events queued after the event of the connection the provider
 * saw last, so it is exact to within one batch of the offload thread
 * (CT_OFFLOAD_BATCH_MAX events). */

extern struct coverage_counter counter_ct_offload_queued;
extern struct coverage_counter counter_ct_offload_dropped;

#define INS_SERVER 0x0a640001           /* 10.100.0.1 */
#define INS_SPORT_BASE 1024
#define INS_SPORT_BITS 15

static struct {
    struct netdev_dpdk_flow_emu_profile profile;

    /* Rules: what destroy() must undo in the ports' usage.  Handles are
     * indices + 1; freed ones are reused. */
    struct ins_rule {
        uint16_t port_id;
        bool live, nonroot, rss, counter;
    } *rules;
    size_t n_rules, allocated_rules;
    size_t *free_rules;
    size_t n_free_rules, allocated_free_rules;
    size_t n_live_rules;

    /* Create times, microseconds. */
    float *create_us;
    size_t n_create_us, allocated_create_us;

    /* Per connection offered: the count of events queued by this thread
     * once its "add" event was queued.  Written before the event is
     * queued, read by the offload thread after it polled it. */
    uint32_t *add_seq;
    size_t n_conns_max;

    /* From the offload thread. */
    atomic_uint64_t last_seq;           /* 'add_seq' of the last connection
                                         * the provider saw. */
    atomic_uint64_t n_est_ok;           /* Connections now in hardware. */
    atomic_uint64_t n_est_failed;
    atomic_uint64_t n_add_refused;
    atomic_uint64_t est_ns;             /* Total time in
                                         * conn_established(). */
    atomic_uint64_t n_est;
} ins;

static long long
ins_now_ns(void)
{
    struct timespec ts;

    xclock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
ins_spin_us(unsigned int us)
{
    long long end = ins_now_ns() + us * 1000LL;

    while (ins_now_ns() < end) {
        continue;
    }
}

static void
ins_tuples(size_t i, struct ct_dpif_tuple *o, struct ct_dpif_tuple *r)
{
    memset(o, 0, sizeof *o);
    o->l3_type = AF_INET;
    o->ip_proto = IPPROTO_TCP;
    o->src.ip = htonl(0x0a000000 | (i >> INS_SPORT_BITS));
    o->dst.ip = htonl(INS_SERVER);
    o->src_port = htons(INS_SPORT_BASE
                        + (i & ((1u << INS_SPORT_BITS) - 1)));
    o->dst_port = htons(80);

    *r = *o;
    r->src = o->dst;
    r->dst = o->src;
    r->src_port = o->dst_port;
    r->dst_port = o->src_port;
}

static size_t
ins_conn_index(const struct ct_offload_conn *conn)
{
    const struct ct_dpif_tuple *o = &conn->tuple[CT_OFFLOAD_DIR_ORIG];

    return (((size_t) ntohl(o->src.ip) & 0xffffff) << INS_SPORT_BITS)
           | (ntohs(o->src_port) - INS_SPORT_BASE);
}

static void
ins_saw(const struct ct_offload_conn *conn, uint32_t offset)
{
    size_t i = ins_conn_index(conn);

    ovs_assert(i < ins.n_conns_max);
    atomic_store_relaxed(&ins.last_seq, ins.add_seq[i] + offset);
}

static struct rte_flow *
ins_create(uint16_t port_id, const struct rte_flow_attr *attr,
           const struct rte_flow_item pattern[],
           const struct rte_flow_action actions[],
           struct rte_flow_error *error)
{
    struct fake_port *p = fake_port_by_id(port_id);
    long long start = ins_now_ns();
    struct ins_rule *r;
    bool drops;
    size_t idx;

    if (netdev_dpdk_flow_emu_check(p->profile, true, p->n_rxq, &p->usage,
                                   attr, pattern, actions, error, &drops)) {
        return NULL;
    }
    if (ins.n_free_rules) {
        idx = ins.free_rules[--ins.n_free_rules];
    } else {
        if (ins.n_rules >= ins.allocated_rules) {
            ins.rules = x2nrealloc(ins.rules, &ins.allocated_rules,
                                   sizeof *ins.rules);
        }
        idx = ins.n_rules++;
    }
    r = &ins.rules[idx];
    *r = (struct ins_rule) {
        .port_id = port_id,
        .live = true,
        .nonroot = attr->group != 0,
    };
    for (const struct rte_flow_action *a = actions;
         a->type != RTE_FLOW_ACTION_TYPE_END; a++) {
        r->rss = r->rss || a->type == RTE_FLOW_ACTION_TYPE_RSS;
        r->counter = (r->counter || a->type == RTE_FLOW_ACTION_TYPE_COUNT
                      || a->type == RTE_FLOW_ACTION_TYPE_AGE);
    }
    p->usage.n_rules[r->nonroot ? EMU_NON_ROOT : EMU_ROOT]++;
    p->usage.n_rss += r->rss;
    p->usage.n_counters += r->counter;
    ins.n_live_rules++;

    ins_spin_us(p->profile->latency_us[r->nonroot ? EMU_NON_ROOT
                                                  : EMU_ROOT]);
    if (ins.n_create_us >= ins.allocated_create_us) {
        ins.create_us = x2nrealloc(ins.create_us, &ins.allocated_create_us,
                                   sizeof *ins.create_us);
    }
    ins.create_us[ins.n_create_us++] = (ins_now_ns() - start) / 1e3;
    return (struct rte_flow *) (uintptr_t) (idx + 1);
}

static int
ins_destroy(uint16_t port_id, struct rte_flow *flow,
            struct rte_flow_error *error OVS_UNUSED)
{
    size_t idx = (uintptr_t) flow - 1;
    struct fake_port *p = fake_port_by_id(port_id);
    struct ins_rule *r;

    ovs_assert(idx < ins.n_rules);
    r = &ins.rules[idx];
    ovs_assert(r->live && r->port_id == port_id);
    r->live = false;
    p->usage.n_rules[r->nonroot ? EMU_NON_ROOT : EMU_ROOT]--;
    p->usage.n_rss -= r->rss;
    p->usage.n_counters -= r->counter;
    ins.n_live_rules--;
    if (ins.n_free_rules >= ins.allocated_free_rules) {
        ins.free_rules = x2nrealloc(ins.free_rules, &ins.allocated_free_rules,
                                    sizeof *ins.free_rules);
    }
    ins.free_rules[ins.n_free_rules++] = idx;
    return 0;
}

static int
ins_query(uint16_t port_id OVS_UNUSED, struct rte_flow *flow OVS_UNUSED,
          const struct rte_flow_action *action OVS_UNUSED,
          void *data OVS_UNUSED, struct rte_flow_error *error)
{
    error->message = "not in this benchmark";
    return -ENOTSUP;
}

static void
ins_backoff(unsigned int usec)
{
    xnanosleep(usec * 1000LL);
}

static const struct ct_offload_dpdk_flow_api ins_api = {
    .port_resolve = fake_port_resolve,
    .validate = fake_validate,
    .create = ins_create,
    .destroy = ins_destroy,
    .query = ins_query,
    .backoff = ins_backoff,
};

/* The DPDK provider, watched: which connection the offload thread is at,
 * and how its connections fare. */
static int
ins_conn_add(struct ct_offload *inst, struct ct_offload_conn *conn)
{
    int error;

    ins_saw(conn, 0);
    error = ct_offload_dpdk_class.conn_add(inst, conn);
    if (error) {
        uint64_t orig;

        atomic_add_relaxed(&ins.n_add_refused, 1, &orig);
    }
    return error;
}

static int
ins_conn_established(struct ct_offload *inst, struct ct_offload_conn *conn,
                     struct netdev *reply_netdev)
{
    long long start = ins_now_ns();
    uint64_t orig;
    int error;

    ins_saw(conn, 1);
    error = ct_offload_dpdk_class.conn_established(inst, conn, reply_netdev);
    atomic_add_relaxed(error ? &ins.n_est_failed : &ins.n_est_ok, 1, &orig);
    atomic_add_relaxed(&ins.est_ns, ins_now_ns() - start, &orig);
    atomic_add_relaxed(&ins.n_est, 1, &orig);
    return error;
}

static uint64_t
ins_read(atomic_uint64_t *counter)
{
    uint64_t value;

    atomic_read_relaxed(counter, &value);
    return value;
}

static int
ins_compare_floats(const void *a_, const void *b_)
{
    const float *a = a_, *b = b_;

    return *a < *b ? -1 : *a > *b;
}

static void
ins_put(const char *key, double value)
{
    /* Counts in full: "%g" would print 1234567 as 1.23457e+06. */
    if (value > -1e15 && value < 1e15
        && value == (double) (long long int) value) {
        printf("%s=%lld\n", key, (long long int) value);
    } else {
        printf("%s=%.6g\n", key, value);
    }
}

/* The strategy of port 1 as show has it ("partial (MARK, COUNT, AGE)") and
 * its table ("group 1"), or "?". */
static void
ins_put_strategy(struct ct_offload *inst)
{
    char *s = debug_text(inst);
    const char *keys[] = { "strategy ", "table: " };
    const char *names[] = { "strategy", "table" };
    const char *ends[] = { ", rules ", ", fate" };
    const char *port = strstr(s, "port 1: ");

    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        const char *start = port ? strstr(port, keys[i]) : NULL;
        const char *end = start ? strstr(start, ends[i]) : NULL;

        if (end) {
            start += strlen(keys[i]);
            printf("%s=%.*s\n", names[i], (int) (end - start), start);
        } else {
            printf("%s=?\n", names[i]);
        }
    }
    free(s);
}

static void
test_insertion(struct ovs_cmdl_context *ctx)
{
    const struct netdev_dpdk_flow_emu_profile *base;
    const char *profile_name = ctx->argv[1];
    double rate = strtod(ctx->argv[2], NULL);
    double seconds = strtod(ctx->argv[3], NULL);
    struct ct_offload_class class = ct_offload_dpdk_class;
    static int stand_in;        /* For conntrack's connections. */

    base = netdev_dpdk_flow_emu_profile_find(profile_name);
    if (!base) {
        ovs_fatal(0, "%s: no such profile", profile_name);
    }
    /* Two 24-bit marks per connection. */
    if (!(rate > 0) || !(seconds > 0) || rate * seconds > 4e6) {
        ovs_fatal(0, "RATE and SECONDS must be positive, with at most "
                  "4000000 connections in all");
    }
    if (ctx->argc > 4) {
        struct smap cfg = SMAP_INITIALIZER(&cfg);

        smap_add(&cfg, "hw-offload-ct-queue-size", ctx->argv[4]);
        ct_offload_set_global_cfg(&cfg);
        smap_destroy(&cfg);
    }

    memset(&ins, 0, sizeof ins);
    ins.profile = *base;
    memset(ins.profile.capacity, 0, sizeof ins.profile.capacity);
    ins.n_conns_max = rate * seconds + 2;
    ins.add_seq = xcalloc(ins.n_conns_max, sizeof *ins.add_seq);
    struct ct_offload_conn **conns = xcalloc(ins.n_conns_max,
                                             sizeof *conns);

    class.conn_add = ins_conn_add;
    class.conn_established = ins_conn_established;

    ct_offload_set_enabled_for_testing(true);
    memset(&fake, 0, sizeof fake);
    ct_offload_dpdk_set_flow_api(&ins_api);
    struct ct_offload *inst;
    ovs_assert(!ct_offload_create(&class, NULL, DP_NAME, &inst));
    struct ct_offload_dp *dp = ct_offload_dp_ref(DP_NAME);
    fake_port_add_profile(1, 2, &ins.profile);
    fake_port_add_profile(2, 2, &ins.profile);
    coverage_take(&counter_ct_offload_queued);
    coverage_take(&counter_ct_offload_dropped);

    /* Offer. */
    uint64_t seq = 0;           /* Events queued by this thread. */
    uint64_t n_dropped = 0, n_add_dropped = 0;
    uint64_t peak_depth = 0;
    double depth_ns = 0;        /* Depth integrated over time. */
    uint64_t n_est_mid = 0;
    long long mid_ns = 0;
    long long duration_ns = seconds * 1e9;
    size_t n = 0;
    long long start = ins_now_ns(), now = start, last = start;

    for (;;) {
        size_t target;
        uint64_t depth;

        now = ins_now_ns();
        depth = seq - MIN(seq, ins_read(&ins.last_seq));
        depth_ns += (double) depth * (now - last);
        peak_depth = MAX(peak_depth, depth);
        last = now;
        if (now - start >= duration_ns) {
            break;
        }
        if (!mid_ns && now - start >= duration_ns / 2) {
            mid_ns = now;
            n_est_mid = ins_read(&ins.n_est_ok);
        }

        /* Bursts of at most 256, so that the depth is sampled often. */
        target = MIN(rate * (now - start) / 1e9, ins.n_conns_max);
        if (n >= target) {
            ovsrcu_quiesce();
            xnanosleep(50 * 1000);
            continue;
        }
        for (size_t end = MIN(target, n + 256); n < end; n++) {
            struct ct_dpif_tuple orig, reply;
            struct ct_offload_conn *oc;

            ins_tuples(n, &orig, &reply);
            ins.add_seq[n] = seq + 1;
            oc = ct_offload_conn_add(dp, (struct conn *) &stand_in, &orig,
                                     &reply, 0, 0, u32_to_odp(1));
            if (!oc) {
                n_add_dropped++;
                n_dropped++;
                coverage_take(&counter_ct_offload_dropped);
                continue;
            }
            /* Counted, not assumed: conn_seen() queues nothing for a
             * connection that a provider already refused. */
            seq += coverage_take(&counter_ct_offload_queued);
            conns[n] = oc;
            ct_offload_conn_seen(dp, oc, true, true, u32_to_odp(2));
            if (coverage_take(&counter_ct_offload_dropped)) {
                n_dropped++;
            }
            seq += coverage_take(&counter_ct_offload_queued);
        }
        ovsrcu_quiesce();
    }
    double elapsed = (now - start) / 1e9;
    uint64_t n_in_hw_end = ins_read(&ins.n_est_ok);
    uint64_t depth_end = seq - MIN(seq, ins_read(&ins.last_seq));

    /* Drain. */
    ct_offload_dp_wait(dp);
    double drain_s = (ins_now_ns() - now) / 1e9;
    uint64_t n_in_hw = ins_read(&ins.n_est_ok);
    uint64_t n_queued = seq + coverage_take(&counter_ct_offload_queued);

    printf("profile=%s\n", profile_name);
    ins_put_strategy(inst);
    ins_put("profile_latency_root_us", base->latency_us[EMU_ROOT]);
    ins_put("profile_latency_group_us", base->latency_us[EMU_NON_ROOT]);
    ins_put("seconds", elapsed);
    ins_put("rate", rate);
    ins_put("offered", n);
    ins_put("offered_per_s", n / elapsed);
    ins_put("events_queued", n_queued);
    ins_put("events_dropped", n_dropped);
    ins_put("add_dropped", n_add_dropped);
    ins_put("carried", n_in_hw_end);
    ins_put("carried_per_s", n_in_hw_end / elapsed);
    ins_put("carried_per_s_2nd_half",
            mid_ns ? (n_in_hw_end - n_est_mid) / ((now - mid_ns) / 1e9) : 0);
    ins_put("share_sw", n ? 1.0 - (double) n_in_hw_end / n : 0);
    ins_put("depth_peak", peak_depth);
    ins_put("depth_mean", depth_ns / (now - start));
    ins_put("depth_end", depth_end);
    ins_put("drain_s", drain_s);
    ins_put("carried_final", n_in_hw);
    ins_put("share_sw_final", n ? 1.0 - (double) n_in_hw / n : 0);
    ins_put("add_refused", ins_read(&ins.n_add_refused));
    ins_put("established_failed", ins_read(&ins.n_est_failed));
    ins_put("creates", ins.n_create_us);
    if (ins.n_create_us) {
        double sum = 0;

        for (size_t i = 0; i < ins.n_create_us; i++) {
            sum += ins.create_us[i];
        }
        qsort(ins.create_us, ins.n_create_us, sizeof *ins.create_us,
              ins_compare_floats);
        ins_put("create_us_mean", sum / ins.n_create_us);
        ins_put("create_us_p50", ins.create_us[ins.n_create_us / 2]);
        ins_put("create_us_p99",
                ins.create_us[(size_t) (ins.n_create_us * 0.99)]);
        ins_put("create_us_max", ins.create_us[ins.n_create_us - 1]);
    }
    uint64_t n_est = ins_read(&ins.n_est);
    ins_put("established_us_mean",
            n_est ? ins_read(&ins.est_ns) / 1e3 / n_est : 0);
    fflush(stdout);

    /* Conntrack removes the connections. */
    for (size_t i = 0; i < n; i++) {
        if (conns[i]) {
            ct_offload_conn_del(dp, conns[i]);
            ct_offload_conn_free(conns[i]);
        }
        if (!(i % 4096)) {
            ovsrcu_quiesce();
        }
    }
    ct_offload_dp_wait(dp);
    ct_offload_destroy(inst);
    ct_offload_dp_unref(dp);
    ct_offload_dpdk_set_flow_api(NULL);
    ct_offload_set_enabled_for_testing(false);
    ovs_assert(!ins.n_live_rules);

    free(conns);
    free(ins.add_seq);
    free(ins.rules);
    free(ins.free_rules);
    free(ins.create_us);
}

static const struct ovs_cmdl_command commands[] = {
    {"rules", NULL, 0, 0, test_rules, OVS_RO},
    {"probe", NULL, 0, 0, test_probe, OVS_RO},
    {"profiles", NULL, 0, 0, test_profiles, OVS_RO},
    {"profile-facts", NULL, 0, 0, test_profile_facts, OVS_RO},
    {"jump", NULL, 0, 0, test_jump, OVS_RO},
    {"retry", NULL, 0, 0, test_retry, OVS_RO},
    {"downgrade", NULL, 0, 0, test_downgrade, OVS_RO},
    {"narrow", NULL, 0, 0, test_narrow, OVS_RO},
    {"errors", NULL, 0, 0, test_errors, OVS_RO},
    {"update", NULL, 0, 0, test_update, OVS_RO},
    {"flush", NULL, 0, 0, test_flush, OVS_RO},
    {"core", NULL, 0, 0, test_core, OVS_RO},
    {"restart", NULL, 0, 0, test_restart, OVS_RO},
    {"one-way", NULL, 0, 0, test_one_way, OVS_RO},
    {"insertion", "PROFILE RATE SECONDS [QUEUE_SIZE]", 3, 4, test_insertion,
     OVS_RO},
    {NULL, NULL, 0, 0, NULL, OVS_RO},
};

static void
test_ct_offload_dpdk_main(int argc, char *argv[])
{
    struct ovs_cmdl_context ctx = {
        .argc = argc - 1,
        .argv = argv + 1,
    };

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    ovs_cmdl_run_command(&ctx, commands);
}

OVSTEST_REGISTER("test-ct-offload-dpdk", test_ct_offload_dpdk_main);
