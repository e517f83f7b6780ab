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

#include "ct-offload.h"

#include <errno.h>

#include "coverage.h"
#include "ct-offload-provider.h"
#include "dp-packet.h"
#include "dpif-offload.h"
#include "dpif-offload-provider.h"
#include "latch.h"
#include "mpsc-queue.h"
#include "odp-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "smap.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ct_offload);

COVERAGE_DEFINE(ct_offload_queued);
COVERAGE_DEFINE(ct_offload_dropped);
COVERAGE_DEFINE(ct_offload_submitted);
COVERAGE_DEFINE(ct_offload_refused);
COVERAGE_DEFINE(ct_offload_failed);
COVERAGE_DEFINE(ct_offload_hw_hit);
COVERAGE_DEFINE(ct_offload_port_removed);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* Events a connection can queue, each at most once in its life, so that
 * every connection embeds the queue nodes it needs and queueing never
 * allocates. */
enum ocon_event {
    EV_ADD,             /* Committed. */
    EV_ESTABLISHED,     /* Established both ways, both input ports known. */
    EV_TEARDOWN,        /* TCP is closing: leave hardware, stay alive. */
    EV_DEL,             /* Conntrack removed the connection. */
    N_EVENTS
};

/* The offload state of a connection: the one place that says what the
 * packet path may do with it.  Transitions, each made with a
 * compare-and-swap by the thread named:
 *
 *     PENDING --(a provider's conn_add() took it; offload thread)--> HELD
 *     HELD --(conn_established() programmed it; offload thread)--> IN_HW
 *     PENDING, HELD, IN_HW --(refused, failed, queue full, offload off,
 *         TCP FIN/RST, flush, port removal)--> SOFTWARE
 *     any --(conntrack removed it: ct_offload_conn_del())--> DELETED
 *
 * SOFTWARE and DELETED are final.  Only IN_HW lets a packet that hardware
 * resolved skip conntrack's lookup, and conntrack checks it twice: when the
 * provider marks the packet and when ct() executes.  Which instance holds
 * the connection ('holder') is separate: a connection leaving hardware
 * keeps its holder until the offload thread has removed its rules. */
enum ocon_state {
    OCON_PENDING,
    OCON_HELD,
    OCON_IN_HW,
    OCON_SOFTWARE,
    OCON_DELETED,
};

struct ocon_event_node {
    struct mpsc_queue_node node;
    uint8_t event;              /* enum ocon_event. */
};

/* A connection: the part providers see, plus the core's state. */
struct ocon {
    struct ct_offload_conn up;

    /* One reference for the conntrack connection, one per queued event.
     * Freed after an RCU grace period, since provider packet paths find it
     * through RCU-protected tables. */
    struct ovs_refcount ref_cnt;
    atomic_uint32_t state;              /* enum ocon_state. */
    atomic_uint32_t queued;             /* 1 << EV_*: events queued once. */

    /* The reply direction's input port, ODPP_NONE until the first reply.
     * Set once by whichever packet thread sees that reply first; copied to
     * 'up.in_port[CT_OFFLOAD_DIR_REPLY]' by the offload thread, so that
     * providers see it change only on that thread. */
    atomic_uint32_t reply_port;

    /* A forwarding instance (see 'forwards' in struct ct_offload) carried
     * it: software missed some of its packets for good.  Never cleared. */
    atomic_bool forwarded;

    /* The conntrack connection; NULL once conntrack removed it.  Read
     * under RCU by ct_offload_packet_set_conn(). */
    OVSRCU_TYPE(struct conn *) conn;

    /* The instance that holds the connection, or NULL.  Written by the
     * thread holding that instance's mutex, read under RCU. */
    OVSRCU_TYPE(struct ct_offload *) holder;
    struct ovs_list holder_node;        /* In the holder's 'conns'. */
    bool programmed;                    /* Rules in hardware; guarded by
                                         * the holder's mutex. */

    struct ocon_event_node ev[N_EVENTS];
};

/* The instances of one datapath in priority order.  Replaced as a whole
 * (RCU) when an instance comes or goes. */
struct instance_array {
    size_t n;
    struct ct_offload *insts[];
};

/* The offload side of one datapath's conntrack. */
struct ct_offload_dp {
    struct hmap_node node;          /* In 'dps'. */
    char *name;                     /* Datapath name, "type@name". */
    int n_refs;                     /* Conntrack + instances. */
    atomic_bool active;             /* Offload enabled and instances exist. */
    OVSRCU_TYPE(struct instance_array *) instances;

    /* Events from any thread to the offload thread. */
    struct mpsc_queue queue;
    atomic_count n_pending;         /* Queued, not yet processed. */
    atomic_bool sleeping;           /* The offload thread waits on 'wake'. */
    atomic_bool drop_unlogged;      /* Dropped events not logged yet. */
    atomic_bool stopped;            /* No thread; none will attach more
                                     * connections until one starts. */
    struct latch wake;
    atomic_bool exit;
    pthread_t thread;
    bool has_thread;

    /* Statistics. */
    atomic_uint64_t n_queued;
    atomic_uint64_t n_dropped;
    atomic_uint64_t n_processed;
};

/* Per-instance state of the core. */
struct ct_offload_instance_private {
    struct ovs_mutex mutex;         /* Serializes calls into the provider. */
    struct ct_offload_dp *dp;
    bool dead OVS_GUARDED;          /* Being destroyed. */
    struct ovs_list conns OVS_GUARDED;  /* Held 'struct ocon's. */
    size_t n_conns OVS_GUARDED;
    size_t n_in_hw OVS_GUARDED;

    /* Statistics. */
    uint64_t n_added OVS_GUARDED;
    uint64_t n_offloaded OVS_GUARDED;
    uint64_t n_deleted OVS_GUARDED;
    uint64_t n_refused OVS_GUARDED;
    uint64_t n_failed OVS_GUARDED;
    uint64_t n_updates OVS_GUARDED;
    atomic_uint64_t n_kept_alive;   /* Reported by conntrack. */
};

/* Guards the registry of classes and datapaths and the instance arrays.
 * Control path only: nothing on the packet path or the offload thread
 * takes it. */
static struct ovs_mutex ct_offload_mutex = OVS_MUTEX_INITIALIZER;
static struct hmap dps OVS_GUARDED_BY(ct_offload_mutex)
    = HMAP_INITIALIZER(&dps);
#define MAX_CLASSES 8
static const struct ct_offload_class *classes[MAX_CLASSES]
    OVS_GUARDED_BY(ct_offload_mutex);
static size_t n_classes OVS_GUARDED_BY(ct_offload_mutex);

/* A dpif-offload instance's claim to an instance of 'class', which exists
 * only while conntrack offload is enabled. */
struct ct_offload_binding {
    struct ovs_list node;                   /* In 'bindings'. */
    const struct ct_offload_class *class;
    struct dpif_offload *dpif_offload;
    char *dp_name;
    OVSRCU_TYPE(struct ct_offload *) inst;  /* NULL while offload is off. */
};

/* Guards 'bindings'.  Taken before 'ct_offload_mutex', never after. */
static struct ovs_mutex bindings_mutex = OVS_MUTEX_INITIALIZER;
static struct ovs_list bindings OVS_GUARDED_BY(bindings_mutex)
    = OVS_LIST_INITIALIZER(&bindings);

/* Configuration. */
#define DEFAULT_MAX_PENDING 65536
static atomic_bool cfg_enabled = true;      /* other_config:hw-offload-ct. */
static atomic_bool forced_for_testing = false;
static atomic_uint32_t max_pending = DEFAULT_MAX_PENDING;

/* Events processed per batch by the offload thread. */
#define BATCH_SIZE CT_OFFLOAD_BATCH_MAX

static const atomic_bool never_active = false;

static void ct_offload_dp_update_active(struct ct_offload_dp *)
    OVS_REQUIRES(ct_offload_mutex);
static void ct_offload_dp_start_thread(struct ct_offload_dp *)
    OVS_REQUIRES(ct_offload_mutex);
static void ct_offload_dp_stop_thread(struct ct_offload_dp *)
    OVS_REQUIRES(ct_offload_mutex);
static void ct_offload_sync_bindings(void);
static void ct_offload_unixctl_init(void);

static struct ocon *
ocon_cast(const struct ct_offload_conn *conn)
{
    return CONTAINER_OF(conn, struct ocon, up);
}

