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

#include "ct-offload-dummy.h"

#include <errno.h>
#include <sys/socket.h>

#include "cmap.h"
#include "ct-dpif.h"
#include "ct-offload-provider.h"
#include "dp-packet.h"
#include "flow.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/vlog.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "svec.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ct_offload_dummy);

/* What the emulated NIC matches on: the packet's tuple as it arrives and
 * its input port.  The zone is not on the wire, so two connections that
 * differ only by zone cannot both be carried on one port, as on real
 * hardware. */
struct dummy_ct_key {
    struct ct_dpif_tuple tuple;
    odp_port_t in_port;
    uint32_t pad;               /* Zero: the key is hashed as bytes. */
};

/* One direction of an offloaded connection. */
struct dummy_ct_entry {
    struct cmap_node node;      /* In 'table'. */
    struct dummy_ct_key key;
    const struct ct_offload_conn *conn;
    enum ct_offload_dir dir;
    atomic_uint64_t packets;
    atomic_uint64_t bytes;
    atomic_llong last_used;
};

/* Both directions; a connection's 'provider_data'. */
struct dummy_ct_flow {
    struct dummy_ct_entry dirs[CT_OFFLOAD_N_DIRS];
};

#define DEFAULT_CAPACITY 65536

struct ct_offload_dummy {
    struct ct_offload up;
    struct ovs_list list_node;  /* In 'instances'. */

    /* Modified under the instance mutex (by the core's calls), read under
     * RCU by the receive path. */
    struct cmap table;
    size_t n_flows;

    /* Knobs, set with ct-offload-dummy/set. */
    atomic_uint32_t capacity;       /* Most connections carried. */
    atomic_uint32_t fail_every;     /* Fail every Nth insertion (0: no). */
    atomic_uint32_t fail_percent;   /* Fail this percentage of them. */
    atomic_uint32_t delay_ms;       /* Slow down each insertion. */
    atomic_uint32_t seed;           /* For 'fail_percent'. */

    /* Statistics. */
    atomic_uint64_t n_inserts;
    atomic_uint64_t n_full;
    atomic_uint64_t n_injected;
    atomic_uint64_t n_conflicts;
};

static struct ovs_mutex instances_mutex = OVS_MUTEX_INITIALIZER;
static struct ovs_list instances OVS_GUARDED_BY(instances_mutex)
    = OVS_LIST_INITIALIZER(&instances);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

static void ct_offload_dummy_unixctl_init(void);

static struct ct_offload_dummy *
dummy_cast(const struct ct_offload *inst)
{
    return CONTAINER_OF(inst, struct ct_offload_dummy, up);
}

static uint32_t
dummy_key_hash(const struct dummy_ct_key *key)
{
    return hash_bytes(key, sizeof *key, 0);
}

static void
dummy_key_init(struct dummy_ct_key *key, const struct ct_dpif_tuple *tuple,
               odp_port_t in_port)
{
    memset(key, 0, sizeof *key);
    key->tuple = *tuple;
    key->in_port = in_port;
}

static const struct dummy_ct_entry *
dummy_lookup(const struct ct_offload_dummy *dummy,
             const struct dummy_ct_key *key)
{
    const struct dummy_ct_entry *entry;

    CMAP_FOR_EACH_WITH_HASH (entry, node, dummy_key_hash(key),
                             &dummy->table) {
        if (!memcmp(&entry->key, key, sizeof *key)) {
            return entry;
        }
    }
    return NULL;
}

static int
dummy_create(const struct ct_offload_class *class OVS_UNUSED,
             struct dpif_offload *dpif_offload OVS_UNUSED,
             struct ct_offload **instp)
{
    struct ct_offload_dummy *dummy = xzalloc(sizeof *dummy);

    cmap_init(&dummy->table);
    atomic_init(&dummy->capacity, DEFAULT_CAPACITY);
    atomic_init(&dummy->fail_every, 0);
    atomic_init(&dummy->fail_percent, 0);
    atomic_init(&dummy->delay_ms, 0);
    atomic_init(&dummy->seed, 1);
    atomic_init(&dummy->n_inserts, 0);
    atomic_init(&dummy->n_full, 0);
    atomic_init(&dummy->n_injected, 0);
    atomic_init(&dummy->n_conflicts, 0);

    ovs_mutex_lock(&instances_mutex);
    ovs_list_push_back(&instances, &dummy->list_node);
    ovs_mutex_unlock(&instances_mutex);
    ct_offload_dummy_unixctl_init();

