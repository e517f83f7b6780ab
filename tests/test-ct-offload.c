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

/* Unit tests of the conntrack offload core: conntrack runs real packets,
 * two recording providers stand in for hardware, and each test compares
 * the calls they received with the calls the design promises. */

#include <config.h>
#undef NDEBUG
#include <errno.h>
#include <sys/socket.h>

#include "conntrack.h"
#include "ct-dpif.h"
#include "ct-offload.h"
#include "ct-offload-provider.h"
#include "dp-packet.h"
#include "flow.h"
#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "ovstest.h"
#include "packets.h"
#include "random.h"
#include "smap.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"

#define DP_NAME "test@dp0"

/* A provider that records every call as "TAG:OP SPORT [...]". */
struct rec {
    struct ct_offload up;
    const char *tag;

    struct ovs_mutex mutex;
    struct svec log OVS_GUARDED;
    size_t max_batch OVS_GUARDED;

    /* Knobs. */
    bool refuse;                /* can_offload() says no. */
    int add_error;              /* conn_add() returns it. */
    int est_error;              /* conn_established() returns it. */
    long long last_used;        /* conn_update() reports it. */
    atomic_bool hold;           /* conn_add() waits while true. */
    atomic_bool entered;        /* conn_add() was called. */
};

static struct rec *
rec_cast(const struct ct_offload *inst)
{
    return CONTAINER_OF(inst, struct rec, up);
}

static void OVS_PRINTF_FORMAT(2, 3)
rec_log(struct rec *rec, const char *format, ...)
{
    va_list args;
    char *s;

    va_start(args, format);
    s = xvasprintf(format, args);
    va_end(args);

    ovs_mutex_lock(&rec->mutex);
    svec_add_nocopy(&rec->log, xasprintf("%s:%s", rec->tag, s));
    ovs_mutex_unlock(&rec->mutex);
    free(s);
}

static unsigned int
sport(const struct ct_offload_conn *conn)
{
    return ntohs(conn->tuple[CT_OFFLOAD_DIR_ORIG].src_port);
}

static int
rec_create(const struct ct_offload_class *class,
           struct dpif_offload *dpif_offload OVS_UNUSED,
           struct ct_offload **instp)
{
    struct rec *rec = xzalloc(sizeof *rec);

    rec->tag = class->type;
    ovs_mutex_init(&rec->mutex);
    ovs_mutex_lock(&rec->mutex);
    svec_init(&rec->log);
    ovs_mutex_unlock(&rec->mutex);
    atomic_init(&rec->hold, false);
    atomic_init(&rec->entered, false);
    *instp = &rec->up;
    return 0;
}

static void
rec_destroy(struct ct_offload *inst)
{
    struct rec *rec = rec_cast(inst);

    ovs_mutex_lock(&rec->mutex);
    svec_destroy(&rec->log);
    ovs_mutex_unlock(&rec->mutex);
    ovs_mutex_destroy(&rec->mutex);
    free(rec);
}

static bool
rec_can_offload(const struct ct_offload *inst,
                const struct ct_offload_conn *conn OVS_UNUSED)
{
    return !rec_cast(inst)->refuse;
}

static int
rec_conn_add(struct ct_offload *inst, struct ct_offload_conn *conn)
{
    struct rec *rec = rec_cast(inst);
    bool hold;

    atomic_store(&rec->entered, true);
    for (;;) {
        atomic_read(&rec->hold, &hold);
        if (!hold) {
            break;
        }
        xnanosleep(1000 * 1000);
    }
    rec_log(rec, "add %u", sport(conn));
    return rec->add_error;
}

static int
rec_conn_established(struct ct_offload *inst, struct ct_offload_conn *conn,
                     struct netdev *netdev OVS_UNUSED)
{
    struct rec *rec = rec_cast(inst);

    rec_log(rec, "est %u in_port=%"PRIu32",%"PRIu32, sport(conn),
            odp_to_u32(conn->in_port[CT_OFFLOAD_DIR_ORIG]),
            odp_to_u32(conn->in_port[CT_OFFLOAD_DIR_REPLY]));
    return rec->est_error;
}

static void
rec_conn_del(struct ct_offload *inst, struct ct_offload_conn *conn)
{
    rec_log(rec_cast(inst), "del %u", sport(conn));
}

static int
rec_conn_update(struct ct_offload *inst, struct ct_offload_conn *conn,
                struct ct_offload_hw_stats *stats)
{
    struct rec *rec = rec_cast(inst);

    rec_log(rec, "update %u", sport(conn));
    stats->packets = 1;
    stats->bytes = 100;
    stats->last_used = rec->last_used;
    return 0;
}

static void
rec_flush(struct ct_offload *inst)
{
    rec_log(rec_cast(inst), "flush");
}

/* Class "a" submits batches, to check that the core uses them. */
static void
rec_operate(struct ct_offload *inst, struct ct_offload_op *ops[], size_t n)
{
    struct rec *rec = rec_cast(inst);

    ovs_mutex_lock(&rec->mutex);
    rec->max_batch = MAX(rec->max_batch, n);
    ovs_mutex_unlock(&rec->mutex);

    for (size_t i = 0; i < n; i++) {
        struct ct_offload_op *op = ops[i];

        switch (op->type) {
        case CT_OFFLOAD_OP_ADD:
            op->error = rec_conn_add(inst, op->conn);
            break;
        case CT_OFFLOAD_OP_ESTABLISHED:
            op->error = rec_conn_established(inst, op->conn, op->netdev);
            break;
        case CT_OFFLOAD_OP_DEL:
            rec_conn_del(inst, op->conn);
            break;
        case CT_OFFLOAD_OP_UPDATE:
            op->error = rec_conn_update(inst, op->conn, &op->stats);
            break;
        default:
            OVS_NOT_REACHED();
        }
    }
}

static const struct ct_offload_class rec_a_class = {
    .type = "a",
    .priority = 20,
    .create = rec_create,
    .destroy = rec_destroy,
    .can_offload = rec_can_offload,
    .conn_add = rec_conn_add,
    .conn_established = rec_conn_established,
    .conn_del = rec_conn_del,
    .conn_update = rec_conn_update,
    .operate = rec_operate,
    .flush = rec_flush,
};

static const struct ct_offload_class rec_b_class = {
    .type = "b",
    .priority = 10,
    .create = rec_create,
    .destroy = rec_destroy,
    .can_offload = rec_can_offload,
    .conn_add = rec_conn_add,
    .conn_established = rec_conn_established,
    .conn_del = rec_conn_del,
    .conn_update = rec_conn_update,
};

/* The test's world: a conntrack bound to DP_NAME and its offload state. */
struct world {
    struct conntrack *ct;
    struct ct_offload_dp *dp;
    struct rec *a, *b;
};

static struct rec *
add_instance(const struct ct_offload_class *class)
{
    struct ct_offload *inst;

    ovs_assert(!ct_offload_create(class, NULL, DP_NAME, &inst));
    return rec_cast(inst);
}

/* Creates conntrack and, in the order given by 'order' ("ab", "ba", "a",
 * "" ...), the recording instances. */
static void
world_init(struct world *w, const char *order)
{
    memset(w, 0, sizeof *w);
    ct_offload_set_enabled_for_testing(true);
    w->ct = conntrack_init();
    conntrack_set_tcp_seq_chk(w->ct, false);
    conntrack_set_offload(w->ct, DP_NAME);
    w->dp = ct_offload_dp_ref(DP_NAME);
    for (const char *c = order; *c; c++) {
        if (*c == 'a') {
            w->a = add_instance(&rec_a_class);
        } else {
            w->b = add_instance(&rec_b_class);
        }
    }
}

static void
world_wait(struct world *w)
{
    ct_offload_dp_wait(w->dp);
}

static void
world_destroy(struct world *w)
{
    if (w->ct) {
        conntrack_destroy(w->ct);
    }
    ct_offload_destroy(w->a ? &w->a->up : NULL);
    ct_offload_destroy(w->b ? &w->b->up : NULL);
    ct_offload_dp_unref(w->dp);
    ct_offload_set_enabled_for_testing(false);
}