static struct ct_offload_instance_private *
inst_priv(const struct ct_offload *inst)
{
    return inst->priv;
}

static enum ocon_state
ocon_state(const struct ocon *ocon)
{
    uint32_t state;

    atomic_read_explicit(&CONST_CAST(struct ocon *, ocon)->state, &state,
                         memory_order_acquire);
    return state;
}

/* Moves 'ocon' from any state in the mask 'from' (1 << OCON_*) to 'to'.
 * Returns true if this call made the transition. */
static bool
ocon_transition(struct ocon *ocon, uint32_t from, enum ocon_state to)
{
    uint32_t cur = ocon_state(ocon);

    while (from & (1u << cur)) {
        if (atomic_compare_exchange_weak(&ocon->state, &cur, to)) {
            return true;
        }
    }
    return false;
}

#define OCON_LIVE ((1u << OCON_PENDING) | (1u << OCON_HELD) \
                   | (1u << OCON_IN_HW))

/* Records that 'event' is queued for 'ocon'.  Returns true if it was not
 * already. */
static bool
ocon_mark_queued(struct ocon *ocon, enum ocon_event event)
{
    uint32_t old;

    atomic_or(&ocon->queued, 1u << event, &old);
    return !(old & (1u << event));
}

static bool
ocon_was_queued(const struct ocon *ocon, enum ocon_event event)
{
    uint32_t queued;

    atomic_read_relaxed(&CONST_CAST(struct ocon *, ocon)->queued, &queued);
    return queued & (1u << event);
}

static odp_port_t
ocon_reply_port(const struct ocon *ocon)
{
    uint32_t port;

    atomic_read_relaxed(&CONST_CAST(struct ocon *, ocon)->reply_port, &port);
    return u32_to_odp(port);
}

static bool
ct_offload_dp_is_active(const struct ct_offload_dp *dp)
{
    bool active;

    atomic_read_relaxed(&CONST_CAST(struct ct_offload_dp *, dp)->active,
                        &active);
    return active;
}

static void
ocon_unref(struct ocon *ocon)
{
    if (ocon && ovs_refcount_unref(&ocon->ref_cnt) == 1) {
        ovs_assert(!ovsrcu_get(struct ct_offload *, &ocon->holder));
        ovsrcu_postpone(free, ocon);
    }
}

/* Registry and configuration. */

void
ct_offload_register_class(const struct ct_offload_class *class)
{
    ovs_assert(class->create && class->destroy && class->conn_del
               && (class->conn_established || class->operate));

    ovs_mutex_lock(&ct_offload_mutex);
    for (size_t i = 0; i < n_classes; i++) {
        if (classes[i] == class) {
            ovs_mutex_unlock(&ct_offload_mutex);
            return;
        }
    }
    ovs_assert(n_classes < MAX_CLASSES);
    classes[n_classes++] = class;
    ovs_mutex_unlock(&ct_offload_mutex);
    ct_offload_unixctl_init();
}

bool
ct_offload_enabled(void)
{
    bool enabled, forced;

    atomic_read_relaxed(&forced_for_testing, &forced);
    if (forced) {
        return true;
    }
    atomic_read_relaxed(&cfg_enabled, &enabled);
    return enabled && dpif_offload_enabled();
}

static void
ct_offload_update_all_active(void)
    OVS_REQUIRES(ct_offload_mutex)
{
    struct ct_offload_dp *dp;

    HMAP_FOR_EACH (dp, node, &dps) {
        ct_offload_dp_update_active(dp);
    }
}

/* Flushes every instance of the datapath named 'dp_name', or of all
 * datapaths if it is NULL.  Returns false if there is no such datapath. */
static bool
ct_offload_flush_dps(const char *dp_name)
{
    struct ct_offload **insts = NULL;
    size_t n = 0, allocated = 0;
    struct ct_offload_dp *dp;
    bool found = false;

    ovs_mutex_lock(&ct_offload_mutex);
    HMAP_FOR_EACH (dp, node, &dps) {
        struct instance_array *array;

        if (dp_name && strcmp(dp_name, dp->name)) {
            continue;
        }
        found = true;

        array = ovsrcu_get_protected(struct instance_array *, &dp->instances);
        for (size_t i = 0; array && i < array->n; i++) {
            if (n >= allocated) {
                insts = x2nrealloc(insts, &allocated, sizeof *insts);
            }
            insts[n++] = array->insts[i];
        }
    }
    ovs_mutex_unlock(&ct_offload_mutex);

    /* Outside the registry mutex: flushing is provider work.  Instances are
     * freed after an RCU grace period, and this thread does not quiesce
     * here, so the pointers stay valid; one being destroyed meanwhile is
     * skipped by ct_offload_flush(). */
    for (size_t i = 0; i < n; i++) {
        ct_offload_flush(insts[i]);
    }
    free(insts);
    return found;
}

/* Applies other_config:hw-offload-ct-queue-size 'value' (NULL for the
 * default).  Only a changed value is parsed, so that an invalid one is
 * reported once, not on every reconfiguration. */
static void
ct_offload_set_queue_size(const char *value)
{
    static char *last_value;

    if (nullable_string_is_equal(value, last_value)) {
        return;
    }
    free(last_value);
    last_value = nullable_xstrdup(value);

    if (!value) {
        atomic_store_relaxed(&max_pending, DEFAULT_MAX_PENDING);
        return;
    }

    unsigned long long size;
    if (str_to_ullong(value, 10, &size) && size > 0 && size <= UINT32_MAX) {
        atomic_store_relaxed(&max_pending, size);
        VLOG_INFO("Conntrack offload queue size is %llu events", size);
    } else {
        uint32_t cur;

        atomic_read_relaxed(&max_pending, &cur);
        VLOG_WARN("other_config:hw-offload-ct-queue-size: invalid value "
                  "'%s', keeping %"PRIu32, value, cur);
    }
}

void
ct_offload_set_global_cfg(const struct smap *other_config)
{
    /* Compared with what was last applied, not with the state before this
     * call: other_config:hw-offload may have just been switched on by the
     * caller. */
    static bool applied = false;

    ct_offload_set_queue_size(smap_get(other_config,
                                       "hw-offload-ct-queue-size"));
    atomic_store_relaxed(&cfg_enabled,
                         smap_get_bool(other_config, "hw-offload-ct", true));
    if (applied != ct_offload_enabled()) {
        applied = ct_offload_enabled();
        VLOG_INFO("Conntrack HW offload is %s",
                  applied ? "enabled" : "disabled");
        ovs_mutex_lock(&ct_offload_mutex);
        ct_offload_update_all_active();
        ovs_mutex_unlock(&ct_offload_mutex);
        /* Turned off: hardware is emptied as the instances go. */
        ct_offload_sync_bindings();
    }
}

void
ct_offload_set_enabled_for_testing(bool enable)
{
    atomic_store_relaxed(&forced_for_testing, enable);
    ovs_mutex_lock(&ct_offload_mutex);
    ct_offload_update_all_active();
    ovs_mutex_unlock(&ct_offload_mutex);
    ct_offload_sync_bindings();
}

/* Datapaths. */

static struct ct_offload_dp *
ct_offload_dp_find(const char *name)
    OVS_REQUIRES(ct_offload_mutex)
{
    struct ct_offload_dp *dp;

    HMAP_FOR_EACH_WITH_HASH (dp, node, hash_string(name, 0), &dps) {
        if (!strcmp(dp->name, name)) {
            return dp;
        }
    }
    return NULL;
}

static struct ct_offload_dp *
ct_offload_dp_ref__(const char *name)
    OVS_REQUIRES(ct_offload_mutex)
{
    struct ct_offload_dp *dp = ct_offload_dp_find(name);

    if (!dp) {
        dp = xzalloc(sizeof *dp);
        dp->name = xstrdup(name);
        atomic_init(&dp->active, false);
        ovsrcu_init(&dp->instances, NULL);
        mpsc_queue_init(&dp->queue);
        atomic_count_init(&dp->n_pending, 0);
        atomic_init(&dp->sleeping, false);
        atomic_init(&dp->drop_unlogged, false);
        atomic_init(&dp->stopped, true);
        latch_init(&dp->wake);
        atomic_init(&dp->exit, false);
        atomic_init(&dp->n_queued, 0);
        atomic_init(&dp->n_dropped, 0);
        atomic_init(&dp->n_processed, 0);
        hmap_insert(&dps, &dp->node, hash_string(name, 0));
    }
    dp->n_refs++;
    return dp;
}