    *instp = &dummy->up;
    return 0;
}

static void
dummy_remove_flow(struct ct_offload_dummy *dummy, struct dummy_ct_flow *flow)
{
    for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
        struct dummy_ct_entry *entry = &flow->dirs[i];

        cmap_remove(&dummy->table, &entry->node, dummy_key_hash(&entry->key));
    }
    dummy->n_flows--;
    /* The receive path may still be looking at it. */
    ovsrcu_postpone(free, flow);
}

static void
dummy_flush(struct ct_offload *inst)
{
    struct ct_offload_dummy *dummy = dummy_cast(inst);
    struct dummy_ct_entry *entry;

    CMAP_FOR_EACH (entry, node, &dummy->table) {
        if (entry->dir == CT_OFFLOAD_DIR_ORIG) {
            dummy_remove_flow(dummy, CONTAINER_OF(entry, struct dummy_ct_flow,
                                                  dirs[CT_OFFLOAD_DIR_ORIG]));
        }
    }
}

static void
dummy_destroy(struct ct_offload *inst)
{
    struct ct_offload_dummy *dummy = dummy_cast(inst);

    dummy_flush(inst);
    ovs_assert(!dummy->n_flows);
    ovs_mutex_lock(&instances_mutex);
    ovs_list_remove(&dummy->list_node);
    ovs_mutex_unlock(&instances_mutex);
    cmap_destroy(&dummy->table);
    free(dummy);
}

static bool
dummy_owns_port(const struct ct_offload *inst, odp_port_t port)
{
    /* Unit tests run without a dpif-offload instance: all ports are ours. */
    return !inst->dpif_offload || ct_offload_get_netdev(inst, port);
}

static bool
dummy_can_offload(const struct ct_offload *inst,
                  const struct ct_offload_conn *conn)
{
    switch (conn->tuple[CT_OFFLOAD_DIR_ORIG].ip_proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        return dummy_owns_port(inst, conn->in_port[CT_OFFLOAD_DIR_ORIG]);
    default:
        return false;
    }
}

/* Failure injection: true if this insertion must fail. */
static bool
dummy_inject_failure(struct ct_offload_dummy *dummy)
{
    uint32_t every, percent;
    uint64_t n;

    atomic_add_relaxed(&dummy->n_inserts, 1, &n);
    n++;
    atomic_read_relaxed(&dummy->fail_every, &every);
    atomic_read_relaxed(&dummy->fail_percent, &percent);
    if (every && n % every == 0) {
        return true;
    }
    if (percent) {
        /* A private generator, so that a seed gives the same sequence
         * whatever else uses random_uint32(). */
        uint32_t seed;

        atomic_read_relaxed(&dummy->seed, &seed);
        seed = seed * 1103515245 + 12345;
        atomic_store_relaxed(&dummy->seed, seed);
        return (seed >> 16) % 100 < percent;
    }
    return false;
}

static int
dummy_conn_established(struct ct_offload *inst, struct ct_offload_conn *conn,
                       struct netdev *reply_netdev OVS_UNUSED)
{
    struct ct_offload_dummy *dummy = dummy_cast(inst);
    struct dummy_ct_key keys[CT_OFFLOAD_N_DIRS];
    uint32_t delay, capacity;
    uint64_t orig;

    if (!dummy_owns_port(inst, conn->in_port[CT_OFFLOAD_DIR_REPLY])) {
        return EOPNOTSUPP;
    }

    atomic_read_relaxed(&dummy->delay_ms, &delay);
    if (delay) {
        xnanosleep((uint64_t) delay * 1000 * 1000);
    }
    if (dummy_inject_failure(dummy)) {
        atomic_add_relaxed(&dummy->n_injected, 1, &orig);
        return EIO;
    }
    atomic_read_relaxed(&dummy->capacity, &capacity);
    if (dummy->n_flows >= capacity) {
        atomic_add_relaxed(&dummy->n_full, 1, &orig);
        return ENOSPC;
    }

