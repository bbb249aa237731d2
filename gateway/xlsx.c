/*
 * xlsx: the first worksheet of an .xlsx file as a roster table. The only
 * file that includes <zip.h> (libzip) and <expat.h>: an .xlsx is a zip of
 * XML parts, and a roster needs four of them (workbook, its relations, the
 * shared strings, one sheet). Formulas are read as the value Excel saved.
 */
#include "xlsx.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "util.h"

#define XLSX_MAX_PART (64u << 20)

/* One part of the zip, whole, NUL-terminated; NULL when absent or too large. */
static char *read_part(zip_t *z, const char *name, size_t *len)
{
	zip_stat_t sb;
	zip_file_t *f;
	char *data;
	zip_int64_t got;

	if (zip_stat(z, name, 0, &sb) < 0 || !(sb.valid & ZIP_STAT_SIZE) || sb.size > XLSX_MAX_PART)
		return NULL;
	f = zip_fopen(z, name, 0);
	if (f == NULL)
		return NULL;
	data = xmalloc((size_t)sb.size + 1);
	got = zip_fread(f, data, sb.size);
	zip_fclose(f);
	if (got < 0 || (zip_uint64_t)got != sb.size) {
		free(data);
		return NULL;
	}
	data[got] = '\0';
	*len = (size_t)got;
	return data;
}

/* An element's local name (after any namespace prefix). */
static const char *local(const char *name)
{
	const char *c = strrchr(name, ':');

	return c ? c + 1 : name;
}

static const char *attr(const char **atts, const char *want)
{
	for (size_t i = 0; atts[i]; i += 2)
		if (strcmp(local(atts[i]), want) == 0)
			return atts[i + 1];
	return NULL;
}

static bool parse_xml(const char *data, size_t len, void *ud, XML_StartElementHandler start, XML_EndElementHandler end,
    XML_CharacterDataHandler text)
{
	XML_Parser p = XML_ParserCreate("UTF-8");
	bool ok;

	if (p == NULL)
		return false;
	XML_SetUserData(p, ud);
	XML_SetElementHandler(p, start, end);
	if (text)
		XML_SetCharacterDataHandler(p, text);
	ok = XML_Parse(p, data, (int)len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	return ok;
}

/* ---- workbook: the first sheet's relation id, then its part name ---------------- */

struct wb {
	char rid[64];
	char target[256];
};

static void wb_start(void *ud, const char *name, const char **atts)
{
	struct wb *w = ud;

	if (strcmp(local(name), "sheet") == 0 && w->rid[0] == '\0') {
		const char *id = attr(atts, "id");
		if (id)
			snprintf(w->rid, sizeof(w->rid), "%s", id);
	}
}

static void rels_start(void *ud, const char *name, const char **atts)
{
	struct wb *w = ud;

	if (strcmp(local(name), "Relationship") == 0 && w->target[0] == '\0') {
		const char *id = attr(atts, "Id"), *target = attr(atts, "Target");
		if (id && target && strcmp(id, w->rid) == 0)
			snprintf(w->target, sizeof(w->target), "%s", target);
	}
}

static void no_end(void *ud, const char *name)
{
	(void)ud;
	(void)name;
}

/* ---- shared strings -------------------------------------------------------------- */

struct sst {
	char **v;
	size_t n, cap;
	struct buf cur;
	int in_si, in_t, in_rph; /* <rPh> holds phonetic guides: not part of the text */
};

static void sst_start(void *ud, const char *name, const char **atts)
{
	struct sst *s = ud;
	const char *l = local(name);

	(void)atts;
	if (strcmp(l, "si") == 0) {
		s->in_si = 1;
		buf_reset(&s->cur);
	} else if (strcmp(l, "rPh") == 0) {
		s->in_rph = 1;
	} else if (strcmp(l, "t") == 0 && s->in_si && !s->in_rph) {
		s->in_t = 1;
	}
}

static void sst_end(void *ud, const char *name)
{
	struct sst *s = ud;
	const char *l = local(name);

	if (strcmp(l, "si") == 0) {
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 256;
			s->v = xrealloc(s->v, s->cap * sizeof(char *));
		}
		s->v[s->n++] = xstrndup(s->cur.len ? buf_str(&s->cur) : "", s->cur.len);
		s->in_si = 0;
	} else if (strcmp(l, "rPh") == 0) {
		s->in_rph = 0;
	} else if (strcmp(l, "t") == 0) {
		s->in_t = 0;
	}
}

static void sst_text(void *ud, const char *t, int len)
{
	struct sst *s = ud;

	if (s->in_t)
		buf_add(&s->cur, t, (size_t)len);
}

/* ---- the sheet ------------------------------------------------------------------- */

struct sheet {
	struct roster_table *t;
	const struct sst *sst;
	int row; /* current row number, 0 outside a row */
	size_t col, next_col;
	char type[16];
	int in_v, in_t, in_c;
	struct buf val;
};

/* "BC12" -> column 54 (0-based); -1 when there is no letter. */
static long col_of(const char *ref)
{
	long c = 0;
	bool any = false;

	for (; *ref >= 'A' && *ref <= 'Z'; ref++) {
		c = c * 26 + (*ref - 'A' + 1);
		any = true;
		if (c > 16384)
			return -1;
	}
	return any ? c - 1 : -1;
}

