#include "tmpl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tv_ent {
	char *name;
	char *value;         /* a value, or NULL for a list */
	struct tv **items;
	size_t nitems, cap;
};

struct tv {
	struct tv_ent *e;
	size_t n, cap;
	const struct tv *parent;
};

struct tv *tv_new(void)
{
	return xcalloc(1, sizeof(struct tv));
}

void tv_free(struct tv *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->e[i].name);
		free(v->e[i].value);
		for (size_t j = 0; j < v->e[i].nitems; j++)
			tv_free(v->e[i].items[j]);
		free(v->e[i].items);
	}
	free(v->e);
	free(v);
}

static struct tv_ent *own(struct tv *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->e[i].name, name) == 0)
			return &v->e[i];
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->e = xrealloc(v->e, v->cap * sizeof(*v->e));
	}
	memset(&v->e[v->n], 0, sizeof(v->e[v->n]));
	v->e[v->n].name = xstrdup(name);
	return &v->e[v->n++];
}

void tv_set(struct tv *v, const char *name, const char *value)
{
	struct tv_ent *e = own(v, name);

	free(e->value);
	e->value = xstrdup(value ? value : "");
}

void tv_setf(struct tv *v, const char *name, const char *fmt, ...)
{
	struct buf b = { 0 };
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	tv_set(v, name, buf_str(&b));
	buf_free(&b);
}

void tv_bool(struct tv *v, const char *name, bool on)
{
	tv_set(v, name, on ? "1" : "");
}

void tv_list(struct tv *v, const char *name)
{
	struct tv_ent *e = own(v, name);

	free(e->value);
	e->value = NULL;
}

struct tv *tv_item(struct tv *v, const char *name)
{
	struct tv_ent *e = own(v, name);
	struct tv *item = tv_new();

	free(e->value);
	e->value = NULL;
	if (e->nitems == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->items = xrealloc(e->items, e->cap * sizeof(*e->items));
	}
	item->parent = v;
	e->items[e->nitems++] = item;
	return item;
}

static const struct tv_ent *lookup(const struct tv *v, const char *name, size_t len)
{
	for (; v != NULL; v = v->parent)
		for (size_t i = 0; i < v->n; i++)
			if (strlen(v->e[i].name) == len && memcmp(v->e[i].name, name, len) == 0)
				return &v->e[i];
	return NULL;
}

void tmpl_escape(struct buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_adds(out, "&amp;"); break;
		case '<': buf_adds(out, "&lt;"); break;
		case '>': buf_adds(out, "&gt;"); break;
		case '"': buf_adds(out, "&quot;"); break;
		case '\'': buf_adds(out, "&#39;"); break;
		case '`': buf_adds(out, "&#96;"); break;
		default: buf_addc(out, *s);
		}
	}
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

static bool truthy(const struct tv_ent *e)
{
	if (e == NULL)
		return false;
	if (e->value == NULL)
		return e->nitems > 0;
	return e->value[0] != '\0' && strcmp(e->value, "0") != 0;
}

/* Find the {{/name}} that closes a section opened before p, skipping nested sections of the same name. */
static const char *section_end(const char *p, const char *end, const char *name, size_t nlen, const char **after)
{
	int depth = 1;

	while (p < end) {
		const char *t = memmem(p, (size_t)(end - p), "{{", 2);
		if (t == NULL || t + 2 >= end)
			return NULL;
		char kind = t[2];
		const char *nm = t + 3;
		if ((kind == '#' || kind == '^' || kind == '/') && (size_t)(end - nm) >= nlen + 2 &&
		    memcmp(nm, name, nlen) == 0 && nm[nlen] == '}' && nm[nlen + 1] == '}') {
			if (kind == '/') {
				if (--depth == 0) {
					*after = nm + nlen + 2;
					return t;
				}
			} else {
				depth++;
			}
		}
		p = t + 2;
	}
	return NULL;
}

static int render(const char *p, const char *end, const struct tv *v, struct buf *out, char *err, size_t errlen,
    int depth)
{
	if (depth > 32) {
		snprintf(err, errlen, "sections nested too deep");
		return -1;
	}
	while (p < end) {
		const char *t = memmem(p, (size_t)(end - p), "{{", 2);
		if (t == NULL) {
			buf_add(out, p, (size_t)(end - p));
			break;
		}
		buf_add(out, p, (size_t)(t - p));
		bool raw = t + 2 < end && t[2] == '{';
		char kind = t + 2 < end ? t[2] : '\0';
		const char *nm = t + 2 + (raw || kind == '#' || kind == '^' || kind == '/' ? 1 : 0);
		const char *q = nm;
		while (q < end && name_char(*q))
			q++;
		size_t nlen = (size_t)(q - nm);
		const char *close = raw ? "}}}" : "}}";
		size_t clen = strlen(close);
		if (nlen == 0 || (size_t)(end - q) < clen || memcmp(q, close, clen) != 0) {
			snprintf(err, errlen, "malformed tag at offset %zu", (size_t)(t - p));
			return -1;
		}
		const char *after_tag = q + clen;
		const struct tv_ent *e = lookup(v, nm, nlen);
		if (raw || (kind != '#' && kind != '^' && kind != '/')) {
			if (e != NULL && e->value != NULL) {
				if (raw)
					buf_adds(out, e->value);
				else
					tmpl_escape(out, e->value);
			}
			p = after_tag;
			continue;
		}
		if (kind == '/') {
			snprintf(err, errlen, "{{/%.*s}} without its opening", (int)nlen, nm);
			return -1;
		}
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)nlen, nm);
		const char *after;
		const char *body_end = section_end(after_tag, end, name, nlen, &after);
		if (body_end == NULL) {
			snprintf(err, errlen, "{{%c%s}} is not closed", kind, name);
			return -1;
		}
		if (kind == '^') {
			if (!truthy(e) && render(after_tag, body_end, v, out, err, errlen, depth + 1) < 0)
				return -1;
		} else if (e != NULL && e->value == NULL) {
			for (size_t i = 0; i < e->nitems; i++)
				if (render(after_tag, body_end, e->items[i], out, err, errlen, depth + 1) < 0)
					return -1;
		} else if (truthy(e)) {
			if (render(after_tag, body_end, v, out, err, errlen, depth + 1) < 0)
				return -1;
		}
		p = after;
	}
	return 0;
}

int tmpl_render(const char *text, size_t len, const struct tv *v, struct buf *out, char *err, size_t errlen)
{
	return render(text, text + len, v, out, err, errlen, 0);
}
