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

/* Benchmarks of conntrack offload, run by "make bench" (tools/bench.sh),
 * never by the testsuite: they print measurements, they assert nothing
 * about time.
 *
 * Conntrack runs real packets, as in test-ct-offload.c; a "null" provider
 * stands in for hardware: it accepts every connection and does no work, so
 * that what is measured is the cost of conntrack and of the offload core.
 *
 * Each command prints its results as "key=value" lines, which
 * tools/bench.sh collects.  Each timed section calls conntrack through a
 * function of its own (bench_new_conn(), bench_first_reply(), bench_hit()),
 * so that "valgrind --tool=callgrind --toggle-collect=bench_hit", for
 * example, counts exactly its instructions, without packet construction,
 * setup or other threads. */

#include <config.h>

#include <errno.h>
#if HAVE_DECL_MALLOC_TRIM
#include <malloc.h>
#endif
/* mallinfo2(), the allocator's bytes in use, is glibc's since 2.33. */
#if HAVE_DECL_MALLOC_TRIM && defined(__GLIBC__)
#if __GLIBC_PREREQ(2, 33)
#define HAVE_MALLINFO2 1
#endif
#endif
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "command-line.h"
#include "conntrack.h"
#include "csum.h"
#include "ct-dpif.h"
#include "ct-offload.h"
#include "ct-offload-provider.h"
#include "dp-packet.h"
#include "flow.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "ovstest.h"
#include "packets.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"

#define DP_NAME "bench@dp0"

/* Connection 'i' goes from CLIENT_BASE + i / PORTS_PER_IP, port
 * PORT_BASE + i % PORTS_PER_IP, to SERVER port SERVER_PORT, so that the
 * provider can tell which connection a call is about from its tuple. */
#define CLIENT_BASE 0x0a000001          /* 10.0.0.1 */
#define SERVER 0x0a640001               /* 10.100.0.1 */
#define SERVER_PORT 53
#define PORT_BASE 1024
#define PORTS_PER_IP 50000
#define CLIENT_PORT 1                   /* Input port of the client. */
#define SERVER_PORT_NO 2                /* Input port of the server. */

/* Large enough that no event is dropped however far the producer runs
 * ahead of the offload thread, which would skew every figure. */
#define QUEUE_SIZE "20000000"

#define BATCH NETDEV_MAX_BURST

#define PROC_SELF_IO "/proc/self/io"
#define PROC_SELF_STATM "/proc/self/statm"

/* For the timed functions, which callgrind must find under their own
 * names: not inlined, not cloned, and not folded with another function of
 * identical code. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define BENCH_NOINLINE __attribute__((__noipa__))
#elif defined(__GNUC__)
#define BENCH_NOINLINE __attribute__((__noinline__))
#else
#define BENCH_NOINLINE
#endif

static long long
clock_ns(clockid_t clock)
{
    struct timespec ts;

    xclock_gettime(clock, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long
now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of the calling thread.  Other jobs on the machine preempt the
 * benchmark, which wall time counts and this does not.  A system call here
 * (a few microseconds under virtualization), so it times whole passes, not
 * batches. */