    for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
        dummy_key_init(&keys[i], &conn->tuple[i], conn->in_port[i]);
        if (dummy_lookup(dummy, &keys[i])) {
            /* Same tuple and port, another zone: the NIC cannot tell. */
            atomic_add_relaxed(&dummy->n_conflicts, 1, &orig);
            return EEXIST;
        }
    }

    struct dummy_ct_flow *flow = xzalloc(sizeof *flow);
    for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
        struct dummy_ct_entry *entry = &flow->dirs[i];

        entry->key = keys[i];
        entry->conn = conn;
        entry->dir = i;
        atomic_init(&entry->packets, 0);
        atomic_init(&entry->bytes, 0);
        atomic_init(&entry->last_used, 0);
        cmap_insert(&dummy->table, &entry->node, dummy_key_hash(&keys[i]));
    }
    dummy->n_flows++;
    conn->provider_data = flow;
    return 0;
}

static void
dummy_conn_del(struct ct_offload *inst, struct ct_offload_conn *conn)
{
    if (conn->provider_data) {
        dummy_remove_flow(dummy_cast(inst), conn->provider_data);
        conn->provider_data = NULL;
    }
}

static int
dummy_conn_update(struct ct_offload *inst OVS_UNUSED,
                  struct ct_offload_conn *conn,
                  struct ct_offload_hw_stats *stats)
{
    struct dummy_ct_flow *flow = conn->provider_data;

    memset(stats, 0, sizeof *stats);
    if (!flow) {
        return ENOENT;
    }
    for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
        struct dummy_ct_entry *entry = &flow->dirs[i];
        uint64_t packets, bytes;
        long long used;

        atomic_read_relaxed(&entry->packets, &packets);
        atomic_read_relaxed(&entry->bytes, &bytes);
        atomic_read_relaxed(&entry->last_used, &used);
        stats->packets += packets;
        stats->bytes += bytes;
        stats->last_used = MAX(stats->last_used, used);
    }
    return 0;
}

static void
dummy_get_debug(const struct ct_offload *inst, struct ds *ds,
                struct json *json)
{
    struct ct_offload_dummy *dummy = dummy_cast(inst);
    uint64_t full, injected, conflicts;
    uint32_t capacity;

    atomic_read_relaxed(&dummy->capacity, &capacity);
    atomic_read_relaxed(&dummy->n_full, &full);
    atomic_read_relaxed(&dummy->n_injected, &injected);
    atomic_read_relaxed(&dummy->n_conflicts, &conflicts);
    if (ds) {
        ds_put_format(ds, "table: %"PRIuSIZE"/%"PRIu32" connections, "
                      "full %"PRIu64", injected failures %"PRIu64
                      ", conflicts %"PRIu64"\n", dummy->n_flows, capacity,
                      full, injected, conflicts);
    } else {
        json_object_put(json, "table_used", json_integer_create(
                            dummy->n_flows));
        json_object_put(json, "table_capacity",
                        json_integer_create(capacity));
        json_object_put(json, "table_full", json_integer_create(full));
        json_object_put(json, "injected_failures",
                        json_integer_create(injected));
        json_object_put(json, "conflicts", json_integer_create(conflicts));
    }
}

/* Receive path. */

static bool
dummy_packet_key(struct dp_packet *packet, odp_port_t port, bool forwards,
                 struct dummy_ct_key *key)
{
    struct ct_dpif_tuple tuple;
    struct flow flow;

    flow_extract(packet, &flow);
    if (flow.nw_frag & FLOW_NW_FRAG_ANY) {
        return false;
    }

    memset(&tuple, 0, sizeof tuple);
    if (flow.dl_type == htons(ETH_TYPE_IP)) {
        tuple.l3_type = AF_INET;
        tuple.src.ip = flow.nw_src;
        tuple.dst.ip = flow.nw_dst;
    } else if (flow.dl_type == htons(ETH_TYPE_IPV6)) {
        tuple.l3_type = AF_INET6;
        tuple.src.in6 = flow.ipv6_src;
        tuple.dst.in6 = flow.ipv6_dst;
    } else {
        return false;
    }
    tuple.ip_proto = flow.nw_proto;