struct ct_offload_dp *
ct_offload_dp_ref(const char *name)
{
    struct ct_offload_dp *dp;

    ovs_mutex_lock(&ct_offload_mutex);
    dp = ct_offload_dp_ref__(name);
    ovs_mutex_unlock(&ct_offload_mutex);
    return dp;
}

const atomic_bool *
ct_offload_dp_active_flag(const struct ct_offload_dp *dp)
{
    return dp ? &dp->active : &never_active;
}

static void
ct_offload_dp_update_active(struct ct_offload_dp *dp)
    OVS_REQUIRES(ct_offload_mutex)
{
    struct instance_array *array;

    bool active;

    array = ovsrcu_get_protected(struct instance_array *, &dp->instances);
    active = array && array->n > 0 && ct_offload_enabled();
    atomic_store_relaxed(&dp->active, active);
    /* The thread runs only while offload is active, so that none exists
     * while hw-offload or hw-offload-ct is off. */
    if (active) {
        ct_offload_dp_start_thread(dp);
    } else {
        ct_offload_dp_stop_thread(dp);
    }
}

static void ct_offload_process(struct ct_offload_dp *,
                               struct mpsc_queue_node **, size_t n);

/* Processes every queued event.  With 'quiesce', the calling thread
 * quiesces after every batch: under sustained churn with a provider slower
 * than the packet threads the queue may never be empty, and RCU grace
 * periods must still complete. */
static void
ct_offload_dp_drain(struct ct_offload_dp *dp, bool quiesce)
    OVS_REQUIRES(dp->queue.read_lock)
{
    struct mpsc_queue_node *nodes[BATCH_SIZE];
    struct mpsc_queue_node *node;
    size_t n = 0;

    for (;;) {
        enum mpsc_queue_poll_result res = mpsc_queue_poll(&dp->queue, &node);

        if (res == MPSC_QUEUE_ITEM) {
            nodes[n++] = node;
            if (n < BATCH_SIZE) {
                continue;
            }
        } else if (res == MPSC_QUEUE_RETRY) {
            /* A producer is between its two steps of insertion. */
            sched_yield();
            continue;
        }
        if (n) {
            ct_offload_process(dp, nodes, n);
            n = 0;
            if (quiesce) {
                ovsrcu_quiesce();
            }
        }
        if (res == MPSC_QUEUE_EMPTY) {
            break;
        }
    }
}

static void *
ct_offload_thread_main(void *dp_)
{
    struct ct_offload_dp *dp = dp_;

    mpsc_queue_acquire(&dp->queue);
    for (;;) {
        bool exiting;

        ct_offload_dp_drain(dp, true);
        ovsrcu_quiesce();
        /* Fold this thread's coverage counters into the totals now and
         * then, even when it never goes idle. */
        coverage_try_clear();

        atomic_read(&dp->exit, &exiting);
        if (exiting) {
            break;
        }

        /* Producers set 'wake' only if they see 'sleeping', after queueing:
         * checking 'n_pending' after setting 'sleeping' closes the race.
         * The fence pairs with the one in ct_offload_dp_kick(). */
        atomic_store_relaxed(&dp->sleeping, true);
        atomic_thread_fence(memory_order_seq_cst);
        if (!atomic_count_get(&dp->n_pending)) {
            latch_wait(&dp->wake);
            poll_block();
        }
        atomic_store(&dp->sleeping, false);
        latch_poll(&dp->wake);
    }
    ct_offload_dp_drain(dp, false);
    mpsc_queue_release(&dp->queue);
    return NULL;
}

static void
ct_offload_dp_start_thread(struct ct_offload_dp *dp)
    OVS_REQUIRES(ct_offload_mutex)
{
    if (!dp->has_thread) {
        atomic_store(&dp->exit, false);
        atomic_store_explicit(&dp->stopped, false, memory_order_release);
        dp->thread = ovs_thread_create("ct_offload", ct_offload_thread_main,
                                       dp);
        dp->has_thread = true;
    }
}

/* Stops the offload thread of 'dp' once it has processed what is queued.
 * Later events of connections that an instance still holds (only possible
 * when the thread stops while instances exist, as in unit tests) wait for
 * the next thread, or are processed when 'dp' goes away; other events are
 * not queued at all while the thread is stopped.  The thread never takes
 * 'ct_offload_mutex', so it can be joined here. */
static void
ct_offload_dp_stop_thread(struct ct_offload_dp *dp)
    OVS_REQUIRES(ct_offload_mutex)
{
    if (dp->has_thread) {
        atomic_store(&dp->exit, true);
        latch_set(&dp->wake);
        xpthread_join(dp->thread, NULL);
        dp->has_thread = false;
        /* After the join: no connection can be attached to an instance
         * any more, so events of connections that no instance holds are
         * pointless until a thread starts again (see ct_offload_queue()). */
        atomic_store_explicit(&dp->stopped, true, memory_order_release);
    }
}

void
ct_offload_dp_unref(struct ct_offload_dp *dp)
{
    if (!dp) {
        return;
    }

    ovs_mutex_lock(&ct_offload_mutex);
    ovs_assert(dp->n_refs > 0);
    if (--dp->n_refs) {
        ovs_mutex_unlock(&ct_offload_mutex);
        return;
    }
    hmap_remove(&dps, &dp->node);
    ct_offload_dp_stop_thread(dp);
    ovs_mutex_unlock(&ct_offload_mutex);

    /* What was queued after the thread stopped. */
    mpsc_queue_acquire(&dp->queue);
    ct_offload_dp_drain(dp, false);
    mpsc_queue_release(&dp->queue);
    ovs_assert(!atomic_count_get(&dp->n_pending));
    mpsc_queue_destroy(&dp->queue);
    latch_destroy(&dp->wake);
    ovsrcu_postpone(free, ovsrcu_get_protected(struct instance_array *,
                                               &dp->instances));
    free(dp->name);
    free(dp);
}

void
ct_offload_dp_wait(struct ct_offload_dp *dp)
{
    uint64_t queued, processed;

    atomic_read(&dp->n_queued, &queued);
    for (;;) {
        atomic_read(&dp->n_processed, &processed);
        if (processed >= queued || !dp->has_thread) {
            break;
        }
        xnanosleep(100 * 1000);
    }
}

/* Queueing. */

/* Queues 'event' of 'ocon', taking a reference.  Events that create
 * hardware state may be dropped when the queue is full; removals never
 * are, or hardware would keep what software forgot.  Returns false if
 * dropped. */
static bool
ct_offload_queue(struct ct_offload_dp *dp, struct ocon *ocon,
                 enum ocon_event event)
{
    bool stopped;

    /* Offload is off: with no thread and no holder, nobody would act on
     * the event, and queueing it would keep 'ocon' alive for as long as
     * offload stays off. */
    atomic_read_explicit(&dp->stopped, &stopped, memory_order_acquire);
    if (stopped && !ovsrcu_get(struct ct_offload *, &ocon->holder)) {
        if (event == EV_ADD || event == EV_ESTABLISHED) {
            ocon_transition(ocon, OCON_LIVE, OCON_SOFTWARE);
        }
        return false;
    }

    if (event == EV_ADD || event == EV_ESTABLISHED) {
        uint32_t limit;

        atomic_read_relaxed(&max_pending, &limit);
        if (atomic_count_get(&dp->n_pending) >= limit) {
            uint64_t orig;

            atomic_add_relaxed(&dp->n_dropped, 1, &orig);
            COVERAGE_INC(ct_offload_dropped);
            /* Logged by ct_offload_dp_kick(): the caller may hold
             * conntrack's locks, and logging takes one. */
            atomic_store_relaxed(&dp->drop_unlogged, true);
            return false;
        }
    }

    uint64_t orig;
    ovs_refcount_ref(&ocon->ref_cnt);
    ocon->ev[event].event = event;
    atomic_count_inc(&dp->n_pending);
    atomic_add_relaxed(&dp->n_queued, 1, &orig);
    mpsc_queue_insert(&dp->queue, &ocon->ev[event].node);
    COVERAGE_INC(ct_offload_queued);

    if (event != EV_ADD) {
        ct_offload_dp_kick(dp);
    }
    return true;
}