static long long
thread_cpu_ns(void)
{
    return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static size_t
parse_count(const char *s, const char *what)
{
    unsigned long long n;

    if (!str_to_ullong(s, 10, &n) || !n || n > 100 * 1000 * 1000) {
        ovs_fatal(0, "%s: bad %s", s, what);
    }
    return n;
}

/* The null provider. */

/* Knobs and counters of the null provider.  Global, since a benchmark
 * creates one instance at a time. */
static atomic_bool null_hold = false;   /* Callbacks wait while true. */
static atomic_uint64_t null_n_calls = 0;
static atomic_uint64_t null_n_add = 0;
static atomic_uint64_t null_n_est = 0;

/* When nonnull, conn_established() stores the time at which it ran, in
 * now_ns() units, in 'null_est_ns[i]' for connection 'i' < 'null_n_slots'.
 * Written by the offload thread before it bumps 'null_n_est', read by the
 * main thread after it saw that counter move (or after
 * ct_offload_dp_wait()), so the atomics order the accesses. */
static long long *null_est_ns;
static size_t null_n_slots;

static size_t
conn_index(const struct ct_offload_conn *conn)
{
    const struct ct_dpif_tuple *t = &conn->tuple[CT_OFFLOAD_DIR_ORIG];

    return ((size_t) (ntohl(t->src.ip) - CLIENT_BASE) * PORTS_PER_IP
            + (ntohs(t->src_port) - PORT_BASE));
}

static void
null_wait_hold(void)
{
    for (;;) {
        bool hold;

        atomic_read(&null_hold, &hold);
        if (!hold) {
            return;
        }
        /* Sleep rather than spin: on two cores the producer needs the
         * other one. */
        xnanosleep(100 * 1000);
    }
}

static void
null_count(atomic_uint64_t *counter)
{
    uint64_t orig;

    null_wait_hold();
    atomic_add(&null_n_calls, 1, &orig);
    if (counter) {
        atomic_add(counter, 1, &orig);
    }
}

static int
null_create(const struct ct_offload_class *class OVS_UNUSED,
            struct dpif_offload *dpif_offload OVS_UNUSED,
            struct ct_offload **instp)
{
    *instp = xzalloc(sizeof **instp);
    return 0;
}

static void
null_destroy(struct ct_offload *inst)
{
    free(inst);
}

static int
null_conn_add(struct ct_offload *inst OVS_UNUSED,
              struct ct_offload_conn *conn OVS_UNUSED)
{
    null_count(&null_n_add);
    return 0;
}

static int
null_conn_established(struct ct_offload *inst OVS_UNUSED,
                      struct ct_offload_conn *conn,
                      struct netdev *netdev OVS_UNUSED)
{
    if (null_est_ns) {
        size_t i = conn_index(conn);

        if (i < null_n_slots) {
            null_est_ns[i] = now_ns();
        }
    }
    null_count(&null_n_est);
    return 0;
}

static void
null_conn_del(struct ct_offload *inst OVS_UNUSED,
              struct ct_offload_conn *conn OVS_UNUSED)
{
    null_count(NULL);
}

static int
null_conn_update(struct ct_offload *inst OVS_UNUSED,
                 struct ct_offload_conn *conn OVS_UNUSED,
                 struct ct_offload_hw_stats *stats)
{
    /* "Hardware saw nothing": the expiry pass removes the connection, as
     * for an idle one. */
    memset(stats, 0, sizeof *stats);
    return 0;
}

static void
null_flush(struct ct_offload *inst OVS_UNUSED)
{
}

static const struct ct_offload_class null_class = {
    .type = "null",
    .priority = 0,
    .create = null_create,
    .destroy = null_destroy,
    .conn_add = null_conn_add,
    .conn_established = null_conn_established,
    .conn_del = null_conn_del,
    .conn_update = null_conn_update,
    .flush = null_flush,
};

static uint64_t
counter_get(atomic_uint64_t *counter)
{
    uint64_t value;

    atomic_read(counter, &value);
    return value;
}

/* Waits until 'counter' moves past 'old'.  Gives up after 10 seconds, so
 * that a connection the core lost fails the benchmark instead of hanging
 * it. */
static void
wait_counter(atomic_uint64_t *counter, uint64_t old)
{
    for (int i = 0; counter_get(counter) == old; i++) {
        if (i >= 500 * 1000) {
            ovs_fatal(0, "the provider was not called");
        }
        xnanosleep(20 * 1000);
    }
}

/* The benchmark's world: the offload state of DP_NAME with one null
 * instance, and a conntrack bound to it. */
struct world {
    struct ct_offload_dp *dp;
    struct ct_offload *inst;
    struct conntrack *ct;
};

/* Creates the null instance.  'enabled' says whether offload is on; when
 * it is off, conntrack is bound all the same, as dpif-netdev always binds
 * it, so that "off" is the inactive path of the patched code. */
static void
world_init(struct world *w, bool enabled)
{
    struct smap cfg = SMAP_INITIALIZER(&cfg);

    smap_add(&cfg, "hw-offload-ct-queue-size", QUEUE_SIZE);
    ct_offload_set_global_cfg(&cfg);
    smap_destroy(&cfg);

    ct_offload_set_enabled_for_testing(enabled);
    ovs_assert(!ct_offload_create(&null_class, NULL, DP_NAME, &w->inst));
    w->dp = ct_offload_dp_ref(DP_NAME);
    w->ct = NULL;
}

static void
world_ct_init(struct world *w)
{
    w->ct = conntrack_init();
    conntrack_set_offload(w->ct, DP_NAME);
}

static void
world_ct_destroy(struct world *w)
{
    conntrack_destroy(w->ct);
    w->ct = NULL;
    ct_offload_dp_wait(w->dp);
    /* Lets RCU free what the connections left behind. */
    ovsrcu_quiesce();
}

static void
world_destroy(struct world *w)
{
    if (w->ct) {
        world_ct_destroy(w);
    }
    ct_offload_destroy(w->inst);
    ct_offload_dp_unref(w->dp);
    ct_offload_set_enabled_for_testing(false);
}

/* Packets. */

/* Fills 'flow' with the addresses and ports of connection 'i', from the
 * client's side unless 'reply'. */
static void
conn_flow(size_t i, bool reply, uint8_t nw_proto, struct flow *flow)
{
    uint32_t client = CLIENT_BASE + i / PORTS_PER_IP;
    uint16_t port = PORT_BASE + i % PORTS_PER_IP;

    memset(flow, 0, sizeof *flow);
    flow->dl_type = htons(ETH_TYPE_IP);
    flow->dl_src = (struct eth_addr) ETH_ADDR_C(50, 54, 00, 00, 00, 01);
    flow->dl_dst = (struct eth_addr) ETH_ADDR_C(50, 54, 00, 00, 00, 02);
    flow->nw_src = htonl(reply ? SERVER : client);
    flow->nw_dst = htonl(reply ? client : SERVER);
    flow->nw_proto = nw_proto;
    flow->nw_ttl = 64;
    flow->tp_src = htons(reply ? SERVER_PORT : port);
    flow->tp_dst = htons(reply ? port : SERVER_PORT);
}

static struct dp_packet *
make_packet(size_t i, bool reply)
{
    struct dp_packet *pkt = dp_packet_new(0);
    struct flow flow;

    conn_flow(i, reply, IPPROTO_UDP, &flow);
    flow_compose(pkt, &flow, NULL, 16, false);
    pkt_metadata_init(&pkt->md, u32_to_odp(reply ? SERVER_PORT_NO
                                                 : CLIENT_PORT));
    return pkt;
}

static struct dp_packet **
make_packets(size_t n, bool reply)
{
    struct dp_packet **pkts = xmalloc(n * sizeof *pkts);

    for (size_t i = 0; i < n; i++) {
        pkts[i] = make_packet(i, reply);
    }
    return pkts;
}

static void
free_packets(struct dp_packet **pkts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dp_packet_delete(pkts[i]);
    }
    free(pkts);
}

/* Makes 'pkt' look as it does when it arrives from a port: no conntrack
 * state, no cached connection. */
static void
reset_packet(struct dp_packet *pkt)
{
    pkt_metadata_init(&pkt->md, pkt->md.in_port.odp_port);
}

static void
fill_batch(struct dp_packet_batch *batch, struct dp_packet **pkts, size_t n)
{
    dp_packet_batch_init(batch);
    for (size_t i = 0; i < n; i++) {
        dp_packet_batch_add(batch, pkts[i]);
    }
}

