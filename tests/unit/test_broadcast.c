/*
 * broadcasts (issue 17): audience and template checks, the preview, four
 * eyes, allowed and quiet hours, the per-modem rate kept by the outbox
 * claim, recipients queued exactly once, pause/resume/cancel, opted-out
 * numbers skipped, modem status reports matched to what was sent, and the
 * market-day reminder the day before a market on a lunar schedule.
 *
 * On an in-memory store, the shipped menus and a config of the test's own:
 * broadcast.per_modem_per_minute 2, approval_over 3, allowed 09:00-19:00,
 * quiet hours 21:00-08:00; staff 王建国, 李秀英 and supervisor 张主任. The time
 * zone is pinned to China (CST-8).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "broadcast.h"
#include "lunar.h"
#include "outbox.h"
#include "phone.h"
#include "store.h"
#include "store_contacts.h"
#include "store_messages.h"
#include "store_outbox.h"
#include "world.h"
#include "hl.h"

#define TUE10 1796090400LL /* Tuesday 2026-12-01 10:00 in China */
#define HOUR 3600LL

struct fx {
	char dir[PATH_MAX];
	struct world *w;
	struct store *st;
	struct ctx c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/test_broadcast-XXXXXX";

	if (f == NULL || mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	f->w = hl_unit_world(f->dir,
	    "office = { name = \"崆峒区民政局\"; address = \"社会救助股\"; hours = \"周一至周五\"; phone = \"0933-0000000\"; };\n"
	    "cases = { quiet_hours = \"21:00-08:00\"; };\n"
	    "broadcast = { per_modem_per_minute = 2; approval_over = 3; allowed_hours = \"09:00-19:00\"; };\n"
	    "staff = (\n"
	    "  { name = \"王建国\"; phone = \"13900000001\"; areas = [\"崆峒镇\"]; duty = true; },\n"
	    "  { name = \"李秀英\"; phone = \"13900000002\"; areas = [\"白水镇\"]; },\n"
	    "  { name = \"张主任\"; phone = \"13900000003\"; role = \"supervisor\"; }\n"
	    ");\n"
	    "modems = ( { name = \"m0\"; model = \"dummy\"; connection = \"none\"; device = \"phone0\"; } );\n",
	    &f->st);
	if (f->w == NULL)
		return -1;
	f->c.st = f->st;
	f->c.cfg = f->w->cfg;
	f->c.menu = f->w->menu;
	f->c.now = TUE10;
	f->c.flags = CTX_NO_LIMITS;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 32];

