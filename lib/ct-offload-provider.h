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

#ifndef CT_OFFLOAD_PROVIDER_H
#define CT_OFFLOAD_PROVIDER_H 1

/* Conntrack offload provider interface.
 *
 * A provider ("class") knows how to carry connections of the userspace
 * connection tracker in some hardware.  A provider *instance* belongs to
 * exactly one dpif-offload instance: the dpif-offload provider binds the
 * class with ct_offload_bind() from its open() callback and unbinds it with
 * ct_offload_unbind() from its close() callback, and the core creates the
 * instance while conntrack offload is enabled and destroys it when offload
 * is turned off or the binding goes.  So an instance exists only for
 * datapaths that a bridge uses, only while offload is on, and it may
 * offload only connections whose ports that dpif-offload instance owns.
 *
 * Threads.  Conntrack never calls a provider.  The PMD threads only queue
 * events; one offload thread per datapath ("ct_offload") dequeues them in
 * batches and makes the add, established and delete calls.  The conntrack
 * clean thread calls conn_update() to learn hardware last-used times of
 * connections that a forwarding instance (see 'forwards') carries.  The
 * main thread calls conn_update() for dumps, get_debug() for show commands,
 * and flush() or conn_del() when a port is removed or offload is turned off
 * or flushed.  Whichever thread destroys the instance (the main thread, or
 * the RCU thread that runs deferred dpif-offload closes) calls flush() or
 * conn_del(); destroy() then runs from an RCU callback.  All
 * calls into one instance are serialized by the instance's mutex, which the
 * core takes around them, so a provider needs no locking of its own except
 * for state that its packet path (e.g. mark recovery on a PMD thread) reads.
 * A provider must not call back into the core from a callback, except
 * through ct_offload_get_netdev().
 *
 * Port removal.  A dpif-offload provider calls
 * ct_offload_binding_port_del() after it removed the port from its port
 * manager, so that no connection can be offloaded to the port again
 * (ct_offload_get_netdev() no longer finds it), and before it releases the
 * port.  So conn_del() must not need the port's netdev from the port
 * manager: a provider keeps what it needs to remove its rules in
 * 'provider_data'.
 *
 * Lifetime of a connection as the provider sees it:
 *
 *     can_offload() -> conn_add() -> conn_established() -> conn_update()*
 *                                                        -> conn_del()
 *
 * conn_add() and conn_established() may fail; the core then calls
 * conn_del() if conn_add() had succeeded and offers the connection to the
 * next instance in priority order, and finally leaves it to software only.
 * conn_del() is called exactly once for every connection whose conn_add()
 * succeeded, unless flush() or destroy() removes it first. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct-dpif.h"
#include "ct-offload.h"
#include "openvswitch/list.h"
#include "openvswitch/thread.h"

struct dpif_offload;
struct ds;
struct json;
struct netdev;

/* A connection, as offload providers see it. */
struct ct_offload_conn {
    /* Immutable once the connection is queued for offload, except as
     * noted. */

    /* 'tuple[CT_OFFLOAD_DIR_ORIG]' matches packets of the original
     * direction as they arrive, 'tuple[CT_OFFLOAD_DIR_REPLY]' packets of
     * the reply direction as they arrive (so, with NAT, the translated
     * addresses).  A provider that rewrites headers for NAT rewrites a
     * packet of one direction to the reverse of the other direction's
     * tuple. */
    struct ct_dpif_tuple tuple[CT_OFFLOAD_N_DIRS];
    uint16_t zone;
    uint16_t nat_action;        /* NAT_ACTION_* bits, 0 without NAT. */

    /* Input ports.  ORIG is set at commit.  REPLY is ODPP_NONE until the
     * offload thread, just before conn_established(), stores the port that
     * the first reply arrived on; can_offload() and conn_add() see
     * ODPP_NONE. */
    odp_port_t in_port[CT_OFFLOAD_N_DIRS];

    /* For the instance that holds the connection, guarded by its mutex. */
    void *provider_data;
};

/* Base of an instance.  A provider embeds it in its own instance struct. */
struct ct_offload {
    const struct ct_offload_class *class;
    char *name;                       /* "<type>[<dpif name>]". */
    struct dpif_offload *dpif_offload;  /* Owner; NULL in unit tests. */
    int priority;                     /* Higher is offered connections
                                       * first. */

    /* Whether this instance's hardware forwards packets of the connections
     * it carries without handing them to software ("full" offload).
     * Initialized from the class; a provider may change it only while it
     * holds no connection.  See 'forwards' in struct ct_offload_class. */
    atomic_bool forwards;

    /* Private to ct-offload.c. */
    struct ct_offload_instance_private *priv;
};

/* One operation of a batch (see 'operate' below). */
enum ct_offload_op_type {
    CT_OFFLOAD_OP_ADD,          /* conn_add(). */
    CT_OFFLOAD_OP_ESTABLISHED,  /* conn_established(). */
    CT_OFFLOAD_OP_DEL,          /* conn_del(). */
    CT_OFFLOAD_OP_UPDATE,       /* conn_update(). */
};

struct ct_offload_op {
    enum ct_offload_op_type type;
    struct ct_offload_conn *conn;
    struct netdev *netdev;      /* ESTABLISHED: the reply port's netdev, or
                                 * NULL if the core could not resolve it. */

    /* Results, filled in by the provider. */
    int error;                  /* ADD, ESTABLISHED: 0 or a positive errno
                                 * value. */
    struct ct_offload_hw_stats stats;  /* UPDATE. */
};

