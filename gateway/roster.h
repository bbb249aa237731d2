/*
 * roster: the table in a roster file as rows of UTF-8 cells, whatever wrote
 * it. CSV in UTF-8 (with or without a byte-order mark), GB18030/GBK (what
 * Chinese Excel and WPS write by default) or UTF-16 with a byte-order mark
 * (Excel's "Unicode text", tab-separated); XLSX (the first sheet) through
 * xlsx.c. No meaning is given to any column here: contacts.c maps headers.
 * The table both readers fill is roster_table.h's.
 */
#ifndef HOTLINE_ROSTER_H
#define HOTLINE_ROSTER_H

#include <stddef.h>

#include "roster_table.h"

/* Read path by its extension (.xlsx, else CSV). 0, or -1 with the reason in err. */
int roster_read(const char *path, struct roster_table *t, char *err, size_t errlen);
/* Parse CSV bytes (encoding detected, see above). */
int roster_parse_csv(const char *data, size_t len, struct roster_table *t, char *err, size_t errlen);

#endif
