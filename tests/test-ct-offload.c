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
#include "conntrack-tp.h"
#include "csum.h"
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

/* A TCP conversation of a test (see tcp_seg()). */
struct tcp_conv {
    uint16_t sport;
    uint32_t nxt[2];            /* Next sequence number: client, server. */
};

/* The test's world: a conntrack bound to DP_NAME and its offload state. */
struct world {
    struct conntrack *ct;
    struct ct_offload_dp *dp;
    struct rec *a, *b;
    struct tcp_conv tcp[8];
    size_t n_tcp;
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
    /* Sequence checks on, as by default: the packets' numbers are real. */
    w->ct = conntrack_init();
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

/* A packet with 'l7_len' bytes of payload (TCP: only without SYN, FIN or
 * RST). */
static struct dp_packet *
make_packet__(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport_,
              uint16_t dport, uint16_t tcp_flags, uint32_t in_port,
              size_t l7_len)
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
    flow_compose(pkt, &flow, NULL, l7_len, false);
    pkt_metadata_init(&pkt->md, u32_to_odp(in_port));
    return pkt;
}

static struct dp_packet *
make_packet(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport_,
            uint16_t dport, uint16_t tcp_flags, uint32_t in_port)
{
    return make_packet__(proto, src, dst, sport_, dport, tcp_flags, in_port,
                         16);
}

/* A TCP segment as a real stack sends it: sequence number 'seq',
 * acknowledgement number 'ack', a 65535-byte window and 'payload' bytes of
 * data (none with SYN, FIN or RST), with a correct checksum. */
static struct dp_packet *
make_tcp(uint32_t src, uint32_t dst, uint16_t sport_, uint16_t dport,
         uint16_t tcp_flags, uint32_t seq, uint32_t ack, size_t payload,
         uint32_t in_port)
{
    struct dp_packet *pkt = make_packet__(IPPROTO_TCP, src, dst, sport_,
                                          dport, tcp_flags, in_port,
                                          payload);
    struct tcp_header *tcp = dp_packet_l4(pkt);

    put_16aligned_be32(&tcp->tcp_seq, htonl(seq));
    put_16aligned_be32(&tcp->tcp_ack, htonl(ack));
    tcp->tcp_winsz = htons(65535);
    tcp->tcp_csum = 0;
    tcp->tcp_csum = csum_finish(
        csum_continue(packet_csum_pseudoheader(dp_packet_l3(pkt)), tcp,
                      (char *) dp_packet_tail(pkt) - (char *) tcp));
    return pkt;
}

struct run_args {
    bool commit;
    bool force;
    uint16_t zone;
    const struct nat_action_info_t *nat;
    long long now;              /* 0: time_msec(). */
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
                      args.now ? args.now : time_msec(), 0);
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

/* TCP conversations between CLIENT:sport_ and SERVER:80, with consistent
 * sequence and acknowledgement numbers: conntrack checks them. */
static struct tcp_conv *
tcp_conv(struct world *w, uint16_t sport_)
{
    for (size_t i = 0; i < w->n_tcp; i++) {
        if (w->tcp[i].sport == sport_) {
            return &w->tcp[i];
        }
    }
    ovs_assert(w->n_tcp < ARRAY_SIZE(w->tcp));
    struct tcp_conv *c = &w->tcp[w->n_tcp++];
    c->sport = sport_;
    c->nxt[0] = 0x10000000 + sport_ * 0x1000;
    c->nxt[1] = 0x80000000 + sport_ * 0x1000;
    return c;
}

/* The next segment of the conversation from 'sport_', from the client or
 * (with 'reply') the server, arriving on 'in_port'.  Data segments (without
 * SYN, FIN or RST) carry 'payload' bytes.  A segment with a nonzero
 * 'seq_delta' or 'ack_delta' added to its numbers is one that the
 * endpoints did not send (out of window, a forged RST...): it does not
 * advance the conversation. */
static struct dp_packet *
tcp_seg__(struct world *w, uint16_t sport_, bool reply, uint16_t flags,
          size_t payload, int32_t seq_delta, int32_t ack_delta,
          uint32_t in_port)
{
    struct tcp_conv *c = tcp_conv(w, sport_);
    uint32_t seq, ack;

    if (flags & (TCP_SYN | TCP_FIN | TCP_RST)) {
        payload = 0;
    }
    seq = c->nxt[reply] + seq_delta;
    ack = flags & TCP_ACK ? c->nxt[!reply] + ack_delta : 0;
    if (!seq_delta && !ack_delta) {
        c->nxt[reply] += payload + !!(flags & TCP_SYN) + !!(flags & TCP_FIN);
    }
    return reply
           ? make_tcp(SERVER, CLIENT, 80, sport_, flags, seq, ack, payload,
                      in_port)
           : make_tcp(CLIENT, SERVER, sport_, 80, flags, seq, ack, payload,
                      in_port);
}

static struct dp_packet *
tcp_seg(struct world *w, uint16_t sport_, bool reply, uint16_t flags,
        uint32_t in_port)
{
    return tcp_seg__(w, sport_, reply, flags, 16, 0, 0, in_port);
}

/* A TCP handshake, client on port 1, server on port 2.  The final ACK
 * establishes the connection both ways. */
