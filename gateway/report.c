#include "report.h"
#include "tz.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "store_cases.h"
#include "store_report.h"
#include "utf8.h"
#include "util.h"

#define DAY_S 86400.0

double report_median(double *v, size_t n)
{
	if (n == 0)
		return -1;
	/* insertion sort: a report covers hundreds of cases, not millions */
	for (size_t i = 1; i < n; i++) {
		double x = v[i];
		size_t j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The topic a node belongs to, as people read it. */
static const char *topic_title(const struct menu *m, const char *node)
{
	const struct menu_node *n = menu_node_at(m, menu_find(m, node));

	if (n == NULL) {
		/* a missed call answered without the menus; else a node a reload removed */
		if (strcmp(node, "callback") == 0 && menu_text(m, "topic_callback"))
			return menu_text(m, "topic_callback");
		return node;
	}
	if (n->topic >= 0)
		n = menu_node_at(m, n->topic);
	return n->title;
}

/*
 * A consultation is a conversation: one number, one topic, one day (the
 * bureau's day). Form steps, menu digits, 重复 and USSD steps within it are
 * not each a consultation; the main menu alone is none.
 */
struct node_acc {
	const struct menu *m;
	const struct tz *z;
	struct report *r;
	char **seen; /* "day|topic|phone", sorted */
	size_t nseen, capseen;
};

static void add_topic(struct report *r, const char *title)
{
	size_t i;

	for (i = 0; i < r->ntopics; i++)
		if (strcmp(r->topics[i].name, title) == 0)
			break;
	if (i == r->ntopics) {
		r->topics = xrealloc(r->topics, (r->ntopics + 1) * sizeof(*r->topics));
		r->topics[i].name = xstrdup(title);
		r->topics[i].count = 0;
		r->ntopics++;
	}
	r->topics[i].count++;
	r->consultations++;
}

static int add_message(const char *phone, const char *node, int64_t at, void *arg)
{
	struct node_acc *a = arg;
	const struct menu_node *n = menu_node_at(a->m, menu_find(a->m, node));
	const char *title;
	char *key;

	if (n != NULL && menu_find(a->m, node) == menu_root(a->m))
		return 0; /* the main menu on its own asks nothing */
	title = topic_title(a->m, node);
	key = xasprintf("%lld|%s|%s", (long long)tz_day_start(a->z, at), title, phone);
	/* a binary search over what was seen: a report reads each message once */
	size_t lo = 0, hi = a->nseen;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(a->seen[mid], key);
		if (c == 0) {
			free(key);
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (a->nseen == a->capseen) {
		a->capseen = a->capseen ? a->capseen * 2 : 64;
		a->seen = xrealloc(a->seen, a->capseen * sizeof(char *));
	}
	memmove(a->seen + lo + 1, a->seen + lo, (a->nseen - lo) * sizeof(char *));
	a->seen[lo] = key;
	a->nseen++;
	add_topic(a->r, title);
	return 0;
}

static int cmp_topic(const void *a, const void *b)
{
	const struct report_topic *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

struct case_acc {
	const struct menu *m;
	struct report *r;
	double *visit, *done;
	size_t nvisit, ndone;
};

static int add_case(const struct store_case *k, void *arg)
{
	struct case_acc *a = arg;
	const struct menu_node *n = menu_node_at(a->m, menu_find(a->m, k->topic));
	int s = case_status_parse(k->status);

	if (n && n->action == MENU_ACT_FORM)
		a->r->requests++;
	else
		a->r->callbacks++;
	if (s >= 0)
		a->r->by_status[s]++;
	if (k->visited_at > 0) {
		a->visit = xrealloc(a->visit, (a->nvisit + 1) * sizeof(double));
		a->visit[a->nvisit++] = (double)(k->visited_at - k->created_at) / DAY_S;
	}
	if (s == CASE_DONE && k->closed_at > 0) {
		a->done = xrealloc(a->done, (a->ndone + 1) * sizeof(double));
		a->done[a->ndone++] = (double)(k->closed_at - k->created_at) / DAY_S;
	}
	return 0;
}

static int count_feedback(const struct store_feedback *f, void *arg)
{
	(void)f;
	(*(int64_t *)arg)++;
	return 0;
}

int report_build(struct store *st, const struct menu *m, const struct tz *z, int64_t from, int64_t to,
    struct report *r)
{
	struct node_acc na = { m, z, r, NULL, 0, 0 };
	struct case_acc ca = { m, r, NULL, NULL, 0, 0 };
	struct store_case_filter f = { 0 };
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->from = from;
	r->to = to;
	rc = store_report_each(st, from, to, "command", add_message, &na);
	for (size_t i = 0; i < na.nseen; i++)
		free(na.seen[i]);
	free(na.seen);
	if (rc < 0 || store_report_callers(st, from, to, "command", &r->callers) < 0) {
		rc = -1;
		goto out;
	}
	rc = -1;
	if (r->ntopics > 1) /* qsort(NULL, 0, ...) is undefined (UBSan): a period without a consultation */
		qsort(r->topics, r->ntopics, sizeof(*r->topics), cmp_topic);
	f.created_from = from;
	f.created_to = to;
	if (store_case_each(st, &f, add_case, &ca) < 0)
		goto out;
	r->median_visit_days = report_median(ca.visit, ca.nvisit);
	r->median_done_days = report_median(ca.done, ca.ndone);
	if (store_feedback_each(st, from, to, count_feedback, &r->feedback) < 0)
		goto out;
	rc = 0;
out:
	free(ca.visit);
	free(ca.done);
	if (rc < 0)
		report_free(r);
	return rc;
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->ntopics; i++)
		free(r->topics[i].name);
	free(r->topics);
	r->topics = NULL;
	r->ntopics = 0;
}

/* ---- printing ------------------------------------------------------------------------------------ */

/* Columns a character takes in a terminal: East Asian wide ones two. */
static int columns(const char *s)
{
	size_t len = strlen(s), i = 0;
	int w = 0;

	while (i < len) {
		uint32_t cp = utf8_next(s, len, &i);
		bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
		    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
		    (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000;
		w += wide ? 2 : 1;
	}
	return w;
}

void report_pad(FILE *f, const char *s, int width)
{
	fputs(s, f);
	for (int w = columns(s); w < width; w++)
		fputc(' ', f);
}

static void day_text(const struct config *cfg, int64_t t, char *buf, size_t len)
{
	struct tm tm;

	tz_civil(cfg->tz, t, &tm);
	snprintf(buf, len, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

struct out {
	FILE *f;
	bool csv;
};

/* One row: a section, an item within it (may be ""), a value. */
static void row(const struct out *o, const char *section, const char *item, const char *value)
{
	if (o->csv) {
		ctl_csv_field(o->f, section, strlen(section));
		fputc(',', o->f);
		ctl_csv_field(o->f, item, strlen(item));
		fputc(',', o->f);
		ctl_csv_field(o->f, value, strlen(value));
		fputs("\r\n", o->f);
		return;
	}
	if (*item) {
		fputs("  ", o->f);
		report_pad(o->f, item, 34);
	} else {
		report_pad(o->f, section, 36);
	}
	fprintf(o->f, "%8s\n", value);
}

static void row_int(const struct out *o, const char *section, const char *item, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	row(o, section, item, buf);
}

static void row_days(const struct out *o, const char *section, double d)
{
	char buf[32];

	if (d < 0)
		snprintf(buf, sizeof(buf), "%s", o->csv ? "" : "-");
	else
		snprintf(buf, sizeof(buf), "%.1f", d);
	row(o, section, "", buf);
}

void report_write(FILE *f, const struct report *r, const struct config *cfg, bool csv)
{
	struct out o = { f, csv };
	char from[48] = "", to[48] = "";

	/* the column headers and row names of the report are the bureau's words */
	if (r->from > 0)
		day_text(cfg, r->from, from, sizeof(from));
	if (r->to > 0)
		day_text(cfg, r->to - 1, to, sizeof(to));
	if (csv) {
		ctl_csv_bom(f);
		fputs("项目,分项,数值\r\n", f);
		row(&o, "单位", "", cfg->office_name);
		row(&o, "统计起", "", from);
		row(&o, "统计止", "", to);
	} else {
		fprintf(f, "%s 热线统计  %s 至 %s\n\n", cfg->office_name, *from ? from : "开通以来", *to ? to : "今天");
		report_pad(f, "项目", 36);
		fprintf(f, "%8s\n", "数值");
	}
	/* what each figure counts, in the report itself */
	if (!csv)
		row(&o, "政策咨询（按主题，次：同一号码同一天问同一主题算1次）", "", "");
	for (size_t i = 0; i < r->ntopics; i++)
		row_int(&o, "政策咨询", r->topics[i].name, r->topics[i].count);
	row_int(&o, "政策咨询", "合计", r->consultations);
	row_int(&o, "来信来电人数（不重复号码）", "", r->callers);
	row_int(&o, "上门帮办请求", "", r->requests);
	row_int(&o, "回电请求", "", r->callbacks);
	if (!csv)
		row(&o, "请求办理情况（按状态，件）", "", "");
	for (int s = 0; s < CASE_STATUS_COUNT; s++)
		row_int(&o, "请求办理情况", case_status_name((enum case_status)s), r->by_status[s]);
	row_days(&o, "受理到上门（天，中位数）", r->median_visit_days);
	row_days(&o, "受理到办结（天，中位数）", r->median_done_days);
	row_int(&o, "意见建议（条）", "", r->feedback);
}
