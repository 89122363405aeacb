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
#include "../lib/strbuf.h"

#define LINK_SIG_HEX (2 * SECRET_HASH_BYTES)
#define LINK_MAX_EXPIRES 253402300799LL   /* 9999-12-31T23:59:59Z */
#define LINK_DEFAULT_DAYS 30              /* a new link's life: `sipas link --days`, POST /api/links */
#define LINK_MAX_DAYS 3650
#define LINK_MAX_DOSSIER 64               /* bytes of a dossier code */
#define LINK_QR_LABEL "phiếu khảo sát"    /* a receipt's QR code, for screen readers */

struct link_fields {
	const char *form, *agency, *sector, *dossier;
	int64_t expires;   /* Unix seconds */
};

/* The signature of `f` as lowercase hex into sig (LINK_SIG_HEX + 1 bytes). */
int link_sign(const uint8_t key[SECRET_KEY_BYTES], const struct link_fields *f, char *sig,
	      struct err *e);

/* 1 if dossier may be a new link's dossier code: 1 to LINK_MAX_DOSSIER
 * bytes on one line.  Can't fail. */
int link_dossier_valid(const char *dossier);

/* Sign f with key and append its address to out: base (a normalised
 * public address) "/s/FORM?agency=&sector=&dossier=&exp=&sig=", the
 * fields percent-encoded.  The one spelling of a receipt's link, for
 * `sipas link` and POST /api/links alike.  ERR_INVALID when a field holds
 * a line break or out cannot hold the address. */
int link_url(const uint8_t key[SECRET_KEY_BYTES], const char *base, const struct link_fields *f,
	     struct strbuf *out, struct err *e);

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
