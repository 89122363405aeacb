/*
 * main.c - the `sipas` entry point: library policy at start-up, then the
 * command table (as git's builtin list).  Each command lives in its own file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <sqlite3.h>

#include "cli.h"
#include "../lib/secret.h"

static const struct cli_command commands[] = {
	{ "init", cmd_init, cmd_init_usage, "create or migrate the database; load forms and registry" },
	{ "import", cmd_import, cmd_import_usage, "import survey responses from CSV (all or nothing)" },
	{ "dossiers", cmd_dossiers, cmd_dossiers_usage, "load dossier totals from the one-stop system" },
	{ "score", cmd_score, cmd_score_usage, "indices, intervals and target verdicts for a period" },
	{ "report", cmd_report, cmd_report_usage, "the quarterly report: HTML pages, CSV, JSON and Excel" },
	{ "publish", cmd_publish, cmd_publish_usage, "make a period's scores public" },
	{ "serve", cmd_serve, cmd_serve_usage, "run the collector (kiosk and phone ratings, API)" },
	{ "backup", cmd_backup, cmd_backup_usage, "copy the live database to a file (online backup)" },
	{ "device", cmd_device, cmd_device_usage, "add, list or revoke kiosk and admin tokens" },
	{ "staff", cmd_staff, cmd_staff_usage, "add, list or disable the officers set on duty at the kiosks" },
	{ "user", cmd_user, cmd_user_usage, "add, list, disable or reset the console's accounts" },
	{ "agency", cmd_agency, cmd_agency_usage, "an agency's opening hours, which the alerts count in" },
	{ "notify", cmd_notify, cmd_notify_usage, "where alerts are sent: webhooks and e-mail addresses" },
	{ "audit", cmd_audit, cmd_audit_usage, "verify or list the audit log of administrative actions" },
	{ "monitor", cmd_monitor, cmd_monitor_usage, "design the low-satisfaction alert's CUSUM (h, run lengths)" },
	{ "link", cmd_link, cmd_link_usage, "the signed phone-survey link (and QR code) of a dossier" },
	{ "hub", cmd_hub, cmd_hub_usage, "the national hub on PostgreSQL: its schema, a province's push role" },
	{ "push", cmd_push, cmd_push_usage, "send what this province stored since its last push to the hub" },
	{ "demo", cmd_demo, cmd_demo_usage, "fill an empty database with a synthetic year" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* --db given before the command (`sipas --db X score ...`), as git takes
 * --git-dir; a command's own --db wins over it. */
static const char *global_db;

const char *cli_db_path(const char *opt)
{
	const char *env = getenv("SIPAS_DB");

	if (opt)
		return opt;
	if (global_db)
		return global_db;
	return env && *env ? env : "sipas.db";
}

int cli_fail(const struct err *e)
{
	fprintf(stderr, "sipas: %s\n", e->text);
	return err_exit_status(e->code);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sipas %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'sipas %s --help')\n", cmd);
	return 1;
}

int cli_read_password(const char *cmd, const char *option, const char *path, char *out, size_t size)
{
	FILE *fp = fopen(path, "r");
	size_t n = 0;
	int ok;

	if (!fp)
		return cli_usage_error(cmd, "%s %s: %s", option, path, strerror(errno));
	ok = fgets(out, (int)size, fp) != NULL;
	fclose(fp);
	if (ok)
		n = strcspn(out, "\r\n");
	if (!ok || n == 0 || n == size - 1) {
		secret_wipe(out, size);
		return cli_usage_error(cmd, "%s %s: the password is its first line, 1 to %zu bytes", option, path,
				       size - 2);
	}
	out[n] = '\0';
	return 0;
}

int cli_help(const char *usage)
{
	fputs(usage, stdout);
	return 0;
}

void cli_getopt_reset(void)
{
	optind = 0;
	opterr = 0;
}

static void print_overview(FILE *out)
{
	fputs("usage: sipas [--db PATH] COMMAND [OPTIONS]\n\n"
	      "Citizen-satisfaction (SIPAS) survey collection and scoring.\n\n"
	      "commands:\n", out);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs("\nEvery command takes --db PATH (default $SIPAS_DB, else ./sipas.db) and --help;\n"
	      "--db may also come before the command.  'sipas help COMMAND' shows its options.\n", out);
}

/* Take the global options before the command; returns how many argv
 * entries they used, or -1 after printing a usage error. */
static int parse_global_options(int argc, char **argv)
{
	int i = 1;

	while (i < argc && strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i], "--help") != 0) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
			global_db = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--db=", 5) == 0 && argv[i][5]) {
			global_db = argv[i] + 5;
			i++;
		} else if (strcmp(argv[i], "--db") == 0) {
			fprintf(stderr, "sipas: --db needs a PATH (see 'sipas help')\n");
			return -1;
		} else {
			fprintf(stderr, "sipas: '%s' is not a global option: before the command only "
				"--db PATH is taken (see 'sipas help')\n", argv[i]);
			return -1;
		}
	}
	return i - 1;
}

int main(int argc, char **argv)
{
	int skip;

	/* GSL's default handler aborts; the GSL manual advises production
	 * programs to turn it off and check every status, as sipas does. */
	gsl_set_error_handler_off();
	/* SQLite's allocation statistics take a process-wide mutex on every
	 * allocation; nothing here reads them, and collector threads contend. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	skip = parse_global_options(argc, argv);
	if (skip < 0)
		return 1;
	argc -= skip;
	argv += skip;
	if (argc < 2) {
		print_overview(stderr);
		return 1;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		if (argc > 2) {
			for (size_t i = 0; i < N_COMMANDS; i++)
				if (strcmp(argv[2], commands[i].name) == 0)
					return cli_help(commands[i].usage);
		}
		print_overview(stdout);
		return 0;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sipas: '%s' is not a command (see 'sipas help')\n", argv[1]);
	return 1;
}