/* Returns the calls 'rec' received since the last call, one per line, and
 * forgets them.  With 'sorted', in alphabetical order, for calls about
 * different connections, whose order is not defined. */
static char *
take_log__(struct rec *rec, bool sorted)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    if (!rec) {
        return ds_steal_cstr(&ds);
    }
    ovs_mutex_lock(&rec->mutex);
    if (sorted) {
        svec_sort(&rec->log);
    }
    for (size_t i = 0; i < rec->log.n; i++) {
        ds_put_format(&ds, "%s\n", rec->log.names[i]);
    }
    svec_clear(&rec->log);
    ovs_mutex_unlock(&rec->mutex);
    return ds_steal_cstr(&ds);
}

static char *
take_log(struct rec *rec)
{
    return take_log__(rec, false);
}

static void
discard_log(struct rec *rec)
{
    free(take_log(rec));
}

static void
expect_log__(struct rec *rec, const char *expected, bool sorted,
             const char *where)
{
    char *log = take_log__(rec, sorted);

    if (strcmp(log, expected)) {
        ovs_fatal(0, "%s: calls to \"%s\" were:\n%s\nexpected:\n%s", where,
                  rec ? rec->tag : "?", log, expected);
    }
    free(log);
}
#define expect_log(REC, EXPECTED) \
    expect_log__(REC, EXPECTED, false, OVS_SOURCE_LOCATOR)
#define expect_log_sorted(REC, EXPECTED) \
    expect_log__(REC, EXPECTED, true, OVS_SOURCE_LOCATOR)

/* Packets.  Addresses: 10.0.0.1 is the client behind port 1, 10.0.0.2 the
 * server behind port 2. */
#define CLIENT 0x0a000001
#define SERVER 0x0a000002

static struct dp_packet *
make_packet(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport_,
            uint16_t dport, uint16_t tcp_flags, uint32_t in_port)
{
    struct dp_packet *pkt = dp_packet_new(0);
    struct flow flow;

    memset(&flow, 0, sizeof flow);
    flow.dl_type = htons(ETH_TYPE_IP);
    flow.dl_src = (struct eth_addr) ETH_ADDR_C(50, 54, 00, 00, 00, 01);
    flow.dl_dst = (struct eth_addr) ETH_ADDR_C(50, 54, 00, 00, 00, 02);
    flow.nw_src = htonl(src);
    flow.nw_dst = htonl(dst);
    flow.nw_proto = proto;
    flow.nw_ttl = 64;
    flow.tp_src = htons(sport_);
    flow.tp_dst = htons(dport);
    flow.tcp_flags = htons(tcp_flags);
    flow_compose(pkt, &flow, NULL, 16, false);
    pkt_metadata_init(&pkt->md, u32_to_odp(in_port));
    return pkt;
}

struct run_args {
    bool commit;
    bool force;
    uint16_t zone;
    const struct nat_action_info_t *nat;
};

/* Sends 'pkt' through ct() and returns its ct_state.  Consumes 'pkt'
 * unless 'keep'. */
static uint32_t
run_packet(struct world *w, struct dp_packet *pkt, struct run_args args,
           bool keep)
{
    struct dp_packet_batch batch;
    uint32_t state;

    dp_packet_batch_init_packet(&batch, pkt);
    conntrack_execute(w->ct, &batch, htons(ETH_TYPE_IP), args.force,
                      args.commit, args.zone, NULL, NULL, NULL, args.nat,
                      time_msec(), 0);
    state = pkt->md.ct_state;
    if (!keep) {
        dp_packet_delete(pkt);
    }
    return state;
}

static const struct run_args COMMIT = { .commit = true };
static const struct run_args NO_COMMIT = { .commit = false };

/* A UDP exchange: one request from 'sport_' (committed), one reply. */
static void
udp_exchange(struct world *w, uint16_t sport_, uint16_t zone)
{
    struct run_args c = COMMIT, n = NO_COMMIT;

    c.zone = n.zone = zone;
    run_packet(w, make_packet(IPPROTO_UDP, CLIENT, SERVER, sport_, 53, 0, 1),
               c, false);
    run_packet(w, make_packet(IPPROTO_UDP, SERVER, CLIENT, 53, sport_, 0, 2),
               n, false);
}

/* A TCP handshake and one data segment each way. */
static void
tcp_open(struct world *w, uint16_t sport_)
{
    run_packet(w, make_packet(IPPROTO_TCP, CLIENT, SERVER, sport_, 80,
                              TCP_SYN, 1), COMMIT, false);
    run_packet(w, make_packet(IPPROTO_TCP, SERVER, CLIENT, 80, sport_,
                              TCP_SYN | TCP_ACK, 2), NO_COMMIT, false);
    run_packet(w, make_packet(IPPROTO_TCP, CLIENT, SERVER, sport_, 80,
                              TCP_ACK, 1), COMMIT, false);
}

static size_t
count_conns(struct world *w)
{
    struct conntrack_dump dump;
    struct ct_dpif_entry entry;
    int tot_bkts;
    size_t n = 0;

    conntrack_dump_start(w->ct, &dump, NULL, &tot_bkts);
    while (!conntrack_dump_next(&dump, &entry)) {
        ct_dpif_entry_uninit(&entry);
        n++;
    }
    conntrack_dump_done(&dump);
    return n;
}

/* Tests. */

/* The highest priority instance that accepts gets the connection, whatever
 * the order in which instances were created. */
static void
test_priority(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    const char *orders[] = { "ab", "ba" };

    for (size_t i = 0; i < ARRAY_SIZE(orders); i++) {
        struct world w;

        world_init(&w, orders[i]);
        udp_exchange(&w, 1000, 0);
        world_wait(&w);
        expect_log(w.a, "a:add 1000\na:est 1000 in_port=1,2\n");
        expect_log(w.b, "");
        world_destroy(&w);
    }
}

/* A refusal, an add failure and an offload failure each pass the
 * connection on to the next instance. */
static void
test_fallthrough(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct world w;

    world_init(&w, "ab");
    w.a->refuse = true;
    udp_exchange(&w, 1000, 0);
    world_wait(&w);
    expect_log(w.a, "");
    expect_log(w.b, "b:add 1000\nb:est 1000 in_port=1,2\n");

    w.a->refuse = false;
    w.a->add_error = ENOSPC;
    udp_exchange(&w, 1001, 0);
    world_wait(&w);
    expect_log(w.a, "a:add 1001\n");
    expect_log(w.b, "b:add 1001\nb:est 1001 in_port=1,2\n");

    w.a->add_error = 0;
    w.a->est_error = EIO;
    udp_exchange(&w, 1002, 0);
    world_wait(&w);
    expect_log(w.a, "a:add 1002\na:est 1002 in_port=1,2\na:del 1002\n");
    expect_log(w.b, "b:add 1002\nb:est 1002 in_port=1,2\n");

    /* Nobody takes it: software only, and no more calls for it. */
    w.b->refuse = true;
    udp_exchange(&w, 1003, 0);
    world_wait(&w);
    expect_log(w.a, "a:add 1003\na:est 1003 in_port=1,2\na:del 1003\n");
    expect_log(w.b, "");
    ovs_assert(count_conns(&w) == 4);
    world_destroy(&w);
}

/* "established" comes once, on the first reply once both directions are
 * established, with the reply port. */
static void
test_established(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct world w;

    world_init(&w, "a");

    /* UDP: the first reply, and only that one. */
    udp_exchange(&w, 1000, 0);
    run_packet(&w, make_packet(IPPROTO_UDP, SERVER, CLIENT, 53, 1000, 0, 2),
               NO_COMMIT, false);
    run_packet(&w, make_packet(IPPROTO_UDP, CLIENT, SERVER, 1000, 53, 0, 1),
               COMMIT, false);
    world_wait(&w);
    expect_log(w.a, "a:add 1000\na:est 1000 in_port=1,2\n");

    /* TCP: not on the SYN-ACK, nor on the third packet of the handshake
     * (original direction), but on the next reply. */
    tcp_open(&w, 2000);
    world_wait(&w);
    expect_log(w.a, "a:add 2000\n");
    run_packet(&w, make_packet(IPPROTO_TCP, SERVER, CLIENT, 80, 2000,
                               TCP_ACK, 3), NO_COMMIT, false);
    run_packet(&w, make_packet(IPPROTO_TCP, SERVER, CLIENT, 80, 2000,
                               TCP_ACK, 2), NO_COMMIT, false);
    world_wait(&w);
    expect_log(w.a, "a:est 2000 in_port=1,3\n");

    /* A connection that is not committed is never offered. */
    run_packet(&w, make_packet(IPPROTO_UDP, CLIENT, SERVER, 3000, 53, 0, 1),
               NO_COMMIT, false);
    world_wait(&w);
    expect_log(w.a, "");
    world_destroy(&w);
}