void
ct_offload_dp_kick(struct ct_offload_dp *dp)
{
    bool sleeping, unlogged;

    atomic_read_relaxed(&dp->drop_unlogged, &unlogged);
    if (OVS_UNLIKELY(unlogged)) {
        uint32_t limit;

        atomic_store_relaxed(&dp->drop_unlogged, false);
        atomic_read_relaxed(&max_pending, &limit);
        VLOG_WARN_RL(&rl, "%s: offload queue full (%"PRIu32" events), "
                     "connections stay in software", dp->name, limit);
    }

    /* Pairs with the fence in ct_offload_thread_main(): either the offload
     * thread sees the events counted in 'n_pending' before it sleeps, or
     * this thread sees 'sleeping' and wakes it.  Without the two fences
     * each side could read the other's old value (a store followed by a
     * load of another location may be reordered, even on x86).  Only the
     * first producer after the thread went to sleep pays for the system
     * call. */
    atomic_thread_fence(memory_order_seq_cst);
    atomic_read_relaxed(&dp->sleeping, &sleeping);
    if (sleeping) {
        sleeping = true;
        if (atomic_compare_exchange_strong(&dp->sleeping, &sleeping,
                                           false)) {
            latch_set(&dp->wake);
        }
    }
}

struct ct_offload_conn *
ct_offload_conn_alloc(void)
{
    struct ocon *ocon = xzalloc(sizeof *ocon);

    return &ocon->up;
}

void
ct_offload_conn_free_unused(struct ct_offload_conn *conn)
{
    if (conn) {
        free(ocon_cast(conn));
    }
}

struct ct_offload_conn *
ct_offload_conn_add(struct ct_offload_dp *dp, struct conn *conn,
                    const struct ct_dpif_tuple *orig,
                    const struct ct_dpif_tuple *reply,
                    uint16_t zone, uint16_t nat_action, odp_port_t in_port)
{
    struct ct_offload_conn *spare = ct_offload_conn_alloc();
    struct ct_offload_conn *oconn;

    oconn = ct_offload_conn_add_prealloc(dp, &spare, conn, orig, reply, zone,
                                         nat_action, in_port);
    ct_offload_conn_free_unused(spare);
    ct_offload_dp_kick(dp);
    return oconn;
}

struct ct_offload_conn *
ct_offload_conn_add_prealloc(struct ct_offload_dp *dp,
                             struct ct_offload_conn **spare,
                             struct conn *conn,
                             const struct ct_dpif_tuple *orig,
                             const struct ct_dpif_tuple *reply,
                             uint16_t zone, uint16_t nat_action,
                             odp_port_t in_port)
{
    struct ocon *ocon;

    if (!*spare) {
        return NULL;
    }
    ocon = ocon_cast(*spare);
    ocon->up.tuple[CT_OFFLOAD_DIR_ORIG] = *orig;
    ocon->up.tuple[CT_OFFLOAD_DIR_REPLY] = *reply;
    ocon->up.zone = zone;
    ocon->up.nat_action = nat_action;
    ocon->up.in_port[CT_OFFLOAD_DIR_ORIG] = in_port;
    ocon->up.in_port[CT_OFFLOAD_DIR_REPLY] = ODPP_NONE;
    ovs_refcount_init(&ocon->ref_cnt);
    atomic_init(&ocon->state, OCON_PENDING);
    atomic_init(&ocon->queued, 0);
    atomic_init(&ocon->reply_port, odp_to_u32(ODPP_NONE));
    atomic_init(&ocon->forwarded, false);
    ovsrcu_init(&ocon->conn, conn);
    ovsrcu_init(&ocon->holder, NULL);
    ovs_list_init(&ocon->holder_node);

    ocon_mark_queued(ocon, EV_ADD);
    if (!ct_offload_queue(dp, ocon, EV_ADD)) {
        /* Still the caller's, unused. */
        return NULL;
    }
    *spare = NULL;
    return &ocon->up;
}

bool
ct_offload_conn_wants_events(const struct ct_offload_conn *conn)
{
    return OCON_LIVE & (1u << ocon_state(ocon_cast(conn)));
}

void
ct_offload_conn_seen(struct ct_offload_dp *dp, struct ct_offload_conn *conn,
                     bool reply, bool established, odp_port_t in_port)
{
    struct ocon *ocon = ocon_cast(conn);
    uint32_t reply_port;

    if (!ct_offload_conn_wants_events(conn)) {
        return;
    }

    atomic_read_relaxed(&ocon->reply_port, &reply_port);
    if (reply && reply_port == odp_to_u32(ODPP_NONE)) {
        /* The first reply tells the reply direction's input port.  Two
         * threads may race here: the first one wins. */
        if (atomic_compare_exchange_strong(&ocon->reply_port, &reply_port,
                                           odp_to_u32(in_port))) {
            reply_port = odp_to_u32(in_port);
        }
    }

    if (!ocon_was_queued(ocon, EV_ESTABLISHED)) {
        /* Established both ways and both input ports known: for TCP the
         * handshake's final ACK, for others the first reply. */
        if (established && reply_port != odp_to_u32(ODPP_NONE)
            && ocon_mark_queued(ocon, EV_ESTABLISHED)
            && !ct_offload_queue(dp, ocon, EV_ESTABLISHED)) {
            ocon_transition(ocon, OCON_LIVE, OCON_SOFTWARE);
        }
    } else if (!established) {
        /* TCP FIN or RST: software takes the connection back until it
         * ends, as the kernel flowtable does.  From now on no packet skips
         * the lookup, even before the rules are gone. */
        ocon_transition(ocon, OCON_LIVE, OCON_SOFTWARE);
        if (ocon_mark_queued(ocon, EV_TEARDOWN)) {
            ct_offload_queue(dp, ocon, EV_TEARDOWN);
        }
    }
}

/* The connection is being removed from conntrack (it may still be found by
 * lookups until its sweeper cleans it, if it was forced to expire): takes it
 * out of hardware.  Idempotent. */
void
ct_offload_conn_del(struct ct_offload_dp *dp, struct ct_offload_conn *conn)
{
    struct ocon *ocon = ocon_cast(conn);

    if (ocon_mark_queued(ocon, EV_DEL)) {
        atomic_store_explicit(&ocon->state, OCON_DELETED,
                              memory_order_release);
        ovsrcu_set(&ocon->conn, NULL);
        ct_offload_queue(dp, ocon, EV_DEL);
    }
}

/* Conntrack frees the connection that owns 'conn' (after an RCU grace
 * period from its removal): drops conntrack's reference.  Until then
 * conntrack may still read 'conn', e.g. in conn_alive(). */
void
ct_offload_conn_free(struct ct_offload_conn *conn)
{
    if (conn) {
        struct ocon *ocon = ocon_cast(conn);

        ovs_assert(ocon_state(ocon) == OCON_DELETED);
        ocon_unref(ocon);       /* Conntrack's reference. */
    }
}

bool
ct_offload_conn_in_hw(const struct ct_offload_conn *conn)
{
    return ocon_state(ocon_cast(conn)) == OCON_IN_HW;
}

bool
ct_offload_conn_hw_forwards(const struct ct_offload_conn *conn)
{
    const struct ocon *ocon = ocon_cast(conn);
    bool forwarded;

    atomic_read_relaxed(&CONST_CAST(struct ocon *, ocon)->forwarded,
                        &forwarded);
    return forwarded && ocon_state(ocon) == OCON_IN_HW;
}

bool
ct_offload_conn_was_forwarded(const struct ct_offload_conn *conn)
{
    bool forwarded;

    atomic_read_relaxed(&ocon_cast(conn)->forwarded, &forwarded);
    return forwarded;
}

bool
ct_offload_packet_set_conn(struct dp_packet *packet,
                           const struct ct_offload_conn *conn,
                           enum ct_offload_dir dir)
{
    struct ocon *ocon = ocon_cast(conn);
    struct conn *ct_conn = ovsrcu_get(struct conn *, &ocon->conn);

    if (!ct_conn || ocon_state(ocon) != OCON_IN_HW) {
        return false;
    }

    /* A packet that has a connection but no ct_state is one that hardware
     * resolved: conntrack_execute() checks it again and then processes it
     * as software would, without the lookup. */
    packet->md.conn = ct_conn;
    packet->md.reply = dir == CT_OFFLOAD_DIR_REPLY;
    packet->md.icmp_related = false;
    COVERAGE_INC(ct_offload_hw_hit);
    return true;
}

/* Offload thread. */

