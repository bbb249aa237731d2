/*
 * hotlinectl: the staff and admin tool. One subcommand per job; see usage().
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"

#ifndef HOTLINE_DEFAULT_CONFIG
#define HOTLINE_DEFAULT_CONFIG "config/hotline.cfg"
#endif

static const struct {
	const char *name;
	int (*fn)(struct ctl *c, int argc, char **argv);
	const char *help;
} commands[] = {
	{ "sim", ctl_sim, "chat with the menus in a terminal (--batch for scripts)" },
	{ "messages", ctl_messages, "the message log (--phone, --format tsv|csv)" },
	{ "menu", ctl_menu, "menu check | menu show" },
	{ "dummy-sms", ctl_dummy_sms, "put an SMS into a dummy modem's inbox: dummy-sms PHONE TEXT" },
	{ "modem", ctl_modem, "modem status | modem ussd NAME CODE | modem scan [DEVICE...]" },
	{ "purge", ctl_purge, "erase message texts older than retention.message_days" },
	{ "cases", ctl_cases, "cases list | show N | assign N STAFF | set-status N STATUS [--note TEXT]" },
	{ "feedback", ctl_feedback, "feedback list [--from DATE --to DATE] [--format tsv|csv]" },
	{ "report", ctl_report, "the bureau's figures [--from DATE --to DATE] [--format csv]" },
	{ "user", ctl_user, "console accounts: user add NAME --role ROLE [--staff PHONE] | passwd | disable | enable | list" },
	{ "audit", ctl_audit, "the console's audit log, newest first [--limit N]" },
	{ "contacts", ctl_contacts, "contacts import FILE.csv|FILE.xlsx [--group G] | list | show PHONE | export" },
	{ "groups", ctl_groups, "the contact groups and how many are in each" },
	{ "broadcast", ctl_broadcast, "broadcast create --text T --to AUDIENCE [--at TIME] --by NAME | preview N | approve N"
	    " | pause N | resume N | cancel N | list | show N" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hotlinectl [-c FILE] COMMAND [ARGS]\n\n"
		   "  -c FILE   the configuration (default: $HOTLINE_CONFIG or %s)\n\ncommands:\n",
	    HOTLINE_DEFAULT_CONFIG);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
	struct ctl c = { 0 };
	int ch, rc;

	c.config_path = getenv("HOTLINE_CONFIG") ? getenv("HOTLINE_CONFIG") : HOTLINE_DEFAULT_CONFIG;
	log_init(LOG_LVL_WARN, true);
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

	while ((ch = getopt_long(argc, argv, "+c:hv", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.config_path = optarg;
			break;
		case 'v':
			log_init(LOG_LVL_DEBUG, true);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, argv[optind]) == 0) {
			/* SUB --help (or -h): the subcommand's usage on stdout, and success */
			for (int a = optind + 1; a < argc; a++)
				if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
					char *help_argv[] = { argv[optind], (char *)"--help", NULL };
					printf("%s: %s\n\n", commands[i].name, commands[i].help);
					fflush(stdout);
					if (dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
						return 1;
					rc = commands[i].fn(&c, 2, help_argv);
					ctl_done(&c);
					return rc == 2 || rc == 0 ? 0 : rc;
				}
			rc = commands[i].fn(&c, argc - optind, argv + optind);
			ctl_done(&c);
			return rc;
		}
	}
	fprintf(stderr, "hotlinectl: 没有“%s”这个命令\n\n", argv[optind]);
	usage(stderr);
	return 2;
}
