/*
 * hotlinectl cases | feedback | report: the office's view of the home-visit
 * requests (救助直通车), the suggestions, and the figures it reports.
 *
 * Changes made here (assign, set-status) go through the same code as the
 * staff's SMS commands (cases.c): the same checks, a history row, and the
 * same notifications, queued in the outbox for the daemon to send.
 *
 * CSV is for WPS and Excel: UTF-8 with a BOM, CRLF, Chinese headers, and
 * phone and case numbers written as ="13912345678" so that they stay text
 * (not 1.39E+10, not a date, leading zeros kept).
 */
#include "ctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cases.h"
#include "phone.h"
#include "cases_cmd.h"
#include "report.h"
#include "store_cases.h"
#include "util.h"

enum fmt { FMT_TABLE, FMT_TSV, FMT_CSV };

static bool parse_fmt(const char *s, enum fmt *f)
{
	if (strcmp(s, "table") == 0)
		*f = FMT_TABLE;
	else if (strcmp(s, "tsv") == 0)
		*f = FMT_TSV;
	else if (strcmp(s, "csv") == 0)
		*f = FMT_CSV;
	else {
		fprintf(stderr, "hotlinectl: --format \"%s\" 不认识：可用 table、tsv 或 csv\n", s);
		return false;
	}
	return true;
}

/* A value Excel would turn into a number or a date (13912345678, 2026-0005, 0005): kept as text. */
static void csv_text(FILE *f, const char *s)
{
	bool numeric = *s != '\0';

	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == ' '))
			numeric = false;
	if (numeric)
		fprintf(f, "\"=\"\"%s\"\"\"", s);
	else
		ctl_csv_field(f, s, strlen(s));
}

