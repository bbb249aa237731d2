#include "cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "phone.h"
#include "store_cases.h"
#include "util.h"

static const struct {
	const char *code, *name;
} statuses[CASE_STATUS_COUNT] = {
	[CASE_RECEIVED] = { "received", "已受理" },
	[CASE_ASSIGNED] = { "assigned", "已派单" },
	[CASE_VISITED] = { "visited", "已上门" },
	[CASE_REVIEWING] = { "reviewing", "审核中" },
	[CASE_DONE] = { "done", "已办结" },
	[CASE_REJECTED] = { "rejected", "不符合条件" },
	[CASE_WITHDRAWN] = { "withdrawn", "已撤销" },
};

const char *case_status_code(enum case_status s)
{
	return s < CASE_STATUS_COUNT ? statuses[s].code : "?";
}

const char *case_status_name(enum case_status s)
{
	return s < CASE_STATUS_COUNT ? statuses[s].name : "?";
}

int case_status_parse(const char *s)
{
	for (int i = 0; i < CASE_STATUS_COUNT; i++)
		if (strcmp(statuses[i].code, s) == 0 || strcmp(statuses[i].name, s) == 0)
			return i;
	return -1;
}

/* The label villagers read for a status code (menus: label_received ...). */
static const char *status_label(const struct ctx *c, const char *code)
{
	char name[48];
	const char *t;

	snprintf(name, sizeof(name), "label_%s", code);
	t = menu_text(c->menu, name);
	return t && *t ? t : code;
}

/* The title of the node a case came from (its topic), for villagers. */
static const char *topic_label(const struct ctx *c, const char *topic)
{
	const struct menu_node *n = menu_node_at(c->menu, menu_find(c->menu, topic));

	return n ? n->title : topic;
}

/* "11月28日" from the menus' date text. Caller frees. */
static char *format_date(const struct ctx *c, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char month[12], day[12];

	localtime_r(&tt, &tm);
	snprintf(month, sizeof(month), "%d", tm.tm_mon + 1);
	snprintf(day, sizeof(day), "%d", tm.tm_mday);
	struct menu_var v[] = { { "month", month }, { "day", day } };
	return menu_render(menu_text(c->menu, "date"), v, 2);
}

/* A new case number: 2026-0042 (per year) or 42, by cases.number_format. */
static int next_number(struct ctx *c, const char *kind, char **number)
{
	time_t tt = (time_t)c->now;
	struct tm tm;
	char seq[48];
	int64_t v;
	bool yearly = strcmp(c->cfg->case_number_format, "year") == 0;

	localtime_r(&tt, &tm);
	if (yearly)
		snprintf(seq, sizeof(seq), "%s-%d", kind, tm.tm_year + 1900);
	else
		snprintf(seq, sizeof(seq), "%s", kind);
	if (store_next_seq(c->st, seq, &v) < 0)
		return -1;
	*number = yearly ? xasprintf("%d-%04lld", tm.tm_year + 1900, (long long)v) : xasprintf("%lld", (long long)v);
	return 0;
}

/*
 * Who takes a request from this place: the staff member whose area is named
 * in it (the longest name wins: a village beats its town), else the duty
 * staff, else the supervisor. NULL when no staff is configured.
 */
static const struct staff_cfg *route(const struct config *cfg, const char *place)
{
	const struct staff_cfg *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; place && i < cfg->nstaff; i++)
		for (size_t a = 0; a < cfg->staff[i].nareas; a++) {
			const char *area = cfg->staff[i].areas[a];
			size_t len = strlen(area);
			if (len > best_len && strstr(place, area)) {
				best = &cfg->staff[i];
				best_len = len;
			}
		}
	if (best)
		return best;
	for (size_t i = 0; i < cfg->nstaff; i++)
		if (cfg->staff[i].duty)
			return &cfg->staff[i];
	return config_supervisor(cfg);
}

/* Queue the alert for the staff member who takes a new case. */
static int alert_staff(struct ctx *c, const struct staff_cfg *staff, const struct store_case *k)
{
	struct menu_var v[] = {
		{ "case.number", k->number }, { "case.topic", topic_label(c, k->topic) },
		{ "case.name", k->name ? k->name : "" }, { "case.place", k->place ? k->place : "" },
		{ "case.need", k->need ? k->need : "" },
		{ "case.contact", k->contact_phone ? k->contact_phone : k->applicant_phone },
		{ "case.phone", k->applicant_phone },
	};
	char *text = menu_render(menu_text(c->menu, "staff_new_case"), v, ARRAY_LEN(v));
	int rc = dispatch_queue_sms(c, staff->phone, text, NOTIFY_STAFF, k->msg_id, NULL, NULL);

	free(text);
	return rc;
}

