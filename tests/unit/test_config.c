/*
 * config: the shipped config/hotline.cfg loads; every bad config in
 * tests/data/configs/ fails with exactly the `file:line: error: message`
 * lines its first comment lines announce (`# expect: LINE: message`, LINE
 * `-` when the message has no line; `# expect-warning:` for warnings), all
 * of them in one run; relative paths resolve against the config's folder;
 * defaults apply; reload notices restart-only changes.
 */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "diag.h"
#include "hl.h"

/*
 * p with "." and ".." folded away, lexically (no symlinks are involved under
 * the folders these tests use). Caller frees.
 */
static char *lexical(const char *p)
{
	char *out = malloc(strlen(p) + 2), *copy = strdup(p), *save = NULL;
	size_t n = 0;

	out[0] = '\0';
	for (char *seg = strtok_r(copy, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
			out[n] = '\0';
			continue;
		}
		n += (size_t)sprintf(out + n, "/%s", seg);
	}
	if (n == 0)
		strcpy(out, "/");
	free(copy);
	return out;
}

/* got is an absolute path naming dir/rel (however it is spelled). */
static void assert_resolves_to(const char *got, const char *dir, const char *rel)
{
	char joined[PATH_MAX * 2];
	char *a, *b;

	if (got[0] != '/')
		fail_msg("\"%s\" is not absolute", got);
	snprintf(joined, sizeof(joined), "%s/%s", dir, rel);
	a = lexical(got);
	b = lexical(joined);
	if (strcmp(a, b) != 0)
		fail_msg("\"%s\" is not %s/%s", got, dir, rel);
	free(a);
	free(b);
}

static void print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "    got: %s\n", d->items[i].text);
}

/* Write text to dir/name; returns the path (caller frees). */
static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = NULL;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static const char *const office =
    "office = { name = \"测试民政局\"; address = \"测试路1号\"; hours = \"周一至周五\"; phone = \"0933-1234567\"; };\n";

/* ---- the shipped config ----------------------------------------------------------------- */

static void test_shipped_config(void **state)
{
	char path[PATH_MAX], cfgdir[PATH_MAX];
	struct diag d;
	struct config *c;

	(void)state;
	diag_init(&d);
	snprintf(path, sizeof(path), "%s/config/hotline.cfg", hl_src_dir());
	c = config_load(path, &d);
	if (c == NULL || d.n != 0) {
		print_diag(&d);
		fail_msg("%s: %zu errors, %zu warnings", path, d.errors, d.warnings);
	}
	/* relative paths are relative to config/, not to the working directory */
	snprintf(path, sizeof(path), "%s/config", hl_src_dir());
	assert_non_null(realpath(path, cfgdir));
	assert_resolves_to(c->menus_dir, cfgdir, "../menus");
	assert_resolves_to(c->db_path, cfgdir, "../var/hotline.db");
	/* what the README promises about the default */
	assert_int_equal(c->nmodems, 1);
	assert_string_equal(c->modems[0].model, "dummy");
	assert_resolves_to(c->modems[0].device, cfgdir, "../var/phone"); /* the dummy phone's folder */
	assert_true(c->nstaff >= 1);
	assert_non_null(config_supervisor(c));
	/* issue 14.1: only the name is shipped; nobody has confirmed the rest, so it stays empty */
	assert_true(*c->office_name);
	assert_string_equal(c->office_phone, "");
	assert_string_equal(c->office_address, "");
	assert_string_equal(c->office_hours, "");
	config_free(c);
	diag_free(&d);
}

/* ---- bad configs as data ---------------------------------------------------------------- */

struct expect {
	char *text; /* the whole diag line */
	bool error;
	bool seen;
};