static void
tcp_open(struct world *w, uint16_t sport_)
{
    run_packet(w, tcp_seg(w, sport_, false, TCP_SYN, 1), COMMIT, false);
    run_packet(w, tcp_seg(w, sport_, true, TCP_SYN | TCP_ACK, 2), NO_COMMIT,
               false);
    run_packet(w, tcp_seg__(w, sport_, false, TCP_ACK, 0, 0, 0, 1), COMMIT,
               false);
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

/* "established" comes once per connection, with the reply port, at the
 * first packet after which the connection is established both ways: for
 * UDP the first reply, for TCP the handshake's final ACK (the SYN-ACK
 * gave the reply port). */
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

    /* TCP: not on the SYN-ACK, but on the final ACK of the handshake (in
     * the original direction), with the port of the SYN-ACK; not again on
     * later replies, whatever their port. */
    run_packet(&w, tcp_seg(&w, 2000, false, TCP_SYN, 1), COMMIT, false);
    run_packet(&w, tcp_seg(&w, 2000, true, TCP_SYN | TCP_ACK, 3), NO_COMMIT,
               false);
    world_wait(&w);
    expect_log(w.a, "a:add 2000\n");
    run_packet(&w, tcp_seg__(&w, 2000, false, TCP_ACK, 0, 0, 0, 1), COMMIT,
               false);
    world_wait(&w);
    expect_log(w.a, "a:est 2000 in_port=1,3\n");
    run_packet(&w, tcp_seg(&w, 2000, true, TCP_ACK, 2), NO_COMMIT, false);
    run_packet(&w, tcp_seg(&w, 2000, false, TCP_ACK | TCP_PSH, 1), COMMIT,
               false);
    world_wait(&w);
    expect_log(w.a, "");

    /* A final ACK that conntrack finds invalid (it acknowledges data the
     * server never sent) establishes nothing; the right one does. */
    run_packet(&w, tcp_seg(&w, 2001, false, TCP_SYN, 1), COMMIT, false);
    run_packet(&w, tcp_seg(&w, 2001, true, TCP_SYN | TCP_ACK, 2), NO_COMMIT,
               false);
    ovs_assert(run_packet(&w, tcp_seg__(&w, 2001, false, TCP_ACK, 0, 0,
                                        3000000, 1), COMMIT, false)
               == (CS_TRACKED | CS_INVALID));
    world_wait(&w);
    expect_log(w.a, "a:add 2001\n");
    ovs_assert(run_packet(&w, tcp_seg__(&w, 2001, false, TCP_ACK, 0, 0, 0,
                                        1), COMMIT, false)
               == (CS_TRACKED | CS_ESTABLISHED));
    world_wait(&w);
    expect_log(w.a, "a:est 2001 in_port=1,2\n");

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
    run_packet(&w, tcp_seg(&w, 2000, true, TCP_ACK, 2), NO_COMMIT, false);
    world_wait(&w);
    discard_log(w.a);
    run_packet(&w, tcp_seg(&w, 2000, false, TCP_FIN | TCP_ACK, 1), COMMIT,
               false);
    world_wait(&w);
    expect_log(w.a, "a:del 2000\n");
    ovs_assert(count_conns(&w) == 1);
    run_packet(&w, tcp_seg(&w, 2000, true, TCP_ACK, 2), NO_COMMIT, false);
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

/* A packet that hardware resolved skips only the lookup: it gets the
 * conntrack state software gives it, NAT, and updates the connection
 * (TCP windows, RST rule, timers) as a looked-up packet does. */
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

    /* A hardware-resolved packet refreshes the connection's timer as a
     * looked-up one does: 30 s from this packet, 20 s from now, so a sweep
     * 40 s from now keeps the connection.  (The provider reports no
     * last-used time: the sweeper has only software's timer.) */
    long long t0 = time_msec();
    struct run_args later = { .commit = true, .now = t0 + 20000 };
    pkt = make_packet(IPPROTO_UDP, CLIENT, SERVER, 1000, 53, 0, 1);
    ovs_assert(ct_offload_packet_set_conn(pkt, conn, CT_OFFLOAD_DIR_ORIG));
    state = run_packet(&w, pkt, later, false);
    ovs_assert(state == (CS_TRACKED | CS_ESTABLISHED));
    conntrack_expire(w.ct, t0 + 40000);
    ovs_assert(count_conns(&w) == 1);
    discard_log(w.a);

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

    /* TCP: a hardware-resolved segment is tracked exactly as software
     * tracks a looked-up one: windows, the RST sequence rule, state.  A
     * handshake and a data segment, then the connection is in hardware. */
    tcp_open(&w, 2000);
    pkt = tcp_seg(&w, 2000, false, TCP_ACK | TCP_PSH, 1);
    run_packet(&w, pkt, COMMIT, true);
    struct ct_offload_conn *tcp_conn = conntrack_conn_offload(pkt->md.conn);
    dp_packet_delete(pkt);
    world_wait(&w);
    ovs_assert(ct_offload_conn_in_hw(tcp_conn));

    /* In-window data both ways. */
    for (int i = 0; i < 3; i++) {
        pkt = tcp_seg(&w, 2000, false, TCP_ACK | TCP_PSH, 1);
        ovs_assert(ct_offload_packet_set_conn(pkt, tcp_conn,
                                              CT_OFFLOAD_DIR_ORIG));
        state = run_packet(&w, pkt, NO_COMMIT, false);
        ovs_assert(state == (CS_TRACKED | CS_ESTABLISHED));
        pkt = tcp_seg(&w, 2000, true, TCP_ACK, 2);
        ovs_assert(ct_offload_packet_set_conn(pkt, tcp_conn,
                                              CT_OFFLOAD_DIR_REPLY));
        state = run_packet(&w, pkt, NO_COMMIT, false);
        ovs_assert(state == (CS_TRACKED | CS_ESTABLISHED | CS_REPLY_DIR));
    }

    /* Invalid flags (PSH without ACK). */
    struct tcp_conv *conv = tcp_conv(&w, 2000);
    pkt = make_tcp(CLIENT, SERVER, 2000, 80, TCP_PSH, conv->nxt[0], 0, 16, 1);
    ovs_assert(ct_offload_packet_set_conn(pkt, tcp_conn,
                                          CT_OFFLOAD_DIR_ORIG));
    state = run_packet(&w, pkt, NO_COMMIT, false);
    ovs_assert(state == (CS_TRACKED | CS_INVALID));

    /* Hardware does not check windows, software does: data 50,000,000
     * bytes ahead, and an ACK of data 3,000,000 bytes back, are invalid. */
    pkt = tcp_seg__(&w, 2000, false, TCP_ACK | TCP_PSH, 16, 50000000, 0, 1);
    ovs_assert(ct_offload_packet_set_conn(pkt, tcp_conn,
                                          CT_OFFLOAD_DIR_ORIG));
    state = run_packet(&w, pkt, NO_COMMIT, false);
    ovs_assert(state == (CS_TRACKED | CS_INVALID));
    pkt = tcp_seg__(&w, 2000, true, TCP_ACK, 0, 0, -3000000, 2);
    ovs_assert(ct_offload_packet_set_conn(pkt, tcp_conn,
                                          CT_OFFLOAD_DIR_REPLY));
    state = run_packet(&w, pkt, NO_COMMIT, false);
    ovs_assert(state == (CS_TRACKED | CS_INVALID));

    /* An RST in the window but not at the exact sequence number is
     * invalid and the connection stays, in hardware. */
    pkt = tcp_seg__(&w, 2000, true, TCP_RST, 0, 1000, 0, 2);
    ovs_assert(ct_offload_packet_set_conn(pkt, tcp_conn,
                                          CT_OFFLOAD_DIR_REPLY));
    state = run_packet(&w, pkt, NO_COMMIT, false);
    ovs_assert(state == (CS_TRACKED | CS_INVALID));
    world_wait(&w);
    ovs_assert(ct_offload_conn_in_hw(tcp_conn));

    /* The exact one resets it: only if the hardware-resolved replies above
     * advanced the server's sequence number.  The connection then leaves
     * hardware, which can no longer resolve to it. */
    pkt = tcp_seg__(&w, 2000, true, TCP_RST, 0, 0, 0, 2);
    ovs_assert(ct_offload_packet_set_conn(pkt, tcp_conn,
                                          CT_OFFLOAD_DIR_REPLY));
    state = run_packet(&w, pkt, NO_COMMIT, false);
    ovs_assert(state == (CS_TRACKED | CS_ESTABLISHED | CS_REPLY_DIR));
    world_wait(&w);
    ovs_assert(!ct_offload_conn_in_hw(tcp_conn));
    pkt = tcp_seg(&w, 2000, false, TCP_ACK, 1);
    ovs_assert(!ct_offload_packet_set_conn(pkt, tcp_conn,
                                           CT_OFFLOAD_DIR_ORIG));
    dp_packet_delete(pkt);

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
 * offload, "hw" with a provider that emulates a NIC that delivers every
 * packet to software (as the dummy and the DPDK provider do): a table keyed
 * by input port and tuple, and packets that match reach conntrack already
 * resolved (ct_offload_packet_set_conn()).  Such hardware only saves
 * software the lookup, so every packet must leave both conntracks with the
 * same metadata and bytes, and both connection tables (TCP peer states and
 * timeouts included) must stay the same.  TCP sequence checks are on in
 * both, as by default: hardware matches out-of-window segments, and
 * software must still find them invalid.
 *
 * The traffic is mostly real: TCP conversations with consistent sequence
 * and acknowledgement numbers (handshake, data both ways, FIN and ACK,
 * RST, reuse of the tuple after TIME_WAIT), UDP and ICMP echo, some of it
 * source-NATed, in three zones one of which has short timeouts.  Into it go
 * segments out of the window, forged RSTs (wrong, exact and +1 sequence
 * numbers), random flags, flushes and forced commits in the reply
 * direction.  Packets come in bursts that the emulated NIC classifies all
 * at once before conntrack sees the first, as a NIC does with a receive
 * ring: so hardware resolves packets to a connection that an earlier
 * packet of the burst (FIN, RST, a new SYN, a forced commit) closes or
 * replaces. */

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

/* Delivering hardware: '.forwards' is false. */
static const struct ct_offload_class fz_class = {
    .type = "fz",
    .priority = 1,
    .create = fz_create,
    .destroy = fz_destroy,
    .conn_established = fz_conn_established,
    .conn_del = fz_conn_del,
    .conn_update = fz_conn_update,
};

/* The emulated NIC: resolves 'pkt' if it matches an entry, whatever the
 * packet's sequence numbers (hardware does not track windows), and counts
 * it as used.  TCP SYN, FIN and RST segments only with 'any_flags' (the
 * dummy and the DPDK provider match only segments without them).  Returns
 * true if ct_offload_packet_set_conn() accepted the connection. */
static bool
fz_receive(struct fz *fz, struct dp_packet *pkt,
           const struct ct_dpif_tuple *tuple, uint16_t tcp_flags,
           bool any_flags, long long now)
{
    bool resolved = false;
    struct fz_entry *e;

    if (!any_flags && tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST)) {
        return false;
    }
    ovs_mutex_lock(&fz->mutex);
    HMAP_FOR_EACH_WITH_HASH (e, node, fz_hash(tuple, pkt->md.in_port.odp_port),
                             &fz->table) {
        if (!memcmp(&e->tuple, tuple, sizeof *tuple)
            && e->in_port == pkt->md.in_port.odp_port) {
            e->last_used = now;
            resolved = ct_offload_packet_set_conn(pkt, e->conn, e->dir);
            break;
        }
    }
    ovs_mutex_unlock(&fz->mutex);
    return resolved;
}