static int create(struct ctx *c, struct store_case *k, char **number)
{
	const struct staff_cfg *staff;
	char who[LOG_PHONE_BUF];
	int64_t id;

	if (next_number(c, "case", &k->number) < 0)
		return -1;
	staff = route(c->cfg, k->place);
	k->staff = staff ? staff->name : NULL;
	k->status = (char *)case_status_code(CASE_RECEIVED);
	k->created_at = c->now;
	if (store_case_add(c->st, k, &id) < 0 || (staff && alert_staff(c, staff, k) < 0)) {
		free(k->number);
		return -1;
	}
	log_info("cases", "case %s (%s) from %s, to %s", k->number, k->topic,
	    log_phone(k->applicant_phone, who, sizeof(who)), staff ? staff->name : "nobody: no staff configured");
	*number = k->number;
	return 0;
}

int cases_create_request(struct ctx *c, const struct session *s, const char *channel, const char *topic,
    int64_t msg_id, char **number)
{
	struct store_case k;

	memset(&k, 0, sizeof(k));
	k.topic = (char *)topic;
	k.channel = (char *)channel;
	k.applicant_phone = (char *)s->phone;
	k.contact_phone = (char *)(s->form_phone ? s->form_phone : s->phone);
	k.name = s->form_name;
	k.place = s->form_place;
	k.need = s->form_need;
	k.msg_id = msg_id;
	return create(c, &k, number);
}

static int take_open(const struct store_case *k, void *arg)
{
	char **number = arg;

	*number = xstrdup(k->number);
	return 1;
}

int cases_create_callback(struct ctx *c, const char *phone, const char *channel, const char *topic,
    const char *note, int64_t msg_id, char **number, bool *existing)
{
	struct store_case_filter f = { 0 };
	struct store_case k;

	*number = NULL;
	*existing = false;
	f.applicant = phone;
	f.topic = topic;
	f.open_only = true;
	f.limit = 1;
	f.newest_first = true;
	if (store_case_each(c->st, &f, take_open, number) < 0)
		return -1;
	if (*number) {
		*existing = true;
		return 0;
	}
	memset(&k, 0, sizeof(k));
	k.topic = (char *)topic;
	k.channel = (char *)channel;
	k.applicant_phone = (char *)phone;
	k.contact_phone = (char *)phone;
	k.need = (char *)note;
	k.msg_id = msg_id;
	return create(c, &k, number);
}

struct status_acc {
	struct ctx *c;
	struct buf out;
	int n;
};

static int add_status_line(const struct store_case *k, void *arg)
{
	struct status_acc *a = arg;
	char *date = format_date(a->c, k->updated_at);
	struct menu_var v[] = {
		{ "case.number", k->number }, { "case.topic", topic_label(a->c, k->topic) },
		{ "case.status", status_label(a->c, k->status) }, { "case.updated", date },
	};
	char *line = menu_render(menu_text(a->c->menu, "status_item"), v, ARRAY_LEN(v));

	buf_printf(&a->out, "\n%s", line);
	free(line);
	free(date);
	if (k->staff && strcmp(k->status, case_status_code(CASE_RECEIVED)) != 0) {
		const struct staff_cfg *s = config_staff_by_name(a->c->cfg, k->staff);
		if (s) {
			struct menu_var sv[] = { { "case.staff_name", s->name }, { "case.staff_phone", s->phone } };
			char *sl = menu_render(menu_text(a->c->menu, "status_staff"), sv, 2);
			buf_printf(&a->out, "\n%s", sl);
			free(sl);
		}
	}
	a->n++;
	return 0;
}

int cases_status_text(struct ctx *c, const char *phone, char **reply)
{
	struct store_case_filter f = { 0 };
	struct status_acc a = { c, { 0 }, 0 };
	char count[16];

	*reply = NULL;
	/* the asking phone's own cases, and nothing else */
	f.applicant = phone;
	f.newest_first = true;
	f.limit = 3;
	if (store_case_each(c->st, &f, add_status_line, &a) < 0) {
		buf_free(&a.out);
		return -1;
	}
	if (a.n == 0) {
		buf_free(&a.out);
		*reply = xstrdup(menu_text(c->menu, "status_none"));
		return 0;
	}
	snprintf(count, sizeof(count), "%d", a.n);
	struct menu_var v[] = { { "count", count } };
	char *head = menu_render(menu_text(c->menu, "status_head"), v, 1);
	*reply = xasprintf("%s%s", head, buf_str(&a.out));
	free(head);
	buf_free(&a.out);
	return 0;
}

int feedback_add(struct ctx *c, const char *phone, const char *channel, const char *text, int64_t msg_id,
    char **number)
{
	struct store_feedback f;

	memset(&f, 0, sizeof(f));
	if (next_number(c, "feedback", number) < 0)
		return -1;
	f.number = *number;
	f.phone = phone;
	f.channel = channel;
	f.text = text;
	f.message_id = msg_id;
	f.created_at = c->now;
	if (store_feedback_add(c->st, &f, NULL) < 0) {
		free(*number);
		*number = NULL;
		return -1;
	}
	return 0;
}

int cases_command(struct ctx *c, const char *phone, const char *text, size_t len, bool *handled, char **reply)
{
	(void)c;
	(void)phone;
	(void)text;
	(void)len;
	*handled = false;
	*reply = NULL;
	return 0;
}
