/*
 * cli.h - what the command files in cli/ share: the command table, the
 * --db default, and turning a `struct err` into a message and exit status
 * (docs/design.md: 0 ok, 1 user error, 2 internal error).
 */
#ifndef SIPAS_CLI_H
#define SIPAS_CLI_H

#include <getopt.h>
#include <sqlite3.h>

#include "../lib/err.h"
#include "../lib/strbuf.h"
#include "../lib/url.h"

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);  /* argv[0] is the command name */
	const char *usage;                  /* printed by --help and `sipas help CMD` */
	const char *summary;                /* one line for `sipas help` */
};

int cmd_init(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_dossiers(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_link(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_agency(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_staff(int argc, char **argv);
int cmd_notify(int argc, char **argv);
int cmd_hub(int argc, char **argv);
int cmd_push(int argc, char **argv);

extern const char cmd_init_usage[], cmd_import_usage[], cmd_dossiers_usage[], cmd_demo_usage[], cmd_serve_usage[],
	cmd_score_usage[], cmd_device_usage[], cmd_link_usage[], cmd_publish_usage[],
	cmd_report_usage[], cmd_backup_usage[], cmd_user_usage[], cmd_audit_usage[];
extern const char cmd_agency_usage[];
extern const char cmd_monitor_usage[];
extern const char cmd_staff_usage[];
extern const char cmd_notify_usage[];
extern const char cmd_hub_usage[];
extern const char cmd_push_usage[];

/* The database path: the --db value if given, else $SIPAS_DB, else ./sipas.db. */
const char *cli_db_path(const char *opt);

struct form;
struct registry;

/* What a command working on the stored data starts from. */
struct cli_session {
	sqlite3 *db;
	struct form *form;       /* NULL unless a form id was asked for */
	struct registry *reg;
};

/* Open the database at cli_db_path(db_opt) with db_open's `db_flags`,
 * then read the form `form_id` (none when NULL) and the registry, in that
 * order, stopping at the first failure (its error in e).  *s is filled
 * either way and owned by the caller: cli_session_close it, also after a
 * failure. */
int cli_session_open(struct cli_session *s, const char *db_opt, int db_flags, const char *form_id,
		     struct err *e);

/* Free what cli_session_open filled (the registry, the form) and close
 * the database; *s is then empty. */
void cli_session_close(struct cli_session *s);

/* Print "sipas: MESSAGE" on stderr; return the exit status for e->code. */
int cli_fail(const struct err *e);

/* Print "sipas CMD: MESSAGE" for a usage error and return 1. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print `usage` to stdout and return 0 (for --help). */
int cli_help(const char *usage);

/* Read a password from the first line of the file given to a command's
 * `option` (never the command line, which other users can read) into out,
 * of size `size`: 1 to size - 2 bytes, its line end dropped.  0, or a
 * usage error printed (exit status 1); out is wiped on failure. */
int cli_read_password(const char *cmd, const char *option, const char *path, char *out, size_t size);

/* Reset getopt's state before a command parses its own options, with
 * getopt's own messages off (commands report through cli_usage_error). */
void cli_getopt_reset(void);

/* --- the audit log (cmd_audit.c; docs/console.md, "Audit log") --- */

/* Record `action` on `subject` by this command line (actor cli:OS-USER,
 * address local), outcome ok, inside the caller's write transaction, so
 * that the change and its record commit together.  ERR_DB on failure. */
int cli_audit(sqlite3 *db, const char *action, const char *subject, struct err *e);

/* Record `action` on `subject` in a transaction of its own: a refused or
 * failed action with failed's text as its outcome, or (failed NULL) one
 * whose change committed in its own transactions (an import, a backup).
 * A record that cannot be written is a warning on stderr: the action's
 * own outcome and exit status stay what they were. */
void cli_audit_alone(sqlite3 *db, const char *action, const char *subject, const struct err *failed);

/* End the write transaction the caller began, whose steps so far gave rc:
 * when rc is 0, record `action` on `subject` (cli_audit) and commit; when
 * rc or either of those fails, roll back and record the refusal in a
 * transaction of its own (cli_audit_alone).  Returns the outcome, 0 or
 * the error in e. */
int cli_audit_commit(sqlite3 *db, int rc, const char *action, const char *subject, struct err *e);

/* rep_publish's and rep_withdraw's record (struct rep_actor): cli_audit,
 * then the log's head after it into head.  arg is unused. */
int cli_audit_record(void *arg, sqlite3 *db, const char *action, const char *subject, char *head,
		     struct err *e);

/* Append text to sb as a terminal may show it: printable UTF-8 as it is;
 * a backslash as \\; \n, \t, \r; other control and invisible characters
 * (C0, DEL, C1, zero widths, bidirectional controls) as \xHH or \uHHHH;
 * a byte that is not well-formed UTF-8 as \xHH. */
void cli_escape(struct strbuf *sb, const char *text);

/* "YYYY-MM-DD HH:MM" (UTC) of Unix seconds t into out, or "-" when t is 0. */
void cli_format_time(long long t, char out[32]);

#define CLI_URL_DEFAULT "http://127.0.0.1:8080"

/* The collector's public address, the one every command that prints a link
 * uses: `base` (a command's --base) when not NULL, else $SIPAS_PUBLIC_URL
 * when set and not empty, else what `sipas init --public-url` stored in
 * db, else CLI_URL_DEFAULT with a warning on stderr that phones and
 * tablets cannot reach it.  out gets it normalised; a bad address is
 * ERR_INVALID naming where it came from. */
int cli_public_url(sqlite3 *db, const char *base, char out[URL_MAX], struct err *e);

/* Store `url` (normalised with url_normalise) as the public address, or
 * forget the stored one when url is NULL; in the caller's transaction. */
int cli_public_url_store(sqlite3 *db, const char *url, struct err *e);

/* Write `text` as a QR code to the SVG file `path`; `label` (trusted, no
 * markup) names it for screen readers.  ERR_INVALID when text is too long
 * for a QR code, ERR_IO when the file cannot be written. */
int cli_write_qr_svg(const char *path, const char *text, const char *label, struct err *e);

#endif
