#include "store_int.h"
#include "store_console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void console_account_free(struct console_account *a)
{
	free(a->name);
	free(a->hash);
	free(a->role);
	free(a->staff_phone);
	memset(a, 0, sizeof(*a));
}

/* ---- accounts ---------------------------------------------------------------------------------- */

#define ACCOUNT_COLS "id, name, hash, role, staff_phone, disabled, created_at, updated_at"

static void read_account(sqlite3_stmt *s, struct console_account *a, bool copy)
{
	a->id = sqlite3_column_int64(s, 0);
	if (copy) {
		a->name = xstrdup(store_col_text(s, 1));
		a->hash = xstrdup(store_col_text(s, 2));
		a->role = xstrdup(store_col_text(s, 3));
		a->staff_phone = sqlite3_column_type(s, 4) == SQLITE_NULL ? NULL : xstrdup(store_col_text(s, 4));
	} else {
		a->name = (char *)store_col_text(s, 1);
		a->hash = (char *)store_col_text(s, 2);
		a->role = (char *)store_col_text(s, 3);
		a->staff_phone = sqlite3_column_type(s, 4) == SQLITE_NULL ? NULL : (char *)store_col_text(s, 4);
	}
	a->disabled = sqlite3_column_int(s, 5) != 0;
	a->created_at = sqlite3_column_int64(s, 6);
	a->updated_at = sqlite3_column_int64(s, 7);
}

static const char SQL_ACCOUNT_ADD[] =
    "INSERT INTO console_accounts (name, hash, role, staff_phone, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(name) DO NOTHING";

int store_account_add(struct store *st, const char *name, const char *hash, const char *role,
    const char *staff_phone, int64_t now, bool *added)
{
	*added = false;
	if (store_run(st, SQL_ACCOUNT_ADD, ST_TEXT(name), ST_TEXT(hash), ST_TEXT(role), ST_TEXT(staff_phone),
		ST_INT(now)) < 0)
		return -1;
	*added = sqlite3_changes(st->db) == 1;
	return 0;
}

static const char SQL_ACCOUNT_GET[] = "SELECT " ACCOUNT_COLS " FROM console_accounts WHERE name = ?1";
static const char SQL_ACCOUNT_GET_ID[] = "SELECT " ACCOUNT_COLS " FROM console_accounts WHERE id = ?1";

static int account_one(struct store *st, const char *sql, sqlite3_stmt *s, struct console_account *out, bool *found)
{
	int rc;

	*found = false;
	if (s == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	rc = sqlite3_step(s);
	*found = rc == SQLITE_ROW;
	if (*found)
		read_account(s, out, true);
	return store_end(st, sql, s, rc);
}

int store_account_get(struct store *st, const char *name, struct console_account *out, bool *found)
{
	return account_one(st, SQL_ACCOUNT_GET, store_query(st, SQL_ACCOUNT_GET, ST_TEXT(name)), out, found);
}

int store_account_get_id(struct store *st, int64_t id, struct console_account *out, bool *found)
{
	return account_one(st, SQL_ACCOUNT_GET_ID, store_query(st, SQL_ACCOUNT_GET_ID, ST_INT(id)), out, found);
}

static const char SQL_ACCOUNT_COUNT[] = "SELECT count(*) FROM console_accounts";

int store_account_count(struct store *st, int *n)
{
	return store_count_a(st, SQL_ACCOUNT_COUNT, NULL, n);
}

static const char SQL_ACCOUNT_HASH[] = "UPDATE console_accounts SET hash = ?2, updated_at = ?3 WHERE name = ?1";

int store_account_set_hash(struct store *st, const char *name, const char *hash, int64_t now, bool *found)
{
	*found = false;
	if (store_run(st, SQL_ACCOUNT_HASH, ST_TEXT(name), ST_TEXT(hash), ST_INT(now)) < 0)
		return -1;
	*found = sqlite3_changes(st->db) == 1;
	return 0;
}

static const char SQL_ACCOUNT_DISABLE[] =
    "UPDATE console_accounts SET disabled = ?2, updated_at = ?3 WHERE name = ?1";

int store_account_set_disabled(struct store *st, const char *name, bool disabled, int64_t now, bool *found)
{
	*found = false;
	if (store_run(st, SQL_ACCOUNT_DISABLE, ST_TEXT(name), ST_INT(disabled), ST_INT(now)) < 0)
		return -1;
	*found = sqlite3_changes(st->db) == 1;
	return 0;
}

static const char SQL_ACCOUNT_EACH[] = "SELECT " ACCOUNT_COLS " FROM console_accounts ORDER BY name";

int store_account_each(struct store *st, int (*fn)(const struct console_account *a, void *arg), void *arg)
{
	sqlite3_stmt *s = store_query_a(st, SQL_ACCOUNT_EACH, NULL);
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct console_account a;
		read_account(s, &a, false);
		if (fn(&a, arg))
			break;
	}
	return store_end(st, SQL_ACCOUNT_EACH, s, rc);
}