/* What the two endpoints of a TCP conversation of the fuzzer have done. */
enum fz_tcp_phase {
    FZ_TCP_CLOSED,              /* Nothing yet, or reset, or both closed. */
    FZ_TCP_SYN_SENT,            /* The client sent its SYN. */
    FZ_TCP_SYN_RCVD,            /* The server answered with SYN-ACK. */
    FZ_TCP_OPEN,                /* The client completed the handshake. */
};

/* A conversation of the fuzzer (the stress test uses the first members). */
struct fz_flow {
    uint8_t proto;
    uint32_t client, server;
    uint16_t sport, dport;
    uint16_t zone;
    uint32_t port[CT_OFFLOAD_N_DIRS];

    /* Fuzzer only. */
    uint32_t tp_id;             /* Timeout policy. */
    enum fz_tcp_phase phase;
    uint32_t nxt[2];            /* Next sequence number: client, server. */
    bool fin[2];                /* Sent its FIN. */
    bool fin_acked[2];          /* Its FIN was acknowledged. */
    int n_rejected;             /* Segments the endpoints sent in a row
                                 * that software found invalid. */
    /* The last data segment sent, for replays. */
    bool has_last;
    bool last_reply;
    uint32_t last_seq, last_ack;
};

#define FZ_SNAT_ADDR 0xc0a80001     /* 192.168.0.1, zone 2's SNAT. */
#define FZ_SHORT_TP 1               /* Zone 3's timeout policy. */

/* The connection table as text: the dump's usual fields (orig and reply
 * tuples, zone, mark, labels, coalesced TCP state) plus what it would hide:
 * both TCP peer states and window scales, and the seconds left before
 * expiry (the clock is stopped, and dumps read it). */
static char *
fz_dump(struct conntrack *ct, bool timeouts)
{
    struct conntrack_dump dump;
    struct ct_dpif_entry entry;
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    struct ds ds = DS_EMPTY_INITIALIZER;
    int tot_bkts;

    /* Zone by zone: a dump of all zones visits 65536 of them. */
    for (uint16_t zone = 0; zone <= 3; zone++) {
        conntrack_dump_start(ct, &dump, &zone, &tot_bkts);
        while (!conntrack_dump_next(&dump, &entry)) {
            struct ds line = DS_EMPTY_INITIALIZER;

            /* Offload is visible in dumps by design; the rest must
             * match. */
            entry.status &= ~(CT_DPIF_STATUS_OFFLOAD
                              | CT_DPIF_STATUS_HW_OFFLOAD);
            ct_dpif_format_entry(&entry, &line, false, false);
            if (timeouts) {
                ds_put_format(&line, ",timeout=%"PRIu32, entry.timeout);
            }
            if (entry.protoinfo.proto == IPPROTO_TCP) {
                const struct ct_dpif_protoinfo *pi = &entry.protoinfo;

                ds_put_format(&line, ",peers=%s/%s,wscale=%u/%u",
                              ct_dpif_tcp_state_string[pi->tcp.state_orig],
                              ct_dpif_tcp_state_string[pi->tcp.state_reply],
                              pi->tcp.wscale_orig, pi->tcp.wscale_reply);
            }
            svec_add_nocopy(&lines, ds_steal_cstr(&line));
            ct_dpif_entry_uninit(&entry);
        }
        conntrack_dump_done(&dump);
    }
    svec_sort(&lines);
    for (size_t i = 0; i < lines.n; i++) {
        ds_put_format(&ds, "%s\n", lines.names[i]);
    }
    svec_destroy(&lines);
    return ds_steal_cstr(&ds);
}

/* One packet of a burst, in its two copies (for "sw" and "hw"). */
struct fz_pkt {
    struct dp_packet *p[2];
    struct fz_flow *f;
    struct ct_dpif_tuple tuple;     /* As hardware matches it. */
    bool reply;
    uint16_t flags;
    uint32_t seq, ack;
    bool normal;                    /* What the endpoints would send. */
    bool resolved;                  /* By the emulated hardware. */
    const char *kind;
};

struct fz_ctx {
    uint32_t seed;
    int step;
    long long now;                  /* time_msec(): the clock is stopped. */
    struct conntrack *sw, *hw;
    struct ct_offload_dp *dp;
    struct fz *fz;
    struct nat_action_info_t snat;
    int trace;                      /* FZ_TRACE: a source port, or -1. */
    struct fz_flow flows[24];

    /* Statistics. */
    long long n_packets;            /* Through each conntrack. */
    long long n_resolved;           /* Of those, resolved by hardware. */
    long long n_invalid;            /* Found invalid (by both). */
    long long n_bursts, n_forced, n_rst_reuse, n_close_reuse;
    long long n_stale;              /* Resolved, then a forced expiry. */
};

static void OVS_PRINTF_FORMAT(2, 3)
fz_fail(const struct fz_ctx *c, const char *format, ...)
{
    va_list args;
    char *msg;

    va_start(args, format);
    msg = xvasprintf(format, args);
    va_end(args);
    ovs_fatal(0, "seed %"PRIu32": mismatch at step %d (the shortest failing "
              "prefix is %d steps): %s", c->seed, c->step, c->step + 1, msg);
}

static bool
fz_tracing(const struct fz_ctx *c, const struct fz_flow *f)
{
    return c->trace && (c->trace < 0 || f->sport == c->trace);
}

/* Makes the two copies of a packet of 'f' and the tuple hardware matches it
 * with. */
