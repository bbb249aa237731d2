/*
 * store_outbox: the outbox table (and outbox_progress beside it): queueing,
 * the claim a sender makes before it sends, and what becomes of a send.
 */
#include "store_int.h"
#include "store_outbox.h"

#include <stdio.h>
#include <stdlib.h>

/*
 * Held notifications (queued, not yet due, not being sent) to a phone about
 * one case (their node): marked superseded and taken out of the outbox.
 */
static const char SQL_NOTIFY_SUPERSEDE[] =
    "UPDATE messages SET status = 'superseded', updated_at = ?4 WHERE id IN (SELECT m.id FROM messages m"
    " JOIN outbox o ON o.message_id = m.id WHERE m.phone_key = ?1 AND m.node = ?2 AND m.kind = 'notify'"
    " AND m.direction = 'out' AND o.sending = 0 AND o.not_before > ?3)";
static const char SQL_OUTBOX_DROP_SUPERSEDED[] =
    "DELETE FROM outbox WHERE message_id IN (SELECT id FROM messages WHERE phone_key = ?1 AND node = ?2"
    " AND status = 'superseded')";

int store_notify_supersede(struct store *st, const char *phone, const char *node, int64_t now, int *n)
{
	*n = 0;
	if (store_run(st, SQL_NOTIFY_SUPERSEDE, ST_TEXT(phone), ST_TEXT(node), ST_INT(now), ST_INT(now)) < 0)
		return -1;
	*n = sqlite3_changes(st->db);
	if (*n == 0)
		return 0;
	return store_run(st, SQL_OUTBOX_DROP_SUPERSEDED, ST_TEXT(phone), ST_TEXT(node));
}

static const char SQL_OUTBOX_ADD[] =
    "INSERT INTO outbox (message_id, modem, priority, not_before) VALUES (?1, ?2, ?3, ?4)";

int store_outbox_add(struct store *st, int64_t msg_id, const char *modem, int priority, int64_t not_before)
{
	return store_run(st, SQL_OUTBOX_ADD, ST_INT(msg_id), ST_TEXT(modem && *modem ? modem : NULL), ST_INT(priority),
	    ST_INT(not_before));
}

/*
 * Broadcast messages (kind 'broadcast') are claimed only while the claiming
 * modem has sent fewer than ?4 of them in the last minute (0: no limit).
 */
static const char SQL_OUTBOX_DUE[] =
    "SELECT o.message_id, m.phone, m.text, o.attempts, m.kind, p.concat_ref, p.parts_done FROM outbox o"
    " JOIN messages m ON m.id = o.message_id LEFT JOIN outbox_progress p ON p.message_id = o.message_id"
    " WHERE o.sending = 0 AND o.not_before <= ?2 AND (o.modem = ?1 OR (?1 IS NULL AND o.modem IS NULL))"
    " AND (coalesce(m.kind, '') <> 'broadcast' OR ?4 <= 0 OR (SELECT count(*) FROM messages b WHERE b.kind = 'broadcast'"
    "  AND b.modem = ?5 AND b.sent_at > ?2 - 60) < ?4)"
    " ORDER BY o.priority DESC, o.not_before, o.message_id LIMIT ?3";
static const char SQL_OUTBOX_MARK[] =
    "UPDATE outbox SET sending = 1, attempts = attempts + 1, modem = ?2 WHERE message_id = ?1";
static const char SQL_MSG_SENDING[] =
    "UPDATE messages SET status = 'sending', modem = ?2, updated_at = ?3 WHERE id = ?1";

int store_outbox_claim(
    struct store *st, const char *for_modem, const char *by, int64_t now, struct store_send *out, size_t max, size_t *n)
{
	sqlite3_stmt *s;
	int rc;

	*n = 0;
	if (store_begin(st) < 0)
		return -1;
	s = store_query(st, SQL_OUTBOX_DUE, ST_TEXT(for_modem), ST_INT(now), ST_INT((int64_t)max),
	    ST_INT(st->bcast_rate), ST_TEXT(by));
	if (s == NULL)
		return store_finish(st, -1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
		struct store_send *o = &out[*n];
		o->id = sqlite3_column_int64(s, 0);
		snprintf(o->phone, sizeof(o->phone), "%s", store_col_text(s, 1));
		o->text = xstrndup(store_col_text(s, 2), (size_t)sqlite3_column_bytes(s, 2));
		snprintf(o->modem, sizeof(o->modem), "%s", by);
		o->attempts = sqlite3_column_int(s, 3) + 1;
		o->kind = (enum msg_kind)store_msg_kind(store_col_text(s, 4));
		o->concat_ref = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 5);
		o->parts_done = sqlite3_column_type(s, 6) == SQLITE_NULL ? 0 : sqlite3_column_int(s, 6);
		(*n)++;
	}
	rc = store_end(st, SQL_OUTBOX_DUE, s, rc);
	for (size_t i = 0; i < *n && rc == 0; i++)
		if (store_run(st, SQL_OUTBOX_MARK, ST_INT(out[i].id), ST_TEXT(by)) < 0 ||
		    store_run(st, SQL_MSG_SENDING, ST_INT(out[i].id), ST_TEXT(by), ST_INT(now)) < 0)
			rc = -1;
	/* the claim is committed before any send; a claim that did not commit claims nothing */
	if (store_finish(st, rc) < 0) {
		store_sends_free(out, *n);
		*n = 0;
		return -1;
	}
	return 0;
}

void store_outbox_broadcast_rate(struct store *st, int per_minute)
{
	st->bcast_rate = per_minute;
}