/* Read the `# expect:` lines at the top of path. */
static size_t read_expectations(const char *path, struct expect *ex, size_t max)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) && n < max) {
		const char *rest;
		bool error;
		char loc[16], *msg;
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "# expect: ", 10) == 0) {
			rest = line + 10;
			error = true;
		} else if (strncmp(line, "# expect-warning: ", 18) == 0) {
			rest = line + 18;
			error = false;
		} else {
			break;
		}
		msg = strstr(rest, ": ");
		assert_non_null(msg);
		snprintf(loc, sizeof(loc), "%.*s", (int)(msg - rest), rest);
		msg += 2;
		if (strcmp(loc, "-") == 0)
			assert_true(asprintf(&ex[n].text, "%s: %s: %s", path, error ? "error" : "warning", msg) > 0);
		else
			assert_true(asprintf(&ex[n].text, "%s:%s: %s: %s", path, loc, error ? "error" : "warning", msg) > 0);
		ex[n].error = error;
		ex[n].seen = false;
		n++;
	}
	fclose(f);
	return n;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_bad_configs(void **state)
{
	char dir[PATH_MAX];
	DIR *dh;
	struct dirent *de;
	char *names[256];
	size_t nn = 0, failures = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/data/configs", hl_src_dir());
	dh = opendir(dir);
	assert_non_null(dh);
	while ((de = readdir(dh)) != NULL && nn < 256) {
		size_t l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".cfg") == 0)
			names[nn++] = strdup(de->d_name);
	}
	closedir(dh);
	qsort(names, nn, sizeof(char *), cmp_name);
	assert_true(nn >= 20);

	for (size_t i = 0; i < nn; i++) {
		char path[PATH_MAX + 300];
		struct expect ex[16];
		size_t nex, nerr = 0, nwarn = 0;
		struct diag d;
		struct config *c;
		bool ok = true;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		nex = read_expectations(path, ex, 16);
		if (nex == 0) {
			fprintf(stderr, "%s: no `# expect:` line at the top\n", path);
			failures++;
			continue;
		}
		for (size_t k = 0; k < nex; k++)
			ex[k].error ? nerr++ : nwarn++;
		diag_init(&d);
		c = config_load(path, &d);
		/* the config loads exactly when nothing is wrong */
		if ((c == NULL) != (nerr > 0))
			ok = false;
		if (d.errors != nerr || d.warnings != nwarn)
			ok = false;
		for (size_t k = 0; k < nex; k++)
			for (size_t j = 0; j < d.n; j++)
				if (d.items[j].error == ex[k].error && strcmp(d.items[j].text, ex[k].text) == 0)
					ex[k].seen = true;
		for (size_t k = 0; k < nex; k++)
			if (!ex[k].seen) {
				fprintf(stderr, "%s:\n    missing: %s\n", names[i], ex[k].text);
				ok = false;
			}
		if (!ok) {
			fprintf(stderr, "%s: want %zu errors and %zu warnings, got %zu and %zu%s\n", names[i], nerr, nwarn,
			    d.errors, d.warnings, c ? " (and it loaded)" : "");
			print_diag(&d);
			failures++;
		}
		config_free(c);
		diag_free(&d);
		for (size_t k = 0; k < nex; k++)
			free(ex[k].text);
		free(names[i]);
	}
	if (failures)
		fail_msg("%zu of %zu bad configs did not fail as expected", failures, nn);
}

/* ---- paths, defaults, lookups ------------------------------------------------------------ */

struct tmp {
	char dir[PATH_MAX];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));
	char tmpl[] = "/tmp/test_config-XXXXXX";

	if (mkdtemp(tmpl) == NULL || realpath(tmpl, t->dir) == NULL)
		return -1;
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	DIR *dh = opendir(t->dir);
	struct dirent *de;

	while (dh && (de = readdir(dh)) != NULL) {
		char p[PATH_MAX + 300];
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", t->dir, de->d_name);
		unlink(p);
	}
	if (dh)
		closedir(dh);
	rmdir(t->dir);
	free(t);
	return 0;
}

