#include "store_int.h"
#include "store_contacts.h"

#include <stdio.h>
#include <string.h>


static const char *nz(const char *s)
{
	return s && *s ? s : NULL;
}

/* ---- contacts ------------------------------------------------------------------- */

static const char SQL_CONTACT_INSERT[] =
    "INSERT INTO contacts (phone, name, town, village, source, created_at, updated_at)"
    " VALUES (?1, ?3, ?4, ?5, ?6, ?7, ?7)"
    " ON CONFLICT (phone) DO UPDATE SET"
    "  name = CASE WHEN ?8 THEN coalesce(?3, name) ELSE coalesce(nullif(name, ''), ?3) END,"
    "  town = CASE WHEN ?8 THEN coalesce(?4, town) ELSE coalesce(nullif(town, ''), ?4) END,"
    "  village = CASE WHEN ?8 THEN coalesce(?5, village) ELSE coalesce(nullif(village, ''), ?5) END,"
    "  updated_at = ?7";
static const char SQL_CONTACT_ID[] = "SELECT id FROM contacts WHERE phone = ?1";

int store_contact_upsert(struct store *st, const struct store_contact *c, bool overwrite, int64_t now,
    int64_t *id, bool *created)
{
	int64_t before, after;

	if (store_get_int(st, SQL_CONTACT_ID, &before, ST_TEXT(c->phone)) < 0)
		return -1;
	/* ?2 is not used */
	if (store_run(st, SQL_CONTACT_INSERT, ST_TEXT(c->phone), ST_NULL, ST_TEXT(nz(c->name)), ST_TEXT(nz(c->town)),
		ST_TEXT(nz(c->village)), ST_TEXT(c->source ? c->source : "roster"), ST_INT(now), ST_INT(overwrite)) < 0)
		return -1;
	if (store_get_int(st, SQL_CONTACT_ID, &after, ST_TEXT(c->phone)) < 0)
		return -1;
	if (id)
		*id = after;
	if (created)
		*created = before == 0;
	return 0;
}

static const char SQL_GROUP_ADD[] = "INSERT OR IGNORE INTO contact_groups (contact_id, grp) VALUES (?1, ?2)";

int store_contact_group_add(struct store *st, int64_t id, const char *grp)
{
	return store_run(st, SQL_GROUP_ADD, ST_INT(id), ST_TEXT(grp));
}

static const char SQL_CONTACT_OPT[] =
    "UPDATE contacts SET opted_out = ?2, opted_out_at = CASE WHEN ?2 THEN ?3 ELSE NULL END, updated_at = ?3"
    " WHERE phone = ?1";

int store_contact_opt(struct store *st, const char *phone, bool out, int64_t now, bool *found)
{
	if (store_run(st, SQL_CONTACT_OPT, ST_TEXT(phone), ST_INT(out), ST_INT(now)) < 0)
		return -1;
	*found = sqlite3_changes(st->db) > 0;
	return 0;
}

static const char SQL_CONTACT_EACH[] =
    "SELECT c.id, c.phone, c.name, c.town, c.village, c.source, c.opted_out, c.opted_out_at, c.created_at,"
    " c.updated_at, (SELECT group_concat(grp, ',') FROM (SELECT grp FROM contact_groups g"
    "  WHERE g.contact_id = c.id ORDER BY grp))"
    " FROM contacts c"
    " WHERE (?1 IS NULL OR c.phone = ?1) AND (?3 IS NULL OR c.town = ?3) AND (?4 IS NULL OR c.village = ?4)"
    " AND (?2 IS NULL OR EXISTS (SELECT 1 FROM contact_groups g WHERE g.contact_id = c.id AND g.grp = ?2))"
    " ORDER BY c.id LIMIT CASE WHEN ?5 > 0 THEN ?5 ELSE -1 END";

int store_contact_each(struct store *st, const struct store_contact_filter *f,
    int (*fn)(const struct store_contact *c, void *arg), void *arg)
{
	sqlite3_stmt *s = store_query(st, SQL_CONTACT_EACH, ST_TEXT(f->phone), ST_TEXT(f->group), ST_TEXT(f->town),
	    ST_TEXT(f->village), ST_INT(f->limit));
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_contact c;
		memset(&c, 0, sizeof(c));
		c.id = sqlite3_column_int64(s, 0);
		c.phone = store_col_text(s, 1);
		c.name = store_col_text(s, 2);
		c.town = store_col_text(s, 3);
		c.village = store_col_text(s, 4);
		c.source = store_col_text(s, 5);
		c.opted_out = sqlite3_column_int(s, 6) != 0;
		c.opted_out_at = sqlite3_column_int64(s, 7);
		c.created_at = sqlite3_column_int64(s, 8);
		c.updated_at = sqlite3_column_int64(s, 9);
		c.groups = store_col_text(s, 10);
		if (fn(&c, arg))
			break;
	}
	return store_end(st, SQL_CONTACT_EACH, s, rc);
}

