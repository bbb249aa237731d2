#include "export_xlsx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

/* libxlsxwriter writes a file: a private temporary one (0600), read back and removed at once. */
int export_xlsx(const char *sheet, const char *const *header, size_t ncols, const char *const *cells, size_t nrows,
    struct buf *out, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *path = xasprintf("%s/hotline-export-XXXXXX", tmp);
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *bold;
	int fd, rc = -1;
	FILE *f;

	fd = mkstemp(path);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file in %s: %s", tmp, strerror(errno));
		free(path);
		return -1;
	}
	close(fd);
	wb = workbook_new(path);
	if (wb == NULL) {
		snprintf(err, errlen, "libxlsxwriter cannot start a workbook");
		goto out;
	}
	ws = workbook_add_worksheet(wb, sheet);
	bold = workbook_add_format(wb);
	format_set_bold(bold);
	for (size_t c = 0; c < ncols; c++) {
		worksheet_write_string(ws, 0, (lxw_col_t)c, header[c], bold);
		worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, 16, NULL);
	}
	worksheet_freeze_panes(ws, 1, 0);
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < ncols; c++) {
			const char *v = cells[r * ncols + c];
			if (v && *v)
				worksheet_write_string(ws, (lxw_row_t)(r + 1), (lxw_col_t)c, v, NULL);
		}
	if (workbook_close(wb) != LXW_NO_ERROR) {
		snprintf(err, errlen, "libxlsxwriter could not write the workbook");
		goto out;
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "cannot read back the workbook: %s", strerror(errno));
		goto out;
	}
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	rc = ferror(f) ? -1 : 0;
	if (rc < 0)
		snprintf(err, errlen, "cannot read back the workbook");
	fclose(f);
out:
	unlink(path);
	free(path);
	return rc;
}
