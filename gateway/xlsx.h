/*
 * xlsx: the first worksheet of an .xlsx file as a roster table (roster.c
 * reads a file by its extension and comes here for .xlsx).
 */
#ifndef HOTLINE_XLSX_H
#define HOTLINE_XLSX_H

#include <stddef.h>

#include "roster_table.h"

/* The first worksheet of the XLSX file at path. 0, or -1 with the reason in err. */
int roster_read_xlsx(const char *path, struct roster_table *t, char *err, size_t errlen);

#endif
