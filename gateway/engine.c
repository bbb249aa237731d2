#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lunar.h"
#include "normalize.h"
#include "phone.h"
#include "utf8.h"
#include "util.h"

/* Longest field kept from the form, in characters. */
#define NAME_MAX_CHARS 20
#define PLACE_MAX_CHARS 60
#define NEED_MAX_CHARS 300
/* A feedback keyword with at least this many more characters is the feedback itself. */
#define FEEDBACK_INLINE_CHARS 8

static int node_index(const struct menu *m, const struct session *s)
{
	int idx = menu_find(m, s->node);

	return idx >= 0 ? idx : menu_root(m);
}

static void set_node(const struct menu *m, struct session *s, int idx)
{
	snprintf(s->node, sizeof(s->node), "%s", menu_node_at(m, idx)->id);
	s->page = 0;
	s->screen = 0;
}

/* Is the conversation on USSD? Texts that differ by channel are chosen by it. */
static bool on_ussd(const struct session *s)
{
	return s->channel == CHANNEL_USSD;
}

const char *engine_current_page(const struct menu *m, const struct session *s)
{
	const struct menu_node *n = menu_node_at(m, node_index(m, s));
	size_t p = (size_t)s->page < n->npages ? (size_t)s->page : 0;

	return menu_page_for(n, p, on_ussd(s));
}

static void reply_text(struct engine_out *out, const char *text)
{
	free(out->reply);
	out->reply = xstrdup(text);
}

/* A system text, in its USSD variant on USSD (menus/README.md, "Texts by channel"). */
static void reply_named(const struct menu *m, const struct session *s, struct engine_out *out, const char *name)
{
	reply_text(out, menu_text_for(m, name, on_ussd(s)));
}