/* Every way a connection ends removes it from the instance that holds it,
 * exactly once. */
static void
test_del_paths(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct ct_dpif_tuple tuple;
    uint16_t zone;
    struct world w;

    world_init(&w, "a");

    /* Flush of a zone: only that zone. */
    udp_exchange(&w, 1000, 1);
    udp_exchange(&w, 1001, 2);
    world_wait(&w);
    discard_log(w.a);
    zone = 1;
    conntrack_flush(w.ct, &zone);
    world_wait(&w);
    expect_log(w.a, "a:del 1000\n");

    /* Flush of a tuple. */
    udp_exchange(&w, 1002, 2);
    world_wait(&w);
    discard_log(w.a);
    memset(&tuple, 0, sizeof tuple);
    tuple.l3_type = AF_INET;
    tuple.ip_proto = IPPROTO_UDP;
    tuple.src.ip = htonl(CLIENT);
    tuple.dst.ip = htonl(SERVER);
    tuple.src_port = htons(1002);
    tuple.dst_port = htons(53);
    ovs_assert(!conntrack_flush_tuple(w.ct, &tuple, 2));
    world_wait(&w);
    expect_log(w.a, "a:del 1002\n");

    /* Flush of everything. */
    conntrack_flush(w.ct, NULL);
    world_wait(&w);
    expect_log(w.a, "a:del 1001\n");
    ovs_assert(count_conns(&w) == 0);

    /* TCP FIN seen in software: the connection leaves hardware but stays
     * in conntrack; the later flush does not delete it twice. */
    tcp_open(&w, 2000);
    run_packet(&w, make_packet(IPPROTO_TCP, SERVER, CLIENT, 80, 2000,
                               TCP_ACK, 2), NO_COMMIT, false);
    world_wait(&w);
    discard_log(w.a);
    run_packet(&w, make_packet(IPPROTO_TCP, CLIENT, SERVER, 2000, 80,
                               TCP_FIN | TCP_ACK, 1), COMMIT, false);
    world_wait(&w);
    expect_log(w.a, "a:del 2000\n");
    ovs_assert(count_conns(&w) == 1);
    run_packet(&w, make_packet(IPPROTO_TCP, SERVER, CLIENT, 80, 2000,
                               TCP_ACK, 2), NO_COMMIT, false);
    conntrack_flush(w.ct, NULL);
    world_wait(&w);
    expect_log(w.a, "");

    /* A forced commit in the reply direction replaces the connection: the
     * old one leaves hardware at once, not when the sweeper removes it. */
    udp_exchange(&w, 3000, 0);
    world_wait(&w);
    discard_log(w.a);
    struct run_args force = { .commit = true, .force = true };
    run_packet(&w, make_packet(IPPROTO_UDP, SERVER, CLIENT, 53, 3000, 0, 2),
               force, false);
    world_wait(&w);
    /* The forced commit also created the new connection, from port 53. */
    expect_log_sorted(w.a, "a:add 53\na:del 3000\n");

    /* Datapath destruction. */
    udp_exchange(&w, 4000, 0);
    world_wait(&w);
    discard_log(w.a);
    conntrack_destroy(w.ct);
    w.ct = NULL;
    world_wait(&w);
    char *log = take_log(w.a);
    ovs_assert(strstr(log, "a:del 4000\n") && strstr(log, "a:del 53\n"));
    free(log);
    world_destroy(&w);
}

/* Hardware last-used times are asked for in batches, only of connections
 * hardware carries. */
static void
test_update(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct ct_offload_conn *conns[3];
    long long last_used[3];
    struct world w;

    world_init(&w, "a");
    w.a->last_used = 12345;

    /* Two offloaded connections and one that is only committed. */
    struct dp_packet *pkts[3];
    for (int i = 0; i < 3; i++) {
        pkts[i] = make_packet(IPPROTO_UDP, CLIENT, SERVER, 1000 + i, 53, 0,
                              1);
        run_packet(&w, pkts[i], COMMIT, true);
        conns[i] = NULL;
    }
    run_packet(&w, make_packet(IPPROTO_UDP, SERVER, CLIENT, 53, 1000, 0, 2),
               NO_COMMIT, false);
    run_packet(&w, make_packet(IPPROTO_UDP, SERVER, CLIENT, 53, 1001, 0, 2),
               NO_COMMIT, false);
    world_wait(&w);
    discard_log(w.a);

    /* The offload state of each connection, through conntrack's cached
     * connection in the packets' metadata. */
    for (int i = 0; i < 3; i++) {
        ovs_assert(pkts[i]->md.conn);
        conns[i] = conntrack_conn_offload(pkts[i]->md.conn);
        ovs_assert(conns[i]);
        dp_packet_delete(pkts[i]);
    }
    ovs_assert(ct_offload_conn_in_hw(conns[0]));
    ovs_assert(ct_offload_conn_in_hw(conns[1]));
    ovs_assert(!ct_offload_conn_in_hw(conns[2]));

    ovs_mutex_lock(&w.a->mutex);
    w.a->max_batch = 0;
    ovs_mutex_unlock(&w.a->mutex);
    ct_offload_conns_update(conns, 3, last_used);
    ovs_assert(last_used[0] == 12345);
    ovs_assert(last_used[1] == 12345);
    ovs_assert(last_used[2] == 0);
    expect_log(w.a, "a:update 1000\na:update 1001\n");
    ovs_mutex_lock(&w.a->mutex);
    ovs_assert(w.a->max_batch == 2);
    ovs_mutex_unlock(&w.a->mutex);

    /* Dumps read the hardware counters. */
    struct ct_offload_hw_stats stats;
    const char *type;
    ovs_assert(ct_offload_conn_get_stats(conns[0], &stats, &type));
    ovs_assert(stats.packets == 1 && stats.bytes == 100);
    ovs_assert(!strcmp(type, "a"));
    ovs_assert(!ct_offload_conn_get_stats(conns[2], &stats, &type));
    world_destroy(&w);
}

/* Events queued together reach the provider together. */
static void
test_batch(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct dp_packet_batch batch;
    struct world w;

    world_init(&w, "a");
    atomic_store(&w.a->hold, true);
    /* The first connection blocks the offload thread in conn_add(); only
     * then do the next 20 queue up behind it. */
    udp_exchange(&w, 999, 0);
    bool entered = false;
    while (!entered) {
        atomic_read(&w.a->entered, &entered);
        xnanosleep(1000 * 1000);
    }
    dp_packet_batch_init(&batch);
    for (int i = 0; i < 20; i++) {
        dp_packet_batch_add(&batch, make_packet(IPPROTO_UDP, CLIENT, SERVER,
                                                1000 + i, 53, 0, 1));
    }
    conntrack_execute(w.ct, &batch, htons(ETH_TYPE_IP), false, true, 0,
                      NULL, NULL, NULL, NULL, time_msec(), 0);
    dp_packet_delete_batch(&batch, true);
    atomic_store(&w.a->hold, false);
    world_wait(&w);

    ovs_mutex_lock(&w.a->mutex);
    ovs_assert(w.a->max_batch >= 20);
    ovs_assert(w.a->log.n == 22);       /* 21 adds, 1 established. */
    ovs_mutex_unlock(&w.a->mutex);
    world_destroy(&w);
}

/* Destroying an instance removes everything it holds; the connections go
 * on in software and their later removal does not reach the provider. */
