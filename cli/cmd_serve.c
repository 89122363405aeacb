/*
 * cmd_serve.c - `sipas serve`: run the collector (docs/collector.md) until SIGINT or
 * SIGTERM.  Option parsing, and the public address said at start; the
 * service is in collector/.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "../collector/http_server.h"
#include "../db/db.h"
#include "../monitor/notify.h"
#include "../responses/import.h"

const char cmd_serve_usage[] =
	"usage: sipas serve [--db PATH] [--listen ADDR:PORT] [--threads N] [--max-connections N]\n"
	"                   [--max-per-ip N] [--timeout S] [--request-deadline S] [--max-buffered MIB]\n"
	"                   [--device-rate N] [--address-rate N] [--system-rate N] [--max-age DAYS]\n"
	"                   [--min-free SIZE]\n"
	"                   [--tls-cert FILE --tls-key FILE] [--no-alerts]\n"
	"                   [--smtp-url smtp://HOST:PORT --smtp-from ADDR [--smtp-user U\n"
	"                    --smtp-password-file F] [--smtp-ca FILE] [--smtp-plain]]\n"
	"\n"
	"Run the collector: the rating API, forms, published scores, health check and\n"
	"metrics (docs/collector.md).  Every acknowledged rating is on disk;\n"
	"concurrent posts share commits.  Stops cleanly on SIGINT or SIGTERM after\n"
	"finishing the requests in flight.  On SIGHUP it re-reads the forms,\n"
	"agencies, sectors and targets ('sipas init' loads them) without a restart,\n"
	"and logs one line.  One access-log line per request goes to stderr,\n"
	"flushed every second.  At start it says on stderr the public address that\n"
	"printed links carry ($SIPAS_PUBLIC_URL, else 'sipas init --public-url'),\n"
	"as the console's pairing links do; its pages link relatively and work at\n"
	"any address.  Beside it, a thread delivers the notifications of alerts to\n"
	"the endpoints of 'sipas notify' (webhooks, and e-mail with the --smtp-*\n"
	"options; docs/monitoring.md).\n"
	"\n"
	"  --listen ADDR:PORT     where to listen (default 127.0.0.1:8080; port 0 = any free)\n"
	"  --threads N            worker threads (default 4)\n"
	"  --max-connections N    concurrent connections (default 1024)\n"
	"  --max-per-ip N         concurrent connections from one address (default 128)\n"
	"  --timeout SECONDS      idle connection timeout (default 30)\n"
	"  --request-deadline S   a request must arrive whole (headers and body) within S\n"
	"                         seconds of its connection's accept or previous answer,\n"
	"                         else the connection is closed (default 30; a console\n"
	"                         upload of up to 200 MiB gets at least 30 minutes)\n"
	"  --max-buffered MIB     request bodies held in memory at once, all requests\n"
	"                         together; beyond it 503 with Retry-After (default 64;\n"
	"                         a console upload goes to disk and is not counted)\n"
	"  --device-rate N        ratings per minute per kiosk token, a batch's items each\n"
	"                         counting, bursts of N/2 but at least 500 (a full batch)\n"
	"                         (default 120; 0 = no limit)\n"
	"  --address-rate N       posts per minute per address without a token, failed token\n"
	"                         checks and pairing attempts included (default 30; 0 = no limit)\n"
	"  --system-rate N        requests per minute per system token (a one-stop system), a\n"
	"                         request of 500 links counting once; bursts of N/2 (default\n"
	"                         120; 0 = no limit)\n"
	"  --max-age DAYS         a posted rating's submitted_at may lie DAYS in the past (a\n"
	"                         kiosk's offline queue) and 10 minutes ahead; else 400 (default 30)\n"
	"  --min-free SIZE        free space the database's filesystem must keep, else /healthz\n"
	"                         answers 503 free_space; bytes, or with K, M, G or T (default 256M)\n"
	"  --tls-cert FILE        serve HTTPS with this PEM certificate (and --tls-key)\n"
	"  --tls-key FILE         the PEM private key for --tls-cert\n"
	"  --no-alerts            run without the alert engine: no CUSUM per kiosk rating,\n"
	"                         no periodic checks (below target, silent kiosks); for\n"
	"                         measuring what the alerts cost (docs/monitoring.md)\n"
	"  --smtp-url URL         the SMTP server that sends notification e-mail:\n"
	"                         smtp://HOST:PORT (STARTTLS required) or smtps://HOST:PORT\n"
	"  --smtp-from ADDR       the sender of that e-mail (envelope and From:)\n"
	"  --smtp-user USER       sign in to the SMTP server as USER (with --smtp-password-file)\n"
	"  --smtp-password-file F the password, the first line of F (never on the command line)\n"
	"  --smtp-ca FILE         trust this PEM CA for the SMTP server (a private CA)\n"
	"  --smtp-plain           no TLS at all: only for a relay on this machine\n"
	"                         (smtp://127.0.0.1, [::1] or localhost)\n"
	"  --db PATH              database file (default $SIPAS_DB, else ./sipas.db)\n";

static int parse_count(const char *opt, const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || !*s || v < (long)min || v > (long)max)
		return cli_usage_error("serve", "%s '%s' must be a number from %u to %u", opt, s, min, max);
	*out = (unsigned)v;
	return 0;
}

/* A size in bytes: digits, then optionally K, M, G or T (powers of 1024). */
static int parse_size(const char *opt, const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	const char *unit;
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;   /* ERANGE: strtoull saturates, which would read as 16 EiB */
	v = strtoull(s, &end, 10);
	if (*end && end[1] == '\0' && (unit = strchr(units, *end)) != NULL) {
		shift = 10 * (int)(unit - units + 1);
		end++;
	}
	if (*end || end == s || *s < '0' || *s > '9' || errno == ERANGE || v > (UINT64_MAX >> shift))
		return cli_usage_error("serve", "%s '%s' must be a size in bytes, or with K, M, G or T", opt, s);
	*out = (uint64_t)v << shift;
	return 0;
}