static void
bench_execute(struct conntrack *ct, struct dp_packet_batch *batch,
              bool commit, long long now)
{
    conntrack_execute(ct, batch, htons(ETH_TYPE_IP), false, commit, 0,
                      NULL, NULL, NULL, NULL, now, 0);
}

/* The timed sections, one function each, never inlined, for callgrind
 * (see the comment at the top of the file). */
static BENCH_NOINLINE void
bench_new_conn(struct conntrack *ct, struct dp_packet_batch *batch,
               bool commit, long long now)
{
    bench_execute(ct, batch, commit, now);
}

static BENCH_NOINLINE void
bench_first_reply(struct conntrack *ct, struct dp_packet_batch *batch,
                  bool commit, long long now)
{
    bench_execute(ct, batch, commit, now);
}

static BENCH_NOINLINE void
bench_hit(struct conntrack *ct, struct dp_packet_batch *batch, bool commit,
          long long now)
{
    bench_execute(ct, batch, commit, now);
}

/* Warm-up rounds run the same code under another name, so that callgrind
 * does not count them. */
static BENCH_NOINLINE void
bench_warm_up(struct conntrack *ct, struct dp_packet_batch *batch,
              bool commit, long long now)
{
    bench_execute(ct, batch, commit, now);
}

typedef void bench_func(struct conntrack *, struct dp_packet_batch *,
                        bool commit, long long now);

/* Untimed traffic, for setup. */
static void
setup_execute(struct conntrack *ct, struct dp_packet_batch *batch,
              bool commit)
{
    conntrack_execute(ct, batch, htons(ETH_TYPE_IP), false, commit, 0,
                      NULL, NULL, NULL, NULL, time_msec(), 0);
}

/* Runs 'pkts' through ct() in batches, each packet fresh from its port,
 * and returns the wall time spent in conntrack, in nanoseconds.  Stores in
 * '*cpu_ns' the thread's CPU time for the whole pass, which also counts
 * resetting the packets' metadata. */
static long long
timed_pass(bench_func *func, struct conntrack *ct, struct dp_packet **pkts,
           size_t n, bool commit, long long *cpu_ns)
{
    long long cpu_start = thread_cpu_ns();
    long long now = time_msec();
    long long total = 0;

    for (size_t i = 0; i < n; i += BATCH) {
        size_t cnt = MIN(BATCH, n - i);
        struct dp_packet_batch batch;

        for (size_t j = 0; j < cnt; j++) {
            reset_packet(pkts[i + j]);
        }
        fill_batch(&batch, &pkts[i], cnt);

        long long start = now_ns();
        func(ct, &batch, commit, now);
        total += now_ns() - start;
    }
    *cpu_ns = thread_cpu_ns() - cpu_start;
    return total;
}

/* Creates connections 'first' to 'first + n - 1' with a committed request
 * and a reply each, and stores the offload state of each, if 'oconns' is
 * nonnull, in 'oconns[i - first]'.  Packets are made and freed as it goes,
 * so that a million connections need no million packets. */
static void
create_conns(struct conntrack *ct, size_t first, size_t n,
             struct ct_offload_conn **oconns)
{
    for (size_t i = 0; i < n; i += BATCH) {
        size_t cnt = MIN(BATCH, n - i);
        struct dp_packet *req[BATCH], *rep[BATCH];
        struct dp_packet_batch batch;

        for (size_t j = 0; j < cnt; j++) {
            req[j] = make_packet(first + i + j, false);
            rep[j] = make_packet(first + i + j, true);
        }
        fill_batch(&batch, req, cnt);
        setup_execute(ct, &batch, true);
        fill_batch(&batch, rep, cnt);
        setup_execute(ct, &batch, false);
        for (size_t j = 0; j < cnt; j++) {
            if (oconns) {
                oconns[i + j] = (req[j]->md.conn
                                 ? conntrack_conn_offload(req[j]->md.conn)
                                 : NULL);
            }
            dp_packet_delete(req[j]);
            dp_packet_delete(rep[j]);
        }
        /* As a PMD thread does now and then, so that RCU can free. */
        ovsrcu_quiesce();
    }
}

/* Statistics. */

static int
compare_doubles(const void *a_, const void *b_)
{
    const double *a = a_;
    const double *b = b_;

    return *a < *b ? -1 : *a > *b;
}

/* Returns the 'pct' percentile (0 to 100) of the 'n' values in 'v', which
 * it sorts, by the nearest-rank method. */
static double
percentile(double *v, size_t n, double pct)
{
    size_t rank;

    if (!n) {
        return 0;
    }
    qsort(v, n, sizeof *v, compare_doubles);
    rank = (size_t) (pct / 100.0 * n + 0.999999);
    rank = MAX(rank, 1);
    return v[MIN(rank, n) - 1];
}

static double
median(double *v, size_t n)
{
    return percentile(v, n, 50);
}

static void
put_result(const char *key, double value)
{
    printf("%s=%.6g\n", key, value);
    fflush(stdout);
}

/* Prints the median, 99th percentile and maximum of the 'n' latencies in
 * 'lat', in microseconds. */