static void
ocon_attach(struct ct_offload *inst, struct ocon *ocon)
    OVS_REQUIRES(inst->priv->mutex)
{
    struct ct_offload_instance_private *p = inst_priv(inst);

    ovsrcu_set(&ocon->holder, inst);
    ovs_list_push_back(&p->conns, &ocon->holder_node);
    p->n_conns++;
    p->n_added++;
}

static void
ocon_detach(struct ct_offload *inst, struct ocon *ocon)
    OVS_REQUIRES(inst->priv->mutex)
{
    struct ct_offload_instance_private *p = inst_priv(inst);

    if (ocon->programmed) {
        ocon->programmed = false;
        p->n_in_hw--;
    }
    ovsrcu_set(&ocon->holder, NULL);
    ovs_list_remove(&ocon->holder_node);
    ovs_list_init(&ocon->holder_node);
    ocon->up.provider_data = NULL;
    p->n_conns--;
}

/* Runs 'n' operations of one type on 'inst', through the provider's batch
 * entry point if it has one. */
static void
ct_offload_run_ops(struct ct_offload *inst, struct ct_offload_op *ops[],
                   size_t n)
    OVS_REQUIRES(inst->priv->mutex)
{
    const struct ct_offload_class *class = inst->class;

    if (!n) {
        return;
    }
    COVERAGE_ADD(ct_offload_submitted, n);
    if (class->operate) {
        class->operate(inst, ops, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct ct_offload_op *op = ops[i];

        switch (op->type) {
        case CT_OFFLOAD_OP_ADD:
            op->error = class->conn_add ? class->conn_add(inst, op->conn) : 0;
            break;
        case CT_OFFLOAD_OP_ESTABLISHED:
            op->error = class->conn_established(inst, op->conn, op->netdev);
            break;
        case CT_OFFLOAD_OP_DEL:
            class->conn_del(inst, op->conn);
            op->error = 0;
            break;
        case CT_OFFLOAD_OP_UPDATE:
            memset(&op->stats, 0, sizeof op->stats);
            op->error = class->conn_update
                        ? class->conn_update(inst, op->conn, &op->stats)
                        : EOPNOTSUPP;
            break;
        default:
            OVS_NOT_REACHED();
        }
    }
}

static void
ct_offload_log_failure(const struct ct_offload *inst, const char *what,
                       const struct ct_offload_conn *conn, int error)
{
    if (!VLOG_DROP_WARN(&rl)) {
        struct ds ds = DS_EMPTY_INITIALIZER;

        ct_dpif_format_tuple(&ds, &conn->tuple[CT_OFFLOAD_DIR_ORIG]);
        VLOG_WARN("%s: %s failed for %s,zone=%"PRIu16": %s", inst->name,
                  what, ds_cstr(&ds), conn->zone, ovs_strerror(error));
        ds_destroy(&ds);
    }
}

/* Offers each connection of 'ocons' to the instances of 'dp' from index
 * 'first' on, in priority order, until one takes it.  Connections that no
 * instance takes stay in software. */
static void
ct_offload_do_add(struct instance_array *array, size_t first,
                  struct ocon *ocons[], size_t n)
{
    struct ct_offload_op *op_ptrs[BATCH_SIZE];
    struct ct_offload_op ops[BATCH_SIZE];
    struct ocon *left[BATCH_SIZE];
    size_t n_left = n;

    ovs_assert(n <= BATCH_SIZE);
    memcpy(left, ocons, n * sizeof *left);

    for (size_t i = first; array && i < array->n && n_left; i++) {
        struct ct_offload *inst = array->insts[i];
        struct ct_offload_instance_private *p = inst_priv(inst);
        size_t n_ops = 0, n_next = 0;

        ovs_mutex_lock(&inst->priv->mutex);
        if (p->dead || !ct_offload_dp_is_active(p->dp)) {
            /* Checked under the mutex that a flush takes after turning
             * offload off: nothing reaches hardware after that flush. */
            ovs_mutex_unlock(&inst->priv->mutex);
            continue;
        }
        for (size_t j = 0; j < n_left; j++) {
            if (!inst->class->can_offload
                || inst->class->can_offload(inst, &left[j]->up)) {
                ops[n_ops] = (struct ct_offload_op) {
                    .type = CT_OFFLOAD_OP_ADD,
                    .conn = &left[j]->up,
                };
                op_ptrs[n_ops] = &ops[n_ops];
                n_ops++;
            } else {
                p->n_refused++;
                left[n_next++] = left[j];
            }
        }
        ct_offload_run_ops(inst, op_ptrs, n_ops);
        for (size_t j = 0; j < n_ops; j++) {
            struct ocon *ocon = ocon_cast(ops[j].conn);

            if (!ops[j].error) {
                ocon_attach(inst, ocon);
                ocon_transition(ocon, 1u << OCON_PENDING, OCON_HELD);
            } else {
                p->n_refused++;
                /* EOPNOTSUPP is how a provider passes a connection on (e.g.
                 * its port has no usable hardware), not a failure: on such
                 * a port every connection would warn. */
                if (ops[j].error != EOPNOTSUPP) {
                    ct_offload_log_failure(inst, "add", &ocon->up,
                                           ops[j].error);
                }
                left[n_next++] = ocon;
            }
        }
        ovs_mutex_unlock(&inst->priv->mutex);
        n_left = n_next;
    }

    for (size_t j = 0; j < n_left; j++) {
        COVERAGE_INC(ct_offload_refused);
        ocon_transition(left[j], OCON_LIVE, OCON_SOFTWARE);
    }
}

static size_t
instance_index(const struct instance_array *array,
               const struct ct_offload *inst)
{
    for (size_t i = 0; array && i < array->n; i++) {
        if (array->insts[i] == inst) {
            return i;
        }
    }
    return array ? array->n : 0;
}

/* Programs hardware for established connections, all held by 'inst'.  A
 * connection that 'inst' fails to program is offered to the next
 * instances. */
static void
ct_offload_do_established(struct instance_array *array,
                          struct ct_offload *inst, struct ocon *ocons[],
                          size_t n)
{
    struct ct_offload_instance_private *p = inst_priv(inst);
    struct ct_offload_op *op_ptrs[BATCH_SIZE];
    struct ct_offload_op ops[BATCH_SIZE];
    struct ocon *failed[BATCH_SIZE];
    size_t n_ops = 0, n_failed = 0;

    ovs_mutex_lock(&inst->priv->mutex);
    for (size_t i = 0; i < n; i++) {
        struct ocon *ocon = ocons[i];

        if (p->dead || ovsrcu_get_protected(struct ct_offload *,
                                            &ocon->holder) != inst) {
            continue;
        }
        if (!ct_offload_dp_is_active(p->dp)
            || ocon_state(ocon) != OCON_HELD) {
            /* Offload was turned off, or the connection left for software
             * (TCP teardown) or conntrack before it got here: it stays
             * held, unprogrammed, until its removal event. */
            continue;
        }
        ocon->up.in_port[CT_OFFLOAD_DIR_REPLY] = ocon_reply_port(ocon);
        ops[n_ops] = (struct ct_offload_op) {
            .type = CT_OFFLOAD_OP_ESTABLISHED,
            .conn = &ocon->up,
            .netdev = ct_offload_get_netdev(
                inst, ocon->up.in_port[CT_OFFLOAD_DIR_REPLY]),
        };
        op_ptrs[n_ops] = &ops[n_ops];
        n_ops++;
    }
    ct_offload_run_ops(inst, op_ptrs, n_ops);

    struct ct_offload_op *del_ptrs[BATCH_SIZE];
    struct ct_offload_op dels[BATCH_SIZE];
    size_t n_dels = 0;

    for (size_t i = 0; i < n_ops; i++) {
        struct ocon *ocon = ocon_cast(ops[i].conn);

        if (!ops[i].error) {
            bool forwards;

            atomic_read_relaxed(&inst->forwards, &forwards);
            if (forwards) {
                atomic_store_relaxed(&ocon->forwarded, true);
            }
            ocon->programmed = true;
            p->n_in_hw++;
            p->n_offloaded++;
            /* If a teardown or removal won the race, its event is queued
             * and takes the rules out again. */
            ocon_transition(ocon, 1u << OCON_HELD, OCON_IN_HW);
        } else {
            if (ops[i].error == EOPNOTSUPP) {
                /* Passed on, as in ct_offload_do_add(): not a failure. */
                p->n_refused++;
                COVERAGE_INC(ct_offload_refused);
            } else {
                p->n_failed++;
                COVERAGE_INC(ct_offload_failed);
                ct_offload_log_failure(inst, "offload", &ocon->up,
                                       ops[i].error);
            }
            dels[n_dels] = (struct ct_offload_op) {
                .type = CT_OFFLOAD_OP_DEL,
                .conn = &ocon->up,
            };
            del_ptrs[n_dels] = &dels[n_dels];
            n_dels++;
            failed[n_failed++] = ocon;
        }
    }
    ct_offload_run_ops(inst, del_ptrs, n_dels);
    for (size_t i = 0; i < n_failed; i++) {
        ocon_detach(inst, failed[i]);
    }
    ovs_mutex_unlock(&inst->priv->mutex);

    if (!n_failed) {
        return;
    }

    /* Fall through to lower priorities: add, then establish, each
     * connection on the first instance that takes it. */
    size_t next = instance_index(array, inst) + 1;
    ct_offload_do_add(array, next, failed, n_failed);
    for (size_t i = 0; i < n_failed; i++) {
        struct ct_offload *holder;

        holder = ovsrcu_get(struct ct_offload *, &failed[i]->holder);
        if (holder) {
            ct_offload_do_established(array, holder, &failed[i], 1);
        }
    }
}

/* Removes connections from the instances that hold them. */
static void
ct_offload_do_del(struct ocon *ocons[], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct ct_offload *inst;

        inst = ovsrcu_get(struct ct_offload *, &ocons[i]->holder);
        if (!inst) {
            continue;
        }

        /* Batch every following connection of the same holder. */
        struct ct_offload_instance_private *p = inst_priv(inst);
        struct ct_offload_op *op_ptrs[BATCH_SIZE];
        struct ct_offload_op ops[BATCH_SIZE];
        size_t n_ops = 0;

        ovs_mutex_lock(&inst->priv->mutex);
        for (size_t j = i; j < n; j++) {
            if (ovsrcu_get_protected(struct ct_offload *, &ocons[j]->holder)
                == inst) {
                ops[n_ops] = (struct ct_offload_op) {
                    .type = CT_OFFLOAD_OP_DEL,
                    .conn = &ocons[j]->up,
                };
                op_ptrs[n_ops] = &ops[n_ops];
                n_ops++;
            }
        }
        ct_offload_run_ops(inst, op_ptrs, n_ops);
        for (size_t j = 0; j < n_ops; j++) {
            ocon_detach(inst, ocon_cast(ops[j].conn));
            p->n_deleted++;
        }
        ovs_mutex_unlock(&inst->priv->mutex);
    }
}

