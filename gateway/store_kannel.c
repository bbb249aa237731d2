#include "store_int.h"
#include "store_kannel.h"

#include <stdio.h>

static const char SQL_KEY_FIND[] = "SELECT message_id FROM inbound_keys WHERE channel = ?1 AND key = ?2";

int store_inbound_key_find(struct store *st, const char *channel, const char *key, int64_t *message_id)
{
	sqlite3_stmt *s = store_stmt(st, SQL_KEY_FIND);
	int rc;

	*message_id = 0;
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, channel);
	store_bind_text(s, 2, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*message_id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st, SQL_KEY_FIND);
}

static const char SQL_KEY_ADD[] =
    "INSERT INTO inbound_keys (channel, key, message_id, at) VALUES (?1, ?2, ?3, ?4)";

int store_inbound_key_add(struct store *st, const char *channel, const char *key, int64_t message_id, int64_t at)
{
	sqlite3_stmt *s = store_stmt(st, SQL_KEY_ADD);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, channel);
	store_bind_text(s, 2, key);
	sqlite3_bind_int64(s, 3, message_id);
	sqlite3_bind_int64(s, 4, at);
	return store_exec_stmt(st, SQL_KEY_ADD, s);
}

/* A final state stays; an intermediate one only fills an empty or intermediate state. */
static const char SQL_DELIVERY_SET[] =
    "INSERT INTO deliveries (message_id, state, at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (message_id) DO UPDATE SET state = excluded.state, at = excluded.at"
    " WHERE ?4 = 1 OR deliveries.state IN ('accepted', 'buffered')";
static const char SQL_DELIVERY_MATCH[] =
    "SELECT 1 FROM messages WHERE id = ?1 AND direction = 'out' AND modem = ?2";

int store_delivery_set(struct store *st, int64_t id, const char *channel, const char *delivery, bool final,
    int64_t at, bool *matched)
{
	sqlite3_stmt *s;
	int rc;

	*matched = false;
	if (store_begin(st) < 0)
		return -1;
	if ((s = store_stmt(st, SQL_DELIVERY_MATCH)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, channel);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_fail(st, SQL_DELIVERY_MATCH);
		goto fail;
	}
	*matched = rc == SQLITE_ROW;
	if (*matched) {
		if ((s = store_stmt(st, SQL_DELIVERY_SET)) == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, id);
		store_bind_text(s, 2, delivery);
		sqlite3_bind_int64(s, 3, at);
		sqlite3_bind_int(s, 4, final ? 1 : 0);
		if (store_exec_stmt(st, SQL_DELIVERY_SET, s) < 0)
			goto fail;
	}
	return store_commit(st);
fail:
	store_rollback(st);
	return -1;
}

static const char SQL_DELIVERY_GET[] = "SELECT state FROM deliveries WHERE message_id = ?1";

int store_delivery_get(struct store *st, int64_t id, char *out, size_t outlen)
{
	sqlite3_stmt *s = store_stmt(st, SQL_DELIVERY_GET);
	int rc;

	if (outlen)
		out[0] = '\0';
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		snprintf(out, outlen, "%s", store_col_text(s, 0));
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st, SQL_DELIVERY_GET);
}

/*
 * Sent through `channel` (sent_at in [since, before)), counted uncertain fewer
 * than max times, out of the outbox, and with no acknowledgement from the
 * SMSC: no report, or only 'buffered' (the SMSC's 'accepted' or a final one
 * ends the wait).
 */
static const char SQL_UNACKED[] =
    "SELECT m.id FROM messages m LEFT JOIN deliveries d ON d.message_id = m.id"
    " WHERE m.modem = ?1 AND m.direction = 'out' AND m.sent_at >= ?2 AND m.sent_at < ?3"
    " AND m.status = 'sent' AND m.uncertain < ?4 AND (d.state IS NULL OR d.state = 'buffered')"
    " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = m.id)"
    " ORDER BY m.sent_at, m.id LIMIT ?5";

int store_kannel_unacked(struct store *st, const char *channel, int64_t since, int64_t before, int max_resends,
    int64_t *ids, size_t max, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, SQL_UNACKED);
	int rc;

	*n = 0;
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, channel);
	sqlite3_bind_int64(s, 2, since);
	sqlite3_bind_int64(s, 3, before);
	sqlite3_bind_int(s, 4, max_resends);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max)
		ids[(*n)++] = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st, SQL_UNACKED);
}

/* Back in the outbox of the channel that sent it: the same message row, claimed and sent as before. */
static const char SQL_RESEND_MSG[] =
    "UPDATE messages SET status = 'queued', uncertain = uncertain + 1, updated_at = ?2"
    " WHERE id = ?1 AND status = 'sent' AND direction = 'out'";
static const char SQL_RESEND_OUTBOX[] =
    "INSERT INTO outbox (message_id, modem, priority, not_before) VALUES (?1, ?2, 1, ?3)"
    " ON CONFLICT (message_id) DO NOTHING";

int store_kannel_resend(struct store *st, int64_t id, const char *channel, int64_t now, bool *queued)
{
	sqlite3_stmt *s;

	*queued = false;
	if (store_begin(st) < 0)
		return -1;
	if ((s = store_stmt(st, SQL_RESEND_MSG)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	if (store_exec_stmt(st, SQL_RESEND_MSG, s) < 0)
		goto fail;
	if (sqlite3_changes(st->db) == 1) {
		if ((s = store_stmt(st, SQL_RESEND_OUTBOX)) == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, id);
		store_bind_text(s, 2, channel);
		sqlite3_bind_int64(s, 3, now);
		if (store_exec_stmt(st, SQL_RESEND_OUTBOX, s) < 0)
			goto fail;
		*queued = true;
	}
	return store_commit(st);
fail:
	store_rollback(st);
	return -1;
}