static void sheet_start(void *ud, const char *name, const char **atts)
{
	struct sheet *s = ud;
	const char *l = local(name);

	if (strcmp(l, "row") == 0) {
		const char *r = attr(atts, "r");
		long long n = 0;
		s->row = r && parse_int(r, 1, 1048576, &n) ? (int)n : s->row + 1;
		roster_add_row(s->t, s->row);
		s->next_col = 0;
	} else if (strcmp(l, "c") == 0 && s->row > 0) {
		const char *r = attr(atts, "r"), *ty = attr(atts, "t");
		long c = r ? col_of(r) : -1;
		s->col = c >= 0 ? (size_t)c : s->next_col;
		s->next_col = s->col + 1;
		snprintf(s->type, sizeof(s->type), "%s", ty ? ty : "n");
		s->in_c = 1;
		buf_reset(&s->val);
	} else if (s->in_c && strcmp(l, "v") == 0) {
		s->in_v = 1;
	} else if (s->in_c && strcmp(l, "t") == 0) {
		s->in_t = 1; /* an inline string: <is><t>…</t></is> */
	}
}

static void sheet_end(void *ud, const char *name)
{
	struct sheet *s = ud;
	const char *l = local(name);

	if (strcmp(l, "v") == 0) {
		s->in_v = 0;
	} else if (strcmp(l, "t") == 0) {
		s->in_t = 0;
	} else if (strcmp(l, "c") == 0 && s->in_c) {
		const char *v = s->val.len ? buf_str(&s->val) : "";
		char num[64];
		s->in_c = 0;
		if (strcmp(s->type, "s") == 0) {
			long long k;
			v = parse_int(v, 0, (long long)s->sst->n - 1, &k) ? s->sst->v[k] : "";
		} else if (strcmp(s->type, "n") == 0 && strpbrk(v, "Ee")) {
			/* 1.3912345678E10: a long number Excel saved in exponent form */
			char *end;
			double d = strtod(v, &end);
			if (*end == '\0' && d >= 0 && d < 1e16 && d == (double)(long long)d) {
				snprintf(num, sizeof(num), "%lld", (long long)d);
				v = num;
			}
		}
		roster_add_cell(s->t, s->col, v, strlen(v));
	} else if (strcmp(l, "row") == 0) {
		/* rows are numbered by the sheet; an empty row stays an empty row */
	}
}

static void sheet_text(void *ud, const char *t, int len)
{
	struct sheet *s = ud;

	if (s->in_v || s->in_t)
		buf_add(&s->val, t, (size_t)len);
}

int roster_read_xlsx(const char *path, struct roster_table *t, char *err, size_t errlen)
{
	int zerr = 0;
	zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
	struct wb w;
	struct sst sst;
	struct sheet sh;
	char *data = NULL, part[300];
	size_t len = 0;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	memset(&w, 0, sizeof(w));
	memset(&sst, 0, sizeof(sst));
	memset(&sh, 0, sizeof(sh));
	t->encoding = "XLSX";
	if (z == NULL) {
		zip_error_t ze;
		zip_error_init_with_code(&ze, zerr);
		snprintf(err, errlen, "%s：打不开，不是有效的 .xlsx 文件（%s）", path, zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return -1;
	}
	/* the first sheet in the workbook's order, through the workbook's relations */
	if ((data = read_part(z, "xl/workbook.xml", &len)) == NULL ||
	    !parse_xml(data, len, &w, wb_start, no_end, NULL) || w.rid[0] == '\0') {
		snprintf(err, errlen, "%s：里面没有工作表（xl/workbook.xml 缺了或读不了）", path);
		goto out;
	}
	free(data);
	if ((data = read_part(z, "xl/_rels/workbook.xml.rels", &len)) == NULL ||
	    !parse_xml(data, len, &w, rels_start, no_end, NULL) || w.target[0] == '\0') {
		snprintf(err, errlen, "%s：找不到第一张工作表（xl/_rels/workbook.xml.rels）", path);
		goto out;
	}
	free(data);
	if (w.target[0] == '/')
		snprintf(part, sizeof(part), "%s", w.target + 1);
	else
		snprintf(part, sizeof(part), "xl/%s", w.target);
	data = read_part(z, "xl/sharedStrings.xml", &len);
	if (data && !parse_xml(data, len, &sst, sst_start, sst_end, sst_text)) {
		snprintf(err, errlen, "%s：xl/sharedStrings.xml 格式坏了（不是正确的 XML）", path);
		goto out;
	}
	free(data);
	if ((data = read_part(z, part, &len)) == NULL) {
		snprintf(err, errlen, "%s：读不了 %s", path, part);
		goto out;
	}
	sh.t = t;
	sh.sst = &sst;
	if (!parse_xml(data, len, &sh, sheet_start, sheet_end, sheet_text)) {
		snprintf(err, errlen, "%s：%s 格式坏了（不是正确的 XML）", path, part);
		goto out;
	}
	rc = 0;
out:
	free(data);
	buf_free(&sh.val);
	for (size_t i = 0; i < sst.n; i++)
		free(sst.v[i]);
	free(sst.v);
	buf_free(&sst.cur);
	zip_close(z);
	if (rc < 0) {
		roster_free(t);
		t->encoding = "XLSX";
	}
	return rc;
}
