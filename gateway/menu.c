/*
 * menu: a loaded menu tree and what is asked of it at run time: the nodes,
 * the system texts, keyword matching (menu_match, menu_why, digit words)
 * and rendering of runtime placeholders (menu_render). Loading, expanding
 * the load-time placeholders, the checks of `menu check` and building the
 * keyword automaton are menu_load.c (the only user of libconfig here).
 */
#include "menu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac.h"
#include "menu_int.h"
#include "utf8.h"
#include "util.h"

const struct menu_text_def menu_text_defs[MENU_NTEXTS] = {
#define TEXT(name, req, vars) { #name, req, vars },
#include "texts.def"
#undef TEXT
};

int menu_text_index(const char *name)
{
	for (size_t i = 0; i < MENU_NTEXTS; i++)
		if (strcmp(menu_text_defs[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- placeholders ------------------------------------------------------------ */

bool menu_placeholder_at(const char *p, size_t *namelen)
{
	size_t n = 0;

	if (*p != '{')
		return false;
	for (p++; (p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') || p[n] == '_' || p[n] == '.'; n++)
		;
	if (n == 0 || p[n] != '}')
		return false;
	*namelen = n;
	return true;
}

/*
 * An optional part "{?...}" of a text: said only when every placeholder in it
 * has a value ("或打{?{office.phone}、}12345" says 12345 alone while
 * office.phone is empty). p points at "{?"; returns the length of the part's
 * inside (up to the "}" that closes it) and sets *ok, or false when the part
 * is not closed.
 */
bool menu_optional_at(const char *p, size_t *inner)
{
	size_t n;

	if (p[0] != '{' || p[1] != '?')
		return false;
	for (const char *q = p + 2; *q;) {
		if (menu_placeholder_at(q, &n)) {
			q += n + 2;
			continue;
		}
		if (*q == '}') {
			*inner = (size_t)(q - (p + 2));
			return true;
		}
		if (*q == '{' && q[1] == '?')
			return false; /* no nesting */
		q++;
	}
	return false;
}

static void render_into(
    struct buf *b, const char *tmpl, size_t len, const struct menu_var *vars, size_t nvars, bool *empty)
{
	for (const char *p = tmpl, *end = tmpl + len; p < end;) {
		size_t n;
		if (menu_placeholder_at(p, &n) && p + n + 2 <= end) {
			size_t k;
			for (k = 0; k < nvars; k++)
				if (strlen(vars[k].name) == n && strncmp(vars[k].name, p + 1, n) == 0)
					break;
			if (k < nvars) {
				buf_adds(b, vars[k].value ? vars[k].value : "");
				if (vars[k].value == NULL || vars[k].value[0] == '\0')
					*empty = true;
			} else {
				buf_add(b, p, n + 2);
				*empty = true; /* an optional part with a name nobody filled is left out */
			}
			p += n + 2;
			continue;
		}
		size_t inner;
		if (p[0] == '{' && p + 1 < end && p[1] == '?' && menu_optional_at(p, &inner) && p + inner + 3 <= end) {
			struct buf part = { 0 };
			bool e = false;
			render_into(&part, p + 2, inner, vars, nvars, &e);
			char *t = buf_take(&part);
			if (!e && t)
				buf_adds(b, t);
			free(t);
			p += inner + 3;
			continue;
		}
		buf_addc(b, *p++);
	}
}

char *menu_render(const char *tmpl, const struct menu_var *vars, size_t nvars)
{
	struct buf b = { 0 };
	bool empty = false;

	render_into(&b, tmpl, strlen(tmpl), vars, nvars, &empty);
	char *t = buf_take(&b);
	return t ? t : xstrdup("");
}

int menu_find(const struct menu *m, const char *id)
{
	size_t lo = 0, hi = m->nnodes;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(m->nodes[m->by_id[mid]].id, id);
		if (c == 0)
			return m->by_id[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ---- queries ------------------------------------------------------------------------ */

size_t menu_count(const struct menu *m)
{
	return m->nnodes;
}

const struct menu_node *menu_node_at(const struct menu *m, int idx)
{
	return idx >= 0 && (size_t)idx < m->nnodes ? &m->nodes[idx] : NULL;
}

int menu_root(const struct menu *m)
{
	return m->root;
}

const char *menu_text(const struct menu *m, const char *name)
{
	int idx = menu_text_index(name);

	return idx < 0 ? NULL : m->texts[idx].text;
}

const char *menu_text_for(const struct menu *m, const char *name, bool ussd)
{
	int idx = menu_text_index(name);

	if (idx < 0)
		return NULL;
	return ussd && m->texts[idx].ussd ? m->texts[idx].ussd : m->texts[idx].text;
}

const char *menu_page_for(const struct menu_node *n, size_t p, bool ussd)
{
	if (p >= n->npages)
		p = 0;
	return ussd && p < n->nussd_pages ? n->ussd_pages[p] : n->pages[p];
}

const char *const *menu_files(const struct menu *m)
{
	return (const char *const *)m->files;
}

void menu_stats(const struct menu *m, size_t *patterns, size_t *states)
{
	*patterns = m->npats;
	*states = ac_states(m->ac);
}

size_t menu_markets(const struct menu *m, const struct menu_market **out)
{
	*out = m->markets;
	return m->nmarkets;
}

bool menu_within(const struct menu *m, int idx, int anc)
{
	for (int guard = 0; idx >= 0 && guard < 64; guard++) {
		if (idx == anc)
			return true;
		idx = m->nodes[idx].parent;
	}
	return false;
}

/* Every hit counts: a long message may hold many keywords before the longest one. */
struct hits {
	const struct menu *m;
	const char *text;
	size_t len;
	int *pat;
	size_t n, cap;
};

static bool is_letter(char c)
{
	return c >= 'a' && c <= 'z';
}

static int on_hit(int id, size_t end, void *arg)
{
	struct hits *H = arg;
	const struct pattern *p = &H->m->pats[id];
	size_t start = end, chars = 0;

	/* start offset: walk back p->chars characters */
	while (start > 0 && chars < p->chars) {
		start--;
		while (start > 0 && ((unsigned char)H->text[start] & 0xC0) == 0x80)
			start--;
		chars++;
	}
	if (p->exact && (start != 0 || end != H->len))
		return 0;
	if (p->word && ((start > 0 && is_letter(H->text[start - 1])) || (end < H->len && is_letter(H->text[end]))))
		return 0;
	if (H->n == H->cap) {
		H->cap = H->cap ? H->cap * 2 : 64;
		H->pat = xrealloc(H->pat, H->cap * sizeof(*H->pat));
	}
	H->pat[H->n++] = id;
	return 0;
}

/* Is pattern a better than b? Longer, then deeper, then defined first. */
static bool better(const struct menu *m, const struct pattern *a, const struct pattern *b)
{
	if (b == NULL)
		return true;
	if (a->chars != b->chars)
		return a->chars > b->chars;
	if (m->nodes[a->node].depth != m->nodes[b->node].depth)
		return m->nodes[a->node].depth > m->nodes[b->node].depth;
	return a->node < b->node;
}

/* The word a pattern matched, for explanations: the text before `end`, p->chars characters long. */
static void pattern_word(const char *text, size_t end, size_t chars, struct buf *b)
{
	size_t start = end, n = 0;

	while (start > 0 && n < chars) {
		start--;
		while (start > 0 && ((unsigned char)text[start] & 0xC0) == 0x80)
			start--;
		n++;
	}
	buf_add(b, text + start, end - start);
}

#define SITU_MAX 16

/* menu_match, and when why is not NULL, every step of the decision in words. */
static void match(
    const struct menu *m, const char *norm, size_t len, int context, struct menu_match *out, struct buf *why)
{
	struct hits H;
	const struct pattern *best = NULL, *cue = NULL;
	int topic = -1;
	struct {
		int node, score;
	} situ[SITU_MAX];
	size_t nsitu = 0;

	H.m = m;
	H.text = norm;
	H.len = len;
	H.pat = NULL;
	H.n = H.cap = 0;
	out->node = -1;
	out->via = MENU_VIA_NONE;
	out->chars = 0;
	out->text_chars = utf8_chars(norm, len);
	if (len == 0)
		return;
	ac_search(m->ac, norm, len, on_hit, &H);

	for (size_t i = 0; i < H.n; i++) {
		const struct pattern *p = &m->pats[H.pat[i]];
		if (!p->cue && !p->weight && better(m, p, best))
			best = p;
	}
	if (best != NULL) {
		topic = best->node;
	} else {
		/* no keyword: situation cues, each word once, add their weights to a node */
		for (size_t i = 0; i < H.n; i++) {
			const struct pattern *p = &m->pats[H.pat[i]];
			bool dup = false;
			if (!p->weight)
				continue;
			for (size_t k = 0; k < i && !dup; k++)
				dup = H.pat[k] == H.pat[i];
			if (dup)
				continue;
			size_t k;
			for (k = 0; k < nsitu && situ[k].node != p->node; k++)
				;
			if (k == nsitu) {
				if (nsitu == SITU_MAX)
					continue;
				situ[nsitu].node = p->node;
				situ[nsitu++].score = 0;
			}
			situ[k].score += p->weight;
		}
		int top = -1, threshold = m->situ_threshold > 0 ? m->situ_threshold : 2;
		for (size_t k = 0; k < nsitu; k++)
			if (situ[k].score >= threshold &&
			    (top < 0 || situ[k].score > situ[top].score ||
				(situ[k].score == situ[top].score && situ[k].node < situ[top].node)))
				top = (int)k;
		if (why) {
			for (size_t k = 0; k < nsitu; k++)
				buf_printf(why, "情境得分：%s %d%s\n", m->nodes[situ[k].node].id, situ[k].score,
				    situ[k].score >= threshold ? "" : "（不到门槛）");
			if (nsitu)
				buf_printf(why, "情境门槛：%d\n", threshold);
		}
		if (top >= 0) {
			topic = situ[top].node;
			out->via = MENU_VIA_SITUATION;
		} else if (context >= 0 && m->nodes[context].topic >= 0) {
			topic = m->nodes[context].topic;
			if (why)
				buf_printf(why, "没有关键词：用发信人当前话题 %s 下的提示词\n", m->nodes[topic].id);
		} else {
			free(H.pat);
			return;
		}
	}
	/* cues of the nodes below the topic take the message further down */
	for (size_t i = 0; i < H.n; i++) {
		const struct pattern *p = &m->pats[H.pat[i]];
		if (p->cue && p->node != topic && menu_within(m, p->node, topic) && better(m, p, cue))
			cue = p;
	}
	if (cue != NULL) {
		out->node = cue->node;
		out->chars = cue->chars + (best ? best->chars : 0);
		if (out->via != MENU_VIA_SITUATION)
			out->via = MENU_VIA_CUE;
		if (why)
			buf_printf(why, "%s 的提示词（在 %s 下）胜出（%zu 个字）\n", m->nodes[cue->node].id,
			    m->nodes[topic].id, cue->chars);
	} else if (best != NULL) {
		out->node = best->node;
		out->via = MENU_VIA_KEYWORD;
		out->chars = best->chars;
	} else if (out->via == MENU_VIA_SITUATION) {
		out->node = topic;
	}
	free(H.pat);
}

void menu_match(const struct menu *m, const char *norm, size_t len, int context, struct menu_match *out)
{
	match(m, norm, len, context, out, NULL);
}

/* Every hit, as the automaton reports it, with where it ends (for menu_why). */
struct why_hits {
	const struct menu *m;
	const char *text;
	size_t len;
	struct buf *b;
};

static int on_why(int id, size_t end, void *arg)
{
	struct why_hits *W = arg;
	const struct pattern *p = &W->m->pats[id];
	struct buf w = { 0 };

	pattern_word(W->text, end, p->chars, &w);
	if (p->weight)
		buf_printf(W->b, "情境词“%s” -> %s +%d\n", buf_str(&w), W->m->nodes[p->node].id, p->weight);
	else
		buf_printf(W->b, "%s“%s” -> %s（%zu 个字%s%s）\n", p->cue ? "提示词" : "关键词", buf_str(&w),
		    W->m->nodes[p->node].id, p->chars, p->exact ? "，要整条短信就是它" : "",
		    p->word ? "，要单独成词" : "");
	buf_free(&w);
	return 0;
}

char *menu_why(const struct menu *m, const char *norm, int context, struct menu_match *out)
{
	struct buf b = { 0 };
	struct why_hits W = { m, norm, strlen(norm), &b };

	buf_printf(&b, "整理后：“%s”\n", norm);
	if (W.len)
		ac_search(m->ac, norm, W.len, on_why, &W);
	match(m, norm, W.len, context, out, &b);
	if (out->node < 0)
		buf_printf(&b, "结果：看不懂（回 texts.unknown）\n");
	else
		buf_printf(&b, "结果：%s（%s），依据：%s\n", m->nodes[out->node].id, m->nodes[out->node].title,
		    out->via == MENU_VIA_KEYWORD ? "最长的关键词（一样长取更深的节点，再取先写的）"
			: out->via == MENU_VIA_CUE ? "关键词加它下面的提示词"
						   : "情境词（没有关键词对上）");
	return buf_take(&b);
}

bool menu_digit_choice(const struct menu *m, const char *norm, char *out, size_t outlen)
{
	size_t len = strlen(norm), a = 0, b = len;
	bool changed = true;

	while (changed && a < b) {
		changed = false;
		for (size_t f = 0; f < m->nfillers; f++) {
			size_t fl = strlen(m->fillers[f]);
			if (fl == 0 || fl > b - a)
				continue;
			if (strncmp(norm + a, m->fillers[f], fl) == 0) {
				a += fl;
				changed = true;
			} else if (strncmp(norm + b - fl, m->fillers[f], fl) == 0) {
				b -= fl;
				changed = true;
			}
		}
		while (a < b && norm[a] == ' ')
			a++, changed = true;
		while (a < b && norm[b - 1] == ' ')
			b--, changed = true;
	}
	/* a word that stands for a digit (下一页 = 9, 返回 = 0), with or without fillers */
	for (size_t w = 0; w < m->ndwords; w++) {
		size_t wl = strlen(m->dwords[w]);
		if (wl > 0 &&
		    ((wl == len && strcmp(norm, m->dwords[w]) == 0) ||
			(wl == b - a && strncmp(norm + a, m->dwords[w], wl) == 0))) {
			snprintf(out, outlen, "%s", m->ddigits[w]);
			return true;
		}
	}
	if (a == b || b - a >= outlen || b - a > 3)
		return false;
	for (size_t i = a; i < b; i++)
		if (norm[i] < '0' || norm[i] > '9')
			return false;
	memcpy(out, norm + a, b - a);
	out[b - a] = '\0';
	return true;
}

const char *menu_value(const struct menu *m, const char *name)
{
	for (size_t i = 0; i < m->nvalues; i++)
		if (strcmp(m->value_names[i], name) == 0)
			return m->value_vals[i];
	return NULL;
}
