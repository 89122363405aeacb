/*
 * cmd_link.c - `sipas link`: the signed phone-survey link for one dossier
 * receipt (docs/collector.md), printed as a URL and optionally written as a QR code
 * in SVG (libqrencode).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../lib/period.h"
#include "../forms/registry.h"
#include "../db/db.h"
#include "../collector/link.h"
#include "../lib/strbuf.h"

const char cmd_link_usage[] =
	"usage: sipas link --form ID --agency CODE --sector CODE --dossier CODE [--days N]\n"
	"                  [--base URL] [--svg FILE] [--db PATH]\n"
	"\n"
	"Print the signed link a citizen opens (by the QR code on the dossier receipt) to\n"
	"rate the service on a phone.  The server accepts one rating per dossier, only\n"
	"through a link it signed, until the link expires.\n"
	"\n"
	"  --days N     days the link stays valid (default 30, at most 3650)\n"
	"  --base URL   the collector's public address (default $SIPAS_PUBLIC_URL, else\n"
	"               the one 'sipas init --public-url' stored, else http://127.0.0.1:8080)\n"
	"  --svg FILE   also write the link as a QR code (SVG)\n"
	"  --db PATH    database file (default $SIPAS_DB, else ./sipas.db)\n";

int cmd_link(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "form", required_argument, NULL, 'f' },
		{ "agency", required_argument, NULL, 'a' },
		{ "sector", required_argument, NULL, 's' },
		{ "dossier", required_argument, NULL, 'o' },
		{ "days", required_argument, NULL, 'n' },
		{ "base", required_argument, NULL, 'b' },
		{ "svg", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *form = NULL, *agency = NULL, *sector = NULL, *dossier = NULL;
	const char *base = NULL, *svg = NULL;
	uint8_t key[SECRET_KEY_BYTES];
	char *end, public_url[URL_MAX];
	struct cli_session s = { NULL, NULL, NULL };
	struct strbuf url;
	long days = LINK_DEFAULT_DAYS;
	struct err e;
	int c, rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'f': form = optarg; break;
		case 'a': agency = optarg; break;
		case 's': sector = optarg; break;
		case 'o': dossier = optarg; break;
		case 'n':
			days = strtol(optarg, &end, 10);
			if (*end || days < 1 || days > LINK_MAX_DAYS)
				return cli_usage_error("link", "--days '%s' must be 1 to %d", optarg, LINK_MAX_DAYS);
			break;
		case 'b': base = optarg; break;
		case 'g': svg = optarg; break;
		case 'h': return cli_help(cmd_link_usage);
		default: return cli_usage_error("link", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!form || !agency || !sector || !dossier || optind != argc)
		return cli_usage_error("link", "--form, --agency, --sector and --dossier are required");
	err_clear(&e);
	strbuf_init(&url, 8192);
	rc = cli_session_open(&s, db_opt, 0, form, &e);
	if (!rc && !registry_agency(s.reg, agency))
		rc = err_set(&e, ERR_INVALID, "unknown agency '%s'", agency);
	/* a receipt of an agency that has ended would lead to a rating refused */
	if (!rc)
		rc = registry_check_valid(registry_agency(s.reg, agency), period_today(), &e);
	if (!rc && !registry_sector(s.reg, sector))
		rc = err_set(&e, ERR_INVALID, "unknown sector '%s'", sector);
	if (!rc && !link_dossier_valid(dossier))
		rc = err_set(&e, ERR_INVALID, "--dossier must be 1 to %d characters on one line", LINK_MAX_DOSSIER);
	if (!rc)
		rc = cli_public_url(s.db, base, public_url, &e);
	if (!rc)
		rc = db_server_key(s.db, key, &e);
	if (!rc) {
		struct link_fields lf = { form, agency, sector, dossier, (int64_t)time(NULL) + days * 86400 };

		rc = link_url(key, public_url, &lf, &url, &e);
	}
	if (!rc && svg)
		rc = cli_write_qr_svg(svg, strbuf_str(&url), LINK_QR_LABEL, &e);
	if (!rc)
		printf("%s\n", strbuf_str(&url));
	memset(key, 0, sizeof(key));
	strbuf_release(&url);
	cli_session_close(&s);
	return rc ? cli_fail(&e) : 0;
}
