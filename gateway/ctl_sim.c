/*
 * hotlinectl sim: chat with the menus without a modem, on the real engine
 * and a real (throw-away unless --db) database.
 */
#include "ctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "log.h"
#include "phone.h"
#include "store_messages.h"

struct sim {
	struct ctl *ctl;
	struct store *st;
	bool batch, limits;
	int64_t last_out; /* outbound messages already shown */
	const char *me;   /* the phone whose replies are "the" reply */
};

/* Other messages queued by this step (staff alerts, notifications), for the interactive view. */
static int show_other(const struct store_msg *m, void *arg)
{
	struct sim *s = arg;

	if (m->id > s->last_out)
		s->last_out = m->id;
	if (m->direction != DIRECTION_OUT || m->kind == MSG_KIND_REPLY)
		return 0;
	printf("    [发给 %s 的短信] %.*s\n", m->phone, (int)m->text_len, m->text);
	return 0;
}

/* dispatch's reasons are for the log; the office reads these */
static const char *silent_zh(const char *why)
{
	static const char *const zh[][2] = {
		{ "not a text message", "不是文字短信" },
		{ "sender is not a phone number (short code or name)", "发信方不是手机号（短号或名字）" },
		{ "sender is one of our own modems", "发信方是我们自己的短信猫" },
		{ "the same text again within limits.repeat_window", "同一句话重复发（limits.repeat_window 之内）" },
		{ "over limits.replies_per_day", "超过每天回复条数（limits.replies_per_day）" },
		{ "over limits.replies_per_minute", "超过每分钟回复条数（limits.replies_per_minute）" },
	};

	if (why == NULL)
		return "?";
	for (size_t i = 0; i < sizeof(zh) / sizeof(zh[0]); i++)
		if (strcmp(why, zh[i][0]) == 0)
			return zh[i][1];
	return why;
}

static int step(struct sim *s, const char *phone, const char *text, size_t len)
{
	struct world *w = s->ctl->w;
	struct ctx c = { s->st, w->cfg, w->menu, now_unix(), NULL, s->limits ? 0 : CTX_NO_LIMITS };
	char sender[PHONE_LEN];
	struct inbound in = { CHANNEL_SMS, sender, text, len, 1, MSG_KIND_TEXT, 0, NULL, NULL };
	struct dispatch_result r;

	/* the sender as the modem edge gives it: normalised, whatever it is */
	phone_normalise(phone, w->cfg->phone_country, sender, sizeof(sender));
	if (store_begin(s->st) < 0)
		return -1;
	if (dispatch_inbound(&c, &in, &r) < 0) {
		store_rollback(s->st);
		return -1;
	}
	if (store_commit(s->st) < 0) {
		dispatch_result_free(&r);
		return -1;
	}
	if (s->batch) {
		fputs(phone, stdout);
		fputc('\t', stdout);
		fputs(*r.node ? r.node : "-", stdout);
		fputc('\t', stdout);
		if (r.reply)
			ctl_tsv_field(stdout, r.reply, strlen(r.reply));
		fputc('\n', stdout);
	} else {
		if (r.reply)
			printf("[%s] %s\n", r.node, r.reply);
		else
			printf("（不回复：%s）\n", silent_zh(r.why_silent));
		struct store_msg_filter f = { 0 };
		f.after_id = s->last_out;
		store_msg_each(s->st, &f, show_other, s);
	}
	fflush(stdout);
	dispatch_result_free(&r);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
	    "usage: hotlinectl [-c FILE] sim [--batch] [--db PATH] [--phone PHONE] [--limits]\n"
	    "  interactive: type what a villager would text; --phone sets the sender\n"
	    "  --batch: read PHONE<TAB>TEXT lines, print PHONE<TAB>NODE<TAB>REPLY lines\n"
	    "  --db: keep the conversation in this database (default: a throw-away one)\n"
	    "  --limits: apply the flood and loop limits (off by default)\n");
}

int ctl_sim(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "batch", no_argument, NULL, 'b' },
		{ "db", required_argument, NULL, 'd' },
		{ "phone", required_argument, NULL, 'p' },
		{ "limits", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim s = { ctl, NULL, false, false, 0, "13800000000" };
	const char *db = NULL;
	char tmpl[] = "/tmp/hotline-sim-XXXXXX";
	char *tmpdir = NULL, *path = NULL, err[512];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ch, rc = 0;
	struct store_opts o = { 0 };

	optind = 1;
	while ((ch = getopt_long(argc, argv, "bd:p:lh", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			s.batch = true;
			break;
		case 'd':
			db = optarg;
			break;
		case 'p':
			s.me = optarg;
			break;
		case 'l':
			s.limits = true;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	if (ctl_world(ctl) == NULL)
		return 1;
	if (db == NULL) {
		tmpdir = mkdtemp(tmpl);
		if (tmpdir == NULL) {
			perror("hotlinectl sim: mkdtemp");
			return 1;
		}
		path = xasprintf("%s/sim.db", tmpdir);
	} else {
		path = xstrdup(db);
	}
	o.create = true;
	o.migrate = true;
	o.synchronous = "normal";
	o.country = ctl->w->cfg->phone_country;
	if (store_open(path, &o, &s.st, err, sizeof(err)) < 0) {
		fprintf(stderr, "hotlinectl sim: %s\n", err);
		rc = 1;
		goto out;
	}
	if (!s.batch)
		printf("以 %s 的身份给热线发短信。输入一条短信按回车；按 Ctrl-D 结束。\n> ", s.me);
	fflush(stdout);
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		size_t len = (size_t)n;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (s.batch) {
			char *tab = memchr(line, '\t', len);
			if (len == 0 || line[0] == '#')
				continue;
			if (tab == NULL) {
				fprintf(stderr, "hotlinectl sim: 这一行不是“号码<TAB>短信”：%s\n", line);
				rc = 1;
				continue;
			}
			*tab = '\0';
			if (step(&s, line, tab + 1, len - (size_t)(tab + 1 - line)) < 0) {
				rc = 1;
				break;
			}
		} else {
			if (step(&s, s.me, line, len) < 0) {
				rc = 1;
				break;
			}
			printf("> ");
			fflush(stdout);
		}
	}
	if (!s.batch)
		printf("\n");
out:
	free(line);
	store_close(s.st);
	if (tmpdir) {
		char *f;
		const char *suffixes[] = { "", "-wal", "-shm" };
		for (size_t i = 0; i < 3; i++) {
			f = xasprintf("%s%s", path, suffixes[i]);
			unlink(f);
			free(f);
		}
		rmdir(tmpdir);
	}
	free(path);
	return rc;
}
