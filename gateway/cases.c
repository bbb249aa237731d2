#include "cases.h"
#include "contacts.h"
#include "outbox.h"
#include "tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cases_int.h"
#include "log.h"
#include "phone.h"
#include "store_cases.h"
#include "store_outbox.h"
#include "utf8.h"
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

bool case_status_open(enum case_status s)
{
	return s == CASE_RECEIVED || s == CASE_ASSIGNED || s == CASE_VISITED || s == CASE_REVIEWING;
}

bool case_move_allowed(enum case_status from, enum case_status to)
{
	if (from >= CASE_STATUS_COUNT || to >= CASE_STATUS_COUNT || !case_status_open(from))
		return false;
	if (to == CASE_REJECTED || to == CASE_WITHDRAWN)
		return true;
	/* one step along received -> assigned -> visited -> reviewing -> done */
	return (from == CASE_RECEIVED && to == CASE_ASSIGNED) || (from == CASE_ASSIGNED && to == CASE_VISITED) ||
	    (from == CASE_VISITED && to == CASE_REVIEWING) || (from == CASE_REVIEWING && to == CASE_DONE);
}

/* ---- texts about cases (cases_int.h) ------------------------------------------------------------ */

const char *cases_label(const struct ctx *c, const char *code)
{
	char name[48];
	const char *t;

	snprintf(name, sizeof(name), "label_%s", code);
	t = menu_text(c->menu, name);
	return t && *t ? t : code;
}

const char *cases_topic(const struct ctx *c, const char *topic)
{
	const struct menu_node *n = menu_node_at(c->menu, menu_find(c->menu, topic));

	if (n)
		return n->title;
	/* a missed call (calls.c) has no node of its own */
	if (strcmp(topic, "callback") == 0 && menu_text(c->menu, "topic_callback"))
		return menu_text(c->menu, "topic_callback");
	return topic;
}

char *cases_date(const struct ctx *c, int64_t t)
{
	struct tm tm;
	char month[12], day[12];

	tz_civil(c->cfg->tz, t, &tm);
	snprintf(month, sizeof(month), "%d", tm.tm_mon + 1);
	snprintf(day, sizeof(day), "%d", tm.tm_mday);
	struct menu_var v[] = { { "month", month }, { "day", day } };
	return menu_render(menu_text(c->menu, "date"), v, 2);
}

int cases_year(const struct config *cfg, int64_t t)
{
	struct tm tm;

	tz_civil(cfg->tz, t, &tm);
	return tm.tm_year + 1900;
}

char *cases_cut(const char *s, size_t chars)
{
	size_t len = strlen(s), i = 0, n = 0;

	while (i < len && n < chars) {
		(void)utf8_next(s, len, &i);
		n++;
	}
	if (i >= len)
		return xstrdup(s);
	return xasprintf("%.*s\xE2\x80\xA6", (int)i, s);
}

void cases_staff_of(const struct ctx *c, const char *staff, const char **name, const char **phone)
{
	const struct staff_cfg *s = staff ? config_staff_by_name(c->cfg, staff) : NULL;

	*name = s ? s->name : c->cfg->office_name;
	*phone = s ? phone_shown(s->phone, c->cfg->phone_country) : c->cfg->office_phone;
}

void cases_detail_vars(const struct ctx *c, const struct store_case *k, struct menu_var v[CASES_DETAIL_VARS])
{
	v[0] = (struct menu_var){ "case.number", k->number };
	v[1] = (struct menu_var){ "case.topic", cases_topic(c, k->topic) };
	v[2] = (struct menu_var){ "case.name", k->name ? k->name : "" };
	v[3] = (struct menu_var){ "case.place", k->place ? k->place : "" };
	v[4] = (struct menu_var){ "case.need", k->need ? k->need : "" };
	v[5] = (struct menu_var){ "case.contact",
		phone_shown(k->contact_phone ? k->contact_phone : k->applicant_phone, c->cfg->phone_country) };
	v[6] = (struct menu_var){ "case.phone", phone_shown(k->applicant_phone, c->cfg->phone_country) };
}

/* A request for a call back (a missed call, or 人工): closed by the call itself, not by a visit. */
bool cases_is_callback(const struct menu *m, const char *topic)
{
	const struct menu_node *n = menu_node_at(m, menu_find(m, topic));

	return strcmp(topic, "callback") == 0 || (n != NULL && n->action == MENU_ACT_CALLBACK);
}

/* ---- new cases -------------------------------------------------------------------------------- */

