/*
 * cmd_agency.c - `sipas agency hours`: an agency's opening hours, which the
 * alerts count time in (docs/monitoring.md, "Alerts").  Setting them is an
 * administrative change: it commits with its audit entry, and a refused
 * one is recorded on its own.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "../db/db.h"
#include "../forms/registry.h"
#include "../monitor/hours.h"

const char cmd_agency_usage[] =
	"usage: sipas agency hours AGENCY [SPEC] [--db PATH]\n"
	"\n"
	"Print an agency's opening hours, or set them to SPEC.  The alerts count\n"
	"time in opening hours only (a kiosk is silent after two opening hours\n"
	"without a post; 'reliably below target' is evaluated when the day's\n"
	"opening ends).  SPEC is Vietnam time: groups separated by ';', each days\n"
	"(Mon, Tue, Wed, Thu, Fri, Sat, Sun, or a range such as Mon-Fri), a space\n"
	"and comma-separated ranges HH:MM-HH:MM, e.g.\n"
	"\"Mon-Fri 07:30-11:30,13:30-17:00; Sat 07:30-11:30\".  A day not named is\n"
	"closed.  An agency without its own hours has the default,\n"
	"\"" HOURS_DEFAULT "\".  Setting them is recorded in the audit log\n"
	"(sipas audit); a running collector uses them from its next check.\n"
	"\n"
	"  --db PATH   database file (default $SIPAS_DB, else ./sipas.db)\n";

/* Set the hours of agency (registry entry) to spec, with its audit entry,
 * in one transaction. */
static int set_hours(sqlite3 *db, const struct registry_entry *agency, const char *spec, struct err *e)
{
	char subject[REGISTRY_MAX_CODE + HOURS_MAX_SPEC + 8];
	struct hours h;
	int rc;

	snprintf(subject, sizeof(subject), "%s %s", agency->code, spec);
	rc = hours_parse(spec, &h, e);
	if (!rc)
		rc = db_exec(db, "BEGIN IMMEDIATE", e);
	if (rc) {
		cli_audit_alone(db, "agency.hours", subject, e);
		return rc;
	}
	rc = hours_store(db, agency->id, spec, e);
	return cli_audit_commit(db, rc, "agency.hours", subject, e);
}

int cmd_agency(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct registry_entry *agency;
	const char *db_opt = NULL;
	char spec[HOURS_MAX_SPEC + 1];
	struct cli_session s;
	struct hours h;
	struct err e;
	int ch, rc;

	cli_getopt_reset();
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': db_opt = optarg; break;
		case 'h': return cli_help(cmd_agency_usage);
		default: return cli_usage_error("agency", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("agency", "give an action: hours");
	if (strcmp(argv[optind], "hours") != 0)
		return cli_usage_error("agency", "unknown action '%s'", argv[optind]);
	if (argc - optind < 2 || argc - optind > 3)
		return cli_usage_error("agency", "hours takes an agency code and, to set them, a spec");
	err_clear(&e);
	rc = cli_session_open(&s, db_opt, 0, NULL, &e);
	agency = rc ? NULL : registry_agency(s.reg, argv[optind + 1]);
	if (!rc && !agency)
		rc = err_set_field(&e, ERR_NOT_FOUND, "agency", "no agency '%s' in the registry", argv[optind + 1]);
	if (!rc && argc - optind == 3)
		rc = set_hours(s.db, agency, argv[optind + 2], &e);
	if (!rc)
		rc = hours_for_agency(s.db, agency->id, &h, spec, &e);
	if (!rc)
		printf("%s %s\n", agency->code, spec);
	cli_session_close(&s);
	return rc ? cli_fail(&e) : 0;
}