/* ---- sessions ------------------------------------------------------------------------------------ */

static const char SQL_CSESSION_ADD[] =
    "INSERT INTO console_sessions (token_hash, account_id, csrf, addr, created_at, last_seen)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?5)";

int store_csession_add(struct store *st, const char *token_hash, int64_t account_id, const char *csrf,
    const char *addr, int64_t now)
{
	return store_run(
	    st, SQL_CSESSION_ADD, ST_TEXT(token_hash), ST_INT(account_id), ST_TEXT(csrf), ST_TEXT(addr), ST_INT(now));
}

static const char SQL_CSESSION_GET[] =
    "SELECT account_id, csrf, last_seen FROM console_sessions WHERE token_hash = ?1";

int store_csession_get(struct store *st, const char *token_hash, int64_t *account_id, char *csrf, size_t csrflen,
    int64_t *last_seen, bool *found)
{
	sqlite3_stmt *s = store_query(st, SQL_CSESSION_GET, ST_TEXT(token_hash));
	int rc;

	*found = false;
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*found = true;
		*account_id = sqlite3_column_int64(s, 0);
		snprintf(csrf, csrflen, "%s", store_col_text(s, 1));
		*last_seen = sqlite3_column_int64(s, 2);
	}
	return store_end(st, SQL_CSESSION_GET, s, rc);
}

static const char SQL_CSESSION_TOUCH[] = "UPDATE console_sessions SET last_seen = ?2 WHERE token_hash = ?1";

int store_csession_touch(struct store *st, const char *token_hash, int64_t now)
{
	return store_run(st, SQL_CSESSION_TOUCH, ST_TEXT(token_hash), ST_INT(now));
}

static const char SQL_CSESSION_DEL[] = "DELETE FROM console_sessions WHERE token_hash = ?1";

int store_csession_delete(struct store *st, const char *token_hash)
{
	return store_run(st, SQL_CSESSION_DEL, ST_TEXT(token_hash));
}

static const char SQL_CSESSION_DEL_ACCOUNT[] = "DELETE FROM console_sessions WHERE account_id = ?1";

int store_csession_delete_account(struct store *st, int64_t account_id)
{
	return store_run(st, SQL_CSESSION_DEL_ACCOUNT, ST_INT(account_id));
}

static const char SQL_CSESSION_PURGE[] = "DELETE FROM console_sessions WHERE last_seen < ?1";

int store_csession_purge(struct store *st, int64_t idle_before)
{
	return store_run(st, SQL_CSESSION_PURGE, ST_INT(idle_before));
}

/* ---- the setup token ----------------------------------------------------------------------------- */

static const char SQL_SETUP_CLEAR[] = "DELETE FROM console_setup";
static const char SQL_SETUP_ADD[] = "INSERT INTO console_setup (token_hash, expires_at) VALUES (?1, ?2)";

int store_setup_set(struct store *st, const char *token_hash, int64_t expires_at)
{
	if (store_run_a(st, SQL_SETUP_CLEAR, NULL) < 0)
		return -1;
	return store_run(st, SQL_SETUP_ADD, ST_TEXT(token_hash), ST_INT(expires_at));
}

static const char SQL_SETUP_GET[] = "SELECT expires_at FROM console_setup WHERE token_hash = ?1";

int store_setup_check(struct store *st, const char *token_hash, int64_t now, bool take, bool *ok)
{
	int64_t expires_at;

	*ok = false;
	if (store_get_int(st, SQL_SETUP_GET, &expires_at, ST_TEXT(token_hash)) < 0)
		return -1;
	*ok = expires_at > now;
	if (*ok && take)
		return store_run_a(st, SQL_SETUP_CLEAR, NULL);
	return 0;
}

/* ---- login failures ------------------------------------------------------------------------------ */

static const char SQL_FAIL_ADD[] = "INSERT INTO console_failures (kind, key, at) VALUES (?1, ?2, ?3)";

int store_failure_add(struct store *st, const char *kind, const char *key, int64_t at)
{
	return store_run(st, SQL_FAIL_ADD, ST_TEXT(kind), ST_TEXT(key), ST_INT(at));
}

static const char SQL_FAIL_TIMES[] =
    "SELECT at FROM console_failures WHERE kind = ?1 AND key = ?2 AND at >= ?3 ORDER BY at LIMIT ?4";

int store_failure_times(struct store *st, const char *kind, const char *key, int64_t since, int64_t *times,
    size_t max, size_t *n)
{
	sqlite3_stmt *s = store_query(
	    st, SQL_FAIL_TIMES, ST_TEXT(kind), ST_TEXT(key), ST_INT(since), ST_INT((int64_t)max));
	int rc;

	*n = 0;
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max)
		times[(*n)++] = sqlite3_column_int64(s, 0);
	return store_end(st, SQL_FAIL_TIMES, s, rc);
}