static void
fz_pkt_init(struct fz_ctx *c OVS_UNUSED, struct fz_pkt *p, struct fz_flow *f,
            bool reply, uint16_t flags, uint32_t seq, uint32_t ack,
            size_t payload, bool normal, const char *kind)
{
    uint32_t client = f->zone == 2 && reply ? FZ_SNAT_ADDR : f->client;
    uint32_t src = reply ? f->server : f->client;
    uint32_t dst = reply ? client : f->server;
    uint32_t in_port = f->port[reply ? CT_OFFLOAD_DIR_REPLY
                                     : CT_OFFLOAD_DIR_ORIG];
    uint16_t sp, dp_;

    memset(p, 0, sizeof *p);
    p->f = f;
    p->reply = reply;
    p->flags = flags;
    p->seq = seq;
    p->ack = ack;
    p->normal = normal;
    p->kind = kind;

    p->tuple.l3_type = AF_INET;
    p->tuple.ip_proto = f->proto;
    p->tuple.src.ip = htonl(src);
    p->tuple.dst.ip = htonl(dst);
    if (f->proto == IPPROTO_ICMP) {
        /* Echo request or reply, identifier 0. */
        sp = reply ? ICMP4_ECHO_REPLY : ICMP4_ECHO_REQUEST;
        dp_ = 0;
        p->tuple.icmp_type = sp;
    } else {
        sp = reply ? f->dport : f->sport;
        dp_ = reply ? f->sport : f->dport;
        p->tuple.src_port = htons(sp);
        p->tuple.dst_port = htons(dp_);
    }
    for (int i = 0; i < 2; i++) {
        p->p[i] = (f->proto == IPPROTO_TCP
                   ? make_tcp(src, dst, sp, dp_, flags, seq, ack, payload,
                              in_port)
                   : make_packet(f->proto, src, dst, sp, dp_, 0, in_port));
    }
}

/* TCP.  The endpoints' side of the conversation: what they send next. */

static void
fz_tcp_restart(struct fz_flow *f)
{
    f->phase = FZ_TCP_CLOSED;
    f->fin[0] = f->fin[1] = false;
    f->fin_acked[0] = f->fin_acked[1] = false;
    f->has_last = false;
}

/* A segment from side 'reply' that the endpoints would send now, advancing
 * the conversation.  'fin' asks for a FIN if that side has not sent one. */
static void
fz_tcp_normal(struct fz_ctx *c, struct fz_pkt *p, struct fz_flow *f,
              bool reply, bool fin)
{
    uint32_t *nxt = f->nxt;
    size_t payload;

    switch (f->phase) {
    case FZ_TCP_CLOSED:
        /* A new connection, maybe on the tuple of one in TIME_WAIT. */
        fz_tcp_restart(f);
        nxt[0] = random_uint32();
        fz_pkt_init(c, p, f, false, TCP_SYN, nxt[0], 0, 0, true, "syn");
        nxt[0]++;
        f->phase = FZ_TCP_SYN_SENT;
        return;
    case FZ_TCP_SYN_SENT:
        nxt[1] = random_uint32();
        fz_pkt_init(c, p, f, true, TCP_SYN | TCP_ACK, nxt[1], nxt[0], 0,
                    true, "syn-ack");
        nxt[1]++;
        f->phase = FZ_TCP_SYN_RCVD;
        return;
    case FZ_TCP_SYN_RCVD:
        payload = random_range(2) ? 16 : 0;
        fz_pkt_init(c, p, f, false, TCP_ACK | (payload ? TCP_PSH : 0),
                    nxt[0], nxt[1], payload, true, "ack (handshake)");
        nxt[0] += payload;
        f->phase = FZ_TCP_OPEN;
        return;
    case FZ_TCP_OPEN:
        break;
    }

    int d = reply;
    if (f->fin[d]) {
        /* It closed its side: pure ACKs only. */
        fz_pkt_init(c, p, f, reply, TCP_ACK, nxt[d], nxt[!d], 0, true,
                    "ack (closed side)");
    } else if (fin) {
        fz_pkt_init(c, p, f, reply, TCP_FIN | TCP_ACK, nxt[d], nxt[!d], 0,
                    true, "fin");
        nxt[d]++;
        f->fin[d] = true;
    } else if (random_range(8)) {
        fz_pkt_init(c, p, f, reply, TCP_ACK | TCP_PSH, nxt[d], nxt[!d], 16,
                    true, "data");
        f->has_last = true;
        f->last_reply = reply;
        f->last_seq = nxt[d];
        f->last_ack = nxt[!d];
        nxt[d] += 16;
    } else {
        fz_pkt_init(c, p, f, reply, TCP_ACK, nxt[d], nxt[!d], 0, true,
                    "ack");
    }
    /* Every segment here acknowledges everything the peer sent. */
    if (f->fin[!d]) {
        f->fin_acked[!d] = true;
    }
    if (f->fin_acked[0] && f->fin_acked[1]) {
        /* Both closed: the next segment is a SYN that reuses the tuple
         * of a connection conntrack holds in TIME_WAIT. */
        f->phase = FZ_TCP_CLOSED;
    }
}

/* A segment that the endpoints did not send, or not now: it does not
 * advance the conversation, except RSTs at a sequence number that the
 * receiver accepts. */
static void
fz_tcp_odd(struct fz_ctx *c, struct fz_pkt *p, struct fz_flow *f)
{
    bool reply = random_range(2);
    int d = reply;
    uint32_t seq = f->nxt[d], ack = f->nxt[!d];

    switch (random_range(12)) {
    case 0:
        fz_pkt_init(c, p, f, reply, TCP_ACK | TCP_PSH, seq + 50000000, ack,
                    16, false, "data +50000000");
        break;
    case 1:
        fz_pkt_init(c, p, f, reply, TCP_ACK | TCP_PSH, seq - 3000000, ack,
                    16, false, "data -3000000");
        break;
    case 2:
        fz_pkt_init(c, p, f, reply, TCP_ACK, seq, ack + 50000000, 0, false,
                    "ack +50000000");
        break;
    case 3:
        fz_pkt_init(c, p, f, reply, TCP_ACK, seq, ack - 3000000, 0, false,
                    "ack -3000000");
        break;
    case 4:
        /* Just past the right edge of the 65535-byte window. */
        fz_pkt_init(c, p, f, reply, TCP_ACK | TCP_PSH, seq + 65535 - 8, ack,
                    16, false, "data at the window edge");
        break;
    case 5:
        fz_pkt_init(c, p, f, reply, TCP_RST | (random_range(2) ? TCP_ACK : 0),
                    seq + (random_range(2) ? 1000 : 1000000), ack, 0, false,
                    "rst, wrong seq");
        break;
    case 6:
    case 7: {
        /* Exact, +1 or -1: the receiver accepts it. */
        static const int deltas[] = { 0, 1, -1 };
        int delta = deltas[random_range(3)];

        fz_pkt_init(c, p, f, reply, TCP_RST | (random_range(2) ? TCP_ACK : 0),
                    seq + delta, ack, 0, false,
                    delta ? (delta > 0 ? "rst +1" : "rst -1") : "rst exact");
        if (f->phase == FZ_TCP_OPEN) {
            fz_tcp_restart(f);
        }
        break;
    }
    case 8:
        if (f->has_last) {
            fz_pkt_init(c, p, f, f->last_reply, TCP_ACK | TCP_PSH,
                        f->last_seq, f->last_ack, 16, false, "retransmit");
        } else {
            fz_pkt_init(c, p, f, reply, TCP_ACK, seq, ack, 0, false,
                        "dup ack");
        }
        break;
    case 9:
        /* A SYN in the middle of a connection (a client restarting). */
        fz_pkt_init(c, p, f, reply, TCP_SYN, random_uint32(), 0, 0, false,
                    "syn (odd)");
        break;
    default: {
        /* Any flags, even silly ones, at a plausible or a random place. */
        uint16_t flags = random_range(0x40);

        if (random_range(2)) {
            seq = random_uint32();
            ack = random_uint32();
        }
        fz_pkt_init(c, p, f, reply, flags, seq, ack, 16, false,
                    "random flags");
        break;
    }
    }
}

