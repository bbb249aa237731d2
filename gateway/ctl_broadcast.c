/* hotlinectl broadcast create|preview|approve|pause|resume|cancel|list|show. */
#include "ctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "broadcast.h"
#include "log.h"
#include "store_contacts.h"
#include "store_modem.h"
#include "util.h"

static void ctx_of(struct ctl *c, struct ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->st = c->st;
	x->cfg = c->w->cfg;
	x->menu = c->w->menu;
	x->now = now_unix();
}

static int count_up(const struct store_modem_row *r, void *arg)
{
	if (strcmp(r->state, "ready") == 0)
		(*(int *)arg)++;
	return 0;
}

/* Modems the running daemon last recorded as ready (at least one: the estimate assumes one comes up). */
static int modems_up(struct ctl *c)
{
	int n = 0;

	if (store_modem_each(c->st, now_unix() - 86400, count_up, &n) < 0 || n == 0)
		n = 1;
	return n;
}

static bool id_arg(const char *s, int64_t *id)
{
	long long v;

	if (!parse_int(s, 1, INT64_MAX, &v))
		return false;
	*id = v;
	return true;
}

static const struct staff_cfg *staff_arg(struct ctl *c, const char *by)
{
	const struct staff_cfg *s = by ? config_staff_by_name(c->w->cfg, by) : NULL;

	if (by == NULL)
		fprintf(stderr, "hotlinectl: 请用 --by 姓名 说明您是谁（配置里的工作人员）\n");
	else if (s == NULL)
		fprintf(stderr, "hotlinectl: %s 不是配置里的工作人员\n", by);
	return s;
}

static int print_preview(struct ctl *c, int64_t id)
{
	struct ctx x;
	struct broadcast_preview p;

	ctx_of(c, &x);
	if (broadcast_preview(&x, id, modems_up(c), &p) < 0) {
		fprintf(stderr, "hotlinectl: 没有编号为 %lld 的群发\n", (long long)id);
		return 1;
	}
	printf("群发 %lld：发给 %d 人", (long long)id, p.recipients);
	if (p.skipped_optout || p.skipped_invalid)
		printf("（不发：%d 人已退订，%d 个号码无效）", p.skipped_optout, p.skipped_invalid);
	printf("\n短信条数：每人最多 %d 条，一共 %d 条\n", p.segments_max, p.segments_total);
	if (p.per_minute > 0)
		printf("用时：约 %lld 分钟（%d 台短信猫，每台每分钟 %d 条），只在 %02d:%02d-%02d:%02d 发\n",
		    (long long)((p.seconds + 59) / 60), p.modems_up, p.per_minute,
		    x.cfg->bcast_allowed_hours.start / 60, x.cfg->bcast_allowed_hours.start % 60,
		    x.cfg->bcast_allowed_hours.end / 60, x.cfg->bcast_allowed_hours.end % 60);
	else
		printf("用时：不限速（broadcast.per_modem_per_minute = 0）\n");
	for (int i = 0; i < p.nsamples; i++) {
		printf("--- 发给 %s\n", p.sample_phone[i]);
		printf("%s\n", p.sample[i]);
	}
	broadcast_preview_free(&p);
	return 0;
}