static const char SQL_GROUPS[] =
    "SELECT g.grp, count(*), coalesce(sum(c.opted_out), 0) FROM contact_groups g JOIN contacts c ON c.id = g.contact_id"
    " GROUP BY g.grp ORDER BY g.grp";

int store_contact_groups(struct store *st, int (*fn)(const char *grp, int n, int opted_out, void *arg), void *arg)
{
	sqlite3_stmt *s = store_query_a(st, SQL_GROUPS, NULL);
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (fn(store_col_text(s, 0), sqlite3_column_int(s, 1), sqlite3_column_int(s, 2), arg))
			break;
	return store_end(st, SQL_GROUPS, s, rc);
}

/* ---- broadcasts ----------------------------------------------------------------- */

static const char SQL_BCAST_ADD[] =
    "INSERT INTO broadcasts (kind, text, audience, status, start_at, created_by, created_at, approved_by,"
    " approved_at, updated_at, dedup) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?7, ?10)"
    " ON CONFLICT (dedup) DO NOTHING";

int store_broadcast_add(struct store *st, const struct store_broadcast *b, int64_t *id)
{
	if (store_run(st, SQL_BCAST_ADD, ST_TEXT(b->kind ? b->kind : "broadcast"), ST_TEXT(b->text),
		ST_TEXT(b->audience), ST_TEXT(b->status), ST_INT(b->start_at), ST_TEXT(b->created_by),
		ST_INT(b->created_at), ST_TEXT(b->approved_by), ST_POS(b->approved_at), ST_TEXT(b->dedup)) < 0)
		return -1;
	*id = sqlite3_changes(st->db) > 0 ? sqlite3_last_insert_rowid(st->db) : 0;
	return 0;
}

static const char SQL_RCPT_ADD[] =
    "INSERT INTO broadcast_recipients (broadcast_id, seq, contact_id, phone, status, reason)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

int store_broadcast_recipient_add(struct store *st, int64_t bid, int seq, int64_t contact_id, const char *phone,
    const char *status, const char *reason)
{
	return store_run(st, SQL_RCPT_ADD, ST_INT(bid), ST_INT(seq), ST_POS(contact_id), ST_TEXT(phone),
	    ST_TEXT(status), ST_TEXT(reason));
}

static const char SQL_BCAST_EACH[] =
    "SELECT id, kind, text, audience, status, start_at, created_by, approved_by, created_at, approved_at,"
    " updated_at, done_at, dedup FROM broadcasts WHERE (?1 = 0 OR id = ?1) ORDER BY id DESC";

int store_broadcast_each(struct store *st, int64_t id, int (*fn)(const struct store_broadcast *b, void *arg),
    void *arg)
{
	sqlite3_stmt *s = store_query(st, SQL_BCAST_EACH, ST_INT(id));
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_broadcast b;
		memset(&b, 0, sizeof(b));
		b.id = sqlite3_column_int64(s, 0);
		b.kind = store_col_text(s, 1);
		b.text = store_col_text(s, 2);
		b.audience = store_col_text(s, 3);
		b.status = store_col_text(s, 4);
		b.start_at = sqlite3_column_int64(s, 5);
		b.created_by = store_col_text(s, 6);
		b.approved_by = store_col_text(s, 7);
		b.created_at = sqlite3_column_int64(s, 8);
		b.approved_at = sqlite3_column_int64(s, 9);
		b.updated_at = sqlite3_column_int64(s, 10);
		b.done_at = sqlite3_column_int64(s, 11);
		b.dedup = store_col_text(s, 12);
		if (fn(&b, arg))
			break;
	}
	return store_end(st, SQL_BCAST_EACH, s, rc);
}

static const char SQL_BCAST_SET[] =
    "UPDATE broadcasts SET status = ?2, approved_by = coalesce(?3, approved_by),"
    " approved_at = CASE WHEN ?3 IS NULL THEN approved_at ELSE ?4 END,"
    " done_at = CASE WHEN ?5 > 0 THEN ?5 ELSE done_at END, updated_at = ?4 WHERE id = ?1";

int store_broadcast_set(struct store *st, int64_t id, const char *status, const char *approved_by, int64_t at,
    int64_t done_at)
{
	return store_run(
	    st, SQL_BCAST_SET, ST_INT(id), ST_TEXT(status), ST_TEXT(approved_by), ST_INT(at), ST_INT(done_at));
}

/* A recipient's state: its own until queued, then its message's (and the message's delivery report). */
#define RCPT_STATE \
	"CASE WHEN r.status <> 'queued' THEN r.status WHEN m.id IS NULL THEN 'queued'" \
	" WHEN m.status IN ('queued', 'sending', 'failed') THEN m.status" \
	" WHEN d.state = 'delivered' THEN 'delivered' WHEN d.state IN ('failed', 'rejected') THEN 'failed'" \
	" ELSE 'sent' END"