static void
test_destroy(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct world w;

    world_init(&w, "ab");
    w.a->refuse = true;
    udp_exchange(&w, 1000, 0);
    udp_exchange(&w, 1001, 0);
    world_wait(&w);
    discard_log(w.b);

    /* "b" has a flush-less class: one conn_del() per connection. */
    struct rec *b = w.b;
    ct_offload_destroy(&b->up);
    w.b = NULL;
    /* 'b' is freed after an RCU grace period; its log is gone with it, so
     * the check is that the connections are still tracked and work. */
    ovs_assert(count_conns(&w) == 2);
    ovs_assert(run_packet(&w, make_packet(IPPROTO_UDP, SERVER, CLIENT, 53,
                                          1000, 0, 2), NO_COMMIT, false)
               & CS_ESTABLISHED);

    /* "a" has flush(): it is used instead of per-connection deletes. */
    w.a->refuse = false;
    udp_exchange(&w, 1002, 0);
    world_wait(&w);
    discard_log(w.a);
    ct_offload_flush(&w.a->up);
    expect_log(w.a, "a:flush\n");
    conntrack_flush(w.ct, NULL);
    world_wait(&w);
    expect_log(w.a, "");
    world_destroy(&w);
}

/* Port removal: the connections using it leave hardware. */
static void
test_port_del(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct world w;

    world_init(&w, "b");
    udp_exchange(&w, 1000, 0);
    run_packet(&w, make_packet(IPPROTO_UDP, CLIENT, SERVER, 1001, 53, 0, 3),
               COMMIT, false);
    run_packet(&w, make_packet(IPPROTO_UDP, SERVER, CLIENT, 53, 1001, 0, 4),
               NO_COMMIT, false);
    world_wait(&w);
    discard_log(w.b);
    ct_offload_port_del(&w.b->up, u32_to_odp(2));
    expect_log(w.b, "b:del 1000\n");
    ovs_assert(count_conns(&w) == 2);
    world_destroy(&w);
}

/* Inactive offload: no calls at all. */
static void
test_disabled(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct world w;

    world_init(&w, "a");
    ct_offload_set_enabled_for_testing(false);
    udp_exchange(&w, 1000, 0);
    tcp_open(&w, 2000);
    conntrack_flush(w.ct, NULL);
    world_wait(&w);
    expect_log(w.a, "");
    world_destroy(&w);

    /* Enabled, but the datapath has no instance. */
    world_init(&w, "");
    udp_exchange(&w, 1000, 0);
    world_wait(&w);
    world_destroy(&w);
}

/* A full queue drops what would create hardware state; the connection
 * stays in software. */
static void
test_queue_full(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct smap cfg = SMAP_INITIALIZER(&cfg);
    struct world w;

    world_init(&w, "a");
    smap_add(&cfg, "hw-offload-ct-queue-size", "2");
    ct_offload_set_global_cfg(&cfg);

    atomic_store(&w.a->hold, true);
    for (int i = 0; i < 10; i++) {
        run_packet(&w, make_packet(IPPROTO_UDP, CLIENT, SERVER, 1000 + i, 53,
                                   0, 1), COMMIT, false);
    }
    atomic_store(&w.a->hold, false);
    world_wait(&w);
    ovs_mutex_lock(&w.a->mutex);
    /* At most the one being processed plus two queued. */
    ovs_assert(w.a->log.n >= 1 && w.a->log.n <= 3);
    ovs_mutex_unlock(&w.a->mutex);
    ovs_assert(count_conns(&w) == 10);

    /* Invalid values are refused and the previous one kept. */
    smap_replace(&cfg, "hw-offload-ct-queue-size", "0");
    ct_offload_set_global_cfg(&cfg);
    smap_clear(&cfg);
    ct_offload_set_global_cfg(&cfg);
    smap_destroy(&cfg);
    world_destroy(&w);
}

/* A packet that hardware resolved completes without a lookup, with the
 * same conntrack state software gives it, and with NAT applied. */
static void
test_hw_path(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct dp_packet *pkt;
    struct world w;

    world_init(&w, "a");
    pkt = make_packet(IPPROTO_UDP, CLIENT, SERVER, 1000, 53, 0, 1);
    run_packet(&w, pkt, COMMIT, true);
    struct ct_offload_conn *conn = conntrack_conn_offload(pkt->md.conn);
    dp_packet_delete(pkt);
    run_packet(&w, make_packet(IPPROTO_UDP, SERVER, CLIENT, 53, 1000, 0, 2),
               NO_COMMIT, false);
    world_wait(&w);
    ovs_assert(ct_offload_conn_in_hw(conn));

    /* Reply direction. */
    pkt = make_packet(IPPROTO_UDP, SERVER, CLIENT, 53, 1000, 0, 2);
    ovs_assert(ct_offload_packet_set_conn(pkt, conn, CT_OFFLOAD_DIR_REPLY));
    uint32_t state = run_packet(&w, pkt, NO_COMMIT, false);
    ovs_assert(state == (CS_TRACKED | CS_ESTABLISHED | CS_REPLY_DIR));

    /* Original direction. */
    pkt = make_packet(IPPROTO_UDP, CLIENT, SERVER, 1000, 53, 0, 1);
    ovs_assert(ct_offload_packet_set_conn(pkt, conn, CT_OFFLOAD_DIR_ORIG));
    state = run_packet(&w, pkt, COMMIT, false);
    ovs_assert(state == (CS_TRACKED | CS_ESTABLISHED));

    /* Headers rewritten since hardware matched: the normal path decides,
     * here a new connection. */
    pkt = make_packet(IPPROTO_UDP, CLIENT, SERVER, 1001, 53, 0, 1);
    ovs_assert(ct_offload_packet_set_conn(pkt, conn, CT_OFFLOAD_DIR_ORIG));
    state = run_packet(&w, pkt, NO_COMMIT, false);
    ovs_assert(state == (CS_TRACKED | CS_NEW));

    /* A bad checksum is invalid, as in software. */
    pkt = make_packet(IPPROTO_UDP, CLIENT, SERVER, 1000, 53, 0, 1);
    struct udp_header *udp = dp_packet_l4(pkt);
    udp->udp_csum = udp->udp_csum ? ~udp->udp_csum : htons(1);
    /* As from a NIC that does not check checksums. */
    dp_packet_l4_checksum_set_unknown(pkt);
    ovs_assert(ct_offload_packet_set_conn(pkt, conn, CT_OFFLOAD_DIR_ORIG));
    state = run_packet(&w, pkt, NO_COMMIT, false);
    ovs_assert(state == (CS_TRACKED | CS_INVALID));

    /* TCP: only segments with ACK and without SYN, FIN or RST. */
    run_packet(&w, make_packet(IPPROTO_TCP, CLIENT, SERVER, 2000, 80,
                               TCP_SYN, 1), COMMIT, false);
    run_packet(&w, make_packet(IPPROTO_TCP, SERVER, CLIENT, 80, 2000,
                               TCP_SYN | TCP_ACK, 2), NO_COMMIT, false);
    pkt = make_packet(IPPROTO_TCP, CLIENT, SERVER, 2000, 80, TCP_ACK, 1);
    run_packet(&w, pkt, NO_COMMIT, true);
    struct ct_offload_conn *tcp_conn = conntrack_conn_offload(pkt->md.conn);
    dp_packet_delete(pkt);
    run_packet(&w, make_packet(IPPROTO_TCP, SERVER, CLIENT, 80, 2000,
                               TCP_ACK, 2), NO_COMMIT, false);
    world_wait(&w);
    ovs_assert(ct_offload_conn_in_hw(tcp_conn));
    pkt = make_packet(IPPROTO_TCP, CLIENT, SERVER, 2000, 80,
                      TCP_ACK | TCP_PSH, 1);
    ovs_assert(ct_offload_packet_set_conn(pkt, tcp_conn,
                                          CT_OFFLOAD_DIR_ORIG));
    state = run_packet(&w, pkt, NO_COMMIT, false);
    ovs_assert(state == (CS_TRACKED | CS_ESTABLISHED));
    pkt = make_packet(IPPROTO_TCP, CLIENT, SERVER, 2000, 80, TCP_PSH, 1);
    ovs_assert(ct_offload_packet_set_conn(pkt, tcp_conn,
                                          CT_OFFLOAD_DIR_ORIG));
    state = run_packet(&w, pkt, NO_COMMIT, false);
    ovs_assert(state == (CS_TRACKED | CS_INVALID));

    /* Another zone: the normal path decides (a new connection). */
    pkt = make_packet(IPPROTO_UDP, CLIENT, SERVER, 1000, 53, 0, 1);
    ovs_assert(ct_offload_packet_set_conn(pkt, conn, CT_OFFLOAD_DIR_ORIG));
    struct run_args zone5 = { .commit = true, .zone = 5 };
    state = run_packet(&w, pkt, zone5, false);
    ovs_assert(state == (CS_TRACKED | CS_NEW));

    /* Once the connection is gone, hardware cannot resolve to it. */
    conntrack_flush(w.ct, NULL);
    pkt = make_packet(IPPROTO_UDP, CLIENT, SERVER, 1000, 53, 0, 1);
    ovs_assert(!ct_offload_packet_set_conn(pkt, conn, CT_OFFLOAD_DIR_ORIG));
    dp_packet_delete(pkt);
    world_destroy(&w);
}