static void
put_latency(const char *prefix, double *lat, size_t n)
{
    static const struct {
        const char *name;
        double pct;
    } stats[] = {
        { "p50", 50 }, { "p99", 99 }, { "max", 100 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(stats); i++) {
        char key[64];

        snprintf(key, sizeof key, "%s.latency_%s_us", prefix, stats[i].name);
        put_result(key, percentile(lat, n, stats[i].pct));
    }
}

/* Modes, for commands that compare two of them in one process (alternating
 * rounds, so that drifting machine load hits both alike) or run one of
 * them alone (for callgrind). */
static void
parse_modes(const char *s, const char *a, const char *b, bool *run_a,
            bool *run_b)
{
    *run_a = !strcmp(s, a) || !strcmp(s, "both");
    *run_b = !strcmp(s, b) || !strcmp(s, "both");
    if (!*run_a && !*run_b) {
        ovs_fatal(0, "%s: mode must be %s, %s or both", s, a, b);
    }
}

/* Write system calls made by this process so far, or 0 if the kernel does
 * not say.  In a timed pass, the only writes are the producer's wake-ups of
 * the offload thread (latch_set()), so their count says how often the PMD
 * paid for one. */
static long long
write_syscalls(void)
{
    FILE *f = fopen(PROC_SELF_IO, "r");
    long long n = 0;
    char line[128];

    if (!f) {
        return 0;
    }
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "syscw: %lld", &n) == 1) {
            break;
        }
    }
    fclose(f);
    return n;
}

/* new-conn N ROUNDS on|off|both
 *
 * The PMD's cost per new connection: ct(commit) of the first packet of N
 * new connections, then the first reply of each (which, with offload on,
 * queues the "established" event), with offload active (null instance) or
 * inactive, in a fresh conntrack each round.  A first round, not counted,
 * warms up the allocator. */
static void
cmd_new_conn(struct ovs_cmdl_context *ctx)
{
    enum {
        COMMIT_NS, COMMIT_CPU_NS, COMMIT_WRITES,
        REPLY_NS, REPLY_CPU_NS, REPLY_WRITES,
        N_STATS
    };
    static const char *stat_names[N_STATS] = {
        "commit_ns", "commit_cpu_ns", "commit_writes",
        "reply_ns", "reply_cpu_ns", "reply_writes",
    };
    static const char *mode_names[2] = { "off", "on" };
    size_t n = parse_count(ctx->argv[1], "number of connections");
    size_t rounds = parse_count(ctx->argv[2], "number of rounds");
    bool run_on, run_off;

    parse_modes(ctx->argv[3], "on", "off", &run_on, &run_off);

    struct dp_packet **req = make_packets(n, false);
    struct dp_packet **rep = make_packets(n, true);
    double *stats[2][N_STATS];
    size_t n_runs[2] = { 0, 0 };
    uint64_t offered = 0;
    struct world w;

    for (int m = 0; m < 2; m++) {
        for (int s = 0; s < N_STATS; s++) {
            stats[m][s] = xcalloc(rounds, sizeof *stats[m][s]);
        }
    }

    world_init(&w, false);
    for (size_t r = 0; r <= rounds; r++) {
        for (int k = 0; k < 2; k++) {
            /* Alternate which mode goes first. */
            int m = (r + k) % 2;        /* 0: off, 1: on. */
            double v[N_STATS];

            if (m ? !run_on : !run_off) {
                continue;
            }
            ct_offload_set_enabled_for_testing(m);
            world_ct_init(&w);

            uint64_t adds = counter_get(&null_n_add);
            long long writes = write_syscalls();
            long long cpu;
            long long t = timed_pass(r ? bench_new_conn : bench_warm_up,
                                     w.ct, req, n, true, &cpu);
            v[COMMIT_NS] = (double) t / n;
            v[COMMIT_CPU_NS] = (double) cpu / n;
            v[COMMIT_WRITES] = (double) (write_syscalls() - writes) / n;

            writes = write_syscalls();
            t = timed_pass(r ? bench_first_reply : bench_warm_up, w.ct, rep,
                           n, false, &cpu);
            v[REPLY_NS] = (double) t / n;
            v[REPLY_CPU_NS] = (double) cpu / n;
            v[REPLY_WRITES] = (double) (write_syscalls() - writes) / n;

            ct_offload_dp_wait(w.dp);
            if (r) {
                for (int s = 0; s < N_STATS; s++) {
                    stats[m][s][n_runs[m]] = v[s];
                }
                n_runs[m]++;
                if (m) {
                    offered += counter_get(&null_n_add) - adds;
                }
            }
            world_ct_destroy(&w);
        }
    }
    world_destroy(&w);

    for (int m = 0; m < 2; m++) {
        for (int s = 0; s < N_STATS; s++) {
            char key[64];

            if (n_runs[m]) {
                snprintf(key, sizeof key, "new_conn.%s.%s", mode_names[m],
                         stat_names[s]);
                put_result(key, median(stats[m][s], n_runs[m]));
            }
            free(stats[m][s]);
        }
    }
    if (run_on) {
        /* Every connection must have reached the provider, or the "on"
         * figures would be those of a dropped event. */
        put_result("new_conn.on.offered_fraction",
                   (double) offered / (n * n_runs[1]));
    }
    free_packets(req, n);
    free_packets(rep, n);
}

/* hw-hit N ROUNDS hw|sw|both
 *
 * The PMD's cost per packet of an established, offloaded connection:
 * ct() of packets that the provider's receive path already matched to
 * their connection (ct_offload_packet_set_conn(), as a NIC mark would)
 * versus the same packets through the software lookup. */