static const char SQL_FAIL_CLEAR[] = "DELETE FROM console_failures WHERE kind = ?1 AND key = ?2";

int store_failure_clear(struct store *st, const char *kind, const char *key)
{
	return store_run(st, SQL_FAIL_CLEAR, ST_TEXT(kind), ST_TEXT(key));
}

/* ---- audit ----------------------------------------------------------------------------------------- */

static const char SQL_AUDIT_ADD[] =
    "INSERT INTO console_audit (at, who, addr, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

int store_audit_add(struct store *st, const struct store_audit *a)
{
	return store_run(st, SQL_AUDIT_ADD, ST_INT(a->at), ST_TEXT(a->who ? a->who : "-"), ST_TEXT(a->addr),
	    ST_TEXT(a->action), ST_TEXT(a->target), ST_TEXT(a->detail));
}

static const char SQL_AUDIT_EACH[] =
    "SELECT id, at, who, addr, action, target, detail FROM console_audit"
    " WHERE (?1 = 0 OR id < ?1) ORDER BY id DESC LIMIT ?2";

int store_audit_each(struct store *st, int64_t before_id, int limit,
    int (*fn)(const struct store_audit *a, void *arg), void *arg)
{
	sqlite3_stmt *s = store_query(st, SQL_AUDIT_EACH, ST_INT(before_id), ST_INT(limit > 0 ? limit : -1));
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_audit a = {
			sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), store_col_text(s, 2), store_col_text(s, 3),
			store_col_text(s, 4), store_col_text(s, 5), store_col_text(s, 6),
		};
		if (fn(&a, arg))
			break;
	}
	return store_end(st, SQL_AUDIT_EACH, s, rc);
}

/* ---- the console's case list --------------------------------------------------------------------- */

#define CASE_QUERY_WHERE \
    " WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR staff = ?2) AND (?3 IS NULL OR topic = ?3)" \
    " AND (?4 IS NULL OR instr(place, ?4) > 0)" \
    " AND (?5 IS NULL OR number = ?5 OR instr(number, ?5) > 0 OR instr(name, ?5) > 0" \
    "      OR instr(applicant_phone, ?5) > 0 OR instr(contact_phone, ?5) > 0)" \
    " AND (?6 = 0 OR created_at >= ?6) AND (?7 = 0 OR created_at < ?7)" \
    " AND (?8 = 0 OR status NOT IN ('done', 'rejected', 'withdrawn'))"
/* ?1..?8 of CASE_QUERY_WHERE */
#define CASE_QUERY_ARGS(q) \
	ST_TEXT((q)->status), ST_TEXT((q)->staff), ST_TEXT((q)->topic), ST_TEXT((q)->place), ST_TEXT((q)->q), \
	    ST_INT((q)->from), ST_INT((q)->to), ST_INT((q)->open_only)

static const char SQL_CASE_QUERY[] =
    "SELECT id, number, topic, channel, applicant_phone, contact_phone, name, place, need, staff, status, reason,"
    " message_id, created_at, updated_at, accepted_at, visited_at, closed_at, escalated_at, resent_at FROM cases"
    CASE_QUERY_WHERE " ORDER BY id DESC LIMIT ?9 OFFSET ?10";
static const char SQL_CASE_QUERY_COUNT[] = "SELECT count(*) FROM cases" CASE_QUERY_WHERE;

int store_case_query_count(struct store *st, const struct store_case_query *q, int *n)
{
	return store_count(st, SQL_CASE_QUERY_COUNT, n, CASE_QUERY_ARGS(q));
}

static char *col_or_null(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NULL : (char *)store_col_text(s, i);
}

int store_case_query(struct store *st, const struct store_case_query *q,
    int (*fn)(const struct store_case *c, void *arg), void *arg)
{
	sqlite3_stmt *s = store_query(st, SQL_CASE_QUERY, CASE_QUERY_ARGS(q), ST_INT(q->limit > 0 ? q->limit : -1),
	    ST_INT(q->offset > 0 ? q->offset : 0));
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_case c;
		c.id = sqlite3_column_int64(s, 0);
		c.number = col_or_null(s, 1);
		c.topic = col_or_null(s, 2);
		c.channel = col_or_null(s, 3);
		c.applicant_phone = col_or_null(s, 4);
		c.contact_phone = col_or_null(s, 5);
		c.name = col_or_null(s, 6);
		c.place = col_or_null(s, 7);
		c.need = col_or_null(s, 8);
		c.staff = col_or_null(s, 9);
		c.status = col_or_null(s, 10);
		c.reason = col_or_null(s, 11);
		c.msg_id = sqlite3_column_int64(s, 12);
		c.created_at = sqlite3_column_int64(s, 13);
		c.updated_at = sqlite3_column_int64(s, 14);
		c.accepted_at = sqlite3_column_int64(s, 15);
		c.visited_at = sqlite3_column_int64(s, 16);
		c.closed_at = sqlite3_column_int64(s, 17);
		c.escalated_at = sqlite3_column_int64(s, 18);
		c.resent_at = sqlite3_column_int64(s, 19);
		if (fn(&c, arg))
			break;
	}
	return store_end(st, SQL_CASE_QUERY, s, rc);
}