/* Differential fuzzing.
 *
 * The same random traffic goes through two conntracks: "sw" without
 * offload, "hw" with a provider that emulates hardware the way the dummy
 * does (a table keyed by input port and tuple; packets that match, except
 * TCP SYN, FIN and RST, reach conntrack already resolved).  Every packet
 * must leave both with the same conntrack metadata and the same bytes, and
 * both connection tables must stay the same.  TCP sequence checks are off
 * in both: hardware does not track windows, so with them on the two would
 * rightly differ on out-of-window segments. */

struct fz_entry {
    struct hmap_node node;
    struct ct_dpif_tuple tuple;
    odp_port_t in_port;
    const struct ct_offload_conn *conn;
    enum ct_offload_dir dir;
    long long last_used;        /* On the fuzzer's clock. */
};

struct fz {
    struct ct_offload up;
    struct ovs_mutex mutex;
    struct hmap table OVS_GUARDED;
};

static struct fz *
fz_cast(const struct ct_offload *inst)
{
    return CONTAINER_OF(inst, struct fz, up);
}

static uint32_t
fz_hash(const struct ct_dpif_tuple *tuple, odp_port_t in_port)
{
    return hash_bytes(tuple, sizeof *tuple, odp_to_u32(in_port));
}

static int
fz_create(const struct ct_offload_class *class OVS_UNUSED,
          struct dpif_offload *dpif_offload OVS_UNUSED,
          struct ct_offload **instp)
{
    struct fz *fz = xzalloc(sizeof *fz);

    ovs_mutex_init(&fz->mutex);
    ovs_mutex_lock(&fz->mutex);
    hmap_init(&fz->table);
    ovs_mutex_unlock(&fz->mutex);
    *instp = &fz->up;
    return 0;
}

static void
fz_destroy(struct ct_offload *inst)
{
    struct fz *fz = fz_cast(inst);
    struct fz_entry *e;

    ovs_mutex_lock(&fz->mutex);
    HMAP_FOR_EACH_POP (e, node, &fz->table) {
        free(e);
    }
    hmap_destroy(&fz->table);
    ovs_mutex_unlock(&fz->mutex);
    ovs_mutex_destroy(&fz->mutex);
    free(fz);
}

static int
fz_conn_established(struct ct_offload *inst, struct ct_offload_conn *conn,
                    struct netdev *netdev OVS_UNUSED)
{
    struct fz *fz = fz_cast(inst);
    struct fz_entry *entries = xcalloc(CT_OFFLOAD_N_DIRS, sizeof *entries);

    ovs_mutex_lock(&fz->mutex);
    for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
        entries[i].tuple = conn->tuple[i];
        entries[i].in_port = conn->in_port[i];
        entries[i].conn = conn;
        entries[i].dir = i;
        hmap_insert(&fz->table, &entries[i].node,
                    fz_hash(&conn->tuple[i], conn->in_port[i]));
    }
    ovs_mutex_unlock(&fz->mutex);
    conn->provider_data = entries;
    return 0;
}

static void
fz_conn_del(struct ct_offload *inst, struct ct_offload_conn *conn)
{
    struct fz *fz = fz_cast(inst);
    struct fz_entry *entries = conn->provider_data;

    if (entries) {
        ovs_mutex_lock(&fz->mutex);
        for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
            hmap_remove(&fz->table, &entries[i].node);
        }
        ovs_mutex_unlock(&fz->mutex);
        free(entries);
        conn->provider_data = NULL;
    }
}

static int
fz_conn_update(struct ct_offload *inst, struct ct_offload_conn *conn,
               struct ct_offload_hw_stats *stats)
{
    struct fz *fz = fz_cast(inst);
    struct fz_entry *entries = conn->provider_data;

    ovs_mutex_lock(&fz->mutex);
    for (int i = 0; entries && i < CT_OFFLOAD_N_DIRS; i++) {
        stats->last_used = MAX(stats->last_used, entries[i].last_used);
    }
    ovs_mutex_unlock(&fz->mutex);
    return 0;
}

static const struct ct_offload_class fz_class = {
    .type = "fz",
    .priority = 1,
    .create = fz_create,
    .destroy = fz_destroy,
    .conn_established = fz_conn_established,
    .conn_del = fz_conn_del,
    .conn_update = fz_conn_update,
};

/* The emulated NIC: resolves 'pkt' if it matches an entry. */
static void
fz_receive(struct fz *fz, struct dp_packet *pkt,
           const struct ct_dpif_tuple *tuple, uint16_t tcp_flags,
           long long now)
{
    struct fz_entry *e;

    if (tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST)) {
        return;
    }
    ovs_mutex_lock(&fz->mutex);
    HMAP_FOR_EACH_WITH_HASH (e, node, fz_hash(tuple, pkt->md.in_port.odp_port),
                             &fz->table) {
        if (!memcmp(&e->tuple, tuple, sizeof *tuple)
            && e->in_port == pkt->md.in_port.odp_port) {
            e->last_used = now;
            ct_offload_packet_set_conn(pkt, e->conn, e->dir);
            break;
        }
    }
    ovs_mutex_unlock(&fz->mutex);
}

/* A conversation of the fuzzer. */
struct fz_flow {
    uint8_t proto;
    uint32_t client, server;
    uint16_t sport, dport;
    uint16_t zone;
    uint32_t port[CT_OFFLOAD_N_DIRS];
};

#define FZ_SNAT_ADDR 0xc0a80001     /* 192.168.0.1, zone 2's SNAT. */

static char *
fz_dump(struct conntrack *ct)
{
    struct conntrack_dump dump;
    struct ct_dpif_entry entry;
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    struct ds ds = DS_EMPTY_INITIALIZER;
    int tot_bkts;

    conntrack_dump_start(ct, &dump, NULL, &tot_bkts);
    while (!conntrack_dump_next(&dump, &entry)) {
        struct ds line = DS_EMPTY_INITIALIZER;

        /* Offload is visible in dumps by design; the rest must match. */
        entry.status &= ~(CT_DPIF_STATUS_OFFLOAD | CT_DPIF_STATUS_HW_OFFLOAD);
        ct_dpif_format_entry(&entry, &line, false, false);
        svec_add_nocopy(&lines, ds_steal_cstr(&line));
        ct_dpif_entry_uninit(&entry);
    }
    conntrack_dump_done(&dump);
    svec_sort(&lines);
    for (size_t i = 0; i < lines.n; i++) {
        ds_put_format(&ds, "%s\n", lines.names[i]);
    }
    svec_destroy(&lines);
    return ds_steal_cstr(&ds);
}

static void OVS_PRINTF_FORMAT(3, 4)
fz_fail(uint32_t seed, int step, const char *format, ...)
{
    va_list args;
    char *msg;

    va_start(args, format);
    msg = xvasprintf(format, args);
    va_end(args);
    ovs_fatal(0, "seed %"PRIu32": mismatch at step %d (the shortest failing "
              "prefix is %d steps): %s", seed, step, step + 1, msg);
}

static uint16_t
fz_tcp_flags(void)
{
    static const uint16_t choices[] = {
        TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK, TCP_PSH | TCP_ACK,
        TCP_FIN | TCP_ACK, TCP_RST, TCP_RST | TCP_ACK, TCP_FIN,
    };

    if (random_range(8) == 0) {
        return random_range(0x40);     /* Any combination, even silly. */
    }
    return choices[random_range(ARRAY_SIZE(choices))];
}

