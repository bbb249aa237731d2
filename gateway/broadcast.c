#include "broadcast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contacts.h"
#include "log.h"
#include "lunar.h"
#include "market.h"
#include "menu.h"
#include "outbox.h"
#include "phone.h"
#include "smstext.h"
#include "store_contacts.h"
#include "tz.h"
#include "utf8.h"
#include "util.h"

/* ---- words for the office --------------------------------------------------------------------- */

const char *broadcast_status_name(const char *status)
{
	static const char *const names[][2] = {
		{ "draft", "草稿" },
		{ "approved", "已批准" },
		{ "sending", "发送中" },
		{ "paused", "已暂停" },
		{ "done", "发完了" },
		{ "cancelled", "已取消" },
		{ "pending", "待发" },
		{ "queued", "已排队" },
		{ "sent", "已发出" },
		{ "delivered", "已送达" },
		{ "failed", "没发成" },
		{ "skipped", "不发" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(status, names[i][0]) == 0)
			return names[i][1];
	return status;
}

/* ---- the audience ------------------------------------------------------------------ */

struct strs {
	char **v;
	size_t n;
};

struct broadcast_audience {
	struct strs groups, towns, villages, phones;
};

static void strs_add(struct strs *s, const char *v, size_t len)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(char *));
	s->v[s->n++] = xstrndup(v, len);
}

static void strs_free(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

static bool strs_has(const struct strs *s, const char *v, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->v[i]) == len && strncmp(s->v[i], v, len) == 0)
			return true;
	return false;
}

void broadcast_audience_free(struct broadcast_audience *a)
{
	if (a == NULL)
		return;
	strs_free(&a->groups);
	strs_free(&a->towns);
	strs_free(&a->villages);
	strs_free(&a->phones);
	free(a);
}

struct broadcast_audience *broadcast_audience_parse(const char *spec, char *err, size_t errlen)
{
	struct broadcast_audience *a = xcalloc(1, sizeof(*a));
	const char *p = spec ? spec : "";

	while (*p) {
		const char *end = p + strcspn(p, ",\xEF"); /* , or the start of ，(EF BC 8C) */
		size_t seplen = 1;
		while (*end == '\xEF' && strncmp(end, "\xEF\xBC\x8C", 3) != 0)
			end = end + 1 + strcspn(end + 1, ",\xEF");
		if (*end == '\xEF')
			seplen = 3;
		size_t len = (size_t)(end - p);
		const char *colon = memchr(p, ':', len);
		if (len == 0) {
			p = *end ? end + seplen : end;
			continue;
		}
		if (colon == NULL || colon + 1 == p + len) {
			snprintf(
			    err, errlen, "“%.*s”：请写成 group:类别、town:乡镇、village:村 或 phone:电话", (int)len, p);
			broadcast_audience_free(a);
			return NULL;
		}
		size_t kl = (size_t)(colon - p), vl = len - kl - 1;
		const char *v = colon + 1;
		if (kl == 5 && strncmp(p, "group", 5) == 0) {
			strs_add(&a->groups, v, vl);
		} else if (kl == 4 && strncmp(p, "town", 4) == 0) {
			strs_add(&a->towns, v, vl);
		} else if (kl == 7 && strncmp(p, "village", 7) == 0) {
			strs_add(&a->villages, v, vl);
		} else if (kl == 5 && strncmp(p, "phone", 5) == 0) {
			strs_add(&a->phones, v, vl);
		} else {
			snprintf(err, errlen, "“%.*s”：“%.*s”不认识（可用 group、town、village 或 phone）", (int)len, p,
			    (int)kl, p);
			broadcast_audience_free(a);
			return NULL;
		}
		p = *end ? end + seplen : end;
	}
	if (a->groups.n + a->towns.n + a->villages.n + a->phones.n == 0) {
		snprintf(err, errlen, "没说发给谁：--to group:类别,town:乡镇,village:村,phone:电话");
		broadcast_audience_free(a);
		return NULL;
	}
	return a;
}

