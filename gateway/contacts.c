#include "contacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "menu.h"
#include "normalize.h"
#include "phone.h"
#include "store_contacts.h"
#include "utf8.h"

bool contacts_phone(const char *in, const char *country, char *out, size_t outlen, const char **why)
{
	switch (phone_normalise(in ? in : "", country, out, outlen)) {
	case PHONE_E164:
		return true;
	case PHONE_NONE:
		*why = "没有电话号码";
		return false;
	case PHONE_SERVICE:
		*why = "不是能收短信的个人号码（短号、服务号，或位数太少）";
		return false;
	case PHONE_ALPHA:
		break;
	}
	*why = "不是电话号码";
	return false;
}

/* ---- import ------------------------------------------------------------------------ */

enum col { COL_NAME, COL_PHONE, COL_TOWN, COL_VILLAGE, COL_GROUPS, COL_N };

/* Header names as rosters write them (compared after normalisation: case, width, spaces, brackets). */
static const struct {
	const char *header;
	enum col col;
} headers[] = {
	{ "姓名", COL_NAME }, { "名字", COL_NAME }, { "户主姓名", COL_NAME }, { "户主", COL_NAME },
	{ "联系人", COL_NAME }, { "name", COL_NAME },
	{ "电话", COL_PHONE }, { "手机号", COL_PHONE }, { "手机", COL_PHONE }, { "手机号码", COL_PHONE },
	{ "联系电话", COL_PHONE }, { "电话号码", COL_PHONE }, { "联系方式", COL_PHONE }, { "phone", COL_PHONE },
	{ "mobile", COL_PHONE },
	{ "乡镇", COL_TOWN }, { "镇", COL_TOWN }, { "乡", COL_TOWN }, { "乡镇街道", COL_TOWN }, { "街道", COL_TOWN },
	{ "所属乡镇", COL_TOWN }, { "town", COL_TOWN },
	{ "村", COL_VILLAGE }, { "村社区", COL_VILLAGE }, { "行政村", COL_VILLAGE }, { "社区", COL_VILLAGE },
	{ "所属村", COL_VILLAGE }, { "村居", COL_VILLAGE }, { "village", COL_VILLAGE },
	{ "类别", COL_GROUPS }, { "分组", COL_GROUPS }, { "群组", COL_GROUPS }, { "类型", COL_GROUPS },
	{ "标签", COL_GROUPS }, { "救助类别", COL_GROUPS }, { "人员类别", COL_GROUPS }, { "group", COL_GROUPS },
	{ "groups", COL_GROUPS },
};

static int header_col(const char *cell)
{
	char *n = norm_dup(cell ? cell : "", cell ? strlen(cell) : 0, 0);
	int col = -1;

	for (size_t i = 0; i < ARRAY_LEN(headers) && col < 0; i++) {
		char *h = norm_dup(headers[i].header, strlen(headers[i].header), 0);
		if (strcmp(n, h) == 0)
			col = (int)headers[i].col;
		free(h);
	}
	free(n);
	return col;
}

