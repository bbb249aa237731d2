/*
 * tmpl: a small template renderer for the console's pages (a subset of
 * Mustache), escape by default:
 *   {{name}}            the value of name, HTML-escaped (& < > " ' and `)
 *   {{{name}}}          the value unescaped: only for HTML this renderer made
 *                       itself (a rendered page in the layout, a server-drawn SVG)
 *   {{#name}}..{{/name}} a list: once per item (the item's names first, then
 *                       the enclosing ones); a value: once when it is set and
 *                       not "" or "0"
 *   {{^name}}..{{/name}} once when name is unset, "", "0" or an empty list
 * Names are letters, digits, '_' and '.'. Pure: no I/O. Templates are the
 * files in console/templates/, embedded at build time (console_assets.h).
 */
#ifndef HOTLINE_TMPL_H
#define HOTLINE_TMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct tv; /* a scope of values */

struct tv *tv_new(void);
void tv_free(struct tv *v);
/* Set name to a copy of value (NULL: ""). */
void tv_set(struct tv *v, const char *name, const char *value);
void tv_setf(struct tv *v, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tv_bool(struct tv *v, const char *name, bool on);
/* Add an item to the list `name` and return its scope (owned by v). */
struct tv *tv_item(struct tv *v, const char *name);
/* Make sure list `name` exists (empty). */
void tv_list(struct tv *v, const char *name);

/* Render template text into out. -1 with a reason in err on a malformed template. */
int tmpl_render(const char *text, size_t len, const struct tv *v, struct buf *out, char *err, size_t errlen);
/* HTML-escape s into out. */
void tmpl_escape(struct buf *out, const char *s);

#endif