/* The next packet of 'f': mostly what its endpoints would send. */
static void
fz_next(struct fz_ctx *c, struct fz_pkt *p, struct fz_flow *f)
{
    if (f->proto != IPPROTO_TCP) {
        fz_pkt_init(c, p, f, random_range(3) == 0, 0, 0, 0, 0, true,
                    f->proto == IPPROTO_UDP ? "udp" : "icmp");
    } else if (random_range(100) < 10) {
        fz_tcp_odd(c, p, f);
    } else {
        fz_tcp_normal(c, p, f, random_range(5) < 2, random_range(50) == 0);
    }
}

static void
fz_trace(const struct fz_ctx *c, const struct fz_pkt *p, const char *what)
{
    const struct pkt_metadata *a = &p->p[0]->md, *b = &p->p[1]->md;

    fprintf(stderr, "step %d now %lld sport %u zone %u %s %s: %s flags %#x "
            "seq %"PRIu32" ack %"PRIu32" hw %d state %#x/%#x\n", c->step,
            c->now, p->f->sport, p->f->zone, what,
            p->reply ? "reply" : "orig", p->kind, p->flags, p->seq, p->ack,
            p->resolved, a->ct_state, b->ct_state);
}

/* The emulated hardware classifies 'pkts' (the "hw" copies), all of them
 * before conntrack sees any. */
static void
fz_classify(struct fz_ctx *c, struct fz_pkt pkts[], size_t n)
{
    /* Half of the time as the dummy and the DPDK provider do (no SYN, FIN
     * or RST), half of the time matching any flags. */
    bool any_flags = random_range(2);

    for (size_t i = 0; i < n; i++) {
        pkts[i].resolved = fz_receive(c->fz, pkts[i].p[1], &pkts[i].tuple,
                                      pkts[i].flags, any_flags, c->now);
    }
}

/* Runs 'pkts', all of flow 'f', through both conntracks as one batch with
 * the same ct() action, compares the results, frees the packets and
 * updates the conversation from the verdicts. */
static void
fz_execute(struct fz_ctx *c, struct fz_flow *f, struct fz_pkt pkts[],
           size_t n, bool commit, bool force, const uint32_t *mark)
{
    const struct nat_action_info_t *nat = f->zone == 2 ? &c->snat : NULL;
    struct conntrack *cts[2] = { c->sw, c->hw };

    for (int i = 0; i < 2; i++) {
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        for (size_t j = 0; j < n; j++) {
            dp_packet_batch_add(&batch, pkts[j].p[i]);
        }
        conntrack_execute(cts[i], &batch, htons(ETH_TYPE_IP), force, commit,
                          f->zone, mark, NULL, NULL, nat, c->now, f->tp_id);
    }

    for (size_t j = 0; j < n; j++) {
        struct fz_pkt *p = &pkts[j];
        const struct pkt_metadata *a = &p->p[0]->md, *b = &p->p[1]->md;

        c->n_packets++;
        c->n_resolved += p->resolved;
        if (fz_tracing(c, f)) {
            fz_trace(c, p, force ? "force" : commit ? "commit" : "ct");
        }
        if (a->ct_state != b->ct_state || a->ct_zone != b->ct_zone
            || a->ct_mark != b->ct_mark
            || !ovs_u128_equals(a->ct_label, b->ct_label)) {
            fz_fail(c, "metadata differs for packet %"PRIuSIZE" of %"
                    PRIuSIZE" (sport %u zone %u %s %s flags %#x seq %"
                    PRIu32" ack %"PRIu32", hardware-resolved %d): "
                    "ct_state %#x/%#x, zone %u/%u, mark %u/%u (sw/hw; "
                    "FZ_TRACE=%u shows the flow)", j + 1, n, f->sport,
                    f->zone, p->reply ? "reply" : "orig", p->kind, p->flags,
                    p->seq, p->ack, p->resolved, a->ct_state, b->ct_state,
                    a->ct_zone, b->ct_zone, a->ct_mark, b->ct_mark,
                    f->sport);
        }
        if (dp_packet_size(p->p[0]) != dp_packet_size(p->p[1])
            || memcmp(dp_packet_data(p->p[0]), dp_packet_data(p->p[1]),
                      dp_packet_size(p->p[0]))) {
            fz_fail(c, "packet bytes differ (sport %u %s %s)", f->sport,
                    p->reply ? "reply" : "orig", p->kind);
        }
        if (a->ct_state & CS_INVALID) {
            c->n_invalid++;
            if (p->normal && f->proto == IPPROTO_TCP && ++f->n_rejected > 3) {
                /* Conntrack lost the conversation (flushed, expired,
                 * replaced by a forced commit, a forged RST got in): what
                 * an operator would do, on both. */
                struct ct_dpif_tuple tuple;

                memset(&tuple, 0, sizeof tuple);
                tuple.l3_type = AF_INET;
                tuple.ip_proto = IPPROTO_TCP;
                tuple.src.ip = htonl(f->client);
                tuple.dst.ip = htonl(f->server);
                tuple.src_port = htons(f->sport);
                tuple.dst_port = htons(f->dport);
                conntrack_flush_tuple(c->sw, &tuple, f->zone);
                conntrack_flush_tuple(c->hw, &tuple, f->zone);
                fz_tcp_restart(f);
                f->n_rejected = 0;
            }
        } else if (p->normal) {
            f->n_rejected = 0;
        }
        dp_packet_delete(p->p[0]);
        dp_packet_delete(p->p[1]);
    }
}

/* The sweeper, on the fuzzer's clock: the one place where hardware
 * (its last-used times) may have a say in a connection's life. */
static void
fz_sweep(struct fz_ctx *c)
{
    conntrack_expire(c->sw, c->now);
    conntrack_expire(c->hw, c->now);
    ct_offload_dp_wait(c->dp);
}

static struct fz_flow *
fz_pick(struct fz_ctx *c, int proto)
{
    for (int i = 0; i < 100; i++) {
        /* A few busy flows, many quiet ones. */
        size_t n = ARRAY_SIZE(c->flows);
        struct fz_flow *f = &c->flows[random_range(random_range(2)
                                                   ? n : n / 4)];

        if (!proto || f->proto == proto) {
            return f;
        }
    }
    return NULL;
}

/* A burst of packets of one flow. */
static void
fz_burst(struct fz_ctx *c)
{
    static const size_t sizes[] = { 1, 1, 2, 2, 3, 4, 6, 8 };
    struct fz_flow *f = fz_pick(c, 0);
    size_t n = sizes[random_range(ARRAY_SIZE(sizes))];
    uint32_t setmark[2] = { random_range(4), 0xff };
    struct fz_pkt pkts[8];

    fz_sweep(c);
    for (size_t i = 0; i < n; i++) {
        fz_next(c, &pkts[i], f);
    }
    fz_classify(c, pkts, n);
    bool commit = !pkts[0].reply || !random_range(4);
    const uint32_t *mark = random_range(3) ? NULL : setmark;
    fz_execute(c, f, pkts, n, commit, false, mark);
    c->n_bursts++;
}

