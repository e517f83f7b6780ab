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
 * never by the testsuite. */

#include <config.h>

#include "ovstest.h"
#include "util.h"

static void
test_ct_offload_bench_main(int argc OVS_UNUSED, char *argv[])
{
    set_program_name(argv[0]);
    ovs_fatal(0, "not built yet: see tools/bench.sh");
}

OVSTEST_REGISTER("test-ct-offload-bench", test_ct_offload_bench_main);