#define RCPT_REASON \
	"CASE WHEN r.status <> 'queued' THEN r.reason WHEN m.status = 'failed' THEN m.error" \
	" WHEN d.state IN ('failed', 'rejected') THEN 'the delivery report says not delivered' END"

static const char SQL_BCAST_COUNTS[] =
    "SELECT " RCPT_STATE ", count(*) FROM broadcast_recipients r LEFT JOIN messages m ON m.id = r.message_id" \
    " LEFT JOIN deliveries d ON d.message_id = r.message_id"
    " WHERE r.broadcast_id = ?1 GROUP BY 1";

int store_broadcast_counts(struct store *st, int64_t bid, struct store_bcast_counts *c)
{
	sqlite3_stmt *s = store_query(st, SQL_BCAST_COUNTS, ST_INT(bid));
	int rc;

	memset(c, 0, sizeof(*c));
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *k = store_col_text(s, 0);
		int n = sqlite3_column_int(s, 1);
		c->total += n;
		if (strcmp(k, "pending") == 0)
			c->pending += n;
		else if (strcmp(k, "queued") == 0)
			c->queued += n;
		else if (strcmp(k, "sending") == 0)
			c->sending += n;
		else if (strcmp(k, "sent") == 0)
			c->sent += n;
		else if (strcmp(k, "delivered") == 0)
			c->delivered += n;
		else if (strcmp(k, "failed") == 0)
			c->failed += n;
		else if (strcmp(k, "skipped") == 0)
			c->skipped += n;
		else if (strcmp(k, "cancelled") == 0)
			c->cancelled += n;
	}
	return store_end(st, SQL_BCAST_COUNTS, s, rc);
}

static int each_recipient(struct store *st, const char *sql, sqlite3_stmt *s,
    int (*fn)(const struct store_recipient *r, void *arg), void *arg)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_recipient r;
		memset(&r, 0, sizeof(r));
		r.seq = sqlite3_column_int(s, 0);
		r.contact_id = sqlite3_column_int64(s, 1);
		r.phone = store_col_text(s, 2);
		r.state = store_col_text(s, 3);
		r.reason = store_col_text(s, 4);
		r.message_id = sqlite3_column_int64(s, 5);
		if (fn(&r, arg))
			break;
	}
	return store_end(st, sql, s, rc);
}

static const char SQL_RCPT_EACH[] =
    "SELECT r.seq, r.contact_id, r.phone, " RCPT_STATE ", " RCPT_REASON ", r.message_id"
    " FROM broadcast_recipients r LEFT JOIN messages m ON m.id = r.message_id"
    " LEFT JOIN deliveries d ON d.message_id = r.message_id"
    " WHERE r.broadcast_id = ?1 AND r.seq > ?2 ORDER BY r.seq LIMIT CASE WHEN ?3 > 0 THEN ?3 ELSE -1 END";

int store_broadcast_recipients(struct store *st, int64_t bid, int after_seq, int limit,
    int (*fn)(const struct store_recipient *r, void *arg), void *arg)
{
	sqlite3_stmt *s = store_query(st, SQL_RCPT_EACH, ST_INT(bid), ST_INT(after_seq), ST_INT(limit));

	if (s == NULL)
		return -1;
	return each_recipient(st, SQL_RCPT_EACH, s, fn, arg);
}

static const char SQL_RCPT_PENDING[] =
    "SELECT seq, contact_id, phone, status, reason, message_id FROM broadcast_recipients"
    " WHERE broadcast_id = ?1 AND status = 'pending' ORDER BY seq LIMIT ?2";

int store_broadcast_pending(struct store *st, int64_t bid, int max,
    int (*fn)(const struct store_recipient *r, void *arg), void *arg)
{
	sqlite3_stmt *s = store_query(st, SQL_RCPT_PENDING, ST_INT(bid), ST_INT(max));

	if (s == NULL)
		return -1;
	return each_recipient(st, SQL_RCPT_PENDING, s, fn, arg);
}

static const char SQL_RCPT_SET[] =
    "UPDATE broadcast_recipients SET status = ?3, reason = ?4, message_id = ?5 WHERE broadcast_id = ?1 AND seq = ?2";

int store_broadcast_recipient_set(struct store *st, int64_t bid, int seq, const char *status, const char *reason,
    int64_t msg_id)
{
	return store_run(st, SQL_RCPT_SET, ST_INT(bid), ST_INT(seq), ST_TEXT(status), ST_TEXT(reason), ST_POS(msg_id));
}

static const char SQL_BCAST_OUTSTANDING[] =
    "SELECT count(*) FROM broadcast_recipients r JOIN outbox o ON o.message_id = r.message_id"
    " WHERE r.broadcast_id = ?1 AND r.status = 'queued'";