/* Hardware resolves a packet of a connection, then a forced commit in the
 * reply direction (ct(commit,force)) replaces the connection before
 * conntrack executes the packet, and the sweeper may even have cleaned the
 * old one by then. */
static void
fz_forced(struct fz_ctx *c)
{
    struct fz_flow *f = fz_pick(c, 0);
    struct fz_pkt p, q;

    fz_sweep(c);
    fz_next(c, &p, f);
    fz_classify(c, &p, 1);

    /* The forcing packet, from the server. */
    if (f->proto == IPPROTO_TCP) {
        fz_pkt_init(c, &q, f, true, TCP_ACK, f->nxt[1], f->nxt[0], 0, false,
                    "ack (forced commit)");
    } else {
        fz_pkt_init(c, &q, f, true, 0, 0, 0, 0, false, "forced commit");
    }
    fz_execute(c, f, &q, 1, true, true, NULL);
    if (random_range(2)) {
        /* The sweeper cleans the old connection (conntrack still holds it
         * until an RCU grace period, and this thread does not quiesce). */
        conntrack_expire(c->sw, c->now);
        conntrack_expire(c->hw, c->now);
    }
    c->n_stale += p.resolved;
    fz_execute(c, f, &p, 1, !p.reply, false, NULL);
    c->n_forced++;
}

/* An open TCP conversation is reset and its tuple reused at once, with
 * packets of the old connection that hardware resolved before the RST
 * reaching conntrack after the new SYN. */
static void
fz_rst_reuse(struct fz_ctx *c)
{
    struct fz_flow *f = fz_pick(c, IPPROTO_TCP);
    struct fz_pkt pkts[5];
    size_t n = 0;

    if (!f || f->phase != FZ_TCP_OPEN) {
        return;
    }
    fz_sweep(c);
    fz_tcp_normal(c, &pkts[n++], f, false, false);
    bool reply = random_range(2);
    fz_pkt_init(c, &pkts[n++], f, reply, TCP_RST | TCP_ACK, f->nxt[reply],
                f->nxt[!reply], 0, false, "rst exact (reuse)");
    bool has_last = f->has_last;
    bool last_reply = f->last_reply;
    uint32_t last_seq = f->last_seq, last_ack = f->last_ack;
    fz_tcp_restart(f);
    fz_tcp_normal(c, &pkts[n++], f, false, false);           /* SYN. */
    if (has_last) {
        fz_pkt_init(c, &pkts[n++], f, last_reply, TCP_ACK | TCP_PSH,
                    last_seq, last_ack, 16, false, "old data (reuse)");
    }
    fz_pkt_init(c, &pkts[n++], f, false, TCP_ACK, last_seq, last_ack, 0,
                false, "old ack (reuse)");
    fz_classify(c, pkts, n);
    fz_execute(c, f, pkts, n, true, false, NULL);
    c->n_rst_reuse++;
}

/* An open TCP conversation closes (FIN and pure ACKs, the first closer's
 * peer moving CLOSING -> FIN_WAIT_2 in conntrack on the ACK), then a new
 * SYN reuses the tuple of the connection in TIME_WAIT. */
static void
fz_close_reuse(struct fz_ctx *c)
{
    struct fz_flow *f = fz_pick(c, IPPROTO_TCP);
    struct fz_pkt pkts[6];
    size_t n = 0;

    if (!f || f->phase != FZ_TCP_OPEN || f->fin[0] || f->fin[1]) {
        return;
    }
    fz_sweep(c);
    bool first = random_range(2);
    fz_tcp_normal(c, &pkts[n++], f, first, false);           /* Data. */
    fz_tcp_normal(c, &pkts[n++], f, first, true);            /* FIN. */
    fz_tcp_normal(c, &pkts[n++], f, !first, false);          /* ACK. */
    fz_tcp_normal(c, &pkts[n++], f, !first, false);          /* More. */
    fz_classify(c, pkts, n);
    fz_execute(c, f, pkts, n, true, false, NULL);

    /* (Unless conntrack rejected the first part and the conversation
     * restarted.) */
    n = 0;
    fz_sweep(c);
    fz_tcp_normal(c, &pkts[n++], f, !first, true);           /* FIN. */
    fz_tcp_normal(c, &pkts[n++], f, first, false);           /* ACK. */
    if (f->phase == FZ_TCP_CLOSED) {
        fz_tcp_normal(c, &pkts[n++], f, false, false);       /* SYN. */
    }
    fz_classify(c, pkts, n);
    fz_execute(c, f, pkts, n, true, false, NULL);
    c->n_close_reuse++;
}

static void
fz_flush(struct fz_ctx *c)
{
    uint16_t zone = 1 + random_range(3);
    uint16_t *pzone = random_range(2) ? &zone : NULL;

    conntrack_flush(c->sw, pzone);
    conntrack_flush(c->hw, pzone);
}

static void
fz_flush_tuple(struct fz_ctx *c)
{
    struct fz_flow *f = &c->flows[random_range(ARRAY_SIZE(c->flows))];
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
    int e1 = conntrack_flush_tuple(c->sw, &tuple, f->zone);
    int e2 = conntrack_flush_tuple(c->hw, &tuple, f->zone);
    if (e1 != e2) {
        fz_fail(c, "flush-tuple returned %d and %d", e1, e2);
    }
}

/* Time between steps: mostly short, sometimes long enough to expire UDP,
 * zone 3's TCP or almost anything. */
static long long
fz_delay(void)
{
    uint32_t r = random_range(1000);

    return (r < 990 ? random_range(300)
            : r < 996 ? 35000 + random_range(10000)
            : r < 999 ? 70000 + random_range(60000)
            : 20 * 60 * 1000);
}

