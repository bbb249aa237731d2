#include "roster.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "util.h"
#include "xlsx.h"

#define ROSTER_MAX_BYTES (64u << 20) /* a roster of a district is a few MB */

/* Convert with iconv; NULL when the bytes are not valid in `from`. */
static char *convert(const char *from, const char *data, size_t len, size_t *outlen)
{
	iconv_t cd = iconv_open("UTF-8", from);
	size_t cap = len * 2 + 16, left = cap;
	char *out, *o, *in = (char *)data;
	size_t inleft = len;

	if (cd == (iconv_t)-1)
		return NULL;
	out = xmalloc(cap + 1);
	o = out;
	while (inleft > 0) {
		if (iconv(cd, &in, &inleft, &o, &left) == (size_t)-1) {
			if (errno == E2BIG) {
				size_t used = (size_t)(o - out);
				cap *= 2;
				out = xrealloc(out, cap + 1);
				o = out + used;
				left = cap - used;
				continue;
			}
			free(out);
			iconv_close(cd);
			return NULL;
		}
	}
	iconv_close(cd);
	*outlen = (size_t)(o - out);
	out[*outlen] = '\0';
	return out;
}

/* RFC 4180 records; a quoted field may hold the separator, quotes ("") and line breaks. */
static int parse_records(const char *s, size_t len, char sep, struct roster_table *t, char *err, size_t errlen)
{
	struct buf cell = { 0 };
	size_t i = 0, col = 0;
	int line = 1, start_line = 1;
	bool in_row = false;

	while (i < len) {
		char ch = s[i];
		if (!in_row) {
			roster_add_row(t, line);
			start_line = line;
			in_row = true;
			col = 0;
		}
		if (ch == '"' && cell.len == 0) {
			/* a quoted field */
			i++;
			for (;;) {
				if (i >= len) {
					snprintf(err, errlen, "第 %d 行：引号没有配对（一个格子的引号没有结束）",
					    start_line);
					buf_free(&cell);
					return -1;
				}
				if (s[i] == '"' && i + 1 < len && s[i + 1] == '"') {
					buf_addc(&cell, '"');
					i += 2;
				} else if (s[i] == '"') {
					i++;
					break;
				} else {
					if (s[i] == '\n')
						line++;
					buf_addc(&cell, s[i++]);
				}
			}
			continue;
		}
		if (ch == sep) {
			roster_add_cell(t, col++, cell.len ? buf_str(&cell) : "", cell.len);
			buf_reset(&cell);
			i++;
			continue;
		}
		if (ch == '\r' || ch == '\n') {
			roster_add_cell(t, col, cell.len ? buf_str(&cell) : "", cell.len);
			buf_reset(&cell);
			if (ch == '\r' && i + 1 < len && s[i + 1] == '\n')
				i++;
			i++;
			line++;
			in_row = false;
			continue;
		}
		buf_addc(&cell, ch);
		i++;
	}
	if (in_row)
		roster_add_cell(t, col, cell.len ? buf_str(&cell) : "", cell.len);
	buf_free(&cell);
	return 0;
}

int roster_parse_csv(const char *data, size_t len, struct roster_table *t, char *err, size_t errlen)
{
	char *conv = NULL;
	const char *s = data;
	size_t n = len;
	char sep = ',';
	int rc;

	memset(t, 0, sizeof(*t));
	if (n >= 2 && (((unsigned char)s[0] == 0xFF && (unsigned char)s[1] == 0xFE) ||
	    ((unsigned char)s[0] == 0xFE && (unsigned char)s[1] == 0xFF))) {
		conv = convert((unsigned char)s[0] == 0xFF ? "UTF-16LE" : "UTF-16BE", s + 2, n - 2, &n);
		t->encoding = "UTF-16";
		if (conv == NULL) {
			snprintf(err, errlen, "文件开头像 UTF-16，但不是有效的 UTF-16");
			return -1;
		}
	} else if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
		t->encoding = "UTF-8";
	} else if (utf8_valid(s, n)) {
		t->encoding = "UTF-8";
	} else {
		/* GB18030 is a superset of GBK and GB2312: one decoder reads all three */
		conv = convert("GB18030", s, n, &n);
		t->encoding = "GB18030";
		if (conv == NULL) {
			snprintf(err, errlen,
			    "文件既不是 UTF-8 也不是 GB18030/GBK 文本（请在 Excel 或 WPS 里另存为 CSV 或 .xlsx）");
			return -1;
		}
	}
	if (conv)
		s = conv;
	if (memchr(s, '\0', n) != NULL) {
		free(conv);
		snprintf(err, errlen, "文件里有 NUL 字节：不是文本（CSV）文件");
		return -1;
	}
	/* Excel's "Unicode text" separates with tabs; so may a CSV with no comma in its first line */
	{
		const char *nl = memchr(s, '\n', n);
		size_t first = nl ? (size_t)(nl - s) : n;
		if (memchr(s, '\t', first) && !memchr(s, ',', first))
			sep = '\t';
	}
	rc = parse_records(s, n, sep, t, err, errlen);
	free(conv);
	if (rc < 0)
		roster_free(t);
	return rc;
}

static bool ends_with_ci(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && str_ieq(s + a - b, suffix);
}

int roster_read(const char *path, struct roster_table *t, char *err, size_t errlen)
{
	FILE *f;
	struct buf b = { 0 };
	char chunk[65536];
	size_t n;
	int rc;

	memset(t, 0, sizeof(*t));
	if (ends_with_ci(path, ".xlsx"))
		return roster_read_xlsx(path, t, err, errlen);
	if (ends_with_ci(path, ".xls")) {
		snprintf(err, errlen, "%s：旧的 .xls 格式读不了，请另存为 .xlsx 或 CSV", path);
		return -1;
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "打不开 %s：%s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > ROSTER_MAX_BYTES) {
			fclose(f);
			buf_free(&b);
			snprintf(err, errlen, "%s：超过 %u MB", path, ROSTER_MAX_BYTES >> 20);
			return -1;
		}
		buf_add(&b, chunk, n);
	}
	if (ferror(f)) {
		snprintf(err, errlen, "读不了 %s：%s", path, strerror(errno));
		fclose(f);
		buf_free(&b);
		return -1;
	}
	fclose(f);
	rc = roster_parse_csv(b.len ? buf_str(&b) : "", b.len, t, err, errlen);
	buf_free(&b);
	return rc;
}
