#include "store_int.h"
#include "store_cases.h"

#include <stdlib.h>
#include <string.h>

#include "phone.h"

#define CASE_COLS \
	"id, number, topic, channel, applicant_phone, contact_phone, name, place, need, staff, status, reason," \
	" message_id, created_at, updated_at, accepted_at, visited_at, closed_at, escalated_at, resent_at"

static char *dup_col(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NULL : xstrdup(store_col_text(s, i));
}

static void read_case(sqlite3_stmt *s, struct store_case *c)
{
	c->id = sqlite3_column_int64(s, 0);
	c->number = dup_col(s, 1);
	c->topic = dup_col(s, 2);
	c->channel = dup_col(s, 3);
	c->applicant_phone = dup_col(s, 4);
	c->contact_phone = dup_col(s, 5);
	c->name = dup_col(s, 6);
	c->place = dup_col(s, 7);
	c->need = dup_col(s, 8);
	c->staff = dup_col(s, 9);
	c->status = dup_col(s, 10);
	c->reason = dup_col(s, 11);
	c->msg_id = sqlite3_column_int64(s, 12);
	c->created_at = sqlite3_column_int64(s, 13);
	c->updated_at = sqlite3_column_int64(s, 14);
	c->accepted_at = sqlite3_column_int64(s, 15);
	c->visited_at = sqlite3_column_int64(s, 16);
	c->closed_at = sqlite3_column_int64(s, 17);
	c->escalated_at = sqlite3_column_int64(s, 18);
	c->resent_at = sqlite3_column_int64(s, 19);
}

void store_case_free(struct store_case *c)
{
	free(c->number);
	free(c->topic);
	free(c->channel);
	free(c->applicant_phone);
	free(c->contact_phone);
	free(c->name);
	free(c->place);
	free(c->need);
	free(c->staff);
	free(c->status);
	free(c->reason);
	memset(c, 0, sizeof(*c));
}

static const char SQL_CASE_ADD[] =
    "INSERT INTO cases (number, topic, channel, applicant_phone, applicant_key, contact_phone, name, place,"
    " need, staff, status, reason, message_id, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)";
static const char SQL_EVENT_ADD[] =
    "INSERT INTO case_events (case_id, at, actor, old_status, new_status, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static int event_add(struct store *st, int64_t case_id, int64_t at, const char *actor, const char *old_status,
    const char *new_status, const char *note)
{
	return store_run(st, SQL_EVENT_ADD, ST_INT(case_id), ST_INT(at), ST_TEXT(actor), ST_TEXT(old_status),
	    ST_TEXT(new_status), ST_TEXT(note));
}

