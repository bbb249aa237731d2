/*
 * diag: the errors and warnings found while loading a configuration or a menu
 * set, each as "file:line: message", collected so that every problem shows in
 * one run (not just the first).
 */
#ifndef HOTLINE_DIAG_H
#define HOTLINE_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct diag_item {
	bool error; /* false: a warning */
	char *text; /* "file:line: message" */
};

struct diag {
	struct diag_item *items;
	size_t n, cap;
	size_t errors, warnings;
	bool zh; /* "错误：" / "提醒：" instead of "error: " / "warning: " (the menus' checks, read by office staff) */
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);
/* line <= 0 leaves the line out ("file: message"); file NULL leaves both out. */
void diag_error(struct diag *d, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void diag_warn(struct diag *d, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Print every item to f, one per line, "error: " / "warning: " (or 错误/提醒) after the location. */
void diag_print(const struct diag *d, FILE *f);
/* Log every item through log.h (errors at error level, warnings at warn level). */
void diag_log(const struct diag *d, const char *tag);

#endif