static bool in_groups(const struct strs *want, const char *groups)
{
	const char *p = groups;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (strs_has(want, p, len))
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

static bool audience_has(const struct broadcast_audience *a, const struct store_contact *k)
{
	bool any = false;

	if (a->groups.n) {
		if (!in_groups(&a->groups, k->groups))
			return false;
		any = true;
	}
	if (a->towns.n) {
		if (!strs_has(&a->towns, k->town, strlen(k->town)))
			return false;
		any = true;
	}
	if (a->villages.n) {
		if (!strs_has(&a->villages, k->village, strlen(k->village)))
			return false;
		any = true;
	}
	return any;
}

/* ---- rendering ----------------------------------------------------------------------- */

static const char *placeholder_value(struct ctx *c, const char *name, size_t n, const char *cname,
    const char *town, const char *village, bool *known)
{
	const struct config *cfg = c->cfg;
	char key[128];

	*known = true;
	if (n == 4 && strncmp(name, "name", 4) == 0)
		return cname ? cname : "";
	if (n == 4 && strncmp(name, "town", 4) == 0)
		return town ? town : "";
	if (n == 7 && strncmp(name, "village", 7) == 0)
		return village ? village : "";
	snprintf(key, sizeof(key), "%.*s", (int)n, name);
	if (strcmp(key, "office.name") == 0)
		return cfg->office_name;
	if (strcmp(key, "office.address") == 0)
		return cfg->office_address;
	if (strcmp(key, "office.hours") == 0)
		return cfg->office_hours;
	if (strcmp(key, "office.phone") == 0)
		return cfg->office_phone;
	if (menu_value(c->menu, key))
		return menu_value(c->menu, key);
	*known = false;
	return NULL;
}

static bool placeholder_at(const char *p, size_t *n)
{
	size_t k = 0;

	if (*p != '{')
		return false;
	for (p++; (p[k] >= 'a' && p[k] <= 'z') || (p[k] >= '0' && p[k] <= '9') || p[k] == '_' || p[k] == '.'; k++)
		;
	if (k == 0 || p[k] != '}')
		return false;
	*n = k;
	return true;
}

/* The first placeholder the template has no value for, or NULL. */
static char *unknown_placeholder(struct ctx *c, const char *tmpl)
{
	for (const char *p = tmpl; *p; p++) {
		size_t n;
		bool known;
		if (placeholder_at(p, &n)) {
			placeholder_value(c, p + 1, n, NULL, NULL, NULL, &known);
			if (!known)
				return xstrndup(p, n + 2);
		}
	}
	return NULL;
}

char *broadcast_render(struct ctx *c, const char *tmpl, const char *name, const char *town, const char *village)
{
	struct buf b = { 0 };
	const char *hint = menu_text(c->menu, "broadcast_optout_hint");

	for (const char *p = tmpl; *p;) {
		size_t n;
		bool known;
		if (placeholder_at(p, &n)) {
			const char *v = placeholder_value(c, p + 1, n, name, town, village, &known);
			if (known) {
				buf_adds(&b, v);
				p += n + 2;
				continue;
			}
		}
		buf_addc(&b, *p++);
	}
	if (c->cfg->bcast_optout_hint && hint && *hint)
		buf_adds(&b, hint);
	if (b.len == 0)
		return xstrdup("");
	return buf_take(&b);
}

/* ---- hours ---------------------------------------------------------------------------- */

/* The minute of the day on the bureau's clock (config timezone). */
static int minute_of(const struct config *cfg, int64_t t)
{
	struct tm tm;

	tz_civil(cfg->tz, t, &tm);
	return tm.tm_hour * 60 + tm.tm_min;
}

static bool open_minute(const struct config *cfg, int64_t t)
{
	int m = minute_of(cfg, t);

	if (cfg->bcast_allowed_hours.set && !time_window_contains(&cfg->bcast_allowed_hours, m))
		return false;
	if (cfg->quiet_hours.set && time_window_contains(&cfg->quiet_hours, m))
		return false;
	return true;
}

bool broadcast_open_at(const struct config *cfg, int64_t t, int64_t *next)
{
	if (open_minute(cfg, t))
		return true;
	if (next) {
		int64_t m = t - t % 60;
		*next = t + 86400;
		for (int i = 1; i <= 2 * 24 * 60; i++)
			if (open_minute(cfg, m + (int64_t)i * 60)) {
				*next = m + (int64_t)i * 60;
				break;
			}
	}
	return false;
}

/* ---- creating ------------------------------------------------------------------------- */

struct collect {
	const struct broadcast_audience *a;
	struct store *st;
	int64_t bid;
	int seq, ok, optout, invalid;
	struct strs keys; /* phones taken, to add an explicit one only once */
	int rc;
};

static int add_recipient(struct collect *x, int64_t contact_id, const char *phone, bool opted_out, bool valid)
{
	const char *status = "pending", *reason = NULL;

	if (!valid) {
		status = "skipped";
		reason = "invalid number";
		x->invalid++;
	} else if (opted_out) {
		status = "skipped";
		reason = "opted out";
		x->optout++;
	} else {
		x->ok++;
	}
	strs_add(&x->keys, phone, strlen(phone));
	return store_broadcast_recipient_add(x->st, x->bid, ++x->seq, contact_id, phone, status, reason);
}

static int take_contact(const struct store_contact *k, void *arg)
{
	struct collect *x = arg;

	if (!audience_has(x->a, k))
		return 0;
	if (add_recipient(x, k->id, k->phone, k->opted_out, phone_is_ordinary(k->phone)) < 0) {
		x->rc = -1;
		return 1;
	}
	return 0;
}

struct one_contact {
	bool found, opted_out;
	int64_t id;
	char name[128], town[128], village[128];
};

static int take_one(const struct store_contact *k, void *arg)
{
	struct one_contact *o = arg;

	o->found = true;
	o->opted_out = k->opted_out;
	o->id = k->id;
	snprintf(o->name, sizeof(o->name), "%s", k->name);
	snprintf(o->town, sizeof(o->town), "%s", k->town);
	snprintf(o->village, sizeof(o->village), "%s", k->village);
	return 1;
}

static int contact_of(struct store *st, const char *phone, struct one_contact *o)
{
	struct store_contact_filter f = { 0 };

	memset(o, 0, sizeof(*o));
	f.phone = phone;
	f.limit = 1;
	return store_contact_each(st, &f, take_one, o);
}

int broadcast_create(struct ctx *c, const struct broadcast_new *n, int64_t *id, char *err, size_t errlen)
{
	struct broadcast_audience *a;
	struct store_broadcast b;
	struct collect x;
	char *bad;
	bool has_people_terms;

	*id = 0;
	if (n->text == NULL || *n->text == '\0' || !utf8_valid(n->text, strlen(n->text))) {
		snprintf(err, errlen, "短信内容是空的，或不是 UTF-8");
		return -1;
	}
	if ((bad = unknown_placeholder(c, n->text)) != NULL) {
		snprintf(err, errlen,
		    "短信里的 %s 没有值（可用 {name}、{town}、{village}、{office.*} 和菜单里的数，"
		    "如 {amount.dibao_city}）",
		    bad);
		free(bad);
		return -1;
	}
	if ((a = broadcast_audience_parse(n->audience, err, errlen)) == NULL)
		return -1;
	has_people_terms = a->groups.n + a->towns.n + a->villages.n > 0;
	memset(&b, 0, sizeof(b));
	b.kind = n->kind ? n->kind : "broadcast";
	b.text = n->text;
	b.audience = n->audience;
	b.status = n->approved ? "approved" : "draft";
	b.start_at = n->at > 0 ? n->at : c->now;
	b.created_by = n->by;
	b.created_at = c->now;
	b.approved_by = n->approved ? n->by : NULL;
	b.approved_at = n->approved ? c->now : 0;
	b.dedup = n->dedup;
	memset(&x, 0, sizeof(x));
	x.a = a;
	x.st = c->st;
	if (store_begin(c->st) < 0)
		goto db_fail;
	if (store_broadcast_add(c->st, &b, &x.bid) < 0)
		goto db_fail_tx;
	if (x.bid == 0) {
		/* an automatic broadcast made before */
		store_rollback(c->st);
		broadcast_audience_free(a);
		return 0;
	}
	if (has_people_terms) {
		struct store_contact_filter f = { 0 };
		if (store_contact_each(c->st, &f, take_contact, &x) < 0 || x.rc < 0)
			goto db_fail_tx;
	}
	for (size_t i = 0; i < a->phones.n; i++) {
		char key[PHONE_LEN];
		const char *why;
		struct one_contact o;
		bool valid = contacts_phone(a->phones.v[i], c->cfg->phone_country, key, sizeof(key), &why);
		if (valid && strs_has(&x.keys, key, strlen(key)))
			continue;
		if (valid && contact_of(c->st, key, &o) < 0)
			goto db_fail_tx;
		if (add_recipient(&x, valid && o.found ? o.id : 0, valid ? key : a->phones.v[i], valid && o.found && o.opted_out,
		    valid) < 0)
			goto db_fail_tx;
	}
	if (x.ok == 0 && n->dedup) {
		/* an automatic one with nobody to tell: kept as done, so that its key holds */
		if (store_broadcast_set(c->st, x.bid, "done", NULL, c->now, c->now) < 0 || store_commit(c->st) < 0)
			goto db_fail;
		*id = x.bid;
		strs_free(&x.keys);
		broadcast_audience_free(a);
		return 0;
	}
	if (x.ok == 0) {
		store_rollback(c->st);
		snprintf(err, errlen, "没有人可发：符合条件的联系人 %d 个（%d 人已退订，%d 个号码无效）", x.seq,
		    x.optout, x.invalid);
		strs_free(&x.keys);
		broadcast_audience_free(a);
		return -1;
	}
	if (store_commit(c->st) < 0)
		goto db_fail;
	*id = x.bid;
	log_info("broadcast", "broadcast %lld created by %s: %d recipients, %d skipped", (long long)x.bid, n->by, x.ok,
	    x.optout + x.invalid);
	strs_free(&x.keys);
	broadcast_audience_free(a);
	return 0;
db_fail_tx:
	store_rollback(c->st);
db_fail:
	snprintf(err, errlen, "数据库出错（见日志），什么也没建");
	strs_free(&x.keys);
	broadcast_audience_free(a);
	return -1;
}

/* ---- one broadcast ----------------------------------------------------------------------- */

struct bc {
	bool found;
	int64_t id, start_at;
	char status[16], kind[16], created_by[64];
	char *text;
};

static int take_bc(const struct store_broadcast *b, void *arg)
{
	struct bc *o = arg;

	o->found = true;
	o->id = b->id;
	o->start_at = b->start_at;
	snprintf(o->status, sizeof(o->status), "%s", b->status);
	snprintf(o->kind, sizeof(o->kind), "%s", b->kind);
	snprintf(o->created_by, sizeof(o->created_by), "%s", b->created_by);
	o->text = xstrdup(b->text);
	return 1;
}

static int load(struct ctx *c, int64_t id, struct bc *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	if (store_broadcast_each(c->st, id, take_bc, o) < 0) {
		snprintf(err, errlen, "数据库出错（见日志）");
		return -1;
	}
	if (!o->found) {
		snprintf(err, errlen, "没有编号为 %lld 的群发", (long long)id);
		return -1;
	}
	return 0;
}

struct samples {
	struct ctx *c;
	const char *tmpl;
	struct broadcast_preview *p;
	int rc;
};

static int take_sample(const struct store_recipient *r, void *arg)
{
	struct samples *s = arg;
	struct broadcast_preview *p = s->p;
	struct one_contact o;
	struct sms_count cnt;
	char *text;

	if (strcmp(r->state, "skipped") == 0) {
		if (strcmp(r->reason, "opted out") == 0)
			p->skipped_optout++;
		else
			p->skipped_invalid++;
		return 0;
	}
	if (strcmp(r->state, "cancelled") == 0)
		return 0;
	if (contact_of(s->c->st, r->phone, &o) < 0) {
		s->rc = -1;
		return 1;
	}
	text = broadcast_render(s->c, s->tmpl, o.name, o.town, o.village);
	sms_count(text, strlen(text), &cnt);
	p->segments_total += (int)cnt.segments;
	if ((int)cnt.segments > p->segments_max)
		p->segments_max = (int)cnt.segments;
	if (p->nsamples < 3) {
		char who[LOG_PHONE_BUF];
		p->sample[p->nsamples] = text;
		p->sample_phone[p->nsamples] = xstrdup(log_phone(r->phone, who, sizeof(who)));
		p->nsamples++;
	} else {
		free(text);
	}
	return 0;
}

int broadcast_preview(struct ctx *c, int64_t id, int modems_up, struct broadcast_preview *p)
{
	struct bc b;
	struct store_bcast_counts n;
	struct samples s;
	char err[128];

	memset(p, 0, sizeof(*p));
	if (load(c, id, &b, err, sizeof(err)) < 0)
		return -1;
	if (store_broadcast_counts(c->st, id, &n) < 0) {
		free(b.text);
		return -1;
	}
	p->recipients = n.total - n.skipped - n.cancelled;
	s.c = c;
	s.tmpl = b.text;
	s.p = p;
	s.rc = 0;
	if (store_broadcast_recipients(c->st, id, 0, 0, take_sample, &s) < 0 || s.rc < 0) {
		free(b.text);
		return -1;
	}
	free(b.text);
	p->modems_up = modems_up;
	p->per_minute = c->cfg->bcast_per_modem_per_minute;
	if (p->per_minute > 0 && modems_up > 0) {
		int64_t left = n.pending + n.queued;
		p->seconds = (left * 60 + (int64_t)p->per_minute * modems_up - 1) / ((int64_t)p->per_minute * modems_up);
	}
	return 0;
}

void broadcast_preview_free(struct broadcast_preview *p)
{
	for (int i = 0; i < p->nsamples; i++) {
		free(p->sample[i]);
		free(p->sample_phone[i]);
	}
	memset(p, 0, sizeof(*p));
}

static int set_status(struct ctx *c, int64_t id, const char *from_any, const char *to, const char *approved_by,
    const char *unqueue, const char *by, char *err, size_t errlen)
{
	struct bc b;
	int n = 0;
	bool allowed = false;
	const char *p = from_any;

	if (store_begin(c->st) < 0) {
		snprintf(err, errlen, "数据库忙或坏了（见日志）");
		return -1;
	}
	if (load(c, id, &b, err, errlen) < 0) {
		store_rollback(c->st);
		return -1;
	}
	free(b.text);
	while (*p) {
		size_t len = strcspn(p, "|");
		if (strlen(b.status) == len && strncmp(p, b.status, len) == 0)
			allowed = true;
		p += len + (p[len] == '|');
	}
	if (!allowed) {
		store_rollback(c->st);
		snprintf(err, errlen, "群发 %lld 现在是“%s”，不能改成“%s”", (long long)id,
		    broadcast_status_name(b.status), broadcast_status_name(to));
		return -1;
	}
	if ((unqueue && store_broadcast_unqueue(c->st, id, unqueue, &n) < 0) ||
	    store_broadcast_set(c->st, id, to, approved_by, c->now,
		strcmp(to, "cancelled") == 0 || strcmp(to, "done") == 0 ? c->now : 0) < 0 ||
	    store_commit(c->st) < 0) {
		store_rollback(c->st);
		snprintf(err, errlen, "数据库出错（见日志），什么也没改");
		return -1;
	}
	log_info("broadcast", "broadcast %lld: %s -> %s by %s%s", (long long)id, b.status, to, by,
	    n ? " (messages not yet sent taken back from the outbox)" : "");
	return 0;
}

bool broadcast_needs_supervisor(struct ctx *c, int64_t id)
{
	struct store_bcast_counts n;

	return store_broadcast_counts(c->st, id, &n) < 0 || n.total - n.skipped - n.cancelled > c->cfg->bcast_approval_over;
}

int broadcast_approve(struct ctx *c, int64_t id, const char *by, char *err, size_t errlen)
{
	const struct staff_cfg *s = config_staff_by_name(c->cfg, by);
	struct store_bcast_counts n;
	struct bc b;
	int recipients;

	if (s == NULL) {
		snprintf(err, errlen, "%s 不是配置里的工作人员", by);
		return -1;
	}
	if (load(c, id, &b, err, errlen) < 0)
		return -1;
	free(b.text);
	if (store_broadcast_counts(c->st, id, &n) < 0) {
		snprintf(err, errlen, "数据库出错（见日志）");
		return -1;
	}
	recipients = n.total - n.skipped - n.cancelled;
	if (recipients > c->cfg->bcast_approval_over) {
		if (strcmp(b.created_by, by) == 0) {
			snprintf(err, errlen,
			    "群发 %lld 发给 %d 人（超过 broadcast.approval_over = %d）：要由建立人（%s）以外的"
			    "一位主管批准",
			    (long long)id, recipients, c->cfg->bcast_approval_over, b.created_by);
			return -1;
		}
		if (s->role != STAFF_ROLE_SUPERVISOR) {
			snprintf(err, errlen,
			    "群发 %lld 发给 %d 人（超过 broadcast.approval_over = %d）：只有主管能批准，%s 不是主管",
			    (long long)id, recipients, c->cfg->bcast_approval_over, by);
			return -1;
		}
	}
	return set_status(c, id, "draft", "approved", by, NULL, by, err, errlen);
}

int broadcast_pause(struct ctx *c, int64_t id, const char *by, char *err, size_t errlen)
{
	return set_status(c, id, "approved|sending", "paused", NULL, "pending", by, err, errlen);
}

int broadcast_resume(struct ctx *c, int64_t id, const char *by, char *err, size_t errlen)
{
	return set_status(c, id, "paused", "approved", NULL, NULL, by, err, errlen);
}

int broadcast_cancel(struct ctx *c, int64_t id, const char *by, char *err, size_t errlen)
{
	return set_status(c, id, "draft|approved|sending|paused", "cancelled", NULL, "cancelled", by, err, errlen);
}

/* ---- sending ------------------------------------------------------------------------------ */

struct running {
	int64_t id[64];
	char status[64][16];
	int64_t start_at[64];
	size_t n;
};

static int take_running(const struct store_broadcast *b, void *arg)
{
	struct running *r = arg;

	if ((strcmp(b->status, "approved") == 0 || strcmp(b->status, "sending") == 0) && r->n < 64) {
		r->id[r->n] = b->id;
		snprintf(r->status[r->n], sizeof(r->status[0]), "%s", b->status);
		r->start_at[r->n] = b->start_at;
		r->n++;
	}
	return 0;
}

struct batch {
	int seq[512];
	char phone[512][PHONE_LEN + 8];
	int n;
};

static int take_pending(const struct store_recipient *r, void *arg)
{
	struct batch *b = arg;

	if (b->n >= 512)
		return 1;
	b->seq[b->n] = r->seq;
	snprintf(b->phone[b->n], sizeof(b->phone[0]), "%s", r->phone);
	b->n++;
	return 0;
}

/* One broadcast's step, inside a transaction. */
static int step(struct ctx *c, int64_t id, const char *status, int window, int *queued)
{
	struct batch *b = NULL;
	struct bc bc;
	char err[128];
	int outstanding = 0, rc = -1;

	if (load(c, id, &bc, err, sizeof(err)) < 0)
		return -1;
	if (strcmp(status, "approved") == 0 && store_broadcast_set(c->st, id, "sending", NULL, c->now, 0) < 0)
		goto out;
	if (store_broadcast_outstanding(c->st, id, &outstanding) < 0)
		goto out;
	b = xcalloc(1, sizeof(*b));
	if (window > outstanding &&
	    store_broadcast_pending(c->st, id, window - outstanding > 512 ? 512 : window - outstanding, take_pending, b) < 0)
		goto out;
	for (int i = 0; i < b->n; i++) {
		struct one_contact o;
		int64_t mid;
		char *text;
		if (contact_of(c->st, b->phone[i], &o) < 0)
			goto out;
		if (o.found && o.opted_out) {
			if (store_broadcast_recipient_set(c->st, id, b->seq[i], "skipped", "opted out", 0) < 0)
				goto out;
			continue;
		}
		text = broadcast_render(c, bc.text, o.name, o.town, o.village);
		rc = outbox_queue_broadcast(c, b->phone[i], text, &mid);
		free(text);
		if (rc < 0 || store_broadcast_recipient_set(c->st, id, b->seq[i], "queued", NULL, mid) < 0) {
			rc = -1;
			goto out;
		}
		(*queued)++;
		outstanding++;
	}
	if (b->n == 0 && outstanding == 0) {
		if (store_broadcast_set(c->st, id, "done", NULL, c->now, c->now) < 0)
			goto out;
		log_info("broadcast", "broadcast %lld done", (long long)id);
	}
	rc = 0;
out:
	free(b);
	free(bc.text);
	return rc;
}

int broadcast_tick(struct ctx *c, int modems_up, int *queued)
{
	struct running r;
	int64_t next = 0;
	int window, rate = c->cfg->bcast_per_modem_per_minute;

	*queued = 0;
	memset(&r, 0, sizeof(r));
	if (store_broadcast_each(c->st, 0, take_running, &r) < 0)
		return -1;
	if (r.n == 0)
		return 0;
	if (!broadcast_open_at(c->cfg, c->now, &next)) {
		/* what is queued waits too: none goes out after the allowed hours */
		int held = 0;
		if (store_begin(c->st) < 0)
			return -1;
		if (store_outbox_hold_broadcasts(c->st, next, &held) < 0 || store_commit(c->st) < 0) {
			store_rollback(c->st);
			return -1;
		}
		return 0;
	}
	/* a minute's worth at the configured rate on the modems up: the outbox never holds more */
	window = rate > 0 ? rate * (modems_up > 0 ? modems_up : 1) : 50;
	if (window < 2)
		window = 2;
	for (size_t i = 0; i < r.n; i++) {
		if (r.start_at[i] > c->now)
			continue;
		if (store_begin(c->st) < 0)
			return -1;
		if (step(c, r.id[i], r.status[i], window, queued) < 0 || store_commit(c->st) < 0) {
			store_rollback(c->st);
			return -1;
		}
	}
	return 0;
}

/* ---- market-day reminders ------------------------------------------------------------------ */

/* Word i (0-based) of a space-separated list. */
static void nth_word(const char *list, int i, char *out, size_t outlen)
{
	const char *p = list ? list : "";

	out[0] = '\0';
	for (int k = 0; *p; k++) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (k == i) {
			snprintf(out, outlen, "%.*s", (int)n, p);
			return;
		}
		p += n;
	}
}

