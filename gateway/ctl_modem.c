/*
 * hotlinectl modem status | modem ussd NAME CODE, and hotlinectl purge.
 * The daemon owns the modems (a serial port has one user), so a USSD query is
 * left in the database for the modem's thread, which answers there.
 */
#include "ctl.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "maintenance.h"
#include "store_modem.h"
#include "util.h"

static int print_modem(const struct store_modem_row *r, void *arg)
{
	char since[40], bal_at[40], updated[40];

	(void)arg;
	ctl_iso(r->since, since, sizeof(since));
	ctl_iso(r->updated_at, updated, sizeof(updated));
	printf("%s\n", r->modem);
	printf("  在线状态  %s（%s，%.19s 起）\n", strcmp(r->state, "ready") == 0 ? "在线" : "不在线", r->state, since);
	if (r->signal >= 0)
		printf("  信号强度  %d%%\n", r->signal);
	else
		printf("  信号强度  不知道\n");
	printf("  所在网络  %s\n", *r->network ? r->network : "不知道");
	if (r->battery >= 0)
		printf("  电池电量  %d%%\n", r->battery);
	if (!isnan(r->balance)) {
		ctl_iso(r->balance_at, bal_at, sizeof(bal_at));
		printf("  话费余额  %.2f（%.19s 查的）\n", r->balance, bal_at);
	} else {
		printf("  话费余额  没查（modems[].balance_code）\n");
	}
	printf("  今天收发  收 %d 条，发 %d 条\n", r->received_today, r->sent_today);
	if (r->resets)
		printf("  重新连接  %d 次\n", r->resets);
	if (*r->error && strcmp(r->state, "ready") != 0)
		printf("  最近错误  %s\n", r->error);
	printf("  记录时间  %.19s\n", updated);
	return 0;
}

static int modem_status(struct ctl *c)
{
	if (ctl_store(c) == NULL)
		return 1;
	if (store_modem_each(c->st, ctl_today(), print_modem, NULL) < 0)
		return 1;
	return 0;
}

/*
 * Does a hotlined answer on the configured HTTP address? A refused connection
 * means none runs, and nobody would ever take the request. True when HTTP is
 * off (nothing to tell by).
 */
static bool daemon_answers(const struct config *cfg)
{
	struct addrinfo hints, *ai = NULL;
	char port[16];
	bool up = false;

	if (!cfg->http_enabled)
		return true;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", cfg->http_port);
	if (getaddrinfo(strcmp(cfg->http_address, "0.0.0.0") == 0 ? "127.0.0.1" : cfg->http_address, port, &hints,
	    &ai) != 0)
		return true;
	for (struct addrinfo *a = ai; a && !up; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		up = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
		close(fd);
	}
	freeaddrinfo(ai);
	return up;
}

static int modem_ussd(struct ctl *c, const char *name, const char *code)
{
	int64_t id, deadline;
	bool known = false;

	if (ctl_world(c) == NULL || ctl_store(c) == NULL)
		return 1;
	for (size_t i = 0; i < c->w->cfg->nmodems; i++)
		known |= strcmp(c->w->cfg->modems[i].name, name) == 0;
	if (!known) {
		fprintf(stderr, "hotlinectl modem ussd: %s 里没有叫 %s 的短信猫\n", c->config_path, name);
		return 1;
	}
	if (!daemon_answers(c->w->cfg)) {
		fprintf(stderr, "hotlinectl modem ussd: hotlined 没有运行（%s:%d 无应答），无法查询。请先启动 hotlined。\n",
		    c->w->cfg->http_address, c->w->cfg->http_port);
		return 1;
	}
	if (store_modem_request_add(c->st, name, "ussd", code, &id) < 0)
		return 1;
	deadline = mono_ms() + 60000;
	while (mono_ms() < deadline) {
		char status[16], *answer = NULL;
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		if (store_modem_request_get(c->st, id, status, sizeof(status), &answer) < 0)
			return 1;
		if (strcmp(status, "pending") != 0) {
			bool ok = strcmp(status, "done") == 0;
			printf("%s\n", answer ? answer : "");
			if (!ok)
				fprintf(stderr, "hotlinectl modem ussd: 查询没成功\n");
			free(answer);
			return ok ? 0 : 1;
		}
		free(answer);
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "hotlinectl modem ussd: 60 秒没有回答：hotlined 在运行吗？%s 连上了吗？\n", name);
	return 1;
}

int ctl_modem(struct ctl *c, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "status") == 0)
		return modem_status(c);
	if (argc == 4 && strcmp(argv[1], "ussd") == 0)
		return modem_ussd(c, argv[2], argv[3]);
	if (argc >= 2 && strcmp(argv[1], "scan") == 0)
		return ctl_modem_scan(c, argc - 2, argv + 2);
	fprintf(stderr, "usage: hotlinectl [-c FILE] modem status\n"
			"       hotlinectl [-c FILE] modem ussd NAME CODE   (e.g. modem ussd m1 '*100#')\n"
			"       hotlinectl modem scan [DEVICE...]\n"
			"  status: each modem's connection, signal, network, balance, today's messages\n"
			"  ussd: asks the running hotlined to dial CODE on modem NAME and prints the answer\n"
			"  scan: the serial devices that answer AT (all of /dev/serial/by-id, ttyUSB*, ttyACM*,\n"
			"        or those given), with the stable by-id name for `device`, maker and model;\n"
			"        stop hotlined first: it would be disturbed on a port it uses\n");
	return 2;
}

int ctl_purge(struct ctl *c, int argc, char **argv)
{
	struct ctx cx;
	int n = 0;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: hotlinectl [-c FILE] purge\n"
				"  erase message texts older than retention.message_days (cases stay)\n");
		return 2;
	}
	if (ctl_store(c) == NULL)
		return 1;
	if (c->w->cfg->retention_days <= 0) {
		printf("retention.message_days 是 0：短信内容都留着，什么也没删\n");
		return 0;
	}
	memset(&cx, 0, sizeof(cx));
	cx.st = c->st;
	cx.cfg = c->w->cfg;
	cx.menu = c->w->menu;
	cx.now = now_unix();
	if (maintenance_purge(&cx, &n) < 0)
		return 1;
	printf("已删掉 %d 条超过 %d 天的短信的内容\n", n, c->w->cfg->retention_days);
	return 0;
}
