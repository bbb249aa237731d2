/*
 * dispatch: one inbound message end to end, inside a transaction, on a real
 * SQLite file in a temp folder, the menus of tests/data/menus/ok and the
 * config tests/data/hotline-test.cfg (modems m0 and m1 with their own
 * numbers, 3 replies a minute and 10 a day per phone, repeat_window 600 s).
 *
 * Every message is stored, whatever it is. Texts from people are answered,
 * the reply queued in the outbox for the modem it came in on; everything
 * else (status reports, flash, binary; short codes, names, 106 numbers, our
 * own modems; the same text again; floods) is stored and left unanswered,
 * with one notice a day when the limits stop the replies. USSD answers come
 * back to the caller and are stored as sent. Time is set per message.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "dispatch.h"
#include "log.h"
#include "menu.h"
#include "metrics.h"
#include "phone.h"
#include "store.h"
#include "store_messages.h"
#include "store_outbox.h"
#include "utf8.h"
#include "world.h"
#include "hl.h"

#define T0 1800000000LL
#define VILLAGER "13912345678"

struct fx {
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];
	struct world *w;
	struct store *st;
	struct ctx c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/test_dispatch-XXXXXX", cfg[PATH_MAX], err[512];
	struct store_opts o = { 0 };

	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	snprintf(f->path, sizeof(f->path), "%s/hotline.db", f->dir);
	snprintf(cfg, sizeof(cfg), "%s/tests/data/hotline-test.cfg", hl_src_dir());
	f->w = hl_load_world(cfg);
	if (f->w == NULL)
		return -1;
	o.create = true;
	o.migrate = true;
	o.synchronous = "normal";
	if (store_open(f->path, &o, &f->st, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	f->c.st = f->st;
	f->c.cfg = f->w->cfg;
	f->c.menu = f->w->menu;
	f->c.now = T0;
	f->c.modem = "m0";
	f->c.flags = CTX_NO_LIMITS; /* the flood tests turn the limits on */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	static const char *const suffixes[] = { "", "-wal", "-shm" };

	store_close(f->st);
	world_release(f->w);
	for (size_t i = 0; i < 3; i++) {
		char p[PATH_MAX + 64];
		snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------------- */

struct sent {
	int64_t in_id;
	char *reply; /* NULL: not answered */
	char node[MENU_ID_MAX];
	const char *why;
};

static struct sent deliver(struct fx *f, const char *channel, const char *phone, const char *text, size_t len,
    const char *kind, const char *ussd_session)
{
	char norm[PHONE_LEN];
	/* the names the edges use ("sms", "text") as the enums they hand on */
	struct inbound in = { (enum channel)channel_parse(channel), norm, text, len, 1, (enum msg_kind)msg_kind_parse(kind),
		0, ussd_session, NULL };
	struct dispatch_result r;
	struct sent s;

	/* as the modem and HTTP edges hand it on: normalised */
	phone_normalise(phone, f->w->cfg->phone_country, norm, sizeof(norm));

	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(dispatch_inbound(&f->c, &in, &r), 0);
	assert_int_equal(store_commit(f->st), 0);
	s.in_id = r.in_id;
	s.reply = r.reply;
	s.why = r.why_silent;
	snprintf(s.node, sizeof(s.node), "%s", r.node);
	assert_true(s.in_id > 0);
	/* answered or silent, and then with a reason */
	assert_true((s.reply != NULL) != (s.why != NULL));
	return s;
}

/* An SMS text from phone at time t; returns the reply (owned) or NULL. */
static char *sms_at(struct fx *f, const char *phone, const char *text, int64_t t)
{
	struct sent s;

	f->c.now = t;
	s = deliver(f, "sms", phone, text, strlen(text), "text", NULL);
	return s.reply;
}

static const char *page(struct fx *f, const char *id, size_t p)
{
	const struct menu_node *n = menu_node_at(f->w->menu, menu_find(f->w->menu, id));

	assert_non_null(n);
	assert_true(p < n->npages);
	return n->pages[p];
}

static long long sql_int(struct fx *f, const char *fmt, ...)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char sql[1024];
	long long v = -1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* A stored message, copied. */
struct msg {
	int64_t id, reply_to, created_at;
	char channel[8], direction[4], phone[48], status[16], node[MENU_ID_MAX], kind[16], modem[16], session[32];
	char *text, *raw;
	size_t text_len, raw_len;
	int parts;
};

static int take_msg(const struct store_msg *m, void *arg)
{
	struct msg *o = arg;

	if (m->id != o->id)
		return 0;
	o->reply_to = m->reply_to;
	o->created_at = m->created_at;
	snprintf(o->channel, sizeof(o->channel), "%s", channel_name(m->channel));
	snprintf(o->direction, sizeof(o->direction), "%s", direction_name(m->direction));
	snprintf(o->phone, sizeof(o->phone), "%s", m->phone);
	snprintf(o->status, sizeof(o->status), "%s", msg_status_name(m->status));
	snprintf(o->node, sizeof(o->node), "%s", m->node);
	snprintf(o->kind, sizeof(o->kind), "%s", m->kind ? msg_kind_name(m->kind) : "");
	snprintf(o->modem, sizeof(o->modem), "%s", m->modem);
	snprintf(o->session, sizeof(o->session), "%s", m->session);
	o->text = malloc(m->text_len + 1);
	memcpy(o->text, m->text, m->text_len);
	o->text[m->text_len] = '\0';
	o->text_len = m->text_len;
	o->raw = NULL;
	o->raw_len = m->raw_len;
	if (m->raw) {
		o->raw = malloc(m->raw_len + 1);
		memcpy(o->raw, m->raw, m->raw_len);
	}
	o->parts = m->parts;
	return 1;
}

static struct msg get_msg(struct fx *f, int64_t id)
{
	struct msg m;
	struct store_msg_filter flt = { 0 };

	memset(&m, 0, sizeof(m));
	m.id = id;
	assert_int_equal(store_msg_each(f->st, &flt, take_msg, &m), 0);
	if (m.text == NULL)
		fail_msg("message %lld not stored", (long long)id);
	return m;
}

static void msg_free(struct msg *m)
{
	free(m->text);
	free(m->raw);
}

/* The reply stored for inbound message id (0 when none). */
static int64_t reply_of(struct fx *f, int64_t in_id)
{
	return sql_int(f, "SELECT coalesce(max(id), 0) FROM messages WHERE reply_to = %lld AND kind = 'reply'",
	    (long long)in_id);
}

static int64_t count_out(struct fx *f, const char *phone)
{
	char key[PHONE_LEN];

	phone_normalise(phone, PHONE_COUNTRY_DEFAULT, key, sizeof(key));
	return sql_int(f, "SELECT count(*) FROM messages WHERE direction = 'out' AND phone_key = '%s'", key);
}

/* ---- answered ------------------------------------------------------------------------------- */

static void test_text_stored_and_answered(void **state)
{
	struct fx *f = *state;
	struct sent s;
	struct msg in, out;
	struct store_send claimed[4];
	size_t n = 9;

	f->c.now = T0;
	s = deliver(f, "sms", "+86" VILLAGER, "我想问一下低保咋申请", strlen("我想问一下低保咋申请"), "text", NULL);
	assert_string_equal(s.reply, page(f, "dibao.apply", 0));
	assert_string_equal(s.node, "dibao.apply");

	in = get_msg(f, s.in_id);
	assert_string_equal(in.direction, "in");
	assert_string_equal(in.channel, "sms");
	assert_string_equal(in.status, "answered");
	assert_string_equal(in.node, "dibao.apply");
	assert_string_equal(in.kind, "text");
	assert_string_equal(in.modem, "m0");
	assert_string_equal(in.text, "我想问一下低保咋申请");
	assert_null(in.raw);
	assert_int_equal(in.created_at, T0);

	/* the reply, in the same transaction: a message and an outbox row for m0 */
	out = get_msg(f, reply_of(f, s.in_id));
	assert_string_equal(out.direction, "out");
	assert_string_equal(out.status, "queued");
	assert_string_equal(out.kind, "reply");
	assert_string_equal(out.node, "dibao.apply");
	assert_string_equal(out.text, s.reply);
	assert_string_equal(out.phone, "+86" VILLAGER);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE modem = 'm0'"), 1);
	assert_int_equal(store_outbox_claim(f->st, "m1", "m1", T0, claimed, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_outbox_claim(f->st, NULL, "m1", T0, claimed, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_outbox_claim(f->st, "m0", "m0", T0, claimed, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(claimed[0].id, out.id);
	assert_string_equal(claimed[0].text, s.reply);
	store_sends_free(claimed, n);
	msg_free(&in);
	msg_free(&out);
	free(s.reply);

	/* a message that came in on m1 is answered through m1 */
	f->c.modem = "m1";
	free(sms_at(f, "13700000000", "低保", T0 + 1));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE modem = 'm1'"), 1);
}

static void test_conversation_keeps_session(void **state)
{
	struct fx *f = *state;
	char *r;

	r = sms_at(f, VILLAGER, "1", T0);
	assert_string_equal(r, page(f, "dibao", 0));
	free(r);
	r = sms_at(f, "+86 139 1234 5678", "2", T0 + 10); /* the same person, spelled otherwise */
	assert_string_equal(r, page(f, "dibao.amount", 0));
	free(r);
	r = sms_at(f, VILLAGER, "9", T0 + 20);
	assert_string_equal(r, page(f, "dibao.amount", 1));
	free(r);
	r = sms_at(f, VILLAGER, "重复", T0 + 30); /* the last reply, from the stored session */
	assert_string_equal(r, page(f, "dibao.amount", 1));
	free(r);
	/* after sessions.timeout (1800 s) a digit is read against the main menu */
	r = sms_at(f, VILLAGER, "2", T0 + 30 + 1801);
	assert_string_equal(r, page(f, "tekun", 0));
	free(r);
	/* ... and 重复 still has the last reply */
	r = sms_at(f, VILLAGER, "重复", T0 + 30 + 1801 + 4000);
	assert_string_equal(r, page(f, "tekun", 0));
	free(r);
}

static void test_never_silence(void **state)
{
	struct fx *f = *state;
	char *r;

	r = sms_at(f, VILLAGER, "", T0);
	assert_string_equal(r, page(f, "root", 0));
	free(r);
	r = sms_at(f, VILLAGER, "村口的路灯坏了", T0 + 1);
	assert_string_equal(r, menu_text(f->w->menu, "unknown"));
	free(r);
	r = sms_at(f, VILLAGER, "😀😀", T0 + 2);
	assert_string_equal(r, page(f, "root", 0));
	free(r);
	r = sms_at(f, VILLAGER, "9", T0 + 3);
	assert_string_equal(r, menu_text(f->w->menu, "bad_option"));
	free(r);
}

/* ---- not answered ------------------------------------------------------------------------- */

static void test_kinds(void **state)
{
	static const char *const silent[] = { "flash", "binary", "status-report" };
	struct fx *f = *state;

	for (size_t i = 0; i < 3; i++) {
		struct sent s;
		struct msg m;
		f->c.now = T0 + (int64_t)i;
		s = deliver(f, "sms", VILLAGER, "低保", 6, silent[i], NULL);
		assert_null(s.reply);
		m = get_msg(f, s.in_id);
		assert_string_equal(m.kind, silent[i]);
		assert_string_equal(m.status, "ignored");
		assert_string_equal(m.text, "低保");
		msg_free(&m);
	}
	assert_int_equal(count_out(f, VILLAGER), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox"), 0);

	/* a message whose last part never came is still answered with what came */
	{
		struct sent s;
		struct msg m;
		f->c.now = T0 + 10;
		s = deliver(f, "sms", VILLAGER, "我想问低保", strlen("我想问低保"), "incomplete", NULL);
		assert_string_equal(s.reply, page(f, "dibao", 0));
		m = get_msg(f, s.in_id);
		assert_string_equal(m.kind, "incomplete");
		assert_string_equal(m.status, "answered");
		msg_free(&m);
		free(s.reply);
	}
	assert_int_equal(count_out(f, VILLAGER), 1);
}

static void test_senders_never_answered(void **state)
{
	static const char *const senders[] = {
		"10086", "95588", "12345", "1069012345678", "10655025123456", "BANK", "ICBC", "",
		/* our own modems, in any spelling */
		"13800000000", "+8613800000000", "008613800000000", "13800000099", "+86 138 0000 0099",
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
		struct sent s;
		struct msg m;
		f->c.now = T0 + (int64_t)i;
		f->c.modem = i % 2 ? "m1" : "m0";
		s = deliver(f, "sms", senders[i], "低保", 6, "text", NULL);
		if (s.reply)
			fail_msg("\"%s\" was answered", senders[i]);
		m = get_msg(f, s.in_id);
		assert_string_equal(m.status, "ignored");
		msg_free(&m);
	}
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE direction = 'out'"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE direction = 'in'"),
	    (long long)(sizeof(senders) / sizeof(senders[0])));
}

static void test_repeat_window(void **state)
{
	struct fx *f = *state;
	struct sent s;
	char *r;

	f->c.flags = 0;
	r = sms_at(f, VILLAGER, "低保", T0);
	assert_non_null(r);
	free(r);
	/* the same text again: a person who did not see the answer; answered once more */
	r = sms_at(f, VILLAGER, "低保", T0 + 5);
	assert_non_null(r);
	free(r);
	/* a third time within limits.repeat_window: an auto-responder, not answered */
	f->c.now = T0 + 10;
	s = deliver(f, "sms", VILLAGER, "低保", 6, "text", NULL);
	assert_null(s.reply);
	assert_non_null(strstr(s.why, "repeat_window"));
	{
		struct msg m = get_msg(f, s.in_id);
		assert_string_equal(m.status, "ignored");
		msg_free(&m);
	}
	/* someone else with the same text is answered */
	r = sms_at(f, "13700000000", "低保", T0 + 11);
	assert_non_null(r);
	free(r);
	/* after the window it is answered again */
	r = sms_at(f, VILLAGER, "低保", T0 + 10 + 601);
	assert_non_null(r);
	free(r);
	/* only the text just before counts: 低保, 特困, 低保 is a person */
	r = sms_at(f, VILLAGER, "特困", T0 + 700);
	assert_non_null(r);
	free(r);
	r = sms_at(f, VILLAGER, "低保", T0 + 760);
	assert_non_null(r);
	free(r);
	/* digits are choices, not loops: 9 then 9 is answered both times */
	r = sms_at(f, VILLAGER, "2", T0 + 820);
	assert_string_equal(r, page(f, "dibao.amount", 0));
	free(r);
	r = sms_at(f, VILLAGER, "9", T0 + 880);
	assert_string_equal(r, page(f, "dibao.amount", 1));
	free(r);
	r = sms_at(f, VILLAGER, "9", T0 + 940);
	assert_string_equal(r, menu_text(f->w->menu, "bad_option"));
	free(r);
	r = sms_at(f, VILLAGER, "下一页", T0 + 1000); /* a digit word is a choice too */
	assert_string_equal(r, menu_text(f->w->menu, "bad_option"));
	free(r);
	r = sms_at(f, VILLAGER, "下一页", T0 + 1060);
	assert_non_null(r);
	free(r);
}

static int64_t notices(struct fx *f, const char *phone)
{
	char key[PHONE_LEN];

	phone_normalise(phone, PHONE_COUNTRY_DEFAULT, key, sizeof(key));
	return sql_int(f, "SELECT count(*) FROM messages WHERE kind = 'notice' AND phone_key = '%s'", key);
}

/* Texts a person might send one after another, none the same as the one before. */
static const char *const asks[] = { "低保", "特困", "临时救助", "高龄补贴" };

static void test_rate_limits(void **state)
{
	struct fx *f = *state;
	const char *day_text = menu_text(f->w->menu, "rate_limited");
	const char *minute_text = menu_text(f->w->menu, "rate_limited_minute");
	struct sent s;
	char *r;
	int64_t t = T0, answered = 0;
	int k = 0;

	f->c.flags = 0;
	/* staff text the hotline all day: never limited */
	{
		const char *staff = f->w->cfg->staff[0].phone;
		for (int i = 0; i < 12; i++) {
			r = sms_at(f, staff, i % 2 ? "0" : "1", t);
			assert_non_null(r);
			free(r);
		}
	}
	/* 3 a minute (questions of its own, not answers to ours) */
	for (int i = 0; i < 3; i++) {
		r = sms_at(f, VILLAGER, asks[k++ % 4], t++);
		assert_non_null(r);
		free(r);
		answered++;
	}
	f->c.now = t++;
	s = deliver(f, "sms", VILLAGER, asks[k % 4], strlen(asks[k % 4]), "text", NULL);
	k++;
	assert_null(s.reply);
	assert_non_null(strstr(s.why, "limits.replies_per_minute"));
	{
		struct msg m = get_msg(f, s.in_id);
		assert_string_equal(m.status, "limited");
		msg_free(&m);
	}
	/* one notice, and only one: it says the minute's limit, not the day's */
	assert_int_equal(notices(f, VILLAGER), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE kind = 'notice' AND text = '%s'", minute_text),
	    1);
	assert_non_null(strstr(minute_text, "一分钟"));
	assert_null(strstr(minute_text, "今天"));
	/* but a menu digit answers what we asked: never limited */
	r = sms_at(f, VILLAGER, "1", t++);
	assert_non_null(r);
	free(r);
	for (int i = 0; i < 3; i++) {
		f->c.now = t++;
		s = deliver(f, "sms", VILLAGER, asks[k % 4], strlen(asks[k % 4]), "text", NULL);
		k++;
		assert_null(s.reply);
		struct msg m = get_msg(f, s.in_id);
		assert_string_equal(m.status, "ignored");
		msg_free(&m);
	}
	assert_int_equal(notices(f, VILLAGER), 1);
	/* others are not held back by this phone */
	r = sms_at(f, "13700000000", "低保", t++);
	assert_non_null(r);
	free(r);

	/* two minutes later the minute's limit has passed: up to 10 replies a day */
	t = T0 + 120;
	answered = count_out(f, VILLAGER) - 2; /* not the notice, not the answer to our menu */
	while (answered < 10) {
		r = sms_at(f, VILLAGER, asks[k++ % 4], t);
		if (r == NULL)
			fail_msg("reply %lld of the day was not sent", (long long)answered + 1);
		free(r);
		answered++;
		t += 30; /* two a minute: under the minute's limit */
	}
	assert_int_equal(count_out(f, VILLAGER), 10 + 2); /* and the notice, and the answer to our menu */
	f->c.now = t;
	s = deliver(f, "sms", VILLAGER, asks[k % 4], strlen(asks[k % 4]), "text", NULL);
	k++;
	assert_null(s.reply);
	assert_non_null(strstr(s.why, "limits.replies_per_day"));
	/* the day's notice says so */
	assert_int_equal(notices(f, VILLAGER), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE kind = 'notice' AND text = '%s'", day_text), 1);

	/* the next day: answered again; a new limit, a new notice */
	t = T0 + 2 * 86400;
	for (int i = 0; i < 3; i++) {
		r = sms_at(f, VILLAGER, asks[k++ % 4], t++);
		assert_non_null(r);
		free(r);
	}
	f->c.now = t++;
	s = deliver(f, "sms", VILLAGER, asks[k % 4], strlen(asks[k % 4]), "text", NULL);
	assert_null(s.reply);
	assert_int_equal(notices(f, VILLAGER), 3);
	/* notices go out through any modem, and are queued */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id"
				    " WHERE m.kind = 'notice' AND o.modem IS NULL"),
	    3);
}

/*
 * A villager filling in the home-visit form answers faster than the
 * per-minute limit: every answer is answered and the case is made.
 */
static void test_form_not_limited(void **state)
{
	struct fx *f = *state;
	const char *steps[] = { "申请上门", "张桂兰", "崆峒镇东关村5组", "老伴瘫痪在床，想办低保", "1", "1" };
	char *r = NULL;

	f->c.flags = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		free(r);
		r = sms_at(f, "13700000009", steps[i], T0 + 5000 + (int64_t)i);
		if (r == NULL)
			fail_msg("step %zu (%s) was not answered", i + 1, steps[i]);
	}
	assert_non_null(strstr(r, "2026-") ? r : strstr(r, "编号"));
	free(r);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM cases WHERE applicant_key LIKE '%%13700000009'"), 1);
	assert_int_equal(notices(f, "13700000009"), 0);
}

/* ---- whatever the bytes ------------------------------------------------------------------------ */

static void test_invalid_utf8_and_nul(void **state)
{
	struct fx *f = *state;
	static const char bytes[] = "低保\xff\0咋办\xe4\xbd";
	struct sent s;
	struct msg m;

	f->c.now = T0;
	s = deliver(f, "sms", VILLAGER, bytes, sizeof(bytes) - 1, "text", NULL);
	assert_non_null(s.reply);
	assert_string_equal(s.node, "dibao");
	m = get_msg(f, s.in_id);
	/* the text is valid UTF-8 for everyone who reads it; the bytes are kept as they came */
	assert_true(utf8_valid(m.text, m.text_len));
	assert_string_equal(m.text, "低保\xEF\xBF\xBD\xEF\xBF\xBD咋办\xEF\xBF\xBD\xEF\xBF\xBD");
	assert_non_null(m.raw);
	assert_int_equal(m.raw_len, sizeof(bytes) - 1);
	assert_memory_equal(m.raw, bytes, sizeof(bytes) - 1);
	assert_string_equal(m.status, "answered");
	msg_free(&m);
	free(s.reply);
}

static void test_long_text(void **state)
{
	struct fx *f = *state;
	size_t len = 10 * 1024;
	char *text = malloc(len + 1);
	struct sent s;
	struct msg m;

	/* "低保" and then 10 KB of other characters: kept whole, matched on the first limits.max_text bytes */
	memcpy(text, "低保", 6);
	for (size_t i = 6; i + 3 <= len; i += 3)
		memcpy(text + i, "啊", 3);
	for (size_t i = len - (len - 6) % 3; i < len; i++)
		text[i] = 'x';
	text[len] = '\0';
	f->c.now = T0;
	s = deliver(f, "sms", VILLAGER, text, len, "text", NULL);
	assert_non_null(s.reply);
	assert_string_equal(s.node, "dibao");
	m = get_msg(f, s.in_id);
	assert_int_equal(m.text_len, len);
	assert_memory_equal(m.text, text, len);
	assert_null(m.raw);
	msg_free(&m);
	free(s.reply);

	/* a keyword beyond max_text is not seen (the matching is bounded), and still there is an answer */
	memcpy(text, "啊啊", 6);
	memcpy(text + len - 7, "低保", 6); /* the last whole characters, before the final x */
	f->c.now = T0 + 1;
	s = deliver(f, "sms", "13700000000", text, len, "text", NULL);
	assert_string_equal(s.reply, menu_text(f->w->menu, "unknown"));
	m = get_msg(f, s.in_id);
	assert_int_equal(m.text_len, len);
	msg_free(&m);
	free(s.reply);
	free(text);
}

static void test_verbatim(void **state)
{
	static const char *const texts[] = {
		"'; DROP TABLE messages; --",
		"低保' OR '1'='1",
		"\"%s%n%d\\",
		"低保😀👍🏻🇨🇳",
		"ＤＢ　ｄｂ",
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct sent s;
		struct msg m;
		f->c.now = T0 + (int64_t)i;
		s = deliver(f, "sms", VILLAGER, texts[i], strlen(texts[i]), "text", NULL);
		assert_non_null(s.reply);
		m = get_msg(f, s.in_id);
		assert_string_equal(m.text, texts[i]);
		assert_null(m.raw); /* nothing was changed */
		msg_free(&m);
		free(s.reply);
	}
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE direction = 'in'"), 5);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE direction = 'out'"), 5);
}