static int create(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "text", required_argument, NULL, 't' }, { "to", required_argument, NULL, 'o' },
		{ "at", required_argument, NULL, 'a' }, { "by", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct broadcast_new n;
	struct ctx x;
	int64_t id;
	char err[512];
	long long at;
	int ch;

	memset(&n, 0, sizeof(n));
	optind = 0; /* 0: glibc starts afresh (main parsed with "+", which would stop at N) */
	while ((ch = getopt_long(argc, argv, "t:o:a:b:", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			n.text = optarg;
			break;
		case 'o':
			n.audience = optarg;
			break;
		case 'a':
			if ((at = ctl_parse_date(optarg)) < 0) {
				fprintf(stderr,
				    "hotlinectl: --at “%s” 不是时间：请写成 2026-12-03 或 \"2026-12-03 09:30\"\n",
				    optarg);
				return 2;
			}
			n.at = at;
			break;
		case 'b':
			n.by = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc || n.text == NULL || n.audience == NULL)
		return 2;
	if (ctl_store(c) == NULL)
		return 1;
	if (staff_arg(c, n.by) == NULL)
		return 1;
	ctx_of(c, &x);
	if (broadcast_create(&x, &n, &id, err, sizeof(err)) < 0) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		return 1;
	}
	printf("群发 %lld 已建好（草稿），建立人 %s\n", (long long)id, n.by);
	print_preview(c, id);
	if (broadcast_needs_supervisor(&x, id))
		printf(
		    "批准后才发：hotlinectl broadcast approve %lld --by 姓名（超过 %d 人：要由 %s 以外的一位主管批准）\n",
		    (long long)id, x.cfg->bcast_approval_over, n.by);
	else
		printf("批准后才发：hotlinectl broadcast approve %lld --by 姓名\n", (long long)id);
	return 0;
}

static int action(struct ctl *c, int argc, char **argv,
    int (*fn)(struct ctx *x, int64_t id, const char *by, char *err, size_t errlen), bool need_by)
{
	static const struct option opts[] = { { "by", required_argument, NULL, 'b' }, { NULL, 0, NULL, 0 } };
	const char *by = NULL;
	struct ctx x;
	int64_t id;
	char err[512];
	int ch;

	optind = 0; /* 0: glibc starts afresh (main parsed with "+", which would stop at N) */
	while ((ch = getopt_long(argc, argv, "b:", opts, NULL)) != -1) {
		if (ch != 'b')
			return 2;
		by = optarg;
	}
	if (optind + 1 != argc || !id_arg(argv[optind], &id))
		return 2;
	if (ctl_store(c) == NULL)
		return 1;
	if (need_by && staff_arg(c, by) == NULL)
		return 1;
	if (by == NULL)
		by = getenv("USER") ? getenv("USER") : "hotlinectl";
	ctx_of(c, &x);
	if (fn(&x, id, by, err, sizeof(err)) < 0) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		return 1;
	}
	printf("群发 %lld：%s\n", (long long)id,
	    strcmp(argv[0], "approve") == 0      ? "已批准"
		: strcmp(argv[0], "pause") == 0  ? "已暂停"
		: strcmp(argv[0], "resume") == 0 ? "接着发"
						 : "已取消");
	return 0;
}

static int print_row(const struct store_broadcast *b, void *arg)
{
	struct ctl *c = arg;
	struct store_bcast_counts n;
	char when[40];

	if (store_broadcast_counts(c->st, b->id, &n) < 0)
		return 1;
	ctl_iso(b->created_at, when, sizeof(when));
	printf("%4lld  %.16s  %-8s  %-6s  发给 %5d / %-5d  已发 %-5d 送达 %-5d 没发成 %-4d  %s", (long long)b->id, when,
	    strcmp(b->kind, "market") == 0 ? "赶集提醒" : "群发", broadcast_status_name(b->status),
	    n.total - n.skipped - n.cancelled, n.total, n.sent + n.delivered, n.delivered, n.failed, b->created_by);
	if (*b->approved_by)
		printf(" / %s", b->approved_by);
	putchar('\n');
	return 0;
}

static int list(struct ctl *c, int argc)
{
	if (argc != 1)
		return 2;
	if (ctl_store(c) == NULL)
		return 1;
	printf(
	    "编号  建立时间          类别      状态    人数（发给 / 名单）  发送情况                              建立人 / 批准人\n");
	return store_broadcast_each(c->st, 0, print_row, c) < 0 ? 1 : 0;
}

struct shown {
	bool found;
	struct store_broadcast b;
	char *text, *audience, *status, *created_by, *approved_by, *kind;
};

static int take_shown(const struct store_broadcast *b, void *arg)
{
	struct shown *s = arg;

	s->found = true;
	s->b = *b;
	s->text = xstrdup(b->text);
	s->audience = xstrdup(b->audience);
	s->status = xstrdup(b->status);
	s->created_by = xstrdup(b->created_by);
	s->approved_by = xstrdup(b->approved_by);
	s->kind = xstrdup(b->kind);
	return 1;
}

static int print_recipient(const struct store_recipient *r, void *arg)
{
	bool all = *(bool *)arg;

	if (all || strcmp(r->state, "failed") == 0 || strcmp(r->state, "skipped") == 0)
		printf("  %5d  %-16s %-8s %s\n", r->seq, r->phone, broadcast_status_name(r->state),
		    strcmp(r->reason, "opted out") == 0            ? "已退订"
			: strcmp(r->reason, "invalid number") == 0 ? "号码无效"
								   : r->reason);
	return 0;
}

