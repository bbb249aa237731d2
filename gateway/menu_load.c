/*
 * menu_load: reading the menus/ files (libconfig) into a struct menu, and every
 * check of `menu check`: the load-time structures, the load-time
 * placeholders (office.*, values) expanded with their cycles and budgets,
 * the texts' and pages' checks (SMS budget, glossary, reachability), the
 * keyword automaton, and the assembled tree. The only file besides
 * config.c that includes <libconfig.h>. What is asked of a loaded menu is
 * menu.c.
 */
#include "menu.h"

#include <dirent.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac.h"
#include "menu_int.h"
#include "msgtypes.h"
#include "normalize.h"
#include "smstext.h"
#include "utf8.h"
#include "util.h"

/* Nodes the product relies on (issues fix these ids). */
static const char *const required_nodes[] = { "root", "dibao", "tekun", "linshi", "gaoling", "ertong", "zhitongche",
	"status", "feedback", "contact", "dibao.who", "dibao.amount", "dibao.apply", "dibao.review", "tekun.who",
	"tekun.amount", "tekun.apply", "tekun.review", "linshi.who", "linshi.amount", "linshi.apply", "linshi.review",
	"gaoling.who", "gaoling.amount", "gaoling.apply", "gaoling.review", "ertong.who", "ertong.amount",
	"ertong.apply", "ertong.review" };
/* The main menu, digit by digit. */
static const char *const root_options[] = { NULL, "dibao", "tekun", "linshi", "gaoling", "ertong", "zhitongche",
	"status", "feedback" };

/* ---- load-time structures ------------------------------------------------- */

struct strv {
	char **v;
	int *line;
	size_t n, cap;
};

static void strv_add(struct strv *s, const char *str, int line)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof(char *));
		s->line = xrealloc(s->line, s->cap * sizeof(int));
	}
	s->v[s->n] = xstrdup(str);
	s->line[s->n] = line;
	s->n++;
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	free(s->line);
	memset(s, 0, sizeof(*s));
}

struct rnode {
	char *id, *title, *parent_id, *action;
	struct strv pages, ussd_pages, keywords, cues;
	char *opt_target[MENU_DIGITS];
	int opt_line[MENU_DIGITS];
	bool exact, keep;
	const char *file;
	int line, pages_line;
};

/* A glossary entry: a term an old farmer may not know, and the plain words that explain it. */
struct gloss {
	char *term;
	struct strv plain;  /* any one of them in the same text explains the term */
	struct strv except; /* longer words holding the term that need no explanation (无人抚养) */
	const char *file;
	int line;
};

/* A group of situation cues: words that describe a life, with the weight each adds to a node. */
struct situ {
	char *node;
	int weight;
	struct strv words;
	const char *file;
	int line;
};

struct loader {
	const struct config *cfg;
	struct diag *d;
	struct menu *m;
	struct rnode *rn;
	size_t nrn, caprn;
	struct strv values_name, values_val; /* flattened values, "amount.dibao_city" */
	const char **values_file;
	size_t values_file_cap;
	const char *text; /* the file load_file is reading, whole, and where each line starts */
	size_t *line_at;
	size_t nlines;
	size_t *values_by_name; /* indices into values_name, sorted by name (index_values) */
	size_t nvalues_by_name;
	struct strv fillers;
	struct strv digit_words;
	struct gloss *gloss; /* glossary: terms and their plain words */
	size_t ngloss;
	struct situ *situ; /* situation cues, by group */
	size_t nsitu;
	struct {
		char *text;
		char *ussd; /* its USSD variant, NULL when the same text serves both */
		const char *file;
		int line, ussd_line;
	} raw_texts[MENU_NTEXTS];
	const char *page_next; /* {page.next} while a page is expanded: texts.page_next for its channel */
};

static int line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

static bool id_ok(const char *id)
{
	size_t n = strlen(id);
	bool dot_ok = false;

	if (n == 0 || n >= MENU_ID_MAX || !(id[0] >= 'a' && id[0] <= 'z'))
		return false;
	for (const char *p = id; *p; p++) {
		if (*p == '.') {
			if (!dot_ok)
				return false;
			dot_ok = false;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
		dot_ok = true;
	}
	return dot_ok;
}

/*
 * libconfig dates a list element by the token after it, so the last element
 * of a list whose ] stands on a later line gets the line of the ]. Its own
 * line is the last line in [from, to] that holds it as a literal; `to` when
 * none does (escapes, strings split in parts).
 */
static int element_line(const struct loader *L, int from, int to, const char *value)
{
	char *quoted = xasprintf("\"%s\"", value);
	size_t ql = strlen(quoted);
	int found = to;

	/* the file being read is in memory (load_file): only lines from..to are looked at */
	for (int n = from; n >= 1 && n <= to && (size_t)n <= L->nlines; n++) {
		const char *a = L->text + L->line_at[n - 1];
		const char *b = (size_t)n < L->nlines ? L->text + L->line_at[n] : L->text + strlen(L->text);
		for (const char *p = a; p + ql <= b; p++)
			if (memcmp(p, quoted, ql) == 0) {
				found = n;
				break;
			}
	}
	free(quoted);
	return found;
}

static void get_strings(
    struct loader *L, const config_setting_t *s, const char *file, const char *what, struct strv *out)
{
	int t = config_setting_type(s);

	if (t == CONFIG_TYPE_STRING) {
		strv_add(out, config_setting_get_string(s), line_of(s));
		return;
	}
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		diag_error(L->d, file, line_of(s), "%s 要写成一串文字：[\"a\", \"b\"]", what);
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			diag_error(L->d, file, line_of(e), "%s 里只能放文字（加引号）", what);
			continue;
		}
		int line = line_of(e) ? line_of(e) : line_of(s);
		if (i + 1 == config_setting_length(s) && line > line_of(s))
			line = element_line(L, line_of(s), line, config_setting_get_string(e));
		strv_add(out, config_setting_get_string(e), line);
	}
}

static const char *get_string(struct loader *L, const config_setting_t *s, const char *file, const char *what)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		diag_error(L->d, file, line_of(s), "%s 要写成文字（加引号）", what);
		return NULL;
	}
	return config_setting_get_string(s);
}

/*
 * A text that may differ by channel: either "..." (the same on SMS and
 * USSD) or { sms = "..."; ussd = "..."; } (menus/README.md, "Texts by
 * channel"); for pages, [ ... ] or { sms = [ ... ]; ussd = [ ... ]; }. The
 * SMS form goes to *sms, the USSD one (if any) to *ussd, with their lines.
 * False (reported) when it is neither.
 */
static bool get_variants(struct loader *L, const config_setting_t *s, const char *file, const char *what, bool list,
    struct strv *sms, struct strv *ussd)
{
	if (!config_setting_is_group(s)) {
		if (list) {
			get_strings(L, s, file, what, sms);
		} else {
			const char *v = get_string(L, s, file, what);
			if (v == NULL)
				return false;
			strv_add(sms, v, line_of(s));
		}
		return sms->n > 0 || list;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *c = config_setting_get_elem(s, (unsigned)i);
		const char *cn = config_setting_name(c);
		int ch = channel_parse(cn);
		struct strv *to = ch == CHANNEL_SMS ? sms : ch == CHANNEL_USSD ? ussd : NULL;
		if (to == NULL) {
			diag_error(L->d, file, line_of(c), "%s：渠道只能是 \"sms\" 或 \"ussd\"，不能是 '%s'", what, cn);
			continue;
		}
		if (list) {
			get_strings(L, c, file, what, to);
		} else {
			const char *v = get_string(L, c, file, what);
			if (v != NULL)
				strv_add(to, v, line_of(c));
		}
	}
	if (sms->n == 0) {
		diag_error(L->d, file, line_of(s), "%s：短信的写法也要给（{ sms = ...; ussd = ...; }）", what);
		return false;
	}
	return true;
}