/* ---- USSD -------------------------------------------------------------------------------------- */

static void test_ussd(void **state)
{
	struct fx *f = *state;
	struct sent s;
	struct msg out;

	f->c.modem = NULL;
	f->c.flags = 0;
	f->c.now = T0;
	s = deliver(f, "ussd", "+86" VILLAGER, "", 0, "text", "ATUid_1");
	assert_string_equal(s.reply, page(f, "root", 0));
	out = get_msg(f, reply_of(f, s.in_id));
	assert_string_equal(out.channel, "ussd");
	assert_string_equal(out.status, "sent");
	assert_string_equal(out.session, "ATUid_1");
	assert_string_equal(out.text, s.reply);
	msg_free(&out);
	free(s.reply);
	/* the session is the aggregator's: 1 then 2 walks the menu */
	f->c.now = T0 + 5;
	s = deliver(f, "ussd", "+86" VILLAGER, "1", 1, "text", "ATUid_1");
	assert_string_equal(s.reply, page(f, "dibao", 0));
	free(s.reply);
	/* the same text twice is no loop on USSD */
	f->c.now = T0 + 6;
	s = deliver(f, "ussd", "+86" VILLAGER, "1", 1, "text", "ATUid_1");
	assert_non_null(s.reply);
	free(s.reply);
	/* nothing goes through a modem */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'"), 3);
}