static void
ct_offload_process(struct ct_offload_dp *dp, struct mpsc_queue_node **nodes,
                   size_t n)
{
    struct instance_array *array;
    struct ocon *by_event[N_EVENTS][BATCH_SIZE];
    size_t n_by_event[N_EVENTS] = { 0 };
    struct ocon *all[BATCH_SIZE];
    bool active;

    array = ovsrcu_get(struct instance_array *, &dp->instances);
    atomic_read_relaxed(&dp->active, &active);

    for (size_t i = 0; i < n; i++) {
        struct ocon_event_node *ev;
        struct ocon *ocon;

        ev = CONTAINER_OF(nodes[i], struct ocon_event_node, node);
        ocon = ALIGNED_CAST(struct ocon *,
                            (char *) ev - offsetof(struct ocon, ev)
                            - ev->event * sizeof *ev);
        all[i] = ocon;
        if (!active && (ev->event == EV_ADD || ev->event == EV_ESTABLISHED)) {
            /* Queued before offload was turned off (and the instances
             * destroyed): nothing may reach hardware any more. */
            ocon_transition(ocon, OCON_LIVE, OCON_SOFTWARE);
        } else if (ev->event == EV_ADD
                   && ocon_state(ocon) != OCON_PENDING) {
            /* It left for software (TCP teardown, a full queue) or
             * conntrack before any provider saw it. */
        } else if (ev->event == EV_DEL
                   || ocon_state(ocon) != OCON_DELETED) {
            /* A connection removed before its earlier events ran needs
             * none of them. */
            by_event[ev->event][n_by_event[ev->event]++] = ocon;
        }
    }

    /* Events of one connection arrive in order; within a batch, running
     * the kinds in lifecycle order keeps that order. */
    ct_offload_do_add(array, 0, by_event[EV_ADD], n_by_event[EV_ADD]);
    for (size_t i = 0; i < n_by_event[EV_ESTABLISHED]; i++) {
        struct ocon *ocon = by_event[EV_ESTABLISHED][i];
        struct ct_offload *holder;

        if (!ocon) {
            continue;           /* Batched with an earlier one. */
        }
        holder = ovsrcu_get(struct ct_offload *, &ocon->holder);
        if (!holder) {
            continue;
        }

        /* Batch the following connections of the same holder. */
        struct ocon *same[BATCH_SIZE];
        size_t n_same = 0;

        for (size_t j = i; j < n_by_event[EV_ESTABLISHED]; j++) {
            struct ocon *o = by_event[EV_ESTABLISHED][j];

            if (o && ovsrcu_get(struct ct_offload *, &o->holder) == holder) {
                same[n_same++] = o;
                by_event[EV_ESTABLISHED][j] = NULL;
            }
        }
        ct_offload_do_established(array, holder, same, n_same);
    }
    ct_offload_do_del(by_event[EV_TEARDOWN], n_by_event[EV_TEARDOWN]);
    ct_offload_do_del(by_event[EV_DEL], n_by_event[EV_DEL]);

    for (size_t i = 0; i < n; i++) {
        ocon_unref(all[i]);
    }

    uint64_t orig;
    atomic_add(&dp->n_processed, n, &orig);
    for (size_t i = 0; i < n; i++) {
        atomic_count_dec(&dp->n_pending);
    }
}

/* Instances. */

struct netdev *
ct_offload_get_netdev(const struct ct_offload *inst, odp_port_t port)
{
    const struct dpif_offload *offload = inst->dpif_offload;

    if (!offload || port == ODPP_NONE) {
        return NULL;
    }
    return offload->class->get_netdev(offload, port);
}

static int
compare_priority(const void *a_, const void *b_)
{
    const struct ct_offload *const *a = a_;
    const struct ct_offload *const *b = b_;

    return (*a)->priority < (*b)->priority ? 1
           : (*a)->priority > (*b)->priority ? -1
           : strcmp((*a)->name, (*b)->name);
}

/* Replaces the instance array of 'dp' by one with 'add' and without
 * 'remove' (either may be NULL). */
static void
ct_offload_dp_set_instances(struct ct_offload_dp *dp, struct ct_offload *add,
                            const struct ct_offload *remove)
    OVS_REQUIRES(ct_offload_mutex)
{
    struct instance_array *old, *new;
    size_t n = 0;

    old = ovsrcu_get_protected(struct instance_array *, &dp->instances);
    new = xmalloc(sizeof *new
                  + ((old ? old->n : 0) + 1) * sizeof new->insts[0]);
    for (size_t i = 0; old && i < old->n; i++) {
        if (old->insts[i] != remove) {
            new->insts[n++] = old->insts[i];
        }
    }
    if (add) {
        new->insts[n++] = add;
    }
    new->n = n;
    qsort(new->insts, n, sizeof new->insts[0], compare_priority);
    ovsrcu_set(&dp->instances, new);
    ovsrcu_postpone(free, old);
    ct_offload_dp_update_active(dp);
}

int
ct_offload_create(const struct ct_offload_class *class,
                  struct dpif_offload *dpif_offload, const char *dp_name,
                  struct ct_offload **instp)
{
    struct ct_offload_instance_private *p;
    struct ct_offload *inst = NULL;
    int error;

    ct_offload_register_class(class);
    error = class->create(class, dpif_offload, &inst);
    if (error) {
        VLOG_WARN("%s: could not create %s conntrack offload: %s",
                  dp_name, class->type, ovs_strerror(error));
        *instp = NULL;
        return error;
    }

    inst->class = class;
    inst->name = xasprintf("%s[%s]", class->type, dp_name);
    inst->dpif_offload = dpif_offload;
    inst->priority = class->priority;
    atomic_init(&inst->forwards, class->forwards);
    inst->priv = p = xzalloc(sizeof *p);
    ovs_mutex_init(&p->mutex);
    atomic_init(&p->n_kept_alive, 0);
    ovs_mutex_lock(&inst->priv->mutex);
    ovs_list_init(&p->conns);
    ovs_mutex_unlock(&inst->priv->mutex);

