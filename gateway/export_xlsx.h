/*
 * export_xlsx: a table as an Excel workbook (the only file that includes
 * <xlsxwriter.h>). Every cell is written as text, so phone and case numbers
 * keep their leading zeros and digits; the header row is bold and frozen.
 */
#ifndef HOTLINE_EXPORT_XLSX_H
#define HOTLINE_EXPORT_XLSX_H

#include <stddef.h>

#include "util.h"

/* cells: nrows * ncols strings, row by row (NULL: empty). The .xlsx bytes go into out. */
int export_xlsx(const char *sheet, const char *const *header, size_t ncols, const char *const *cells, size_t nrows,
    struct buf *out, char *err, size_t errlen) WARN_UNUSED;

#endif