static void test_relative_paths(void **state)
{
	struct tmp *t = *state;
	char text[2048];
	char *path;
	struct diag d;
	struct config *c;

	snprintf(text, sizeof(text),
	    "%s"
	    "database = { path = \"db/hotline.db\"; };\n"
	    "menus = { dir = \"../menus-here\"; };\n"
	    "modems = (\n"
	    "  { name = \"d\"; model = \"dummy\"; connection = \"none\"; device = \"phone\"; },\n"
	    "  { name = \"usb\"; device = \"/dev/ttyUSB0\"; },\n"
	    "  { name = \"rc\"; gammurc = \"gammurc\"; section = 2; }\n"
	    ");\n",
	    office);
	path = write_file(t->dir, "hotline.cfg", text);
	diag_init(&d);
	c = config_load(path, &d);
	if (c == NULL) {
		print_diag(&d);
		fail();
	}
	assert_resolves_to(c->db_path, t->dir, "db/hotline.db");
	assert_resolves_to(c->menus_dir, t->dir, "../menus-here");
	assert_resolves_to(c->modems[0].device, t->dir, "phone"); /* the dummy phone's folder */
	assert_string_equal(c->modems[1].device, "/dev/ttyUSB0"); /* absolute stays */
	assert_resolves_to(c->modems[2].gammurc, t->dir, "gammurc");
	assert_int_equal(c->modems[2].section, 2);
	config_free(c);
	diag_free(&d);
	free(path);

	/* an absolute path is kept as it is */
	snprintf(text, sizeof(text),
	    "%sdatabase = { path = \"/var/lib/hotline/hotline.db\"; };\n"
	    "modems = ( { name = \"m0\"; device = \"/dev/ttyUSB0\"; } );\n",
	    office);
	path = write_file(t->dir, "abs.cfg", text);
	diag_init(&d);
	c = config_load(path, &d);
	assert_non_null(c);
	assert_string_equal(c->db_path, "/var/lib/hotline/hotline.db");
	config_free(c);
	diag_free(&d);
	free(path);
}

static void test_defaults(void **state)
{
	struct tmp *t = *state;
	char text[1024];
	char *path;
	struct diag d;
	struct config *c;

	snprintf(text, sizeof(text), "%smodems = ( { name = \"m0\"; device = \"/dev/ttyUSB0\"; } );\n", office);
	path = write_file(t->dir, "min.cfg", text);
	diag_init(&d);
	c = config_load(path, &d);
	assert_non_null(c);
	assert_int_equal(d.n, 0);
	assert_resolves_to(c->db_path, t->dir, "../var/hotline.db");
	assert_resolves_to(c->menus_dir, t->dir, "../menus");
	assert_string_equal(c->db_synchronous, "full");
	assert_string_equal(c->log_level, "info");
	assert_true(c->log_mask_phones);
	assert_false(c->allow_root);
	assert_int_equal(c->session_timeout, 1800);
	assert_int_equal(c->sms_page_segments, 2);
	assert_int_equal(c->multipart_timeout, 600);
	assert_int_equal(c->send_retries, 8);
	assert_int_equal(c->retry_initial, 30);
	assert_int_equal(c->retry_max, 3600);
	assert_int_equal(c->replies_per_minute, 6);
	assert_int_equal(c->replies_per_day, 200);
	assert_int_equal(c->repeat_window, 600);
	assert_int_equal(c->max_text, 2000);
	assert_true(c->http_enabled);
	assert_string_equal(c->http_address, "127.0.0.1");
	assert_int_equal(c->http_port, 8080);
	assert_int_equal(c->ussd_gsm7_limit, 182);
	assert_int_equal(c->ussd_ucs2_limit, 70);
	assert_int_equal(c->ussd_max_screens, 4);
	assert_int_equal(c->nussd_allow, 0);
	assert_string_equal(c->case_number_format, "year");
	assert_true(c->working_hours.set);
	assert_int_equal(c->working_hours.start, 8 * 60 + 30);
	assert_int_equal(c->working_hours.end, 17 * 60 + 30);
	assert_true(c->quiet_hours.set);
	assert_int_equal(c->quiet_hours.start, 21 * 60);
	assert_int_equal(c->quiet_hours.end, 8 * 60);
	assert_int_equal(c->digest_hour, 8 * 60);
	assert_string_equal(c->working_days, "1-5");
	assert_int_equal(c->retention_days, 0);
	assert_true(c->balance_threshold == 10.0);
	/* modem defaults */
	assert_string_equal(c->modems[0].connection, "at");
	assert_int_equal(c->modems[0].send_timeout, 60);
	assert_string_equal(c->modems[0].pin, "");
	assert_int_equal(c->nstaff, 0);
	config_free(c);
	diag_free(&d);
	free(path);

	/* "" switches a window off */
	snprintf(text, sizeof(text),
	    "%smodems = ( { name = \"m0\"; device = \"/dev/ttyUSB0\"; } );\ncases = { quiet_hours = \"\"; digest_time = \"\"; };\n",
	    office);
	path = write_file(t->dir, "off.cfg", text);
	diag_init(&d);
	c = config_load(path, &d);
	assert_non_null(c);
	assert_false(c->quiet_hours.set);
	assert_int_equal(c->digest_hour, -1);
	config_free(c);
	diag_free(&d);
	free(path);
}

