/*
 * secret.c - GnuTLS wrappers for randomness, hashing, HMAC and constant-time
 * comparison (see secret.h).
 */
#include "secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>


int secret_random(void *buf, size_t n, struct err *e)
{
	if (gnutls_rnd(GNUTLS_RND_KEY, buf, n) < 0)
		return err_set(e, ERR_INTERNAL, "the random number generator failed");
	return 0;
}

int secret_hash(const void *data, size_t n, uint8_t out[SECRET_HASH_BYTES], struct err *e)
{
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, n, out) < 0)
		return err_set(e, ERR_INTERNAL, "SHA-256 failed");
	return 0;
}

int secret_hmac(const uint8_t *key, size_t key_len, const void *data, size_t n,
		uint8_t out[SECRET_HASH_BYTES], struct err *e)
{
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, key_len, data, n, out) < 0)
		return err_set(e, ERR_INTERNAL, "HMAC-SHA256 failed");
	return 0;
}

struct secret_mac {
	gnutls_hmac_hd_t h;
};

int secret_mac_new(const uint8_t *key, size_t key_len, struct secret_mac **out, struct err *e)
{
	struct secret_mac *m = calloc(1, sizeof(*m));

	if (!m)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (gnutls_hmac_init(&m->h, GNUTLS_MAC_SHA256, key, key_len) < 0) {
		free(m);
		return err_set(e, ERR_INTERNAL, "HMAC-SHA256 failed");
	}
	*out = m;
	return 0;
}

void secret_mac_add(struct secret_mac *m, const void *data, size_t n)
{
	gnutls_hmac(m->h, data, n);
}

void secret_mac_end(struct secret_mac *m, uint8_t out[SECRET_HASH_BYTES])
{
	gnutls_hmac_output(m->h, out);   /* also resets the state to "keyed, empty" */
}

void secret_mac_free(struct secret_mac *m)
{
	if (!m)
		return;
	gnutls_hmac_deinit(m->h, NULL);
	free(m);
}

/* PBKDF2 iterations of new hashes.  A 6-digit PIN has a million values: no
 * count makes a stolen database file safe, it only slows the search; the
 * server's lock-out is what protects a PIN online. */
#define SLOW_ITERATIONS 100000
#define SLOW_SALT_BYTES 16
#define SLOW_PREFIX "pbkdf2-sha256$"

static int pbkdf2(const char *secret, const uint8_t *salt, size_t salt_len, unsigned iterations,
		  uint8_t out[SECRET_HASH_BYTES], struct err *e)
{
	gnutls_datum_t key = { (unsigned char *)(uintptr_t)secret, (unsigned)strlen(secret) };
	gnutls_datum_t s = { (unsigned char *)(uintptr_t)salt, (unsigned)salt_len };

	if (gnutls_pbkdf2(GNUTLS_MAC_SHA256, &key, &s, iterations, out, SECRET_HASH_BYTES) < 0)
		return err_set(e, ERR_INTERNAL, "cannot derive a key with pbkdf2");
	return 0;
}

int secret_slow_hash(const char *secret, char *out, struct err *e)
{
	uint8_t salt[SLOW_SALT_BYTES], hash[SECRET_HASH_BYTES];
	char salt_hex[2 * SLOW_SALT_BYTES + 1], hash_hex[2 * SECRET_HASH_BYTES + 1];
	int rc = secret_random(salt, sizeof(salt), e);

	if (!rc)
		rc = pbkdf2(secret, salt, sizeof(salt), SLOW_ITERATIONS, hash, e);
	if (rc)
		return rc;
	secret_hex(salt, sizeof(salt), salt_hex);
	secret_hex(hash, sizeof(hash), hash_hex);
	snprintf(out, SECRET_SLOW_HASH_MAX, SLOW_PREFIX "%u$%s$%s", SLOW_ITERATIONS, salt_hex, hash_hex);
	secret_wipe(hash, sizeof(hash));
	return 0;
}

int secret_slow_check(const char *secret, const char *stored, struct err *e)
{
	uint8_t salt[SLOW_SALT_BYTES], want[SECRET_HASH_BYTES], got[SECRET_HASH_BYTES];
	char salt_hex[2 * SLOW_SALT_BYTES + 1];
	const char *p = stored + strlen(SLOW_PREFIX);
	char *end;
	unsigned long iterations;
	int same;

	if (strncmp(stored, SLOW_PREFIX, strlen(SLOW_PREFIX)) != 0)
		return err_set(e, ERR_INVALID, "not a pbkdf2-sha256 hash"), -1;
	iterations = strtoul(p, &end, 10);
	if (end == p || *end != '$' || iterations == 0 || iterations > 10000000 ||
	    strlen(end + 1) != sizeof(salt_hex) + 2 * SECRET_HASH_BYTES || end[sizeof(salt_hex)] != '$')
		return err_set(e, ERR_INVALID, "malformed pbkdf2-sha256 hash"), -1;
	memcpy(salt_hex, end + 1, sizeof(salt_hex) - 1);
	salt_hex[sizeof(salt_hex) - 1] = '\0';
	if (secret_unhex(salt_hex, salt, sizeof(salt)) != 0 ||
	    secret_unhex(end + 1 + sizeof(salt_hex), want, sizeof(want)) != 0)
		return err_set(e, ERR_INVALID, "malformed pbkdf2-sha256 hash"), -1;
	if (pbkdf2(secret, salt, sizeof(salt), (unsigned)iterations, got, e) != 0)
		return -1;
	same = secret_equal(got, want, sizeof(got));
	secret_wipe(got, sizeof(got));
	return same;
}

int secret_equal(const void *a, const void *b, size_t n)
{
	return gnutls_memcmp(a, b, n) == 0;
}

void secret_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int secret_unhex(const char *hex, uint8_t *out, size_t n)
{
	if (strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void secret_wipe(void *buf, size_t n)
{
	gnutls_memset(buf, 0, n);
}
