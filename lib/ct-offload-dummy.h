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

#ifndef CT_OFFLOAD_DUMMY_H
#define CT_OFFLOAD_DUMMY_H 1

/* An emulated hardware connection table for the dummy datapath, paired
 * with dpif-offload-dummy: "dummy" and "dummy_x" instances, as for flow
 * offload, with different priorities. */

#include "openvswitch/types.h"

struct ct_offload;
struct dp_packet;

extern const struct ct_offload_class ct_offload_dummy_class;
extern const struct ct_offload_class ct_offload_dummy_x_class;

/* The emulated NIC's receive path, for a packet that arrived on 'port' of
 * the dpif-offload instance that owns 'inst': counts it against the
 * connection it belongs to, if hardware carries that connection, and tells
 * conntrack.  Returns true if the emulated hardware forwarded the packet
 * itself (an instance set to forward=true), so that software must not see
 * it.  Any thread, under RCU. */
bool ct_offload_dummy_receive(struct ct_offload *inst, odp_port_t port,
                              struct dp_packet *);

#endif /* ct-offload-dummy.h */