static int show(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = { { "recipients", no_argument, NULL, 'r' }, { NULL, 0, NULL, 0 } };
	struct shown s;
	struct store_bcast_counts n;
	bool all = false;
	char when[40];
	int64_t id;
	int ch;

	optind = 0; /* 0: glibc starts afresh (main parsed with "+", which would stop at N) */
	while ((ch = getopt_long(argc, argv, "r", opts, NULL)) != -1) {
		if (ch != 'r')
			return 2;
		all = true;
	}
	if (optind + 1 != argc || !id_arg(argv[optind], &id))
		return 2;
	if (ctl_store(c) == NULL)
		return 1;
	memset(&s, 0, sizeof(s));
	if (store_broadcast_each(c->st, id, take_shown, &s) < 0 || store_broadcast_counts(c->st, id, &n) < 0)
		return 1;
	if (!s.found) {
		fprintf(stderr, "hotlinectl: 没有编号为 %lld 的群发\n", (long long)id);
		return 1;
	}
	printf("群发 %lld（%s）：%s\n", (long long)id, strcmp(s.kind, "market") == 0 ? "赶集提醒" : "群发",
	    broadcast_status_name(s.status));
	printf("内容：%s\n", s.text);
	printf("发给：%s\n", s.audience);
	printf("建立：%s，%s\n", ctl_iso(s.b.created_at, when, sizeof(when)), s.created_by);
	if (*s.approved_by)
		printf("批准：%s，%s\n", ctl_iso(s.b.approved_at, when, sizeof(when)), s.approved_by);
	printf("最早：%s\n", ctl_iso(s.b.start_at, when, sizeof(when)));
	if (s.b.done_at)
		printf("结束：%s\n", ctl_iso(s.b.done_at, when, sizeof(when)));
	printf("名单：%d 人\n", n.total);
	printf("  待发 %d，已排队 %d，发送中 %d，已发出 %d，已送达 %d，没发成 %d，不发 %d，已取消 %d\n", n.pending,
	    n.queued, n.sending, n.sent, n.delivered, n.failed, n.skipped, n.cancelled);
	if (all || n.failed || n.skipped)
		printf("%s：\n", all ? "每个人" : "没发成的和不发的，及原因");
	store_broadcast_recipients(c->st, id, 0, 0, print_recipient, &all);
	free(s.text);
	free(s.audience);
	free(s.status);
	free(s.created_by);
	free(s.approved_by);
	free(s.kind);
	return 0;
}

int ctl_broadcast(struct ctl *c, int argc, char **argv)
{
	int rc = 2;
	const char *sub = argc >= 2 ? argv[1] : "";

	if (strcmp(sub, "create") == 0) {
		rc = create(c, argc - 1, argv + 1);
	} else if (strcmp(sub, "preview") == 0) {
		int64_t id;
		if (argc == 3 && id_arg(argv[2], &id))
			rc = ctl_store(c) == NULL ? 1 : print_preview(c, id);
	} else if (strcmp(sub, "approve") == 0) {
		rc = action(c, argc - 1, argv + 1, broadcast_approve, true);
	} else if (strcmp(sub, "pause") == 0) {
		rc = action(c, argc - 1, argv + 1, broadcast_pause, false);
	} else if (strcmp(sub, "resume") == 0) {
		rc = action(c, argc - 1, argv + 1, broadcast_resume, false);
	} else if (strcmp(sub, "cancel") == 0) {
		rc = action(c, argc - 1, argv + 1, broadcast_cancel, false);
	} else if (strcmp(sub, "list") == 0) {
		rc = list(c, argc - 1);
	} else if (strcmp(sub, "show") == 0) {
		rc = show(c, argc - 1, argv + 1);
	}
	if (rc == 2)
		fprintf(stderr,
		    "usage: hotlinectl [-c FILE] broadcast create --text TEXT --to AUDIENCE [--at TIME] --by NAME\n"
		    "       hotlinectl [-c FILE] broadcast preview N\n"
		    "       hotlinectl [-c FILE] broadcast approve N --by NAME\n"
		    "       hotlinectl [-c FILE] broadcast pause|resume|cancel N [--by NAME]\n"
		    "       hotlinectl [-c FILE] broadcast list\n"
		    "       hotlinectl [-c FILE] broadcast show N [--recipients]\n"
		    "  AUDIENCE: group:低保户,town:白水镇,village:东关村,phone:13912345678 (one kind widens, two kinds\n"
		    "  narrow: the 低保户 of 白水镇; phone: adds numbers). TEXT may use {name} {town} {village}\n"
		    "  {office.*} and the menus' values ({amount.dibao_city}). Over broadcast.approval_over recipients\n"
		    "  a supervisor other than the author approves. TIME: 2026-12-03 or \"2026-12-03 09:30\".\n");
	return rc;
}
