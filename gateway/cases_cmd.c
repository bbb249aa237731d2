#include "cases_cmd.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "cases_int.h"
#include "config.h"
#include "log.h"
#include "phone.h"
#include "smstext.h"
#include "store_cases.h"
#include "utf8.h"
#include "util.h"

#define CMD_MAX_DIGITS 12   /* longer is no case number */
#define DETAIL_NEED_CHARS 70 /* the need as 查 N shows it: the rest is in hotlinectl cases show */
#define DETAIL_EVENTS 4      /* the last few steps of the history in 查 N */

/* ---- the parser (pure) -------------------------------------------------------------------------- */

static const char *const text_names[CCMD_COUNT] = {
	[CCMD_ACCEPT] = "cmd_accept", [CCMD_VISITED] = "cmd_visited", [CCMD_REVIEW] = "cmd_review",
	[CCMD_DONE] = "cmd_done", [CCMD_REJECT] = "cmd_reject", [CCMD_SHOW] = "cmd_show",
	[CCMD_LIST] = "cmd_list", [CCMD_HELP] = "cmd_help", [CCMD_WITHDRAW] = "cmd_withdraw",
};

void cases_cmd_words_from_menu(const struct menu *m, struct cases_cmd_words *w)
{
	memset(w, 0, sizeof(*w));
	for (int k = 1; k < CCMD_COUNT; k++)
		w->words[k] = menu_text(m, text_names[k]);
}

/* Full-width forms as ASCII, ASCII letters lower case, the ideographic space as a space. */
static uint32_t fold(uint32_t cp)
{
	if (cp >= 0xFF01 && cp <= 0xFF5E)
		cp -= 0xFEE0;
	else if (cp == 0x3000)
		cp = ' ';
	if (cp >= 'A' && cp <= 'Z')
		cp += 'a' - 'A';
	return cp;
}

static bool is_digit(uint32_t cp)
{
	return cp >= '0' && cp <= '9';
}

static bool is_space(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n';
}

/* Dashes people put inside a number: 2026-0005, 2026－0005, 2026—0005, 2026_0005, 2026/0005, 2026.0005. */
static bool is_dash(uint32_t cp)
{
	return cp == '-' || cp == '_' || cp == '/' || cp == '.' || (cp >= 0x2010 && cp <= 0x2015) || cp == 0x00B7 ||
	    cp == 0x2212 || cp == 0x30FC;
}

/* What may stand between the parts of a command: spaces, punctuation, quotes, brackets. */
static bool is_sep(uint32_t cp)
{
	if (is_space(cp) || is_dash(cp))
		return true;
	if (cp < 0x80)
		return cp != 0 && strchr(",:;#!?()[]<>\"'*~", (int)cp) != NULL;
	return (cp >= 0x3001 && cp <= 0x3003) || (cp >= 0x3008 && cp <= 0x3011) || (cp >= 0x2018 && cp <= 0x201F) ||
	    cp == 0x2026 || cp == UTF8_REPLACEMENT;
}

/* The code point at text[*i] folded, advancing *i; 0 at the end. */
static uint32_t next_cp(const char *text, size_t len, size_t *i)
{
	if (*i >= len)
		return 0;
	return fold(utf8_next(text, len, i));
}

static uint32_t peek_cp(const char *text, size_t len, size_t i)
{
	return next_cp(text, len, &i);
}

/* Does the word (len wlen) match text at i? Then *end is where the match ends. */
static bool word_at(const char *word, size_t wlen, const char *text, size_t len, size_t i, size_t *end)
{
	size_t w = 0;

	while (w < wlen) {
		if (i >= len)
			return false;
		if (fold(utf8_next(word, wlen, &w)) != next_cp(text, len, &i))
			return false;
	}
	*end = i;
	return true;
}

/*
 * After a word: the end, a separator, a digit or 第. An ASCII word may not be
 * followed by a letter (jiekou), a Chinese word not by another character
 * (查询, 结果, 接到).
 */
static bool boundary_ok(uint32_t next)
{
	return next == 0 || is_sep(next) || is_digit(next) || next == 0x7B2C /* 第 */;
}

/* Read a run of digits at *i: how many (all of them), the value of the first CMD_MAX_DIGITS. */
static int read_digits(const char *text, size_t len, size_t *i, long long *value)
{
	int n = 0;

	*value = 0;
	while (is_digit(peek_cp(text, len, *i))) {
		uint32_t cp = next_cp(text, len, i);
		if (n < CMD_MAX_DIGITS)
			*value = *value * 10 + (cp - '0');
		n++;
	}
	return n;
}

static size_t skip_seps(const char *text, size_t len, size_t i)
{
	while (i < len) {
		size_t j = i;
		if (!is_sep(next_cp(text, len, &j)))
			break;
		i = j;
	}
	return i;
}

/* The note: from i, separators skipped, trailing spaces cut. */
static void take_note(const char *text, size_t len, size_t i, struct cases_cmd *out)
{
	size_t end = len;

	i = skip_seps(text, len, i);
	/* trailing spaces (ASCII, and U+3000 as its three bytes) */
	for (;;) {
		if (end > i && is_space((unsigned char)text[end - 1]))
			end--;
		else if (end >= i + 3 && memcmp(text + end - 3, "\xE3\x80\x80", 3) == 0)
			end -= 3;
		else
			break;
	}
	if (end > i) {
		out->note = text + i;
		out->note_len = end - i;
	}
}

