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
