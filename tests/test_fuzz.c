/*
 * test_fuzz.c - a short, deterministic fuzz pass inside `make test`: every
 * fuzz target (fuzz/targets.h) runs on the empty input, on each file of its
 * corpus, and on a few thousand mutations of them (bit flips, byte
 * changes, truncations, splices).  Under ASan/UBSan any memory error fails
 * the case; longer coverage-guided runs are `make fuzz`.
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "../fuzz/targets.h"

#define MUTATIONS_PER_FILE 300

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/* xorshift64: a reproducible stream of mutations (not for statistics). */
static uint64_t next_random(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void mutate_and_run(const struct fuzz_target *t, const char *orig, size_t len)
{
	char *buf = malloc(len + 64);

	for (int m = 0; buf && m < MUTATIONS_PER_FILE; m++) {
		size_t n = len;

		memcpy(buf, orig, len);
		for (int k = 0; k < 1 + (int)(next_random() % 4); k++) {
			size_t at = n ? (size_t)(next_random() % n) : 0;

			switch (next_random() % 5) {
			case 0: if (n) buf[at] ^= (char)(1u << (next_random() % 8)); break;
			case 1: if (n) buf[at] = (char)(next_random() & 0xff); break;
			case 2: n = at; break;
			case 3: if (n) buf[at] = "\",\n\r\0{}[]:\\"[next_random() % 11]; break;
			case 4: if (n + 8 < len + 64) { memmove(buf + at + 4, buf + at, n - at); memcpy(buf + at, "\"\"\xc3\xa9", 4); n += 4; } break;
			}
		}
		t->fn((const uint8_t *)buf, n);
	}
	free(buf);
}

static void replay_and_mutate_corpora(void)
{
	const char *src = getenv("SIPAS_SOURCE");
	int files = 0;

	CHECK(src);
	for (const struct fuzz_target *t = fuzz_targets; t->name; t++) {
		char dir[4096];
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", src, t->name);
		d = opendir(dir);
		CHECK(d);
		t->fn(NULL, 0);
		while ((de = readdir(d))) {
			char path[8192];
			char *text;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			text = test_read(path);
			CHECK(text);
			t->fn((const uint8_t *)text, strlen(text));
			mutate_and_run(t, text, strlen(text));
			free(text);
			files++;
		}
		closedir(d);
	}
	fuzz_cleanup();
	CHECK(files >= 10);
}

/* A short coverage-guided libFuzzer run (clang, ASan+UBSan) of the collector's
 * request-body validator, built by make as $SIPAS_FUZZ_BODY; `make fuzz` runs
 * it longer.  Its corpus is copied so the repository's stays as committed. */
static void libfuzzer_request_bodies(void)
{
	const char *bin = getenv("SIPAS_FUZZ_BODY"), *src = getenv("SIPAS_SOURCE");
	char cmd[8192];

	if (!bin || !src) {
		test_fail(__FILE__, __LINE__, "set SIPAS_FUZZ_BODY and SIPAS_SOURCE (make test does)");
		return;
	}
	snprintf(cmd, sizeof(cmd), "mkdir -p corpus && cp %s/fuzz/corpus/body/* corpus/ && "
		 "%s -max_total_time=15 -runs=2000000 -max_len=4096 -artifact_prefix=crash- corpus "
		 ">fuzz.log 2>&1", src, bin);
	if (system(cmd) != 0) {
		char *log = test_read("fuzz.log");
		size_t n = log ? strlen(log) : 0;

		test_fail(__FILE__, __LINE__, "libFuzzer found a problem: %s", log ? log + (n > 1500 ? n - 1500 : 0) : "");
		free(log);
		return;
	}
	CHECK(test_file_contains("fuzz.log", "Done "));
}

const struct test_case fuzz_tests[] = {
	{ "replay_and_mutate_corpora", replay_and_mutate_corpora },
	{ "libfuzzer_request_bodies", libfuzzer_request_bodies },
	{ NULL, NULL }
};
