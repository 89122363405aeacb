/*
 * url.h - the public address of the collector, as an office types it
 * (`sipas init --public-url`, `--base`, $SIPAS_PUBLIC_URL): checked and
 * normalised, so that "HTTPS://Host/" and "https://host" are one address.
 * Only what such an address holds is taken: no user, query or fragment.
 */
#ifndef SIPAS_URL_H
#define SIPAS_URL_H

#include "err.h"

#define URL_MAX 201   /* an address: 200 bytes and its NUL */

/* Check `url` and write it normalised to out: http or https, a host (a
 * name, an IPv4 address or [IPv6]), an optional port and path, no user,
 * query or fragment, ASCII only; the scheme and host in lower case and no
 * trailing slash.  Normalising its own output gives it back unchanged.
 * 0, or ERR_INVALID naming `source` (the option or variable it came from)
 * and what is wrong, out untouched. */
int url_normalise(const char *url, const char *source, char out[URL_MAX], struct err *e);

#endif