static void load_node(struct loader *L, const config_setting_t *g, const char *file)
{
	struct rnode r;
	bool has_text = false;

	memset(&r, 0, sizeof(r));
	r.file = file;
	r.line = line_of(g);
	for (int k = 0; k < MENU_DIGITS; k++)
		r.opt_line[k] = 0;
	if (!config_setting_is_group(g)) {
		diag_error(L->d, file, line_of(g), "节点要写成一组 { id = \"...\"; ... }");
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s), *v;
		int line = line_of(s);

		if (strcmp(name, "id") == 0) {
			if ((v = get_string(L, s, file, "id")) != NULL)
				r.id = xstrdup(v);
		} else if (strcmp(name, "title") == 0) {
			if ((v = get_string(L, s, file, "title")) != NULL)
				r.title = xstrdup(v);
		} else if (strcmp(name, "parent") == 0) {
			if ((v = get_string(L, s, file, "parent")) != NULL)
				r.parent_id = xstrdup(v);
		} else if (strcmp(name, "action") == 0) {
			if ((v = get_string(L, s, file, "action")) != NULL)
				r.action = xstrdup(v);
		} else if (strcmp(name, "text") == 0) {
			if (get_variants(L, s, file, "text", false, &r.pages, &r.ussd_pages))
				r.pages_line = line;
			if (has_text)
				diag_error(L->d, file, line, "text 和 pages 只能写一个，不能都写");
			has_text = true;
		} else if (strcmp(name, "pages") == 0) {
			get_variants(L, s, file, "pages", true, &r.pages, &r.ussd_pages);
			r.pages_line = line;
			if (has_text)
				diag_error(L->d, file, line, "text 和 pages 只能写一个，不能都写");
			has_text = true;
		} else if (strcmp(name, "keywords") == 0) {
			get_strings(L, s, file, "keywords", &r.keywords);
		} else if (strcmp(name, "cues") == 0) {
			get_strings(L, s, file, "cues", &r.cues);
		} else if (strcmp(name, "options") == 0) {
			struct strv o = { 0 };
			get_strings(L, s, file, "options", &o);
			for (size_t k = 0; k < o.n; k++) {
				const char *eq = strchr(o.v[k], '=');
				int digit = o.v[k][0] - '0';
				if (eq != o.v[k] + 1 || digit < 1 || digit > 9 || eq[1] == '\0') {
					diag_error(L->d, file, o.line[k],
					    "选项 \"%s\"：要写成 \"D=节点id\"，D 是 1 到 9 的数字", o.v[k]);
					continue;
				}
				if (r.opt_target[digit]) {
					diag_error(L->d, file, o.line[k], "选项 %d 写了两次", digit);
					continue;
				}
				r.opt_target[digit] = xstrdup(eq + 1);
				r.opt_line[digit] = o.line[k];
			}
			strv_free(&o);
		} else if (strcmp(name, "exact") == 0 || strcmp(name, "keep") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_BOOL)
				diag_error(L->d, file, line, "%s 只能是 true 或 false", name);
			else if (name[0] == 'e')
				r.exact = config_setting_get_bool(s);
			else
				r.keep = config_setting_get_bool(s);
		} else {
			diag_error(L->d, file, line,
			    "节点里没有 '%s' 这一项（可用：id, title, text, pages, "
			    "keywords, cues, options, action, exact, keep, parent）",
			    name);
		}
	}
	if (r.id == NULL) {
		diag_error(L->d, file, r.line, "节点没有 id");
		r.id = xasprintf("?line%d", r.line);
	} else if (!id_ok(r.id)) {
		diag_error(L->d, file, r.line, "节点 id \"%s\"：只能用小写字母、数字和 _，层级之间用点隔开", r.id);
	}
	if (r.title == NULL) {
		diag_error(L->d, file, r.line, "节点 \"%s\" 没有 title（标题）", r.id);
		r.title = xstrdup(r.id);
	}
	if (!has_text)
		diag_error(L->d, file, r.line, "节点 \"%s\" 没有 text（或 pages）", r.id);
	else if (r.pages.n == 0)
		diag_error(L->d, file, r.pages_line, "节点 \"%s\" 的 pages 是空的", r.id);
	if (L->nrn == L->caprn) {
		L->caprn = L->caprn ? L->caprn * 2 : 64;
		L->rn = xrealloc(L->rn, L->caprn * sizeof(*L->rn));
	}
	L->rn[L->nrn++] = r;
}

static void flatten_values(struct loader *L, const config_setting_t *g, const char *prefix, const char *file)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		char *name = *prefix ? xasprintf("%s.%s", prefix, config_setting_name(s))
				     : xstrdup(config_setting_name(s));
		char num[64];
		const char *v = NULL;

		switch (config_setting_type(s)) {
		case CONFIG_TYPE_GROUP:
			flatten_values(L, s, name, file);
			break;
		case CONFIG_TYPE_STRING:
			v = config_setting_get_string(s);
			break;
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64: {
			long long iv = config_setting_get_int64(s), wide;
			bool overflow;
			/* as written: libconfig keeps 32 bits of a number without L (an amount would be wrong) */
			if (config_setting_type(s) == CONFIG_TYPE_INT && L->text && line_of(s) >= 1 &&
			    (size_t)line_of(s) <= L->nlines &&
			    cfg_int_written_wider(
				L->text + L->line_at[line_of(s) - 1], config_setting_name(s), iv, &wide, &overflow)) {
				if (overflow) {
					diag_error(L->d, file, line_of(s), "值 '%s' 的数字太大", name);
					break;
				}
				iv = wide;
			}
			snprintf(num, sizeof(num), "%lld", iv);
			v = num;
			break;
		}
		case CONFIG_TYPE_FLOAT:
			snprintf(num, sizeof(num), "%g", config_setting_get_float(s));
			v = num;
			break;
		default:
			diag_error(L->d, file, line_of(s), "值 '%s' 只能是文字、数字或一组", name);
			break;
		}
		if (v != NULL) {
			/* a name given twice is reported by index_values, once every file is read */
			strv_add(&L->values_name, name, line_of(s));
			strv_add(&L->values_val, v, line_of(s));
			if (L->values_file_cap < L->values_name.cap) { /* only when it grew: a realloc may copy */
				L->values_file_cap = L->values_name.cap;
				L->values_file = xrealloc(L->values_file, L->values_file_cap * sizeof(char *));
			}
			L->values_file[L->values_name.n - 1] = file;
		}
		free(name);
	}
}

static void load_situations(struct loader *L, const config_setting_t *s, const char *file)
{
	if (!config_setting_is_list(s)) {
		diag_error(L->d, file, line_of(s),
		    "situations 要写成列表：( { node = \"linshi\"; weight = 2; "
		    "words = [\"没钱买炭\"]; }, ... )");
		return;
	}
	for (int k = 0; k < config_setting_length(s); k++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)k);
		struct situ e;
		memset(&e, 0, sizeof(e));
		e.file = file;
		e.line = line_of(g);
		e.weight = 1;
		if (!config_setting_is_group(g)) {
			diag_error(
			    L->d, file, e.line, "情境的每一组要写成 { node = ...; weight = ...; words = [...]; }");
			continue;
		}
		for (int i = 0; i < config_setting_length(g); i++) {
			const config_setting_t *f = config_setting_get_elem(g, (unsigned)i);
			const char *fn = config_setting_name(f), *v;
			if (strcmp(fn, "node") == 0) {
				if ((v = get_string(L, f, file, "node")) != NULL) {
					free(e.node);
					e.node = xstrdup(v);
				}
			} else if (strcmp(fn, "weight") == 0) {
				if (config_setting_type(f) != CONFIG_TYPE_INT || config_setting_get_int(f) < 1 ||
				    config_setting_get_int(f) > 9)
					diag_error(L->d, file, line_of(f), "weight 要是 1 到 9 的整数");
				else
					e.weight = config_setting_get_int(f);
			} else if (strcmp(fn, "words") == 0) {
				get_strings(L, f, file, "words", &e.words);
			} else {
				diag_error(
				    L->d, file, line_of(f), "情境里没有 '%s' 这一项（可用：node, weight, words）", fn);
			}
		}
		if (e.node == NULL || e.words.n == 0) {
			diag_error(L->d, file, e.line, "情境的每一组都要有 node 和 words");
			free(e.node);
			strv_free(&e.words);
			continue;
		}
		L->situ = xrealloc(L->situ, (L->nsitu + 1) * sizeof(*L->situ));
		L->situ[L->nsitu++] = e;
	}
}

