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
	sqlite3_stmt *s = store_stmt(st, SQL_STATUS_SET);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, h->name);
	store_bind_text(s, 2, modem_state_name(h->state));
	sqlite3_bind_int64(s, 3, h->since);
	if (h->signal >= 0)
		sqlite3_bind_int(s, 4, h->signal);
	store_bind_text(s, 5, *h->network ? h->network : NULL);
	if (h->battery >= 0)
		sqlite3_bind_int(s, 6, h->battery);
	if (!isnan(h->balance)) {
		sqlite3_bind_double(s, 7, h->balance);
		sqlite3_bind_int64(s, 8, h->balance_at);
	}
	sqlite3_bind_int(s, 9, h->resets);
	store_bind_text(s, 10, *h->error ? h->error : NULL);
	sqlite3_bind_int64(s, 11, now_unix());
	return store_exec_stmt(st, SQL_STATUS_SET, s);
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
	sqlite3_stmt *s = store_stmt(st, SQL_MODEM_EACH);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, day_start);
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
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_fail(st, SQL_MODEM_EACH);
}

static const char SQL_READING_ADD[] =
    "INSERT INTO modem_readings (modem, at, signal, network, battery, balance, answer)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

int store_modem_reading_add(struct store *st, const char *modem, int64_t at, int signal, const char *network,
    int battery, double balance, const char *answer)
{
	sqlite3_stmt *s = store_stmt(st, SQL_READING_ADD);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, modem);
	sqlite3_bind_int64(s, 2, at);
	if (signal >= 0)
		sqlite3_bind_int(s, 3, signal);
	store_bind_text(s, 4, network && *network ? network : NULL);
	if (battery >= 0)
		sqlite3_bind_int(s, 5, battery);
	if (!isnan(balance))
		sqlite3_bind_double(s, 6, balance);
	store_bind_text(s, 7, answer);
	return store_exec_stmt(st, SQL_READING_ADD, s);
}

static const char SQL_REQ_ADD[] =
    "INSERT INTO modem_requests (modem, kind, arg, created_at) VALUES (?1, ?2, ?3, ?4)";

int store_modem_request_add(struct store *st, const char *modem, const char *kind, const char *arg, int64_t *id)
{
	sqlite3_stmt *s = store_stmt(st, SQL_REQ_ADD);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, modem);
	store_bind_text(s, 2, kind);
	store_bind_text(s, 3, arg);
	sqlite3_bind_int64(s, 4, now_unix());
	if (store_exec_stmt(st, SQL_REQ_ADD, s) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

static const char SQL_REQ_NEXT[] =
    "SELECT id, kind, arg FROM modem_requests WHERE modem = ?1 AND status = 'pending' ORDER BY id LIMIT 1";

int store_modem_request_next(struct store *st, const char *modem, int64_t *id, char *kind, size_t kindlen,
    char *arg, size_t arglen)
{
	sqlite3_stmt *s = store_stmt(st, SQL_REQ_NEXT);
	int rc;

	*id = 0;
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, modem);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		snprintf(kind, kindlen, "%s", store_col_text(s, 1));
		snprintf(arg, arglen, "%s", store_col_text(s, 2));
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st, SQL_REQ_NEXT);
}

static const char SQL_REQ_DONE[] =
    "UPDATE modem_requests SET status = ?2, answer = ?3, done_at = ?4 WHERE id = ?1";

int store_modem_request_done(struct store *st, int64_t id, bool ok, const char *answer)
{
	sqlite3_stmt *s = store_stmt(st, SQL_REQ_DONE);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, ok ? "done" : "failed");
	store_bind_text(s, 3, answer);
	sqlite3_bind_int64(s, 4, now_unix());
	return store_exec_stmt(st, SQL_REQ_DONE, s);
}

static const char SQL_REQ_GET[] = "SELECT status, answer FROM modem_requests WHERE id = ?1";

int store_modem_request_get(struct store *st, int64_t id, char *status, size_t statuslen, char **answer)
{
	sqlite3_stmt *s = store_stmt(st, SQL_REQ_GET);
	int rc;

	*answer = NULL;
	status[0] = '\0';
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(status, statuslen, "%s", store_col_text(s, 0));
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			*answer = xstrdup(store_col_text(s, 1));
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st, SQL_REQ_GET);
}

static const char SQL_ALERT_AT[] = "SELECT at FROM alerts WHERE kind = ?1 AND key = ?2";
static const char SQL_ALERT_SET[] =
    "INSERT INTO alerts (kind, key, at) VALUES (?1, ?2, ?3) ON CONFLICT (kind, key) DO UPDATE SET at = ?3";
static const char SQL_ALERT_CLEAR[] = "DELETE FROM alerts WHERE kind = ?1 AND key = ?2";

int store_alert_once(struct store *st, const char *kind, const char *key, int64_t now, int64_t every, bool *fresh)
{
	sqlite3_stmt *s = store_stmt(st, SQL_ALERT_AT);
	int rc;

	*fresh = false;
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, kind);
	store_bind_text(s, 2, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && now - sqlite3_column_int64(s, 0) < every) {
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, SQL_ALERT_AT);
	s = store_stmt(st, SQL_ALERT_SET);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, kind);
	store_bind_text(s, 2, key);
	sqlite3_bind_int64(s, 3, now);
	if (store_exec_stmt(st, SQL_ALERT_SET, s) < 0)
		return -1;
	*fresh = true;
	return 0;
}

int store_alert_clear(struct store *st, const char *kind, const char *key)
{
	sqlite3_stmt *s = store_stmt(st, SQL_ALERT_CLEAR);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, kind);
	store_bind_text(s, 2, key);
	return store_exec_stmt(st, SQL_ALERT_CLEAR, s);
}
