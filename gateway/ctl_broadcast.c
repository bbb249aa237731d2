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
		fprintf(stderr, "hotlinectl: say who you are: --by NAME (a staff member in the config)\n");
	else if (s == NULL)
		fprintf(stderr, "hotlinectl: %s is not a staff member in the config\n", by);
	return s;
}

static int print_preview(struct ctl *c, int64_t id)
{
	struct ctx x;
	struct broadcast_preview p;

	ctx_of(c, &x);
	if (broadcast_preview(&x, id, modems_up(c), &p) < 0) {
		fprintf(stderr, "hotlinectl: no broadcast %lld\n", (long long)id);
		return 1;
	}
	printf("broadcast %lld: %d recipients", (long long)id, p.recipients);
	if (p.skipped_optout || p.skipped_invalid)
		printf(" (skipped: %d opted out, %d invalid numbers)", p.skipped_optout, p.skipped_invalid);
	printf("\nsegments: %d per message at most, %d in all\n", p.segments_max, p.segments_total);
	if (p.per_minute > 0)
		printf("time: about %lld min at %d per modem per minute on %d modem%s, inside %02d:%02d-%02d:%02d\n",
		    (long long)((p.seconds + 59) / 60), p.per_minute, p.modems_up, p.modems_up == 1 ? "" : "s",
		    x.cfg->bcast_allowed_hours.start / 60, x.cfg->bcast_allowed_hours.start % 60,
		    x.cfg->bcast_allowed_hours.end / 60, x.cfg->bcast_allowed_hours.end % 60);
	else
		printf("time: no rate limit (broadcast.per_modem_per_minute = 0)\n");
	for (int i = 0; i < p.nsamples; i++) {
		printf("--- to %s\n", p.sample_phone[i]);
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
				fprintf(stderr, "hotlinectl: --at %s: write 2026-12-03 or \"2026-12-03 09:30\"\n", optarg);
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
	printf("broadcast %lld created as a draft by %s\n", (long long)id, n.by);
	print_preview(c, id);
	if (broadcast_needs_supervisor(&x, id))
		printf("approve it with: hotlinectl broadcast approve %lld --by NAME (over %d recipients: a supervisor"
		       " other than %s)\n", (long long)id, x.cfg->bcast_approval_over, n.by);
	else
		printf("approve it with: hotlinectl broadcast approve %lld --by NAME\n", (long long)id);
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
	printf("broadcast %lld: %s\n", (long long)id, argv[0]);
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
	printf("%4lld  %.16s  %-9s %-9s %5d to %-5d sent %-5d delivered %-5d failed %-4d  %s", (long long)b->id, when,
	    b->kind, b->status, n.total - n.skipped - n.cancelled, n.total, n.sent + n.delivered, n.delivered, n.failed,
	    b->created_by);
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
	printf("  id  created           kind      status    recipients        counts                               by / approved by\n");
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
		printf("  %5d  %-16s %-10s %s\n", r->seq, r->phone, r->state, r->reason);
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
		fprintf(stderr, "hotlinectl: no broadcast %lld\n", (long long)id);
		return 1;
	}
	printf("broadcast %lld (%s): %s\n", (long long)id, s.kind, s.status);
	printf("text:      %s\n", s.text);
	printf("to:        %s\n", s.audience);
	printf("created:   %s by %s\n", ctl_iso(s.b.created_at, when, sizeof(when)), s.created_by);
	if (*s.approved_by)
		printf("approved:  %s by %s\n", ctl_iso(s.b.approved_at, when, sizeof(when)), s.approved_by);
	printf("not before: %s\n", ctl_iso(s.b.start_at, when, sizeof(when)));
	if (s.b.done_at)
		printf("ended:     %s\n", ctl_iso(s.b.done_at, when, sizeof(when)));
	printf("recipients: %d\n", n.total);
	printf("  pending %d, queued %d, sending %d, sent %d, delivered %d, failed %d, skipped %d, cancelled %d\n",
	    n.pending, n.queued, n.sending, n.sent, n.delivered, n.failed, n.skipped, n.cancelled);
	if (all || n.failed || n.skipped)
		printf("%s:\n", all ? "every recipient" : "failed and skipped, with the reason");
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