int store_case_add(struct store *st, const struct store_case *c, int64_t *id)
{
	int64_t at = c->created_at ? c->created_at : now_unix();

	/* ?5, applicant_key: the same normalised number */
	if (store_run(st, SQL_CASE_ADD, ST_TEXT(c->number), ST_TEXT(c->topic), ST_TEXT(c->channel),
		ST_TEXT(c->applicant_phone), ST_TEXT(c->applicant_phone), ST_TEXT(c->contact_phone), ST_TEXT(c->name),
		ST_TEXT(c->place), ST_TEXT(c->need), ST_TEXT(c->staff), ST_TEXT(c->status), ST_TEXT(c->reason),
		ST_POS(c->msg_id), ST_INT(at)) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return event_add(st, *id, at, c->channel ? c->channel : "system", NULL, c->status, NULL);
}

static const char SQL_CASE_EACH[] =
    "SELECT " CASE_COLS " FROM cases"
    " WHERE (?1 IS NULL OR number = ?1) AND (?2 IS NULL OR applicant_key = ?2) AND (?3 IS NULL OR status = ?3)"
    " AND (?4 IS NULL OR staff = ?4) AND (?5 IS NULL OR topic = ?5)"
    " AND (?6 = 0 OR status NOT IN ('done', 'rejected', 'withdrawn'))"
    " AND (?7 = 0 OR created_at >= ?7) AND (?8 = 0 OR created_at < ?8)"
    " ORDER BY CASE WHEN ?10 THEN -id ELSE id END LIMIT CASE WHEN ?9 > 0 THEN ?9 ELSE -1 END";

int store_case_each(struct store *st, const struct store_case_filter *f,
    int (*fn)(const struct store_case *c, void *arg), void *arg)
{
	sqlite3_stmt *s = store_query(st, SQL_CASE_EACH, ST_TEXT(f->number), ST_TEXT(f->applicant), ST_TEXT(f->status),
	    ST_TEXT(f->staff), ST_TEXT(f->topic), ST_INT(f->open_only), ST_INT(f->created_from), ST_INT(f->created_to),
	    ST_INT(f->limit), ST_INT(f->newest_first));
	struct store_case *rows = NULL;
	size_t n = 0, cap = 0;
	int rc, ret;

	if (s == NULL)
		return -1;
	/* rows are read first: the callbacks may write (and reuse this statement) */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		read_case(s, &rows[n++]);
	}
	ret = store_end(st, SQL_CASE_EACH, s, rc);
	for (size_t i = 0; i < n; i++) {
		if (ret == 0 && fn(&rows[i], arg))
			ret = 1;
		store_case_free(&rows[i]);
	}
	free(rows);
	return ret < 0 ? -1 : 0;
}

static int get_one(const struct store_case *c, void *arg)
{
	struct store_case *out = arg;

	out->id = c->id;
	out->number = c->number ? xstrdup(c->number) : NULL;
	out->topic = c->topic ? xstrdup(c->topic) : NULL;
	out->channel = c->channel ? xstrdup(c->channel) : NULL;
	out->applicant_phone = c->applicant_phone ? xstrdup(c->applicant_phone) : NULL;
	out->contact_phone = c->contact_phone ? xstrdup(c->contact_phone) : NULL;
	out->name = c->name ? xstrdup(c->name) : NULL;
	out->place = c->place ? xstrdup(c->place) : NULL;
	out->need = c->need ? xstrdup(c->need) : NULL;
	out->staff = c->staff ? xstrdup(c->staff) : NULL;
	out->status = c->status ? xstrdup(c->status) : NULL;
	out->reason = c->reason ? xstrdup(c->reason) : NULL;
	out->msg_id = c->msg_id;
	out->created_at = c->created_at;
	out->updated_at = c->updated_at;
	out->accepted_at = c->accepted_at;
	out->visited_at = c->visited_at;
	out->closed_at = c->closed_at;
	out->escalated_at = c->escalated_at;
	out->resent_at = c->resent_at;
	return 1;
}

int store_case_get(struct store *st, const char *number, struct store_case *out, bool *found)
{
	struct store_case_filter f = { 0 };

	memset(out, 0, sizeof(*out));
	f.number = number;
	f.limit = 1;
	if (store_case_each(st, &f, get_one, out) < 0)
		return -1;
	*found = out->number != NULL;
	return 0;
}

static const char SQL_CASE_STATUS_OF[] = "SELECT status FROM cases WHERE id = ?1";
static const char SQL_CASE_UPDATE[] =
    "UPDATE cases SET status = coalesce(?2, status), staff = coalesce(?3, staff), reason = coalesce(?4, reason),"
    " updated_at = ?5,"
    " accepted_at = CASE WHEN ?2 = 'assigned' AND accepted_at IS NULL THEN ?5 ELSE accepted_at END,"
    " visited_at = CASE WHEN ?2 = 'visited' AND visited_at IS NULL THEN ?5 ELSE visited_at END,"
    " closed_at = CASE WHEN ?2 IN ('done', 'rejected', 'withdrawn') THEN ?5 ELSE closed_at END"
    " WHERE id = ?1";