/* A new case number: 2026-0042 (per year) or 42, by cases.number_format. */
static int next_number(struct ctx *c, const char *kind, char **number)
{
	struct tm tm;
	char seq[48];
	int64_t v;
	bool yearly = strcmp(c->cfg->case_number_format, "year") == 0;

	/* the year of the bureau's clock: a request at 07:00 on 1 January in Beijing is the new year's */
	tz_civil(c->cfg->tz, c->now, &tm);
	if (yearly)
		snprintf(seq, sizeof(seq), "%s-%d", kind, tm.tm_year + 1900);
	else
		snprintf(seq, sizeof(seq), "%s", kind);
	if (store_next_seq(c->st, seq, &v) < 0)
		return -1;
	/* suggestions are numbered apart from cases, and must not be taken for one: YJ (意见) 2026-0007 */
	const char *prefix = strcmp(kind, "feedback") == 0 ? "YJ" : "";
	*number = yearly ? xasprintf("%s%d-%04lld", prefix, tm.tm_year + 1900, (long long)v)
			 : xasprintf("%s%lld", prefix, (long long)v);
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

/* Queue the alert for the staff member who takes a new case (and for whoever it is given to). */
static int alert_staff(struct ctx *c, const struct staff_cfg *staff, const struct store_case *k)
{
	struct menu_var v[CASES_DETAIL_VARS];
	char *text;
	int rc;

	cases_detail_vars(c, k, v);
	text = menu_render(menu_text(c->menu, cases_is_callback(c->menu, k->topic) ? "staff_new_callback" : "staff_new_case"),
	    v, ARRAY_LEN(v));
	rc = outbox_queue_sms(c, staff->phone, text, NOTIFY_STAFF, k->msg_id, NULL, NULL);
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
	if (contacts_from_applicant(c->st, s->phone, s->form_name, s->form_place, c->now) < 0)
		return -1;
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
	char *date = cases_date(a->c, k->updated_at);
	struct menu_var v[] = {
		{ "case.number", k->number }, { "case.topic", cases_topic(a->c, k->topic) },
		{ "case.status", cases_label(a->c, k->status) }, { "case.updated", date },
	};
	char *line = menu_render(menu_text(a->c->menu, "status_item"), v, ARRAY_LEN(v));

	buf_printf(&a->out, "\n%s", line);
	free(line);
	free(date);
	if (strcmp(k->status, case_status_code(CASE_REJECTED)) == 0 && *menu_text(a->c->menu, "status_rejected")) {
		/* a refusal says why, and how to ask for a review (复核) */
		struct menu_var rv[] = { { "case.number", k->number }, { "case.reason", k->reason ? k->reason : "" } };
		char *rl = menu_render(menu_text(a->c->menu, "status_rejected"), rv, ARRAY_LEN(rv));
		buf_printf(&a->out, "\n%s", rl);
		free(rl);
	}
	if (k->staff && strcmp(k->status, case_status_code(CASE_RECEIVED)) != 0) {
		const struct staff_cfg *s = config_staff_by_name(a->c->cfg, k->staff);
		if (s) {
			struct menu_var sv[] = { { "case.staff_name", s->name }, { "case.staff_phone", phone_shown(s->phone, a->c->cfg->phone_country) } };
			char *sl = menu_render(menu_text(a->c->menu, "status_staff"), sv, 2);
			buf_printf(&a->out, "\n%s", sl);
			free(sl);
		}
	}
	a->n++;
	return 0;
}

static int take_place(const struct store_case *k, void *arg)
{
	char **place = arg;

	if (*place == NULL && k->place && k->place[0])
		*place = xstrdup(k->place);
	return 0;
}

char *cases_known_place(struct ctx *c, const char *phone)
{
	struct store_case_filter f = { 0 };
	char *place = NULL;

	f.applicant = phone;
	f.newest_first = true;
	f.limit = 3;
	if (store_case_each(c->st, &f, take_place, &place) < 0) {
		free(place);
		return NULL;
	}
	return place;
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
	const char *tail = menu_text(c->menu, "status_tail");
	*reply = xasprintf("%s%s%s%s", head, buf_str(&a.out), *tail ? "\n" : "", tail);
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

/* ---- moving a case ------------------------------------------------------------------------------ */

enum case_outcome case_check_change(const struct config *cfg, const struct store_case *k,
    const struct case_change *ch, const struct staff_cfg **new_staff)
{
	int from = case_status_parse(k->status);
	const struct staff_cfg *current = k->staff ? config_staff_by_name(cfg, k->staff) : NULL;

	*new_staff = current;
	if (ch->applicant) {
		/* to an applicant, someone else's case does not exist */
		if (strcmp(k->applicant_phone, ch->applicant) != 0)
			return CASE_NOT_FOUND;
		if (ch->to != CASE_WITHDRAWN)
			return CASE_BAD_MOVE;
	} else if (ch->by && ch->by->role != STAFF_ROLE_SUPERVISOR) {
		/* staff act on their own cases; a case nobody has may be taken with 接 */
		if (k->staff == NULL ? ch->to != CASE_ASSIGNED : strcmp(k->staff, ch->by->name) != 0)
			return CASE_NOT_YOURS;
	}
	/* a call back is done once the call is made (回 N), from any open status */
	bool callback_done = ch->callback && ch->to == CASE_DONE && from >= 0 &&
	    case_status_open((enum case_status)from);
	if (from < 0 || (!callback_done && !case_move_allowed((enum case_status)from, ch->to)))
		return CASE_BAD_MOVE;
	if (ch->to == CASE_REJECTED && (ch->note == NULL || *ch->note == '\0'))
		return CASE_NEED_REASON;
	if (ch->to == CASE_ASSIGNED) {
		/* 接 makes the case the sender's (the supervisor takes it over); the office confirms who has it */
		if (ch->by)
			*new_staff = ch->by;
		else if (current == NULL)
			return CASE_NO_STAFF;
	}
	return CASE_OK;
}

/* Render text_name about case k and queue it to phone. */
static int send_about(struct ctx *c, const struct store_case *k, const char *phone, const char *text_name,
    enum notify_kind kind, const struct menu_var *extra, size_t nextra)
{
	char node[MENU_ID_MAX];
	struct menu_var v[CASES_DETAIL_VARS + 6];
	const char *staff_name, *staff_phone;
	size_t n = CASES_DETAIL_VARS;
	char *text;
	int rc;

	cases_detail_vars(c, k, v);
	cases_staff_of(c, k->staff, &staff_name, &staff_phone);
	v[n++] = (struct menu_var){ "case.status", cases_label(c, k->status) };
	v[n++] = (struct menu_var){ "case.staff_name", staff_name };
	v[n++] = (struct menu_var){ "case.staff_phone", staff_phone };
	v[n++] = (struct menu_var){ "case.reason", k->reason ? k->reason : "" };
	for (size_t i = 0; i < nextra && n < ARRAY_LEN(v); i++)
		v[n++] = extra[i];
	text = menu_render(menu_text(c->menu, text_name), v, n);
	/* an applicant's notification names its case, so that a newer one can replace it while held */
	snprintf(node, sizeof(node), "case:%s", k->number);
	rc = outbox_queue_sms(c, phone, text, kind, 0, kind == NOTIFY_APPLICANT ? node : NULL, NULL);
	free(text);
	return rc;
}

/*
 * Held notifications (quiet hours) to phone about case k are replaced by the
 * newest: only the last status goes out in the morning, and a withdrawal
 * leaves no "已派单…会打电话跟您约时间" behind it.
 */
static int supersede_held(struct ctx *c, const struct store_case *k, const char *phone)
{
	char node[MENU_ID_MAX];
	int n = 0;

	snprintf(node, sizeof(node), "case:%s", k->number);
	if (store_notify_supersede(c->st, phone, node, c->now, &n) < 0)
		return -1;
	if (n > 0)
		log_debug("cases", "case %s: %d held notification(s) replaced by the newest", k->number, n);
	return 0;
}

/* The applicant (unless they asked for the change: their reply says it) and a different contact phone. */
static int notify_applicant(struct ctx *c, const struct store_case *k, bool applicant_asked)
{
	char name[48];

	bool contact = k->contact_phone && *k->contact_phone && strcmp(k->contact_phone, k->applicant_phone) != 0;

	snprintf(name, sizeof(name), "notify_%s", k->status);
	/* what still waits for the morning is out of date now, whoever is told of the change */
	if (supersede_held(c, k, k->applicant_phone) < 0 || (contact && supersede_held(c, k, k->contact_phone) < 0))
		return -1;
	if (!applicant_asked && send_about(c, k, k->applicant_phone, name, NOTIFY_APPLICANT, NULL, 0) < 0)
		return -1;
	if (contact && send_about(c, k, k->contact_phone, name, NOTIFY_APPLICANT, NULL, 0) < 0)
		return -1;
	return 0;
}

/* Tell staff member s about case k (text_name), unless s is who did it. */
static int tell_staff(struct ctx *c, const struct staff_cfg *s, const struct staff_cfg *by,
    const struct store_case *k, const char *text_name, const char *actor)
{
	struct menu_var v[] = { { "actor", actor } };

	if (s == NULL || s == by)
		return 0;
	return send_about(c, k, s->phone, text_name, NOTIFY_STAFF, v, 1);
}

static void set_field(char **field, const char *value)
{
	if (value == NULL)
		return;
	free(*field);
	*field = xstrdup(value);
}

int cases_change(struct ctx *c, const struct case_change *ch, enum case_outcome *out, struct store_case *after)
{
	struct store_case k;
	const struct staff_cfg *old_staff, *new_staff = NULL;
	const char *to = case_status_code(ch->to), *actor, *shown;
	char who[LOG_PHONE_BUF], from[16];
	bool found;
	int rc = -1;

	*out = CASE_NOT_FOUND;
	if (after)
		memset(after, 0, sizeof(*after));
	if (store_case_get(c->st, ch->number, &k, &found) < 0)
		return -1;
	if (!found)
		return 0;
	struct case_change chk = *ch;
	chk.callback = k.topic != NULL && cases_is_callback(c->menu, k.topic);
	*out = case_check_change(c->cfg, &k, &chk, &new_staff);
	if (*out != CASE_OK) {
		store_case_free(&k);
		return 0;
	}
	old_staff = k.staff ? config_staff_by_name(c->cfg, k.staff) : NULL;
	if (ch->by)
		actor = shown = ch->by->name;
	else if (ch->applicant)
		actor = shown = ch->applicant;
	else {
		actor = ch->actor ? ch->actor : "hotlinectl";
		shown = c->cfg->office_name; /* staff read "changed by the bureau" */
	}
	snprintf(from, sizeof(from), "%s", k.status);
	if (store_case_update(c->st, k.id, to, new_staff && new_staff != old_staff ? new_staff->name : NULL,
	    ch->to == CASE_REJECTED ? ch->note : NULL, actor, ch->note, c->now) < 0)
		goto out;
	set_field(&k.status, to);
	if (new_staff)
		set_field(&k.staff, new_staff->name);
	if (ch->to == CASE_REJECTED)
		set_field(&k.reason, ch->note);
	if (notify_applicant(c, &k, ch->applicant != NULL) < 0)
		goto out;
	/* the one who had it and lost it to the supervisor's 接; the one who has it, when someone else moved it */
	if (old_staff && new_staff && old_staff != new_staff &&
	    tell_staff(c, old_staff, ch->by, &k, "staff_case_moved", shown) < 0)
		goto out;
	if (tell_staff(c, new_staff, ch->by, &k, ch->to == CASE_WITHDRAWN ? "staff_case_withdrawn" : "staff_case_changed",
	    shown) < 0)
		goto out;
	log_info("cases", "case %s: %s -> %s by %s%s%s", k.number, from, to,
	    ch->applicant ? log_phone(ch->applicant, who, sizeof(who)) : actor, new_staff ? ", with " : "",
	    new_staff ? new_staff->name : "");
	if (after) {
		*after = k;
		memset(&k, 0, sizeof(k));
	}
	rc = 0;
out:
	store_case_free(&k);
	return rc;
}

int cases_assign(struct ctx *c, const char *number, const struct staff_cfg *to, const char *actor,
    enum case_outcome *out)
{
	struct store_case k;
	const struct staff_cfg *old_staff;
	bool found, received;
	char *note = NULL;
	int from, rc = -1;

	*out = CASE_NOT_FOUND;
	if (store_case_get(c->st, number, &k, &found) < 0)
		return -1;
	if (!found)
		return 0;
	from = case_status_parse(k.status);
	received = from == CASE_RECEIVED;
	old_staff = k.staff ? config_staff_by_name(c->cfg, k.staff) : NULL;
	if (from < 0 || !case_status_open((enum case_status)from) ||
	    (!received && k.staff && strcmp(k.staff, to->name) == 0)) {
		*out = CASE_BAD_MOVE;
		store_case_free(&k);
		return 0;
	}
	*out = CASE_OK;
	note = xasprintf("-> %s", to->name);
	if (store_case_update(c->st, k.id, received ? case_status_code(CASE_ASSIGNED) : NULL, to->name, NULL,
	    actor ? actor : "hotlinectl", note, c->now) < 0)
		goto out;
	if (received)
		set_field(&k.status, case_status_code(CASE_ASSIGNED));
	set_field(&k.staff, to->name);
	if (received && notify_applicant(c, &k, false) < 0)
		goto out;
	if (old_staff == to) {
		/* it was routed to them: now it is confirmed */
		if (tell_staff(c, to, NULL, &k, "staff_case_changed", c->cfg->office_name) < 0)
			goto out;
	} else {
		if (alert_staff(c, to, &k) < 0)
			goto out;
		if (tell_staff(c, old_staff, NULL, &k, "staff_case_moved", c->cfg->office_name) < 0)
			goto out;
	}
	log_info("cases", "case %s given to %s by %s (was %s)", k.number, to->name, actor ? actor : "hotlinectl",
	    old_staff ? old_staff->name : "nobody");
	rc = 0;
out:
	free(note);
	store_case_free(&k);
	return rc;
}
