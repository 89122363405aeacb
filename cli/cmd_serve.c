/*
 * cmd_serve.c - `sipas serve`: run the collector (SPEC §6) until SIGINT or
 * SIGTERM.  Option parsing only; the service is in collector/.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "../collector/http_server.h"

const char cmd_serve_usage[] =
	"usage: sipas serve [--db PATH] [--listen ADDR:PORT] [--threads N] [--max-connections N]\n"
	"\n"
	"Run the collector: the rating API, forms and health check.  Stops cleanly on\n"
	"SIGINT or SIGTERM after finishing the requests in flight.\n"
	"\n"
	"  --listen ADDR:PORT     where to listen (default 127.0.0.1:8080; port 0 = any free)\n"
	"  --threads N            worker threads (default 4)\n"
	"  --max-connections N    concurrent connections (default 1024)\n"
	"  --timeout SECONDS      idle connection timeout (default 30)\n"
	"  --db PATH              database file (default $SIPAS_DB, else ./sipas.db)\n";

static int parse_count(const char *opt, const char *s, unsigned max, unsigned *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || !*s || v < 1 || v > (long)max)
		return cli_usage_error("serve", "%s '%s' must be a number from 1 to %u", opt, s, max);
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct col_config cfg = { NULL, "127.0.0.1:8080", 4, 1024, 30 };
	const char *db_opt = NULL;
	struct err e;
	int c, rc = 0;

	cli_getopt_reset();
	while (!rc && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'l': cfg.listen = optarg; break;
		case 't': rc = parse_count("--threads", optarg, 256, &cfg.threads); break;
		case 'm': rc = parse_count("--max-connections", optarg, 100000, &cfg.max_connections); break;
		case 'o': rc = parse_count("--timeout", optarg, 3600, &cfg.connection_timeout); break;
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