int broadcast_markets(struct ctx *c, int *created)
{
	const struct menu_market *mk;
	size_t n = menu_markets(c->menu, &mk);
	const char *tmpl = menu_text(c->menu, "market_reminder");
	struct tm tm;
	long tomorrow;

	*created = 0;
	if (n == 0 || tmpl == NULL || *c->cfg->bcast_market_group == '\0')
		return 0;
	tz_civil(c->cfg->tz, c->now, &tm);
	tomorrow = lunar_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) + 1;
	for (size_t i = 0; i < n; i++) {
		struct broadcast_new b;
		struct lunar_date ld;
		char month[8], dom[8], lm[32], ld_day[32], lunar[96], dedup[256], err[256];
		char *text, *audience;
		int y, mo, d;
		int64_t id = 0;
		int rc;

		if (!market_rule_on(&mk[i].rule, tomorrow))
			continue;
		lunar_civil_from_days(tomorrow, &y, &mo, &d);
		snprintf(month, sizeof(month), "%d", mo);
		snprintf(dom, sizeof(dom), "%d", d);
		lunar[0] = '\0';
		if (lunar_from_days(tomorrow, &ld)) {
			nth_word(menu_text(c->menu, "lunar_months"), ld.month - 1, lm, sizeof(lm));
			nth_word(menu_text(c->menu, "lunar_days"), ld.day - 1, ld_day, sizeof(ld_day));
			snprintf(lunar, sizeof(lunar), "%s%s%s", ld.leap && menu_text(c->menu, "lunar_leap") ?
			    menu_text(c->menu, "lunar_leap") : "", lm, ld_day);
		}
		struct menu_var v[] = {
			{ "market.month", month }, { "market.day", dom }, { "market.lunar", lunar },
			{ "market.town", mk[i].town }, { "market.place", mk[i].place },
			{ "market.time", mk[i].time ? mk[i].time : "" },
		};
		text = menu_render(tmpl, v, ARRAY_LEN(v));
		/* the subscribers (broadcast.market_group) of the market's town */
		audience = xasprintf("group:%s,town:%s", c->cfg->bcast_market_group, mk[i].town);
		snprintf(dedup, sizeof(dedup), "market:%s:%s:%04d-%02d-%02d", mk[i].town, mk[i].place, y, mo, d);
		memset(&b, 0, sizeof(b));
		b.text = text;
		b.audience = audience;
		b.by = "market-reminder";
		b.kind = "market";
		b.dedup = dedup;
		b.approved = true; /* the rules approved it: the subscribers asked for it */
		rc = broadcast_create(c, &b, &id, err, sizeof(err));
		free(text);
		free(audience);
		if (rc < 0) {
			log_warnx("broadcast", "market reminder for %s: %s", mk[i].town, err);
			continue;
		}
		if (id > 0)
			(*created)++;
	}
	return 0;
}
