/*
 * roster: the table in a roster file as rows of UTF-8 cells, whatever wrote
 * it. CSV in UTF-8 (with or without a byte-order mark), GB18030/GBK (what
 * Chinese Excel and WPS write by default) or UTF-16 with a byte-order mark
 * (Excel's "Unicode text", tab-separated); XLSX (the first sheet) through
 * xlsx.c. No meaning is given to any column here: contacts.c maps headers.
 */
#ifndef HOTLINE_ROSTER_H
#define HOTLINE_ROSTER_H

#include <stddef.h>

struct roster_row {
	int line;      /* CSV: the line the record starts on; XLSX: the row number */
	size_t ncells;
	char **cells;  /* UTF-8, owned */
};

struct roster_table {
	const char *encoding; /* "UTF-8", "GB18030", "UTF-16", "XLSX" */
	size_t nrows, cap;
	struct roster_row *rows;
};

/* Read path by its extension (.xlsx, else CSV). 0, or -1 with the reason in err. */
int roster_read(const char *path, struct roster_table *t, char *err, size_t errlen);
/* Parse CSV bytes (encoding detected, see above). */
int roster_parse_csv(const char *data, size_t len, struct roster_table *t, char *err, size_t errlen);
/* xlsx.c: the first worksheet of an XLSX file. */
int roster_read_xlsx(const char *path, struct roster_table *t, char *err, size_t errlen);
void roster_free(struct roster_table *t);

/* For the readers: append a row / a cell to the last row. */
void roster_add_row(struct roster_table *t, int line);
void roster_add_cell(struct roster_table *t, size_t col, const char *text, size_t len);

#endif
