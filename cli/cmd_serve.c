/*
 * cmd_serve.c - `sipas serve`: run the collector (docs/collector.md) until SIGINT or
 * SIGTERM.  Option parsing only; the service is in collector/.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "../collector/http_server.h"

const char cmd_serve_usage[] =
	"usage: sipas serve [--db PATH] [--listen ADDR:PORT] [--threads N] [--max-connections N]\n"
	"                   [--max-per-ip N] [--timeout S] [--device-rate N] [--address-rate N]\n"
	"                   [--tls-cert FILE --tls-key FILE]\n"
	"\n"
	"Run the collector: the rating API, forms, published scores, health check and\n"
	"metrics (docs/collector.md).  Every acknowledged rating is on disk;\n"
	"concurrent posts share commits.  Stops cleanly on SIGINT or SIGTERM after\n"
	"finishing the requests in flight.  On SIGHUP it re-reads the forms,\n"
	"agencies, sectors and targets ('sipas init' loads them) without a restart,\n"
	"and logs one line.  One access-log line per request goes to stderr,\n"
	"flushed every second.\n"
	"\n"
	"  --listen ADDR:PORT     where to listen (default 127.0.0.1:8080; port 0 = any free)\n"
	"  --threads N            worker threads (default 4)\n"
	"  --max-connections N    concurrent connections (default 1024)\n"
	"  --max-per-ip N         concurrent connections from one address (default 128)\n"
	"  --timeout SECONDS      idle connection timeout (default 30)\n"
	"  --device-rate N        posts per minute per kiosk token, bursts of N/2 (default 120; 0 = no limit)\n"
	"  --address-rate N       posts per minute per address without a token (default 30; 0 = no limit)\n"
	"  --tls-cert FILE        serve HTTPS with this PEM certificate (and --tls-key)\n"
	"  --tls-key FILE         the PEM private key for --tls-cert\n"
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

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "max-connections", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 'o' },
		{ "max-per-ip", required_argument, NULL, 'i' },
		{ "device-rate", required_argument, NULL, 'r' },
		{ "address-rate", required_argument, NULL, 'a' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct col_config cfg = { NULL, "127.0.0.1:8080", 4, 1024, 128, 30, NULL, NULL,
				  { 120, 60, 30, 15 } };
	unsigned rate;
	const char *db_opt = NULL;
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
		case 'r':
			rc = parse_count("--device-rate", optarg, 0, 10000000, &rate);
			cfg.limits.device_per_minute = rate;
			cfg.limits.device_burst = rate / 2.0;
			break;
		case 'a':
			rc = parse_count("--address-rate", optarg, 0, 10000000, &rate);
			cfg.limits.address_per_minute = rate;
			cfg.limits.address_burst = rate / 2.0;
			break;
		case 'c': cfg.tls_cert = optarg; break;
		case 'k': cfg.tls_key = optarg; break;
		case 'h': return cli_help(cmd_serve_usage);
		default: return cli_usage_error("serve", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
	cfg.db_path = cli_db_path(db_opt);
	err_clear(&e);
	rc = col_server_run(&cfg, &e);
	return rc ? cli_fail(&e) : 0;
}