/* A cell trimmed of spaces (ASCII and the ideographic space); NULL when empty. */
static char *trimmed(const struct roster_row *r, int col)
{
	const char *s, *e;

	if (col < 0 || (size_t)col >= r->ncells || r->cells[col] == NULL)
		return NULL;
	s = r->cells[col];
	e = s + strlen(s);
	for (;;) {
		if (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
			s++;
		else if (e - s >= 3 && memcmp(s, "\xE3\x80\x80", 3) == 0)
			s += 3;
		else
			break;
	}
	for (;;) {
		if (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
			e--;
		else if (e - s >= 3 && memcmp(e - 3, "\xE3\x80\x80", 3) == 0)
			e -= 3;
		else
			break;
	}
	return e > s ? xstrndup(s, (size_t)(e - s)) : NULL;
}

static bool row_empty(const struct roster_row *r)
{
	for (size_t i = 0; i < r->ncells; i++) {
		char *t = trimmed(r, (int)i);
		free(t);
		if (t)
			return false;
	}
	return true;
}

/* Split a 类别 cell into groups: 低保户、高龄 / 低保户,高龄 / 低保户;高龄 / 低保户 高龄. */
static size_t split_groups(const char *s, char out[][64], size_t max)
{
	static const char *const seps[] = { ",", ";", "/", " ", "|", "\xE3\x80\x81" /* 、 */, "\xEF\xBC\x8C" /* ， */,
		"\xEF\xBC\x9B" /* ； */, "\xE3\x80\x80" /* ideographic space */ };
	size_t n = 0, i = 0, len = strlen(s), start = 0;

	while (i <= len) {
		size_t sl = 0;
		if (i < len)
			for (size_t k = 0; k < ARRAY_LEN(seps) && sl == 0; k++)
				if (strncmp(s + i, seps[k], strlen(seps[k])) == 0)
					sl = strlen(seps[k]);
		if (i == len || sl > 0) {
			if (i > start && n < max && i - start < 64) {
				memcpy(out[n], s + start, i - start);
				out[n][i - start] = '\0';
				n++;
			}
			i += sl ? sl : 1;
			start = i;
			continue;
		}
		i++;
	}
	return n;
}

static bool text_ok(const char *s, size_t max_chars)
{
	return s == NULL || (utf8_valid(s, strlen(s)) && utf8_chars(s, strlen(s)) <= max_chars);
}

/* One row, whole or not at all: 1 imported, 0 bad (reported), -1 database error. */
static int import_row(struct store *st, const struct roster_row *r, const int cols[COL_N], const char *group,
    const char *country, int64_t now, struct contacts_import *res)
{
	char *cell[COL_N];
	char phone[PHONE_LEN], groups[16][64];
	const char *why = NULL;
	size_t ng = 0;
	struct store_contact c;
	int64_t id;
	bool created = false;
	int rc = 0;

	for (int k = 0; k < COL_N; k++)
		cell[k] = trimmed(r, cols[k]);
	if (!contacts_phone(cell[COL_PHONE], country, phone, sizeof(phone), &why)) {
		buf_printf(&res->report, "第 %d 行：%s%s%s%s\n", r->line, why, cell[COL_PHONE] ? "（“" : "",
		    cell[COL_PHONE] ? cell[COL_PHONE] : "", cell[COL_PHONE] ? "”）" : "");
		goto out;
	}
	if (!text_ok(cell[COL_NAME], 40) || !text_ok(cell[COL_TOWN], 40) || !text_ok(cell[COL_VILLAGE], 40)) {
		buf_printf(&res->report, "第 %d 行：姓名、乡镇或村超过 40 个字\n", r->line);
		goto out;
	}
	if (cell[COL_GROUPS])
		ng = split_groups(cell[COL_GROUPS], groups, 15);
	if (group && *group && ng < 16)
		snprintf(groups[ng++], sizeof(groups[0]), "%s", group);
	memset(&c, 0, sizeof(c));
	c.phone = phone;
	c.name = cell[COL_NAME];
	c.town = cell[COL_TOWN];
	c.village = cell[COL_VILLAGE];
	c.source = "roster";
	if (store_savepoint(st) < 0) {
		rc = -1;
		goto out;
	}
	if (store_contact_upsert(st, &c, true, now, &id, &created) < 0)
		goto db_fail;
	for (size_t i = 0; i < ng; i++)
		if (store_contact_group_add(st, id, groups[i]) < 0)
			goto db_fail;
	if (store_release(st) < 0) {
		rc = -1;
		goto out;
	}
	if (created)
		res->added++;
	else
		res->updated++;
	rc = 1;
	goto out;
db_fail:
	store_rollback_savepoint(st);
	rc = -1;
out:
	if (rc == 0)
		res->bad++;
	for (int k = 0; k < COL_N; k++)
		free(cell[k]);
	return rc;
}

int contacts_import_table(struct store *st, const struct roster_table *t, const char *group, const char *country,
    int64_t now, struct contacts_import *r, char *err, size_t errlen)
{
	int cols[COL_N];
	size_t h = 0;

	memset(r, 0, sizeof(*r));
	r->encoding = t->encoding;
	while (h < t->nrows && row_empty(&t->rows[h]))
		h++;
	if (h == t->nrows) {
		snprintf(err, errlen, "文件里没有数据行");
		return -1;
	}
	for (int k = 0; k < COL_N; k++)
		cols[k] = -1;
	for (size_t i = 0; i < t->rows[h].ncells; i++) {
		int col = header_col(t->rows[h].cells[i]);
		if (col >= 0 && cols[col] < 0)
			cols[col] = (int)i;
	}
	if (cols[COL_PHONE] < 0) {
		snprintf(
		    err, errlen, "第 %d 行：表头里没有电话这一列（电话、手机号、手机号码或联系电话）", t->rows[h].line);
		return -1;
	}
	if (store_begin(st) < 0) {
		snprintf(err, errlen, "数据库用不了");
		return -1;
	}
	for (size_t i = h + 1; i < t->nrows; i++) {
		if (row_empty(&t->rows[i]))
			continue;
		r->rows++;
		if (import_row(st, &t->rows[i], cols, group, country, now, r) < 0) {
			store_rollback(st);
			snprintf(err, errlen, "第 %d 行：数据库出错（见日志），什么也没导入", t->rows[i].line);
			r->added = r->updated = 0;
			return -1;
		}
	}
	if (store_commit(st) < 0) {
		snprintf(err, errlen, "数据库没接受这次导入，什么也没导入");
		r->added = r->updated = 0;
		return -1;
	}
	return 0;
}

void contacts_import_free(struct contacts_import *r)
{
	buf_free(&r->report);
}

/* ---- applicants -------------------------------------------------------------------- */

/* The end (exclusive) of the first of the suffixes found in s, or NULL. */
static const char *after_suffix(const char *s, const char *const *suffixes, size_t n)
{
	const char *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *p = strstr(s, suffixes[i]);
		if (p && p > s && (best == NULL || p + strlen(suffixes[i]) < best))
			best = p + strlen(suffixes[i]);
	}
	return best;
}

void contacts_split_place(const char *place, char *town, size_t townlen, char *village, size_t villagelen)
{
	static const char *const towns[] = { "镇", "乡", "街道" };
	static const char *const villages[] = { "村", "社区" };
	const char *p = place ? place : "", *t, *v;

	town[0] = village[0] = '\0';
	t = after_suffix(p, towns, ARRAY_LEN(towns));
	if (t) {
		snprintf(town, townlen, "%.*s", (int)(t - p), p);
		p = t;
	}
	v = after_suffix(p, villages, ARRAY_LEN(villages));
	if (v)
		snprintf(village, villagelen, "%.*s", (int)(v - p), p);
}

int contacts_from_applicant(struct store *st, const char *phone, const char *name, const char *place, int64_t now)
{
	char town[128], village[128];
	struct store_contact c;

	if (!phone_is_ordinary(phone))
		return 0; /* a USSD session from an odd number: no contact */
	contacts_split_place(place, town, sizeof(town), village, sizeof(village));
	memset(&c, 0, sizeof(c));
	c.phone = phone;
	c.name = name;
	c.town = town;
	c.village = village;
	c.source = "applicant";
	/* a roster knows better than a typed request: fill only what is missing */
	return store_contact_upsert(st, &c, false, now, NULL, NULL);
}

/* ---- opting out and in -------------------------------------------------------------- */

/* Normalised, without the spaces normalisation keeps between ASCII words ("T D" is TD). */
static char *norm_tight(const char *s, size_t len)
{
	char *n = norm_dup(s, len, 0), *o = n;

	for (const char *p = n; *p; p++)
		if (*p != ' ')
			*o++ = *p;
	*o = '\0';
	return n;
}

/* Is norm (normalised text) one of the '|'-separated words of list? With prefix, a word it starts with. */
static bool word_of(const char *list, const char *norm, bool prefix, size_t *wlen)
{
	const char *p = list;

	while (p && *p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		char *w = norm_tight(p, len);
		size_t n = strlen(w);
		bool hit = n > 0 && (prefix ? strncmp(norm, w, n) == 0 : strcmp(norm, w) == 0);
		free(w);
		if (hit) {
			*wlen = n;
			return true;
		}
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

int contacts_keyword(struct ctx *c, const char *phone, const char *text, size_t len, bool *handled, char **reply)
{
	const char *out_words = menu_text(c->menu, "optout_keywords");
	const char *in_words = menu_text(c->menu, "optin_keywords");
	char *norm = norm_tight(text, len);
	const char *key = phone, *kind = NULL;
	size_t wlen = 0;
	bool out, found;
	int rc = -1;

	*handled = false;
	*reply = NULL;
	/* menus without these texts (they are optional) have no opting out by SMS */
	if (!phone_is_ordinary(phone) || out_words == NULL || in_words == NULL ||
	    menu_text(c->menu, "optout_done") == NULL || menu_text(c->menu, "optin_done") == NULL ||
	    menu_text(c->menu, "optin_kind_done") == NULL) {
		free(norm);
		return 0;
	}
	if (word_of(out_words, norm, false, &wlen)) {
		out = true;
	} else if (word_of(in_words, norm, true, &wlen)) {
		out = false;
		if (norm[wlen] != '\0') {
			/* 订阅 赶大集: one of broadcast.subscriptions, else not a subscription at all */
			for (size_t i = 0; i < c->cfg->nbcast_subscriptions && kind == NULL; i++) {
				char *k = norm_tight(c->cfg->bcast_subscriptions[i], strlen(c->cfg->bcast_subscriptions[i]));
				if (strcmp(norm + wlen, k) == 0)
					kind = c->cfg->bcast_subscriptions[i];
				free(k);
			}
			if (kind == NULL) {
				free(norm);
				return 0;
			}
		}
	} else {
		free(norm);
		return 0;
	}
	free(norm);
	{
		struct store_contact sc;
		int64_t id;
		memset(&sc, 0, sizeof(sc));
		sc.phone = key;
		sc.source = "self";
		if (store_contact_upsert(c->st, &sc, false, c->now, &id, NULL) < 0 ||
		    store_contact_opt(c->st, key, out, c->now, &found) < 0)
			return -1;
		if (kind && store_contact_group_add(c->st, id, kind) < 0)
			return -1;
	}
	if (kind) {
		struct menu_var v[] = { { "kind", kind } };
		*reply = menu_render(menu_text(c->menu, "optin_kind_done"), v, 1);
	} else {
		*reply = xstrdup(menu_text(c->menu, out ? "optout_done" : "optin_done"));
	}
	*handled = true;
	rc = 0;
	{
		char who[LOG_PHONE_BUF];
		log_info("contacts", "%s opted %s%s%s", log_phone(phone, who, sizeof(who)), out ? "out" : "in",
		    kind ? " to " : "", kind ? kind : "");
	}
	return rc;
}