void cases_cmd_parse(const struct cases_cmd_words *w, const char *text, size_t len, struct cases_cmd *out)
{
	size_t start = 0, best_end, i, j;
	enum cases_cmd_kind best = CCMD_NONE;
	long long d1, d2;
	int n1, n2;

	memset(out, 0, sizeof(*out));
	while (start < len && is_space(peek_cp(text, len, start)))
		(void)next_cp(text, len, &start);
	best_end = start;
	/* the longest word that starts the message and ends at a boundary */
	for (int k = 1; k < CCMD_COUNT; k++) {
		const char *p = w->words[k];
		while (p && *p) {
			size_t wl = strcspn(p, " "), end;
			if (wl > 0 && word_at(p, wl, text, len, start, &end) && end - start > best_end - start &&
			    boundary_ok(peek_cp(text, len, end))) {
				best = (enum cases_cmd_kind)k;
				best_end = end;
			}
			p += wl;
			while (*p == ' ')
				p++;
		}
	}
	if (best == CCMD_NONE)
		return;
	out->kind = best;
	i = skip_seps(text, len, best_end);
	if (best == CCMD_LIST || best == CCMD_HELP) {
		/* these stand alone: "列表一下" or "帮助我" are someone talking */
		if (i < len)
			out->kind = CCMD_NONE;
		return;
	}
	if (peek_cp(text, len, i) == 0x7B2C) { /* 第5 */
		(void)next_cp(text, len, &i);
		i = skip_seps(text, len, i);
	}
	n1 = read_digits(text, len, &i, &d1);
	if (n1 == 0 || n1 > CMD_MAX_DIGITS) {
		out->usage = true;
		return;
	}
	out->seq = d1;
	out->seq_digits = n1;
	if (n1 == 4) {
		/* 2026-0005, or 2026 0005 as it is read aloud */
		j = i;
		uint32_t cp = next_cp(text, len, &j);
		bool dash = is_dash(cp), space = is_space(cp);
		if (dash || (space && d1 >= 2000 && d1 <= 2099)) {
			while (is_space(peek_cp(text, len, j)))
				(void)next_cp(text, len, &j);
			n2 = read_digits(text, len, &j, &d2);
			if (n2 > 0 && n2 <= CMD_MAX_DIGITS && (dash || n2 >= 4)) {
				out->year = (int)d1;
				out->seq = d2;
				out->seq_digits = n2;
				i = j;
			}
		}
	}
	if (peek_cp(text, len, i) == 0x53F7) /* 5号 */
		(void)next_cp(text, len, &i);
	if (out->seq == 0) {
		out->usage = true;
		return;
	}
	take_note(text, len, i, out);
}

size_t cases_cmd_numbers(const struct cases_cmd *cmd, const char *number_format, int year_now, char (*out)[CASES_NUMBER_MAX],
    size_t max)
{
	size_t n = 0;

	if (cmd->seq <= 0 || max == 0)
		return 0;
	if (strcmp(number_format, "year") != 0) {
		snprintf(out[n++], CASES_NUMBER_MAX, "%lld", cmd->seq);
		return n;
	}
	if (cmd->year > 0) {
		snprintf(out[n++], CASES_NUMBER_MAX, "%d-%04lld", cmd->year, cmd->seq);
		return n;
	}
	if (cmd->seq_digits == 8 && cmd->seq / 10000 >= 2000 && cmd->seq / 10000 <= 2099) {
		snprintf(out[n++], CASES_NUMBER_MAX, "%lld-%04lld", cmd->seq / 10000, cmd->seq % 10000);
		return n;
	}
	snprintf(out[n++], CASES_NUMBER_MAX, "%d-%04lld", year_now, cmd->seq);
	if (n < max)
		snprintf(out[n++], CASES_NUMBER_MAX, "%d-%04lld", year_now - 1, cmd->seq);
	return n;
}

/* ---- carrying out a command -------------------------------------------------------------------- */

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
static int resolve(struct ctx *c, const struct cases_cmd *cmd, bool (*mine)(const struct store_case *k, const void *arg),
    const void *arg, struct store_case *k, bool *found, char number[CASES_NUMBER_MAX])
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
	[CCMD_ACCEPT] = CASE_ASSIGNED, [CCMD_VISITED] = CASE_VISITED, [CCMD_REVIEW] = CASE_REVIEWING,
	[CCMD_DONE] = CASE_DONE, [CCMD_REJECT] = CASE_REJECTED,
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
		{ "case.number", k.number }, { "case.topic", cases_topic(c, k.topic) },
		{ "case.status", cases_label(c, k.status) }, { "case.name", k.name ? k.name : "" },
		{ "case.place", k.place ? k.place : "" }, { "case.need", need },
		{ "case.contact", k.contact_phone ? k.contact_phone : k.applicant_phone },
		{ "case.phone", k.applicant_phone }, { "case.staff_name", k.staff ? staff_name : "" },
		{ "case.reason", k.reason ? k.reason : "" }, { "case.history", buf_str(&hist) },
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
	const char *who = k->name && *k->name ? k->name
	    : k->contact_phone && *k->contact_phone ? k->contact_phone
	    : k->applicant_phone ? k->applicant_phone : "";
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