static void
test_fuzz(struct ovs_cmdl_context *ctx)
{
    uint32_t seed = strtoul(ctx->argv[1], NULL, 10);
    int n_steps = atoi(ctx->argv[2]);
    struct fz_flow flows[24];
    struct conntrack *sw, *hw;
    struct ct_offload_dp *dp;
    struct ct_offload *inst;
    long long now = time_msec();
    int n_packets = 0, n_resolved = 0;
    /* Debugging aids: FZ_TRACE=SPORT prints the packets of one flow,
     * FZ_NO_OFFLOAD=1 runs "hw" without offload (both sides must then
     * always agree). */
    int trace = getenv("FZ_TRACE") ? atoi(getenv("FZ_TRACE")) : 0;

    random_set_seed(seed);
    ct_offload_set_enabled_for_testing(true);
    sw = conntrack_init();
    hw = conntrack_init();
    conntrack_set_offload(hw, DP_NAME);
    dp = ct_offload_dp_ref(DP_NAME);
    ovs_assert(!ct_offload_create(&fz_class, NULL, DP_NAME, &inst));
    if (getenv("FZ_NO_OFFLOAD")) {
        ct_offload_set_enabled_for_testing(false);
    }
    conntrack_set_tcp_seq_chk(sw, false);
    conntrack_set_tcp_seq_chk(hw, false);
    /* Expiry is the fuzzer's, on its own clock (conntrack_expire() below):
     * keep the clean threads, which run on the real clock, out of it. */
    conntrack_set_sweep_interval(sw, UINT32_MAX);
    conntrack_set_sweep_interval(hw, UINT32_MAX);

    /* Few addresses and ports, so that tuples meet across zones. */
    for (size_t i = 0; i < ARRAY_SIZE(flows); i++) {
        static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP,
                                          IPPROTO_ICMP };
        struct fz_flow *f = &flows[i];

        f->proto = protos[random_range(ARRAY_SIZE(protos))];
        f->client = 0x0a000001 + random_range(2);
        f->server = 0x0a000101;
        f->sport = 1000 + i;
        f->dport = f->proto == IPPROTO_ICMP ? 0 : 80 + random_range(2);
        f->zone = 1 + random_range(3);
        /* Each zone has its own pair of ports, as on real hosts. */
        f->port[CT_OFFLOAD_DIR_ORIG] = f->zone * 2 - 1;
        f->port[CT_OFFLOAD_DIR_REPLY] = f->zone * 2;
    }

    struct nat_action_info_t snat;
    memset(&snat, 0, sizeof snat);
    snat.nat_action = NAT_ACTION_SRC;
    snat.min_addr.ipv4 = htonl(FZ_SNAT_ADDR);
    snat.max_addr.ipv4 = htonl(FZ_SNAT_ADDR);

    for (int step = 0; step < n_steps; step++) {
        uint32_t what = random_range(100);

        now += random_range(10) ? random_range(2000) : 40000;
        if (what < 4) {
            uint16_t zone = 1 + random_range(3);
            uint16_t *pzone = random_range(2) ? &zone : NULL;

            conntrack_flush(sw, pzone);
            conntrack_flush(hw, pzone);
        } else if (what < 8) {
            struct fz_flow *f = &flows[random_range(ARRAY_SIZE(flows))];
            struct ct_dpif_tuple tuple;

            memset(&tuple, 0, sizeof tuple);
            tuple.l3_type = AF_INET;
            tuple.ip_proto = f->proto;
            tuple.src.ip = htonl(f->client);
            tuple.dst.ip = htonl(f->server);
            if (f->proto == IPPROTO_ICMP) {
                tuple.icmp_type = ICMP4_ECHO_REQUEST;
            } else {
                tuple.src_port = htons(f->sport);
                tuple.dst_port = htons(f->dport);
            }
            int e1 = conntrack_flush_tuple(sw, &tuple, f->zone);
            int e2 = conntrack_flush_tuple(hw, &tuple, f->zone);
            if (e1 != e2) {
                fz_fail(seed, step, "flush-tuple returned %d and %d", e1, e2);
            }
        } else {
            struct fz_flow *f = &flows[random_range(ARRAY_SIZE(flows))];
            bool reply = random_range(3) == 0;
            bool natted = f->zone == 2;
            uint32_t client = natted && reply ? FZ_SNAT_ADDR : f->client;
            uint16_t flags = f->proto == IPPROTO_TCP ? fz_tcp_flags() : 0;
            uint32_t setmark[2] = { random_range(4), 0xff };
            struct dp_packet *pkts[2];
            struct ct_dpif_tuple tuple;
            uint16_t sp = f->sport, dp_ = f->dport;

            memset(&tuple, 0, sizeof tuple);
            tuple.l3_type = AF_INET;
            tuple.ip_proto = f->proto;
            tuple.src.ip = htonl(reply ? f->server : f->client);
            tuple.dst.ip = htonl(reply ? client : f->server);
            if (f->proto == IPPROTO_ICMP) {
                /* Echo request or reply, identifier 0. */
                sp = reply ? ICMP4_ECHO_REPLY : ICMP4_ECHO_REQUEST;
                dp_ = 0;
                tuple.icmp_type = sp;
            } else {
                tuple.src_port = htons(reply ? f->dport : f->sport);
                tuple.dst_port = htons(reply ? f->sport : f->dport);
            }
            for (int i = 0; i < 2; i++) {
                pkts[i] = reply
                    ? make_packet(f->proto, f->server, client,
                                  f->proto == IPPROTO_ICMP ? sp : dp_,
                                  f->proto == IPPROTO_ICMP ? dp_ : sp,
                                  flags, f->port[CT_OFFLOAD_DIR_REPLY])
                    : make_packet(f->proto, f->client, f->server, sp, dp_,
                                  flags, f->port[CT_OFFLOAD_DIR_ORIG]);
            }
            /* The sweeper on the fuzzer's clock: the one difference
             * hardware may make is when a connection expires, and the
             * sweeper is where it decides that, from hardware last-used
             * times.  The real clean threads run on real time, far
             * behind. */
            conntrack_expire(sw, now);
            conntrack_expire(hw, now);
            ct_offload_dp_wait(dp);
            fz_receive(fz_cast(inst), pkts[1], &tuple, flags, now);
            bool resolved = pkts[1]->md.conn != NULL;
            n_resolved += resolved;

            bool commit = !reply || random_range(4) == 0;
            const struct nat_action_info_t *nat = natted ? &snat : NULL;
            const uint32_t *mark = random_range(3) ? NULL : setmark;
            struct conntrack *cts[2] = { sw, hw };
            for (int i = 0; i < 2; i++) {
                struct dp_packet_batch batch;

                dp_packet_batch_init_packet(&batch, pkts[i]);
                conntrack_execute(cts[i], &batch, htons(ETH_TYPE_IP), false,
                                  commit, f->zone, mark, NULL, NULL, nat,
                                  now, 0);
            }
            n_packets++;
            if (trace && f->sport == trace) {
                fprintf(stderr, "step %d now %lld %s flags %#x commit %d "
                        "hw %d state %#x/%#x\n", step, now,
                        reply ? "reply" : "orig", flags, commit,
                        resolved, pkts[0]->md.ct_state,
                        pkts[1]->md.ct_state);
            }

            struct pkt_metadata *a = &pkts[0]->md, *b = &pkts[1]->md;
            if (a->ct_state != b->ct_state || a->ct_zone != b->ct_zone
                || a->ct_mark != b->ct_mark
                || !ovs_u128_equals(a->ct_label, b->ct_label)) {
                fz_fail(seed, step, "metadata differs: ct_state %#x/%#x, "
                        "zone %u/%u, mark %u/%u", a->ct_state, b->ct_state,
                        a->ct_zone, b->ct_zone, a->ct_mark, b->ct_mark);
            }
            if (dp_packet_size(pkts[0]) != dp_packet_size(pkts[1])
                || memcmp(dp_packet_data(pkts[0]), dp_packet_data(pkts[1]),
                          dp_packet_size(pkts[0]))) {
                fz_fail(seed, step, "packet bytes differ");
            }
            dp_packet_delete(pkts[0]);
            dp_packet_delete(pkts[1]);
        }

        /* Let the offload thread catch up, so that the emulated hardware
         * is as real hardware would be by the next packet.  (Dumps filter
         * expired connections on the real clock, far behind the fuzzer's:
         * what they show was decided by the sweeps above.) */
        ct_offload_dp_wait(dp);

        char *d1 = fz_dump(sw), *d2 = fz_dump(hw);
        if (strcmp(d1, d2)) {
            fz_fail(seed, step, "connection tables differ:\nsw:\n%shw:\n%s",
                    d1, d2);
        }
        free(d1);
        free(d2);
    }

    printf("seed %"PRIu32": %d steps, %d packets, %d resolved by the "
           "emulated hardware\n", seed, n_steps, n_packets, n_resolved);
    conntrack_destroy(sw);
    conntrack_destroy(hw);
    ct_offload_destroy(inst);
    ct_offload_dp_unref(dp);
    ct_offload_set_enabled_for_testing(false);
}

