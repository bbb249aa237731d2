/*
 * store_messages: the messages table, every SMS, USSD step and call in and
 * out, and the counts the rate limits and the loop check ask of it.
 */
#include "store_int.h"
#include "store_messages.h"

#include <string.h>

int store_msg_kind(const char *stored)
{
	int k = msg_kind_parse(stored);

	return k < 0 ? MSG_KIND_NONE : k;
}

static const char SQL_MSG_ADD[] =
    "INSERT INTO messages (channel, direction, phone, phone_key, text, raw, parts, modem, status, node,"
    " kind, session, error, reply_to, smsc_time, msg_ref, created_at, updated_at, sent_at, asked)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, ?18, ?19)";

int store_msg_add(struct store *st, const struct store_msg *m, int64_t *id)
{
	if (store_run(st, SQL_MSG_ADD, ST_TEXT(channel_name(m->channel)), ST_TEXT(direction_name(m->direction)),
		ST_TEXT(m->phone), ST_TEXT(m->phone), /* phone_key: the same normalised number */
		ST_TEXTN(m->text ? m->text : "", m->text ? m->text_len : 0), ST_BLOB(m->raw, m->raw_len),
		ST_INT(m->parts > 0 ? m->parts : 1), ST_TEXT(m->modem), ST_TEXT(msg_status_name(m->status)),
		ST_TEXT(m->node), ST_TEXT(msg_kind_name(m->kind)), ST_TEXT(m->session), ST_TEXT(m->error),
		ST_POS(m->reply_to), ST_POS(m->smsc_time), ST_POS(m->msg_ref),
		ST_INT(m->created_at ? m->created_at : now_unix()), ST_POS(m->sent_at), ST_INT(m->asked)) < 0)
		return -1;
	if (id)
		*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

static const char SQL_MSG_SET[] =
    "UPDATE messages SET status = coalesce(?2, status), node = coalesce(?3, node), updated_at = ?4"
    " WHERE id = ?1";

int store_msg_set(struct store *st, int64_t id, const char *status, const char *node)
{
	return store_run(st, SQL_MSG_SET, ST_INT(id), ST_TEXT(status), ST_TEXT(node), ST_INT(now_unix()));
}

void store_msg_read(sqlite3_stmt *s, struct store_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(s, 0);
	m->channel = (enum channel)channel_parse(store_col_text(s, 1));
	m->direction = (enum direction)direction_parse(store_col_text(s, 2));
	m->phone = store_col_text(s, 3);
	m->text = store_col_text(s, 4);
	m->text_len = (size_t)sqlite3_column_bytes(s, 4);
	m->raw = sqlite3_column_blob(s, 5);
	m->raw_len = (size_t)sqlite3_column_bytes(s, 5);
	m->parts = sqlite3_column_int(s, 6);
	m->modem = store_col_text(s, 7);
	m->status = (enum msg_status)msg_status_parse(store_col_text(s, 8));
	m->node = store_col_text(s, 9);
	m->kind = (enum msg_kind)store_msg_kind(store_col_text(s, 10));
	m->session = store_col_text(s, 11);
	m->error = store_col_text(s, 12);
	m->reply_to = sqlite3_column_int64(s, 13);
	m->smsc_time = sqlite3_column_int64(s, 14);
	m->created_at = sqlite3_column_int64(s, 15);
	m->sent_at = sqlite3_column_int64(s, 16);
	m->msg_ref = sqlite3_column_int(s, 17);
}

static const char SQL_MSG_EACH[] =
    "SELECT " STORE_MSG_COLUMNS " FROM messages"
    " WHERE (?1 IS NULL OR phone_key = ?1) AND (?2 IS NULL OR channel = ?2)"
    " AND (?3 = 0 OR created_at >= ?3) AND (?4 = 0 OR created_at < ?4) AND id > ?5"
    " ORDER BY CASE WHEN ?7 THEN -id ELSE id END LIMIT CASE WHEN ?6 > 0 THEN ?6 ELSE -1 END";
/*
 * The same for one phone: "phone_key = ?1" lets SQLite use messages_phone,
 * where "?1 IS NULL OR ..." makes it scan and sort the whole table (the loop
 * check runs this for nearly every SMS: O(table) per message otherwise).
 */
static const char SQL_MSG_EACH_PHONE[] =
    "SELECT " STORE_MSG_COLUMNS " FROM messages"
    " WHERE phone_key = ?1 AND (?2 IS NULL OR channel = ?2)"
    " AND (?3 = 0 OR created_at >= ?3) AND (?4 = 0 OR created_at < ?4) AND id > ?5"
    " ORDER BY CASE WHEN ?7 THEN -id ELSE id END LIMIT CASE WHEN ?6 > 0 THEN ?6 ELSE -1 END";

int store_msg_each(
    struct store *st, const struct store_msg_filter *f, int (*fn)(const struct store_msg *m, void *arg), void *arg)
{
	const char *sql = f->phone ? SQL_MSG_EACH_PHONE : SQL_MSG_EACH;
	sqlite3_stmt *s = store_query(st, sql, ST_TEXT(f->phone), ST_TEXT(f->channel), ST_INT(f->since),
	    ST_INT(f->until), ST_INT(f->after_id), ST_INT(f->limit), ST_INT(f->newest_first));
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

static const char SQL_MSG_COUNT[] =
    "SELECT count(*) FROM messages WHERE (?1 IS NULL OR phone_key = ?1) AND (?2 IS NULL OR channel = ?2)"
    " AND (?3 = 0 OR created_at >= ?3) AND (?4 = 0 OR created_at < ?4) AND id <> ?5";

int store_msg_count(struct store *st, const struct store_msg_filter *f, int64_t exclude_id, int *count)
{
	return store_count(st, SQL_MSG_COUNT, count, ST_TEXT(f->phone), ST_TEXT(f->channel), ST_INT(f->since),
	    ST_INT(f->until), ST_INT(exclude_id));
}

static const char SQL_REPLIES_SINCE[] =
    "SELECT count(*) FROM messages WHERE phone_key = ?1 AND direction = 'out' AND created_at >= ?2"
    " AND kind = 'reply' AND channel = 'sms' AND asked = 0";

int store_replies_since(struct store *st, const char *phone, int64_t since, int *count)
{
	return store_count(st, SQL_REPLIES_SINCE, count, ST_TEXT(phone), ST_INT(since));
}

static const char SQL_REPLIES_TWO[] =
    "SELECT coalesce(sum(created_at >= ?3), 0), count(*) FROM messages WHERE phone_key = ?1"
    " AND direction = 'out' AND created_at >= ?2 AND kind = 'reply' AND channel = 'sms' AND asked = 0";

int store_replies_two(
    struct store *st, const char *phone, int64_t since_long, int64_t since_short, int *short_count, int *long_count)
{
	sqlite3_stmt *s = store_query(st, SQL_REPLIES_TWO, ST_TEXT(phone), ST_INT(since_long), ST_INT(since_short));
	int rc;

	if (s == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*short_count = sqlite3_column_int(s, 0);
		*long_count = sqlite3_column_int(s, 1);
	}
	return store_end(st, SQL_REPLIES_TWO, s, rc);
}

static const char SQL_NOTICES_SINCE[] =
    "SELECT count(*) FROM messages WHERE phone_key = ?1 AND direction = 'out' AND created_at >= ?2"
    " AND kind = 'notice' AND (?3 IS NULL OR node = ?3)";

int store_notices_since(struct store *st, const char *phone, int64_t since, const char *node, int *count)
{
	return store_count(st, SQL_NOTICES_SINCE, count, ST_TEXT(phone), ST_INT(since), ST_TEXT(node));
}

static const char SQL_SAME_TEXT[] =
    "SELECT count(*) FROM messages WHERE phone_key = ?1 AND direction = 'in' AND created_at >= ?2"
    " AND text = ?3 AND id <> ?4 AND status = 'answered'";

int store_same_text_since(
    struct store *st, const char *phone, const char *text, int64_t since, int64_t exclude_id, int *answered)
{
	return store_count(
	    st, SQL_SAME_TEXT, answered, ST_TEXT(phone), ST_INT(since), ST_TEXT(text), ST_INT(exclude_id));
}