/* USSD answers cost the bureau nothing and reach the phone at once: they do not use up its SMS replies. */
static void test_ussd_not_counted_as_sms(void **state)
{
	static const char *const steps[] = { "", "1", "2", "0", "低保" };
	struct fx *f = *state;
	char *r;

	f->c.flags = 0;
	f->c.modem = NULL;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct sent s;
		f->c.now = T0 + (int64_t)i;
		s = deliver(f, "ussd", VILLAGER, steps[i], strlen(steps[i]), "text", "ATUid_2");
		assert_non_null(s.reply);
		free(s.reply);
	}
	/* neither the limits nor the repeat rule (低保 was the last USSD input) hold this SMS back */
	f->c.modem = "m0";
	r = sms_at(f, VILLAGER, "低保", T0 + 10);
	if (r == NULL)
		fail_msg("an SMS after %zu USSD screens was not answered", sizeof(steps) / sizeof(steps[0]));
	free(r);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE kind = 'notice'"), 0);
}

/* ---- actions that use the database ---------------------------------------------------------------- */

static char *number_in(const char *reply)
{
	/* case numbers are YYYY-NNNN */
	for (const char *p = reply; *p; p++)
		if (p[0] >= '0' && p[0] <= '9' && strlen(p) >= 9 && p[4] == '-' && p[5] >= '0' && p[5] <= '9')
			return strndup(p, 9);
	fail_msg("no case number in \"%s\"", reply);
	return NULL;
}

