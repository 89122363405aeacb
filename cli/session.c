/*
 * session.c - how a command that works on the stored data starts and
 * ends: the database opened, the form it names and the registry read
 * (cli.h, struct cli_session).
 */
#include <string.h>

#include "cli.h"
#include "../db/db.h"
#include "../forms/form.h"
#include "../forms/form_store.h"
#include "../forms/registry.h"

int cli_session_open(struct cli_session *s, const char *db_opt, int db_flags, const char *form_id,
		     struct err *e)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = db_open(cli_db_path(db_opt), db_flags, &s->db, e);
	if (!rc && form_id)
		rc = form_store_get(s->db, form_id, &s->form, e);
	if (!rc)
		rc = registry_read(s->db, &s->reg, e);
	return rc;
}

void cli_session_close(struct cli_session *s)
{
	registry_free(s->reg);
	form_free(s->form);
	db_close(s->db);
	memset(s, 0, sizeof(*s));
}
