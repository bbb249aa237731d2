/*
 * store_sessions: the sessions table, one row per conversation (SMS: per
 * phone; USSD: per sessionId and phone): where it stands in the menus, a
 * half-filled form, the last reply.
 */
#include "store_int.h"
#include "store_sessions.h"

#include <stdio.h>
#include <stdlib.h>

static const char SQL_SESSION_LOAD[] =
    "SELECT node, page, screen, mode, form_step, form_name, form_place, form_need, form_phone, last_reply,"
    " ussd_text, updated_at, ussd_end FROM sessions WHERE key = ?1";

static char *col_dup(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NULL : xstrdup(store_col_text(s, i));
}

int store_session_load(struct store *st, const char *key, int64_t now, int timeout, struct session *ses)
{
	sqlite3_stmt *s = store_query(st, SQL_SESSION_LOAD, ST_TEXT(key));
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int64_t updated = sqlite3_column_int64(s, 11);
		ses->last_reply = col_dup(s, 9);
		ses->updated_at = updated;
		if (now - updated <= timeout) {
			snprintf(ses->node, sizeof(ses->node), "%s", store_col_text(s, 0));
			ses->page = sqlite3_column_int(s, 1);
			ses->screen = sqlite3_column_int(s, 2);
			ses->mode = sqlite3_column_int(s, 3);
			ses->form_step = sqlite3_column_int(s, 4);
			ses->form_name = col_dup(s, 5);
			ses->form_place = col_dup(s, 6);
			ses->form_need = col_dup(s, 7);
			ses->form_phone = col_dup(s, 8);
			ses->ussd_text = col_dup(s, 10);
			ses->ussd_ended = sqlite3_column_int(s, 12) != 0;
			ses->fresh = false;
		}
	}
	return store_end(st, SQL_SESSION_LOAD, s, rc);
}

static const char SQL_SESSION_SAVE[] =
    "INSERT INTO sessions (key, phone, channel, node, page, screen, mode, form_step, form_name, form_place,"
    " form_need, form_phone, last_reply, ussd_text, updated_at, ussd_end)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    " ON CONFLICT (key) DO UPDATE SET node = ?4, page = ?5, screen = ?6, mode = ?7, form_step = ?8,"
    " form_name = ?9, form_place = ?10, form_need = ?11, form_phone = ?12, last_reply = ?13,"
    " ussd_text = ?14, updated_at = ?15, ussd_end = ?16";

int store_session_save(struct store *st, const struct session *ses)
{
	return store_run(st, SQL_SESSION_SAVE, ST_TEXT(ses->key), ST_TEXT(ses->phone),
	    ST_TEXT(channel_name(ses->channel)), ST_TEXT(ses->node), ST_INT(ses->page), ST_INT(ses->screen),
	    ST_INT(ses->mode), ST_INT(ses->form_step), ST_TEXT(ses->form_name), ST_TEXT(ses->form_place),
	    ST_TEXT(ses->form_need), ST_TEXT(ses->form_phone), ST_TEXT(ses->last_reply), ST_TEXT(ses->ussd_text),
	    ST_INT(ses->updated_at ? ses->updated_at : now_unix()), ST_INT(ses->ussd_ended));
}

static const char SQL_SESSION_DELETE[] = "DELETE FROM sessions WHERE key = ?1";

int store_session_delete(struct store *st, const char *key)
{
	return store_run(st, SQL_SESSION_DELETE, ST_TEXT(key));
}

static const char SQL_SESSION_IDLE_FORMS[] =
    "SELECT key, phone, channel, node, form_step, last_reply, updated_at FROM sessions"
    " WHERE mode = 1 AND updated_at < ?1 LIMIT 100";

int store_session_idle_forms(struct store *st, int64_t cutoff, int (*fn)(struct session *s, void *arg), void *arg)
{
	sqlite3_stmt *s = store_query(st, SQL_SESSION_IDLE_FORMS, ST_INT(cutoff));
	struct session *list = NULL;
	size_t n = 0, cap = 0;
	int rc, ret;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			list = xrealloc(list, cap * sizeof(*list));
		}
		int ch = channel_parse(store_col_text(s, 2));
		session_init(&list[n], store_col_text(s, 0), store_col_text(s, 1),
		    ch == CHANNEL_USSD ? CHANNEL_USSD : CHANNEL_SMS);
		snprintf(list[n].node, sizeof(list[n].node), "%s", store_col_text(s, 3));
		list[n].mode = SESSION_FORM;
		list[n].form_step = sqlite3_column_int(s, 4);
		list[n].last_reply = col_dup(s, 5);
		list[n].updated_at = sqlite3_column_int64(s, 6);
		list[n].fresh = false;
		n++;
	}
	/* the statement is reset before the callbacks, which may write */
	ret = store_end(st, SQL_SESSION_IDLE_FORMS, s, rc);
	for (size_t i = 0; i < n; i++) {
		if (ret == 0)
			(void)fn(&list[i], arg);
		session_clear(&list[i]);
	}
	free(list);
	return ret;
}

static const char SQL_SESSION_COUNT[] = "SELECT count(*) FROM sessions WHERE channel = ?1 AND updated_at >= ?2";

int store_session_count(struct store *st, const char *channel, int64_t since, int *count)
{
	return store_count(st, SQL_SESSION_COUNT, count, ST_TEXT(channel), ST_INT(since));
}

/* half-filled forms stay for the idle-forms job (cases_jobs.c), whatever other traffic comes */
static const char SQL_SESSION_PURGE[] = "DELETE FROM sessions WHERE channel = ?1 AND updated_at < ?2 AND mode <> 1";

int store_session_purge(struct store *st, const char *channel, int64_t cutoff, int *n)
{
	*n = 0;
	if (store_run(st, SQL_SESSION_PURGE, ST_TEXT(channel), ST_INT(cutoff)) < 0)
		return -1;
	*n = sqlite3_changes(st->db);
	return 0;
}