struct ct_offload_class {
    /* Type, e.g. "dummy" or "dpdk": used in instance names and logs. */
    const char *type;

    /* Default priority of this class's instances.  Among the instances of
     * one datapath, higher priorities are offered a connection first. */
    int priority;

    /* False (every provider so far): hardware only classifies packets of
     * offloaded connections and still delivers each of them to software,
     * which then skips only conntrack's lookup and tracks the connection
     * exactly as it would alone (TCP windows included).
     *
     * True: hardware forwards packets without software.  Software then
     * misses segments for good, so conntrack tracks TCP windows of such
     * connections liberally (as the kernel does for flowtable entries),
     * still checking the sequence number of every RST it does see, and
     * keeps them alive while hardware reports them in use.  That trades
     * window checking for speed: an attacker who knows the 5-tuple can
     * inject in-window-agnostic segments into such a connection. */
    bool forwards;

    /* Creates an instance for 'dpif_offload' (which may be NULL in unit
     * tests).  The provider allocates its instance struct, embeds a
     * 'struct ct_offload' in it and stores a pointer to it in '*inst';
     * ct_offload_create() fills in the base.  Main thread.  Returns 0 or a
     * positive errno value. */
    int (*create)(const struct ct_offload_class *,
                  struct dpif_offload *dpif_offload,
                  struct ct_offload **inst);

    /* Frees an instance.  Every connection has been removed already, by
     * flush() or conn_del().  Runs from an RCU callback, after a grace
     * period, so that no thread still uses the instance. */
    void (*destroy)(struct ct_offload *);

    /* Whether 'inst' may take 'conn' at all: protocol, zone, NAT kind, and
     * whether it owns 'conn->in_port[CT_OFFLOAD_DIR_ORIG]'.  Must not
     * block.  Offload thread.  A false return is a refusal: the connection
     * is offered to the next instance.  Optional: NULL accepts all. */
    bool (*can_offload)(const struct ct_offload *,
                        const struct ct_offload_conn *);

    /* The connection was committed.  The provider may reserve resources
     * for it (the connection is not established yet, so nothing should
     * match packets).  Offload thread.  Returns 0 to take the connection,
     * a positive errno value to pass it on.  Optional. */
    int (*conn_add)(struct ct_offload *, struct ct_offload_conn *);

    /* The connection is established in both directions and both input
     * ports are known (for TCP, the handshake's final ACK was seen);
     * 'reply_netdev' is the reply direction's input port (NULL if it no
     * longer exists).  Called at most once per connection.  Programs
     * hardware for each direction it can (a provider may carry only the
     * direction that arrives on a port it owns).  Offload thread.  Returns
     * 0 or a positive errno value: EOPNOTSUPP when this instance cannot
     * carry the connection (e.g. no port it owns), which passes it on
     * quietly, ENOSPC when the table is full, others for failures. */
    int (*conn_established)(struct ct_offload *, struct ct_offload_conn *,
                            struct netdev *reply_netdev);

    /* Removes the connection from hardware and frees 'provider_data'.
     * The connection continues in software or is being freed.  Must not
     * fail.  Offload thread, or main thread (port removal, and flushes of a
     * provider without flush()). */
    void (*conn_del)(struct ct_offload *, struct ct_offload_conn *);

    /* Reads the hardware counters of an established connection into
     * '*stats'.  Called by the conntrack clean thread for connections whose
     * software timer ran out, and by the main thread for dumps.  Returns 0
     * or a positive errno value.  Optional: without it, hardware never
     * keeps a connection alive. */
    int (*conn_update)(struct ct_offload *, struct ct_offload_conn *,
                       struct ct_offload_hw_stats *stats);

    /* Batch entry point: performs 'n' operations on one instance, setting
     * each op's result fields.  When non-NULL the core uses it instead of
     * the individual callbacks above, e.g. so that a provider can push many
     * rules to hardware at once.  Same threads as the individual calls. */
    void (*operate)(struct ct_offload *, struct ct_offload_op *ops[],
                    size_t n);

    /* Removes every connection of this instance from hardware at once (a
     * ct-offload flush, or conntrack offload being turned off).  The core
     * then drops the instance's references to them without conn_del().
     * Optional: without it, the core calls conn_del() for each. */
    void (*flush)(struct ct_offload *);

    /* Appends provider specific state to ct-offload/show and
     * dpif/offload/show, as text to 'ds' or as members of the JSON object
     * 'json' (exactly one of them is nonnull).  Optional. */
    void (*get_debug)(const struct ct_offload *, struct ds *ds,
                      struct json *json);
};

/* Called by a provider with the instance mutex held (from a callback) or
 * from its packet path: the netdev of 'port' of the dpif-offload instance
 * that owns 'inst', or NULL. */
struct netdev *ct_offload_get_netdev(const struct ct_offload *inst,
                                     odp_port_t port);

/* For providers' packet paths (e.g. a PMD thread recovering a hardware
 * mark): tells conntrack that 'packet' belongs to direction 'dir' of 'conn'
 * and that hardware has accounted for it, so that the next ct() action
 * resolves the connection without a lookup and without refreshing its
 * software timer.  Does nothing if the connection is being removed.
 * Returns true if the packet was marked.  Must be called under RCU
 * protection (any non-quiescent thread). */
bool ct_offload_packet_set_conn(struct dp_packet *packet,
                                const struct ct_offload_conn *conn,
                                enum ct_offload_dir dir);

#endif /* ct-offload-provider.h */