    const void *l4 = dp_packet_l4(packet);
    switch (flow.nw_proto) {
    case IPPROTO_TCP:
        /* A NIC that only classifies matches the 5-tuple, whatever the
         * flags: software checks each packet anyway.  One that forwards
         * hands packets that change TCP state to software, as the kernel
         * flowtable does, so that software still sees them. */
        if (forwards && flow.tcp_flags & htons(TCP_SYN | TCP_FIN | TCP_RST)) {
            return false;
        }
        /* fall through */
    case IPPROTO_UDP:
        tuple.src_port = flow.tp_src;
        tuple.dst_port = flow.tp_dst;
        break;
    case IPPROTO_ICMP: {
        const struct icmp_header *icmp = l4;

        if (!l4 || dp_packet_l4_size(packet) < ICMP_HEADER_LEN
            || (icmp->icmp_type != ICMP4_ECHO_REQUEST
                && icmp->icmp_type != ICMP4_ECHO_REPLY)) {
            return false;
        }
        tuple.icmp_id = icmp->icmp_fields.echo.id;
        tuple.icmp_type = icmp->icmp_type;
        tuple.icmp_code = icmp->icmp_code;
        break;
    }
    case IPPROTO_ICMPV6: {
        const struct icmp6_data_header *icmp6 = l4;

        if (!l4 || dp_packet_l4_size(packet) < ICMP6_DATA_HEADER_LEN
            || (icmp6->icmp6_base.icmp6_type != ICMP6_ECHO_REQUEST
                && icmp6->icmp6_base.icmp6_type != ICMP6_ECHO_REPLY)) {
            return false;
        }
        tuple.icmp_id = icmp6->icmp6_data.be16[0];
        tuple.icmp_type = icmp6->icmp6_base.icmp6_type;
        tuple.icmp_code = icmp6->icmp6_base.icmp6_code;
        break;
    }
    default:
        return false;
    }

    dummy_key_init(key, &tuple, port);
    return true;
}

bool
ct_offload_dummy_receive(struct ct_offload *inst, odp_port_t port,
                         struct dp_packet *packet)
{
    struct ct_offload_dummy *dummy = dummy_cast(inst);
    const struct dummy_ct_entry *entry;
    struct dummy_ct_key key;
    bool forwards;

    if (cmap_is_empty(&dummy->table)) {
        return false;
    }
    atomic_read_relaxed(&inst->forwards, &forwards);
    if (!dummy_packet_key(packet, port, forwards, &key)) {
        return false;
    }

    entry = dummy_lookup(dummy, &key);
    if (entry) {
        struct dummy_ct_entry *e = CONST_CAST(struct dummy_ct_entry *, entry);
        uint64_t orig;

        atomic_add_relaxed(&e->packets, 1, &orig);
        atomic_add_relaxed(&e->bytes, dp_packet_size(packet), &orig);
        atomic_store_relaxed(&e->last_used, time_msec());
        if (ct_offload_conn_was_forwarded(entry->conn)) {
            /* Hardware forwarded it: software never sees it.  Decided by
             * the connection, which the core marked when it was programmed
             * in this mode, not by the knob, which may change meanwhile. */
            return true;
        }
        ct_offload_packet_set_conn(packet, entry->conn, entry->dir);
    }
    return false;
}

/* Two classes, as for dpif-offload-dummy, so that tests can see priorities
 * and fall-through. */
#define DEFINE_CT_OFFLOAD_DUMMY_CLASS(NAME, TYPE, PRIORITY) \
    const struct ct_offload_class NAME = {                  \
        .type = TYPE,                                       \
        .priority = PRIORITY,                               \
        .create = dummy_create,                             \
        .destroy = dummy_destroy,                           \
        .can_offload = dummy_can_offload,                   \
        .conn_established = dummy_conn_established,         \
        .conn_del = dummy_conn_del,                         \
        .conn_update = dummy_conn_update,                   \
        .flush = dummy_flush,                               \
        .get_debug = dummy_get_debug,                       \
    }

DEFINE_CT_OFFLOAD_DUMMY_CLASS(ct_offload_dummy_class, "dummy", 20);
DEFINE_CT_OFFLOAD_DUMMY_CLASS(ct_offload_dummy_x_class, "dummy_x", 10);

/* unixctl. */

static struct ct_offload_dummy *
dummy_find(const char *name)
    OVS_REQUIRES(instances_mutex)
{
    struct ct_offload_dummy *dummy;

    LIST_FOR_EACH (dummy, list_node, &instances) {
        if (!strcmp(dummy->up.name, name)) {
            return dummy;
        }
    }
    return NULL;
}

