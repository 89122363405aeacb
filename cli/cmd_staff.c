/*
 * cmd_staff.c - `sipas staff add|list|disable`: the officers an agency
 * registers, whose codes its kiosks' staff mode sets on duty
 * (docs/monitoring.md, "Counters and officers").  Each change and its
 * audit entry commit in one transaction; a refused one is recorded in its
 * own.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../db/db.h"
#include "../monitor/staff.h"

const char cmd_staff_usage[] =
	"usage: sipas staff add --agency CODE --code CODE --name NAME [--db PATH]\n"
	"   or: sipas staff list [--agency CODE] [--db PATH]\n"
	"   or: sipas staff disable --agency CODE --code CODE [--db PATH]\n"
	"\n"
	"The officers of an agency's counters.  At the start of a shift, the\n"
	"officer types their code in the kiosk's staff mode (behind its staff PIN);\n"
	"the kiosk's ratings then carry that officer until another is set, the\n"
	"shift is ended there, or the day ends.  Per-officer figures are shown only\n"
	"to the office and to the officer's own agency.  A code is unique in its\n"
	"agency and stays taken once disabled (stored ratings name it); letters are\n"
	"taken in upper case.  `disable` also ends the officer's shifts.  `list`\n"
	"prints each officer's agency, code, state, when added (UTC) and name.\n"
	"Every change is recorded in the audit log (sipas audit).\n"
	"\n"
	"  --agency CODE   an agency of the registry\n"
	"  --code CODE     1 to 32 of letters, digits, '-', '_' and '.'\n"
	"  --name NAME     the officer's full name, on one line\n"
	"  --db PATH       database file (default $SIPAS_DB, else ./sipas.db)\n";

/* Add or disable, as asked, and its audit entry, in one transaction; a
 * refused change is recorded in its own.  A refusal names the option at
 * fault. */
static int change(sqlite3 *db, const char *verb, const char *agency, const char *code, const char *name,
		  struct err *e)
{
	char subject[128], action[32];
	long long now = (long long)time(NULL);
	int add = strcmp(verb, "add") == 0;
	int rc = db_exec(db, "BEGIN IMMEDIATE", e);

	snprintf(subject, sizeof(subject), "%.60s %.60s", agency, code);
	snprintf(action, sizeof(action), "staff.%s", verb);
	if (!rc)
		rc = add ? staff_add(db, agency, code, name, now, e) : staff_disable(db, agency, code, now, e);
	rc = cli_audit_commit(db, rc, action, subject, e);
	if (rc && e->field[0])
		err_prefix(e, "--%s", e->field);
	return rc;
}

static int print_officer(void *arg, const struct staff_officer *o)
{
	struct strbuf *name = arg;
	char added[32];

	strbuf_reset(name);
	cli_escape(name, o->name);
	cli_format_time(o->created_at, added);
	printf("%-16s %-12s %-8s %-17s %s\n", o->agency, o->code, o->disabled_at ? "disabled" : "active", added,
	       strbuf_str(name));
	return 0;
}

int cmd_staff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "agency", required_argument, NULL, 'a' },
		{ "code", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *agency = NULL, *code = NULL, *name = NULL, *verb;
	char norm[STAFF_CODE_MAX + 1];
	struct strbuf line = STRBUF_INIT;
	sqlite3 *db = NULL;
	struct err e;
	int ch, rc;

	cli_getopt_reset();
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': db_opt = optarg; break;
		case 'a': agency = optarg; break;
		case 'c': code = optarg; break;
		case 'n': name = optarg; break;
		case 'h': return cli_help(cmd_staff_usage);
		default: return cli_usage_error("staff", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("staff", "say add, list or disable");
	verb = argv[optind];
	if (strcmp(verb, "add") == 0) {
		if (!agency || !code || !name)
			return cli_usage_error("staff", "add takes --agency, --code and --name");
	} else if (strcmp(verb, "disable") == 0) {
		if (!agency || !code || name)
			return cli_usage_error("staff", "disable takes --agency and --code");
	} else if (strcmp(verb, "list") == 0) {
		if (code || name)
			return cli_usage_error("staff", "list takes only --agency");
	} else {
		return cli_usage_error("staff", "'%s' is not add, list or disable", verb);
	}
	/* the code as stored, for the audit log and what is printed; a bad
	 * one is refused, and recorded, by the change */
	if (code && staff_code_normalise(code, norm, NULL) == 0)
		code = norm;
	err_clear(&e);
	rc = db_open(cli_db_path(db_opt), 0, &db, &e);
	if (rc)
		return cli_fail(&e);
	if (strcmp(verb, "list") == 0) {
		printf("%-16s %-12s %-8s %-17s %s\n", "agency", "code", "state", "added (UTC)", "name");
		rc = staff_each(db, agency, print_officer, &line, &e);
		if (rc && e.field[0])
			err_prefix(&e, "--%s", e.field);
		if (!rc && line.failed)
			rc = err_set(&e, ERR_NOMEM, "out of memory listing officers");
	} else {
		rc = change(db, verb, agency, code, name, &e);
		if (!rc && strcmp(verb, "add") == 0)
			printf("officer added at %s: code %s; the kiosk's staff mode sets it on duty\n", agency,
			       code);
		else if (!rc)
			printf("officer disabled at %s: code %s; their shifts have ended\n", agency, code);
	}
	strbuf_release(&line);
	db_close(db);
	return rc ? cli_fail(&e) : 0;
}