void store_sends_free(struct store_send *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].text);
		s[i].text = NULL;
	}
}

static const char SQL_MSG_SENT[] =
    "UPDATE messages SET status = 'sent', parts = ?2, msg_ref = ?3, sent_at = ?4, updated_at = ?4,"
    " error = NULL WHERE id = ?1";
static const char SQL_OUTBOX_DEL[] = "DELETE FROM outbox WHERE message_id = ?1";
static const char SQL_PROGRESS_DEL[] = "DELETE FROM outbox_progress WHERE message_id = ?1";

/* The message leaves the outbox, and its progress with it. */
static int outbox_delete(struct store *st, int64_t id)
{
	if (store_run(st, SQL_OUTBOX_DEL, ST_INT(id)) < 0)
		return -1;
	return store_run(st, SQL_PROGRESS_DEL, ST_INT(id));
}

int store_outbox_sent(struct store *st, int64_t id, int parts, int msg_ref, int64_t now)
{
	int rc;

	if (store_begin(st) < 0)
		return -1;
	rc = store_run(st, SQL_MSG_SENT, ST_INT(id), ST_INT(parts), ST_KNOWN(msg_ref), ST_INT(now));
	if (rc == 0)
		rc = outbox_delete(st, id);
	return store_finish(st, rc);
}

static const char SQL_OUTBOX_REQUEUE[] = "UPDATE outbox SET sending = 0, not_before = ?2 WHERE message_id = ?1";
static const char SQL_MSG_QUEUED[] = "UPDATE messages SET status = 'queued', error = ?2, updated_at = ?3 WHERE id = ?1";

static const char SQL_OUTBOX_PROGRESS[] =
    "INSERT OR REPLACE INTO outbox_progress (message_id, concat_ref, parts_done) VALUES (?1, ?2, ?3)";

int store_outbox_retry(struct store *st, int64_t id, int64_t not_before, const char *error)
{
	return store_outbox_retry_from(st, id, not_before, error, -2, 0);
}

int store_outbox_retry_from(
    struct store *st, int64_t id, int64_t not_before, const char *error, int concat_ref, int parts_done)
{
	int rc;

	if (store_begin(st) < 0)
		return -1;
	rc = store_run(st, SQL_OUTBOX_REQUEUE, ST_INT(id), ST_INT(not_before));
	/* store_outbox_retry (-2) leaves the recorded progress as it is */
	if (rc == 0 && concat_ref != -2)
		rc = store_run(st, SQL_OUTBOX_PROGRESS, ST_INT(id), ST_KNOWN(concat_ref), ST_INT(parts_done));
	if (rc == 0)
		rc = store_run(st, SQL_MSG_QUEUED, ST_INT(id), ST_TEXT(error), ST_INT(now_unix()));
	return store_finish(st, rc);
}

static const char SQL_MSG_FAILED[] = "UPDATE messages SET status = 'failed', error = ?2, updated_at = ?3 WHERE id = ?1";

int store_outbox_failed(struct store *st, int64_t id, const char *error)
{
	int rc;

	if (store_begin(st) < 0)
		return -1;
	rc = store_run(st, SQL_MSG_FAILED, ST_INT(id), ST_TEXT(error), ST_INT(now_unix()));
	if (rc == 0)
		rc = outbox_delete(st, id);
	return store_finish(st, rc);
}

static const char SQL_RECOVER_MSG[] =
    "UPDATE messages SET status = 'queued', uncertain = uncertain + 1, updated_at = ?1"
    " WHERE id IN (SELECT message_id FROM outbox WHERE sending = 1)";
static const char SQL_RECOVER_OUTBOX[] = "UPDATE outbox SET sending = 0 WHERE sending = 1";

int store_outbox_recover(struct store *st, int *n)
{
	int rc;

	*n = 0;
	if (store_begin(st) < 0)
		return -1;
	rc = store_run(st, SQL_RECOVER_MSG, ST_INT(now_unix()));
	if (rc == 0) {
		*n = sqlite3_changes(st->db);
		rc = store_run_a(st, SQL_RECOVER_OUTBOX, NULL);
	}
	return store_finish(st, rc);
}

static const char SQL_OUTBOX_STATS[] =
    "SELECT count(*), coalesce(min(CASE WHEN o.not_before <= ?1 THEN m.created_at END), 0)"
    " FROM outbox o JOIN messages m ON m.id = o.message_id";

int store_outbox_stats(struct store *st, int64_t now, int *depth, int64_t *oldest_age)
{
	sqlite3_stmt *s = store_query(st, SQL_OUTBOX_STATS, ST_INT(now));
	int rc;

	if (s == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t oldest = sqlite3_column_int64(s, 1);
		*depth = sqlite3_column_int(s, 0);
		*oldest_age = oldest > 0 && oldest < now ? now - oldest : 0;
	}
	return store_end(st, SQL_OUTBOX_STATS, s, rc);
}

static const char SQL_OUTBOX_NEXT[] = "SELECT min(not_before) FROM outbox WHERE sending = 0";

int store_outbox_next_due(struct store *st, int64_t now, int64_t *wait)
{
	sqlite3_stmt *s = store_query_a(st, SQL_OUTBOX_NEXT, NULL);
	int rc;

	*wait = INT64_MAX;
	if (s == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		int64_t t = sqlite3_column_int64(s, 0);
		*wait = t > now ? t - now : 0;
	}
	return store_end(st, SQL_OUTBOX_NEXT, s, rc);
}
