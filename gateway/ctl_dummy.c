/*
 * hotlinectl dummy-sms: put an SMS into the inbox of a dummy modem (Gammu's
 * emulated phone), as if a villager had texted the hotline.
 */
#include "ctl.h"

#include <getopt.h>
#include <string.h>

#include "gsm.h"
#include "log.h"
#include "phone.h"

int ctl_dummy_sms(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "modem", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *modem = NULL;
	const struct modem_cfg *mc = NULL;
	struct gsm_inject_opts io;
	char err[256];
	char phone[PHONE_LEN], who[LOG_PHONE_BUF];
	int ch, parts = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
		if (ch == 'm')
			modem = optarg;
		else
			goto usage;
	}
	if (argc - optind != 2)
		goto usage;
	if (ctl_world(c) == NULL)
		return 1;
	for (size_t i = 0; i < c->w->cfg->nmodems; i++) {
		const struct modem_cfg *m = &c->w->cfg->modems[i];
		if (strcmp(m->model, "dummy") != 0)
			continue;
		if (modem == NULL || strcmp(m->name, modem) == 0) {
			mc = m;
			break;
		}
	}
	if (mc == NULL) {
		if (modem)
			fprintf(stderr, "hotlinectl dummy-sms: %s 里没有叫“%s”的模拟短信猫（model = \"dummy\"）\n",
			    c->config_path, modem);
		else
			fprintf(
			    stderr, "hotlinectl dummy-sms: %s 里没有模拟短信猫（model = \"dummy\"）\n", c->config_path);
		return 1;
	}
	if (!ctl_phone(c, "dummy-sms", argv[optind], phone, sizeof(phone)))
		return 1;
	gsm_inject_defaults(&io);
	if (gsm_dummy_inject(mc->device, phone, argv[optind + 1], &io, &parts, err, sizeof(err)) != GSM_OK) {
		fprintf(stderr, "hotlinectl dummy-sms: 没能放进收件箱：%s\n", err);
		return 1;
	}
	printf("短信已放进 %s 的收件箱（%s）：%d 段，发信人 %s\n", mc->name, mc->device, parts,
	    log_phone(phone, who, sizeof(who)));
	return 0;
usage:
	fprintf(stderr, "usage: hotlinectl [-c FILE] dummy-sms [--modem NAME] PHONE TEXT\n");
	return 2;
}