static void
test_fuzz(struct ovs_cmdl_context *ctx)
{
    uint32_t seed = strtoul(ctx->argv[1], NULL, 10);
    int n_steps = atoi(ctx->argv[2]);
    int min_share = ctx->argc > 3 ? atoi(ctx->argv[3]) : 0;
    struct ct_offload *inst;
    struct fz_ctx c;

    memset(&c, 0, sizeof c);
    c.seed = seed;
    /* Debugging aids: FZ_TRACE=SPORT prints the packets of one flow (-1:
     * all), FZ_NO_OFFLOAD=1 runs "hw" without offload (both sides must
     * then always agree), FZ_NO_TIMEOUTS=1 leaves timeouts out of the
     * comparison of the tables (to look for other differences). */
    c.trace = getenv("FZ_TRACE") ? atoi(getenv("FZ_TRACE")) : 0;
    bool timeouts = !getenv("FZ_NO_TIMEOUTS");

    /* The fuzzer's clock is the process's: stopped, and moved on by the
     * fuzzer only.  Conntrack's dumps and timeouts read it. */
    time_msec();                /* Initializes the clock. */
    timeval_stop();
    c.now = time_msec();

    random_set_seed(seed);
    ct_offload_set_enabled_for_testing(true);
    c.sw = conntrack_init();
    c.hw = conntrack_init();
    conntrack_set_offload(c.hw, DP_NAME);
    c.dp = ct_offload_dp_ref(DP_NAME);
    ovs_assert(!ct_offload_create(&fz_class, NULL, DP_NAME, &inst));
    c.fz = fz_cast(inst);
    if (getenv("FZ_NO_OFFLOAD")) {
        ct_offload_set_enabled_for_testing(false);
    }
    /* Expiry is the fuzzer's (conntrack_expire()): keep the clean threads
     * out of it. */
    conntrack_set_sweep_interval(c.sw, UINT32_MAX);
    conntrack_set_sweep_interval(c.hw, UINT32_MAX);

    /* Zone 3's timeout policy: established TCP and UDP expire within the
     * fuzzer's runs, hardware-carried connections included. */
    struct timeout_policy tp;
    memset(&tp, 0, sizeof tp);
    tp.policy.id = FZ_SHORT_TP;
    ct_dpif_set_timeout_policy_attr_by_name(&tp.policy, "tcp_established",
                                            60);
    ct_dpif_set_timeout_policy_attr_by_name(&tp.policy, "tcp_fin_wait", 40);
    ct_dpif_set_timeout_policy_attr_by_name(&tp.policy, "udp_multiple", 40);
    ovs_assert(!timeout_policy_update(c.sw, &tp));
    ovs_assert(!timeout_policy_update(c.hw, &tp));

    /* Few addresses and ports, so that tuples meet across zones. */
    for (size_t i = 0; i < ARRAY_SIZE(c.flows); i++) {
        static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_TCP,
                                          IPPROTO_UDP, IPPROTO_ICMP };
        struct fz_flow *f = &c.flows[i];

        f->proto = protos[random_range(ARRAY_SIZE(protos))];
        f->client = 0x0a000001 + random_range(2);
        f->server = 0x0a000101;
        f->sport = 1000 + i;
        f->dport = f->proto == IPPROTO_ICMP ? 0 : 80 + random_range(2);
        f->zone = 1 + random_range(3);
        f->tp_id = f->zone == 3 ? FZ_SHORT_TP : 0;
        /* Each zone has its own pair of ports, as on real hosts. */
        f->port[CT_OFFLOAD_DIR_ORIG] = f->zone * 2 - 1;
        f->port[CT_OFFLOAD_DIR_REPLY] = f->zone * 2;
    }

    memset(&c.snat, 0, sizeof c.snat);
    c.snat.nat_action = NAT_ACTION_SRC;
    c.snat.min_addr.ipv4 = htonl(FZ_SNAT_ADDR);
    c.snat.max_addr.ipv4 = htonl(FZ_SNAT_ADDR);

    for (c.step = 0; c.step < n_steps; c.step++) {
        uint32_t what = random_range(1000);
        long long delay = fz_delay();

        timeval_warp(delay);
        c.now = time_msec();

        if (what < 10) {
            fz_flush(&c);
        } else if (what < 30) {
            fz_flush_tuple(&c);
        } else if (what < 50) {
            fz_forced(&c);
        } else if (what < 70) {
            fz_rst_reuse(&c);
        } else if (what < 80) {
            fz_close_reuse(&c);
        } else {
            fz_burst(&c);
        }

        /* Let the offload thread catch up, so that the emulated hardware
         * is as real hardware would be by the next packet. */
        ct_offload_dp_wait(c.dp);

        char *d1 = fz_dump(c.sw, timeouts), *d2 = fz_dump(c.hw, timeouts);
        if (strcmp(d1, d2)) {
            fz_fail(&c, "connection tables differ:\nsw:\n%shw:\n%s", d1, d2);
        }
        free(d1);
        free(d2);

        /* Let RCU free what the sweeps and flushes removed. */
        ovsrcu_quiesce();
    }

    int share = c.n_packets ? c.n_resolved * 100 / c.n_packets : 0;
    printf("fuzz: seed %"PRIu32": %d steps, %lld packets, %lld "
           "hardware-resolved (%d%%), 0 mismatches\n", seed, n_steps,
           c.n_packets, c.n_resolved, share);
    printf("fuzz: seed %"PRIu32": %lld invalid, %lld bursts, %lld forced "
           "commits (%lld after hardware resolved), %lld RST reuses, %lld "
           "close reuses\n", seed, c.n_invalid, c.n_bursts, c.n_forced,
           c.n_stale, c.n_rst_reuse, c.n_close_reuse);
    conntrack_destroy(c.sw);
    conntrack_destroy(c.hw);
    ct_offload_destroy(inst);
    ct_offload_dp_unref(c.dp);
    ct_offload_set_enabled_for_testing(false);
    if (share < min_share) {
        ovs_fatal(0, "seed %"PRIu32": only %d%% of the packets were "
                  "resolved by hardware (at least %d%% expected)", seed,
                  share, min_share);
    }
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
            fz_receive(fz_cast(inst), pkt, &tuple, flags, false, time_msec());
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

    /* Sequence checks off: threads racing on one TCP tuple cannot keep
     * its numbers consistent, and this test is about the lifecycle of
     * offloaded connections, which then get established.  The fuzzer
     * checks the semantics, with them on. */
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

/* RCU liveness.
 *
 * A provider whose every operation takes a millisecond (without quiescing,
 * as a driver call would), packet threads that create, establish and
 * remove connections much faster than that, so that the offload thread's
 * queue is never empty, and a thread that waits for RCU grace periods one
 * after the other.  A grace period needs every thread to quiesce, the
 * offload thread included: it must do so between batches, not only when it
 * has nothing left to do, or RCU stalls (and with it every postponed
 * free) as long as the churn lasts.  The assertion is one of liveness:
 * the churn goes on until 5 grace periods have completed, or fails after
 * 60 s. */

#define RCU_LIVE_GRACE_PERIODS 5
#define RCU_LIVE_DEADLINE_MS (60 * 1000)

static atomic_bool slow_sleep = true;
static atomic_uint64_t slow_n_ops = 0;

static void
slow_op(void)
{
    uint64_t orig;
    bool sleep;

    atomic_read(&slow_sleep, &sleep);
    if (sleep) {
        xnanosleep_no_quiesce(1000 * 1000);
    }
    atomic_add(&slow_n_ops, 1, &orig);
}

static int
slow_create(const struct ct_offload_class *class OVS_UNUSED,
            struct dpif_offload *dpif_offload OVS_UNUSED,
            struct ct_offload **instp)
{
    *instp = xzalloc(sizeof **instp);
    return 0;
}

static void
slow_destroy(struct ct_offload *inst)
{
    free(inst);
}

static int
slow_conn_add(struct ct_offload *inst OVS_UNUSED,
              struct ct_offload_conn *conn OVS_UNUSED)
{
    slow_op();
    return 0;
}

static int
slow_conn_established(struct ct_offload *inst OVS_UNUSED,
                      struct ct_offload_conn *conn OVS_UNUSED,
                      struct netdev *netdev OVS_UNUSED)
{
    slow_op();
    return 0;
}

static void
slow_conn_del(struct ct_offload *inst OVS_UNUSED,
              struct ct_offload_conn *conn OVS_UNUSED)
{
    slow_op();
}

static int
slow_conn_update(struct ct_offload *inst OVS_UNUSED,
                 struct ct_offload_conn *conn OVS_UNUSED,
                 struct ct_offload_hw_stats *stats OVS_UNUSED)
{
    slow_op();
    return 0;
}

static const struct ct_offload_class slow_class = {
    .type = "slow",
    .priority = 1,
    .create = slow_create,
    .destroy = slow_destroy,
    .conn_add = slow_conn_add,
    .conn_established = slow_conn_established,
    .conn_del = slow_conn_del,
    .conn_update = slow_conn_update,
};

