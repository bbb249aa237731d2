/*
 * store_parts: the inbox_parts table, each SMS part as read from a phone,
 * stored before it is deleted there, and the groups of parts that make one
 * message.
 */
#include "store_int.h"
#include "store_parts.h"

#include <stdio.h>
#include <string.h>

static const char SQL_PART_ADD[] =
    "INSERT OR IGNORE INTO inbox_parts (modem, sender, smsc_time, ref, ref_bits, total, seq, digest, text,"
    " raw, kind, received_at, message_id, location) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

static const char SQL_PART_SEEN[] =
    "SELECT count(*) FROM inbox_parts WHERE modem = ?1 AND sender = ?2 AND smsc_time = ?3 AND ref = ?4"
    " AND seq = ?5 AND digest = ?6 AND location = ?7 AND gone = 0";

static int64_t part_digest(const struct store_part *p)
{
	uint64_t d = p->raw ? hash64(p->raw, p->raw_len) : hash64(p->text, p->text_len);

	return (int64_t)(d >> 1);
}

int store_part_seen(struct store *st, const struct store_part *p, bool *seen)
{
	int n;

	if (store_count(st, SQL_PART_SEEN, &n, ST_TEXT(p->modem), ST_TEXT(p->sender), ST_INT(p->smsc_time),
		ST_INT(p->ref), ST_INT(p->seq), ST_INT(part_digest(p)), ST_INT(p->location)) < 0)
		return -1;
	*seen = n > 0;
	return 0;
}

int store_part_add(struct store *st, const struct store_part *p, bool *inserted)
{
	if (store_run(st, SQL_PART_ADD, ST_TEXT(p->modem), ST_TEXT(p->sender), ST_INT(p->smsc_time), ST_INT(p->ref),
		ST_INT(p->ref_bits), ST_INT(p->total), ST_INT(p->seq), ST_INT(part_digest(p)),
		ST_TEXTN(p->text, p->text_len), ST_BLOB(p->raw, p->raw_len), ST_TEXT(p->kind),
		ST_INT(p->received_at ? p->received_at : now_unix()), ST_POS(p->message_id), ST_INT(p->location)) < 0)
		return -1;
	*inserted = sqlite3_changes(st->db) > 0;
	return 0;
}

static const char SQL_PART_GONE[] = "UPDATE inbox_parts SET gone = id WHERE modem = ?1 AND location = ?2 AND gone = 0";

int store_parts_gone(struct store *st, const char *modem, const int *locations, size_t n)
{
	int rc = 0;

	if (n == 0)
		return 0;
	if (store_begin(st) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = store_run(st, SQL_PART_GONE, ST_TEXT(modem), ST_INT(locations[i]));
	return store_finish(st, rc);
}

static const char SQL_GROUP_LOAD[] =
    "SELECT seq, text, received_at, smsc_time, kind FROM inbox_parts WHERE message_id IS NULL"
    " AND modem = ?1 AND sender = ?2 AND ref = ?3 AND ref_bits = ?4 AND total = ?5 ORDER BY seq, id";

int store_group_load(
    struct store *st, const char *modem, const char *sender, int ref, int ref_bits, int total, struct store_group *g)
{
	sqlite3_stmt *s;
	int rc, last_seq = -1;

	memset(g, 0, sizeof(*g));
	snprintf(g->modem, sizeof(g->modem), "%s", modem);
	snprintf(g->sender, sizeof(g->sender), "%s", sender);
	g->ref = ref;
	g->ref_bits = ref_bits;
	g->total = total;
	s = store_query(
	    st, SQL_GROUP_LOAD, ST_TEXT(modem), ST_TEXT(sender), ST_INT(ref), ST_INT(ref_bits), ST_INT(total));
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int seq = sqlite3_column_int(s, 0);
		int64_t rec = sqlite3_column_int64(s, 2);
		if (seq == last_seq)
			continue; /* the same part twice (different SMSC time): keep one */
		last_seq = seq;
		buf_add(&g->text, store_col_text(s, 1), (size_t)sqlite3_column_bytes(s, 1));
		if (g->n == 0 || rec < g->first_received)
			g->first_received = rec;
		if (g->n == 0) {
			g->smsc_time = sqlite3_column_int64(s, 3);
			snprintf(g->kind, sizeof(g->kind), "%s", store_col_text(s, 4));
		}
		g->n++;
	}
	if (store_end(st, SQL_GROUP_LOAD, s, rc) < 0)
		return -1;
	g->complete = g->n >= (size_t)total;
	return 0;
}

static const char SQL_GROUP_CONSUME[] = "UPDATE inbox_parts SET message_id = ?6 WHERE message_id IS NULL"
					" AND modem = ?1 AND sender = ?2 AND ref = ?3 AND ref_bits = ?4 AND total = ?5";

int store_group_consume(struct store *st, const struct store_group *g, int64_t message_id)
{
	return store_run(st, SQL_GROUP_CONSUME, ST_TEXT(g->modem), ST_TEXT(g->sender), ST_INT(g->ref),
	    ST_INT(g->ref_bits), ST_INT(g->total), ST_INT(message_id));
}

static const char SQL_GROUP_STALE[] =
    "SELECT modem, sender, ref, ref_bits, total, min(received_at), count(DISTINCT seq) FROM inbox_parts"
    " WHERE message_id IS NULL GROUP BY modem, sender, ref, ref_bits, total"
    " HAVING min(received_at) < ?1 LIMIT ?2";

int store_group_stale(struct store *st, int64_t cutoff, struct store_group *out, size_t max, size_t *n)
{
	sqlite3_stmt *s = store_query(st, SQL_GROUP_STALE, ST_INT(cutoff), ST_INT((int64_t)max));
	int rc;

	*n = 0;
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
		struct store_group *g = &out[*n];
		memset(g, 0, sizeof(*g));
		snprintf(g->modem, sizeof(g->modem), "%s", store_col_text(s, 0));
		snprintf(g->sender, sizeof(g->sender), "%s", store_col_text(s, 1));
		g->ref = sqlite3_column_int(s, 2);
		g->ref_bits = sqlite3_column_int(s, 3);
		g->total = sqlite3_column_int(s, 4);
		g->first_received = sqlite3_column_int64(s, 5);
		g->n = (size_t)sqlite3_column_int(s, 6);
		(*n)++;
	}
	return store_end(st, SQL_GROUP_STALE, s, rc);
}

void store_group_free(struct store_group *g)
{
	buf_free(&g->text);
}
