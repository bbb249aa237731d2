/*
 * inject: put one inbound SMS into a dummy phone's inbox through
 * gsm_dummy_inject() (libgammu's own encoder and backup writer), for
 * end-to-end tests and stress scripts.
 *
 *   inject [--ucs2] [--ref16] [--ref N] [--skip N] [--reverse] [--flash]
 *          [--binary] [--status-report] [--time UNIX] DIR SENDER TEXT
 *
 *   --ucs2           UCS-2 even when the text fits GSM-7
 *   --ref16          16-bit concatenation reference
 *   --ref N          concatenation reference (default: random); for
 *                    --status-report the message reference reported on
 *   --skip N         do not write part N (1-based; may be repeated): a part
 *                    that never comes
 *   --reverse        write the parts last first
 *   --flash          class 0 (flash) message
 *   --binary         8-bit data: TEXT is taken as raw bytes
 *   --status-report  a status report ("delivered") instead of a message
 *   --time UNIX      SMSC time stamp, unix seconds (default: now)
 *
 * Prints the number of parts written. Exit 0, 1 on a failure, 2 on bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsm.h"
#include "util.h"

static void usage(void)
{
	fprintf(stderr, "usage: inject [--ucs2] [--ref16] [--ref N] [--skip N] [--reverse] [--flash] [--binary]"
			" [--status-report] [--time UNIX] DIR SENDER TEXT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ucs2", no_argument, NULL, 'u' },
		{ "ref16", no_argument, NULL, 'R' },
		{ "ref", required_argument, NULL, 'r' },
		{ "skip", required_argument, NULL, 's' },
		{ "reverse", no_argument, NULL, 'v' },
		{ "flash", no_argument, NULL, 'f' },
		{ "binary", no_argument, NULL, 'b' },
		{ "status-report", no_argument, NULL, 'S' },
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gsm_inject_opts o;
	long long v;
	char err[256];
	int ch, parts = 0;

	gsm_inject_defaults(&o);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			o.force_ucs2 = true;
			break;
		case 'R':
			o.ref16 = true;
			break;
		case 'r':
			if (!parse_int(optarg, 0, 65535, &v))
				usage();
			o.concat_ref = (int)v;
			break;
		case 's':
			if (!parse_int(optarg, 1, 32, &v))
				usage();
			o.skip_parts |= 1u << (v - 1);
			break;
		case 'v':
			o.reverse = true;
			break;
		case 'f':
			o.msg_class = 0;
			break;
		case 'b':
			o.binary = true;
			break;
		case 'S':
			o.status_report = true;
			break;
		case 't':
			if (!parse_int(optarg, 1, INT64_MAX, &v))
				usage();
			o.smsc_time = (int64_t)v;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3)
		usage();
	if (!o.ref16 && o.concat_ref > 255) {
		fprintf(stderr, "inject: --ref %d needs --ref16\n", o.concat_ref);
		return 2;
	}
	if (gsm_dummy_inject(argv[optind], argv[optind + 1], argv[optind + 2], &o, &parts, err, sizeof(err)) != GSM_OK) {
		fprintf(stderr, "inject: %s\n", err);
		return 1;
	}
	printf("%d\n", parts);
	return 0;
}
