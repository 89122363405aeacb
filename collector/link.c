/*
 * link.c - signing and checking phone-survey links (see link.h).  The
 * signed message is the five fields joined by newlines, which no field may
 * contain (codes are checked before signing and on arrival).
 */
#include "link.h"

#include <stdio.h>
#include <string.h>

static int link_mac(const uint8_t key[SECRET_KEY_BYTES], const struct link_fields *f,
		    uint8_t mac[SECRET_HASH_BYTES], struct err *e)
{
	struct strbuf msg;
	int rc;

	strbuf_init(&msg, 4096);
	strbuf_addf(&msg, "sipas-link-v1\n%s\n%s\n%s\n%s\n%lld", f->form, f->agency, f->sector,
		    f->dossier, (long long)f->expires);
	if (msg.failed || strchr(f->form, '\n') || strchr(f->agency, '\n') ||
	    strchr(f->sector, '\n') || strchr(f->dossier, '\n'))
		rc = err_set(e, ERR_INVALID, "link fields may not hold line breaks");
	else
		rc = secret_hmac(key, SECRET_KEY_BYTES, msg.buf, msg.len, mac, e);
	strbuf_release(&msg);
	return rc;
}

int link_sign(const uint8_t key[SECRET_KEY_BYTES], const struct link_fields *f, char *sig,
	      struct err *e)
{
	uint8_t mac[SECRET_HASH_BYTES];
	int rc = link_mac(key, f, mac, e);

	if (!rc)
		secret_hex(mac, sizeof(mac), sig);
	return rc;
}

int link_parse_expires(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t n = strspn(s, "0123456789");

	/* 12 digits hold LINK_MAX_EXPIRES: no overflow below */
	if (n == 0 || s[n] || s[0] == '0' || n > 12)
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	if (v > LINK_MAX_EXPIRES)
		return -1;
	*out = v;
	return 0;
}

int link_verify(const uint8_t key[SECRET_KEY_BYTES], const struct link_fields *f, const char *sig,
		int64_t now, struct err *e)
{
	uint8_t want[SECRET_HASH_BYTES], got[SECRET_HASH_BYTES];
	int rc = link_mac(key, f, want, e);

	if (rc)
		return rc;
	if (secret_unhex(sig, got, sizeof(got)) != 0 || !secret_equal(want, got, sizeof(got)))
		return err_set_field(e, ERR_INVALID, "link", "link signature does not match");
	if (now > f->expires)
		return err_set_field(e, ERR_INVALID, "link", "link expired");
	return 0;
}

int link_dossier_valid(const char *dossier)
{
	size_t n = strlen(dossier);

	return n >= 1 && n <= LINK_MAX_DOSSIER && !strpbrk(dossier, "\r\n");
}

/* Append s percent-encoded for a URL's query (RFC 3986 unreserved kept). */
static void add_escaped(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			strbuf_addch(sb, c);
		else
			strbuf_addf(sb, "%%%02X", c);
	}
}

int link_url(const uint8_t key[SECRET_KEY_BYTES], const char *base, const struct link_fields *f,
	     struct strbuf *out, struct err *e)
{
	char sig[LINK_SIG_HEX + 1];
	int rc = link_sign(key, f, sig, e);

	if (rc)
		return rc;
	strbuf_addf(out, "%s/s/", base);
	add_escaped(out, f->form);
	strbuf_addstr(out, "?agency=");
	add_escaped(out, f->agency);
	strbuf_addstr(out, "&sector=");
	add_escaped(out, f->sector);
	strbuf_addstr(out, "&dossier=");
	add_escaped(out, f->dossier);
	strbuf_addf(out, "&exp=%lld&sig=%s", (long long)f->expires, sig);
	return out->failed ? err_set(e, ERR_INVALID, "the link is too long") : 0;
}
