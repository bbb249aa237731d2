#include "store_int.h"
#include "store_modem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_STATUS_SET[] =
    "INSERT INTO modem_status (modem, state, since, signal, network, battery, balance, balance_at, resets, error,"
    " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    " ON CONFLICT (modem) DO UPDATE SET state = ?2, since = ?3, signal = ?4, network = ?5, battery = ?6,"
    " balance = coalesce(?7, balance), balance_at = coalesce(?8, balance_at), resets = ?9, error = ?10,"
    " updated_at = ?11";

int store_modem_status_set(struct store *st, const struct modem_health *h)
{
	bool have_balance = !isnan(h->balance);

	return store_run(st, SQL_STATUS_SET, ST_TEXT(h->name), ST_TEXT(modem_state_name(h->state)), ST_INT(h->since),
	    ST_KNOWN(h->signal), ST_TEXT(*h->network ? h->network : NULL), ST_KNOWN(h->battery),
	    have_balance ? ST_REAL(h->balance) : ST_NULL, have_balance ? ST_INT(h->balance_at) : ST_NULL,
	    ST_INT(h->resets), ST_TEXT(*h->error ? h->error : NULL), ST_INT(now_unix()));
}

static const char SQL_MODEM_EACH[] =
    "SELECT s.modem, s.state, s.network, s.error, s.since, s.balance_at, s.updated_at, s.signal, s.battery,"
    " s.resets, s.balance,"
    " (SELECT count(*) FROM messages m WHERE m.modem = s.modem AND m.direction = 'out' AND m.status = 'sent'"
    "   AND m.sent_at >= ?1),"
    " (SELECT count(*) FROM messages m WHERE m.modem = s.modem AND m.direction = 'in' AND m.created_at >= ?1)"
    " FROM modem_status s ORDER BY s.modem";

int store_modem_each(struct store *st, int64_t day_start, int (*fn)(const struct store_modem_row *r, void *arg),
    void *arg)
{
	sqlite3_stmt *s = store_query(st, SQL_MODEM_EACH, ST_INT(day_start));
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_modem_row r;
		r.modem = store_col_text(s, 0);
		r.state = store_col_text(s, 1);
		r.network = store_col_text(s, 2);
		r.error = store_col_text(s, 3);
		r.since = sqlite3_column_int64(s, 4);
		r.balance_at = sqlite3_column_int64(s, 5);
		r.updated_at = sqlite3_column_int64(s, 6);
		r.signal = sqlite3_column_type(s, 7) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 7);
		r.battery = sqlite3_column_type(s, 8) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 8);
		r.resets = sqlite3_column_int(s, 9);
		r.balance = sqlite3_column_type(s, 10) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 10);
		r.sent_today = sqlite3_column_int(s, 11);
		r.received_today = sqlite3_column_int(s, 12);
		if (fn(&r, arg))
			break;
	}
	return store_end(st, SQL_MODEM_EACH, s, rc);
}

static const char SQL_READING_ADD[] =
    "INSERT INTO modem_readings (modem, at, signal, network, battery, balance, answer)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

int store_modem_reading_add(struct store *st, const char *modem, int64_t at, int signal, const char *network,
    int battery, double balance, const char *answer)
{
	return store_run(st, SQL_READING_ADD, ST_TEXT(modem), ST_INT(at), ST_KNOWN(signal),
	    ST_TEXT(network && *network ? network : NULL), ST_KNOWN(battery),
	    isnan(balance) ? ST_NULL : ST_REAL(balance), ST_TEXT(answer));
}

static const char SQL_REQ_ADD[] =
    "INSERT INTO modem_requests (modem, kind, arg, created_at) VALUES (?1, ?2, ?3, ?4)";

int store_modem_request_add(struct store *st, const char *modem, const char *kind, const char *arg, int64_t *id)
{
	if (store_run(st, SQL_REQ_ADD, ST_TEXT(modem), ST_TEXT(kind), ST_TEXT(arg), ST_INT(now_unix())) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

static const char SQL_REQ_NEXT[] =
    "SELECT id, kind, arg FROM modem_requests WHERE modem = ?1 AND status = 'pending' ORDER BY id LIMIT 1";

int store_modem_request_next(struct store *st, const char *modem, int64_t *id, char *kind, size_t kindlen,
    char *arg, size_t arglen)
{
	sqlite3_stmt *s = store_query(st, SQL_REQ_NEXT, ST_TEXT(modem));
	int rc;

	*id = 0;
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		snprintf(kind, kindlen, "%s", store_col_text(s, 1));
		snprintf(arg, arglen, "%s", store_col_text(s, 2));
	}
	return store_end(st, SQL_REQ_NEXT, s, rc);
}

static const char SQL_REQ_DONE[] =
    "UPDATE modem_requests SET status = ?2, answer = ?3, done_at = ?4 WHERE id = ?1";

int store_modem_request_done(struct store *st, int64_t id, bool ok, const char *answer)
{
	return store_run(
	    st, SQL_REQ_DONE, ST_INT(id), ST_TEXT(ok ? "done" : "failed"), ST_TEXT(answer), ST_INT(now_unix()));
}

static const char SQL_REQ_GET[] = "SELECT status, answer FROM modem_requests WHERE id = ?1";

int store_modem_request_get(struct store *st, int64_t id, char *status, size_t statuslen, char **answer)
{
	sqlite3_stmt *s = store_query(st, SQL_REQ_GET, ST_INT(id));
	int rc;

	*answer = NULL;
	status[0] = '\0';
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(status, statuslen, "%s", store_col_text(s, 0));
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			*answer = xstrdup(store_col_text(s, 1));
	}
	return store_end(st, SQL_REQ_GET, s, rc);
}

static const char SQL_ALERT_AT[] = "SELECT at FROM alerts WHERE kind = ?1 AND key = ?2";
static const char SQL_ALERT_SET[] =
    "INSERT INTO alerts (kind, key, at) VALUES (?1, ?2, ?3) ON CONFLICT (kind, key) DO UPDATE SET at = ?3";
static const char SQL_ALERT_CLEAR[] = "DELETE FROM alerts WHERE kind = ?1 AND key = ?2";

int store_alert_once(struct store *st, const char *kind, const char *key, int64_t now, int64_t every, bool *fresh)
{
	sqlite3_stmt *s = store_query(st, SQL_ALERT_AT, ST_TEXT(kind), ST_TEXT(key));
	bool recent;
	int rc;

	*fresh = false;
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	recent = rc == SQLITE_ROW && now - sqlite3_column_int64(s, 0) < every;
	if (store_end(st, SQL_ALERT_AT, s, rc) < 0)
		return -1;
	if (recent)
		return 0;
	if (store_run(st, SQL_ALERT_SET, ST_TEXT(kind), ST_TEXT(key), ST_INT(now)) < 0)
		return -1;
	*fresh = true;
	return 0;
}

int store_alert_clear(struct store *st, const char *kind, const char *key)
{
	return store_run(st, SQL_ALERT_CLEAR, ST_TEXT(kind), ST_TEXT(key));
}