static void test_time_window(void **state)
{
	struct time_window day = { 8 * 60 + 30, 17 * 60 + 30, true };
	struct time_window night = { 21 * 60, 8 * 60, true };
	struct time_window off = { 0, 0, false };

	(void)state;
	assert_true(time_window_contains(&day, 8 * 60 + 30));
	assert_true(time_window_contains(&day, 12 * 60));
	assert_false(time_window_contains(&day, 17 * 60 + 30)); /* the end is outside */
	assert_false(time_window_contains(&day, 8 * 60 + 29));
	assert_true(time_window_contains(&night, 23 * 60));
	assert_true(time_window_contains(&night, 0));
	assert_true(time_window_contains(&night, 7 * 60 + 59));
	assert_false(time_window_contains(&night, 8 * 60));
	assert_false(time_window_contains(&night, 12 * 60));
	assert_false(time_window_contains(&off, 12 * 60));
}

static void test_staff_lookup(void **state)
{
	struct tmp *t = *state;
	char text[2048];
	char *path;
	struct diag d;
	struct config *c;

	snprintf(text, sizeof(text),
	    "%smodems = ( { name = \"m0\"; device = \"/dev/ttyUSB0\"; } );\n"
	    "staff = (\n"
	    "  { name = \"王建国\"; phone = \"13900000001\"; areas = [\"崆峒镇\"]; duty = true; },\n"
	    "  { name = \"李秀英\"; phone = \"13900000002\"; areas = [\"白水镇\", \"寨子街村\"]; },\n"
	    "  { name = \"张主任\"; phone = \"13900000003\"; role = \"supervisor\"; }\n"
	    ");\n",
	    office);
	path = write_file(t->dir, "staff.cfg", text);
	diag_init(&d);
	c = config_load(path, &d);
	assert_non_null(c);
	assert_int_equal(d.n, 0);
	assert_int_equal(c->nstaff, 3);
	assert_int_equal(c->staff[1].nareas, 2);
	assert_string_equal(c->staff[1].areas[1], "寨子街村");
	assert_int_equal(c->staff[0].role, STAFF_ROLE_STAFF);
	assert_int_equal(c->staff[2].role, STAFF_ROLE_SUPERVISOR);
	/* loading normalised the numbers: lookups take the normalised form, and only that */
	assert_string_equal(c->staff[1].phone, "+8613900000002");
	assert_ptr_equal(config_staff_by_phone(c, "+8613900000002"), &c->staff[1]);
	assert_null(config_staff_by_phone(c, "+8613900000009"));
	assert_null(config_staff_by_phone(c, "+13900000002"));   /* a +1 number is someone else */
	assert_null(config_staff_by_phone(c, "13900000002"));    /* never an un-normalised form */
	assert_ptr_equal(config_staff_by_name(c, "张主任"), &c->staff[2]);
	assert_null(config_staff_by_name(c, "张"));
	assert_ptr_equal(config_supervisor(c), &c->staff[2]);
	config_free(c);
	diag_free(&d);
	free(path);
}