#define SMTP_PASSWORD_MAX 1024

/* The first line of the file path (the SMTP password) into out; wiped
 * when refused. */
/* The --smtp-* options together: an URL and a sender, or none of them;
 * TLS unless the server is this machine and --smtp-plain says so. */
static int check_smtp(const struct notify_smtp *smtp, const char *password_file)
{
	struct err e;

	if (!smtp->url) {
		if (smtp->from || smtp->user || password_file || smtp->ca || smtp->plain)
			return cli_usage_error("serve", "the --smtp-* options go with --smtp-url");
		return 0;
	}
	if (strncmp(smtp->url, "smtp://", 7) != 0 && strncmp(smtp->url, "smtps://", 8) != 0)
		return cli_usage_error("serve", "--smtp-url '%s' must be smtp://HOST:PORT or smtps://HOST:PORT",
				       smtp->url);
	if (!smtp->from)
		return cli_usage_error("serve", "--smtp-url needs --smtp-from ADDR, the sender");
	err_clear(&e);
	if (notify_check_email(smtp->from, "--smtp-from", &e) != 0)
		return cli_usage_error("serve", "%s", e.text);
	if (smtp->ca && access(smtp->ca, R_OK) != 0)
		return cli_usage_error("serve", "--smtp-ca %s: %s", smtp->ca, strerror(errno));
	if (!smtp->user != !password_file)
		return cli_usage_error("serve", "--smtp-user and --smtp-password-file go together");
	if (smtp->plain && (strncmp(smtp->url, "smtp://", 7) != 0 || !notify_smtp_is_local(smtp->url)))
		return cli_usage_error("serve", "--smtp-plain sends in clear, so only to smtp://127.0.0.1, "
				       "[::1] or localhost, not '%s'", smtp->url);
	return 0;
}

/* Say which public address the links printed for this collector carry
 * (cli_public_url, warning when there is none), so that an operator sees a
 * missing or stale one where the collector starts.  A database that does
 * not open is left to the collector, which checks its options first and
 * then says why (url stays ""); a bad public address refuses to start.
 * url gets the address, for the links the console makes. */
static int announce_public_url(const char *db_path, char url[URL_MAX], struct err *e)
{
	sqlite3 *db = NULL;
	int rc;

	if (db_open(db_path, DB_READONLY, &db, NULL) != 0)
		return 0;
	rc = cli_public_url(db, NULL, url, e);
	if (!rc)
		fprintf(stderr, "sipas serve: public address %s\n", url);
	db_close(db);
	return rc;
}

/* Remove the rows of an import killed while it copied
 * (import_clean_pending) before the collector starts; a database that does
 * not open is left to the collector, as above. */