/* Concurrency stress.
 *
 * Packet threads send overlapping connections through one conntrack (the
 * emulated hardware of the fuzzer resolving what it carries), while a
 * control thread flushes (all, zone, tuple), sweeps ahead of time and
 * removes ports, and a churn thread destroys and recreates the provider
 * instance and turns offload off and on.  The provider checks the
 * lifecycle rules as it goes (conn_del exactly once per successful
 * conn_add, nothing left at destroy), ASan checks memory, and at the end
 * every connection that was added has been deleted. */

struct stress_conn {
    struct fz_entry entries[CT_OFFLOAD_N_DIRS];  /* First, for
                                                  * fz_conn_update(). */
    bool in_table;
};

static atomic_uint64_t stress_n_add = 0;
static atomic_uint64_t stress_n_del = 0;
static atomic_uint64_t stress_n_est = 0;
static atomic_uint64_t stress_n_est_failed = 0;

static void
stress_destroy(struct ct_offload *inst)
{
    struct fz *fz = fz_cast(inst);

    ovs_mutex_lock(&fz->mutex);
    /* The core removes every connection before destroy(). */
    ovs_assert(hmap_is_empty(&fz->table));
    ovs_mutex_unlock(&fz->mutex);
    fz_destroy(inst);
}

static int
stress_conn_add(struct ct_offload *inst OVS_UNUSED,
                struct ct_offload_conn *conn)
{
    uint64_t orig;

    ovs_assert(!conn->provider_data);
    conn->provider_data = xzalloc(sizeof(struct stress_conn));
    atomic_add(&stress_n_add, 1, &orig);
    return 0;
}

static int
stress_conn_established(struct ct_offload *inst, struct ct_offload_conn *conn,
                        struct netdev *netdev OVS_UNUSED)
{
    struct stress_conn *sc = conn->provider_data;
    struct fz *fz = fz_cast(inst);
    uint64_t orig;

    ovs_assert(sc && !sc->in_table);
    if (!random_range(10)) {
        atomic_add(&stress_n_est_failed, 1, &orig);
        return ENOSPC;
    }
    ovs_mutex_lock(&fz->mutex);
    for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
        struct fz_entry *e = &sc->entries[i];

        e->tuple = conn->tuple[i];
        e->in_port = conn->in_port[i];
        e->conn = conn;
        e->dir = i;
        hmap_insert(&fz->table, &e->node, fz_hash(&e->tuple, e->in_port));
    }
    sc->in_table = true;
    ovs_mutex_unlock(&fz->mutex);
    atomic_add(&stress_n_est, 1, &orig);
    return 0;
}

static void
stress_conn_del(struct ct_offload *inst, struct ct_offload_conn *conn)
{
    struct stress_conn *sc = conn->provider_data;
    struct fz *fz = fz_cast(inst);
    uint64_t orig;

    ovs_assert(sc);             /* Exactly once per successful conn_add. */
    if (sc->in_table) {
        ovs_mutex_lock(&fz->mutex);
        for (int i = 0; i < CT_OFFLOAD_N_DIRS; i++) {
            hmap_remove(&fz->table, &sc->entries[i].node);
        }
        ovs_mutex_unlock(&fz->mutex);
    }
    /* The receive path may hold a pointer into it under RCU. */
    ovsrcu_postpone(free, sc);
    conn->provider_data = NULL;
    atomic_add(&stress_n_del, 1, &orig);
}

static const struct ct_offload_class stress_class = {
    .type = "stress",
    .priority = 1,
    .create = fz_create,
    .destroy = stress_destroy,
    .conn_add = stress_conn_add,
    .conn_established = stress_conn_established,
    .conn_del = stress_conn_del,
    /* A stress_conn starts with its entries, which stay zeroed (never
     * used) unless in the table. */
    .conn_update = fz_conn_update,
};

#define STRESS_N_FLOWS 64

struct stress {
    struct conntrack *ct;
    struct fz_flow flows[STRESS_N_FLOWS];
    int n_packets;              /* Per packet thread. */
    atomic_bool stop;           /* For the control and churn threads. */
    atomic_uint64_t n_resolved;

    /* The current instance: the receive path reads it under RCU, the
     * control and churn threads use it under 'mutex'. */
    struct ovs_mutex mutex;
    OVSRCU_TYPE(struct ct_offload *) inst;
    int n_instances OVS_GUARDED;
};

static struct dp_packet *
stress_packet(const struct fz_flow *f, bool reply, uint16_t flags,
              struct ct_dpif_tuple *tuple)
{
    memset(tuple, 0, sizeof *tuple);
    tuple->l3_type = AF_INET;
    tuple->ip_proto = f->proto;
    tuple->src.ip = htonl(reply ? f->server : f->client);
    tuple->dst.ip = htonl(reply ? f->client : f->server);
    tuple->src_port = htons(reply ? f->dport : f->sport);
    tuple->dst_port = htons(reply ? f->sport : f->dport);
    return reply
           ? make_packet(f->proto, f->server, f->client, f->dport, f->sport,
                         flags, f->port[CT_OFFLOAD_DIR_REPLY])
           : make_packet(f->proto, f->client, f->server, f->sport, f->dport,
                         flags, f->port[CT_OFFLOAD_DIR_ORIG]);
}

static void *
stress_packet_thread(void *st_)
{
    struct stress *st = st_;
    uint64_t n_resolved = 0, orig;

    for (int i = 0; i < st->n_packets; i++) {
        const struct fz_flow *f = &st->flows[random_range(STRESS_N_FLOWS)];
        bool reply = random_range(2);
        uint16_t flags = 0;
        struct ct_dpif_tuple tuple;
        struct dp_packet_batch batch;
        struct ct_offload *inst;
        struct dp_packet *pkt;

        if (f->proto == IPPROTO_TCP) {
            static const uint16_t rare[] = {
                TCP_SYN, TCP_SYN | TCP_ACK, TCP_FIN | TCP_ACK, TCP_RST,
            };
            flags = random_range(16) ? TCP_ACK : rare[random_range(4)];
        }
        pkt = stress_packet(f, reply, flags, &tuple);
        inst = ovsrcu_get(struct ct_offload *, &st->inst);
        if (inst) {
            fz_receive(fz_cast(inst), pkt, &tuple, flags, time_msec());
            n_resolved += pkt->md.conn != NULL;
        }
        dp_packet_batch_init_packet(&batch, pkt);
        conntrack_execute(st->ct, &batch, htons(ETH_TYPE_IP), false, true,
                          f->zone, NULL, NULL, NULL, NULL, time_msec(), 0);
        dp_packet_delete(pkt);
        if (!(i % 32)) {
            ovsrcu_quiesce();
        }
    }
    atomic_add(&st->n_resolved, n_resolved, &orig);
    return NULL;
}