static void
dummy_format_table(struct ds *ds, const struct ct_offload_dummy *dummy)
{
    const struct dummy_ct_entry *entry;
    struct svec lines = SVEC_EMPTY_INITIALIZER;

    CMAP_FOR_EACH (entry, node, &dummy->table) {
        struct ds line = DS_EMPTY_INITIALIZER;
        uint64_t packets, bytes;

        atomic_read_relaxed(&CONST_CAST(struct dummy_ct_entry *,
                                        entry)->packets, &packets);
        atomic_read_relaxed(&CONST_CAST(struct dummy_ct_entry *,
                                        entry)->bytes, &bytes);
        ds_put_format(&line, "in_port=%"PRIu32",%s,",
                      odp_to_u32(entry->key.in_port),
                      entry->dir == CT_OFFLOAD_DIR_ORIG ? "orig" : "reply");
        ct_dpif_format_tuple(&line, &entry->key.tuple);
        ds_put_format(&line, ",zone=%"PRIu16",packets=%"PRIu64
                      ",bytes=%"PRIu64, entry->conn->zone, packets, bytes);
        svec_add_nocopy(&lines, ds_steal_cstr(&line));
    }
    /* Stable output for tests. */
    svec_sort(&lines);
    for (size_t i = 0; i < lines.n; i++) {
        ds_put_format(ds, "%s\n", lines.names[i]);
    }
    svec_destroy(&lines);
}

static void
dummy_unixctl_show(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *aux OVS_UNUSED)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    struct ct_offload_dummy *dummy;

    ovs_mutex_lock(&instances_mutex);
    LIST_FOR_EACH (dummy, list_node, &instances) {
        if (argc > 1 && strcmp(argv[1], dummy->up.name)) {
            continue;
        }
        if (argc <= 1) {
            ds_put_format(&ds, "%s:\n", dummy->up.name);
        }
        dummy_format_table(&ds, dummy);
    }
    ovs_mutex_unlock(&instances_mutex);

    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
dummy_unixctl_set(struct unixctl_conn *conn, int argc, const char *argv[],
                  void *aux OVS_UNUSED)
{
    struct ct_offload_dummy *dummy;
    char *error = NULL;

    ovs_mutex_lock(&instances_mutex);
    dummy = dummy_find(argv[1]);
    if (!dummy) {
        error = xasprintf("%s: no such instance", argv[1]);
    }
    for (int i = 2; !error && i < argc; i++) {
        unsigned long long value;
        const char *eq = strchr(argv[i], '=');
        char *key;

        if (eq && !strncmp(argv[i], "forward=", eq - argv[i] + 1)) {
            bool forward = !strcmp(eq + 1, "true");

            if (!forward && strcmp(eq + 1, "false")) {
                error = xasprintf("%s: expected true or false", argv[i]);
            } else if (!cmap_is_empty(&dummy->table)) {
                /* Connections programmed in one mode stay in it. */
                error = xasprintf("%s: table not empty", argv[i]);
            } else {
                atomic_store_relaxed(&dummy->up.forwards, forward);
            }
            continue;
        }
        if (!eq || !str_to_ullong(eq + 1, 10, &value) || value > UINT32_MAX) {
            error = xasprintf("%s: expected KEY=NUMBER", argv[i]);
            break;
        }
        key = xmemdup0(argv[i], eq - argv[i]);
        if (!strcmp(key, "capacity")) {
            atomic_store_relaxed(&dummy->capacity, value);
        } else if (!strcmp(key, "fail-every")) {
            atomic_store_relaxed(&dummy->fail_every, value);
        } else if (!strcmp(key, "fail-percent") && value <= 100) {
            atomic_store_relaxed(&dummy->fail_percent, value);
        } else if (!strcmp(key, "seed")) {
            atomic_store_relaxed(&dummy->seed, value);
        } else if (!strcmp(key, "delay-ms")) {
            atomic_store_relaxed(&dummy->delay_ms, value);
        } else {
            error = xasprintf("%s: unknown or out of range", argv[i]);
        }
        free(key);
    }
    ovs_mutex_unlock(&instances_mutex);

    if (error) {
        VLOG_WARN_RL(&rl, "ct-offload-dummy/set: %s", error);
        unixctl_command_reply_error(conn, error);
        free(error);
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

static void
ct_offload_dummy_unixctl_init(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        unixctl_command_register("ct-offload-dummy/show", "[instance]", 0, 1,
                                 dummy_unixctl_show, NULL);
        unixctl_command_register(
            "ct-offload-dummy/set",
            "instance [capacity=N] [fail-every=N] [fail-percent=P] "
            "[seed=S] [delay-ms=MS] [forward=true|false]", 2, 7,
            dummy_unixctl_set, NULL);
        ovsthread_once_done(&once);
    }
}
