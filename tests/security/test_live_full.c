// SPDX-License-Identifier: MIT
/*
 * Chains never loop, whatever is full. With the live table full, a new
 * flow's records cannot be registered. Its service used to set them all
 * the same and connect out: the engine, not finding them, decided afresh
 * and sent the connect back to the service, and round again (A→B→A…
 * until both proxies ran out of descriptors). Now records that are not
 * live are refused when set, so the flow ends at its service instead.
 * The engine is loaded with a live table of one flow (LWFP_LIVE_MAX).
 */
#include "harness.h"
#include "attack.h"

static void test_live_full(void)
{
	uint16_t orig_port, svc_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int svc = listen_on("127.0.0.1", &svc_port), a1, a2, out, err;
	unsigned char rec[LWFP_RECORDS_LEN];
	size_t rlen = sizeof(rec);
	struct lwfp *eng;
	pid_t c1, c2;

	engine_stop();
	setenv("LWFP_LIVE_MAX", "1", 1);
	REQUIRE(!lwfp_run("load", "--cgroup", env.base, NULL),
		"load with a live table of one");
	unsetenv("LWFP_LIVE_MAX");
	env.loaded = true;
	REQUIRE(redirect_port(svc_port, NULL, NULL, orig_port), "service, rule");
	REQUIRE(!lwfp_open(env.pin_dir, &eng), "lwfp_open");

	c1 = silent_client(orig_port, attacker_enter);
	a1 = accept_timeout(svc, 5000);
	c2 = silent_client(orig_port, attacker_enter);
	a2 = accept_timeout(svc, 5000);
	REQUIRE(a1 >= 0 && a2 >= 0, "both flows at the service");
	CHECK(counter("records_table_full") == 1, "the second flow's records "
	      "were registered: the table is not full, no test");
	CHECK(!lwfp_query_records(eng, a2, rec, &rlen),
	      "the second flow's records");

	out = socket(AF_INET, SOCK_STREAM, 0);
	err = lwfp_set_records(eng, out, rec, rlen);
	CHECK(err == -ESTALE, "records that are not live were taken: %d", err);
	if (!err) {
		connect_loopback(out, orig_port);
		CHECK(!reached(svc, 1000), "the service's outbound connect "
		      "came back to it: a loop");
	}
	close(out);
	close(a1);
	close(a2);
	silent_client_end(c1);
	silent_client_end(c2);
	lwfp_close(eng);
	close(origin);
	close(svc);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"with the live table full, a flow's service cannot loop it",
	};
	static const test_fn fns[] = { test_live_full };

	env_init(argc, argv, "slive");
	return run_tests(names, fns, 1);
}