static void *
stress_control_thread(void *st_)
{
    struct stress *st = st_;
    bool stop;

    for (atomic_read(&st->stop, &stop); !stop; atomic_read(&st->stop, &stop)) {
        uint32_t what = random_range(100);

        if (what < 10) {
            uint16_t zone = 1 + random_range(3);

            conntrack_flush(st->ct, random_range(2) ? &zone : NULL);
        } else if (what < 30) {
            const struct fz_flow *f = &st->flows[random_range(STRESS_N_FLOWS)];
            struct ct_dpif_tuple tuple;

            dp_packet_delete(stress_packet(f, false, 0, &tuple));
            conntrack_flush_tuple(st->ct, &tuple, f->zone);
        } else if (what < 60) {
            /* A sweep ahead of time expires connections that hardware
             * carries: the sweeper asks the provider. */
            conntrack_expire(st->ct, time_msec() + random_range(120000));
        } else if (what < 70) {
            ovs_mutex_lock(&st->mutex);
            ct_offload_port_del(ovsrcu_get_protected(struct ct_offload *,
                                                     &st->inst),
                                u32_to_odp(1 + random_range(6)));
            ovs_mutex_unlock(&st->mutex);
        }
        ovsrcu_quiesce();
        xnanosleep(200 * 1000);
    }
    return NULL;
}

static void *
stress_churn_thread(void *st_)
{
    struct stress *st = st_;
    bool stop;

    for (atomic_read(&st->stop, &stop); !stop; atomic_read(&st->stop, &stop)) {
        struct ct_offload *old, *new;

        xnanosleep(2 * 1000 * 1000);
        ovs_mutex_lock(&st->mutex);
        if (random_range(4)) {
            /* The dpif-offload instance closes and opens again. */
            old = ovsrcu_get_protected(struct ct_offload *, &st->inst);
            ovsrcu_set(&st->inst, NULL);
            ct_offload_destroy(old);
            ovs_assert(!ct_offload_create(&stress_class, NULL, DP_NAME,
                                          &new));
            ovsrcu_set(&st->inst, new);
            st->n_instances++;
        } else {
            /* hw-offload-ct off and on again. */
            ct_offload_set_enabled_for_testing(false);
            ct_offload_flush(ovsrcu_get_protected(struct ct_offload *,
                                                  &st->inst));
            ct_offload_set_enabled_for_testing(true);
        }
        ovs_mutex_unlock(&st->mutex);
        ovsrcu_quiesce();
    }
    return NULL;
}

static void
test_stress(struct ovs_cmdl_context *ctx)
{
    int n_threads = atoi(ctx->argv[1]);
    struct smap cfg = SMAP_INITIALIZER(&cfg);
    pthread_t packet_threads[16], control, churn;
    struct ct_offload_dp *dp;
    struct ct_offload *inst;
    struct stress st;
    uint64_t n_add, n_del, n_est, n_failed, n_resolved;

    ovs_assert(n_threads > 0 && n_threads <= ARRAY_SIZE(packet_threads));
    memset(&st, 0, sizeof st);
    st.n_packets = atoi(ctx->argv[2]);
    atomic_init(&st.stop, false);
    atomic_init(&st.n_resolved, 0);
    ovs_mutex_init(&st.mutex);

    ct_offload_set_enabled_for_testing(true);
    /* A small queue, so that floods also drop events. */
    smap_add(&cfg, "hw-offload-ct-queue-size", "64");
    ct_offload_set_global_cfg(&cfg);

    st.ct = conntrack_init();
    conntrack_set_offload(st.ct, DP_NAME);
    conntrack_set_tcp_seq_chk(st.ct, false);
    dp = ct_offload_dp_ref(DP_NAME);
    ovs_assert(!ct_offload_create(&stress_class, NULL, DP_NAME, &inst));
    ovsrcu_set(&st.inst, inst);
    ovs_mutex_lock(&st.mutex);
    st.n_instances = 1;
    ovs_mutex_unlock(&st.mutex);

    for (size_t i = 0; i < STRESS_N_FLOWS; i++) {
        struct fz_flow *f = &st.flows[i];

        /* Few tuples, so that threads meet on the same connections. */
        f->proto = random_range(3) ? IPPROTO_TCP : IPPROTO_UDP;
        f->client = 0x0a000001 + random_range(2);
        f->server = 0x0a000101;
        f->sport = 1000 + random_range(STRESS_N_FLOWS / 2);
        f->dport = 80;
        f->zone = 1 + random_range(3);
        f->port[CT_OFFLOAD_DIR_ORIG] = f->zone * 2 - 1;
        f->port[CT_OFFLOAD_DIR_REPLY] = f->zone * 2;
    }

    control = ovs_thread_create("stress_control", stress_control_thread,
                                &st);
    churn = ovs_thread_create("stress_churn", stress_churn_thread, &st);
    for (int i = 0; i < n_threads; i++) {
        packet_threads[i] = ovs_thread_create("stress_packets",
                                              stress_packet_thread, &st);
    }
    /* Quiescent while waiting, or RCU would hold every postponed free. */
    ovsrcu_quiesce_start();
    for (int i = 0; i < n_threads; i++) {
        xpthread_join(packet_threads[i], NULL);
    }
    atomic_store(&st.stop, true);
    xpthread_join(control, NULL);
    xpthread_join(churn, NULL);
    ovsrcu_quiesce_end();

    /* Everything drains: software and hardware agree on nothing. */
    conntrack_flush(st.ct, NULL);
    ct_offload_dp_wait(dp);
    inst = ovsrcu_get_protected(struct ct_offload *, &st.inst);
    ovs_mutex_lock(&fz_cast(inst)->mutex);
    ovs_assert(hmap_is_empty(&fz_cast(inst)->table));
    ovs_mutex_unlock(&fz_cast(inst)->mutex);
    conntrack_destroy(st.ct);
    ct_offload_destroy(inst);
    ct_offload_dp_unref(dp);
    ct_offload_set_enabled_for_testing(false);
    smap_clear(&cfg);
    ct_offload_set_global_cfg(&cfg);
    smap_destroy(&cfg);
    ovsrcu_synchronize();

    atomic_read(&stress_n_add, &n_add);
    atomic_read(&stress_n_del, &n_del);
    atomic_read(&stress_n_est, &n_est);
    atomic_read(&stress_n_est_failed, &n_failed);
    atomic_read(&st.n_resolved, &n_resolved);
    /* Every connection that a provider took was given back. */
    ovs_assert(n_add == n_del);
    ovs_assert(n_add > 0 && n_est > 0);
    ovs_mutex_lock(&st.mutex);
    printf("%d threads x %d packets: %"PRIu64" resolved by hardware, "
           "%d instances, %"PRIu64" added, %"PRIu64" offloaded, %"PRIu64
           " failed, %"PRIu64" deleted\n", n_threads, st.n_packets,
           n_resolved, st.n_instances, n_add, n_est, n_failed, n_del);
    ovs_mutex_unlock(&st.mutex);
    ovs_mutex_destroy(&st.mutex);
}

static const struct ovs_cmdl_command commands[] = {
    {"priority", NULL, 0, 0, test_priority, OVS_RO},
    {"fallthrough", NULL, 0, 0, test_fallthrough, OVS_RO},
    {"established", NULL, 0, 0, test_established, OVS_RO},
    {"del-paths", NULL, 0, 0, test_del_paths, OVS_RO},
    {"update", NULL, 0, 0, test_update, OVS_RO},
    {"batch", NULL, 0, 0, test_batch, OVS_RO},
    {"destroy", NULL, 0, 0, test_destroy, OVS_RO},
    {"port-del", NULL, 0, 0, test_port_del, OVS_RO},
    {"disabled", NULL, 0, 0, test_disabled, OVS_RO},
    {"queue-full", NULL, 0, 0, test_queue_full, OVS_RO},
    {"hw-path", NULL, 0, 0, test_hw_path, OVS_RO},
    {"fuzz", "seed steps", 2, 2, test_fuzz, OVS_RO},
    {"stress", "threads packets", 2, 2, test_stress, OVS_RO},
    {NULL, NULL, 0, 0, NULL, OVS_RO},
};

static void
test_ct_offload_main(int argc, char *argv[])
{
    struct ovs_cmdl_context ctx = {
        .argc = argc - 1,
        .argv = argv + 1,
    };

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    ovs_cmdl_run_command(&ctx, commands);
}

OVSTEST_REGISTER("test-ct-offload", test_ct_offload_main);
