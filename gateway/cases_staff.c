#include "cases_staff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "cases_cmd.h"
#include "cases_int.h"
#include "config.h"
#include "log.h"
#include "smstext.h"
#include "store_cases.h"
#include "util.h"

#define DETAIL_NEED_CHARS 70 /* the need as 查 N shows it: the rest is in hotlinectl cases show */
#define DETAIL_EVENTS 4      /* the last few steps of the history in 查 N */

/* May this sender see the case? Staff: theirs (or nobody's yet); the supervisor: any. */
static bool staff_may_see(const struct staff_cfg *s, const struct store_case *k)
{
	return s->role == STAFF_ROLE_SUPERVISOR || k->staff == NULL || strcmp(k->staff, s->name) == 0;
}

/*
 * The case a typed number means (see cases_cmd_numbers): the first candidate
 * that exists and concerns the sender (mine(k) true), else the first that
 * exists. *found says whether any exists; number gets the chosen or the
 * most likely number (for the reply).
 */
static int resolve(struct ctx *c, const struct cases_cmd *cmd,
    bool (*mine)(const struct store_case *k, const void *arg), const void *arg, struct store_case *k, bool *found,
    char number[CASES_NUMBER_MAX])
{
	char cand[2][CASES_NUMBER_MAX];
	size_t n = cases_cmd_numbers(cmd, c->cfg->case_number_format, cases_year(c->cfg, c->now), cand, 2);
	struct store_case first;
	bool have_first = false;

	*found = false;
	memset(k, 0, sizeof(*k));
	memset(&first, 0, sizeof(first));
	snprintf(number, CASES_NUMBER_MAX, "%s", n > 0 ? cand[0] : "");
	for (size_t i = 0; i < n; i++) {
		struct store_case t;
		bool f;
		if (store_case_get(c->st, cand[i], &t, &f) < 0) {
			store_case_free(&first);
			return -1;
		}
		if (!f)
			continue;
		if (mine(&t, arg)) {
			store_case_free(&first);
			*k = t;
			*found = true;
			snprintf(number, CASES_NUMBER_MAX, "%s", cand[i]);
			return 0;
		}
		if (!have_first) {
			first = t;
			have_first = true;
			snprintf(number, CASES_NUMBER_MAX, "%s", cand[i]);
		} else {
			store_case_free(&t);
		}
	}
	if (have_first) {
		*k = first;
		*found = true;
	}
	return 0;
}

static bool is_staffs(const struct store_case *k, const void *arg)
{
	return staff_may_see(arg, k);
}

static bool is_applicants(const struct store_case *k, const void *arg)
{
	return strcmp(k->applicant_phone, arg) == 0;
}

static char *render1(struct ctx *c, const char *text_name, const char *name, const char *value)
{
	struct menu_var v[] = { { name, value } };

	return menu_render(menu_text(c->menu, text_name), v, 1);
}

/* 撤销 N: the sender's own open request, or one answer for everything else. */
static int withdraw(struct ctx *c, const char *phone, const struct cases_cmd *cmd, char **reply)
{
	struct case_change ch;
	struct store_case k;
	enum case_outcome res = CASE_NOT_FOUND;
	char number[CASES_NUMBER_MAX];
	bool found;

	if (resolve(c, cmd, is_applicants, phone, &k, &found, number) < 0)
		return -1;
	if (found && is_applicants(&k, phone)) {
		memset(&ch, 0, sizeof(ch));
		ch.number = k.number;
		ch.to = CASE_WITHDRAWN;
		ch.applicant = phone;
		ch.note = cmd->note ? xstrndup(cmd->note, cmd->note_len) : NULL;
		int rc = cases_change(c, &ch, &res, NULL);
		free((char *)ch.note);
		if (rc < 0) {
			store_case_free(&k);
			return -1;
		}
	}
	/*
	 * Not found, not theirs, closed: one answer, so that nobody learns about
	 * another's case; a number that is not theirs is not even repeated.
	 */
	*reply = render1(c, res == CASE_OK ? "withdraw_done" : "withdraw_bad", "case.number",
	    found && is_applicants(&k, phone) ? number : "");
	store_case_free(&k);
	return 0;
}

static const enum case_status move_of[CCMD_COUNT] = {
	[CCMD_ACCEPT] = CASE_ASSIGNED,
	[CCMD_VISITED] = CASE_VISITED,
	[CCMD_REVIEW] = CASE_REVIEWING,
	[CCMD_DONE] = CASE_DONE,
	[CCMD_REJECT] = CASE_REJECTED,
};