/* The i-th of the space-separated words of a text (lunar_days: "初一 初二 …"), into out. */
static void nth_word(const char *list, int i, char *out, size_t outlen)
{
	const char *p = list;

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

/* The town of a market named in text (normalised), or -1. The longest name wins. */
static int market_town_in(const struct menu_market *mk, size_t n, const char *text)
{
	int best = -1;

	for (size_t i = 0; text && i < n; i++)
		if (mk[i].town_norm[0] && strstr(text, mk[i].town_norm) &&
		    (best < 0 || strlen(mk[i].town_norm) > strlen(mk[best].town_norm)))
			best = (int)i;
	return best;
}

#define MARKET_SHOWN 3
#define MARKET_HORIZON 400 /* days searched ahead */

/*
 * 救助赶大集: the next market days, from today on, at the asker's town when
 * it is known (named in the message, else where they live) and has markets,
 * else the next ones anywhere.
 */
static char *market_answer(const struct menu *m, const struct engine_in *in, const char *norm)
{
	const struct menu_market *mk;
	size_t n = menu_markets(m, &mk);
	int town = market_town_in(mk, n, norm);
	const char *town_name = NULL;
	struct buf b = { 0 };
	int shown = 0;

	if (town < 0 && n > 0 && in->known_place) {
		char *place = in->known_place(in->place_arg);
		if (place) {
			char *pn = norm_dup(place, strlen(place), 0);
			town = market_town_in(mk, n, pn);
			free(pn);
			free(place);
		}
	}
	if (town >= 0)
		town_name = mk[town].town;
	for (long day = in->today; in->today > 0 && day < in->today + MARKET_HORIZON && shown < MARKET_SHOWN; day++) {
		for (size_t i = 0; i < n && shown < MARKET_SHOWN; i++) {
			if (town_name && strcmp(mk[i].town, town_name) != 0)
				continue;
			if (!market_rule_on(&mk[i].rule, day))
				continue;
			int y, mo, d;
			struct lunar_date ld;
			char month[8], dom[8], lm[32], ldd[32], lunar[96];
			lunar_civil_from_days(day, &y, &mo, &d);
			snprintf(month, sizeof(month), "%d", mo);
			snprintf(dom, sizeof(dom), "%d", d);
			lunar[0] = '\0';
			if (lunar_from_days(day, &ld)) {
				nth_word(menu_text(m, "lunar_months"), ld.month - 1, lm, sizeof(lm));
				nth_word(menu_text(m, "lunar_days"), ld.day - 1, ldd, sizeof(ldd));
				snprintf(lunar, sizeof(lunar), "%s%s%s", ld.leap ? menu_text(m, "lunar_leap") : "", lm, ldd);
			}
			struct menu_var v[] = {
				{ "market.month", month }, { "market.day", dom }, { "market.lunar", lunar },
				{ "market.town", mk[i].town }, { "market.place", mk[i].place }, { "market.time", mk[i].time },
			};
			char *line = menu_render(menu_text(m, "market_item"), v, ARRAY_LEN(v));
			if (shown == 0) {
				struct menu_var hv[] = { { "market.town", town_name ? town_name : "" } };
				char *head = menu_render(menu_text(m, "market_head"), hv, 1);
				buf_adds(&b, head);
				free(head);
			}
			buf_printf(&b, "\n%s", line);
			free(line);
			shown++;
		}
		/* a town with no market day ahead: the next ones anywhere */
		if (town_name && shown == 0 && day + 1 == in->today + MARKET_HORIZON) {
			town_name = NULL;
			day = in->today - 1;
		}
	}
	if (shown == 0) {
		struct menu_var hv[] = { { "market.town", town_name ? town_name : "" } };
		return menu_render(menu_text(m, "market_none"), hv, 1);
	}
	buf_printf(&b, "\n%s", menu_text(m, "market_tail"));
	return buf_take(&b);
}

/* Enter node idx: what is said there, and what it starts. */
static void enter_in(const struct menu *m, struct session *s, int idx, struct engine_out *out,
    const struct engine_in *in, const char *norm);

static void enter(const struct menu *m, struct session *s, int idx, struct engine_out *out)
{
	enter_in(m, s, idx, out, NULL, NULL);
}

static void enter_in(const struct menu *m, struct session *s, int idx, struct engine_out *out,
    const struct engine_in *in, const char *norm)
{
	const struct menu_node *n = menu_node_at(m, idx);

	out->node = idx;
	out->keep = n->keep;
	switch (n->action) {
	case MENU_ACT_REPEAT:
		/* the session stays where it was */
		if (s->last_reply && *s->last_reply)
			reply_text(out, s->last_reply);
		else
			reply_named(m, s, out, "repeat_none");
		return;
	case MENU_ACT_FORM:
		set_node(m, s, idx);
		session_form_reset(s);
		s->mode = SESSION_FORM;
		s->form_step = FORM_NAME;
		free(out->reply);
		out->reply = xasprintf("%s\n%s", menu_page_for(n, 0, on_ussd(s)), menu_text_for(m, "form_name", on_ussd(s)));
		return;
	case MENU_ACT_STATUS:
		set_node(m, s, idx);
		s->mode = SESSION_MENU;
		out->action = ENGINE_STATUS;
		return;
	case MENU_ACT_CALLBACK:
		set_node(m, s, idx);
		s->mode = SESSION_MENU;
		out->action = ENGINE_CALLBACK;
		out->keep = true;
		return;
	case MENU_ACT_FEEDBACK:
		set_node(m, s, idx);
		s->mode = SESSION_FEEDBACK;
		reply_text(out, menu_page_for(n, 0, on_ussd(s)));
		return;
	case MENU_ACT_MARKET: {
		static const struct engine_in none = { 0 };
		set_node(m, s, idx);
		s->mode = SESSION_MENU;
		free(out->reply);
		out->reply = market_answer(m, in ? in : &none, norm);
		return;
	}
	case MENU_ACT_NONE:
		break;
	}
	set_node(m, s, idx);
	s->mode = SESSION_MENU;
	reply_text(out, menu_page_for(n, 0, on_ussd(s)));
}

static void unknown(const struct menu *m, struct session *s, struct engine_out *out)
{
	set_node(m, s, menu_root(m));
	s->mode = SESSION_MENU;
	out->node = menu_root(m);
	out->unknown = true;
	reply_named(m, s, out, "unknown");
}

/* A digit choice at node `at`. */
static void choose(const struct menu *m, struct session *s, const char *digits, struct engine_out *out,
    const struct engine_in *in)
{
	int at = node_index(m, s);
	const struct menu_node *n = menu_node_at(m, at);

	if (strcmp(digits, "00") == 0) {
		enter(m, s, menu_root(m), out);
		return;
	}
	if (strcmp(digits, "0") == 0) {
		enter(m, s, n->parent >= 0 ? n->parent : menu_root(m), out);
		return;
	}
	/* on USSD, 98 pages on everywhere: past a page's last screen, to the next page */
	if (on_ussd(s) && strcmp(digits, "98") == 0)
		digits = n->npages > 1 && n->options[9] < 0 ? "9" : digits;
	if (strlen(digits) == 1) {
		int d = digits[0] - '0';
		int target = n->options[d];
		if (target < 0 && d == 9 && n->npages > 1) {
			if ((size_t)s->page + 1 < n->npages) {
				s->page++;
				s->screen = 0;
				out->node = at;
				reply_text(out, menu_page_for(n, (size_t)s->page, on_ussd(s)));
				return;
			}
		}
		if (target < 0) {
			/* at a page with no options of its own, the digits of the menu above still work */
			bool has_options = false;
			for (int k = 1; k < MENU_DIGITS; k++)
				has_options |= n->options[k] >= 0;
			if (!has_options && n->parent >= 0)
				target = menu_node_at(m, n->parent)->options[d];
		}
		if (target >= 0) {
			enter_in(m, s, target, out, in, NULL);
			return;
		}
	}
	out->node = at;
	reply_named(m, s, out, "bad_option");
}

/* ---- the home-visit request form --------------------------------------------------- */

static bool is_trim_char(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == 0x3000 || cp == 0x3002 ||
	    cp == 0xFF0C || cp == ',' || cp == '.' || cp == 0xFF1A || cp == ':' || cp == 0x3001 ||
	    cp == 0xFF01 || cp == '!' || cp == 0xFF1F || cp == '?' || cp == ';' || cp == 0xFF1B;
}

/*
 * The text trimmed of spaces and punctuation at both ends, inner line breaks
 * made spaces, cut to max characters. NULL when nothing is left.
 */
static char *clean_field(const char *text, size_t len, size_t max_chars)
{
	size_t i = 0, a = 0, b = 0, chars = 0;
	struct buf out = { 0 };
	bool started = false;

	/* find the first and last meaningful characters */
	while (i < len) {
		size_t start = i;
		uint32_t cp = utf8_next(text, len, &i);
		if (!is_trim_char(cp)) {
			if (!started)
				a = start;
			started = true;
			b = i;
		}
	}
	if (!started)
		return NULL;
	for (i = a; i < b && chars < max_chars;) {
		size_t start = i;
		uint32_t cp = utf8_next(text, b, &i);
		if (cp == '\r' || cp == '\n' || cp == '\t')
			buf_addc(&out, ' ');
		else if (cp != 0)
			buf_add(&out, text + start, i - start);
		chars++;
	}
	return buf_take(&out);
}

/* Words people put before their name (我叫张桂兰). */
static const char *const name_prefixes[] = { "我的名字叫", "我的名字是", "我名字叫", "名字叫", "名字是",
	"我叫", "我是", "姓名", "名字", "本人" };
/* What people put between their name and their village. */
static const char *const name_place_seps[] = { " ", "，", ",", "、", "。", "；", ";" };
/* Words that show a place (寨子街村3组). */
static const char *const place_marks[] = { "村", "组", "镇", "乡", "社", "街", "路", "号", "小区", "县", "区" };

static bool looks_like_place(const char *s)
{
	for (size_t k = 0; k < ARRAY_LEN(place_marks); k++)
		if (strstr(s, place_marks[k]))
			return true;
	return false;
}

static bool has_name_char(const char *s)
{
	size_t i = 0, len = strlen(s);

	while (i < len) {
		uint32_t cp = utf8_next(s, len, &i);
		if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
			return true;
	}
	return false;
}

static void ask_confirm(const struct menu *m, struct session *s, struct engine_out *out, bool again)
{
	struct menu_var vars[] = {
		{ "form.name", s->form_name }, { "form.place", s->form_place },
		{ "form.need", s->form_need }, { "form.phone", s->form_phone },
	};
	free(out->reply);
	out->reply = menu_render(menu_text_for(m, again ? "form_confirm_again" : "form_confirm", on_ussd(s)), vars,
	    ARRAY_LEN(vars));
	s->form_step = FORM_CONFIRM;
}

static void form_cancel(const struct menu *m, struct session *s, struct engine_out *out, bool home)
{
	int at = node_index(m, s);
	const struct menu_node *n = menu_node_at(m, at);

	session_form_reset(s);
	if (home) {
		enter(m, s, menu_root(m), out);
		return;
	}
	set_node(m, s, n->parent >= 0 ? n->parent : menu_root(m));
	out->node = at;
	reply_named(m, s, out, "form_cancelled");
}

/* The node that records a call-back request (action "callback"), -1 when the menus have none. */
static int callback_node(const struct menu *m)
{
	for (size_t i = 0; i < menu_count(m); i++)
		if (menu_node_at(m, (int)i)->action == MENU_ACT_CALLBACK)
			return (int)i;
	return -1;
}

/*
 * Someone who cannot type answers the name or the address with 人工, 不会打字
 * (the call-back node's keywords, as the whole message) or 9 (form_name says
 * so): that is no name, it is a request for a call.
 */
static bool wants_callback(const struct menu *m, const struct session *s, const char *norm, const char *digits)
{
	struct menu_match mm;

	if (s->form_step != FORM_NAME && s->form_step != FORM_PLACE)
		return false;
	if (digits)
		return strcmp(digits, "9") == 0;
	menu_match(m, norm, strlen(norm), -1, &mm);
	return mm.node >= 0 && menu_node_at(m, mm.node)->action == MENU_ACT_CALLBACK && mm.via == MENU_VIA_KEYWORD &&
	    mm.text_chars <= mm.chars + 1;
}

static void form_step(const struct menu *m, struct session *s, const struct engine_in *in, const char *norm,
    const char *digits, struct engine_out *out)
{
	char *v = NULL;
	int cb;

	out->node = node_index(m, s);
	if (digits && strcmp(digits, "0") == 0) {
		form_cancel(m, s, out, false);
		return;
	}
	if (digits && strcmp(digits, "00") == 0) {
		form_cancel(m, s, out, true);
		return;
	}
	if ((cb = callback_node(m)) >= 0 && wants_callback(m, s, norm, digits)) {
		session_form_reset(s);
		enter(m, s, cb, out);
		return;
	}
	switch (s->form_step) {
	case FORM_NAME:
		v = clean_field(in->text, in->len, 60);
		if (v != NULL) {
			/* "我叫张桂兰，寨子街村3组": a name, and perhaps the place after a space or comma */
			char *name = v, *rest = NULL, *sep = NULL;
			size_t seplen = 0;
			for (size_t k = 0; k < ARRAY_LEN(name_prefixes); k++)
				if (str_startswith(name, name_prefixes[k]) && strlen(name) > strlen(name_prefixes[k])) {
					name += strlen(name_prefixes[k]);
					break;
				}
			for (size_t k = 0; k < ARRAY_LEN(name_place_seps); k++) {
				char *p = strstr(name, name_place_seps[k]);
				if (p && (sep == NULL || p < sep)) {
					sep = p;
					seplen = strlen(name_place_seps[k]);
				}
			}
			if (sep && looks_like_place(sep + seplen)) {
				*sep = '\0';
				rest = sep + seplen;
			}
			char *nm = clean_field(name, strlen(name), NAME_MAX_CHARS);
			if (nm && has_name_char(nm)) {
				session_set(&s->form_name, nm);
				free(nm);
				if (rest) {
					char *pl = clean_field(rest, strlen(rest), PLACE_MAX_CHARS);
					session_set(&s->form_place, pl);
					free(pl);
					s->form_step = FORM_NEED;
					reply_named(m, s, out, "form_need");
				} else {
					s->form_step = FORM_PLACE;
					reply_named(m, s, out, "form_place");
				}
				break;
			}
			free(nm);
		}
		reply_named(m, s, out, "form_name_again");
		break;
	case FORM_PLACE:
		v = clean_field(in->text, in->len, PLACE_MAX_CHARS);
		if (v && utf8_chars(v, strlen(v)) >= 2 && has_name_char(v)) {
			session_set(&s->form_place, v);
			s->form_step = FORM_NEED;
			reply_named(m, s, out, "form_need");
		} else {
			reply_named(m, s, out, "form_place_again");
		}
		break;
	case FORM_NEED:
		v = clean_field(in->text, in->len, NEED_MAX_CHARS);
		if (v && utf8_chars(v, strlen(v)) >= 2) {
			session_set(&s->form_need, v);
			s->form_step = FORM_PHONE;
			reply_named(m, s, out, "form_phone");
		} else {
			reply_named(m, s, out, "form_need_again");
		}
		break;
	case FORM_PHONE: {
		char num[PHONE_LEN];
		if (digits && strcmp(digits, "1") == 0) {
			session_set(&s->form_phone, in->phone);
			ask_confirm(m, s, out, false);
		} else if (phone_parse_typed(in->text, in->country, num, sizeof(num))) {
			session_set(&s->form_phone, num);
			ask_confirm(m, s, out, false);
		} else {
			reply_named(m, s, out, "form_phone_again");
		}
		break;
	}
	case FORM_CONFIRM:
		if (digits && strcmp(digits, "1") == 0)
			out->action = ENGINE_FORM_DONE; /* the form stays in the session for the caller */
		else
			ask_confirm(m, s, out, true);
		out->keep = out->action == ENGINE_FORM_DONE;
		break;
	default:
		form_cancel(m, s, out, true);
		break;
	}
	free(v);
}

/* ---- the step -------------------------------------------------------------------------- */

void engine_step(const struct menu *m, struct session *s, const struct engine_in *in, struct engine_out *out)
{
	char *norm = norm_dup(in->text, in->len, 0);
	size_t nlen = strlen(norm);
	char digits[8];
	bool is_digit = menu_digit_choice(m, norm, digits, sizeof(digits));
	struct menu_match mm;

	memset(out, 0, sizeof(*out));
	out->node = node_index(m, s);

	if (s->mode == SESSION_FORM) {
		form_step(m, s, in, norm, is_digit ? digits : NULL, out);
		goto done;
	}
	if (s->mode == SESSION_FEEDBACK && !(is_digit && (strcmp(digits, "0") == 0 || strcmp(digits, "00") == 0))) {
		if (nlen == 0) {
			enter(m, s, node_index(m, s), out); /* ask again */
		} else {
			s->mode = SESSION_MENU;
			out->action = ENGINE_FEEDBACK;
			out->payload = xstrndup(in->text, in->len);
			out->keep = true;
		}
		goto done;
	}
	s->mode = SESSION_MENU;
	if (is_digit) {
		choose(m, s, digits, out, in);
		goto done;
	}
	if (nlen == 0) {
		enter(m, s, menu_root(m), out);
		goto done;
	}
	menu_match(m, norm, nlen, s->fresh ? -1 : node_index(m, s), &mm);
	if (mm.node < 0) {
		unknown(m, s, out);
		goto done;
	}
	const struct menu_node *target = menu_node_at(m, mm.node);
	if (target->action == MENU_ACT_FEEDBACK && mm.text_chars >= mm.chars + FEEDBACK_INLINE_CHARS) {
		/* 我建议村里的路灯修一修: the message is the feedback itself */
		set_node(m, s, mm.node);
		out->node = mm.node;
		out->action = ENGINE_FEEDBACK;
		out->payload = xstrndup(in->text, in->len);
		out->keep = true;
		goto done;
	}
	enter_in(m, s, mm.node, out, in, norm);
done:
	free(norm);
}

void engine_out_free(struct engine_out *out)
{
	free(out->reply);
	free(out->payload);
	out->reply = out->payload = NULL;
}
