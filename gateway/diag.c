#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>

#include "log.h"
#include "util.h"

void diag_init(struct diag *d)
{
	d->items = NULL;
	d->n = d->cap = 0;
	d->errors = d->warnings = 0;
	d->zh = false;
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->items[i].text);
	free(d->items);
	diag_init(d);
}

static void diag_add(struct diag *d, bool error, const char *file, int line, const char *fmt, va_list ap)
{
	struct buf b = { 0 };

	if (file && line > 0)
		buf_printf(&b, "%s:%d: ", file, line);
	else if (file)
		buf_printf(&b, "%s: ", file);
	if (d->zh)
		buf_adds(&b, error ? "错误：" : "提醒：");
	else
		buf_adds(&b, error ? "error: " : "warning: ");
	buf_vprintf(&b, fmt, ap);
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->items = xrealloc(d->items, d->cap * sizeof(*d->items));
	}
	d->items[d->n].error = error;
	d->items[d->n].text = buf_take(&b);
	d->n++;
	if (error)
		d->errors++;
	else
		d->warnings++;
}

void diag_error(struct diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, true, file, line, fmt, ap);
	va_end(ap);
}

void diag_warn(struct diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, false, file, line, fmt, ap);
	va_end(ap);
}

void diag_print(const struct diag *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(f, "%s\n", d->items[i].text);
}

void diag_log(const struct diag *d, const char *tag)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->items[i].error)
			log_errorx(tag, "%s", d->items[i].text);
		else
			log_warnx(tag, "%s", d->items[i].text);
	}
}