static void load_markets(struct loader *L, const config_setting_t *s, const char *file)
{
	struct menu *m = L->m;

	if (!config_setting_is_list(s)) {
		diag_error(L->d, file, line_of(s),
		    "markets 要写成列表：( { town = \"崆峒镇\"; place = \"…\"; "
		    "rule = \"农历逢三、六、九\"; time = \"上午\"; }, ... )");
		return;
	}
	for (int k = 0; k < config_setting_length(s); k++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)k);
		struct menu_market mk;
		const char *why = NULL;
		memset(&mk, 0, sizeof(mk));
		mk.file = file;
		mk.line = line_of(g);
		if (!config_setting_is_group(g)) {
			diag_error(L->d, file, mk.line, "集市要写成一组 { town = ...; place = ...; rule = ...; }");
			continue;
		}
		for (int i = 0; i < config_setting_length(g); i++) {
			const config_setting_t *f = config_setting_get_elem(g, (unsigned)i);
			const char *fn = config_setting_name(f), *v = get_string(L, f, file, fn);
			char **dst = strcmp(fn, "town") == 0 ? &mk.town
			    : strcmp(fn, "place") == 0       ? &mk.place
			    : strcmp(fn, "time") == 0        ? &mk.time
			    : strcmp(fn, "rule") == 0        ? &mk.rule_text
							     : NULL;
			if (dst == NULL) {
				diag_error(L->d, file, line_of(f),
				    "集市里没有 '%s' 这一项（可用：town, place, rule, time）", fn);
				continue;
			}
			if (v != NULL) {
				free(*dst);
				*dst = xstrdup(v);
			}
		}
		if (mk.town == NULL || mk.town[0] == '\0' || mk.rule_text == NULL) {
			diag_error(L->d, file, mk.line, "集市要有 town 和 rule");
		} else if (!market_rule_parse(mk.rule_text, &mk.rule, &why)) {
			diag_error(L->d, file, mk.line, "集市规则 \"%s\"：%s", mk.rule_text, why);
		} else {
			if (mk.place == NULL)
				mk.place = xstrdup("");
			if (mk.time == NULL)
				mk.time = xstrdup("");
			mk.town_norm = norm_dup(mk.town, strlen(mk.town), 0);
			m->markets = xrealloc(m->markets, (m->nmarkets + 1) * sizeof(*m->markets));
			m->markets[m->nmarkets++] = mk;
			continue;
		}
		free(mk.town);
		free(mk.place);
		free(mk.time);
		free(mk.rule_text);
	}
}

static void load_glossary(struct loader *L, const config_setting_t *s, const char *file)
{
	if (!config_setting_is_list(s)) {
		diag_error(
		    L->d, file, line_of(s), "glossary 要写成列表：( { term = \"公示\"; plain = [\"贴出来\"]; }, ... )");
		return;
	}
	for (int k = 0; k < config_setting_length(s); k++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)k);
		struct gloss e;
		memset(&e, 0, sizeof(e));
		e.file = file;
		e.line = line_of(g);
		if (!config_setting_is_group(g)) {
			diag_error(L->d, file, line_of(g), "词语解释的每一条要写成一组 { term = ...; plain = [...]; }");
			continue;
		}
		for (int i = 0; i < config_setting_length(g); i++) {
			const config_setting_t *f = config_setting_get_elem(g, (unsigned)i);
			const char *fn = config_setting_name(f), *v;
			if (strcmp(fn, "term") == 0) {
				if ((v = get_string(L, f, file, "term")) != NULL && *v) {
					free(e.term);
					e.term = xstrdup(v);
				}
			} else if (strcmp(fn, "plain") == 0) {
				get_strings(L, f, file, "plain", &e.plain);
			} else if (strcmp(fn, "except") == 0) {
				get_strings(L, f, file, "except", &e.except);
			} else {
				diag_error(L->d, file, line_of(f),
				    "词语解释里没有 '%s' 这一项（可用：term, plain, except）", fn);
			}
		}
		if (e.term == NULL || e.plain.n == 0) {
			diag_error(L->d, file, e.line, "词语解释的每一条要有 term 和至少一个 plain（大白话说法）");
			free(e.term);
			strv_free(&e.plain);
			strv_free(&e.except);
			continue;
		}
		L->gloss = xrealloc(L->gloss, (L->ngloss + 1) * sizeof(*L->gloss));
		L->gloss[L->ngloss++] = e;
	}
}

/* The line of byte offset at in text. */
static int line_at(const char *text, size_t at)
{
	int line = 1;

	for (size_t i = 0; i < at; i++)
		line += text[i] == '\n';
	return line;
}

/* libconfig says what is wrong in English; a content editor reads this */
static const char *syntax_zh(const char *what)
{
	if (what != NULL && strcmp(what, "syntax error") == 0)
		return "格式错误：看看这一行和上一行的引号、分号、括号是不是配对";
	return what;
}

static void load_file(struct loader *L, const char *path, const char *file)
{
	config_t cf;
	char err[160], *text;
	size_t len = 0, pos = 0;

	/*
	 * Read whole (a regular file only: a FIFO would block the load and the
	 * reload), checked, then parsed from memory: libconfig's scanner, fed
	 * from a file, scans a long value again at each refill of its buffer.
	 */
	text = file_read_regular(path, &len, err, sizeof(err));
	if (text == NULL) {
		diag_error(L->d, file, 0, "读不了这个文件：%s", err);
		return;
	}
	if (strlen(text) != len) {
		diag_error(L->d, file, line_at(text, strlen(text)), "有 NUL 字节：菜单文件要是 UTF-8 文本");
		free(text);
		return;
	}
	while (pos < len) { /* every text sent to a villager must be valid UTF-8: the whole file is */
		size_t at = pos;
		uint32_t cp = utf8_next(text, len, &pos);
		if (cp == UTF8_REPLACEMENT && pos - at == 1) {
			diag_error(L->d, file, line_at(text, at), "不是有效的 UTF-8（字节 0x%02X）：请把文件存成 UTF-8",
			    (unsigned char)text[at]);
			free(text);
			return;
		}
	}
	config_init(&cf);
	if (config_read_string(&cf, text) != CONFIG_TRUE) {
		diag_error(L->d, file, config_error_line(&cf), "%s", syntax_zh(config_error_text(&cf)));
		config_destroy(&cf);
		free(text);
		return;
	}
	/* where each line starts, for element_line (a list's last element) */
	L->nlines = 0;
	for (size_t i = 0; i < len; i++)
		L->nlines += text[i] == '\n';
	L->line_at = xmalloc((L->nlines + 1) * sizeof(size_t));
	L->nlines = 0;
	L->line_at[L->nlines++] = 0;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			L->line_at[L->nlines++] = i + 1;
	L->text = text;
	const config_setting_t *root = config_root_setting(&cf);
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);

		if (strcmp(name, "nodes") == 0) {
			if (!config_setting_is_list(s)) {
				diag_error(L->d, file, line_of(s), "nodes 要写成列表：( { ... }, { ... } )");
				continue;
			}
			for (int k = 0; k < config_setting_length(s); k++)
				load_node(L, config_setting_get_elem(s, (unsigned)k), file);
		} else if (strcmp(name, "values") == 0) {
			if (!config_setting_is_group(s))
				diag_error(L->d, file, line_of(s), "values 要写成一组：{ name = \"...\"; }");
			else
				flatten_values(L, s, "", file);
		} else if (strcmp(name, "texts") == 0) {
			if (!config_setting_is_group(s)) {
				diag_error(L->d, file, line_of(s), "texts 要写成一组：{ name = \"...\"; }");
				continue;
			}
			for (int k = 0; k < config_setting_length(s); k++) {
				const config_setting_t *t = config_setting_get_elem(s, (unsigned)k);
				const char *tn = config_setting_name(t);
				int idx = menu_text_index(tn);
				if (idx < 0) {
					diag_error(L->d, file, line_of(t), "没有叫 '%s' 的系统文字", tn);
					continue;
				}
				if (L->raw_texts[idx].text) {
					diag_error(L->d, file, line_of(t), "文字 '%s' 在 %s:%d 也写了一次", tn,
					    L->raw_texts[idx].file, L->raw_texts[idx].line);
					continue;
				}
				struct strv sms = { 0 }, ussd = { 0 };
				if (!get_variants(L, t, file, tn, false, &sms, &ussd)) {
					strv_free(&sms);
					strv_free(&ussd);
					continue;
				}
				L->raw_texts[idx].text = xstrdup(sms.v[0]);
				L->raw_texts[idx].file = file;
				L->raw_texts[idx].line = sms.line[0];
				if (ussd.n) {
					L->raw_texts[idx].ussd = xstrdup(ussd.v[0]);
					L->raw_texts[idx].ussd_line = ussd.line[0];
				}
				strv_free(&sms);
				strv_free(&ussd);
			}
		} else if (strcmp(name, "situations") == 0) {
			load_situations(L, s, file);
		} else if (strcmp(name, "situation_threshold") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_INT || config_setting_get_int(s) < 1)
				diag_error(L->d, file, line_of(s), "situation_threshold 要是不小于 1 的整数");
			else
				L->m->situ_threshold = config_setting_get_int(s);
		} else if (strcmp(name, "markets") == 0) {
			load_markets(L, s, file);
		} else if (strcmp(name, "glossary") == 0) {
			load_glossary(L, s, file);
		} else if (strcmp(name, "digit_fillers") == 0) {
			get_strings(L, s, file, "digit_fillers", &L->fillers);
		} else if (strcmp(name, "digit_words") == 0) {
			struct strv w = { 0 };
			get_strings(L, s, file, "digit_words", &w);
			for (size_t k = 0; k < w.n; k++) {
				const char *eq = strchr(w.v[k], '=');
				size_t dl = eq ? (size_t)(eq - w.v[k]) : 0;
				bool ok = eq && dl >= 1 && dl <= 2 && eq[1] != '\0';
				for (size_t c = 0; ok && c < dl; c++)
					ok = w.v[k][c] >= '0' && w.v[k][c] <= '9';
				if (!ok)
					diag_error(L->d, file, w.line[k],
					    "数字说法 \"%s\"：要写成 \"D=说法\"（\"9=下一页\"）", w.v[k]);
				else
					strv_add(&L->digit_words, w.v[k], w.line[k]);
			}
			strv_free(&w);
		} else {
			diag_error(L->d, file, line_of(s),
			    "没有 '%s' 这一项（菜单文件里可以有 nodes, values, texts, markets, glossary, situations, situation_threshold, digit_fillers, digit_words）",
			    name);
		}
	}
	config_destroy(&cf);
	free(L->line_at);
	L->line_at = NULL;
	L->nlines = 0;
	L->text = NULL;
	free(text);
}