	store_close(f->st);
	world_release(f->w);
	snprintf(p, sizeof(p), "%s/hotline.cfg", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A contact (phone as people write it) in group grp. */
static int64_t contact(struct fx *f, const char *phone, const char *name, const char *town, const char *grp)
{
	struct store_contact c;
	char norm[PHONE_LEN];
	int64_t id;

	phone_normalise(phone, "86", norm, sizeof(norm));
	memset(&c, 0, sizeof(c));
	c.phone = norm;
	c.name = name;
	c.town = town;
	c.source = "roster";
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_contact_upsert(f->st, &c, true, f->c.now, &id, NULL), 0);
	assert_int_equal(store_contact_group_add(f->st, id, grp), 0);
	assert_int_equal(store_commit(f->st), 0);
	return id;
}

static void opt_out(struct fx *f, const char *phone)
{
	char norm[PHONE_LEN];
	bool found;

	phone_normalise(phone, "86", norm, sizeof(norm));
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_contact_opt(f->st, norm, true, f->c.now, &found), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_true(found);
}

/* Five 低保户 (one in 崆峒镇), one of them opted out, and a 高龄 contact. */
static void roster(struct fx *f)
{
	contact(f, "13700000001", "张桂兰", "白水镇", "低保户");
	contact(f, "13700000002", "李福贵", "白水镇", "低保户");
	contact(f, "13700000003", "王秀英", "白水镇", "低保户");
	contact(f, "13700000004", "赵大山", "白水镇", "低保户");
	contact(f, "13700000005", "孙小红", "崆峒镇", "低保户");
	contact(f, "13700000006", "周老汉", "白水镇", "高龄");
	opt_out(f, "13700000004");
}

static int64_t create(struct fx *f, const char *text, const char *to, const char *by)
{
	struct broadcast_new n;
	char err[512];
	int64_t id;

	memset(&n, 0, sizeof(n));
	n.text = text;
	n.audience = to;
	n.by = by;
	if (broadcast_create(&f->c, &n, &id, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return id;
}

static struct store_bcast_counts counts(struct fx *f, int64_t id)
{
	struct store_bcast_counts n;

	assert_int_equal(store_broadcast_counts(f->st, id, &n), 0);
	return n;
}

static int tick(struct fx *f, int64_t t)
{
	int queued = -1;

	f->c.now = t;
	assert_int_equal(broadcast_tick(&f->c, 1, &queued), 0);
	return queued;
}

struct status {
	char s[16], approved_by[32];
};

static int take_status(const struct store_broadcast *b, void *arg)
{
	struct status *st = arg;

	snprintf(st->s, sizeof(st->s), "%s", b->status);
	snprintf(st->approved_by, sizeof(st->approved_by), "%s", b->approved_by);
	return 1;
}

static struct status status(struct fx *f, int64_t id)
{
	struct status s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_broadcast_each(f->st, id, take_status, &s), 0);
	return s;
}

/* Claim and send one due message as modem m at t (what a modem thread does); false when none was due. */
static bool send_one(struct fx *f, const char *modem, int64_t t, int64_t *id, char *phone, size_t plen)
{
	struct store_send s;
	size_t n = 0;

	assert_int_equal(store_outbox_claim(f->st, NULL, modem, t, &s, 1, &n), 0);
	if (n == 0)
		return false;
	assert_int_equal(store_outbox_sent(f->st, s.id, 1, 7, t), 0);
	if (id)
		*id = s.id;
	if (phone)
		snprintf(phone, plen, "%s", s.phone);
	store_sends_free(&s, 1);
	return true;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_create_and_preview(void **state)
{
	struct fx *f = *state;
	struct broadcast_preview p;
	struct broadcast_new n;
	char err[512];
	int64_t id, bad;

	roster(f);
	id = create(f, "{name}您好：{town}{office.name}提醒，城市低保标准{amount.dibao_city}元。",
	    "group:低保户,town:白水镇,phone:10086", "李秀英");
	assert_int_equal(broadcast_preview(&f->c, id, 2, &p), 0);
	/* the 低保户 of 白水镇: 4, one opted out; 10086 is no person's number */
	assert_int_equal(p.recipients, 3);
	assert_int_equal(p.skipped_optout, 1);
	assert_int_equal(p.skipped_invalid, 1);
	assert_int_equal(p.nsamples, 3);
	assert_non_null(strstr(p.sample[0], "张桂兰您好：白水镇崆峒区民政局提醒"));
	assert_non_null(strstr(p.sample[0], menu_value(f->w->menu, "amount.dibao_city")));
	/* the opt-out hint (broadcast.optout_hint defaults to true) */
	assert_non_null(strstr(p.sample[1], menu_text(f->w->menu, "broadcast_optout_hint")));
	assert_non_null(strstr(p.sample[2], "王秀英"));
	assert_int_equal(p.segments_max, 1);
	assert_int_equal(p.segments_total, 3);
	/* 3 at 2 a minute on 2 modems: 45 s */
	assert_int_equal(p.per_minute, 2);
	assert_int_equal(p.seconds, 45);
	broadcast_preview_free(&p);
	assert_string_equal(status(f, id).s, "draft");
	assert_int_equal(tick(f, TUE10), 0); /* a draft never goes */

	/* mistakes are refused before anything is stored */
	memset(&n, 0, sizeof(n));
	n.text = "{name}您好{nosuch}";
	n.audience = "group:低保户";
	n.by = "李秀英";
	assert_int_equal(broadcast_create(&f->c, &n, &bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "{nosuch}"));
	n.text = "通知";
	n.audience = "dorf:白水镇";
	assert_int_equal(broadcast_create(&f->c, &n, &bad, err, sizeof(err)), -1);
	n.audience = "group:没有这个组";
	assert_int_equal(broadcast_create(&f->c, &n, &bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "没有人可发"));
}

static void test_four_eyes(void **state)
{
	struct fx *f = *state;
	char err[512];
	int64_t big, small;

	roster(f);
	big = create(f, "通知", "group:低保户", "李秀英");        /* 4 recipients: over approval_over (3) */
	small = create(f, "通知", "group:高龄", "李秀英");        /* 1 */
	assert_int_equal(broadcast_approve(&f->c, big, "李秀英", err, sizeof(err)), -1); /* its author */
	assert_non_null(strstr(err, "主管"));
	assert_int_equal(broadcast_approve(&f->c, big, "王建国", err, sizeof(err)), -1); /* not a supervisor */
	assert_int_equal(broadcast_approve(&f->c, big, "无名氏", err, sizeof(err)), -1); /* nobody */
	assert_string_equal(status(f, big).s, "draft");
	assert_int_equal(broadcast_approve(&f->c, big, "张主任", err, sizeof(err)), 0);
	assert_string_equal(status(f, big).s, "approved");
	assert_string_equal(status(f, big).approved_by, "张主任");
	assert_int_equal(broadcast_approve(&f->c, big, "张主任", err, sizeof(err)), -1); /* not a draft any more */
	/* a small one: its author may approve it */
	assert_int_equal(broadcast_approve(&f->c, small, "李秀英", err, sizeof(err)), 0);
	assert_string_equal(status(f, small).approved_by, "李秀英");
}

static void test_hours_rate_exactly_once(void **state)
{
	struct fx *f = *state;
	struct store_bcast_counts n;
	char err[512];
	int64_t id, t, mid;

	roster(f);
	id = create(f, "{name}您好", "group:低保户", "李秀英");
	assert_int_equal(broadcast_approve(&f->c, id, "张主任", err, sizeof(err)), 0);
	/* 22:00 is in quiet hours, 07:00 before the allowed hours: nothing goes in */
	assert_int_equal(tick(f, TUE10 + 12 * HOUR), 0);
	assert_int_equal(tick(f, TUE10 + 21 * HOUR), 0);
	assert_string_equal(status(f, id).s, "approved");
	/* 10:00: a minute's worth at 2 a minute on one modem */
	t = TUE10 + 24 * HOUR;
	assert_int_equal(tick(f, t), 2);
	assert_string_equal(status(f, id).s, "sending");
	assert_int_equal(tick(f, t), 0); /* never more than that waiting */
	n = counts(f, id);
	assert_int_equal(n.queued, 2);
	assert_int_equal(n.pending, 2);
	assert_int_equal(n.skipped, 1);
	/* the per-modem rate (set on the connection as the modem threads do from the config): m0 sends 2,
	 * then no broadcast for it within the minute; a reply still goes */
	store_outbox_broadcast_rate(f->st, f->c.cfg->bcast_per_modem_per_minute);
	assert_true(send_one(f, "m0", t, NULL, NULL, 0));
	assert_true(send_one(f, "m0", t + 1, NULL, NULL, 0));
	assert_int_equal(tick(f, t + 2), 2);
	assert_false(send_one(f, "m0", t + 3, NULL, NULL, 0));
	{
		struct ctx c = f->c;
		c.now = t + 3;
		assert_int_equal(store_begin(f->st), 0);
		assert_int_equal(outbox_queue_sms(&c, "+8613800000009", "回复", NOTIFY_REPLY, 0, NULL, &mid), 0);
		assert_int_equal(store_commit(f->st), 0);
		int64_t got = 0;
		assert_true(send_one(f, "m0", t + 3, &got, NULL, 0));
		assert_int_equal(got, mid);
	}
	/* another modem has its own pace */
	assert_true(send_one(f, "m1", t + 4, NULL, NULL, 0));
	/* a minute later m0 may again */
	assert_true(send_one(f, "m0", t + 62, NULL, NULL, 0));
	/* nothing left: done, and each recipient got exactly one message */
	assert_int_equal(tick(f, t + 63), 0);
	assert_string_equal(status(f, id).s, "done");
	n = counts(f, id);
	assert_int_equal(n.sent, 4);
	assert_int_equal(n.total, 5);
	struct store_msg_filter mf = { 0 };
	int count = 0;
	assert_int_equal(store_msg_count(f->st, &mf, 0, &count), 0);
	assert_int_equal(count, 5);
}

static void test_held_after_hours(void **state)
{
	struct fx *f = *state;
	char err[512];
	int64_t id, t = TUE10 + 8 * HOUR + 59 * 60; /* 18:59 */
	struct store_send s;
	size_t n = 0;

	roster(f);
	id = create(f, "通知", "group:高龄", "李秀英");
	assert_int_equal(broadcast_approve(&f->c, id, "李秀英", err, sizeof(err)), 0);
	assert_int_equal(tick(f, t), 1);
	/* 19:05: past the allowed hours; what waits in the outbox waits for 09:00 */
	assert_int_equal(tick(f, t + 6 * 60), 0);
	assert_int_equal(store_outbox_claim(f->st, NULL, "m0", t + 6 * 60, &s, 1, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_outbox_claim(f->st, NULL, "m0", TUE10 + 23 * HOUR, &s, 1, &n), 0); /* 09:00 */
	assert_int_equal(n, 1);
	store_sends_free(&s, n);
}

static void test_pause_resume_cancel(void **state)
{
	struct fx *f = *state;
	struct store_bcast_counts n;
	char err[512];
	int64_t id, t = TUE10;
	int depth = 0;
	int64_t oldest;

	roster(f);
	id = create(f, "通知", "group:低保户", "李秀英");
	assert_int_equal(broadcast_approve(&f->c, id, "张主任", err, sizeof(err)), 0);
	assert_int_equal(tick(f, t), 2);
	assert_true(send_one(f, "m0", t, NULL, NULL, 0));
	assert_int_equal(broadcast_pause(&f->c, id, "张主任", err, sizeof(err)), 0);
	assert_string_equal(status(f, id).s, "paused");
	/* what was queued and not yet sent came back out of the outbox */
	assert_int_equal(store_outbox_stats(f->st, t, &depth, &oldest), 0);
	assert_int_equal(depth, 0);
	n = counts(f, id);
	assert_int_equal(n.sent, 1);
	assert_int_equal(n.pending, 3);
	assert_int_equal(n.queued, 0);
	assert_int_equal(tick(f, t + 120), 0); /* paused: nothing goes in */
	assert_int_equal(broadcast_pause(&f->c, id, "张主任", err, sizeof(err)), -1);
	assert_int_equal(broadcast_resume(&f->c, id, "张主任", err, sizeof(err)), 0);
	assert_int_equal(tick(f, t + 120), 2);
	assert_int_equal(broadcast_cancel(&f->c, id, "张主任", err, sizeof(err)), 0);
	assert_string_equal(status(f, id).s, "cancelled");
	n = counts(f, id);
	assert_int_equal(n.sent, 1);
	assert_int_equal(n.cancelled, 3);
	assert_int_equal(n.pending + n.queued, 0);
	assert_int_equal(store_outbox_stats(f->st, t, &depth, &oldest), 0);
	assert_int_equal(depth, 0);
	assert_int_equal(tick(f, t + 240), 0);
	assert_int_equal(broadcast_resume(&f->c, id, "张主任", err, sizeof(err)), -1);
}

static void test_optout_before_sending(void **state)
{
	struct fx *f = *state;
	struct store_bcast_counts n;
	char err[512];
	int64_t id;

	roster(f);
	id = create(f, "通知", "group:高龄", "李秀英");
	assert_int_equal(broadcast_approve(&f->c, id, "李秀英", err, sizeof(err)), 0);
	opt_out(f, "13700000006"); /* after it was created, before it went */
	assert_int_equal(tick(f, TUE10), 0);
	n = counts(f, id);
	assert_int_equal(n.skipped, 1);
	assert_int_equal(n.total, 1);
	assert_int_equal(tick(f, TUE10 + 1), 0);
	assert_string_equal(status(f, id).s, "done");
}

struct failed_reason {
	char reason[128];
};

static int take_failed(const struct store_recipient *r, void *arg)
{
	struct failed_reason *x = arg;

	if (strcmp(r->state, "failed") == 0)
		snprintf(x->reason, sizeof(x->reason), "%s", r->reason);
	return 0;
}

static void test_delivery_reports(void **state)
{
	struct fx *f = *state;
	struct store_bcast_counts n;
	struct failed_reason fr;
	char err[512], p1[64], p2[64];
	int64_t id, m1, m2, matched;

	roster(f);
	id = create(f, "通知", "group:低保户,town:白水镇", "张主任");
	assert_int_equal(broadcast_approve(&f->c, id, "张主任", err, sizeof(err)), 0); /* 3: not over 3 */
	assert_int_equal(tick(f, TUE10), 2);
	assert_true(send_one(f, "m0", TUE10, &m1, p1, sizeof(p1)));  /* reference 7 (send_one) */
	assert_true(send_one(f, "m0", TUE10 + 1, &m2, p2, sizeof(p2)));
	/* a report on another modem, or another number, matches nothing */
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_dlr_match(f->st, "m9", p1, 7, "delivered", TUE10 + 5, &matched), 0);
	assert_int_equal(matched, 0);
	assert_int_equal(store_dlr_match(f->st, "m0", "+8613800000000", 7, "delivered", TUE10 + 5, &matched), 0);
	assert_int_equal(matched, 0);
	/* the newest message with that reference to that number, from that modem */
	assert_int_equal(store_dlr_match(f->st, "m0", p1, 7, "buffered", TUE10 + 5, &matched), 0);
	assert_int_equal(matched, m1);
	assert_int_equal(store_dlr_match(f->st, "m0", p1, 7, "delivered", TUE10 + 6, &matched), 0);
	assert_int_equal(matched, m1);
	assert_int_equal(store_dlr_match(f->st, "m0", p1, 7, "failed", TUE10 + 7, &matched), 0);
	assert_int_equal(matched, 0); /* a final state stays */
	assert_int_equal(store_dlr_match(f->st, "m0", p2, 7, "failed", TUE10 + 6, &matched), 0);
	assert_int_equal(matched, m2);
	assert_int_equal(store_commit(f->st), 0);
	n = counts(f, id);
	assert_int_equal(n.delivered, 1);
	assert_int_equal(n.failed, 1);
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(store_broadcast_recipients(f->st, id, 0, 0, take_failed, &fr), 0);
	assert_non_null(strstr(fr.reason, "not delivered"));
}

/*
 * Market-day reminders on a lunar schedule: a market on every 初一, so the day
 * before is the last day of a lunar month and the reminder crosses into the
 * next. The shipped menus are copied with one market added.
 */
static void test_market_reminder_across_lunar_month(void **state)
{
	struct fx *f = *state;
	char cmd[3 * PATH_MAX], path[PATH_MAX + 64], cfg[PATH_MAX + 32];
	struct world *w;
	struct ctx c;
	struct lunar_date ld, eve;
	long today, d = -1;
	int made = -1;
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "cp -r '%s/menus' '%s/menus'", hl_src_dir(), f->dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/menus/23-test-market.cfg", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "markets = ( { town = \"白水镇\"; place = \"白水街道集市\"; rule = \"农历初一\"; time = \"上午\"; } );\n");
	fclose(fp);
	snprintf(cfg, sizeof(cfg), "%s/market.cfg", f->dir);
	fp = fopen(cfg, "w");
	assert_non_null(fp);
	fprintf(fp,
	    "menus = { dir = \"menus\"; };\n"
	    "office = { name = \"崆峒区民政局\"; };\n"
	    "cases = { quiet_hours = \"21:00-08:00\"; };\n"
	    "broadcast = { allowed_hours = \"09:00-19:00\"; subscriptions = [\"赶大集\"]; };\n"
	    "staff = ( { name = \"张主任\"; phone = \"13900000003\"; role = \"supervisor\"; } );\n"
	    "modems = ( { name = \"m0\"; model = \"dummy\"; connection = \"none\"; device = \"phone0\"; } );\n");
	fclose(fp);
	w = hl_load_world(cfg);
	assert_non_null(w);
	c = f->c;
	c.cfg = w->cfg;
	c.menu = w->menu;
	/* the subscribers of 白水镇; one who did not subscribe; a subscriber elsewhere */
	contact(f, "13700000011", "张桂兰", "白水镇", "赶大集");
	contact(f, "13700000012", "李福贵", "白水镇", "赶大集");
	contact(f, "13700000013", "王秀英", "白水镇", "低保户");
	contact(f, "13700000014", "孙小红", "崆峒镇", "赶大集");
	/* the eve of the next 初一 after 2026-12-01: the last day of a lunar month */
	today = lunar_days_from_civil(2026, 12, 1);
	for (long k = 0; k < 60 && d < 0; k++)
		if (lunar_from_days(today + k + 1, &ld) && ld.day == 1)
			d = today + k;
	assert_true(d > 0);
	assert_true(lunar_from_days(d, &eve));
	assert_true(eve.day >= 29 && eve.month != ld.month);
	/* two days before: nothing */
	c.now = (d - 1) * 86400LL - 8 * HOUR + 10 * HOUR;
	assert_int_equal(broadcast_markets(&c, &made), 0);
	assert_int_equal(made, 0);
	/* the eve, 07:30 on the bureau's clock: the reminder is made once ... */
	c.now = d * 86400LL - 8 * HOUR + 7 * HOUR + 30 * 60;
	assert_int_equal(broadcast_markets(&c, &made), 0);
	assert_int_equal(made, 1);
	assert_int_equal(broadcast_markets(&c, &made), 0);
	assert_int_equal(made, 0);
	struct store_bcast_counts n;
	assert_int_equal(store_broadcast_counts(f->st, 1, &n), 0);
	assert_int_equal(n.total, 2);
	assert_string_equal(status(f, 1).s, "approved");
	/* ... and goes out inside the allowed hours, not before */
	int queued = -1;
	assert_int_equal(broadcast_tick(&c, 1, &queued), 0);
	assert_int_equal(queued, 0);
	c.now += 2 * HOUR; /* 09:30 */
	assert_int_equal(broadcast_tick(&c, 1, &queued), 0);
	assert_int_equal(queued, 2);
	{
		int y, mo, dd;
		char want[64];
		struct store_send s;
		size_t got = 0;
		lunar_civil_from_days(d + 1, &y, &mo, &dd);
		snprintf(want, sizeof(want), "明天%d月%d日", mo, dd);
		assert_int_equal(store_outbox_claim(f->st, NULL, "m0", c.now, &s, 1, &got), 0);
		assert_int_equal(got, 1);
		assert_non_null(strstr(s.text, want));
		assert_non_null(strstr(s.text, "初一"));
		assert_non_null(strstr(s.text, "白水镇白水街道集市"));
		store_sends_free(&s, got);
	}
	world_release(w);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/menus' '%s'", f->dir, cfg);
	assert_int_equal(system(cmd), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_and_preview),
		T(test_four_eyes),
		T(test_hours_rate_exactly_once),
		T(test_held_after_hours),
		T(test_pause_resume_cancel),
		T(test_optout_before_sending),
		T(test_delivery_reports),
		T(test_market_reminder_across_lunar_month),
	};

	setenv("TZ", "CST-8", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