static void
cmd_hw_hit(struct ovs_cmdl_context *ctx)
{
    size_t n = parse_count(ctx->argv[1], "number of connections");
    size_t rounds = parse_count(ctx->argv[2], "number of rounds");
    bool run_hw, run_sw;

    parse_modes(ctx->argv[3], "hw", "sw", &run_hw, &run_sw);

    struct ct_offload_conn **oconns = xcalloc(n, sizeof *oconns);
    struct dp_packet **pkts = make_packets(n, false);
    double *ns[2], *cpu_ns[2];
    size_t n_runs[2] = { 0, 0 };
    size_t in_hw = 0, bad_state = 0;
    struct world w;

    for (int m = 0; m < 2; m++) {
        ns[m] = xcalloc(rounds, sizeof *ns[m]);
        cpu_ns[m] = xcalloc(rounds, sizeof *cpu_ns[m]);
    }

    world_init(&w, true);
    world_ct_init(&w);
    create_conns(w.ct, 0, n, oconns);
    ct_offload_dp_wait(w.dp);
    for (size_t i = 0; i < n; i++) {
        in_hw += oconns[i] && ct_offload_conn_in_hw(oconns[i]);
    }

    /* A first round, not counted, warms up the caches. */
    long long now = time_msec();
    for (size_t r = 0; r <= rounds; r++) {
        for (int k = 0; k < 2; k++) {
            int m = (r + k) % 2;        /* 0: sw, 1: hw. */
            long long total = 0;

            if (m ? !run_hw : !run_sw) {
                continue;
            }
            /* For the hardware path, CPU time includes what the provider's
             * receive path does, ct_offload_packet_set_conn(). */
            long long cpu_start = thread_cpu_ns();
            for (size_t i = 0; i < n; i += BATCH) {
                size_t cnt = MIN(BATCH, n - i);
                struct dp_packet_batch batch;

                for (size_t j = 0; j < cnt; j++) {
                    reset_packet(pkts[i + j]);
                    if (m && oconns[i + j]) {
                        /* What the provider's receive path does. */
                        ct_offload_packet_set_conn(pkts[i + j],
                                                   oconns[i + j],
                                                   CT_OFFLOAD_DIR_ORIG);
                    }
                }
                fill_batch(&batch, &pkts[i], cnt);

                long long start = now_ns();
                (r ? bench_hit : bench_warm_up)(w.ct, &batch, false, now);
                total += now_ns() - start;

                for (size_t j = 0; j < cnt; j++) {
                    bad_state += (pkts[i + j]->md.ct_state
                                  != (CS_TRACKED | CS_ESTABLISHED));
                }
            }
            if (r) {
                cpu_ns[m][n_runs[m]] = (double) (thread_cpu_ns() - cpu_start)
                                       / n;
                ns[m][n_runs[m]++] = (double) total / n;
            }
        }
    }

    static const char *names[2] = { "sw", "hw" };
    for (int m = 0; m < 2; m++) {
        char key[64];

        if (n_runs[m]) {
            snprintf(key, sizeof key, "hw_hit.%s.ns_per_pkt", names[m]);
            put_result(key, median(ns[m], n_runs[m]));
            snprintf(key, sizeof key, "hw_hit.%s.cpu_ns_per_pkt", names[m]);
            put_result(key, median(cpu_ns[m], n_runs[m]));
        }
        free(ns[m]);
        free(cpu_ns[m]);
    }
    /* Sanity: all connections offloaded, and both paths give the state
     * that software gives an established connection. */
    put_result("hw_hit.in_hw_fraction", (double) in_hw / n);
    put_result("hw_hit.bad_state", bad_state);

    world_destroy(&w);
    free_packets(pkts, n);
    free(oconns);
}

/* pipeline N_CONNS N_IDLE
 *
 * The offload thread with a provider that does no work:
 *
 *   - drain rate: with the provider held, N_CONNS connections queue their
 *     "add" and "established" events, then a flush queues N_CONNS "del"
 *     events; each backlog is timed from the release until the queue is
 *     empty.
 *
 *   - streaming: N_CONNS connections set up as fast as the PMD can, with
 *     the latency from each reply's ct() to conn_established().
 *
 *   - idle latency: N_IDLE connections one at a time, each reply sent
 *     while the offload thread sleeps. */