static void test_status_own_cases_only(void **state)
{
	static const char *const form[] = { "6", "1", "张桂兰", "寨子街村3组", "老伴瘫痪在床", "1" };
	struct fx *f = *state;
	char *r, *number, *created;
	int64_t t = T0;

	/* another phone files a request first */
	for (size_t i = 0; i < sizeof(form) / sizeof(form[0]); i++)
		free(sms_at(f, "13700000000", form[i], t++));
	r = sms_at(f, "13700000000", "1", t++); /* confirm */
	number = number_in(r);
	{
		struct menu_var v[] = { { "case.number", number } };
		created = menu_render(menu_text(f->w->menu, "case_created"), v, 1);
		assert_string_equal(r, created);
		free(created);
	}
	free(r);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM cases WHERE applicant_key = '+8613700000000' AND name = '张桂兰'"
				    " AND place = '寨子街村3组' AND contact_phone = '+8613700000000'"),
	    1);
	/* the request goes to the duty staff (no area matches), before anything else */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id"
				    " WHERE m.phone = '+8613900000001' AND m.kind = 'staff' AND o.priority > 0"),
	    1);

	/* the villager asks: none of their own */
	r = sms_at(f, VILLAGER, "7", t++);
	assert_string_equal(r, menu_text(f->w->menu, "status_none"));
	assert_null(strstr(r, number));
	free(r);
	r = sms_at(f, VILLAGER, "查询进度", t++);
	assert_string_equal(r, menu_text(f->w->menu, "status_none"));
	free(r);
	/* the applicant asks: theirs */
	r = sms_at(f, "+86 137 0000 0000", "7", t++);
	assert_non_null(strstr(r, "本机有1件请求"));
	assert_non_null(strstr(r, number));
	assert_non_null(strstr(r, menu_text(f->w->menu, "label_received")));
	free(r);
	free(number);
}

