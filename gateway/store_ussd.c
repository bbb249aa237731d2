#include "store_ussd.h"

#include "session.h"
#include "store_int.h"

static const char SQL_USSD_MARK[] =
    "UPDATE sessions SET ussd_text = ?2, screen = ?3, updated_at = ?4, ussd_end = ?5 WHERE key = ?1";

int store_ussd_mark(struct store *st, const char *key, const char *text, int screen, bool ended, int64_t now)
{
	return store_run(st, SQL_USSD_MARK, ST_TEXT(key), ST_TEXT(text), ST_INT(screen), ST_INT(now), ST_INT(ended));
}

/* Every key of one sessionId sorts in one range (session_key_ussd_range): a range of the primary key. */
static const char SQL_USSD_OTHER[] =
    "SELECT count(*) FROM sessions WHERE key >= ?1 AND key < ?2 AND key <> ?3 AND updated_at >= ?4";

int store_ussd_other_owner(struct store *st, const char *session_id, const char *key, int64_t since, bool *found)
{
	char lo[160], hi[160];
	int n;

	*found = false;
	session_key_ussd_range(session_id, lo, hi, sizeof(lo));
	if (store_count(st, SQL_USSD_OTHER, &n, ST_TEXT(lo), ST_TEXT(hi), ST_TEXT(key), ST_INT(since)) < 0)
		return -1;
	*found = n > 0;
	return 0;
}