int store_case_update(struct store *st, int64_t id, const char *status, const char *staff, const char *reason,
    const char *actor, const char *note, int64_t at)
{
	sqlite3_stmt *s = store_query(st, SQL_CASE_STATUS_OF, ST_INT(id));
	char *old = NULL;
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		old = xstrdup(store_col_text(s, 0));
	sqlite3_reset(s);
	rc = store_run(st, SQL_CASE_UPDATE, ST_INT(id), ST_TEXT(status), ST_TEXT(staff), ST_TEXT(reason), ST_INT(at));
	if (rc == 0)
		rc = event_add(st, id, at, actor, old, status ? status : old, note);
	free(old);
	return rc;
}

static const char SQL_CASE_MARK[] =
    "UPDATE cases SET escalated_at = CASE WHEN ?2 THEN ?4 ELSE escalated_at END,"
    " resent_at = CASE WHEN ?3 THEN ?4 ELSE resent_at END WHERE id = ?1";

int store_case_mark(struct store *st, int64_t id, bool escalated, bool resent, int64_t t)
{
	return store_run(st, SQL_CASE_MARK, ST_INT(id), ST_INT(escalated), ST_INT(resent), ST_INT(t));
}

static const char SQL_EVENTS[] =
    "SELECT at, actor, old_status, new_status, note FROM case_events WHERE case_id = ?1 ORDER BY at, id";

int store_case_events(struct store *st, int64_t case_id, int (*fn)(const struct store_case_event *e, void *arg),
    void *arg)
{
	sqlite3_stmt *s = store_query(st, SQL_EVENTS, ST_INT(case_id));
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_case_event e = {
			sqlite3_column_int64(s, 0), store_col_text(s, 1), store_col_text(s, 2), store_col_text(s, 3),
			store_col_text(s, 4),
		};
		if (fn(&e, arg))
			break;
	}
	return store_end(st, SQL_EVENTS, s, rc);
}

static const char SQL_FEEDBACK_ADD[] =
    "INSERT INTO feedback (number, phone, channel, text, message_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

int store_feedback_add(struct store *st, const struct store_feedback *f, int64_t *id)
{
	if (store_run(st, SQL_FEEDBACK_ADD, ST_TEXT(f->number), ST_TEXT(f->phone), ST_TEXT(f->channel),
		ST_TEXT(f->text), ST_POS(f->message_id), ST_INT(f->created_at ? f->created_at : now_unix())) < 0)
		return -1;
	if (id)
		*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

static const char SQL_FEEDBACK_EACH[] =
    "SELECT id, number, phone, channel, text, status, message_id, created_at, note, done_at FROM feedback"
    " WHERE (?1 = 0 OR created_at >= ?1) AND (?2 = 0 OR created_at < ?2) ORDER BY id";

int store_feedback_each(struct store *st, int64_t from, int64_t to,
    int (*fn)(const struct store_feedback *f, void *arg), void *arg)
{
	sqlite3_stmt *s = store_query(st, SQL_FEEDBACK_EACH, ST_INT(from), ST_INT(to));
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_feedback f = {
			sqlite3_column_int64(s, 0), store_col_text(s, 1), store_col_text(s, 2), store_col_text(s, 3),
			store_col_text(s, 4), store_col_text(s, 5), sqlite3_column_int64(s, 6), sqlite3_column_int64(s, 7),
			sqlite3_column_type(s, 8) == SQLITE_NULL ? NULL : store_col_text(s, 8), sqlite3_column_int64(s, 9),
		};
		if (fn(&f, arg))
			break;
	}
	return store_end(st, SQL_FEEDBACK_EACH, s, rc);
}

static const char SQL_FEEDBACK_DONE[] =
    "UPDATE feedback SET status = 'done', note = ?2, done_at = ?3 WHERE number = ?1";

int store_feedback_done(struct store *st, const char *number, const char *note, int64_t now, bool *found)
{
	*found = false;
	if (store_run(st, SQL_FEEDBACK_DONE, ST_TEXT(number), ST_TEXT(note), ST_INT(now)) < 0)
		return -1;
	*found = sqlite3_changes(st->db) > 0;
	return 0;
}