/* 赶集: the next market days, for the town of the asker's latest request (issue 14.8) */
static void test_market_days_for_known_town(void **state)
{
	static const char *const form[] = { "6", "1", "张桂兰", "白水镇王家村3组", "老伴瘫痪在床", "1", "1" };
	struct fx *f = *state;
	int64_t t = T0; /* 2027-01-15 */
	char *r;

	/* nothing known about this phone: the next three anywhere, in date order */
	r = sms_at(f, VILLAGER, "赶集", t++);
	assert_non_null(r);
	assert_non_null(strstr(r, "救助赶大集："));
	const char *a = strstr(r, "1月15日（农历腊月初八）白水镇白水街集市，上午"),
		   *b = strstr(r, "1月16日（农历腊月初九）崆峒镇寨子街村农贸市场"), *c = strstr(r, "1月20日（农历腊月十三）崆峒镇");
	if (!(a && b && c && a < b && b < c))
		fail_msg("reply: %s", r);
	assert_null(strstr(r, "1月25日")); /* three only */
	free(r);
	/* a request with an address in 白水镇: that town's days only */
	for (size_t i = 0; i < sizeof(form) / sizeof(form[0]); i++)
		free(sms_at(f, "13700000001", form[i], t++));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM cases WHERE place = '白水镇王家村3组'"), 1);
	r = sms_at(f, "13700000001", "大集啥时候", t++);
	assert_non_null(strstr(r, "救助赶大集，白水镇："));
	assert_non_null(strstr(r, "1月25日"));
	assert_non_null(strstr(r, "2月5日"));
	assert_null(strstr(r, "崆峒镇"));
	free(r);
	/* a town named in the message wins over the known one */
	r = sms_at(f, "13700000001", "崆峒镇赶集", t++);
	assert_non_null(strstr(r, "救助赶大集，崆峒镇："));
	assert_null(strstr(r, "白水镇"));
	free(r);
}