    ovs_mutex_lock(&ct_offload_mutex);
    p->dp = ct_offload_dp_ref__(dp_name);
    ct_offload_dp_set_instances(p->dp, inst, NULL);
    ovs_mutex_unlock(&ct_offload_mutex);

    VLOG_INFO("%s: conntrack offload instance created", inst->name);
    *instp = inst;
    return 0;
}

/* Removes from hardware every connection of 'inst' that 'pred' selects
 * (all of them if 'pred' is NULL).  They continue in software. */
static size_t
ct_offload_remove_conns(struct ct_offload *inst,
                        bool (*pred)(const struct ocon *, odp_port_t),
                        odp_port_t port)
    OVS_REQUIRES(inst->priv->mutex)
{
    struct ct_offload_instance_private *p = inst_priv(inst);
    bool whole = !pred && inst->class->flush;
    struct ocon *ocon;
    size_t n = 0;

    if (whole) {
        inst->class->flush(inst);
    }
    LIST_FOR_EACH_SAFE (ocon, holder_node, &p->conns) {
        if (pred && !pred(ocon, port)) {
            continue;
        }
        if (!whole) {
            inst->class->conn_del(inst, &ocon->up);
        }
        /* Never offered again: its state in software may have moved on. */
        ocon_transition(ocon, OCON_LIVE, OCON_SOFTWARE);
        ocon_detach(inst, ocon);
        n++;
    }
    return n;
}

void
ct_offload_flush(struct ct_offload *inst)
{
    size_t n = 0;

    ovs_mutex_lock(&inst->priv->mutex);
    if (!inst->priv->dead) {
        n = ct_offload_remove_conns(inst, NULL, ODPP_NONE);
    }
    ovs_mutex_unlock(&inst->priv->mutex);
    if (n) {
        VLOG_INFO("%s: flushed %"PRIuSIZE" connections", inst->name, n);
    }
}

static bool
ocon_uses_port(const struct ocon *ocon, odp_port_t port)
{
    return ocon->up.in_port[CT_OFFLOAD_DIR_ORIG] == port
           || ocon->up.in_port[CT_OFFLOAD_DIR_REPLY] == port;
}

void
ct_offload_port_del(struct ct_offload *inst, odp_port_t port)
{
    size_t n;

    ovs_mutex_lock(&inst->priv->mutex);
    n = ct_offload_remove_conns(inst, ocon_uses_port, port);
    ovs_mutex_unlock(&inst->priv->mutex);
    if (n) {
        COVERAGE_ADD(ct_offload_port_removed, n);
        VLOG_INFO("%s: port %"PRIu32" removed, %"PRIuSIZE" connections "
                  "continue in software", inst->name, odp_to_u32(port), n);
    }
}

static void
ct_offload_free_instance(struct ct_offload *inst)
{
    struct ct_offload_instance_private *p = inst_priv(inst);
    char *name = inst->name;

    inst->class->destroy(inst);
    ovs_mutex_destroy(&p->mutex);
    free(p);
    free(name);
}

void
ct_offload_destroy(struct ct_offload *inst)
{
    struct ct_offload_instance_private *p;
    struct ct_offload_dp *dp;

    if (!inst) {
        return;
    }
    p = inst_priv(inst);
    dp = p->dp;

    ovs_mutex_lock(&ct_offload_mutex);
    ct_offload_dp_set_instances(dp, NULL, inst);
    ovs_mutex_unlock(&ct_offload_mutex);

    size_t n;

    ovs_mutex_lock(&inst->priv->mutex);
    p->dead = true;
    n = ct_offload_remove_conns(inst, NULL, ODPP_NONE);
    ovs_mutex_unlock(&inst->priv->mutex);

    if (n) {
        VLOG_INFO("%s: flushed %"PRIuSIZE" connections", inst->name, n);
    }
    VLOG_INFO("%s: conntrack offload instance destroyed", inst->name);
    /* The offload thread and the clean thread may still hold pointers to
     * 'inst' that they read before: free it after they quiesce. */
    ovsrcu_postpone(ct_offload_free_instance, inst);
    ct_offload_dp_unref(dp);
}

/* Bindings. */

/* Creates or destroys the instance of 'b' so that it exists exactly while
 * conntrack offload is enabled. */
static void
ct_offload_binding_sync(struct ct_offload_binding *b)
    OVS_REQUIRES(bindings_mutex)
{
    struct ct_offload *inst = ovsrcu_get_protected(struct ct_offload *,
                                                   &b->inst);

    if (ct_offload_enabled() && !inst) {
        if (!ct_offload_create(b->class, b->dpif_offload, b->dp_name,
                               &inst)) {
            ovsrcu_set(&b->inst, inst);
        }
    } else if (!ct_offload_enabled() && inst) {
        /* Packet paths that read the old pointer finish with it before the
         * instance is freed: ct_offload_destroy() postpones that. */
        ovsrcu_set(&b->inst, NULL);
        ct_offload_destroy(inst);
    }
}

static void
ct_offload_sync_bindings(void)
{
    struct ct_offload_binding *b;

    ovs_mutex_lock(&bindings_mutex);
    LIST_FOR_EACH (b, node, &bindings) {
        ct_offload_binding_sync(b);
    }
    ovs_mutex_unlock(&bindings_mutex);
}

struct ct_offload_binding *
ct_offload_bind(const struct ct_offload_class *class,
                struct dpif_offload *dpif_offload, const char *dp_name)
{
    struct ct_offload_binding *b = xzalloc(sizeof *b);

    ct_offload_register_class(class);
    b->class = class;
    b->dpif_offload = dpif_offload;
    b->dp_name = xstrdup(dp_name);
    ovsrcu_init(&b->inst, NULL);

    ovs_mutex_lock(&bindings_mutex);
    ovs_list_push_back(&bindings, &b->node);
    ct_offload_binding_sync(b);
    ovs_mutex_unlock(&bindings_mutex);
    return b;
}

void
ct_offload_unbind(struct ct_offload_binding *b)
{
    if (!b) {
        return;
    }

    ovs_mutex_lock(&bindings_mutex);
    ovs_list_remove(&b->node);
    ovs_mutex_unlock(&bindings_mutex);

    struct ct_offload *inst = ovsrcu_get_protected(struct ct_offload *,
                                                   &b->inst);
    ovsrcu_set(&b->inst, NULL);
    ct_offload_destroy(inst);
    free(b->dp_name);
    ovsrcu_postpone(free, b);
}

struct ct_offload *
ct_offload_binding_get(const struct ct_offload_binding *b)
{
    return b ? ovsrcu_get(struct ct_offload *, &b->inst) : NULL;
}

void
ct_offload_binding_port_del(struct ct_offload_binding *b, odp_port_t port)
{
    struct ct_offload *inst;

    if (!b) {
        return;
    }
    ovs_mutex_lock(&bindings_mutex);
    inst = ovsrcu_get_protected(struct ct_offload *, &b->inst);
    if (inst) {
        ct_offload_port_del(inst, port);
    }
    ovs_mutex_unlock(&bindings_mutex);
}

/* Expiry. */

void
ct_offload_conns_update(struct ct_offload_conn *conns[], size_t n,
                        long long last_used[])
{
    struct ct_offload_op *op_ptrs[BATCH_SIZE];
    struct ct_offload_op ops[BATCH_SIZE];
    bool done[BATCH_SIZE];

    ovs_assert(n <= BATCH_SIZE);
    for (size_t i = 0; i < n; i++) {
        last_used[i] = 0;
        done[i] = false;
    }

    for (size_t i = 0; i < n; i++) {
        struct ct_offload *inst;

        if (done[i]) {
            continue;
        }
        inst = ovsrcu_get(struct ct_offload *, &ocon_cast(conns[i])->holder);
        if (!inst) {
            continue;
        }

        struct ct_offload_instance_private *p = inst_priv(inst);
        size_t idx[BATCH_SIZE];
        size_t n_ops = 0;

        ovs_mutex_lock(&inst->priv->mutex);
        for (size_t j = i; j < n && !p->dead; j++) {
            struct ocon *ocon = ocon_cast(conns[j]);

            if (!done[j]
                && ovsrcu_get_protected(struct ct_offload *, &ocon->holder)
                   == inst
                && ocon->programmed) {
                ops[n_ops] = (struct ct_offload_op) {
                    .type = CT_OFFLOAD_OP_UPDATE,
                    .conn = conns[j],
                };
                op_ptrs[n_ops] = &ops[n_ops];
                idx[n_ops++] = j;
                done[j] = true;
            }
        }
        ct_offload_run_ops(inst, op_ptrs, n_ops);
        for (size_t j = 0; j < n_ops; j++) {
            p->n_updates++;
            if (!ops[j].error) {
                last_used[idx[j]] = ops[j].stats.last_used;
            }
        }
        ovs_mutex_unlock(&inst->priv->mutex);
    }
}