/* ---- placeholders ------------------------------------------------------------ */

/* Longest text placeholders may expand to: values inside values could otherwise double at each level. */
#define EXPAND_MAX (16u << 20)

static int cmp_value_index(const void *a, const void *b, void *arg)
{
	const struct loader *L = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(L->values_name.v[x], L->values_name.v[y]);

	return c ? c : (x > y) - (x < y);
}

/*
 * Sort the values by name for lookups (a placeholder costs log n, not n) and
 * report each name given twice, at the later place, naming the first.
 */
static void index_values(struct loader *L)
{
	size_t n = L->values_name.n;

	L->values_by_name = xcalloc(n + 1, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		L->values_by_name[i] = i;
	qsort_r(L->values_by_name, n, sizeof(size_t), cmp_value_index, L);
	L->nvalues_by_name = n;
	/* ties are sorted by index: the first of a run of one name is its first definition */
	for (size_t i = 1, first = n ? L->values_by_name[0] : 0; i < n; i++) {
		size_t b = L->values_by_name[i];
		if (strcmp(L->values_name.v[first], L->values_name.v[b]) != 0) {
			first = b;
			continue;
		}
		diag_error(L->d, L->values_file[b], L->values_name.line[b], "值 '%s' 在 %s:%d 也写了一次",
		    L->values_name.v[b], L->values_file[first], L->values_name.line[first]);
	}
}

/* The index of value name (n bytes), or -1; the first definition when given twice. */
static long value_index(const struct loader *L, const char *name, size_t n)
{
	size_t lo = 0, hi = L->nvalues_by_name;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *v = L->values_name.v[L->values_by_name[mid]];
		int c = strncmp(v, name, n);
		if (c == 0 && v[n] != '\0')
			c = 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < L->nvalues_by_name) {
		size_t k = L->values_by_name[lo];
		if (strncmp(L->values_name.v[k], name, n) == 0 && L->values_name.v[k][n] == '\0')
			return (long)k;
	}
	return -1;
}

static const char *office_value(const struct loader *L, const char *name, size_t n)
{
	const struct config *c = L->cfg;
	struct {
		const char *name;
		const char *value;
	} office[] = {
		{ "office.name", c->office_name },
		{ "office.address", c->office_address },
		{ "office.hours", c->office_hours },
		{ "office.phone", c->office_phone },
	};
	for (size_t i = 0; i < ARRAY_LEN(office); i++)
		if (strlen(office[i].name) == n && strncmp(office[i].name, name, n) == 0)
			return office[i].value;
	return NULL;
}

