/* hotlinectl contacts import|list|show|export, hotlinectl groups. */
#include "ctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "contacts.h"
#include "phone.h"
#include "roster.h"
#include "store_contacts.h"
#include "util.h"

static int import(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "group", required_argument, NULL, 'g' }, { NULL, 0, NULL, 0 },
	};
	struct roster_table t;
	struct contacts_import r;
	const char *group = NULL;
	char err[512];
	int ch, rc;

	optind = 0; /* 0: glibc starts afresh (main parsed with "+", which would stop at N) */
	while ((ch = getopt_long(argc, argv, "g:", opts, NULL)) != -1) {
		if (ch != 'g')
			return 2;
		group = optarg;
	}
	if (optind + 1 != argc)
		return 2;
	if (ctl_store(c) == NULL)
		return 1;
	if (roster_read(argv[optind], &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		return 1;
	}
	rc = contacts_import_table(c->st, &t, group, c->w->cfg->phone_country, now_unix(), &r, err, sizeof(err));
	roster_free(&t);
	if (rc < 0) {
		fprintf(stderr, "hotlinectl: %s: %s\n", argv[optind], err);
		contacts_import_free(&r);
		return 1;
	}
	if (r.report.len)
		fprintf(stderr, "%s", buf_str(&r.report));
	printf("%s（%s）：%d 行，新增 %d 人，更新 %d 人，没导入 %d 行\n", argv[optind], r.encoding, r.rows, r.added,
	    r.updated, r.bad);
	rc = r.bad > 0 ? 1 : 0;
	contacts_import_free(&r);
	return rc;
}

enum fmt { FMT_TABLE, FMT_TSV, FMT_CSV };

static int print_contact(const struct store_contact *k, void *arg)
{
	enum fmt *f = arg;
	char when[40] = "";
	const char *cols[] = { k->phone, k->name, k->town, k->village, k->groups, k->source,
		k->opted_out ? "opted-out" : "", when };

	if (k->opted_out)
		ctl_iso(k->opted_out_at, when, sizeof(when));
	if (*f == FMT_TABLE) {
		printf("%-12s %-8s %-10s %-10s %-20s %-9s %s\n", k->phone, *k->name ? k->name : "-",
		    *k->town ? k->town : "-", *k->village ? k->village : "-", *k->groups ? k->groups : "-", k->source,
		    k->opted_out ? "退订" : "");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_LEN(cols); i++) {
		if (i)
			putchar(*f == FMT_CSV ? ',' : '\t');
		if (*f == FMT_CSV)
			ctl_csv_field(stdout, cols[i], strlen(cols[i]));
		else
			ctl_tsv_field(stdout, cols[i], strlen(cols[i]));
	}
	fputs(*f == FMT_CSV ? "\r\n" : "\n", stdout);
	return 0;
}

static int list(struct ctl *c, int argc, char **argv, bool export)
{
	static const struct option opts[] = {
		{ "group", required_argument, NULL, 'g' }, { "town", required_argument, NULL, 't' },
		{ "village", required_argument, NULL, 'v' }, { "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_contact_filter f = { 0 };
	enum fmt fmt = export ? FMT_CSV : FMT_TABLE;
	int ch;

	optind = 0; /* 0: glibc starts afresh (main parsed with "+", which would stop at N) */
	while ((ch = getopt_long(argc, argv, "g:t:v:f:", opts, NULL)) != -1) {
		switch (ch) {
		case 'g':
			f.group = optarg;
			break;
		case 't':
			f.town = optarg;
			break;
		case 'v':
			f.village = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "tsv") == 0)
				fmt = FMT_TSV;
			else if (strcmp(optarg, "csv") == 0)
				fmt = FMT_CSV;
			else if (strcmp(optarg, "table") == 0 && !export)
				fmt = FMT_TABLE;
			else
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc)
		return 2;
	if (ctl_store(c) == NULL)
		return 1;
	if (fmt == FMT_CSV) {
		/* the header in the words a roster uses, so that an export imports again as it is */
		ctl_csv_bom(stdout);
		fputs("手机号,姓名,乡镇,村,类别,来源,退订,退订时间\r\n", stdout);
	} else if (fmt == FMT_TSV) {
		fputs("phone\tname\ttown\tvillage\tgroups\tsource\topted_out\topted_out_at\n", stdout);
	}
	return store_contact_each(c->st, &f, print_contact, &fmt) < 0 ? 1 : 0;
}

static int show_one(const struct store_contact *k, void *arg)
{
	char when[40];

	*(int *)arg += 1;
	printf("电话：%s\n姓名：%s\n乡镇：%s\n村：  %s\n类别：%s\n来源：%s\n", k->phone, k->name, k->town, k->village,
	    k->groups, k->source);
	printf("加入：%s\n", ctl_iso(k->created_at, when, sizeof(when)));
	printf("更新：%s\n", ctl_iso(k->updated_at, when, sizeof(when)));
	if (k->opted_out)
		printf("退订：%s\n", ctl_iso(k->opted_out_at, when, sizeof(when)));
	else
		printf("退订：没有\n");
	return 1;
}

static int show(struct ctl *c, int argc, char **argv)
{
	struct store_contact_filter f = { 0 };
	char key[PHONE_LEN];
	const char *why;
	int n = 0;

	if (argc != 2)
		return 2;
	if (ctl_store(c) == NULL)
		return 1;
	if (!contacts_phone(argv[1], c->w->cfg->phone_country, key, sizeof(key), &why)) {
		fprintf(stderr, "hotlinectl: %s: %s\n", argv[1], why);
		return 1;
	}
	f.phone = key;
	if (store_contact_each(c->st, &f, show_one, &n) < 0)
		return 1;
	if (n == 0) {
		fprintf(stderr, "hotlinectl: 联系人里没有 %s\n", key);
		return 1;
	}
	return 0;
}

int ctl_contacts(struct ctl *c, int argc, char **argv)
{
	int rc = 2;

	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		rc = import(c, argc - 1, argv + 1);
	else if (argc >= 2 && strcmp(argv[1], "list") == 0)
		rc = list(c, argc - 1, argv + 1, false);
	else if (argc >= 2 && strcmp(argv[1], "export") == 0)
		rc = list(c, argc - 1, argv + 1, true);
	else if (argc >= 2 && strcmp(argv[1], "show") == 0)
		rc = show(c, argc - 1, argv + 1);
	if (rc == 2)
		fprintf(stderr,
		    "usage: hotlinectl [-c FILE] contacts import FILE.csv|FILE.xlsx [--group G]\n"
		    "       hotlinectl [-c FILE] contacts list [--group G] [--town T] [--village V] [--format table|tsv|csv]\n"
		    "       hotlinectl [-c FILE] contacts export [--group G] [--town T] [--village V] > contacts.csv\n"
		    "       hotlinectl [-c FILE] contacts show PHONE\n"
		    "  import: CSV in UTF-8 or GB18030/GBK (detected), or .xlsx (its first sheet); the header row names\n"
		    "  the columns (姓名, 电话/手机号, 乡镇, 村, 类别); a row is imported whole or reported by its line;\n"
		    "  a number already there is updated, not added again. Exit 1 when some rows were not imported.\n");
	return rc;
}

static int print_group(const char *grp, int n, int opted_out, void *arg)
{
	(void)arg;
	printf("%-16s %6d 人，%d 人已退订\n", grp, n, opted_out);
	return 0;
}

int ctl_groups(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: hotlinectl [-c FILE] groups\n");
		return 2;
	}
	if (ctl_store(c) == NULL)
		return 1;
	return store_contact_groups(c->st, print_group, NULL) < 0 ? 1 : 0;
}