static void
cmd_pipeline(struct ovs_cmdl_context *ctx)
{
    size_t n = parse_count(ctx->argv[1], "number of connections");
    size_t n_idle = parse_count(ctx->argv[2], "number of connections");
    struct world w;

    world_init(&w, true);

    /* Drain rate of "add" and "established". */
    world_ct_init(&w);
    atomic_store(&null_hold, true);
    long long start = now_ns();
    create_conns(w.ct, 0, n, NULL);
    long long queued = now_ns();
    uint64_t before = counter_get(&null_n_calls);
    atomic_store(&null_hold, false);
    ct_offload_dp_wait(w.dp);
    long long drained = now_ns();
    uint64_t n_events = counter_get(&null_n_calls) - before;
    put_result("pipeline.setup_events_per_s",
               2.0 * n / ((queued - start) / 1e9));
    put_result("pipeline.add_est.events", n_events);
    put_result("pipeline.add_est.events_per_s",
               n_events / ((drained - queued) / 1e9));
    uint64_t n_est = counter_get(&null_n_est);
    put_result("pipeline.add_est.in_hw_fraction", (double) n_est / n);

    /* Drain rate of "del". */
    atomic_store(&null_hold, true);
    before = counter_get(&null_n_calls);
    conntrack_flush(w.ct, NULL);
    queued = now_ns();
    atomic_store(&null_hold, false);
    ct_offload_dp_wait(w.dp);
    drained = now_ns();
    uint64_t n_dels = counter_get(&null_n_calls) - before;
    put_result("pipeline.del.events", n_dels);
    put_result("pipeline.del.events_per_s",
               n_dels / ((drained - queued) / 1e9));
    world_ct_destroy(&w);

    /* Streaming, with per-connection latency. */
    long long *exec_ns = xcalloc(n, sizeof *exec_ns);
    double *lat = xcalloc(MAX(n, n_idle), sizeof *lat);
    size_t n_lat = 0;

    null_est_ns = xcalloc(MAX(n, n_idle), sizeof *null_est_ns);
    null_n_slots = MAX(n, n_idle);
    world_ct_init(&w);
    before = counter_get(&null_n_calls);
    start = now_ns();
    for (size_t i = 0; i < n; i += BATCH) {
        size_t cnt = MIN(BATCH, n - i);
        struct dp_packet *req[BATCH], *rep[BATCH];
        struct dp_packet_batch batch;

        for (size_t j = 0; j < cnt; j++) {
            req[j] = make_packet(i + j, false);
            rep[j] = make_packet(i + j, true);
        }
        fill_batch(&batch, req, cnt);
        setup_execute(w.ct, &batch, true);
        fill_batch(&batch, rep, cnt);
        long long t = now_ns();
        for (size_t j = 0; j < cnt; j++) {
            exec_ns[i + j] = t;
        }
        setup_execute(w.ct, &batch, false);
        dp_packet_delete_batch(&batch, true);
        for (size_t j = 0; j < cnt; j++) {
            dp_packet_delete(req[j]);
        }
        ovsrcu_quiesce();
    }
    ct_offload_dp_wait(w.dp);
    long long end = now_ns();
    put_result("pipeline.streaming.events_per_s",
               (counter_get(&null_n_calls) - before) / ((end - start) / 1e9));
    for (size_t i = 0; i < n; i++) {
        if (null_est_ns[i]) {
            lat[n_lat++] = (null_est_ns[i] - exec_ns[i]) / 1e3;
        }
    }
    put_latency("pipeline.streaming", lat, n_lat);
    world_ct_destroy(&w);

    /* Idle: one connection at a time. */
    memset(null_est_ns, 0, null_n_slots * sizeof *null_est_ns);
    world_ct_init(&w);
    n_lat = 0;
    for (size_t i = 0; i < n_idle; i++) {
        struct dp_packet_batch batch;
        uint64_t adds = counter_get(&null_n_add);
        uint64_t ests = counter_get(&null_n_est);

        dp_packet_batch_init_packet(&batch, make_packet(i, false));
        setup_execute(w.ct, &batch, true);
        dp_packet_delete_batch(&batch, true);
        wait_counter(&null_n_add, adds);
        /* Long enough for the offload thread to go to sleep, as it does
         * when no connection comes for a while. */
        xnanosleep(1000 * 1000);

        dp_packet_batch_init_packet(&batch, make_packet(i, true));
        long long t = now_ns();
        setup_execute(w.ct, &batch, false);
        dp_packet_delete_batch(&batch, true);
        wait_counter(&null_n_est, ests);
        lat[n_lat++] = (null_est_ns[i] - t) / 1e3;
        ovsrcu_quiesce();
    }
    put_latency("pipeline.idle", lat, n_lat);
    world_ct_destroy(&w);

    null_est_ns = NULL;
    null_n_slots = 0;
    world_destroy(&w);
    free(exec_ns);
    free(lat);
}