/* 接 访 审 结 退: check, act, and tell the sender what came of it. */
static int move(struct ctx *c, const struct staff_cfg *s, const struct cases_cmd *cmd, char **reply)
{
	struct store_case k, after;
	struct case_change ch;
	enum case_outcome res;
	char number[CASES_NUMBER_MAX], *note;
	bool found;
	int rc;

	if (resolve(c, cmd, is_staffs, s, &k, &found, number) < 0)
		return -1;
	if (!found) {
		*reply = render1(c, "staff_no_case", "case.number", number);
		return 0;
	}
	note = cmd->note ? xstrndup(cmd->note, cmd->note_len) : NULL;
	memset(&ch, 0, sizeof(ch));
	ch.number = k.number;
	ch.to = move_of[cmd->kind];
	ch.by = s;
	ch.note = note;
	rc = cases_change(c, &ch, &res, &after);
	free(note);
	if (rc < 0) {
		store_case_free(&k);
		return -1;
	}
	switch (res) {
	case CASE_OK: {
		struct menu_var v[] = { { "case.number", after.number }, { "case.name", after.name ? after.name : "" },
			{ "case.status", cases_label(c, after.status) } };
		*reply = menu_render(menu_text(c->menu, "staff_ok"), v, ARRAY_LEN(v));
		store_case_free(&after);
		break;
	}
	case CASE_NOT_FOUND:
		*reply = render1(c, "staff_no_case", "case.number", number);
		break;
	case CASE_NOT_YOURS:
		*reply = render1(c, "staff_not_yours", "case.number", number);
		break;
	case CASE_NEED_REASON:
		*reply = render1(c, "staff_need_reason", "case.number", number);
		break;
	case CASE_BAD_MOVE:
	case CASE_NO_STAFF: {
		struct menu_var v[] = { { "case.number", number }, { "case.status", cases_label(c, k.status) },
			{ "case.new_status", cases_label(c, case_status_code(ch.to)) } };
		*reply = menu_render(menu_text(c->menu, "staff_bad_move"), v, ARRAY_LEN(v));
		break;
	}
	}
	store_case_free(&k);
	return 0;
}

struct history_acc {
	struct ctx *c;
	char *items[DETAIL_EVENTS];
	size_t n;
};

static int add_history(const struct store_case_event *e, void *arg)
{
	struct history_acc *h = arg;
	char *date;

	if (e->new_status == NULL || *e->new_status == '\0' ||
	    (e->old_status && strcmp(e->old_status, e->new_status) == 0))
		return 0; /* a reassignment: no step of its own */
	date = cases_date(h->c, e->at);
	struct menu_var v[] = { { "case.updated", date }, { "case.status", cases_label(h->c, e->new_status) } };
	if (h->n == DETAIL_EVENTS) {
		/* keep the last few */
		free(h->items[0]);
		memmove(h->items, h->items + 1, (DETAIL_EVENTS - 1) * sizeof(char *));
		h->n--;
	}
	h->items[h->n++] = menu_render(menu_text(h->c->menu, "staff_history_item"), v, ARRAY_LEN(v));
	free(date);
	return 0;
}

/* 查 N: the details, to the staff member who has the case (or the supervisor) only. */
static int show(struct ctx *c, const struct staff_cfg *s, const struct cases_cmd *cmd, char **reply)
{
	struct store_case k;
	struct history_acc h = { c, { NULL }, 0 };
	struct buf hist = { 0 };
	const char *staff_name, *staff_phone;
	char number[CASES_NUMBER_MAX], *need;
	bool found;

	if (resolve(c, cmd, is_staffs, s, &k, &found, number) < 0)
		return -1;
	if (!found) {
		*reply = render1(c, "staff_no_case", "case.number", number);
		return 0;
	}
	if (!staff_may_see(s, &k)) {
		store_case_free(&k);
		*reply = render1(c, "staff_not_yours", "case.number", number);
		return 0;
	}
	if (store_case_events(c->st, k.id, add_history, &h) < 0) {
		for (size_t i = 0; i < h.n; i++)
			free(h.items[i]);
		store_case_free(&k);
		return -1;
	}
	for (size_t i = 0; i < h.n; i++) {
		if (i > 0)
			buf_addc(&hist, ' ');
		buf_adds(&hist, h.items[i]);
		free(h.items[i]);
	}
	need = cases_cut(k.need ? k.need : "", DETAIL_NEED_CHARS);
	cases_staff_of(c, k.staff, &staff_name, &staff_phone);
	struct menu_var v[] = {
		{ "case.number", k.number },
		{ "case.topic", cases_topic(c, k.topic) },
		{ "case.status", cases_label(c, k.status) },
		{ "case.name", k.name ? k.name : "" },
		{ "case.place", k.place ? k.place : "" },
		{ "case.need", need },
		{ "case.contact", k.contact_phone ? k.contact_phone : k.applicant_phone },
		{ "case.phone", k.applicant_phone },
		{ "case.staff_name", k.staff ? staff_name : "" },
		{ "case.reason", k.reason ? k.reason : "" },
		{ "case.history", buf_str(&hist) },
	};
	*reply = menu_render(menu_text(c->menu, "staff_detail"), v, ARRAY_LEN(v));
	free(need);
	buf_free(&hist);
	store_case_free(&k);
	return 0;
}

struct list_acc {
	struct ctx *c;
	char **lines;
	size_t n, cap;
	bool received_only, skip_received;
};

