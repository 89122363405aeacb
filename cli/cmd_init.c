/*
 * cmd_init.c - `sipas init`: create or migrate the database and load the
 * forms and registry, all in one transaction (docs/design.md), and store the
 * collector's public address when given.  Idempotent: running it again with
 * the same files changes nothing.  A run told what to load (--registry,
 * --forms, --public-url) or that stores a new form is recorded in the audit
 * log with what it loaded; a plain run that adds nothing (every start of
 * the service makes one) loads only what the binary ships, and is not.
 */
#include <glob.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "../forms/builtin.h"
#include "../forms/form_store.h"
#include "../forms/form.h"
#include "../forms/registry.h"
#include "../db/db.h"
#include "../lib/period.h"
#include "../responses/import.h"

const char cmd_init_usage[] =
	"usage: sipas init [--db PATH] [--registry DIR] [--forms DIR] [--public-url URL]\n"
	"\n"
	"Create the database (or migrate it to this version's schema) and load the\n"
	"forms and the registry.  Idempotent.  Then lists the kiosks, system tokens,\n"
	"users and notification endpoints of agencies that have ended (agencies.csv's\n"
	"valid_to and successor): they need a move, and are not moved by init.\n"
	"\n"
	"  --registry DIR    load agencies.csv, sectors.csv and targets.csv from DIR;\n"
	"                    later runs without it keep that registry (default: the\n"
	"                    registry shipped in forms/registry/)\n"
	"  --forms DIR       load every DIR/*.json form (default: the shipped forms)\n"
	"  --public-url URL  the collector's address as phones and tablets reach it\n"
	"                    (e.g. https://sipas.example.gov.vn), stored for the links\n"
	"                    'sipas link' and 'sipas device add --pair' print; http or\n"
	"                    https, no query; kept until given again; '' forgets it\n"
	"  --db PATH         database file (default $SIPAS_DB, else ./sipas.db)\n";

/* What settings' "registry" holds once `init --registry` has loaded the
 * province's own files. */
#define OWN_REGISTRY "own"

/* The registry: DIR's files when given, and the database remembers that it
 * has its own; else the shipped one, unless the database has its own: a
 * plain `init` (every start of the service runs one) must not add the
 * shipped province's agencies to another province's registry. */
static int load_registry(sqlite3 *db, const char *dir, struct err *e)
{
	char source[16];
	int rc;

	if (dir) {
		rc = registry_load_dir(db, dir, e);
		return rc ? rc : db_setting_set(db, "registry", OWN_REGISTRY, e);
	}
	rc = db_setting_get(db, "registry", source, sizeof(source), e);
	if (rc || strcmp(source, OWN_REGISTRY) == 0)
		return rc;
	return builtin_load_registry(db, e);
}

static int load_form_dir(sqlite3 *db, const char *dir, int *added, int *count, struct err *e)
{
	char pattern[4096];
	glob_t g;
	int rc = 0;

	if ((size_t)snprintf(pattern, sizeof(pattern), "%s/*.json", dir) >= sizeof(pattern))
		return err_set(e, ERR_INVALID, "%s: path too long", dir);
	if (glob(pattern, 0, NULL, &g) != 0)
		return err_set(e, ERR_NOT_FOUND, "%s: no *.json forms there", dir);
	for (size_t i = 0; i < g.gl_pathc && !rc; i++) {
		struct form *f = NULL;
		int was_added = 0;

		rc = form_load_file(g.gl_pathv[i], &f, e);
		if (!rc)
			rc = form_store_put(db, f, &was_added, e);
		if (rc == ERR_CONFLICT)
			err_prefix(e, "%s", g.gl_pathv[i]);
		form_free(f);
		*added += was_added;
		(*count)++;
	}
	globfree(&g);
	return rc;
}

/* Print, one a line, what still belongs to an agency that has ended (or
 * will: the registry may be loaded ahead of a merger): kiosks, system
 * tokens, users and notification endpoints.  Nothing is moved: the office
 * decides where each goes (a kiosk is paired anew at the successor). */
