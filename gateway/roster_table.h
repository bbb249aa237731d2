/*
 * roster_table: the table a roster reader fills, rows of UTF-8 cells, and
 * how it grows and is freed. Below both readers (roster.c for CSV, xlsx.c
 * for XLSX), so that neither calls back into the other.
 */
#ifndef HOTLINE_ROSTER_TABLE_H
#define HOTLINE_ROSTER_TABLE_H

#include <stddef.h>

struct roster_row {
	int line; /* CSV: the line the record starts on; XLSX: the row number */
	size_t ncells;
	char **cells; /* UTF-8, owned */
};

struct roster_table {
	const char *encoding; /* "UTF-8", "GB18030", "UTF-16", "XLSX" */
	size_t nrows, cap;
	struct roster_row *rows;
};

void roster_free(struct roster_table *t);

/* For the readers: append a row / a cell to the last row. */
void roster_add_row(struct roster_table *t, int line);
void roster_add_cell(struct roster_table *t, size_t col, const char *text, size_t len);

#endif