static void test_feedback_and_callback(void **state)
{
	struct fx *f = *state;
	char *r, *n1, *n2;

	free(sms_at(f, VILLAGER, "8", T0));
	r = sms_at(f, VILLAGER, "村里的路灯坏了三个月了", T0 + 10);
	assert_non_null(strstr(r, "收到留言，编号"));
	free(r);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM feedback WHERE text = '村里的路灯坏了三个月了'"), 1);
	/* a suggestion's number cannot be taken for a case number */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM feedback WHERE number LIKE 'YJ____-____'"), 1);

	/* 人工: one open request per phone, however often it is asked */
	r = sms_at(f, VILLAGER, "人工", T0 + 20);
	n1 = number_in(r);
	free(r);
	r = sms_at(f, VILLAGER, "我要人工", T0 + 30);
	n2 = number_in(r);
	free(r);
	assert_string_equal(n1, n2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM cases WHERE applicant_key = '+86%s'", VILLAGER), 1);
	free(n1);
	free(n2);
}

/* hotline_silenced_total in /metrics, as a scrape reads it */
static unsigned long long silenced_total(void)
{
	struct buf b = { 0 };
	struct metrics_gauges g = { 0 };
	unsigned long long n = 0;
	const char *p;

	metrics_render(&b, &g);
	p = strstr(b.s, "\nhotline_silenced_total ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "\nhotline_silenced_total %llu", &n), 1);
	free(b.s);
	return n;
}

/* Every message dispatch stores and leaves unanswered counts once in hotline_silenced_total; answers do not. */
static void test_silenced_counted(void **state)
{
	struct fx *f = *state;
	unsigned long long n0 = silenced_total();
	struct sent s;
	char *r;

	f->c.flags = 0; /* the limits on */
	f->c.now = T0;
	s = deliver(f, "sms", "10086", "低保", 6, "text", NULL); /* a short code */
	assert_null(s.reply);
	assert_int_equal(silenced_total(), n0 + 1);
	s = deliver(f, "sms", VILLAGER, "x", 1, "status-report", NULL); /* not a text */
	assert_null(s.reply);
	assert_int_equal(silenced_total(), n0 + 2);
	s = deliver(f, "sms", "13800000000", "低保", 6, "text", NULL); /* our own modem */
	assert_null(s.reply);
	assert_int_equal(silenced_total(), n0 + 3);

	/* answered: not counted */
	r = sms_at(f, VILLAGER, "1", T0 + 10);
	assert_non_null(r);
	free(r);
	assert_int_equal(silenced_total(), n0 + 3);

	/* the same text a third time within limits.repeat_window: a loop, counted */
	for (int i = 0; i < 2; i++) {
		r = sms_at(f, VILLAGER, "低保怎么申请", T0 + 20 + i);
		assert_non_null(r);
		free(r);
	}
	assert_int_equal(silenced_total(), n0 + 3);
	r = sms_at(f, VILLAGER, "低保怎么申请", T0 + 30);
	assert_null(r);
	assert_int_equal(silenced_total(), n0 + 4);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_text_stored_and_answered),
		T(test_conversation_keeps_session),
		T(test_never_silence),
		T(test_kinds),
		T(test_senders_never_answered),
		T(test_repeat_window),
		T(test_form_not_limited),
		T(test_rate_limits),
		T(test_invalid_utf8_and_nul),
		T(test_long_text),
		T(test_verbatim),
		T(test_ussd),
		T(test_ussd_not_counted_as_sms),
		T(test_status_own_cases_only),
		T(test_market_days_for_known_town),
		T(test_feedback_and_callback),
		T(test_silenced_counted),
	};

	log_init(LOG_LVL_WARN, true);
	return cmocka_run_group_tests_name("dispatch", tests, NULL, NULL);
}