int store_broadcast_outstanding(struct store *st, int64_t bid, int *n)
{
	return store_count(st, SQL_BCAST_OUTSTANDING, n, ST_INT(bid));
}

/* Unclaimed outbox rows of the broadcast go, then their never-sent messages, then the recipients point at nothing. */
static const char SQL_UNQ_OUTBOX[] =
    "DELETE FROM outbox WHERE sending = 0 AND message_id IN"
    " (SELECT message_id FROM broadcast_recipients WHERE broadcast_id = ?1 AND status = 'queued')";
static const char SQL_UNQ_MSG[] =
    "DELETE FROM messages WHERE status = 'queued' AND id IN"
    " (SELECT message_id FROM broadcast_recipients WHERE broadcast_id = ?1 AND status = 'queued')"
    " AND id NOT IN (SELECT message_id FROM outbox)";
static const char SQL_UNQ_RCPT[] =
    "UPDATE broadcast_recipients SET status = ?2, message_id = NULL WHERE broadcast_id = ?1 AND status = 'queued'"
    " AND message_id NOT IN (SELECT id FROM messages)";
static const char SQL_CANCEL_PENDING[] =
    "UPDATE broadcast_recipients SET status = 'cancelled' WHERE broadcast_id = ?1 AND status = 'pending'";

/* The statements of a broadcast's unqueueing: ?1 the broadcast, ?2 (SQL_UNQ_RCPT only) the new status. */
static int run_bid(struct store *st, const char *sql, int64_t bid, const char *text)
{
	if (text)
		return store_run(st, sql, ST_INT(bid), ST_TEXT(text));
	return store_run(st, sql, ST_INT(bid));
}

int store_broadcast_unqueue(struct store *st, int64_t bid, const char *to, int *n)
{
	*n = 0;
	if (run_bid(st, SQL_UNQ_OUTBOX, bid, NULL) < 0 || run_bid(st, SQL_UNQ_MSG, bid, NULL) < 0 ||
	    run_bid(st, SQL_UNQ_RCPT, bid, to) < 0)
		return -1;
	*n = sqlite3_changes(st->db);
	if (strcmp(to, "cancelled") == 0) {
		if (run_bid(st, SQL_CANCEL_PENDING, bid, NULL) < 0)
			return -1;
		*n += sqlite3_changes(st->db);
	}
	return 0;
}

/* After the replies (priority -1), through any modem. */
static const char SQL_OUTBOX_ADD_BCAST[] =
    "INSERT INTO outbox (message_id, modem, priority, not_before) VALUES (?1, NULL, -1, ?2)";

int store_outbox_add_broadcast(struct store *st, int64_t msg_id, int64_t not_before)
{
	return store_run(st, SQL_OUTBOX_ADD_BCAST, ST_INT(msg_id), ST_INT(not_before));
}

/* The outbox is short: a look at each row's message beats an index. */
static const char SQL_HOLD[] =
    "UPDATE outbox SET not_before = ?1 WHERE sending = 0 AND not_before < ?1"
    " AND (SELECT kind FROM messages m WHERE m.id = outbox.message_id) = 'broadcast'";

int store_outbox_hold_broadcasts(struct store *st, int64_t until, int *n)
{
	*n = 0;
	if (store_run(st, SQL_HOLD, ST_INT(until)) < 0)
		return -1;
	*n = sqlite3_changes(st->db);
	return 0;
}

/* ---- delivery reports ------------------------------------------------------------ */

/* A final state stays; an intermediate one (buffered) only fills an empty or intermediate one (as Kannel's). */
static const char SQL_DLR_MATCH[] =
    "SELECT m.id FROM messages m LEFT JOIN deliveries d ON d.message_id = m.id"
    " WHERE m.phone_key = ?1 AND m.direction = 'out' AND m.channel = 'sms' AND m.modem = ?2 AND m.msg_ref = ?3"
    " AND m.status = 'sent' AND (d.state IS NULL OR d.state IN ('accepted', 'buffered'))"
    " ORDER BY m.sent_at DESC, m.id DESC LIMIT 1";
static const char SQL_DLR_SET[] =
    "INSERT INTO deliveries (message_id, state, at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (message_id) DO UPDATE SET state = ?2, at = ?3";

int store_dlr_match(struct store *st, const char *modem, const char *phone, int ref, const char *dlr, int64_t at,
    int64_t *matched)
{
	if (store_get_int(st, SQL_DLR_MATCH, matched, ST_TEXT(phone), ST_TEXT(modem), ST_INT(ref)) < 0)
		return -1;
	if (*matched == 0)
		return 0;
	return store_run(st, SQL_DLR_SET, ST_INT(*matched), ST_TEXT(dlr), ST_INT(at));
}