static bool var_allowed(const char *vars, const char *name, size_t n)
{
	const char *p = vars;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

/* The values being expanded, outermost first: a name met again is a cycle. */
struct expanding {
	long v[32];
	size_t n;
	bool failed; /* a cycle or a runaway was reported: stop adding */
};

/* Report the cycle that value vi closes (or a chain too deep to be anything else). */
static void report_cycle(struct loader *L, struct expanding *st, long vi, const char *what)
{
	struct buf chain = { 0 };
	size_t k = 0;

	while (k < st->n && st->v[k] != vi)
		k++;
	if (k == st->n)
		k = 0;
	for (size_t j = k; j < st->n; j++)
		buf_printf(&chain, "{%s} -> ", L->values_name.v[st->v[j]]);
	buf_printf(&chain, "{%s}", L->values_name.v[vi]);
	diag_error(L->d, L->values_file[st->v[st->n - 1]], L->values_name.line[st->v[st->n - 1]],
	    "%s：占位符互相引用，绕成了圈：%s", what, buf_str(&chain));
	buf_free(&chain);
	st->failed = true;
}

/*
 * Fill static placeholders (office.* and values, values inside values too:
 * a cycle among them is an error, so nothing unfilled is ever sent); runtime
 * ones allowed by `vars` stay; others are errors. An optional part whose
 * static values are all given stays optional when it holds a runtime
 * placeholder (menu_render decides), else is kept or dropped here.
 */
static void expand_into(struct loader *L, struct buf *b, const char *tmpl, size_t len, const char *vars,
    const char *file, int line, const char *what, bool *empty, bool *runtime, struct expanding *st)
{
	for (const char *p = tmpl, *end = tmpl + len; p < end && !st->failed;) {
		size_t n;
		if (menu_placeholder_at(p, &n) && p + n + 2 <= end && n > 3 && strncmp(p + 1, "if.", 3) == 0) {
			/* a switch: says nothing, keeps its optional part only when on */
			if (n == 11 && strncmp(p + 1, "if.callback", 11) == 0) {
				if (!(L->cfg->calls_enabled && L->cfg->calls_callback))
					*empty = true;
			} else {
				diag_error(L->d, file, line, "%s：没有 {%.*s} 这个开关（可用：if.callback）", what,
				    (int)n, p + 1);
			}
			p += n + 2;
			continue;
		}
		if (menu_placeholder_at(p, &n) && p + n + 2 <= end && n == 9 && strncmp(p + 1, "page.next", 9) == 0) {
			/* the next-page hint, in the words of the page's channel */
			if (L->page_next == NULL)
				diag_error(L->d, file, line, "%s：{page.next} 只能用在节点的 pages 里", what);
			else
				buf_adds(b, L->page_next);
			p += n + 2;
			continue;
		}
		if (menu_placeholder_at(p, &n) && p + n + 2 <= end) {
			const char *v = office_value(L, p + 1, n);
			long vi = v ? -1 : value_index(L, p + 1, n);
			if (v != NULL) {
				buf_adds(b, v);
				if (*v == '\0')
					*empty = true;
			} else if (vi >= 0) {
				size_t k = 0, before = b->len;
				while (k < st->n && st->v[k] != vi)
					k++;
				if (k < st->n || st->n == ARRAY_LEN(st->v)) {
					report_cycle(L, st, vi, what);
					return;
				}
				st->v[st->n++] = vi;
				expand_into(L, b, L->values_val.v[vi], strlen(L->values_val.v[vi]), vars,
				    L->values_file[vi], L->values_name.line[vi], what, empty, runtime, st);
				st->n--;
				if (b->len == before)
					*empty = true;
				if (b->len > EXPAND_MAX) {
					diag_error(
					    L->d, file, line, "%s：占位符展开后超过 %u MB", what, EXPAND_MAX >> 20);
					st->failed = true;
					return;
				}
			} else {
				if (!var_allowed(vars, p + 1, n))
					diag_error(L->d, file, line,
					    "%s：占位符 {%.*s} 没有值（office.* 来自配置文件，"
					    "其他的来自 values）",
					    what, (int)n, p + 1);
				buf_add(b, p, n + 2);
				*runtime = true;
			}
			p += n + 2;
			continue;
		}
		if (p[0] == '{' && p + 1 < end && p[1] == '?') {
			size_t inner;
			if (!menu_optional_at(p, &inner) || p + inner + 3 > end) {
				diag_error(L->d, file, line,
				    "%s：可选部分 \"{?\" 没有用 \"}\" 结束"
				    "（或者里面又套了一个）",
				    what);
				buf_add(b, p, (size_t)(end - p));
				return;
			}
			struct buf part = { 0 };
			bool e = false, rt = false;
			expand_into(L, &part, p + 2, inner, vars, file, line, what, &e, &rt, st);
			char *t = buf_take(&part);
			if (!e && rt) {
				buf_adds(b, "{?");
				buf_adds(b, t ? t : "");
				buf_addc(b, '}');
			} else if (!e && t) {
				buf_adds(b, t);
			}
			free(t);
			p += inner + 3;
			continue;
		}
		buf_addc(b, *p++);
	}
}

static char *expand(struct loader *L, const char *tmpl, const char *vars, const char *file, int line, const char *what)
{
	struct buf b = { 0 };
	bool empty = false, runtime = false;
	struct expanding st = { .n = 0, .failed = false };

	expand_into(L, &b, tmpl, strlen(tmpl), vars, file, line, what, &empty, &runtime, &st);
	if (st.failed) { /* the load fails; the text as written, so that no other check trips over it */
		buf_free(&b);
		return xstrdup(tmpl);
	}
	char *t = buf_take(&b);
	return t ? t : xstrdup("");
}

/* ---- checks -------------------------------------------------------------------- */

static void check_budget(
    struct loader *L, const char *text, const char *file, int line, const char *what, bool is_error)
{
	struct sms_count c;
	int budget = L->cfg->sms_page_segments;
	size_t chars_max = budget == 1 ? SMS_UCS2_SINGLE : (size_t)budget * SMS_UCS2_PART;

	sms_count(text, strlen(text), &c);
	if (c.segments > (size_t)budget) {
		if (is_error)
			diag_error(L->d, file, line,
			    "%s有 %zu 个字：要 %zu 条短信，超过上限 %d 条"
			    "（上限约 %zu 个汉字）",
			    what, c.chars, c.segments, budget, chars_max);
		else
			diag_warn(L->d, file, line,
			    "%s可能长到 %zu 个字：要 %zu 条短信，超过上限 "
			    "%d 条",
			    what, c.chars, c.segments, budget);
	}
	const char *more = L->m->texts[menu_text_index("ussd_more")].text;
	size_t screens = sms_split_screens(text, strlen(text), more ? more : "98更多 0返回",
	    (size_t)L->cfg->ussd_gsm7_limit, (size_t)L->cfg->ussd_ucs2_limit, NULL, 0);
	if (screens > (size_t)L->cfg->ussd_max_screens)
		diag_error(L->d, file, line,
		    "%s要 %zu 屏 USSD（每屏 %d 个字），最多 %d 屏"
		    "（ussd.max_screens）：请分成几页",
		    what, screens, L->cfg->ussd_ucs2_limit, L->cfg->ussd_max_screens);
}

/*
 * Every glossary term a text uses comes with its plain words in the same
 * text (page): 公示 with 贴出来, 工作日 with 不算周末. A term inside one of
 * its exception words (抚养 in 事实无人抚养) does not count.
 */
static void check_glossary(struct loader *L, const char *text, const char *file, int line, const char *what)
{
	for (size_t g = 0; g < L->ngloss; g++) {
		const struct gloss *e = &L->gloss[g];
		if (strstr(text, e->term) == NULL)
			continue;
		char *t = xstrdup(text);
		for (size_t x = 0; x < e->except.n; x++) {
			size_t xl = strlen(e->except.v[x]);
			for (char *p = xl ? strstr(t, e->except.v[x]) : NULL; p; p = strstr(p + xl, e->except.v[x]))
				memset(p, ' ', xl);
		}
		bool used = strstr(t, e->term) != NULL, explained = false;
		for (size_t k = 0; k < e->plain.n && !explained; k++)
			explained = strstr(t, e->plain.v[k]) != NULL;
		free(t);
		if (used && !explained)
			diag_warn(L->d, file, line, "%s用了 \"%s\"，没加大白话解释（词语解释 %s:%d：比如 \"%s\"%s）",
			    what, e->term, e->file, e->line, e->plain.v[0], e->plain.n > 1 ? " ..." : "");
	}
}

/* Does the page's last line name a digit to send (回复0返回)? */
static bool ends_with_digit(const char *page)
{
	const char *nl = strrchr(page, '\n');

	for (const char *p = nl ? nl + 1 : page; *p; p++)
		if (*p >= '0' && *p <= '9')
			return true;
	return false;
}

/* Does the page tell the reader what to reply (回复1…, 按0, 发送…)? */
static bool has_reply_hint(const char *page)
{
	return strstr(page, "回复") || strstr(page, "按") || strstr(page, "发");
}

/* ---- keywords -------------------------------------------------------------- */

static void add_pattern(struct loader *L, const char *norm, size_t len, int node, bool cue, bool exact, size_t chars)
{
	struct menu *m = L->m;
	bool word = true;

	for (size_t i = 0; i < len; i++)
		if (!(norm[i] >= 'a' && norm[i] <= 'z'))
			word = false;
	word = word && len <= 3;
	if (m->npats == m->cappats) {
		m->cappats = m->cappats ? m->cappats * 2 : 256;
		m->pats = xrealloc(m->pats, m->cappats * sizeof(*m->pats));
	}
	m->pats[m->npats] = (struct pattern){ node, cue, word, exact && !cue, chars, 0 };
	ac_add(m->ac, norm, len, (int)m->npats);
	m->npats++;
}

/* Expand '#' (any digit) and add every form. */
static void add_expanded(
    struct loader *L, char *norm, size_t len, size_t pos, int node, bool cue, bool exact, size_t chars)
{
	for (; pos < len; pos++)
		if (norm[pos] == '#')
			break;
	if (pos == len) {
		add_pattern(L, norm, len, node, cue, exact, chars);
		return;
	}
	for (char d = '0'; d <= '9'; d++) {
		norm[pos] = d;
		add_expanded(L, norm, len, pos + 1, node, cue, exact, chars);
	}
	norm[pos] = '#';
}

struct seen_kw {
	char *norm;
	int node;
	bool cue;
	const char *file;
	int line;
};

static int cmp_seen(const void *a, const void *b)
{
	const struct seen_kw *x = a, *y = b;
	int c = strcmp(x->norm, y->norm);

	if (c)
		return c;
	if (x->cue != y->cue)
		return x->cue - y->cue;
	return x->node - y->node;
}

static void build_patterns(struct loader *L)
{
	struct menu *m = L->m;
	struct seen_kw *seen = NULL;
	size_t nseen = 0, capseen = 0;

	m->ac = ac_new();
	for (size_t i = 0; i < L->nrn; i++) {
		struct rnode *r = &L->rn[i];
		for (int pass = 0; pass < 2; pass++) {
			struct strv *list = pass ? &r->cues : &r->keywords;
			for (size_t k = 0; k < list->n; k++) {
				char *norm = norm_dup(list->v[k], strlen(list->v[k]), NORM_KEEP_HASH);
				size_t len = strlen(norm), hashes = 0;
				for (size_t c = 0; c < len; c++)
					hashes += norm[c] == '#';
				if (len == 0) {
					diag_error(L->d, r->file, list->line[k],
					    "%s \"%s\" 去掉空格和"
					    "标点后什么都不剩",
					    pass ? "提示词" : "关键词", list->v[k]);
				} else if (hashes == len) {
					diag_error(L->d, r->file, list->line[k], "%s \"%s\" 只有通配符 #",
					    pass ? "提示词" : "关键词", list->v[k]);
				} else if (hashes > 2) {
					diag_error(L->d, r->file, list->line[k], "%s \"%s\"：最多两个 # 通配符",
					    pass ? "提示词" : "关键词", list->v[k]);
				} else {
					add_expanded(
					    L, norm, len, 0, (int)i, pass == 1, r->exact, utf8_chars(norm, len));
					if (nseen == capseen) {
						capseen = capseen ? capseen * 2 : 256;
						seen = xrealloc(seen, capseen * sizeof(*seen));
					}
					seen[nseen++] = (struct seen_kw){ xstrdup(norm), (int)i, pass == 1, r->file,
						list->line[k] };
				}
				free(norm);
			}
		}
	}
	/* situation cues: weights toward a node, used when no keyword decides */
	for (size_t g = 0; g < L->nsitu; g++) {
		int node = menu_find(m, L->situ[g].node);
		if (node < 0) {
			diag_error(
			    L->d, L->situ[g].file, L->situ[g].line, "情境词指向 \"%s\"，没有这个节点", L->situ[g].node);
			continue;
		}
		for (size_t k = 0; k < L->situ[g].words.n; k++) {
			char *norm = norm_dup(L->situ[g].words.v[k], strlen(L->situ[g].words.v[k]), 0);
			size_t len = strlen(norm);
			if (len == 0) {
				diag_error(L->d, L->situ[g].file, L->situ[g].words.line[k],
				    "情境词 \"%s\" 去掉空格和"
				    "标点后什么都不剩",
				    L->situ[g].words.v[k]);
			} else {
				add_pattern(L, norm, len, node, false, false, utf8_chars(norm, len));
				m->pats[m->npats - 1].weight = L->situ[g].weight;
				m->pats[m->npats - 1].word = false;
			}
			free(norm);
		}
	}
	ac_build(m->ac);

	/* a keyword on two nodes; a cue twice under one parent */
	if (nseen > 0)
		qsort(seen, nseen, sizeof(*seen), cmp_seen);
	for (size_t a = 0; a < nseen; a++) {
		for (size_t b = a + 1; b < nseen && strcmp(seen[a].norm, seen[b].norm) == 0; b++) {
			const struct seen_kw *x = &seen[a], *y = &seen[b];
			if (!x->cue && !y->cue) {
				if (x->node == y->node)
					diag_warn(L->d, y->file, y->line, "关键词 \"%s\" 在 \"%s\" 里写了两次", y->norm,
					    L->rn[y->node].id);
				else
					diag_error(L->d, y->file, y->line,
					    "关键词 \"%s\"（属于 \"%s\"）也是 "
					    "\"%s\" 的关键词（%s:%d）：一条短信只能去一个节点",
					    y->norm, L->rn[y->node].id, L->rn[x->node].id, x->file, x->line);
			} else if (x->cue && y->cue && m->nodes[x->node].parent == m->nodes[y->node].parent) {
				if (x->node == y->node)
					diag_warn(L->d, y->file, y->line, "提示词 \"%s\" 在 \"%s\" 里写了两次", y->norm,
					    L->rn[y->node].id);
				else
					diag_error(L->d, y->file, y->line,
					    "提示词 \"%s\"（属于 \"%s\"）也是 \"%s\" 的提示词"
					    "（%s:%d），两个在同一个话题下",
					    y->norm, L->rn[y->node].id, L->rn[x->node].id, x->file, x->line);
			}
		}
	}
	for (size_t a = 0; a < nseen; a++)
		free(seen[a].norm);
	free(seen);
}

/* ---- assembling ---------------------------------------------------------------- */

static int cmp_by_id(const void *a, const void *b, void *arg)
{
	const struct menu *m = arg;

	return strcmp(m->nodes[*(const int *)a].id, m->nodes[*(const int *)b].id);
}

static enum menu_action parse_action(struct loader *L, const struct rnode *r)
{
	static const struct {
		const char *name;
		enum menu_action a;
	} acts[] = {
		{ "form", MENU_ACT_FORM },
		{ "status", MENU_ACT_STATUS },
		{ "feedback", MENU_ACT_FEEDBACK },
		{ "callback", MENU_ACT_CALLBACK },
		{ "repeat", MENU_ACT_REPEAT },
		{ "market", MENU_ACT_MARKET },
	};
	if (r->action == NULL)
		return MENU_ACT_NONE;
	for (size_t i = 0; i < ARRAY_LEN(acts); i++)
		if (strcmp(acts[i].name, r->action) == 0)
			return acts[i].a;
	diag_error(L->d, r->file, r->line,
	    "节点 \"%s\"：没有 \"%s\" 这个动作（可用：form, status, feedback, "
	    "callback, repeat, market）",
	    r->id, r->action);
	return MENU_ACT_NONE;
}

static void assemble(struct loader *L)
{
	struct menu *m = L->m;

	m->nnodes = L->nrn;
	m->nodes = xcalloc(m->nnodes ? m->nnodes : 1, sizeof(*m->nodes));
	m->by_id = xcalloc(m->nnodes ? m->nnodes : 1, sizeof(int));
	for (size_t i = 0; i < m->nnodes; i++) {
		struct menu_node *n = &m->nodes[i];
		n->id = xstrdup(L->rn[i].id);
		n->title = xstrdup(L->rn[i].title);
		n->file = L->rn[i].file;
		n->line = L->rn[i].line;
		n->exact = L->rn[i].exact;
		n->keep = L->rn[i].keep;
		n->action = parse_action(L, &L->rn[i]);
		m->by_id[i] = (int)i;
	}
	qsort_r(m->by_id, m->nnodes, sizeof(int), cmp_by_id, m);
	for (size_t i = 1; i < m->nnodes; i++) {
		const struct menu_node *a = &m->nodes[m->by_id[i - 1]], *b = &m->nodes[m->by_id[i]];
		if (strcmp(a->id, b->id) == 0) {
			const struct menu_node *later = m->by_id[i - 1] > m->by_id[i] ? a : b;
			const struct menu_node *first = later == a ? b : a;
			diag_error(L->d, later->file, later->line, "节点 id \"%s\" 在 %s:%d 也写了一次", later->id,
			    first->file, first->line);
		}
	}
	m->root = menu_find(m, "root");

	/* parents, depth, topic */
	for (size_t i = 0; i < m->nnodes; i++) {
		struct menu_node *n = &m->nodes[i];
		struct rnode *r = &L->rn[i];
		if ((int)i == m->root) {
			n->parent = -1;
			continue;
		}
		if (r->parent_id) {
			n->parent = menu_find(m, r->parent_id);
			if (n->parent < 0)
				diag_error(
				    L->d, r->file, r->line, "节点 \"%s\"：上级 \"%s\" 不存在", r->id, r->parent_id);
		} else {
			const char *dot = strrchr(n->id, '.');
			if (dot) {
				char *pid = xstrndup(n->id, (size_t)(dot - n->id));
				n->parent = menu_find(m, pid);
				if (n->parent < 0)
					diag_error(
					    L->d, r->file, r->line, "节点 \"%s\"：它的上级 \"%s\" 不存在", r->id, pid);
				free(pid);
			} else {
				n->parent = m->root;
			}
		}
		if (n->parent < 0)
			n->parent = m->root;
	}
	for (size_t i = 0; i < m->nnodes; i++) {
		struct menu_node *n = &m->nodes[i];
		int p = (int)i, depth = 0, guard = 0;
		n->topic = -1;
		while (p >= 0 && m->nodes[p].parent >= 0 && guard++ < 64) {
			if (m->nodes[p].parent == m->root || m->nodes[p].parent < 0)
				n->topic = p;
			p = m->nodes[p].parent;
			depth++;
		}
		if (guard >= 64) {
			diag_error(L->d, n->file, n->line, "节点 \"%s\"：上级绕成了圈", n->id);
			n->parent = m->root;
		}
		n->depth = depth;
	}

	/* options */
	for (size_t i = 0; i < m->nnodes; i++) {
		struct menu_node *n = &m->nodes[i];
		struct rnode *r = &L->rn[i];
		for (int d = 0; d < MENU_DIGITS; d++) {
			n->options[d] = -1;
			if (r->opt_target[d] == NULL)
				continue;
			n->options[d] = menu_find(m, r->opt_target[d]);
			if (n->options[d] < 0)
				diag_error(L->d, r->file, r->opt_line[d],
				    "选项 %d（属于 \"%s\"）指向 \"%s\"，"
				    "没有这个节点",
				    d, r->id, r->opt_target[d]);
		}
		if (r->pages.n > 1 && r->opt_target[9])
			diag_error(L->d, r->file, r->opt_line[9],
			    "节点 \"%s\" 有多页，9 是看下一页："
			    "这个选项请换一个数字",
			    r->id);
	}
}

static void build_pages_and_texts(struct loader *L)
{
	struct menu *m = L->m;

	/* system texts first: the USSD check of pages needs ussd_more */
	for (size_t t = 0; t < MENU_NTEXTS; t++) {
		m->texts[t].name = menu_text_defs[t].name;
		if (L->raw_texts[t].text == NULL) {
			if (menu_text_defs[t].required)
				diag_error(L->d, L->m->nfiles ? L->m->files[0] : "menus", 0,
				    "系统文字 '%s' 没有写（texts = { %s = \"...\"; }）", menu_text_defs[t].name,
				    menu_text_defs[t].name);
			m->texts[t].text = xstrdup("");
			continue;
		}
		char what[96];
		snprintf(what, sizeof(what), "文字 '%s'", menu_text_defs[t].name);
		m->texts[t].text = expand(
		    L, L->raw_texts[t].text, menu_text_defs[t].vars, L->raw_texts[t].file, L->raw_texts[t].line, what);
		m->texts[t].file = L->raw_texts[t].file;
		m->texts[t].line = L->raw_texts[t].line;
		if (L->raw_texts[t].ussd) {
			snprintf(what, sizeof(what), "USSD 文字 '%s'", menu_text_defs[t].name);
			m->texts[t].ussd = expand(L, L->raw_texts[t].ussd, menu_text_defs[t].vars, L->raw_texts[t].file,
			    L->raw_texts[t].ussd_line, what);
		}
	}
	for (size_t i = 0; i < m->nnodes; i++) {
		struct menu_node *n = &m->nodes[i];
		struct rnode *r = &L->rn[i];
		n->npages = r->pages.n;
		n->pages = xcalloc(n->npages + 1, sizeof(char *));
		for (size_t p = 0; p < r->pages.n; p++) {
			char what[160];
			if (n->npages > 1)
				snprintf(what, sizeof(what), "\"%s\" 的第 %zu 页", n->id, p + 1);
			else
				snprintf(what, sizeof(what), "\"%s\" 的文字", n->id);
			L->page_next = menu_text_for(m, "page_next", false);
			n->pages[p] = expand(L, r->pages.v[p], "", r->file, r->pages.line[p], what);
			L->page_next = NULL;
			check_budget(L, n->pages[p], r->file, r->pages.line[p], what, true);
			check_glossary(L, n->pages[p], r->file, r->pages.line[p], what);
			if (!has_reply_hint(n->pages[p]) && n->action == MENU_ACT_NONE)
				diag_warn(L->d, r->file, r->pages.line[p], "%s没说要回复什么（回复…）", what);
			else if (!ends_with_digit(n->pages[p]) && n->action == MENU_ACT_NONE)
				diag_warn(L->d, r->file, r->pages.line[p],
				    "%s最后没写下一步回复哪个数字"
				    "（最后一行写：回复0返回、回复9下一页 ...）",
				    what);
			if (p + 1 < n->npages && !strchr(n->pages[p], '9'))
				diag_warn(L->d, r->file, r->pages.line[p], "%s没说回复 9 看下一页", what);
		}
		if (r->ussd_pages.n == 0) {
			/* pages that say {page.next}: their USSD form follows by itself (98, not 回复9) */
			bool hint = false;
			for (size_t p = 0; p < r->pages.n; p++)
				hint |= strstr(r->pages.v[p], "{page.next}") != NULL;
			if (!hint)
				continue;
			n->nussd_pages = n->npages;
			n->ussd_pages = xcalloc(n->nussd_pages + 1, sizeof(char *));
			for (size_t p = 0; p < n->npages; p++) {
				char what[160];
				snprintf(what, sizeof(what), "\"%s\" 的 USSD 第 %zu 页", n->id, p + 1);
				L->page_next = menu_text_for(m, "page_next", true);
				n->ussd_pages[p] = expand(L, r->pages.v[p], "", r->file, r->pages.line[p], what);
				L->page_next = NULL;
			}
			continue;
		}
		/* USSD pages: as many as the SMS ones (9 and 98 page through both alike) */
		if (r->ussd_pages.n != r->pages.n)
			diag_error(L->d, r->file, r->ussd_pages.line[0],
			    "\"%s\" 有 %zu 页短信，却有 %zu 页 USSD："
			    "每一页短信都要有一个 USSD 写法",
			    n->id, r->pages.n, r->ussd_pages.n);
		n->nussd_pages = r->ussd_pages.n < n->npages ? r->ussd_pages.n : n->npages;
		n->ussd_pages = xcalloc(n->nussd_pages + 1, sizeof(char *));
		for (size_t p = 0; p < n->nussd_pages; p++) {
			char what[160];
			snprintf(what, sizeof(what), "\"%s\" 的 USSD 第 %zu 页", n->id, p + 1);
			L->page_next = menu_text_for(m, "page_next", true);
			n->ussd_pages[p] = expand(L, r->ussd_pages.v[p], "", r->file, r->ussd_pages.line[p], what);
			L->page_next = NULL;
			check_budget(L, n->ussd_pages[p], r->file, r->ussd_pages.line[p], what, true);
			check_glossary(L, n->ussd_pages[p], r->file, r->ussd_pages.line[p], what);
		}
	}
}

/* Plausible runtime values, to see whether a text stays in budget once filled. */
static const struct menu_var sample_vars[] = {
	{ "case.number", "2026-0042" },
	{ "feedback.number", "2026-0042" },
	{ "count", "3" },
	{ "case.topic", "上门服务" },
	{ "case.status", "审核中" },
	{ "case.updated", "11月28日" },
	{ "case.staff_name", "王建国" },
	{ "case.staff_phone", "13900000000" },
	{ "form.name", "张桂兰" },
	{ "form.place", "崆峒镇寨子街村3组" },
	{ "form.need", "老伴瘫痪在床，想问能不能办低保" },
	{ "form.phone", "13912345678" },
};

static void check_texts(struct loader *L)
{
	struct menu *m = L->m;

	for (size_t t = 0; t < MENU_NTEXTS; t++) {
		char *r, what[96];
		if (L->raw_texts[t].text == NULL)
			continue;
		r = menu_render(m->texts[t].text, sample_vars, ARRAY_LEN(sample_vars));
		snprintf(what, sizeof(what), "文字 '%s'", menu_text_defs[t].name);
		check_budget(L, r, m->texts[t].file, m->texts[t].line, what, false);
		check_glossary(L, r, m->texts[t].file, m->texts[t].line, what);
		free(r);
		if (m->texts[t].ussd) {
			r = menu_render(m->texts[t].ussd, sample_vars, ARRAY_LEN(sample_vars));
			snprintf(what, sizeof(what), "USSD 文字 '%s'", menu_text_defs[t].name);
			check_budget(L, r, m->texts[t].file, L->raw_texts[t].ussd_line, what, false);
			check_glossary(L, r, m->texts[t].file, L->raw_texts[t].ussd_line, what);
			free(r);
		}
	}
	/* the market answer at its longest: the head, three days, the tail */
	{
		const struct menu_var mv[] = {
			{ "market.town", "崆峒镇" },
			{ "market.month", "12" },
			{ "market.day", "29" },
			{ "market.lunar", "闰十一月廿九" },
			{ "market.place", "寨子街村农贸市场" },
			{ "market.time", "上午" },
		};
		const char *item = menu_text(m, "market_item");
		if (*item) {
			char *head = menu_render(menu_text(m, "market_head"), mv, ARRAY_LEN(mv));
			char *it = menu_render(item, mv, ARRAY_LEN(mv));
			char *all = xasprintf("%s\n%s\n%s\n%s\n%s", head, it, it, it, menu_text(m, "market_tail"));
			check_budget(L, all, m->texts[menu_text_index("market_item")].file,
			    m->texts[menu_text_index("market_item")].line,
			    "集市的回答（market_head、3 条 market_item、market_tail）", false);
			free(all);
			free(it);
			free(head);
		}
	}
	/* the form's first screen is the form node's text and form_name together */
	for (size_t i = 0; i < m->nnodes; i++) {
		const struct menu_node *n = &m->nodes[i];
		if (n->action == MENU_ACT_FORM && n->npages > 0) {
			char *both = xasprintf("%s\n%s", n->pages[0], menu_text(m, "form_name"));
			char what[160];
			snprintf(what, sizeof(what), "\"%s\" 的文字后面接上 form_name", n->id);
			check_budget(L, both, n->file, n->line, what, true);
			free(both);
		}
	}
}

static void check_structure(struct loader *L)
{
	struct menu *m = L->m;
	const char *first = m->nfiles ? m->files[0] : "menus";

	for (size_t i = 0; i < ARRAY_LEN(required_nodes); i++)
		if (menu_find(m, required_nodes[i]) < 0)
			diag_error(L->d, first, 0, "缺少必需的节点 \"%s\"", required_nodes[i]);
	if (m->root >= 0) {
		const struct menu_node *root = &m->nodes[m->root];
		for (size_t d = 1; d < ARRAY_LEN(root_options); d++) {
			int want = menu_find(m, root_options[d]);
			if (want >= 0 && root->options[d] != want)
				diag_error(L->d, root->file,
				    L->rn[m->root].opt_line[d] ? L->rn[m->root].opt_line[d] : root->line,
				    "主菜单的选项 %zu 必须是 \"%s\"", d, root_options[d]);
		}
	}
	for (size_t i = 0; i < m->nnodes; i++) {
		const struct menu_node *n = &m->nodes[i];
		const struct rnode *r = &L->rn[i];
		if (n->exact && r->keywords.n == 0)
			diag_warn(L->d, r->file, r->line, "节点 \"%s\" 设了 exact，却没有关键词", n->id);
		if (r->cues.n > 0 && n->parent == m->root)
			diag_warn(L->d, r->file, r->line,
			    "顶层节点 \"%s\" 的提示词永远用不上："
			    "请改成关键词（keywords）",
			    n->id);
	}

	/* reachability: from root by digits, by keywords anywhere, by cues under a reached topic */
	bool *seen = xcalloc(m->nnodes ? m->nnodes : 1, sizeof(bool));
	int *queue = xcalloc(m->nnodes ? m->nnodes : 1, sizeof(int));
	size_t head = 0, tail = 0;
	if (m->root >= 0) {
		seen[m->root] = true;
		queue[tail++] = m->root;
	}
	for (size_t i = 0; i < m->nnodes; i++)
		if (L->rn[i].keywords.n > 0 && !seen[i]) {
			seen[i] = true;
			queue[tail++] = (int)i;
		}
	for (;;) {
		while (head < tail) {
			int s = queue[head++];
			for (int d = 0; d < MENU_DIGITS; d++) {
				int t = m->nodes[s].options[d];
				if (t >= 0 && !seen[t]) {
					seen[t] = true;
					queue[tail++] = t;
				}
			}
		}
		bool more = false;
		for (size_t i = 0; i < m->nnodes; i++)
			if (!seen[i] && L->rn[i].cues.n > 0 && m->nodes[i].parent >= 0 && seen[m->nodes[i].parent]) {
				seen[i] = true;
				queue[tail++] = (int)i;
				more = true;
			}
		if (!more)
			break;
	}
	for (size_t i = 0; i < m->nnodes; i++)
		if (!seen[i])
			diag_warn(L->d, m->nodes[i].file, m->nodes[i].line,
			    "节点 \"%s\" 走不到：没有选项"
			    "指向它，它也没有关键词",
			    m->nodes[i].id);
	free(seen);
	free(queue);
}

static int cmp_len_desc(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_loader(struct loader *L)
{
	for (size_t i = 0; i < L->nrn; i++) {
		struct rnode *r = &L->rn[i];
		free(r->id);
		free(r->title);
		free(r->parent_id);
		free(r->action);
		strv_free(&r->pages);
		strv_free(&r->ussd_pages);
		strv_free(&r->keywords);
		strv_free(&r->cues);
		for (int d = 0; d < MENU_DIGITS; d++)
			free(r->opt_target[d]);
	}
	free(L->rn);
	free(L->values_by_name);
	strv_free(&L->values_name);
	strv_free(&L->values_val);
	free(L->values_file);
	strv_free(&L->fillers);
	strv_free(&L->digit_words);
	for (size_t g = 0; g < L->ngloss; g++) {
		free(L->gloss[g].term);
		strv_free(&L->gloss[g].plain);
		strv_free(&L->gloss[g].except);
	}
	free(L->gloss);
	for (size_t g = 0; g < L->nsitu; g++) {
		free(L->situ[g].node);
		strv_free(&L->situ[g].words);
	}
	free(L->situ);
	for (size_t t = 0; t < MENU_NTEXTS; t++) {
		free(L->raw_texts[t].text);
		free(L->raw_texts[t].ussd);
	}
}

/* The line of `key` inside the config's office = { ... } group (0 when not found). */
static int office_line(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, kl = strlen(key);
	int n = 0, found = 0;
	bool inside = false;

	if (f == NULL)
		return 0;
	while (found == 0 && getline(&line, &cap, f) >= 0) {
		const char *p = line;
		n++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!inside && strncmp(p, "office", 6) == 0 && strchr(p, '='))
			inside = true;
		else if (inside && strncmp(p, key, kl) == 0 && (p[kl] == ' ' || p[kl] == '=' || p[kl] == ':'))
			found = n;
		else if (inside && *p == '}')
			break;
	}
	free(line);
	fclose(f);
	return found;
}

/*
 * An office value left empty is not a fact to tell anyone: the texts leave
 * out their optional parts that use it ("{?电话：{office.phone}}") and say
 * what is always true instead. Each one is worth a warning.
 */
static void warn_empty_office(const struct config *cfg, struct diag *d)
{
	static const char *const keys[] = { "address", "phone", "hours" };
	const char *vals[] = { cfg->office_address, cfg->office_phone, cfg->office_hours };

	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (vals[i] == NULL || vals[i][0] == '\0')
			diag_warn(d, cfg->path, office_line(cfg->path, keys[i]),
			    "office.%s 是空的：短信里就不提它，"
			    "让群众去找乡镇、村委会或打 12345；局里确认后请填上",
			    keys[i]);
}

static struct menu *load(const char *dir, const struct config *cfg, struct diag *d)
{
	struct loader L;
	struct menu *m = xcalloc(1, sizeof(*m));
	size_t errors_before = d->errors;
	DIR *dh;
	struct dirent *de;

	memset(&L, 0, sizeof(L));
	warn_empty_office(cfg, d);
	L.cfg = cfg;
	L.d = d;
	L.m = m;
	m->root = -1;

	dh = opendir(dir);
	if (dh == NULL) {
		diag_error(d, dir, 0, "打不开菜单文件夹");
		menu_free(m);
		return NULL;
	}
	while ((de = readdir(dh)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n > 4 && strcmp(de->d_name + n - 4, ".cfg") == 0 && de->d_name[0] != '.') {
			char *path = xasprintf("%s/%s", dir, de->d_name);
			if (!file_is_regular(path)) {
				/* a FIFO would block the load (and a reload) for ever; a folder is no menu */
				diag_warn(d, path, 0, "不是普通文件，没有读");
				free(path);
				continue;
			}
			m->files = xrealloc(m->files, (m->nfiles + 2) * sizeof(char *));
			m->files[m->nfiles++] = path;
			m->files[m->nfiles] = NULL;
		}
	}
	closedir(dh);
	if (m->nfiles == 0) {
		diag_error(d, dir, 0, "这个文件夹里没有 *.cfg 菜单文件");
		menu_free(m);
		return NULL;
	}
	qsort(m->files, m->nfiles, sizeof(char *), cmp_str);
	for (size_t i = 0; i < m->nfiles; i++)
		load_file(&L, m->files[i], m->files[i]);
	index_values(&L);

	assemble(&L);
	build_pages_and_texts(&L);
	build_patterns(&L);
	check_texts(&L);
	check_structure(&L);

	m->nfillers = L.fillers.n;
	m->fillers = xcalloc(m->nfillers + 1, sizeof(char *));
	for (size_t i = 0; i < L.fillers.n; i++)
		m->fillers[i] = norm_dup(L.fillers.v[i], strlen(L.fillers.v[i]), 0);
	qsort(m->fillers, m->nfillers, sizeof(char *), cmp_len_desc);
	m->ndwords = L.digit_words.n;
	m->dwords = xcalloc(m->ndwords + 1, sizeof(char *));
	m->ddigits = xcalloc(m->ndwords + 1, sizeof(char *));
	for (size_t i = 0; i < L.digit_words.n; i++) {
		const char *eq = strchr(L.digit_words.v[i], '=');
		m->ddigits[i] = xstrndup(L.digit_words.v[i], (size_t)(eq - L.digit_words.v[i]));
		m->dwords[i] = norm_dup(eq + 1, strlen(eq + 1), 0);
	}

	/* the values stay for texts written later (a broadcast's {amount.*}): menu_value() */
	m->value_names = L.values_name.v;
	m->value_vals = L.values_val.v;
	m->nvalues = L.values_name.n;
	L.values_name.v = L.values_val.v = NULL;
	L.values_name.n = L.values_val.n = 0;
	free_loader(&L);
	if (d->errors > errors_before) {
		menu_free(m);
		return NULL;
	}
	return m;
}

void menu_free(struct menu *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nnodes; i++) {
		free(m->nodes[i].id);
		free(m->nodes[i].title);
		for (size_t p = 0; p < m->nodes[i].npages; p++)
			free(m->nodes[i].pages[p]);
		free(m->nodes[i].pages);
		for (size_t p = 0; p < m->nodes[i].nussd_pages; p++)
			free(m->nodes[i].ussd_pages[p]);
		free(m->nodes[i].ussd_pages);
	}
	free(m->nodes);
	free(m->by_id);
	for (size_t t = 0; t < MENU_NTEXTS; t++) {
		free(m->texts[t].text);
		free(m->texts[t].ussd);
	}
	for (size_t i = 0; i < m->nfillers; i++)
		free(m->fillers[i]);
	free(m->fillers);
	for (size_t i = 0; i < m->ndwords; i++) {
		free(m->dwords[i]);
		free(m->ddigits[i]);
	}
	free(m->dwords);
	free(m->ddigits);
	for (size_t i = 0; i < m->nvalues; i++) {
		free(m->value_names[i]);
		free(m->value_vals[i]);
	}
	free(m->value_names);
	free(m->value_vals);
	ac_free(m->ac);
	free(m->pats);
	for (size_t i = 0; i < m->nmarkets; i++) {
		free(m->markets[i].town);
		free(m->markets[i].place);
		free(m->markets[i].time);
		free(m->markets[i].rule_text);
		free(m->markets[i].town_norm);
		market_rule_free(&m->markets[i].rule);
	}
	free(m->markets);
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i]);
	free(m->files);
	free(m);
}

/* The menus' findings are for the content editor at the bureau: in Chinese (config.c's stay English). */
struct menu *menu_load(const char *dir, const struct config *cfg, struct diag *d)
{
	bool zh = d->zh;
	struct menu *m;

	d->zh = true;
	m = load(dir, cfg, d);
	d->zh = zh;
	return m;
}
