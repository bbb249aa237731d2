#include "store_ussd.h"

#include "session.h"
#include "store_int.h"

static const char SQL_USSD_MARK[] =
    "UPDATE sessions SET ussd_text = ?2, screen = ?3, updated_at = ?4, ussd_end = ?5 WHERE key = ?1";

int store_ussd_mark(struct store *st, const char *key, const char *text, int screen, bool ended, int64_t now)
{
	sqlite3_stmt *s = store_stmt(st, SQL_USSD_MARK);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, key);
	store_bind_text(s, 2, text);
	sqlite3_bind_int(s, 3, screen);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int(s, 5, ended ? 1 : 0);
	return store_exec_stmt(st, SQL_USSD_MARK, s);
}

/* Every key of one sessionId sorts in one range (session_key_ussd_range): a range of the primary key. */
static const char SQL_USSD_OTHER[] =
    "SELECT count(*) FROM sessions WHERE key >= ?1 AND key < ?2 AND key <> ?3 AND updated_at >= ?4";

int store_ussd_other_owner(struct store *st, const char *session_id, const char *key, int64_t since, bool *found)
{
	sqlite3_stmt *s = store_stmt(st, SQL_USSD_OTHER);
	char lo[160], hi[160];
	int rc;

	*found = false;
	if (s == NULL)
		return -1;
	session_key_ussd_range(session_id, lo, hi, sizeof(lo));
	store_bind_text(s, 1, lo);
	store_bind_text(s, 2, hi);
	store_bind_text(s, 3, key);
	sqlite3_bind_int64(s, 4, since);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*found = sqlite3_column_int64(s, 0) > 0;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return store_fail(st, SQL_USSD_OTHER);
	return 0;
}