void
ct_offload_conn_kept_alive(const struct ct_offload_conn *conn)
{
    struct ct_offload *inst;

    inst = ovsrcu_get(struct ct_offload *, &ocon_cast(conn)->holder);
    if (inst) {
        uint64_t orig;

        atomic_add_relaxed(&inst_priv(inst)->n_kept_alive, 1, &orig);
    }
}

bool
ct_offload_conn_get_stats(const struct ct_offload_conn *conn,
                          struct ct_offload_hw_stats *stats,
                          const char **provider_type)
{
    struct ocon *ocon = ocon_cast(conn);
    struct ct_offload *inst;
    bool found = false;

    inst = ovsrcu_get(struct ct_offload *, &ocon->holder);
    if (!inst || ocon_state(ocon) != OCON_IN_HW) {
        return false;
    }

    struct ct_offload_instance_private *p = inst_priv(inst);

    memset(stats, 0, sizeof *stats);
    ovs_mutex_lock(&inst->priv->mutex);
    if (!p->dead
        && ovsrcu_get_protected(struct ct_offload *, &ocon->holder) == inst
        && ocon->programmed) {
        struct ct_offload_op op = {
            .type = CT_OFFLOAD_OP_UPDATE,
            .conn = CONST_CAST(struct ct_offload_conn *, conn),
        };
        struct ct_offload_op *op_ptr = &op;

        ct_offload_run_ops(inst, &op_ptr, 1);
        if (!op.error) {
            *stats = op.stats;
        }
        *provider_type = inst->class->type;
        found = true;
    }
    ovs_mutex_unlock(&inst->priv->mutex);
    return found;
}

/* Show. */

/* Appends the state of 'inst' to 'ds', each line indented by 'indent'
 * spaces, or as members of 'json'. */
static void
ct_offload_format_instance(const struct ct_offload *inst, int indent,
                           struct ds *ds, struct json *json)
{
    struct ct_offload_instance_private *p = inst_priv(inst);
    struct ds debug = DS_EMPTY_INITIALIZER;
    uint64_t kept_alive;

    atomic_read_relaxed(&p->n_kept_alive, &kept_alive);
    ovs_mutex_lock(&inst->priv->mutex);
    if (json) {
        static const char *names[] = {
            "held", "in_hardware", "added", "offloaded", "deleted",
            "refused", "failed", "updates", "kept_alive",
        };
        const uint64_t values[] = {
            p->n_conns, p->n_in_hw, p->n_added, p->n_offloaded,
            p->n_deleted, p->n_refused, p->n_failed, p->n_updates,
            kept_alive,
        };

        json_object_put_string(json, "instance", inst->name);
        json_object_put(json, "priority",
                        json_integer_create(inst->priority));
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
            json_object_put(json, names[i], json_integer_create(values[i]));
        }
        if (inst->class->get_debug) {
            inst->class->get_debug(inst, NULL, json);
        }
    } else {
        ds_put_format(ds, "%*s%s: priority %d\n", indent, "", inst->name,
                      inst->priority);
        ds_put_format(ds, "%*s  connections: %"PRIuSIZE" held, %"PRIuSIZE
                      " in hardware\n", indent, "", p->n_conns, p->n_in_hw);
        ds_put_format(ds, "%*s  added: %"PRIu64", offloaded: %"PRIu64
                      ", deleted: %"PRIu64"\n", indent, "",
                      p->n_added, p->n_offloaded, p->n_deleted);
        ds_put_format(ds, "%*s  refused: %"PRIu64", failed: %"PRIu64"\n",
                      indent, "", p->n_refused, p->n_failed);
        ds_put_format(ds, "%*s  updates: %"PRIu64", kept alive: %"PRIu64
                      "\n", indent, "", p->n_updates, kept_alive);
        if (inst->class->get_debug) {
            inst->class->get_debug(inst, &debug, NULL);
        }
    }
    ovs_mutex_unlock(&inst->priv->mutex);

    /* Provider lines come without indentation. */
    char *save_ptr = NULL;
    for (char *line = strtok_r(ds_cstr(&debug), "\n", &save_ptr); line;
         line = strtok_r(NULL, "\n", &save_ptr)) {
        ds_put_format(ds, "%*s  %s\n", indent, "", line);
    }
    ds_destroy(&debug);
}

void
ct_offload_format_owner(const struct dpif_offload *owner, struct ds *ds,
                        struct json *json)
{
    struct ct_offload_dp *dp;

    if (!ct_offload_enabled()) {
        return;
    }

    ovs_mutex_lock(&ct_offload_mutex);
    HMAP_FOR_EACH (dp, node, &dps) {
        struct instance_array *array;

        array = ovsrcu_get_protected(struct instance_array *,
                                     &dp->instances);
        for (size_t i = 0; array && i < array->n; i++) {
            const struct ct_offload *inst = array->insts[i];

            if (inst->dpif_offload != owner) {
                continue;
            }
            if (json) {
                struct json *ct = json_object_create();

                ct_offload_format_instance(inst, 0, NULL, ct);
                json_object_put(json, "conntrack", ct);
            } else {
                ds_put_cstr(ds, "    conntrack:\n");
                ct_offload_format_instance(inst, 6, ds, NULL);
            }
        }
    }
    ovs_mutex_unlock(&ct_offload_mutex);
}

static void
ct_offload_unixctl_show(struct unixctl_conn *conn, int argc,
                        const char *argv[], void *aux OVS_UNUSED)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    struct ct_offload_dp *dp;

    ovs_mutex_lock(&ct_offload_mutex);
    ds_put_format(&ds, "Conntrack offload: %s\n",
                  ct_offload_enabled() ? "enabled" : "disabled");
    ds_put_cstr(&ds, "Providers:");
    for (size_t i = 0; i < n_classes; i++) {
        ds_put_format(&ds, " %s (priority %d)%s", classes[i]->type,
                      classes[i]->priority, i + 1 < n_classes ? "," : "");
    }
    ds_put_char(&ds, '\n');

    HMAP_FOR_EACH (dp, node, &dps) {
        struct instance_array *array;
        uint64_t queued, dropped, processed;
        bool active;

        if (argc > 1 && strcmp(argv[1], dp->name)) {
            continue;
        }
        atomic_read_relaxed(&dp->active, &active);
        atomic_read_relaxed(&dp->n_queued, &queued);
        atomic_read_relaxed(&dp->n_dropped, &dropped);
        atomic_read_relaxed(&dp->n_processed, &processed);
        ds_put_format(&ds, "%s: %s\n", dp->name,
                      active ? "active" : "inactive");
        ds_put_format(&ds, "  events: queued %"PRIu64", processed %"PRIu64
                      ", pending %u, dropped %"PRIu64"\n", queued,
                      processed, atomic_count_get(&dp->n_pending), dropped);
        array = ovsrcu_get_protected(struct instance_array *,
                                     &dp->instances);
        for (size_t i = 0; array && i < array->n; i++) {
            ct_offload_format_instance(array->insts[i], 2, &ds, NULL);
        }
    }
    ovs_mutex_unlock(&ct_offload_mutex);

    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
ct_offload_unixctl_flush(struct unixctl_conn *conn, int argc,
                         const char *argv[], void *aux OVS_UNUSED)
{
    bool found = ct_offload_flush_dps(argc > 1 ? argv[1] : NULL);

    if (argc > 1 && !found) {
        unixctl_command_reply_error(conn, "no such datapath");
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

static void
ct_offload_unixctl_init(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        unixctl_command_register("ct-offload/show", "[dp]", 0, 1,
                                 ct_offload_unixctl_show, NULL);
        unixctl_command_register("ct-offload/flush", "[dp]", 0, 1,
                                 ct_offload_unixctl_flush, NULL);
        ovsthread_once_done(&once);
    }
}
