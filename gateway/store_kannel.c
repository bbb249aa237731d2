#include "store_int.h"
#include "store_kannel.h"

#include <stdio.h>

static const char SQL_KEY_FIND[] = "SELECT message_id FROM inbound_keys WHERE channel = ?1 AND key = ?2";

int store_inbound_key_find(struct store *st, const char *channel, const char *key, int64_t *message_id)
{
	return store_get_int(st, SQL_KEY_FIND, message_id, ST_TEXT(channel), ST_TEXT(key));
}

static const char SQL_KEY_ADD[] =
    "INSERT INTO inbound_keys (channel, key, message_id, at) VALUES (?1, ?2, ?3, ?4)";

int store_inbound_key_add(struct store *st, const char *channel, const char *key, int64_t message_id, int64_t at)
{
	return store_run(st, SQL_KEY_ADD, ST_TEXT(channel), ST_TEXT(key), ST_INT(message_id), ST_INT(at));
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
	int64_t found;
	int rc;

	*matched = false;
	if (store_begin(st) < 0)
		return -1;
	rc = store_get_int(st, SQL_DELIVERY_MATCH, &found, ST_INT(id), ST_TEXT(channel));
	*matched = rc == 0 && found;
	if (*matched)
		rc = store_run(st, SQL_DELIVERY_SET, ST_INT(id), ST_TEXT(delivery), ST_INT(at), ST_INT(final));
	return store_finish(st, rc);
}

static const char SQL_DELIVERY_GET[] = "SELECT state FROM deliveries WHERE message_id = ?1";

int store_delivery_get(struct store *st, int64_t id, char *out, size_t outlen)
{
	sqlite3_stmt *s = store_query(st, SQL_DELIVERY_GET, ST_INT(id));
	int rc;

	if (outlen)
		out[0] = '\0';
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		snprintf(out, outlen, "%s", store_col_text(s, 0));
	return store_end(st, SQL_DELIVERY_GET, s, rc);
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
	sqlite3_stmt *s = store_query(st, SQL_UNACKED, ST_TEXT(channel), ST_INT(since), ST_INT(before),
	    ST_INT(max_resends), ST_INT((int64_t)max));
	int rc;

	*n = 0;
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max)
		ids[(*n)++] = sqlite3_column_int64(s, 0);
	return store_end(st, SQL_UNACKED, s, rc);
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
	int rc;

	*queued = false;
	if (store_begin(st) < 0)
		return -1;
	rc = store_run(st, SQL_RESEND_MSG, ST_INT(id), ST_INT(now));
	if (rc == 0 && sqlite3_changes(st->db) == 1) {
		rc = store_run(st, SQL_RESEND_OUTBOX, ST_INT(id), ST_TEXT(channel), ST_INT(now));
		*queued = rc == 0;
	}
	return store_finish(st, rc);
}
