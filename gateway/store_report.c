#include "store_int.h"
#include "store_report.h"

#define ANSWERED_IN \
	" FROM messages WHERE direction = 'in' AND status = 'answered'" \
	" AND (?1 = 0 OR created_at >= ?1) AND (?2 = 0 OR created_at < ?2) AND coalesce(node, '') <> ?3"

static const char SQL_REPORT_EACH[] = "SELECT phone_key, coalesce(node, ''), created_at" ANSWERED_IN " ORDER BY id";

int store_report_each(struct store *st, int64_t from, int64_t to, const char *except_node,
    int (*fn)(const char *phone, const char *node, int64_t at, void *arg), void *arg)
{
	sqlite3_stmt *s = store_query(
	    st, SQL_REPORT_EACH, ST_INT(from), ST_INT(to), ST_TEXT(except_node ? except_node : ""));
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (fn(store_col_text(s, 0), store_col_text(s, 1), sqlite3_column_int64(s, 2), arg))
			break;
	return store_end(st, SQL_REPORT_EACH, s, rc);
}

static const char SQL_REPORT_CALLERS[] = "SELECT count(DISTINCT phone_key)" ANSWERED_IN;

int store_report_callers(struct store *st, int64_t from, int64_t to, const char *except_node, int64_t *n)
{
	return store_get_int(
	    st, SQL_REPORT_CALLERS, n, ST_INT(from), ST_INT(to), ST_TEXT(except_node ? except_node : ""));
}
