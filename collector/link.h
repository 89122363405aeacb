/*
 * link.h - the signed phone-survey link printed as a QR code on a dossier
 * receipt (docs/collector.md): HMAC-SHA256 with the server key over the form,
 * agency, sector, dossier code and expiry, so only links the office issued
 * are accepted, for one dossier, until they expire.
 */
#ifndef SIPAS_LINK_H
#define SIPAS_LINK_H

#include <stdint.h>

#include "../lib/err.h"
#include "../lib/secret.h"

#define LINK_SIG_HEX (2 * SECRET_HASH_BYTES)
#define LINK_MAX_EXPIRES 253402300799LL   /* 9999-12-31T23:59:59Z */

struct link_fields {
	const char *form, *agency, *sector, *dossier;
	int64_t expires;   /* Unix seconds */
};

/* The signature of `f` as lowercase hex into sig (LINK_SIG_HEX + 1 bytes). */
int link_sign(const uint8_t key[SECRET_KEY_BYTES], const struct link_fields *f, char *sig,
	      struct err *e);

/* Read a link's `exp` as it is signed (what "%lld" prints): decimal digits,
 * no sign, no leading zero, 1 to LINK_MAX_EXPIRES.  So one expiry has one
 * spelling, and no other spelling or clamped value carries its signature.
 * 0 with *out set, or -1. */
int link_parse_expires(const char *s, int64_t *out);

/* 0 when sig is the signature of f and f has not expired at `now`;
 * ERR_INVALID ("link signature does not match" / "link expired") otherwise.
 * The comparison is constant-time. */
int link_verify(const uint8_t key[SECRET_KEY_BYTES], const struct link_fields *f, const char *sig,
		int64_t now, struct err *e);

#endif