static int clean_pending_imports(const char *db_path, struct err *e)
{
	sqlite3 *db = NULL;
	int rc;

	if (db_open(db_path, 0, &db, NULL) != 0)
		return 0;
	rc = import_clean_pending(db, stderr, e);
	db_close(db);
	return rc;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "max-connections", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 'o' },
		{ "request-deadline", required_argument, NULL, 'D' },
		{ "max-buffered", required_argument, NULL, 'B' },
		{ "max-per-ip", required_argument, NULL, 'i' },
		{ "device-rate", required_argument, NULL, 'r' },
		{ "address-rate", required_argument, NULL, 'a' },
		{ "system-rate", required_argument, NULL, 'S' },
		{ "max-age", required_argument, NULL, 'A' },
		{ "min-free", required_argument, NULL, 'F' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "no-alerts", no_argument, NULL, 'N' },
		{ "smtp-url", required_argument, NULL, 'U' },
		{ "smtp-from", required_argument, NULL, 'f' },
		{ "smtp-user", required_argument, NULL, 'u' },
		{ "smtp-password-file", required_argument, NULL, 'P' },
		{ "smtp-ca", required_argument, NULL, 'C' },
		{ "smtp-plain", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct col_config cfg = {
		.listen = "127.0.0.1:8080", .threads = 4, .max_connections = 1024, .max_per_ip = 128,
		.connection_timeout = 30, .request_deadline = 30, .max_buffered = (size_t)64 << 20,
		.limits = { .device_per_minute = 120, .device_burst = COL_MAX_BATCH,
			    .address_per_minute = 30, .address_burst = 15,
			    .system_per_minute = 120, .system_burst = 60,
			    .max_age = (int64_t)COL_DEFAULT_MAX_AGE_DAYS * 86400,
			    .min_free = COL_DEFAULT_MIN_FREE },
	};
	unsigned rate, mib, days;
	const char *db_opt = NULL, *password_file = NULL;
	char public_url[URL_MAX] = "", password[SMTP_PASSWORD_MAX + 1] = "";
	struct err e;
	int c, rc = 0;

	cli_getopt_reset();
	while (!rc && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'l': cfg.listen = optarg; break;
		case 't': rc = parse_count("--threads", optarg, 1, 256, &cfg.threads); break;
		case 'm': rc = parse_count("--max-connections", optarg, 1, 100000, &cfg.max_connections); break;
		case 'i': rc = parse_count("--max-per-ip", optarg, 1, 100000, &cfg.max_per_ip); break;
		case 'o': rc = parse_count("--timeout", optarg, 1, 3600, &cfg.connection_timeout); break;
		case 'D': rc = parse_count("--request-deadline", optarg, 1, 3600, &cfg.request_deadline); break;
		case 'B':
			rc = parse_count("--max-buffered", optarg, 1, 1 << 20, &mib);
			cfg.max_buffered = (size_t)mib << 20;
			break;
		case 'r':
			rc = parse_count("--device-rate", optarg, 0, 10000000, &rate);
			cfg.limits.device_per_minute = rate;
			/* a full batch fits in a burst */
			cfg.limits.device_burst = rate / 2.0 > COL_MAX_BATCH ? rate / 2.0 : COL_MAX_BATCH;
			break;
		case 'a':
			rc = parse_count("--address-rate", optarg, 0, 10000000, &rate);
			cfg.limits.address_per_minute = rate;
			cfg.limits.address_burst = rate / 2.0;
			break;
		case 'S':
			rc = parse_count("--system-rate", optarg, 0, 10000000, &rate);
			cfg.limits.system_per_minute = rate;
			cfg.limits.system_burst = rate / 2.0;
			break;
		case 'A':
			rc = parse_count("--max-age", optarg, 1, 36500, &days);
			cfg.limits.max_age = (int64_t)days * 86400;
			break;
		case 'F': rc = parse_size("--min-free", optarg, &cfg.limits.min_free); break;
		case 'c': cfg.tls_cert = optarg; break;
		case 'k': cfg.tls_key = optarg; break;
		case 'N': cfg.no_alerts = 1; break;
		case 'U': cfg.smtp.url = optarg; break;
		case 'f': cfg.smtp.from = optarg; break;
		case 'u': cfg.smtp.user = optarg; break;
		case 'P': password_file = optarg; break;
		case 'C': cfg.smtp.ca = optarg; break;
		case 'p': cfg.smtp.plain = 1; break;
		case 'h': return cli_help(cmd_serve_usage);
		default: return cli_usage_error("serve", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
	rc = check_smtp(&cfg.smtp, password_file);
	if (!rc && password_file && (rc = cli_read_password("serve", "--smtp-password-file", password_file, password,
								 sizeof(password))) == 0)
		cfg.smtp.password = password;
	if (rc)
		return rc;
	cfg.db_path = cli_db_path(db_opt);
	err_clear(&e);
	rc = announce_public_url(cfg.db_path, public_url, &e);
	/* the console's pairing links carry it too */
	cfg.public_url = public_url[0] ? public_url : NULL;
	if (!rc)
		rc = clean_pending_imports(cfg.db_path, &e);
	if (!rc)
		rc = col_server_run(&cfg, &e);
	secret_wipe(password, sizeof(password));
	return rc ? cli_fail(&e) : 0;
}