static int list_moves(sqlite3 *db, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int32_t today = period_today();
	int step = SQLITE_DONE;
	int rc = db_prepare(db, "SELECT a.code, a.valid_to, s.code, x.what FROM ("
			    "  SELECT agency_id, 'kiosk ''' || counter || ''' (device ' || id || ')' AS what, 1 AS k "
			    "  FROM devices WHERE role = 'kiosk' AND revoked_at IS NULL "
			    "  UNION ALL SELECT da.agency_id, 'system token ''' || d.counter || ''' (device ' || d.id || ')', 2 "
			    "  FROM device_agencies da JOIN devices d ON d.id = da.device_id WHERE d.revoked_at IS NULL "
			    "  UNION ALL SELECT ua.agency_id, 'user ''' || u.login || '''', 3 FROM user_agencies ua "
			    "  JOIN users u ON u.id = ua.user_id WHERE u.disabled_at IS NULL "
			    "  UNION ALL SELECT agency_id, 'notification ' || target, 4 FROM notify_endpoints "
			    "  WHERE removed_at IS NULL AND agency_id IS NOT NULL) x "
			    "JOIN agencies a ON a.id = x.agency_id LEFT JOIN agencies s ON s.id = a.successor_id "
			    "WHERE a.valid_to IS NOT NULL ORDER BY a.code, x.k, x.what", &st, e);

	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		int32_t last = sqlite3_column_int(st, 1);
		const char *successor = (const char *)sqlite3_column_text(st, 2);
		char day[16];

		period_format_day(last, day);
		printf("%s %s on %s (%s%s): %s needs a move\n", (const char *)sqlite3_column_text(st, 0),
		       last < today ? "ended" : "ends", day, successor ? "successor " : "no successor",
		       successor ? successor : "", (const char *)sqlite3_column_text(st, 3));
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, e, "listing what ended agencies still have");
	sqlite3_finalize(st);
	return rc;
}

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "registry", required_argument, NULL, 'r' },
		{ "forms", required_argument, NULL, 'f' },
		{ "public-url", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db_opt = NULL, *registry = NULL, *forms = NULL, *public_opt = NULL, *path;
	char public_url[URL_MAX], subject[4096];
	struct err e;
	sqlite3 *db = NULL;
	long long n_agencies = 0, n_sectors = 0, n_targets = 0, n_forms = 0;
	int c, rc, added = 0, count = 0;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_opt = optarg; break;
		case 'r': registry = optarg; break;
		case 'f': forms = optarg; break;
		case 'u': public_opt = optarg; break;
		case 'h': return cli_help(cmd_init_usage);
		default: return cli_usage_error("init", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
	path = cli_db_path(db_opt);
	err_clear(&e);
	/* checked before the database is created: a typo makes no file */
	if (public_opt && *public_opt && url_normalise(public_opt, "--public-url", public_url, &e))
		return cli_fail(&e);
	rc = db_open(path, DB_CREATE, &db, &e);
	if (rc)
		return cli_fail(&e);
	rc = import_clean_pending(db, stderr, &e);
	if (!rc)
		rc = db_exec(db, "BEGIN IMMEDIATE", &e);
	if (rc)
		goto out;
	rc = forms ? load_form_dir(db, forms, &added, &count, &e) : builtin_load_forms(db, &added, &e);
	if (!rc)
		rc = load_registry(db, registry, &e);
	if (!rc && public_opt)
		rc = cli_public_url_store(db, *public_opt ? public_url : NULL, &e);
	if (!rc && (db_query_int(db, "SELECT count(*) FROM forms", &n_forms, &e) ||
		    db_query_int(db, "SELECT count(*) FROM agencies", &n_agencies, &e) ||
		    db_query_int(db, "SELECT count(*) FROM sectors", &n_sectors, &e) ||
		    db_query_int(db, "SELECT count(*) FROM targets", &n_targets, &e)))
		rc = e.code;
	if (!rc && (registry || forms || public_opt || added)) {
		snprintf(subject, sizeof(subject), "%lld forms (%d new) from %.1000s, %lld agencies, %lld sectors, "
			 "%lld targets from %.1000s%s%.1000s", n_forms, added, forms ? forms : "the shipped forms",
			 n_agencies, n_sectors, n_targets, registry ? registry : "the shipped registry",
			 !public_opt ? "" : *public_opt ? ", public address " : ", public address forgotten",
			 public_opt && *public_opt ? public_url : "");
		rc = cli_audit(db, "init", subject, &e);
	}
	if (!rc)
		rc = db_exec(db, "COMMIT", &e);
	if (rc) {
		db_exec(db, "ROLLBACK", NULL);
		if (registry || forms || public_opt)
			cli_audit_alone(db, "init", forms || registry ? "loading forms or registry" : "loading the shipped "
				"forms and registry", &e);
		goto out;
	}
	printf("%s: schema %d, %lld forms (%d new), %lld agencies, %lld sectors, %lld targets\n",
	       path, DB_SCHEMA_VERSION, n_forms, added, n_agencies, n_sectors, n_targets);
	if (public_opt && *public_opt)
		printf("%s: public address %s\n", path, public_url);
	else if (public_opt)
		printf("%s: no public address stored\n", path);
	rc = list_moves(db, &e);
out:
	db_close(db);
	return rc ? cli_fail(&e) : 0;
}