static const char SQL_COUNTS[] =
    "SELECT (SELECT count(*) FROM messages WHERE direction = 'in' AND created_at >= ?1),"
    " (SELECT count(*) FROM cases WHERE created_at >= ?1),"
    " (SELECT count(*) FROM cases WHERE closed_at >= ?1)";

int store_console_counts(struct store *st, int64_t since, int *msgs_in, int *cases_new, int *cases_closed)
{
	sqlite3_stmt *s = store_query(st, SQL_COUNTS, ST_INT(since));
	int rc;

	*msgs_in = *cases_new = *cases_closed = 0;
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*msgs_in = sqlite3_column_int(s, 0);
		*cases_new = sqlite3_column_int(s, 1);
		*cases_closed = sqlite3_column_int(s, 2);
	}
	return store_end(st, SQL_COUNTS, s, rc);
}

/* ---- 短信记录 ------------------------------------------------------------------------------------------- */

static const char SQL_MSG_SEARCH_NEW[] =
    "SELECT " STORE_MSG_COLUMNS " FROM messages"
    " WHERE (?1 IS NULL OR phone_key = ?1) AND (?2 IS NULL OR instr(text, ?2) > 0)"
    " AND (?3 = 0 OR created_at >= ?3) AND (?4 = 0 OR created_at < ?4) ORDER BY id DESC LIMIT ?5";
static const char SQL_MSG_SEARCH_OLD[] =
    "SELECT " STORE_MSG_COLUMNS " FROM messages"
    " WHERE (?1 IS NULL OR phone_key = ?1) AND (?2 IS NULL OR instr(text, ?2) > 0)"
    " AND (?3 = 0 OR created_at >= ?3) AND (?4 = 0 OR created_at < ?4) ORDER BY id LIMIT ?5";

int store_msg_search(struct store *st, const struct store_msg_query *q,
    int (*fn)(const struct store_msg *m, void *arg), void *arg)
{
	const char *sql = q->oldest_first ? SQL_MSG_SEARCH_OLD : SQL_MSG_SEARCH_NEW;
	sqlite3_stmt *s = store_query(st, sql, ST_TEXT(q->phone), ST_TEXT(q->text), ST_INT(q->from), ST_INT(q->to),
	    ST_INT(q->limit > 0 ? q->limit : -1));
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_msg m;
		store_msg_read(s, &m);
		if (fn(&m, arg))
			break;
	}
	return store_end(st, sql, s, rc);
}

/* ---- 意见建议 ------------------------------------------------------------------------------------------- */

static const char SQL_FEEDBACK_ROWS[] =
    "SELECT id, message_id, created_at, done_at, number, phone, channel, text, status, note FROM feedback"
    " WHERE (?1 = 0 OR created_at >= ?1) AND (?2 = 0 OR created_at < ?2) ORDER BY id DESC LIMIT ?3";

int store_feedback_rows(struct store *st, int64_t from, int64_t to, int limit,
    int (*fn)(const struct store_feedback_row *f, void *arg), void *arg)
{
	sqlite3_stmt *s = store_query(st, SQL_FEEDBACK_ROWS, ST_INT(from), ST_INT(to), ST_INT(limit > 0 ? limit : -1));
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_feedback_row f = {
			sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
			sqlite3_column_int64(s, 3), store_col_text(s, 4), store_col_text(s, 5), store_col_text(s, 6),
			store_col_text(s, 7), store_col_text(s, 8), store_col_text(s, 9),
		};
		if (fn(&f, arg))
			break;
	}
	return store_end(st, SQL_FEEDBACK_ROWS, s, rc);
}

static const char SQL_FEEDBACK_SENDER[] = "SELECT phone, message_id FROM feedback WHERE number = ?1";

int store_feedback_sender(struct store *st, const char *number, char **phone, int64_t *message_id, bool *found)
{
	sqlite3_stmt *s = store_query(st, SQL_FEEDBACK_SENDER, ST_TEXT(number));
	int rc;

	*found = false;
	*phone = NULL;
	*message_id = 0;
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*found = true;
		*phone = xstrdup(store_col_text(s, 0));
		*message_id = sqlite3_column_int64(s, 1);
	}
	return store_end(st, SQL_FEEDBACK_SENDER, s, rc);
}
