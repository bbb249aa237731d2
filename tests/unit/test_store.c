/*
 * store: the SQLite database, each test on its own file in a temp folder
 * (or :memory:). Migrations (fresh, from a version-1 file in
 * tests/data/store/, refusing a newer file), messages and their filters,
 * inbound parts read twice, multipart groups, the outbox life cycle (claim,
 * sent, retry, failed, recover after a crash), sessions with their timeout,
 * idle forms, sequences, transactions, the bind-and-run helpers. Time is
 * passed in, never waited for.
 */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_cases.h"
#include "store_int.h"
#include "store_messages.h"
#include "store_outbox.h"
#include "store_parts.h"
#include "store_sessions.h"
#include "utf8.h"
#include "util.h"
#include "hl.h"

#define T0 1800000000LL /* a fixed "now" */

struct fx {
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];
	struct store *st;
};

static struct store *open_store(const char *path, bool migrate, char *err, size_t errlen)
{
	struct store_opts o = { 0 };
	struct store *st = NULL;

	o.create = true;
	o.migrate = migrate;
	o.synchronous = "normal";
	if (store_open(path, &o, &st, err, errlen) < 0)
		return NULL;
	return st;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/test_store-XXXXXX", err[512];

	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	snprintf(f->path, sizeof(f->path), "%s/hotline.db", f->dir);
	f->st = open_store(f->path, true, err, sizeof(err));
	if (f->st == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	DIR *dh;
	struct dirent *de;

	store_close(f->st);
	/* every file the test made: databases with their -wal and -shm */
	dh = opendir(f->dir);
	while (dh && (de = readdir(dh)) != NULL) {
		char p[PATH_MAX + 300];
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
		unlink(p);
	}
	if (dh)
		closedir(dh);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* One integer from the file, read with a connection of our own (what the store does not show). */
static long long sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static int64_t add_msg(struct store *st, const char *dir, const char *phone, const char *text, const char *status,
    const char *kind, int64_t at)
{
	struct store_msg m;
	int64_t id = 0;

	memset(&m, 0, sizeof(m));
	/* the names the database stores, as the enums a caller hands on */
	m.channel = CHANNEL_SMS;
	m.direction = (enum direction)direction_parse(dir);
	m.phone = phone;
	m.text = text;
	m.text_len = strlen(text);
	m.status = (enum msg_status)msg_status_parse(status);
	m.kind = (enum msg_kind)msg_kind_parse(kind);
	m.created_at = at;
	assert_int_equal(store_msg_add(st, &m, &id), 0);
	assert_true(id > 0);
	return id;
}

/* A queued reply with its outbox row. */
static int64_t queue(struct store *st, const char *phone, const char *text, const char *modem, int priority,
    int64_t not_before)
{
	int64_t id = add_msg(st, "out", phone, text, "queued", "reply", T0);

	assert_int_equal(store_outbox_add(st, id, modem, priority, not_before), 0);
	return id;
}

struct one_msg {
	int64_t id;
	char status[16], text[256], modem[16];
	int parts, msg_ref;
	int64_t sent_at;
};

static int take_one(const struct store_msg *m, void *arg)
{
	struct one_msg *o = arg;

	if (m->id != o->id)
		return 0;
	snprintf(o->status, sizeof(o->status), "%s", msg_status_name(m->status));
	snprintf(o->text, sizeof(o->text), "%.*s", (int)m->text_len, m->text);
	snprintf(o->modem, sizeof(o->modem), "%s", m->modem);
	o->parts = m->parts;
	o->msg_ref = m->msg_ref;
	o->sent_at = m->sent_at;
	return 1;
}

static struct one_msg get_msg(struct store *st, int64_t id)
{
	struct one_msg o;
	struct store_msg_filter f = { 0 };

	memset(&o, 0, sizeof(o));
	o.id = id;
	assert_int_equal(store_msg_each(st, &f, take_one, &o), 0);
	return o;
}

/* ---- migrations ------------------------------------------------------------------------ */

static void test_fresh_migration(void **state)
{
	struct fx *f = *state;
	struct store *mem;
	char err[512], p[PATH_MAX + 64];
	struct stat sb;

	assert_true(store_schema_version() >= 2);
	assert_int_equal(store_file_version(f->st), store_schema_version());
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(store_ping(f->st), 0);
	/* the file is the hotline's alone */
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* WAL */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);

	/* opening it again migrates nothing and loses nothing */
	add_msg(f->st, "in", "13912345678", "低保", "answered", "text", T0);
	store_close(f->st);
	f->st = open_store(f->path, true, err, sizeof(err));
	assert_non_null(f->st);
	assert_int_equal(store_file_version(f->st), store_schema_version());
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM messages"), 1);

	/* in memory too */
	mem = open_store(":memory:", true, err, sizeof(err));
	assert_non_null(mem);
	assert_int_equal(store_file_version(mem), store_schema_version());
	store_close(mem);

	/* a tool that does not migrate refuses an old file instead of using it */
	snprintf(p, sizeof(p), "%s/unmigrated.db", f->dir);
	assert_null(open_store(p, false, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 0"));
	unlink(p);
}

static void load_sql(const char *path, const char *sqlfile)
{
	FILE *fp = fopen(sqlfile, "r");
	char *sql;
	long len;
	sqlite3 *db = NULL;
	char *msg = NULL;

	if (fp == NULL)
		fail_msg("%s: missing", sqlfile);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	sql = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(sql, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sqlfile, msg);
	sqlite3_close(db);
	free(sql);
}

static void test_migrate_from_v1(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 64], sqlfile[PATH_MAX], err[512];
	struct store *st;
	struct session s;
	struct store_send out[4];
	size_t n = 0;
	int64_t seq = 0, case_id = 0;
	struct store_case k;

	snprintf(p, sizeof(p), "%s/v1.db", f->dir);
	snprintf(sqlfile, sizeof(sqlfile), "%s/tests/data/store/schema-v1.sql", hl_src_dir());
	load_sql(p, sqlfile);
	assert_int_equal(sql_int(p, "PRAGMA user_version"), 1);

	st = open_store(p, true, err, sizeof(err));
	if (st == NULL)
		fail_msg("%s", err);
	assert_int_equal(store_file_version(st), store_schema_version());

	/* what was there is still there and still works */
	assert_string_equal(get_msg(st, 1).text, "低保咋申请");
	assert_string_equal(get_msg(st, 1).status, "answered");
	session_init(&s, "sms:+8613912345678", "+8613912345678", CHANNEL_SMS);
	assert_int_equal(store_session_load(st, "sms:+8613912345678", 1700000000 + 60, 1800, &s), 0);
	assert_false(s.fresh);
	assert_string_equal(s.node, "dibao.apply");
	assert_string_equal(s.last_reply, "低保咋申请：到乡镇写申请。");
	session_clear(&s);
	assert_int_equal(store_outbox_claim(st, "m0", "m0", 1700000000, out, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].id, 2);
	store_sends_free(out, n);
	assert_int_equal(store_next_seq(st, "case-2023", &seq), 0);
	assert_int_equal(seq, 42);

	/* migration 6: every stored number and the keys beside them in E.164 */
	assert_int_equal(sql_int(p, "SELECT count(*) FROM messages WHERE phone = '+8613912345678'"
				    " AND phone_key = '+8613912345678'"), 2);
	assert_int_equal(sql_int(p, "SELECT count(*) FROM sessions WHERE key = 'sms:+8613912345678'"), 1);

	/* and what the later versions added works on it */
	memset(&k, 0, sizeof(k));
	k.number = "2023-0042";
	k.topic = "zhitongche";
	k.channel = "sms";
	k.applicant_phone = "+8613912345678";
	k.status = "received";
	k.created_at = 1700000100;
	assert_int_equal(store_case_add(st, &k, &case_id), 0);
	assert_true(case_id > 0);
	store_close(st);
	unlink(p);
}

/*
 * Migration 6 rewrites every stored number (national, 0086, 86, full-width)
 * to E.164 in every table that holds one; a foreign number keeps its country
 * and a short code stays a short code.
 */
static void test_migrate_numbers(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 64], err[512];
	struct store *st;
	sqlite3 *db = NULL;
	char *msg = NULL;

	struct store_opts o = { 0 };

	snprintf(p, sizeof(p), "%s/v5.db", f->dir);
	o.create = true;
	o.migrate = true;
	o.migrate_to = 5;
	assert_int_equal(store_open(p, &o, &st, err, sizeof(err)), 0);
	assert_int_equal(store_file_version(st), 5);
	store_close(st);
	/* a file at version 5, its numbers as earlier versions stored them */
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	if (sqlite3_exec(db,
		"INSERT INTO messages (channel, direction, phone, phone_key, text, status, created_at, updated_at) VALUES"
		"  ('sms', 'in', '13912345678', '13912345678', 'a', 'answered', 1, 1),"
		"  ('sms', 'in', '+13912345678', '13912345678', 'b', 'answered', 1, 1),"
		"  ('sms', 'in', '10086', '10086', 'c', 'ignored', 1, 1);"
		"INSERT INTO inbox_parts (modem, sender, smsc_time, ref, ref_bits, total, seq, digest, text, kind, received_at)"
		"  VALUES ('m0', '008613912345678', 1, 7, 8, 2, 1, 0, 'x', 'text', 1);"
		"INSERT INTO sessions (key, phone, channel, node, form_phone, updated_at)"
		"  VALUES ('sms:13912345678', '8613912345678', 'sms', 'main', '１３６０００００００９', 1);"
		"INSERT INTO cases (number, topic, channel, applicant_phone, applicant_key, contact_phone, status,"
		"  created_at, updated_at) VALUES ('2026-0001', 't', 'sms', '13912345678', '13912345678',"
		"  '0933-1234567', 'received', 1, 1);"
		"INSERT INTO feedback (number, phone, channel, text, created_at) VALUES ('F1', '+86 139 1234 5678',"
		"  'sms', 'x', 1);"
		"INSERT INTO alerts (kind, key, at) VALUES ('digest', '13900000001', 1), ('modem_down', 'm0', 1);"
		"INSERT INTO console_accounts (name, hash, role, staff_phone, created_at, updated_at)"
		"  VALUES ('li', 'x', 'staff', '13900000002', 1, 1), ('admin', 'x', 'admin', NULL, 1, 1);",
		NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s", msg);
	sqlite3_close(db);

	st = open_store(p, true, err, sizeof(err));
	if (st == NULL)
		fail_msg("%s", err);
	store_close(st);
	assert_int_equal(sql_int(p, "SELECT count(*) FROM messages WHERE phone = '+8613912345678'"
				    " AND phone_key = phone"), 1);
	assert_int_equal(sql_int(p, "SELECT count(*) FROM messages WHERE phone = '+13912345678'"
				    " AND phone_key = phone"), 1);
	assert_int_equal(sql_int(p, "SELECT count(*) FROM messages WHERE phone = '10086' AND phone_key = '10086'"), 1);
	assert_int_equal(sql_int(p, "SELECT count(*) FROM inbox_parts WHERE sender = '+8613912345678'"), 1);
	assert_int_equal(sql_int(p, "SELECT count(*) FROM sessions WHERE key = 'sms:+8613912345678'"
				    " AND phone = '+8613912345678' AND form_phone = '+8613600000009'"), 1);
	assert_int_equal(sql_int(p, "SELECT count(*) FROM cases WHERE applicant_phone = '+8613912345678'"
				    " AND applicant_key = '+8613912345678' AND contact_phone = '+869331234567'"), 1);
	assert_int_equal(sql_int(p, "SELECT count(*) FROM feedback WHERE phone = '+8613912345678'"), 1);
	assert_int_equal(sql_int(p, "SELECT count(*) FROM alerts WHERE key IN ('+8613900000001', 'm0')"), 2);
	assert_int_equal(sql_int(p, "SELECT count(*) FROM console_accounts WHERE staff_phone = '+8613900000002'"), 1);
	assert_int_equal(sql_int(p, "SELECT count(*) FROM console_accounts WHERE staff_phone IS NULL"), 1);
	unlink(p);
}

static void test_newer_version_refused(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 64], err[512], sqlfile[PATH_MAX];
	sqlite3 *db = NULL;

	/* a file from a newer hotlined: version 99 */
	snprintf(p, sizeof(p), "%s/newer.db", f->dir);
	snprintf(sqlfile, sizeof(sqlfile), "%s/tests/data/store/schema-v1.sql", hl_src_dir());
	load_sql(p, sqlfile);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	err[0] = '\0';
	assert_null(open_store(p, true, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version"));
	assert_null(open_store(p, false, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 99"));
	/* untouched: an older build never writes into a newer schema */
	assert_int_equal(sql_int(p, "PRAGMA user_version"), 99);
	assert_int_equal(sql_int(p, "SELECT count(*) FROM messages"), 2);
	unlink(p);
}

static void test_open_errors(void **state)
{
	char err[512];
	struct store_opts o = { 0 };
	struct store *st = (struct store *)1;

	(void)state;
	o.create = true;
	o.migrate = true;
	err[0] = '\0';
	assert_int_equal(store_open("/nonexistent-folder/x.db", &o, &st, err, sizeof(err)), -1);
	assert_null(st);
	assert_true(err[0] != '\0');
}

/* ---- messages ---------------------------------------------------------------------------- */

struct collected {
	int64_t ids[32];
	size_t n;
};

static int collect_ids(const struct store_msg *m, void *arg)
{
	struct collected *c = arg;

	if (c->n < 32)
		c->ids[c->n++] = m->id;
	return 0;
}

static void test_messages(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_msg_filter flt = { 0 };
	struct collected c;
	int64_t a, b, d, e;
	int n = -1;
	int seen = -1;

	a = add_msg(st, "in", "+8613912345678", "低保", "received", "text", T0);
	b = add_msg(st, "out", "+8613912345678", "低保：……", "queued", "reply", T0 + 1);
	d = add_msg(st, "in", "+8613800000001", "你好", "received", "text", T0 + 2);
	e = add_msg(st, "out", "+8613912345678", "今天的短信已到上限", "queued", "notice", T0 + 3);
	add_msg(st, "in", "+13912345678", "低保", "answered", "text", T0 + 4); /* the same digits under +1 */

	/* by phone: the normalised number, and no other country's */
	flt.phone = "+8613912345678";
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_msg_each(st, &flt, collect_ids, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.ids[0], a);
	assert_int_equal(c.ids[2], e);
	/* newest first, limited */
	flt.newest_first = true;
	flt.limit = 2;
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_msg_each(st, &flt, collect_ids, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.ids[0], e);
	assert_int_equal(c.ids[1], b);
	/* time window and after_id */
	memset(&flt, 0, sizeof(flt));
	flt.since = T0 + 1;
	flt.until = T0 + 3;
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_msg_each(st, &flt, collect_ids, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.ids[0], b);
	assert_int_equal(c.ids[1], d);
	memset(&flt, 0, sizeof(flt));
	flt.after_id = d;
	flt.until = T0 + 4;
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_msg_each(st, &flt, collect_ids, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.ids[0], e);

	/* status and node change; NULL keeps */
	assert_int_equal(store_msg_set(st, a, "answered", "dibao"), 0);
	assert_int_equal(store_msg_set(st, a, NULL, NULL), 0);
	assert_string_equal(get_msg(st, a).status, "answered");
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM messages WHERE node = 'dibao'"), 1);

	/* a USSD answer is no SMS reply */
	{
		struct store_msg u;
		memset(&u, 0, sizeof(u));
		u.channel = CHANNEL_USSD;
		u.direction = DIRECTION_OUT;
		u.phone = "+8613912345678";
		u.text = "主菜单";
		u.text_len = strlen(u.text);
		u.status = MSG_STATUS_SENT;
		u.kind = MSG_KIND_REPLY;
		u.created_at = T0 + 1;
		assert_int_equal(store_msg_add(st, &u, NULL), 0);
	}
	/* the limits' counters: notices are not replies */
	assert_int_equal(store_replies_since(st, "+8613912345678", T0, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_replies_since(st, "+8613912345678", T0 + 2, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_notices_since(st, "+8613912345678", T0, NULL, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_notices_since(st, "+8613800000001", T0, NULL, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_same_text_since(st, "+8613912345678", "低保", T0, 0, &seen), 0);
	assert_int_equal(seen, 1); /* a answered above */
	assert_int_equal(store_same_text_since(st, "+8613912345678", "低保", T0, a, &seen), 0);
	assert_int_equal(seen, 0);
	assert_int_equal(store_same_text_since(st, "+8613800000001", "你好", T0, 0, &seen), 0);
	assert_int_equal(seen, 0); /* received, not answered */
	assert_int_equal(store_same_text_since(st, "+13912345678", "低保", T0, 0, &seen), 0);
	assert_int_equal(seen, 1); /* its own answered 低保, not the +86 number's */
	assert_int_equal(store_same_text_since(st, "+13912345678", "低保", T0, 5, &seen), 0);
	assert_int_equal(seen, 0);
}

struct raw_check {
	int64_t id;
	const void *raw;
	size_t raw_len;
	const char *text;
	size_t text_len;
	bool ok;
};

static int check_raw(const struct store_msg *m, void *arg)
{
	struct raw_check *r = arg;

	if (m->id == r->id)
		r->ok = m->raw_len == r->raw_len && memcmp(m->raw, r->raw, r->raw_len) == 0 &&
		    m->text_len == r->text_len && memcmp(m->text, r->text, r->text_len) == 0;
	return 0;
}

static void test_message_bytes_verbatim(void **state)
{
	struct fx *f = *state;
	static const char raw[] = "低保\xff\0'; DROP TABLE messages; --";
	const char *text = "低保\xEF\xBF\xBD\xEF\xBF\xBD'; DROP TABLE messages; -- 😀 \"%s%n\"";
	struct store_msg m;
	struct raw_check r = { 0 };
	struct store_msg_filter flt = { 0 };

	memset(&m, 0, sizeof(m));
	m.channel = CHANNEL_SMS;
	m.direction = DIRECTION_IN;
	m.phone = "13912345678";
	m.text = text;
	m.text_len = strlen(text);
	m.raw = raw;
	m.raw_len = sizeof(raw) - 1;
	m.status = MSG_STATUS_RECEIVED;
	m.kind = MSG_KIND_TEXT;
	assert_int_equal(store_msg_add(f->st, &m, &r.id), 0);
	r.raw = raw;
	r.raw_len = sizeof(raw) - 1;
	r.text = text;
	r.text_len = strlen(text);
	assert_int_equal(store_msg_each(f->st, &flt, check_raw, &r), 0);
	assert_true(r.ok);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM messages"), 1);
}

static void test_transactions(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_begin(f->st), 0);
	add_msg(f->st, "in", "13912345678", "一", "received", "text", T0);
	store_rollback(f->st);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM messages"), 0);
	assert_int_equal(store_begin(f->st), 0);
	add_msg(f->st, "in", "13912345678", "二", "received", "text", T0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM messages"), 1);
	/* a rollback with nothing open is harmless */
	store_rollback(f->st);
}

/* ---- inbound parts and groups --------------------------------------------------------------- */

static struct store_part part(const char *sender, int ref, int total, int seq, const char *text, int64_t at)
{
	struct store_part p;

	memset(&p, 0, sizeof(p));
	p.modem = "m0";
	p.sender = sender;
	p.smsc_time = 1799999000 + seq;
	p.ref = ref;
	p.ref_bits = 8;
	p.total = total;
	p.seq = seq;
	p.text = text;
	p.text_len = strlen(text);
	p.kind = "text";
	p.received_at = at;
	return p;
}

static void test_part_idempotent(void **state)
{
	struct fx *f = *state;
	struct store_part p = part("13912345678", 7, 2, 1, "第一部分", T0);
	bool inserted = false;

	assert_int_equal(store_part_add(f->st, &p, &inserted), 0);
	assert_true(inserted);
	/* read again after a crash between commit and delete: a no-op */
	assert_int_equal(store_part_add(f->st, &p, &inserted), 0);
	assert_false(inserted);
	p.received_at = T0 + 100; /* when it was read does not make it another part */
	assert_int_equal(store_part_add(f->st, &p, &inserted), 0);
	assert_false(inserted);
	/* another part, another sender, another modem: new */
	p = part("13912345678", 7, 2, 2, "第二部分", T0);
	assert_int_equal(store_part_add(f->st, &p, &inserted), 0);
	assert_true(inserted);
	p = part("13800000001", 7, 2, 1, "第一部分", T0);
	assert_int_equal(store_part_add(f->st, &p, &inserted), 0);
	assert_true(inserted);
	p.modem = "m1";
	assert_int_equal(store_part_add(f->st, &p, &inserted), 0);
	assert_true(inserted);
	/* the same lone SMS (ref -1) twice */
	p = part("13700000000", -1, 1, 1, "低保", T0);
	assert_int_equal(store_part_add(f->st, &p, &inserted), 0);
	assert_true(inserted);
	assert_int_equal(store_part_add(f->st, &p, &inserted), 0);
	assert_false(inserted);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM inbox_parts"), 5);
	/* the same text in the same second at another place on the phone: a second message */
	p = part("13700000001", -1, 1, 1, "1", T0);
	p.location = 100001;
	assert_int_equal(store_part_add(f->st, &p, &inserted), 0);
	assert_true(inserted);
	p.location = 100002;
	assert_int_equal(store_part_add(f->st, &p, &inserted), 0);
	assert_true(inserted);
	p.location = 100001; /* read again, still on the phone */
	assert_int_equal(store_part_add(f->st, &p, &inserted), 0);
	assert_false(inserted);
	/* deleted from the phone: its place may hold the same text again, a new message */
	assert_int_equal(store_parts_gone(f->st, "m0", (int[]){ 100001 }, 1), 0);
	assert_int_equal(store_part_add(f->st, &p, &inserted), 0);
	assert_true(inserted);
}

static void test_groups(void **state)
{
	struct fx *f = *state;
	struct store_group g, stale[8];
	struct store_part p;
	bool ins;
	size_t n;

	/* parts arrive out of order: 3, 1 */
	p = part("13912345678", 9, 3, 3, "丙", T0 + 5);
	assert_int_equal(store_part_add(f->st, &p, &ins), 0);
	p = part("13912345678", 9, 3, 1, "甲", T0);
	assert_int_equal(store_part_add(f->st, &p, &ins), 0);
	assert_int_equal(store_group_load(f->st, "m0", "13912345678", 9, 8, 3, &g), 0);
	assert_int_equal(g.n, 2);
	assert_false(g.complete);
	assert_string_equal(buf_str(&g.text), "甲丙");
	assert_int_equal(g.first_received, T0);
	store_group_free(&g);

	/* another sender with a part of the same reference is another message */
	p = part("13800000001", 9, 2, 1, "别人的", T0 + 1);
	assert_int_equal(store_part_add(f->st, &p, &ins), 0);
	/* stale: incomplete groups whose first part came before the cutoff */
	assert_int_equal(store_group_stale(f->st, T0 + 1, stale, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(stale[0].sender, "13912345678");
	assert_int_equal(stale[0].n, 2);
	assert_int_equal(stale[0].total, 3);
	assert_int_equal(store_group_stale(f->st, T0 + 2, stale, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_group_stale(f->st, T0, stale, 8, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_group_stale(f->st, T0 + 2, stale, 1, &n), 0);
	assert_int_equal(n, 1); /* max respected */

	/* the missing part comes: complete, in part order */
	p = part("13912345678", 9, 3, 2, "乙", T0 + 9);
	assert_int_equal(store_part_add(f->st, &p, &ins), 0);
	assert_int_equal(store_group_load(f->st, "m0", "13912345678", 9, 8, 3, &g), 0);
	assert_int_equal(g.n, 3);
	assert_true(g.complete);
	assert_string_equal(buf_str(&g.text), "甲乙丙");
	assert_string_equal(g.kind, "text");

	/* made into a message: the group is gone */
	{
		int64_t mid = add_msg(f->st, "in", "13912345678", buf_str(&g.text), "received", "text", T0 + 9);
		assert_int_equal(store_group_consume(f->st, &g, mid), 0);
		store_group_free(&g);
		assert_int_equal(store_group_load(f->st, "m0", "13912345678", 9, 8, 3, &g), 0);
		assert_int_equal(g.n, 0);
		assert_false(g.complete);
		store_group_free(&g);
		assert_int_equal(store_group_stale(f->st, T0 + 100, stale, 8, &n), 0);
		assert_int_equal(n, 1);
		assert_string_equal(stale[0].sender, "13800000001");
		/* a part of the consumed message read again is still a no-op */
		p = part("13912345678", 9, 3, 2, "乙", T0 + 20);
		assert_int_equal(store_part_add(f->st, &p, &ins), 0);
		assert_false(ins);
	}
}

/* ---- the outbox ----------------------------------------------------------------------------- */

static size_t claim(struct store *st, const char *for_modem, const char *by, int64_t now, struct store_send *out,
    size_t max)
{
	size_t n = 99;

	assert_int_equal(store_outbox_claim(st, for_modem, by, now, out, max, &n), 0);
	return n;
}

static void test_outbox_cycle(void **state)
{
	struct fx *f = *state;
	struct store_send out[8];
	int64_t id = queue(f->st, "13912345678", "低保：……", "m0", 0, T0), wait = 0, age = -1;
	int depth = -1;
	struct one_msg m;

	assert_int_equal(store_outbox_stats(f->st, T0 + 10, &depth, &age), 0);
	assert_int_equal(depth, 1);
	assert_int_equal(age, 10);
	assert_int_equal(store_outbox_next_due(f->st, T0 - 5, &wait), 0);
	assert_int_equal(wait, 5);

	/* claim: marked sending, and not claimed twice */
	assert_int_equal(claim(f->st, "m0", "m0", T0, out, 8), 1);
	assert_int_equal(out[0].id, id);
	assert_string_equal(out[0].phone, "13912345678");
	assert_string_equal(out[0].text, "低保：……");
	assert_string_equal(out[0].modem, "m0");
	assert_int_equal(out[0].attempts, 1);
	store_sends_free(out, 1);
	assert_string_equal(get_msg(f->st, id).status, "sending");
	assert_int_equal(sql_int(f->path, "SELECT sending FROM outbox"), 1);
	assert_int_equal(claim(f->st, "m0", "m0", T0 + 1000, out, 8), 0);

	/* retry: queued again, not before the given time */
	assert_int_equal(store_outbox_retry(f->st, id, T0 + 60, "CMS 500"), 0);
	assert_string_equal(get_msg(f->st, id).status, "queued");
	assert_int_equal(claim(f->st, "m0", "m0", T0 + 59, out, 8), 0);
	assert_int_equal(claim(f->st, "m0", "m0", T0 + 60, out, 8), 1);
	assert_int_equal(out[0].attempts, 2);
	store_sends_free(out, 1);

	/* sent: out of the outbox, with its parts and reference */
	assert_int_equal(store_outbox_sent(f->st, id, 2, 77, T0 + 61), 0);
	m = get_msg(f->st, id);
	assert_string_equal(m.status, "sent");
	assert_int_equal(m.parts, 2);
	assert_int_equal(m.msg_ref, 77);
	assert_int_equal(m.sent_at, T0 + 61);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM messages WHERE error IS NOT NULL"), 0);
	assert_int_equal(store_outbox_stats(f->st, T0 + 100, &depth, &age), 0);
	assert_int_equal(depth, 0);
	assert_int_equal(age, 0);
	assert_int_equal(store_outbox_next_due(f->st, T0, &wait), 0);
	assert_true(wait == INT64_MAX);
}

/* A long reply's progress (issue 12): kept across a retry, gone with the outbox row. */
static void test_outbox_progress(void **state)
{
	struct fx *f = *state;
	struct store_send out[2];
	int64_t id = queue(f->st, "13912345678", "一条长回复", "m0", 0, T0);

	assert_int_equal(claim(f->st, "m0", "m0", T0, out, 2), 1);
	assert_int_equal(out[0].concat_ref, -1);
	assert_int_equal(out[0].parts_done, 0);
	store_sends_free(out, 1);
	/* part 1 of 3 went with reference 42 */
	assert_int_equal(store_outbox_retry_from(f->st, id, T0, "part 2 of 3: CMS 38", 42, 1), 0);
	assert_int_equal(claim(f->st, "m0", "m0", T0, out, 2), 1);
	assert_int_equal(out[0].concat_ref, 42);
	assert_int_equal(out[0].parts_done, 1);
	store_sends_free(out, 1);
	/* a retry that says nothing of parts keeps what was recorded */
	assert_int_equal(store_outbox_retry(f->st, id, T0, "no network"), 0);
	assert_int_equal(claim(f->st, "m0", "m0", T0, out, 2), 1);
	assert_int_equal(out[0].concat_ref, 42);
	assert_int_equal(out[0].parts_done, 1);
	store_sends_free(out, 1);
	assert_int_equal(store_outbox_sent(f->st, id, 3, 7, T0 + 1), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM outbox_progress"), 0);
}

static void test_outbox_failed(void **state)
{
	struct fx *f = *state;
	struct store_send out[2];
	int64_t bad = queue(f->st, "13912345678", "发不出去", "m0", 0, T0);
	int64_t good = queue(f->st, "13912345679", "能发出去", "m0", 0, T0);

	assert_int_equal(claim(f->st, "m0", "m0", T0, out, 1), 1);
	assert_int_equal(out[0].id, bad);
	store_sends_free(out, 1);
	assert_int_equal(store_outbox_failed(f->st, bad, "number blocked"), 0);
	assert_string_equal(get_msg(f->st, bad).status, "failed");
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM messages WHERE error = 'number blocked'"), 1);
	/* one bad message never blocks the queue */
	assert_int_equal(claim(f->st, "m0", "m0", T0, out, 2), 1);
	assert_int_equal(out[0].id, good);
	store_sends_free(out, 1);
}

static void test_outbox_recover(void **state)
{
	struct fx *f = *state;
	struct store_send out[4];
	int64_t a = queue(f->st, "13912345678", "一", "m0", 0, T0);
	int64_t b = queue(f->st, "13912345678", "二", "m0", 0, T0);
	int n = -1;

	queue(f->st, "13912345678", "三", "m0", 0, T0 + 500); /* not yet due: not claimed */
	assert_int_equal(claim(f->st, "m0", "m0", T0, out, 4), 2);
	store_sends_free(out, 2);
	/* the daemon dies here; at the next start: */
	assert_int_equal(store_outbox_recover(f->st, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(get_msg(f->st, a).status, "queued");
	assert_string_equal(get_msg(f->st, b).status, "queued");
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM messages WHERE uncertain = 1"), 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM outbox WHERE sending = 1"), 0);
	/* they go out again */
	assert_int_equal(claim(f->st, "m0", "m0", T0, out, 4), 2);
	store_sends_free(out, 2);
	/* nothing left to recover twice */
	assert_int_equal(store_outbox_recover(f->st, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_outbox_recover(f->st, &n), 0);
	assert_int_equal(n, 0);
}

static void test_outbox_order_and_modems(void **state)
{
	struct fx *f = *state;
	struct store_send out[8];
	int64_t late = queue(f->st, "13900000001", "晚", "m0", 0, T0 + 10);
	int64_t early = queue(f->st, "13900000002", "早", "m0", 0, T0);
	int64_t staff = queue(f->st, "13900000003", "员工", "m0", 10, T0 + 5);
	int64_t other = queue(f->st, "13900000004", "另一个猫", "m1", 0, T0);
	int64_t any = queue(f->st, "13900000005", "随便哪个猫", NULL, 0, T0);
	int64_t future = queue(f->st, "13900000006", "安静时段后", "m0", 0, T0 + 3600);

	/* m0's due messages: priority first, then oldest not_before; not m1's, not those for any modem */
	assert_int_equal(claim(f->st, "m0", "m0", T0 + 10, out, 8), 3);
	assert_int_equal(out[0].id, staff);
	assert_int_equal(out[1].id, early);
	assert_int_equal(out[2].id, late);
	store_sends_free(out, 3);
	/* NULL: the messages any modem may send, claimed here by m1 */
	assert_int_equal(claim(f->st, NULL, "m1", T0 + 10, out, 8), 1);
	assert_int_equal(out[0].id, any);
	assert_string_equal(out[0].modem, "m1");
	store_sends_free(out, 1);
	assert_string_equal(get_msg(f->st, any).modem, "m1");
	assert_int_equal(claim(f->st, "m1", "m1", T0 + 10, out, 8), 1);
	assert_int_equal(out[0].id, other);
	store_sends_free(out, 1);
	/* not before its time */
	assert_int_equal(claim(f->st, "m0", "m0", T0 + 3599, out, 8), 0);
	assert_int_equal(claim(f->st, "m0", "m0", T0 + 3600, out, 8), 1);
	assert_int_equal(out[0].id, future);
	store_sends_free(out, 1);
}

static void test_outbox_claim_max(void **state)
{
	struct fx *f = *state;
	struct store_send out[2];

	for (int i = 0; i < 5; i++)
		queue(f->st, "13900000001", "多", "m0", 0, T0 + i);
	assert_int_equal(claim(f->st, "m0", "m0", T0 + 10, out, 2), 2);
	store_sends_free(out, 2);
	assert_int_equal(claim(f->st, "m0", "m0", T0 + 10, out, 2), 2);
	store_sends_free(out, 2);
	assert_int_equal(claim(f->st, "m0", "m0", T0 + 10, out, 2), 1);
	store_sends_free(out, 1);
	assert_int_equal(claim(f->st, "m0", "m0", T0 + 10, out, 2), 0);
}

/* ---- sessions ---------------------------------------------------------------------------- */

static void test_sessions(void **state)
{
	struct fx *f = *state;
	struct session s, l;

	session_init(&s, "sms:13912345678", "+8613912345678", CHANNEL_SMS);
	snprintf(s.node, sizeof(s.node), "zhitongche.apply");
	s.page = 1;
	s.screen = 2;
	s.mode = SESSION_FORM;
	s.form_step = FORM_NEED;
	session_set(&s.form_name, "张桂兰");
	session_set(&s.form_place, "寨子街村3组");
	session_set(&s.last_reply, "第3步：要办啥事？");
	s.updated_at = T0;
	assert_int_equal(store_session_save(f->st, &s), 0);

	/* within the timeout: as it was */
	session_init(&l, "sms:13912345678", "+8613912345678", CHANNEL_SMS);
	assert_int_equal(store_session_load(f->st, "sms:13912345678", T0 + 1800, 1800, &l), 0);
	assert_false(l.fresh);
	assert_string_equal(l.node, "zhitongche.apply");
	assert_int_equal(l.page, 1);
	assert_int_equal(l.screen, 2);
	assert_int_equal(l.mode, SESSION_FORM);
	assert_int_equal(l.form_step, FORM_NEED);
	assert_string_equal(l.form_name, "张桂兰");
	assert_string_equal(l.form_place, "寨子街村3组");
	assert_null(l.form_need);
	assert_null(l.form_phone);
	assert_string_equal(l.last_reply, "第3步：要办啥事？");
	assert_int_equal(l.updated_at, T0);
	session_clear(&l);

	/* past it: fresh, at root, the form dropped, but the last reply kept for 重复 */
	session_init(&l, "sms:13912345678", "+8613912345678", CHANNEL_SMS);
	assert_int_equal(store_session_load(f->st, "sms:13912345678", T0 + 1801, 1800, &l), 0);
	assert_true(l.fresh);
	assert_string_equal(l.node, "root");
	assert_int_equal(l.mode, SESSION_MENU);
	assert_null(l.form_name);
	assert_string_equal(l.last_reply, "第3步：要办啥事？");
	session_clear(&l);

	/* no session at all: fresh and empty */
	session_init(&l, "sms:13800000001", "13800000001", CHANNEL_SMS);
	assert_int_equal(store_session_load(f->st, "sms:13800000001", T0, 1800, &l), 0);
	assert_true(l.fresh);
	assert_null(l.last_reply);
	session_clear(&l);

	/* saving again replaces; delete removes */
	session_form_reset(&s);
	snprintf(s.node, sizeof(s.node), "dibao");
	s.updated_at = T0 + 10;
	assert_int_equal(store_session_save(f->st, &s), 0);
	session_init(&l, "sms:13912345678", "+8613912345678", CHANNEL_SMS);
	assert_int_equal(store_session_load(f->st, "sms:13912345678", T0 + 20, 1800, &l), 0);
	assert_string_equal(l.node, "dibao");
	assert_null(l.form_name);
	session_clear(&l);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sessions"), 1);
	assert_int_equal(store_session_delete(f->st, "sms:13912345678"), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sessions"), 0);
	session_clear(&s);
}

struct idle {
	char keys[8][sizeof(((struct session *)0)->key)];
	int steps[8];
	size_t n;
};

static int on_idle(struct session *s, void *arg)
{
	struct idle *i = arg;

	snprintf(i->keys[i->n], sizeof(i->keys[i->n]), "%s", s->key);
	i->steps[i->n] = s->form_step;
	i->n++;
	return 0;
}

static void save_session(struct store *st, const char *key, int mode, int step, int64_t at)
{
	struct session s;

	session_init(&s, key, key + 4, CHANNEL_SMS);
	s.mode = mode;
	s.form_step = step;
	s.updated_at = at;
	assert_int_equal(store_session_save(st, &s), 0);
	session_clear(&s);
}

static void test_idle_forms(void **state)
{
	struct fx *f = *state;
	struct idle i;
	int n = -1;

	save_session(f->st, "sms:13900000001", SESSION_FORM, FORM_PLACE, T0 - 4000); /* an old form */
	save_session(f->st, "sms:13900000002", SESSION_FORM, FORM_PHONE, T0 - 10);   /* a form in progress */
	save_session(f->st, "sms:13900000003", SESSION_MENU, 0, T0 - 4000);          /* old, but no form */
	save_session(f->st, "sms:13900000004", SESSION_FEEDBACK, 0, T0 - 4000);
	memset(&i, 0, sizeof(i));
	assert_int_equal(store_session_idle_forms(f->st, T0 - 1800, on_idle, &i), 0);
	assert_int_equal(i.n, 1);
	assert_string_equal(i.keys[0], "sms:13900000001");
	assert_int_equal(i.steps[0], FORM_PLACE);

	assert_int_equal(store_session_count(f->st, "sms", T0 - 100, &n), 0);
	assert_int_equal(n, 1);
	/* the purge leaves half-filled forms to the idle-forms job (which may send a note) */
	assert_int_equal(store_session_purge(f->st, "sms", T0 - 100, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sessions"), 2);
}

static void test_sequences(void **state)
{
	struct fx *f = *state;
	int64_t v = 0;

	for (int64_t want = 1; want <= 3; want++) {
		assert_int_equal(store_next_seq(f->st, "case-2026", &v), 0);
		assert_int_equal(v, want);
	}
	assert_int_equal(store_next_seq(f->st, "feedback-2026", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(store_next_seq(f->st, "case-2027", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(store_next_seq(f->st, "case-2026", &v), 0);
	assert_int_equal(v, 4);
	/* a rolled-back number is given again: numbers have no gaps */
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_next_seq(f->st, "case-2026", &v), 0);
	assert_int_equal(v, 5);
	store_rollback(f->st);
	assert_int_equal(store_next_seq(f->st, "case-2026", &v), 0);
	assert_int_equal(v, 5);
}

/* The bind-and-run helpers (store_int.h): what each value kind binds, and a wrong count refused. */
static const char SQL_T_CREATE[] = "CREATE TABLE t (k INTEGER, pos, known, real, txt, blob)";
static const char SQL_T_ADD[] = "INSERT INTO t (k, pos, known, real, txt, blob) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_T_NULLS[] =
    "SELECT (pos IS NULL) + 2 * (known IS NULL) + 4 * (real IS NULL) + 8 * (txt IS NULL) + 16 * (blob IS NULL)"
    " FROM t WHERE k = ?1";
static const char SQL_T_ROW[] = "SELECT pos, known, real, txt, length(txt), hex(blob) FROM t WHERE k = ?1";
static const char SQL_T_COUNT[] = "SELECT count(*) FROM t";

static void test_bind_and_run(void **state)
{
	struct fx *f = *state;
	sqlite3_stmt *s;
	int64_t v = -1;
	int n = -1;

	assert_int_equal(store_run_a(f->st, SQL_T_CREATE, NULL), 0);
	/* "0: none" and "-1: unknown" bind NULL, as do NaN and NULL pointers */
	assert_int_equal(store_run(f->st, SQL_T_ADD, ST_INT(1), ST_POS(0), ST_KNOWN(-1), ST_REAL(NAN), ST_TEXT(NULL),
			     ST_BLOB(NULL, 3)),
	    0);
	assert_int_equal(store_get_int(f->st, SQL_T_NULLS, &v, ST_INT(1)), 0);
	assert_int_equal(v, 31);
	/* and values bind as given: ST_KNOWN(0) is a value, ST_TEXTN takes its bytes, NUL included */
	assert_int_equal(store_run(f->st, SQL_T_ADD, ST_INT(2), ST_POS(7), ST_KNOWN(0), ST_REAL(1.5),
			     ST_TEXTN("ab\0cd", 5), ST_BLOB("\x01\x02", 2)),
	    0);
	assert_int_equal(store_get_int(f->st, SQL_T_NULLS, &v, ST_INT(2)), 0);
	assert_int_equal(v, 0);
	s = store_query(f->st, SQL_T_ROW, ST_INT(2));
	assert_non_null(s);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(s, 0), 7);
	assert_int_equal(sqlite3_column_int64(s, 1), 0);
	assert_true(sqlite3_column_double(s, 2) == 1.5);
	assert_int_equal(sqlite3_column_bytes(s, 3), 5);
	assert_string_equal(store_col_text(s, 5), "0102");
	assert_int_equal(store_end(f->st, SQL_T_ROW, s, SQLITE_ROW), 0);
	/* no row: 0 */
	assert_int_equal(store_get_int(f->st, SQL_T_NULLS, &v, ST_INT(3)), 0);
	assert_int_equal(v, 0);
	/* a value too few or too many: refused before anything runs */
	assert_int_equal(store_run(f->st, SQL_T_ADD, ST_INT(4), ST_NULL, ST_NULL, ST_NULL, ST_NULL), -1);
	assert_int_equal(store_run(f->st, SQL_T_ADD, ST_INT(4), ST_NULL, ST_NULL, ST_NULL, ST_NULL, ST_NULL, ST_NULL),
	    -1);
	assert_int_equal(store_count_a(f->st, SQL_T_COUNT, NULL, &n), 0);
	assert_int_equal(n, 2);
	/* store_finish: a failed step rolls the transaction back */
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_run(f->st, SQL_T_ADD, ST_INT(5), ST_NULL, ST_NULL, ST_NULL, ST_NULL, ST_NULL), 0);
	assert_int_equal(store_finish(f->st, -1), -1);
	assert_int_equal(store_count_a(f->st, SQL_T_COUNT, NULL, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_run(f->st, SQL_T_ADD, ST_INT(5), ST_NULL, ST_NULL, ST_NULL, ST_NULL, ST_NULL), 0);
	assert_int_equal(store_finish(f->st, 0), 0);
	assert_int_equal(store_count_a(f->st, SQL_T_COUNT, NULL, &n), 0);
	assert_int_equal(n, 3);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fresh_migration),
		T(test_migrate_from_v1),
		T(test_migrate_numbers),
		T(test_newer_version_refused),
		cmocka_unit_test(test_open_errors),
		T(test_messages),
		T(test_message_bytes_verbatim),
		T(test_transactions),
		T(test_part_idempotent),
		T(test_groups),
		T(test_outbox_cycle),
		T(test_outbox_progress),
		T(test_outbox_failed),
		T(test_outbox_recover),
		T(test_outbox_order_and_modems),
		T(test_outbox_claim_max),
		T(test_sessions),
		T(test_idle_forms),
		T(test_sequences),
		T(test_bind_and_run),
	};

	/* "migrated ... to schema version N" is info; the refused newer file logs its (expected) error */
	log_init(LOG_LVL_WARN, true);
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