static void when_text(int64_t t, char *buf, size_t len)
{
	ctl_when(t, buf, len);
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static const char *status_name(const char *code)
{
	int s = case_status_parse(code);

	return s < 0 ? code : case_status_name((enum case_status)s);
}

static int this_year(void)
{
	return ctl_year(now_unix());
}

/* "2026-0005", or what a person types for it (5, 0005, 20260005): the case's number, or NULL. */
static char *find_number(struct ctl *c, const char *typed)
{
	struct cases_cmd cmd;
	char cand[2][CASES_NUMBER_MAX];
	struct store_case k;
	bool found;
	int year = 0;
	long long seq = 0;
	char extra;
	size_t n;

	if (store_case_get(c->st, typed, &k, &found) < 0)
		return NULL;
	if (found) {
		char *number = xstrdup(k.number);
		store_case_free(&k);
		return number;
	}
	memset(&cmd, 0, sizeof(cmd));
	if (sscanf(typed, "%d-%lld%c", &year, &seq, &extra) == 2) {
		cmd.year = year;
	} else if (sscanf(typed, "%lld%c", &seq, &extra) == 1) {
		cmd.seq_digits = (int)strlen(typed);
	} else {
		return NULL;
	}
	cmd.seq = seq;
	n = cases_cmd_numbers(&cmd, c->w->cfg->case_number_format, this_year(), cand, 2);
	for (size_t i = 0; i < n; i++) {
		if (store_case_get(c->st, cand[i], &k, &found) < 0)
			return NULL;
		if (found) {
			char *number = xstrdup(k.number);
			store_case_free(&k);
			return number;
		}
	}
	return NULL;
}

/* ---- cases list ----------------------------------------------------------------------------------- */

struct list_opts {
	enum fmt fmt;
	const char *town;
	int n;
	const struct menu *m;
};

/* A case's topic as the office says it: 上门帮办, 来电回拨 (every call-back request alike). */
static const char *topic_name(const struct menu *m, const char *topic)
{
	const struct menu_node *n = menu_node_at(m, menu_find(m, topic));
	const char *cb = menu_text(m, "topic_callback");

	if (cases_is_callback(m, topic) && cb && *cb)
		return cb;
	return n ? n->title : topic;
}

static int print_case(const struct store_case *k, void *arg)
{
	struct list_opts *o = arg;
	char created[32], updated[32], accepted[32], visited[32], closed[32], escalated[32];

	if (o->town && (k->place == NULL || strstr(k->place, o->town) == NULL))
		return 0;
	o->n++;
	when_text(k->created_at, created, sizeof(created));
	when_text(k->updated_at, updated, sizeof(updated));
	when_text(k->accepted_at, accepted, sizeof(accepted));
	when_text(k->visited_at, visited, sizeof(visited));
	when_text(k->closed_at, closed, sizeof(closed));
	when_text(k->escalated_at, escalated, sizeof(escalated));
	const char *cols[] = { k->number, k->status, status_name(k->status), created, updated, k->topic, k->channel,
		or_empty(k->name), or_empty(k->place), or_empty(k->need), k->applicant_phone, or_empty(k->contact_phone),
		or_empty(k->staff), or_empty(k->reason), accepted, visited, closed, escalated };
	if (o->fmt == FMT_TSV) {
		for (size_t i = 0; i < ARRAY_LEN(cols); i++) {
			if (i)
				putchar('\t');
			ctl_tsv_field(stdout, cols[i], strlen(cols[i]));
		}
		putchar('\n');
	} else if (o->fmt == FMT_CSV) {
		for (size_t i = 0; i < ARRAY_LEN(cols); i++) {
			if (i)
				putchar(',');
			/* the number and the phones must stay text in Excel */
			if (i == 0 || i == 10 || i == 11)
				csv_text(stdout, cols[i]);
			else
				ctl_csv_field(stdout, cols[i], strlen(cols[i]));
		}
		fputs("\r\n", stdout);
	} else {
		report_pad(stdout, k->number, 11);
		report_pad(stdout, status_name(k->status), 12);
		report_pad(stdout, created, 18);
		report_pad(stdout, topic_name(o->m, k->topic), 10);
		report_pad(stdout, or_empty(k->name), 10);
		report_pad(stdout, k->staff ? k->staff : "-", 10);
		report_pad(stdout, k->applicant_phone, 14);
		fputs(or_empty(k->place), stdout);
		putchar('\n');
	}
	return 0;
}

static int cases_list(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' }, { "town", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct store_case_filter f = { 0 };
	struct list_opts o = { FMT_TABLE, NULL, 0, NULL };
	int ch, st;

	optind = 0; /* a full restart of getopt: options may follow the operands */
	while ((ch = getopt_long(argc, argv, "s:t:f:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (strcmp(optarg, "open") == 0) {
				f.open_only = true;
			} else if ((st = case_status_parse(optarg)) >= 0) {
				f.status = case_status_code((enum case_status)st);
			} else {
				fprintf(stderr,
				    "hotlinectl cases list: --status “%s” 不认识：可用 open（未办结的）、"
				    "已受理 已派单 已上门 审核中 已办结 不符合条件 已撤销，或它们的英文代码\n",
				    optarg);
				goto usage;
			}
			break;
		case 't':
			o.town = optarg;
			break;
		case 'f':
			if (!parse_fmt(optarg, &o.fmt))
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	if (ctl_store(c) == NULL)
		return 1;
	o.m = c->w->menu;
	if (o.fmt == FMT_CSV) {
		ctl_csv_bom(stdout);
		fputs("编号,状态代码,状态,受理时间,更新时间,主题,渠道,姓名,住址,事由,申请人电话,联系电话,负责人,原因,"
		      "接单时间,上门时间,结束时间,督办时间\r\n",
		    stdout);
	} else if (o.fmt == FMT_TSV) {
		fputs("number\tstatus\tstatus_name\tcreated\tupdated\ttopic\tchannel\tname\tplace\tneed\tapplicant_phone\t"
		      "contact_phone\tstaff\treason\taccepted\tvisited\tclosed\tescalated\n",
		    stdout);
	} else {
		report_pad(stdout, "编号", 11);
		report_pad(stdout, "状态", 12);
		report_pad(stdout, "受理时间", 18);
		report_pad(stdout, "主题", 10);
		report_pad(stdout, "姓名", 10);
		report_pad(stdout, "负责", 10);
		report_pad(stdout, "申请人电话", 14);
		puts("住址");
	}
	if (store_case_each(c->st, &f, print_case, &o) < 0)
		return 1;
	if (o.fmt == FMT_TABLE)
		printf("(%d)\n", o.n);
	return 0;
usage:
	fprintf(stderr, "usage: hotlinectl [-c FILE] cases list [--status S|open] [--town T] [--format table|tsv|csv]\n"
			"  S: received assigned visited reviewing done rejected withdrawn, or the Chinese name (已受理 ...)\n"
			"  T: a town or village named in the address\n");
	return 2;
}

/* ---- cases show --------------------------------------------------------------------------------- */

static int print_event(const struct store_case_event *e, void *arg)
{
	char at[32];

	(void)arg;
	when_text(e->at, at, sizeof(at));
	printf("  %s  ", at);
	report_pad(stdout, e->actor, 14);
	if (e->old_status && *e->old_status && strcmp(e->old_status, e->new_status) != 0)
		printf("%s -> %s", status_name(e->old_status), status_name(e->new_status));
	else if (!e->old_status || !*e->old_status)
		printf("-> %s", status_name(e->new_status));
	if (e->note && *e->note)
		printf("  %s", e->note);
	putchar('\n');
	return 0;
}

static void field(const char *name, const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	report_pad(stdout, name, 12);
	puts(value);
}

static void field_time(const char *name, int64_t t)
{
	char buf[32];

	when_text(t, buf, sizeof(buf));
	field(name, buf);
}

static int cases_show(struct ctl *c, int argc, char **argv)
{
	struct store_case k;
	const struct staff_cfg *s;
	const struct menu_node *n;
	char *number, staff[160], topic[200];
	bool found;

	if (argc != 2) {
		fprintf(stderr, "usage: hotlinectl [-c FILE] cases show NUMBER\n");
		return 2;
	}
	if (ctl_store(c) == NULL)
		return 1;
	number = find_number(c, argv[1]);
	if (number == NULL || store_case_get(c->st, number, &k, &found) < 0 || !found) {
		fprintf(stderr, "hotlinectl cases show: 没有编号为 %s 的请求\n", argv[1]);
		free(number);
		return 1;
	}
	free(number);
	s = k.staff ? config_staff_by_name(c->w->cfg, k.staff) : NULL;
	snprintf(staff, sizeof(staff), "%s%s%s", or_empty(k.staff), s ? " " : "", s ? s->phone : "");
	n = menu_node_at(c->w->menu, menu_find(c->w->menu, k.topic));
	snprintf(topic, sizeof(topic), "%s%s%s%s", n ? n->title : "", n ? " (" : "", k.topic, n ? ")" : "");
	field("编号", k.number);
	field("状态", status_name(k.status));
	field("主题", topic);
	field("渠道", k.channel);
	field("姓名", k.name);
	field("住址", k.place);
	field("事由", k.need);
	field("申请人电话", k.applicant_phone);
	field("联系电话", k.contact_phone);
	field("负责", staff);
	field("原因", k.reason);
	field_time("受理", k.created_at);
	field_time("接单", k.accepted_at);
	field_time("上门", k.visited_at);
	field_time("结束", k.closed_at);
	field_time("督办", k.escalated_at);
	puts("历史");
	if (store_case_events(c->st, k.id, print_event, NULL) < 0) {
		store_case_free(&k);
		return 1;
	}
	store_case_free(&k);
	return 0;
}

/* ---- cases assign, cases set-status ----------------------------------------------------------------- */

static const char *outcome_text(enum case_outcome o)
{
	switch (o) {
	/* the office's words: this is what staff read */
	case CASE_OK:
		return "已办好";
	case CASE_NOT_FOUND:
		return "没有这个编号的请求";
	case CASE_NOT_YOURS:
		return "这不是此人的请求";
	case CASE_BAD_MOVE:
		return "不能从现在的状态改成这样。顺序：已受理→已派单→已上门→审核中→已办结；没结束的请求可改为不符合条件或已撤销";
	case CASE_NEED_REASON:
		return "改为不符合条件要写明原因（--note 原因），会告诉申请人";
	case CASE_NO_STAFF:
		return "这个请求还没有负责人：先用 cases assign 编号 姓名 派给一位工作人员";
	}
	return "?";
}

/* Run fn in a transaction with the clock now; print the outcome. */
static int change(struct ctl *c, const char *what, const char *typed,
    int (*fn)(struct ctx *x, const char *number, const void *arg, enum case_outcome *o), const void *arg)
{
	struct ctx x = { .st = c->st, .cfg = c->w->cfg, .menu = c->w->menu, .now = now_unix() };
	enum case_outcome o = CASE_NOT_FOUND;
	char *number = find_number(c, typed);

	if (number == NULL) {
		fprintf(stderr, "hotlinectl cases %s: 没有编号为 %s 的请求\n", what, typed);
		return 1;
	}
	if (store_begin(c->st) < 0)
		goto fail;
	if (fn(&x, number, arg, &o) < 0) {
		store_rollback(c->st);
		goto fail;
	}
	if (o != CASE_OK) {
		struct store_case k;
		bool found = false;
		store_rollback(c->st);
		if (o == CASE_BAD_MOVE && store_case_get(c->st, number, &k, &found) == 0 && found) {
			int s = case_status_parse(k.status);
			if (s == CASE_DONE || s == CASE_REJECTED || s == CASE_WITHDRAWN)
				fprintf(stderr, "hotlinectl cases %s: %s 已经是“%s”：%s的请求不能再改\n", what, number,
				    status_name(k.status), status_name(k.status));
			else
				fprintf(stderr, "hotlinectl cases %s: %s 现在是“%s”：%s\n", what, number, status_name(k.status),
				    outcome_text(o));
			store_case_free(&k);
		} else {
			fprintf(stderr, "hotlinectl cases %s: %s: %s\n", what, number, outcome_text(o));
		}
		free(number);
		return 1;
	}
	if (store_commit(c->st) < 0)
		goto fail;
	printf("%s：已改好，给申请人的短信已排队，由 hotlined 发送\n", number);
	free(number);
	return 0;
fail:
	fprintf(stderr, "hotlinectl cases %s: %s: 数据库出错，什么也没改\n", what, number);
	free(number);
	return 1;
}

static int do_assign(struct ctx *x, const char *number, const void *arg, enum case_outcome *o)
{
	return cases_assign(x, number, arg, "hotlinectl", o);
}

static int cases_assign_cmd(struct ctl *c, int argc, char **argv)
{
	const struct staff_cfg *s;
	char phone[PHONE_LEN];

	if (argc != 3) {
		fprintf(stderr, "usage: hotlinectl [-c FILE] cases assign NUMBER STAFF   (STAFF: a name or phone in the config)\n");
		return 2;
	}
	if (ctl_store(c) == NULL)
		return 1;
	s = config_staff_by_name(c->w->cfg, argv[2]);
	if (s == NULL && phone_normalise(argv[2], c->w->cfg->phone_country, phone, sizeof(phone)) == PHONE_E164)
		s = config_staff_by_phone(c->w->cfg, phone);
	if (s == NULL) {
		fprintf(stderr, "hotlinectl cases assign: %s 里没有叫“%s”的工作人员\n", c->config_path, argv[2]);
		return 1;
	}
	return change(c, "assign", argv[1], do_assign, s);
}

struct set_args {
	enum case_status to;
	const char *note;
};

static int do_set(struct ctx *x, const char *number, const void *arg, enum case_outcome *o)
{
	const struct set_args *a = arg;
	struct case_change ch;

	memset(&ch, 0, sizeof(ch));
	ch.number = number;
	ch.to = a->to;
	ch.actor = "hotlinectl";
	ch.note = a->note;
	return cases_change(x, &ch, o, NULL);
}

static int cases_set_status(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "note", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct set_args a = { CASE_RECEIVED, NULL };
	int ch, st;

	optind = 0; /* a full restart of getopt: options may follow the operands */
	while ((ch = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		if (ch == 'n')
			a.note = optarg;
		else
			goto usage;
	}
	if (argc - optind != 2)
		goto usage;
	if ((st = case_status_parse(argv[optind + 1])) < 0) {
		fprintf(stderr,
		    "hotlinectl cases set-status: 状态“%s”不认识：可用 已派单 已上门 审核中 已办结 不符合条件 "
		    "已撤销，或它们的英文代码\n",
		    argv[optind + 1]);
		goto usage;
	}
	a.to = (enum case_status)st;
	if (ctl_store(c) == NULL)
		return 1;
	return change(c, "set-status", argv[optind], do_set, &a);
usage:
	fprintf(stderr, "usage: hotlinectl [-c FILE] cases set-status NUMBER STATUS [--note TEXT]\n"
			"  STATUS: assigned visited reviewing done rejected withdrawn, or 已派单 已上门 审核中 已办结 "
			"不符合条件 已撤销\n"
			"  rejected needs --note: the reason the applicant is told\n");
	return 2;
}

int ctl_cases(struct ctl *c, int argc, char **argv)
{
	if (argc >= 2) {
		if (strcmp(argv[1], "list") == 0)
			return cases_list(c, argc - 1, argv + 1);
		if (strcmp(argv[1], "show") == 0)
			return cases_show(c, argc - 1, argv + 1);
		if (strcmp(argv[1], "assign") == 0)
			return cases_assign_cmd(c, argc - 1, argv + 1);
		if (strcmp(argv[1], "set-status") == 0)
			return cases_set_status(c, argc - 1, argv + 1);
	}
	fprintf(stderr, "usage: hotlinectl [-c FILE] cases list [--status S] [--town T] [--format table|tsv|csv]\n"
			"       hotlinectl [-c FILE] cases show NUMBER\n"
			"       hotlinectl [-c FILE] cases assign NUMBER STAFF\n"
			"       hotlinectl [-c FILE] cases set-status NUMBER STATUS [--note TEXT]\n");
	return 2;
}

/* ---- feedback ------------------------------------------------------------------------------------- */

/* A suggestion's status in the office's words. */
static const char *feedback_status(const char *s)
{
	return strcmp(s, "done") == 0 ? "已处理" : "未处理";
}

static int print_feedback(const struct store_feedback *f, void *arg)
{
	enum fmt *fmt = arg;
	char when[32];

	when_text(f->created_at, when, sizeof(when));
	const char *cols[] = { f->number, when, f->phone, f->channel, feedback_status(f->status), f->text,
		f->note ? f->note : "" };
	if (*fmt == FMT_CSV) {
		for (size_t i = 0; i < ARRAY_LEN(cols); i++) {
			if (i)
				putchar(',');
			if (i == 0 || i == 2)
				csv_text(stdout, cols[i]);
			else
				ctl_csv_field(stdout, cols[i], strlen(cols[i]));
		}
		fputs("\r\n", stdout);
	} else if (*fmt == FMT_TSV) {
		for (size_t i = 0; i < ARRAY_LEN(cols); i++) {
			if (i)
				putchar('\t');
			ctl_tsv_field(stdout, cols[i], strlen(cols[i]));
		}
		putchar('\n');
	} else {
		report_pad(stdout, f->number, 14);
		report_pad(stdout, when, 18);
		report_pad(stdout, f->phone, 16);
		report_pad(stdout, feedback_status(f->status), 8);
		ctl_tsv_field(stdout, f->text, strlen(f->text));
		if (f->note && *f->note) {
			fputs("  处理：", stdout);
			ctl_tsv_field(stdout, f->note, strlen(f->note));
		}
		putchar('\n');
	}
	return 0;
}

/* feedback done YJ2026-0001 [--note TEXT]: the suggestion was handled. */
static int feedback_done(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = { { "note", required_argument, NULL, 'n' }, { NULL, 0, NULL, 0 } };
	const char *note = NULL;
	bool found = false;
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		if (ch != 'n') {
			fprintf(stderr, "用法：hotlinectl feedback done 编号 [--note 处理情况]\n");
			return 2;
		}
		note = optarg;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "用法：hotlinectl feedback done 编号 [--note 处理情况]\n");
		return 2;
	}
	if (ctl_store(c) == NULL)
		return 1;
	if (store_feedback_done(c->st, argv[optind], note, now_unix(), &found) < 0)
		return 1;
	if (!found) {
		fprintf(stderr, "没有编号为 %s 的意见建议\n", argv[optind]);
		return 1;
	}
	printf("%s 已标记为已处理\n", argv[optind]);
	return 0;
}

/* --from DATE / --to DATE (that whole day) into [from, to). */
static bool parse_period(int ch, const char *arg, int64_t *from, int64_t *to)
{
	long long t = ctl_parse_date(arg);

	if (t < 0) {
		fprintf(stderr, "hotlinectl: %s \"%s\" 不是日期：请写成 2026-11-28 这样的年-月-日\n", ch == 'F' ? "--from" : "--to",
		    arg);
		return false;
	}
	if (ch == 'F') {
		*from = t;
	} else {
		*to = ctl_day_after(t);
	}
	return true;
}

int ctl_feedback(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' }, { "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	enum fmt fmt = FMT_TABLE;
	int64_t from = 0, to = 0;
	int ch;

	if (argc >= 2 && strcmp(argv[1], "done") == 0)
		return feedback_done(c, argc - 1, argv + 1);
	/* `feedback list ...` and `feedback ...` are the same */
	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		argc--;
		argv++;
	}
	optind = 0; /* a full restart of getopt: options may follow the operands */
	while ((ch = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (ch == 'f' && parse_fmt(optarg, &fmt))
			continue;
		if ((ch == 'F' || ch == 'T') && parse_period(ch, optarg, &from, &to))
			continue;
		goto usage;
	}
	if (optind != argc)
		goto usage;
	if (from > 0 && to > 0 && from >= to) {
		fprintf(stderr, "hotlinectl: --from 的日期在 --to 之后：没有这样的时段\n");
		return 2;
	}
	if (ctl_store(c) == NULL)
		return 1;
	if (fmt == FMT_CSV) {
		ctl_csv_bom(stdout);
		fputs("编号,时间,电话,渠道,状态,内容,处理情况\r\n", stdout);
	} else if (fmt == FMT_TSV) {
		fputs("number\ttime\tphone\tchannel\tstatus\ttext\tnote\n", stdout);
	} else {
		report_pad(stdout, "编号", 14);
		report_pad(stdout, "时间", 18);
		report_pad(stdout, "电话", 16);
		report_pad(stdout, "状态", 8);
		fputs("内容\n", stdout);
	}
	return store_feedback_each(c->st, from, to, print_feedback, &fmt) < 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: hotlinectl [-c FILE] feedback list [--from DATE] [--to DATE] [--format table|tsv|csv]\n"
			"       hotlinectl [-c FILE] feedback done NUMBER [--note TEXT]\n");
	return 2;
}

/* ---- report ----------------------------------------------------------------------------------------- */

int ctl_report(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' }, { "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	enum fmt fmt = FMT_TABLE;
	int64_t from = 0, to = 0;
	struct report r;
	int ch;

	optind = 0; /* a full restart of getopt: options may follow the operands */
	while ((ch = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (ch == 'f' && parse_fmt(optarg, &fmt) && fmt != FMT_TSV)
			continue;
		if ((ch == 'F' || ch == 'T') && parse_period(ch, optarg, &from, &to))
			continue;
		goto usage;
	}
	if (optind != argc)
		goto usage;
	if (from && to && to <= from) {
		fprintf(stderr, "hotlinectl report: --from 的日期在 --to 之后：没有这样的时段\n");
		return 2;
	}
	if (ctl_store(c) == NULL)
		return 1;
	if (report_build(c->st, c->w->menu, c->w->cfg->tz, from, to, &r) < 0)
		return 1;
	report_write(stdout, &r, c->w->cfg, fmt == FMT_CSV);
	report_free(&r);
	return 0;
usage:
	fprintf(stderr, "usage: hotlinectl [-c FILE] report [--from DATE] [--to DATE] [--format table|csv]\n"
			"  DATE: 2026-01-01; --to counts that whole day; without dates: everything\n");
	return 2;
}