struct rcu_live {
    struct conntrack *ct;
    atomic_bool stop;
    atomic_uint64_t n_conns;
    atomic_uint64_t n_grace_periods;
};

struct rcu_live_thread {
    struct rcu_live *rl;
    uint16_t zone;
};

/* A PMD thread's life: batches of 32 new UDP connections, committed and
 * answered (so established), one batch a millisecond, quiescent between
 * batches.  The connections live for about a second (the thread cycles
 * through RCU_LIVE_N_TUPLES tuples, removing each one's previous connection
 * before it creates the next), longer than their events wait in the queue:
 * events of connections already gone cost the provider nothing. */
#define RCU_LIVE_N_TUPLES 32768

static void *
rcu_live_packet_thread(void *t_)
{
    struct rcu_live_thread *t = t_;
    struct rcu_live *rl = t->rl;
    uint32_t next = 0;
    uint64_t orig;
    bool stop;

    for (atomic_read(&rl->stop, &stop); !stop; atomic_read(&rl->stop, &stop)) {
        for (int i = 0; i < 32; i++) {
            uint16_t sport_ = 1 + (next + i) % RCU_LIVE_N_TUPLES;
            struct ct_dpif_tuple tuple;

            memset(&tuple, 0, sizeof tuple);
            tuple.l3_type = AF_INET;
            tuple.ip_proto = IPPROTO_UDP;
            tuple.src.ip = htonl(CLIENT);
            tuple.dst.ip = htonl(SERVER);
            tuple.src_port = htons(sport_);
            tuple.dst_port = htons(53);
            conntrack_flush_tuple(rl->ct, &tuple, t->zone);
        }
        for (int reply = 0; reply < 2; reply++) {
            struct dp_packet_batch batch;

            dp_packet_batch_init(&batch);
            for (int i = 0; i < 32; i++) {
                uint16_t sport_ = 1 + (next + i) % RCU_LIVE_N_TUPLES;

                dp_packet_batch_add(&batch, reply
                    ? make_packet(IPPROTO_UDP, SERVER, CLIENT, 53, sport_,
                                  0, 2)
                    : make_packet(IPPROTO_UDP, CLIENT, SERVER, sport_, 53,
                                  0, 1));
            }
            conntrack_execute(rl->ct, &batch, htons(ETH_TYPE_IP), false,
                              !reply, t->zone, NULL, NULL, NULL, NULL,
                              time_msec(), 0);
            dp_packet_delete_batch(&batch, true);
        }
        next += 32;
        atomic_add(&rl->n_conns, 32, &orig);
        ovsrcu_quiesce();
        xnanosleep(1000 * 1000);
    }
    return NULL;
}

static void *
rcu_live_sync_thread(void *rl_)
{
    struct rcu_live *rl = rl_;
    uint64_t orig;
    bool stop;

    for (atomic_read(&rl->stop, &stop); !stop; atomic_read(&rl->stop, &stop)) {
        ovsrcu_synchronize();
        atomic_add(&rl->n_grace_periods, 1, &orig);
    }
    return NULL;
}

static void
test_rcu_liveness(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    struct smap cfg = SMAP_INITIALIZER(&cfg);
    struct rcu_live_thread threads[2];
    pthread_t packet_threads[2], sync;
    uint64_t n_grace_periods, n_conns, n_ops, ops0;
    struct ct_offload_dp *dp;
    struct ct_offload *inst;
    struct rcu_live rl;
    long long start, elapsed;

    memset(&rl, 0, sizeof rl);
    atomic_init(&rl.stop, false);
    atomic_init(&rl.n_conns, 0);
    atomic_init(&rl.n_grace_periods, 0);

    ct_offload_set_enabled_for_testing(true);
    /* Longer than a batch (CT_OFFLOAD_BATCH_MAX), so that the offload
     * thread never finds it empty, short enough that its events are of
     * connections still alive when the offload thread gets to them. */
    smap_add(&cfg, "hw-offload-ct-queue-size", "256");
    ct_offload_set_global_cfg(&cfg);
    rl.ct = conntrack_init();
    conntrack_set_offload(rl.ct, DP_NAME);
    dp = ct_offload_dp_ref(DP_NAME);
    ovs_assert(!ct_offload_create(&slow_class, NULL, DP_NAME, &inst));

    for (int i = 0; i < ARRAY_SIZE(packet_threads); i++) {
        threads[i].rl = &rl;
        threads[i].zone = i + 1;
        packet_threads[i] = ovs_thread_create("rcu_live_packets",
                                              rcu_live_packet_thread,
                                              &threads[i]);
    }

    /* The churn is on once the provider is busy and the queue holds more
     * than a batch. */
    start = time_msec();
    for (;;) {
        atomic_read(&slow_n_ops, &ops0);
        atomic_read(&rl.n_conns, &n_conns);
        if (ops0 >= 20 && n_conns >= 2000) {
            break;
        }
        ovs_assert(time_msec() - start < RCU_LIVE_DEADLINE_MS);
        xnanosleep(1000 * 1000);
    }

    start = time_msec();
    sync = ovs_thread_create("rcu_live_sync", rcu_live_sync_thread, &rl);
    for (;;) {
        elapsed = time_msec() - start;
        atomic_read(&rl.n_grace_periods, &n_grace_periods);
        if (n_grace_periods >= RCU_LIVE_GRACE_PERIODS) {
            break;
        }
        if (elapsed >= RCU_LIVE_DEADLINE_MS) {
            atomic_read(&slow_n_ops, &n_ops);
            atomic_read(&rl.n_conns, &n_conns);
            /* The synchronizing thread may never return: no cleanup. */
            ovs_fatal(0, "rcu-liveness: only %"PRIu64" RCU grace periods "
                      "completed in %lld ms of churn (%"PRIu64" connections "
                      "created, %"PRIu64" provider operations): a thread "
                      "does not quiesce", n_grace_periods, elapsed,
                      n_conns, n_ops - ops0);
        }
        /* Quiescent while it sleeps. */
        xnanosleep(10 * 1000 * 1000);
    }
    atomic_read(&slow_n_ops, &n_ops);
    atomic_read(&rl.n_conns, &n_conns);

    /* The churn was still on: the provider was still busy. */
    atomic_store(&rl.stop, true);
    atomic_store(&slow_sleep, false);
    ovsrcu_quiesce_start();
    for (int i = 0; i < ARRAY_SIZE(packet_threads); i++) {
        xpthread_join(packet_threads[i], NULL);
    }
    xpthread_join(sync, NULL);
    ovsrcu_quiesce_end();

    conntrack_flush(rl.ct, NULL);
    ct_offload_dp_wait(dp);
    conntrack_destroy(rl.ct);
    ct_offload_destroy(inst);
    ct_offload_dp_unref(dp);
    ct_offload_set_enabled_for_testing(false);
    smap_clear(&cfg);
    ct_offload_set_global_cfg(&cfg);
    smap_destroy(&cfg);

    printf("rcu-liveness: %d grace periods in %lld ms under churn "
           "(%"PRIu64" provider operations of 1 ms meanwhile, %"PRIu64
           " connections created in all)\n", RCU_LIVE_GRACE_PERIODS,
           elapsed, n_ops - ops0, n_conns);
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
    {"fuzz", "seed steps [min-hw-percent]", 2, 3, test_fuzz, OVS_RO},
    {"stress", "threads packets", 2, 2, test_stress, OVS_RO},
    {"rcu-liveness", NULL, 0, 0, test_rcu_liveness, OVS_RO},
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