/* Resident memory of this process, in bytes. */
static long long
rss_bytes(void)
{
    long long size, resident;
    FILE *f = fopen(PROC_SELF_STATM, "r");

    if (!f || fscanf(f, "%lld %lld", &size, &resident) != 2) {
        ovs_fatal(errno, "%s", PROC_SELF_STATM);
    }
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static double
ms_since(long long start)
{
    return (now_ns() - start) / 1e6;
}

/* scale N on|off
 *
 * N connections, offloaded or not: resident memory per connection, the
 * time to set them up, to ask the provider about all of them as an expiry
 * pass does when all are due, to flush them, and to destroy conntrack with
 * them.  "on" and "off" run in separate processes, since freed memory does
 * not leave the resident set. */
static void
cmd_scale(struct ovs_cmdl_context *ctx)
{
    size_t n = parse_count(ctx->argv[1], "number of connections");
    bool on, off;

    parse_modes(ctx->argv[2], "on", "off", &on, &off);
    if (on && off) {
        ovs_fatal(0, "scale runs one mode per process");
    }

    /* Allocated and touched before the baseline, so that it does not count
     * as connection memory. */
    struct ct_offload_conn **oconns = xcalloc(n, sizeof *oconns);
    long long *last_used = xcalloc(CT_OFFLOAD_BATCH_MAX, sizeof *last_used);
    struct world w;
    long long t;

    memset(oconns, 0xff, n * sizeof *oconns);
    world_init(&w, on);
    world_ct_init(&w);
    /* Above conntrack's default limit of 3 million, the 4M point would
     * measure refused connections. */
    conntrack_set_maxconns(w.ct, MAX(n, 3000000));
    put_result("scale.sizeof_ct_offload_conn", sizeof(struct ct_offload_conn));

    long long rss0 = rss_bytes();
    t = now_ns();
    create_conns(w.ct, 0, n, oconns);
    put_result("scale.setup_ms", ms_since(t));
    ct_offload_dp_wait(w.dp);
    put_result("scale.setup_offloaded_ms", ms_since(t));
    ovsrcu_quiesce();
    long long rss1 = rss_bytes();
    put_result("scale.rss_bytes_per_conn", (double) (rss1 - rss0) / n);
    if (on) {
        uint64_t n_est = counter_get(&null_n_est);

        put_result("scale.in_hw_fraction", (double) n_est / n);

        /* What ct_sweep() does when every connection is due at once. */
        t = now_ns();
        for (size_t i = 0; i < n; i += CT_OFFLOAD_BATCH_MAX) {
            ct_offload_conns_update(&oconns[i],
                                    MIN(CT_OFFLOAD_BATCH_MAX, n - i),
                                    last_used);
        }
        put_result("scale.expiry_pass_ms", ms_since(t));
    }

    t = now_ns();
    conntrack_flush(w.ct, NULL);
    put_result("scale.flush_call_ms", ms_since(t));
    ct_offload_dp_wait(w.dp);
    put_result("scale.flush_ms", ms_since(t));
    ovsrcu_quiesce();

    create_conns(w.ct, 0, n, NULL);
    ct_offload_dp_wait(w.dp);
    ovsrcu_quiesce();
    t = now_ns();
    conntrack_destroy(w.ct);
    w.ct = NULL;
    put_result("scale.destroy_call_ms", ms_since(t));
    ct_offload_dp_wait(w.dp);
    put_result("scale.destroy_ms", ms_since(t));

    world_destroy(&w);
    free(last_used);
    free(oconns);
}

static long long
allocator_in_use(void)
{
#ifdef HAVE_MALLINFO2
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
#else
    return -1;
#endif
}

/* Lets RCU free every removed connection: conntrack frees a connection in
 * an RCU callback, which drops the connection's reference to its offload
 * state, whose free is postponed again, and the RCU thread runs callbacks
 * some time after a grace period.  So: grace periods until the allocator's
 * bytes in use have not changed for three of them (ten grace periods where
 * the C library cannot say). */
static void
rcu_settle(void)
{
    long long last = allocator_in_use();
    int rounds = last < 0 ? 10 : 1000;

    for (int i = 0, stable = 0; i < rounds && stable < 3; i++) {
        ovsrcu_synchronize();
        xnanosleep(20 * 1000 * 1000);
        if (last >= 0) {
            long long now = allocator_in_use();

            stable = now == last ? stable + 1 : 0;
            last = now;
        }
    }
}

/* Prints resident memory as 'key'.rss_mib, then, where the C library can
 * say, the allocator's bytes in use as 'key'.in_use_mib and resident memory
 * after malloc_trim(0), which hands whole free pages back to the kernel, as
 * 'key'.trimmed_rss_mib.  Returns the last resident figure printed. */
static long long
put_memory(const char *key)
{
    long long rss = rss_bytes();
    char *name;

    name = xasprintf("%s.rss_mib", key);
    put_result(name, rss / 1048576.0);
    free(name);
#ifdef HAVE_MALLINFO2
    name = xasprintf("%s.in_use_mib", key);
    put_result(name, allocator_in_use() / 1048576.0);
    free(name);
#endif
#if HAVE_DECL_MALLOC_TRIM
    malloc_trim(0);
    rss = rss_bytes();
    name = xasprintf("%s.trimmed_rss_mib", key);
    put_result(name, rss / 1048576.0);
    free(name);
#endif
    return rss;
}

static uint32_t
conns_count(struct conntrack *ct)
{
    uint32_t n;

    conntrack_get_nconns(ct, &n);
    return n;
}

/* memory N on|off
 *
 * Does memory come back?  Sets up N connections (all offloaded, "on") and
 * flushes them, then sets them up again and lets them expire (a sweep an
 * hour ahead: the null provider reports that hardware saw nothing).
 * Measures memory before, with the connections and after each removal,
 * every time once RCU has freed what it was given.  "Before" follows a
 * warm-up (N / 100 connections set up and flushed), as in a switch that
 * has run for a while: the threads' stacks and malloc arenas exist.
 * Trimmed resident memory after a removal should be back within a few
 * percent of where it was before; untrimmed, glibc keeps free pages
 * resident, with offload or without ("off" is the reference). */
static void
cmd_memory(struct ovs_cmdl_context *ctx)
{
    size_t n = parse_count(ctx->argv[1], "number of connections");
    long long before, after;
    bool on, off;
    struct world w;

    parse_modes(ctx->argv[2], "on", "off", &on, &off);
    if (on && off) {
        ovs_fatal(0, "memory runs one mode per process");
    }
    world_init(&w, on);
    world_ct_init(&w);
    conntrack_set_maxconns(w.ct, MAX(n, 3000000));
    create_conns(w.ct, 0, n / 100, NULL);
    ct_offload_dp_wait(w.dp);
    conntrack_flush(w.ct, NULL);
    ct_offload_dp_wait(w.dp);
    rcu_settle();
    before = put_memory("memory.before");
    uint64_t n_est0 = counter_get(&null_n_est);

    create_conns(w.ct, 0, n, NULL);
    ct_offload_dp_wait(w.dp);
    rcu_settle();
    if (on) {
        put_result("memory.in_hw_fraction",
                   (counter_get(&null_n_est) - n_est0) / (double) n);
    }
    put_memory("memory.with_conns");
    put_result("memory.conns", conns_count(w.ct));

    conntrack_flush(w.ct, NULL);
    ct_offload_dp_wait(w.dp);
    rcu_settle();
    after = put_memory("memory.after_flush");
    put_result("memory.after_flush.growth", (double) after / before - 1);

    create_conns(w.ct, 0, n, NULL);
    ct_offload_dp_wait(w.dp);
    rcu_settle();
    put_memory("memory.with_conns_again");
    conntrack_expire(w.ct, time_msec() + 3600 * 1000);
    ct_offload_dp_wait(w.dp);
    rcu_settle();
    put_result("memory.conns_after_expiry", conns_count(w.ct));
    after = put_memory("memory.after_expiry");
    put_result("memory.after_expiry.growth", (double) after / before - 1);

    world_destroy(&w);
}

/* Builds a TCP segment of connection 'i' (client side unless 'reply'),
 * with 'flags', 'seq', 'ack' and 'len' bytes of payload. */
static struct dp_packet *
make_tcp_packet(size_t i, bool reply, uint16_t flags, uint32_t seq,
                uint32_t ack, size_t len)
{
    struct dp_packet *pkt = dp_packet_new(0);
    struct tcp_header *tcp;
    struct flow flow;

    conn_flow(i, reply, IPPROTO_TCP, &flow);
    flow.tcp_flags = htons(flags);
    flow_compose(pkt, &flow, NULL, len, false);

    /* flow_compose() leaves sequence numbers and window at zero. */
    tcp = dp_packet_l4(pkt);
    put_16aligned_be32(&tcp->tcp_seq, htonl(seq));
    put_16aligned_be32(&tcp->tcp_ack, htonl(ack));
    tcp->tcp_winsz = htons(65535);
    tcp->tcp_csum = 0;
    tcp->tcp_csum = csum_finish(
        csum_continue(packet_csum_pseudoheader(dp_packet_l3(pkt)), tcp,
                      (char *) dp_packet_tail(pkt) - (char *) tcp));
    pkt_metadata_init(&pkt->md, u32_to_odp(reply ? SERVER_PORT_NO
                                                 : CLIENT_PORT));
    return pkt;
}

/* tcp-setup N
 *
 * When a TCP connection reaches hardware: N connections, each driven
 * packet by packet (SYN with ct(commit), SYN-ACK, the handshake's final
 * ACK, a data segment each way), with the offload thread drained after
 * every packet.  Reports after which packet the provider was first offered
 * the connection (conn_add()) and after which it was in hardware (both
 * directions programmed), as the smallest and largest over the N
 * connections (0: never). */
static void
cmd_tcp_setup(struct ovs_cmdl_context *ctx)
{
    enum { N_PKTS = 5 };
    static const char *pkt_names[N_PKTS] = {
        "SYN", "SYN-ACK", "ACK", "data", "reply data",
    };
    size_t n = parse_count(ctx->argv[1], "number of connections");
    size_t offered_min = SIZE_MAX, offered_max = 0;
    size_t in_hw_min = SIZE_MAX, in_hw_max = 0;
    const uint32_t a = 1000, b = 5000;
    size_t bad_state = 0;
    struct world w;

    world_init(&w, true);
    world_ct_init(&w);
    for (size_t i = 0; i < n; i++) {
        const struct {
            bool reply;
            uint16_t flags;
            uint32_t seq, ack;
            size_t len;
        } seg[N_PKTS] = {
            { false, TCP_SYN, a, 0, 0 },
            { true, TCP_SYN | TCP_ACK, b, a + 1, 0 },
            { false, TCP_ACK, a + 1, b + 1, 0 },
            { false, TCP_PSH | TCP_ACK, a + 1, b + 1, 100 },
            { true, TCP_PSH | TCP_ACK, b + 1, a + 101, 100 },
        };
        uint64_t adds = counter_get(&null_n_add);
        size_t offered = 0, in_hw = 0;

        for (size_t k = 0; k < N_PKTS; k++) {
            struct dp_packet *pkt = make_tcp_packet(i, seg[k].reply,
                                                    seg[k].flags,
                                                    seg[k].seq, seg[k].ack,
                                                    seg[k].len);
            struct dp_packet_batch batch;
            struct ct_offload_conn *oconn;

            dp_packet_batch_init_packet(&batch, pkt);
            setup_execute(w.ct, &batch, k == 0);
            bad_state += !(pkt->md.ct_state & CS_TRACKED)
                         || pkt->md.ct_state & CS_INVALID;
            ct_offload_dp_wait(w.dp);
            oconn = pkt->md.conn ? conntrack_conn_offload(pkt->md.conn)
                                 : NULL;
            if (!offered && counter_get(&null_n_add) != adds) {
                offered = k + 1;
            }
            if (!in_hw && oconn && ct_offload_conn_in_hw(oconn)) {
                in_hw = k + 1;
            }
            dp_packet_delete_batch(&batch, true);
        }
        offered_min = MIN(offered_min, offered);
        offered_max = MAX(offered_max, offered);
        in_hw_min = MIN(in_hw_min, in_hw);
        in_hw_max = MAX(in_hw_max, in_hw);
        ovsrcu_quiesce();
    }
    world_destroy(&w);

    put_result("tcp_setup.offered_after_packet_min", offered_min);
    put_result("tcp_setup.offered_after_packet_max", offered_max);
    put_result("tcp_setup.in_hw_after_packet_min", in_hw_min);
    put_result("tcp_setup.in_hw_after_packet_max", in_hw_max);
    put_result("tcp_setup.final_ack_packet", 3);
    put_result("tcp_setup.bad_state", bad_state);
    for (size_t k = 0; k < N_PKTS; k++) {
        printf("# packet %"PRIuSIZE": %s\n", k + 1, pkt_names[k]);
    }
}

static const struct ovs_cmdl_command commands[] = {
    {"new-conn", "N ROUNDS on|off|both", 3, 3, cmd_new_conn, OVS_RO},
    {"hw-hit", "N ROUNDS hw|sw|both", 3, 3, cmd_hw_hit, OVS_RO},
    {"pipeline", "N_CONNS N_IDLE", 2, 2, cmd_pipeline, OVS_RO},
    {"scale", "N on|off", 2, 2, cmd_scale, OVS_RO},
    {"memory", "N on|off", 2, 2, cmd_memory, OVS_RO},
    {"tcp-setup", "N", 1, 1, cmd_tcp_setup, OVS_RO},
    {NULL, NULL, 0, 0, NULL, OVS_RO},
};

static void
test_ct_offload_bench_main(int argc, char *argv[])
{
    struct ovs_cmdl_context ctx = {
        .argc = argc - 1,
        .argv = argv + 1,
    };

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);
    /* An offload thread busy for a second, or a main thread that flushes a
     * million connections without quiescing, is what the benchmarks ask
     * for, not worth a warning. */
    vlog_set_levels(vlog_module_from_name("timeval"), VLF_ANY_DESTINATION,
                    VLL_ERR);
    vlog_set_levels(vlog_module_from_name("ovs_rcu"), VLF_ANY_DESTINATION,
                    VLL_ERR);
    ovs_cmdl_run_command(&ctx, commands);
}

OVSTEST_REGISTER("test-ct-offload-bench", test_ct_offload_bench_main);
