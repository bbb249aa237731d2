#include "roster_table.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void roster_add_row(struct roster_table *t, int line)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->rows = xrealloc(t->rows, t->cap * sizeof(*t->rows));
	}
	memset(&t->rows[t->nrows], 0, sizeof(t->rows[0]));
	t->rows[t->nrows].line = line;
	t->nrows++;
}

void roster_add_cell(struct roster_table *t, size_t col, const char *text, size_t len)
{
	struct roster_row *r = &t->rows[t->nrows - 1];

	if (col >= 1024)
		return; /* no roster has that many columns: ignore, never grow without bound */
	if (col >= r->ncells) {
		r->cells = xrealloc(r->cells, (col + 1) * sizeof(char *));
		for (size_t i = r->ncells; i <= col; i++)
			r->cells[i] = NULL;
		r->ncells = col + 1;
	}
	free(r->cells[col]);
	r->cells[col] = xstrndup(text, len);
}

void roster_free(struct roster_table *t)
{
	for (size_t i = 0; i < t->nrows; i++) {
		for (size_t k = 0; k < t->rows[i].ncells; k++)
			free(t->rows[i].cells[k]);
		free(t->rows[i].cells);
	}
	free(t->rows);
	memset(t, 0, sizeof(*t));
}