static void test_restart_changes(void **state)
{
	struct tmp *t = *state;
	char text[1024];
	char *p1, *p2, *p3;
	struct diag d;
	struct config *a, *b, *c;

	snprintf(text, sizeof(text), "%smodems = ( { name = \"m0\"; device = \"/dev/ttyUSB0\"; } );\n", office);
	p1 = write_file(t->dir, "a.cfg", text);
	snprintf(text, sizeof(text),
	    "%smodems = ( { name = \"m0\"; device = \"/dev/ttyUSB0\"; } );\nhttp = { port = 9090; };\n"
	    "sessions = { timeout = 60; };\n",
	    office);
	p2 = write_file(t->dir, "b.cfg", text);
	snprintf(text, sizeof(text), "%smodems = ( { name = \"m0\"; device = \"/dev/ttyUSB1\"; } );\n", office);
	p3 = write_file(t->dir, "c.cfg", text);
	diag_init(&d);
	a = config_load(p1, &d);
	b = config_load(p2, &d);
	c = config_load(p3, &d);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(d.n, 0);

	config_restart_changes(a, a, &d);
	assert_int_equal(d.n, 0);
	/* http.port needs a restart; sessions.timeout does not */
	config_restart_changes(a, b, &d);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.errors, 0);
	assert_non_null(strstr(d.items[0].text, "'http.port' changed"));
	diag_free(&d);
	diag_init(&d);
	config_restart_changes(a, c, &d);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.items[0].text, "'modems' changed"));
	config_free(a);
	config_free(b);
	config_free(c);
	diag_free(&d);
	free(p1);
	free(p2);
	free(p3);
}

static void test_missing_file(void **state)
{
	struct diag d;

	(void)state;
	diag_init(&d);
	assert_null(config_load("/nonexistent/hotline.cfg", &d));
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.items[0].text, "/nonexistent/hotline.cfg: error: cannot read the file: No such file or directory");
	diag_free(&d);
}

/* A FIFO given as the config is refused at once, not waited on (issue 11.15). */
static void test_not_regular(void **state)
{
	struct tmp *t = *state;
	struct diag d;
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/fifo.cfg", t->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(60); /* a regression hangs: let it fail, not stall the suite */
	diag_init(&d);
	assert_null(config_load(path, &d));
	alarm(0);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.items[0].text, "not a regular file"));
	diag_free(&d);
}

/*
 * Loading is linear (issue 11.16): 200,000 staff entries and a 16 MB value
 * load. No clock here: quadratic loading of this size takes minutes (60,000
 * entries took 20 s, a 3 MB value 4 s), which the suite's timeout shows.
 */
static void test_linear_load(void **state)
{
	struct tmp *t = *state;
	enum { STAFF = 200000, BIG = 16 << 20 };
	char path[PATH_MAX + 32];
	struct diag d;
	struct config *c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/big.cfg", t->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "office = { name = \"测试民政局\"; hours = \"周一至周五\"; phone = \"0933-1234567\";\n"
		   "  address = \"");
	for (size_t i = 0; i < BIG / 3; i++)
		fputs("村", f);
	fputs("\"; };\nmodems = ( { name = \"m0\"; model = \"dummy\"; connection = \"none\"; device = \"phone0\"; } );\n"
	      "staff = (\n  { name = \"主任\"; phone = \"13800000000\"; role = \"supervisor\"; duty = true; }", f);
	for (int i = 0; i < STAFF; i++)
		fprintf(f, ",\n  { name = \"s%d\"; phone = \"139%08d\"; areas = [\"村%d\"]; }", i, i, i);
	fputs("\n);\n", f);
	fclose(f);

	diag_init(&d);
	c = config_load(path, &d);
	if (c == NULL)
		print_diag(&d);
	assert_non_null(c);
	assert_int_equal(d.errors, 0);
	assert_int_equal(c->nstaff, STAFF + 1);
	assert_int_equal(strlen(c->office_address), (size_t)(BIG / 3) * 3);
	assert_string_equal(c->staff[STAFF].phone, "+8613900199999");
	assert_ptr_equal(config_staff_by_name(c, "s123456"), &c->staff[123457]);
	config_free(c);
	diag_free(&d);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_config),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test_setup_teardown(test_not_regular, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_linear_load, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_relative_paths, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_defaults, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_time_window),
		cmocka_unit_test_setup_teardown(test_staff_lookup, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_restart_changes, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
