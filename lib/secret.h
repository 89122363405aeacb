/*
 * secret.h - the few cryptographic operations sipas needs, all delegated to
 * GnuTLS: random tokens, SHA-256 hashes of secrets, HMAC-SHA256, and
 * constant-time comparison; plus hex encoding.  No cryptography is
 * implemented here.
 */
#ifndef SIPAS_SECRET_H
#define SIPAS_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SECRET_KEY_BYTES 32
#define SECRET_HASH_BYTES 32

/* Fill buf with n random bytes (GNUTLS_RND_KEY); ERR_INTERNAL on failure. */
int secret_random(void *buf, size_t n, struct err *e);

/* SHA-256 of data into out[32]. */
int secret_hash(const void *data, size_t n, uint8_t out[SECRET_HASH_BYTES], struct err *e);

/* HMAC-SHA256 of data with key into out[32]. */
int secret_hmac(const uint8_t *key, size_t key_len, const void *data, size_t n,
		uint8_t out[SECRET_HASH_BYTES], struct err *e);

/* An HMAC-SHA256 keyed once and used for many messages (hot paths). */
struct secret_mac;

/* Key a MAC; *out is owned (secret_mac_free). */
int secret_mac_new(const uint8_t *key, size_t key_len, struct secret_mac **out, struct err *e);

/* Add data to the current message. */
void secret_mac_add(struct secret_mac *m, const void *data, size_t n);

/* The MAC of the message so far into out[32]; starts the next message. */
void secret_mac_end(struct secret_mac *m, uint8_t out[SECRET_HASH_BYTES]);

/* NULL-safe. */
void secret_mac_free(struct secret_mac *m);

/* A slow salted hash of a short secret (a staff PIN) for storage, as the
 * self-describing string "pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX"
 * (PBKDF2-HMAC-SHA256, a 16-byte random salt) into out, which holds
 * SECRET_SLOW_HASH_MAX bytes. */
#define SECRET_SLOW_HASH_MAX 160
int secret_slow_hash(const char *secret, char *out, struct err *e);

/* 1 if secret matches stored (secret_slow_hash's string; the hash is
 * compared in constant time), 0 if not, -1 with e filled when stored is
 * not such a string or the hash cannot be computed. */
int secret_slow_check(const char *secret, const char *stored, struct err *e);

/* 1 if a and b (n bytes each) are equal, compared in constant time. */
int secret_equal(const void *a, const void *b, size_t n);

/* Lowercase hex of n bytes into out (2n + 1 bytes). Can't fail. */
void secret_hex(const uint8_t *in, size_t n, char *out);

/* Parse exactly 2n hex digits into out[n]; 0, or -1 when malformed. */
int secret_unhex(const char *hex, uint8_t *out, size_t n);

/* Overwrite n bytes of buf with zeros in a way the compiler keeps. */
void secret_wipe(void *buf, size_t n);

#endif
