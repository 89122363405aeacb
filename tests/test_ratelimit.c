/*
 * test_ratelimit.c - what unauthenticated clients can make the collector
 * spend (docs/collector.md, "Rate limits" and "Pairing"): token buckets
 * that stay within their bounds whatever the order of the timestamps
 * requests bring to them, and pairing attempts that are rate limited and
 * answered while another process holds the database's write lock.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test.h"
#include "../collector/ratelimit.h"

/* Requests stamp their arrival, then take from the bucket later, each at
 * its own pace: the takes come in an order their times do not follow.
 * Whatever the order, a bucket holds 0 to burst tokens, never grants more
 * than it was asked, and all it grants stays within burst + rate x the
 * span of the times it saw. */
static void buckets_stay_within_their_bounds_under_shuffled_times(void)
{
	enum { TAKES = 400 };
	unsigned seed = 16;

	for (int round = 0; round < 300; round++) {
		double per_minute = 1 + rand_r(&seed) % 1200, burst = 1 + rand_r(&seed) % 600;
		double times[TAKES], lo = INFINITY, hi = -INFINITY, step = (rand_r(&seed) % 1000) / 1000.0;
		/* a window of 2 swaps neighbours, TAKES shuffles everything */
		size_t window = round % 3 == 0 ? TAKES : 2 + (size_t)(rand_r(&seed) % 16);
		size_t granted = 0;
		struct col_ratelimit rl;

		for (size_t i = 0; i < TAKES; i++)
			times[i] = 1e6 + (double)i * step + (rand_r(&seed) % 1000) / 1e4;
		for (size_t i = 0; i < TAKES; i++) {
			size_t j = i + (size_t)rand_r(&seed) % (window < TAKES - i ? window : TAKES - i);
			double t = times[i];

			times[i] = times[j];
			times[j] = t;
		}
		col_ratelimit_init(&rl, per_minute, burst);
		for (size_t i = 0; i < TAKES; i++) {
			size_t want = round % 2 ? 1 : 1 + (size_t)(rand_r(&seed) % 40), got;
			const struct col_bucket *b;
			int wait;

			got = col_ratelimit_take_n(&rl, 42, times[i], want, &wait);
			lo = fmin(lo, times[i]);
			hi = fmax(hi, times[i]);
			granted += got;
			b = &rl.buckets[intmap_get(&rl.index, 42)];
			if (!(b->tokens >= 0 && b->tokens <= rl.burst) || got > want ||
			    (double)granted > rl.burst + rl.per_second * (hi - lo) + 1e-6 ||
			    (got < want) != (wait >= 1)) {
				test_fail(__FILE__, __LINE__, "round %d take %zu at %.4f: asked %zu, got %zu "
					  "(wait %d), tokens %g of %g, %zu granted in %.4f s at %g/s", round, i,
					  times[i], want, got, wait, b->tokens, rl.burst, granted, hi - lo,
					  rl.per_second);
				col_ratelimit_release(&rl);
				return;
			}
		}
		col_ratelimit_release(&rl);
	}
}

/* A kiosk with --pair on the running server: code gets its pairing code. */
static int add_paired_kiosk(const struct test_server *s, char *code)
{
	const struct cmd_result *r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter",
					       "Quầy 1", "--sector", "dat-dai", "--pair", "--base", s->base, NULL);
	const char *at = strstr(r->out, "/pair/");

	if (r->status != 0 || !at)
		return -1;
	snprintf(code, 64, "%.*s", (int)strcspn(at + 6, "\n"), at + 6);
	return strlen(code) == 40 ? 0 : -1;
}

static long pair(const struct test_server *s, const char *code, struct http_result *h)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"code\":\"%s\"}", code);
	return test_request(s, "POST", "/api/pair", NULL, body, h);
}

/* A made-up code: 40 hex digits, as a real one. */
static const char *random_code(char *buf, unsigned *seed)
{
	for (int i = 0; i < 40; i++)
		buf[i] = "0123456789abcdef"[rand_r(seed) % 16];
	buf[40] = '\0';
	return buf;
}

/* An unknown code is refused from a read, so it never waits for the write
 * lock another process holds; a good code waits no longer than a post
 * would (503 busy, and the code stays good); and every attempt spends the
 * address's allowance, so a flood of guesses gets 429. */
static void pairing_is_answered_while_another_process_holds_the_write_lock(void)
{
	struct test_server s;
	struct http_result h;
	char code[64], guess[48];
	unsigned seed = 7;
	long status;
	int refused = 0, limited = 0;
	time_t t0;
	sqlite3 *holder;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_server_start(&s, "sipas.db", "--address-rate", "60", NULL), 0);   /* bursts of 30 */
	CHECK_INT(add_paired_kiosk(&s, code), 0);
	CHECK((holder = test_db_lock("sipas.db")) != NULL);
	t0 = time(NULL);
	for (int i = 0; i < 8; i++) {
		status = pair(&s, random_code(guess, &seed), &h);
		if (status != 401)
			test_fail(__FILE__, __LINE__, "guess %d: %ld %s", i, status, h.body ? h.body : "");
		CHECK_CONTAINS(h.body, "unknown pairing code");
		free(h.body);
	}
	CHECK_INT(test_request(&s, "GET", "/results", NULL, NULL, &h), 200);
	free(h.body);
	CHECK_INT(pair(&s, code, &h), 503);
	CHECK_CONTAINS(h.body, "\"code\":\"busy\"");
	CHECK_CONTAINS(h.headers, "Retry-After: 5");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM pairings WHERE used_at IS NULL"), 1);
	CHECK_INT(sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(holder);
	CHECK_INT(pair(&s, code, &h), 200);
	free(h.body);
	/* 10 spent of a burst of 30, and one more a second since the first */
	for (int i = 0; i < 40; i++) {
		status = pair(&s, random_code(guess, &seed), &h);
		free(h.body);
		if (status == 429)
			limited++;
		else if (status == 401)
			refused++;
		else
			test_fail(__FILE__, __LINE__, "guess %d: %ld", i, status);
	}
	CHECK(limited > 0);
	CHECK(10 + refused <= 30 + (long)(time(NULL) - t0) + 1);
	CHECK_INT(test_server_stop(&s), 0);
}

const struct test_case ratelimit_tests[] = {
	{ "buckets_stay_within_their_bounds_under_shuffled_times",
	  buckets_stay_within_their_bounds_under_shuffled_times },
	{ "pairing_is_answered_while_another_process_holds_the_write_lock",
	  pairing_is_answered_while_another_process_holds_the_write_lock },
	{ NULL, NULL }
};
