/* hotlinectl messages: the message log, for staff and for tests. */
#include "ctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "phone.h"
#include "store_kannel.h"
#include "store_messages.h"
#include "util.h"

enum fmt { FMT_TABLE, FMT_TSV, FMT_CSV };

struct out {
	enum fmt fmt;
	struct store *st;
};

static int print_msg(const struct store_msg *msg, void *arg)
{
	struct out *o = arg;
	enum fmt *f = &o->fmt;
	const struct store_msg *m = msg;
	const char *channel = channel_name(m->channel), *direction = direction_name(m->direction);
	const char *status = msg_status_name(m->status);
	char when[40], delivery[32] = "";

	/* a sent message with a delivery report shows what the report says: delivered, failed … */
	if (m->direction == DIRECTION_OUT && m->status == MSG_STATUS_SENT &&
	    store_delivery_get(o->st, m->id, delivery, sizeof(delivery)) == 0 && *delivery)
		status = delivery;
	ctl_iso(m->created_at, when, sizeof(when));
	if (*f == FMT_CSV) {
		const char *cols[] = { when, channel, direction, m->phone, status, m->node };
		printf("%lld", (long long)m->id);
		for (size_t i = 0; i < ARRAY_LEN(cols); i++) {
			putchar(',');
			ctl_csv_field(stdout, cols[i], strlen(cols[i]));
		}
		putchar(',');
		ctl_csv_field(stdout, m->text, m->text_len);
		fputs("\r\n", stdout);
		return 0;
	}
	if (*f == FMT_TSV) {
		const char *cols[] = { when, channel, direction, m->phone, status, m->node };
		printf("%lld", (long long)m->id);
		for (size_t i = 0; i < ARRAY_LEN(cols); i++) {
			putchar('\t');
			ctl_tsv_field(stdout, cols[i], strlen(cols[i]));
		}
		putchar('\t');
		ctl_tsv_field(stdout, m->text, m->text_len);
		putchar('\n');
		return 0;
	}
	printf("%6lld  %.19s  %-4s %-3s %-15s %-8s %-14s ", (long long)m->id, when, channel, direction, m->phone,
	    status, *m->node ? m->node : "-");
	ctl_tsv_field(stdout, m->text, m->text_len);
	putchar('\n');
	return 0;
}

static int lowest_id(const struct store_msg *m, void *arg)
{
	int64_t *low = arg;

	if (*low == 0 || m->id < *low)
		*low = m->id;
	return 0;
}

int ctl_messages(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "phone", required_argument, NULL, 'p' }, { "format", required_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'n' }, { "channel", required_argument, NULL, 'C' },
		{ "since", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_msg_filter f = { 0 };
	struct out o = { FMT_TABLE, NULL };
	enum fmt fmt = FMT_TABLE;
	char phone[PHONE_LEN];
	long long v;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "p:f:n:C:s:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			f.phone = optarg;
			break;
		case 'C':
			f.channel = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "tsv") == 0)
				fmt = FMT_TSV;
			else if (strcmp(optarg, "csv") == 0)
				fmt = FMT_CSV;
			else if (strcmp(optarg, "table") == 0)
				fmt = FMT_TABLE;
			else {
				fprintf(stderr, "hotlinectl messages: --format \"%s\" 不认识：可用 table、tsv 或 csv\n", optarg);
				return 2;
			}
			break;
		case 'n':
			if (!parse_int(optarg, 1, 10000000, &v)) {
				fprintf(stderr, "hotlinectl messages: --limit \"%s\" 不是 1 到 10000000 之间的数\n", optarg);
				return 2;
			}
			f.limit = (int)v;
			break;
		case 's':
			if ((v = ctl_parse_date(optarg)) < 0) {
				fprintf(stderr, "hotlinectl messages: --since \"%s\" 不是日期：请写成 2026-11-28 或 2026-11-28 15:00\n",
				    optarg);
				return 2;
			}
			f.since = v;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	if (f.phone) {
		if (!ctl_phone(c, "messages", f.phone, phone, sizeof(phone)))
			return 1;
		f.phone = phone;
	}
	if (ctl_store(c) == NULL)
		return 1;
	if (fmt == FMT_CSV) {
		ctl_csv_bom(stdout);
		fputs("id,time,channel,direction,phone,status,node,text\r\n", stdout);
	}
	if (f.limit > 0) {
		/* the newest N, shown in the same order as without --limit (oldest first) */
		struct store_msg_filter newest = f;
		int64_t low = 0;
		newest.newest_first = true;
		if (store_msg_each(c->st, &newest, lowest_id, &low) < 0)
			return 1;
		if (low == 0)
			return 0;
		f.after_id = low - 1;
		f.limit = 0;
	}
	o.fmt = fmt;
	o.st = c->st;
	return store_msg_each(c->st, &f, print_msg, &o) < 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: hotlinectl [-c FILE] messages [--phone P] [--channel sms|ussd] [--since DATE]\n"
			"                  [--limit N] [--format table|tsv|csv]\n"
			"  tsv columns: id, time (ISO 8601), channel, direction (in/out), phone, status, node, text\n"
			"  status of a sent SMS with a delivery report: the report's (delivered, failed, buffered, ...)\n");
	return 2;
}
