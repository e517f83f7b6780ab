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

#ifndef CT_OFFLOAD_H
#define CT_OFFLOAD_H 1

/* Hardware offload of userspace conntrack connections.
 *
 * Three parties use this interface:
 *
 *   - Conntrack (lib/conntrack.c) reports connection events for its
 *     datapath's 'struct ct_offload_dp': a committed connection, the first
 *     reply once it is established, connections whose software timer ran
 *     out (to ask hardware whether they are still in use) and every
 *     removal.  These calls never block: they queue work for the datapath's
 *     offload thread.
 *
 *   - dpif-offload providers create one ct-offload instance per
 *     dpif-offload instance (ct_offload_create() / ct_offload_destroy()),
 *     which binds it to the datapath of the same name.
 *
 *   - ct-offload providers (see ct-offload-provider.h) program hardware
 *     from the offload thread.
 *
 * See Documentation/topics/userspace-conntrack-offloading.rst. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/types.h"
#include "ovs-atomic.h"

struct conn;
struct ct_dpif_tuple;
struct ct_offload;
struct ct_offload_class;
struct ct_offload_conn;
struct ct_offload_dp;
struct dp_packet;
struct dpif_offload;
struct ds;
struct json;
struct smap;

/* The most connections ct_offload_conns_update() takes at once. */
#define CT_OFFLOAD_BATCH_MAX 64

enum ct_offload_dir {
    CT_OFFLOAD_DIR_ORIG,
    CT_OFFLOAD_DIR_REPLY,
    CT_OFFLOAD_N_DIRS
};

/* Hardware counters of one offloaded connection, both directions. */
struct ct_offload_hw_stats {
    uint64_t packets;
    uint64_t bytes;
    long long last_used;        /* time_msec() of the last packet seen by
                                 * hardware, 0 if none or unknown. */
};

/* Classes and global configuration. */
void ct_offload_register_class(const struct ct_offload_class *);
void ct_offload_set_global_cfg(const struct smap *other_config);
bool ct_offload_enabled(void);
void ct_offload_set_enabled_for_testing(bool enable);

/* Bindings: what a dpif-offload instance holds.  It binds a class to
 * itself when it opens and unbinds when it closes.  The core creates the
 * provider instance while conntrack offload is enabled (other_config
 * hw-offload and hw-offload-ct) and destroys it when offload is turned
 * off, so that no instance exists while offload is off.  Main thread. */
struct ct_offload_binding;
struct ct_offload_binding *ct_offload_bind(const struct ct_offload_class *,
                                           struct dpif_offload *,
                                           const char *dp_name);
void ct_offload_unbind(struct ct_offload_binding *);
/* The instance now, or NULL; under RCU, from any thread. */
struct ct_offload *ct_offload_binding_get(const struct ct_offload_binding *);
/* See ct_offload_port_del(). */
void ct_offload_binding_port_del(struct ct_offload_binding *, odp_port_t);

/* Instances, created and destroyed by bindings (or directly by unit
 * tests).  'dp_name' is the dpif name of the datapath ("type@name"). */
int ct_offload_create(const struct ct_offload_class *,
                      struct dpif_offload *, const char *dp_name,
                      struct ct_offload **);
void ct_offload_destroy(struct ct_offload *);
/* Called by a dpif-offload provider after it removed 'port' from its port
 * manager, before it releases the port: the connections that use it leave
 * hardware and continue in software. */
void ct_offload_port_del(struct ct_offload *, odp_port_t);
void ct_offload_flush(struct ct_offload *);

/* For dpif/offload/show: the conntrack offload state of the instance that
 * 'owner' created, as text lines or JSON members.  Nothing while conntrack
 * offload is disabled. */
void ct_offload_format_owner(const struct dpif_offload *owner,
                             struct ds *, struct json *);

/* Datapath side: one per conntrack instance. */
struct ct_offload_dp *ct_offload_dp_ref(const char *dp_name);
void ct_offload_dp_unref(struct ct_offload_dp *);
const atomic_bool *ct_offload_dp_active_flag(const struct ct_offload_dp *);

/* Connection events, from conntrack.  None of them blocks.
 * ct_offload_conn_seen() takes the state of the connection after a packet
 * that software accepted ('established': established both ways) and the
 * packet's input port. */
struct ct_offload_conn *ct_offload_conn_add(struct ct_offload_dp *,
                                            struct conn *,
                                            const struct ct_dpif_tuple *orig,
                                            const struct ct_dpif_tuple *reply,
                                            uint16_t zone,
                                            uint16_t nat_action,
                                            odp_port_t in_port);

/* The same, in two steps, for a caller that holds a lock that allocation,
 * logging or waking the offload thread should not run under (conntrack's
 * 'ct_lock'): ct_offload_conn_alloc() before taking the lock;
 * ct_offload_conn_add_prealloc() under it, which takes '*spare' (setting
 * it to NULL) unless the queue is full; then, after releasing the lock,
 * ct_offload_conn_free_unused() on what is left and ct_offload_dp_kick(),
 * which wakes the offload thread and logs dropped events. */
struct ct_offload_conn *ct_offload_conn_alloc(void);
struct ct_offload_conn *ct_offload_conn_add_prealloc(
    struct ct_offload_dp *, struct ct_offload_conn **spare, struct conn *,
    const struct ct_dpif_tuple *orig, const struct ct_dpif_tuple *reply,
    uint16_t zone, uint16_t nat_action, odp_port_t in_port);
void ct_offload_conn_free_unused(struct ct_offload_conn *);
void ct_offload_dp_kick(struct ct_offload_dp *);

void ct_offload_conn_seen(struct ct_offload_dp *, struct ct_offload_conn *,
                          bool reply, bool established, odp_port_t in_port);
bool ct_offload_conn_wants_events(const struct ct_offload_conn *);
void ct_offload_conn_del(struct ct_offload_dp *, struct ct_offload_conn *);
void ct_offload_conn_free(struct ct_offload_conn *);

/* Hardware carries 'conn' now: a packet that hardware resolved to it may
 * skip conntrack's lookup. */
bool ct_offload_conn_in_hw(const struct ct_offload_conn *);
/* Hardware carries 'conn' and forwards its packets without software, so
 * software's timer says nothing about whether it is in use. */
bool ct_offload_conn_hw_forwards(const struct ct_offload_conn *);
/* Hardware forwarded packets of 'conn' at some point: software's view of
 * its TCP windows is stale for good. */
bool ct_offload_conn_was_forwarded(const struct ct_offload_conn *);

/* Expiry: for each of the 'n' connections, stores in 'last_used[i]' the
 * time hardware last saw a packet of it, or 0.  Groups the queries by
 * instance.  Called by the conntrack clean thread. */
void ct_offload_conns_update(struct ct_offload_conn *conns[], size_t n,
                             long long last_used[]);
/* Conntrack kept 'conn' alive on the strength of its hardware last-used
 * time: counted for show commands. */
void ct_offload_conn_kept_alive(const struct ct_offload_conn *);

/* Dump: if hardware carries 'conn', stores its counters and the type of
 * the provider that holds it, and returns true. */
bool ct_offload_conn_get_stats(const struct ct_offload_conn *,
                               struct ct_offload_hw_stats *,
                               const char **provider_type);

/* For tests and benchmarks: waits until the offload thread of 'dp' has
 * processed every event queued so far. */
void ct_offload_dp_wait(struct ct_offload_dp *);

#endif /* ct-offload.h */
