#include "store_ussd.h"

#include "store_int.h"

static const char SQL_USSD_MARK[] =
    "UPDATE sessions SET ussd_text = ?2, screen = ?3, updated_at = ?4 WHERE key = ?1";

int store_ussd_mark(struct store *st, const char *key, const char *text, int screen, int64_t now)
{
	sqlite3_stmt *s = store_stmt(st, SQL_USSD_MARK);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, key);
	store_bind_text(s, 2, text);
	sqlite3_bind_int(s, 3, screen);
	sqlite3_bind_int64(s, 4, now);
	return store_exec_stmt(st, SQL_USSD_MARK, s);
}