static int add_line(const struct store_case *k, void *arg)
{
	struct list_acc *a = arg;
	bool received = strcmp(k->status, case_status_code(CASE_RECEIVED)) == 0;

	if ((a->received_only && !received) || (a->skip_received && received))
		return 0;
	/* who: the name given, else (a call-back request) the number to call */
	const char *who = "";
	if (k->name && *k->name)
		who = k->name;
	else if (k->contact_phone && *k->contact_phone)
		who = k->contact_phone;
	else if (k->applicant_phone)
		who = k->applicant_phone;
	struct menu_var v[] = { { "case.number", k->number }, { "case.status", cases_label(a->c, k->status) },
		{ "case.name", k->name ? k->name : "" }, { "case.place", k->place ? k->place : "" },
		{ "case.who", who } };
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->lines = xrealloc(a->lines, a->cap * sizeof(char *));
	}
	a->lines[a->n++] = menu_render(menu_text(a->c->menu, "staff_list_item"), v, ARRAY_LEN(v));
	return 0;
}

static bool fits(const struct config *cfg, const char *text)
{
	struct sms_count sc;

	sms_count(text, strlen(text), &sc);
	return sc.segments <= (size_t)cfg->sms_page_segments;
}

/* 列表: the open cases the sender has (the supervisor: all), new ones first, in one SMS page budget. */
static int list(struct ctx *c, const struct staff_cfg *s, char **reply)
{
	struct store_case_filter f = { 0 };
	struct list_acc a = { c, NULL, 0, 0, true, false };
	char count[24];
	int rc;

	f.open_only = true;
	f.staff = s->role == STAFF_ROLE_SUPERVISOR ? NULL : s->name;
	/* waiting for someone to accept them first, then the rest, each oldest first */
	rc = store_case_each(c->st, &f, add_line, &a);
	a.received_only = false;
	a.skip_received = true;
	if (rc == 0)
		rc = store_case_each(c->st, &f, add_line, &a);
	if (rc < 0)
		goto out;
	if (a.n == 0) {
		*reply = xstrdup(menu_text(c->menu, "staff_list_none"));
		goto out;
	}
	snprintf(count, sizeof(count), "%zu", a.n);
	char *head = render1(c, "staff_list_head", "count", count);
	/* as many lines as fit, with room for "n more" when some are left out */
	char *best = NULL;
	for (size_t k = 0; k <= a.n; k++) {
		struct buf b = { 0 };
		buf_adds(&b, head);
		for (size_t i = 0; i < k; i++)
			buf_printf(&b, "\n%s", a.lines[i]);
		if (k < a.n) {
			char more[24];
			snprintf(more, sizeof(more), "%zu", a.n - k);
			char *m = render1(c, "staff_list_more", "count", more);
			buf_printf(&b, "\n%s", m);
			free(m);
		}
		if (k > 0 && !fits(c->cfg, buf_str(&b))) {
			buf_free(&b);
			break;
		}
		free(best);
		best = buf_take(&b);
	}
	free(head);
	*reply = best;
out:
	for (size_t i = 0; i < a.n; i++)
		free(a.lines[i]);
	free(a.lines);
	return rc < 0 ? -1 : 0;
}

int cases_command(struct ctx *c, const char *phone, const char *text, size_t len, bool *handled, char **reply)
{
	struct cases_cmd_words w;
	struct cases_cmd cmd;
	const struct staff_cfg *s;
	char who[LOG_PHONE_BUF];
	int rc = 0;

	*handled = false;
	*reply = NULL;
	cases_cmd_words_from_menu(c->menu, &w);
	cases_cmd_parse(&w, text, len, &cmd);
	if (cmd.kind == CCMD_NONE)
		return 0;
	s = config_staff_by_phone(c->cfg, phone);
	if (cmd.kind == CCMD_WITHDRAW) {
		/* anyone may withdraw their own request; without a number it is just words */
		if (cmd.usage)
			return 0;
		*handled = true;
		return withdraw(c, phone, &cmd, reply);
	}
	if (s == NULL)
		return 0; /* from anyone else a command is menu input */
	*handled = true;
	log_debug("cases", "command %d from %s (%s)", (int)cmd.kind, s->name, log_phone(phone, who, sizeof(who)));
	if (cmd.usage) {
		*reply = xstrdup(menu_text(c->menu, "staff_help"));
		return 0;
	}
	switch (cmd.kind) {
	case CCMD_HELP:
		*reply = xstrdup(menu_text(c->menu, "staff_help"));
		break;
	case CCMD_LIST:
		rc = list(c, s, reply);
		break;
	case CCMD_SHOW:
		rc = show(c, s, &cmd, reply);
		break;
	case CCMD_ACCEPT:
	case CCMD_VISITED:
	case CCMD_REVIEW:
	case CCMD_DONE:
	case CCMD_REJECT:
		rc = move(c, s, &cmd, reply);
		break;
	case CCMD_NONE:
	case CCMD_WITHDRAW:
	case CCMD_COUNT:
		break;
	}
	return rc;
}
