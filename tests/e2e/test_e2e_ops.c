/*
 * End to end, operations: the supervisor's alert when the outbox backs up,
 * retention (erasing old texts, by the daemon and by hotlinectl purge), the
 * log file's mode and masking, and its reopening on SIGHUP; the times people
 * read (the log, hotlinectl messages and audit) in the bureau's zone on a
 * machine in another one (issue 13.12).
 */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hl.h"

#define WAIT_MS 15000

static int run_ctl(struct hl *h, const char *args)
{
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd), "%s/hotlinectl -c %s %s >/dev/null", getenv("HOTLINE_BUILD"), h->cfg, args);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void sql(struct hl *h, const char *q)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "sqlite3 %s \"%s\"", h->db, q);
	assert_int_equal(system(cmd), 0);
}

static bool phone_gone(struct hl *h, void *arg)
{
	(void)arg;
	return hl_log_has(h, "-> backoff") || hl_log_has(h, "ready -> down") || hl_log_has(h, "cannot be used");
}

/* Queued SMS that cannot go out make the supervisor get one alert, which goes when the modem is back. */
static void test_outbox_backlog_alert(void **state)
{
	struct hl h;
	char away[400];

	(void)state;
	assert_int_equal(hl_setup(&h, 1, "limits",
	    "limits = { poll_interval_ms = 50; retry_initial = 1; retry_max = 2; outbox_alert = 3; };"), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	snprintf(away, sizeof(away), "%s.away", h.phone[0]);
	assert_int_equal(rename(h.phone[0], away), 0);
	assert_true(hl_wait(WAIT_MS, phone_gone, &h, NULL));
	for (int i = 0; i < 5; i++) {
		char q[512];
		snprintf(q, sizeof(q),
		    "INSERT INTO messages (channel, direction, phone, phone_key, text, status, kind, created_at, updated_at)"
		    " VALUES ('sms','out','+861370000090%d','+861370000090%d','queued while the modem is down','queued','reply',"
		    " strftime('%%s','now'), strftime('%%s','now'));"
		    "INSERT INTO outbox (message_id, modem, not_before) VALUES (last_insert_rowid(), 'm0', 0);", i, i);
		sql(&h, q);
	}
	/* one alert to the supervisor, queued at once (it goes out when a modem can send it) */
	assert_true(hl_wait_count(&h, 1, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction='out' AND phone_key = '+8613900000003' AND kind='staff'"));
	char *text = hl_text(&h, "SELECT text FROM messages WHERE phone_key = '+8613900000003'");
	assert_non_null(text);
	assert_non_null(strstr(text, "5"));
	free(text);
	assert_int_equal(rename(away, h.phone[0]), 0);
	assert_true(hl_wait_count(&h, 6, 30000, "SELECT count(*) FROM messages WHERE direction='out' AND status='sent'"));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE phone_key = '+8613900000003'"), 1);
	hl_cleanup(&h);
}

/* retention.message_days: old texts are erased at start and by hotlinectl purge; cases stay. */
static void test_retention(void **state)
{
	struct hl h;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, "retention = { message_days = 30; };"), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_int_equal(hl_sms(&h, 0, "13700000401", "低保", NULL), 1);
	free(hl_wait_reply(&h, "13700000401", 1, WAIT_MS));
	assert_int_equal(hl_stop(&h, SIGTERM, 10000), 0);
	/* a conversation from 40 days ago, and a case from then */
	sql(&h, "INSERT INTO messages (channel, direction, phone, phone_key, text, status, created_at, updated_at)"
		" VALUES ('sms','in','+8613700000402','+8613700000402','我家的事很私密','answered',"
		" strftime('%s','now') - 40*86400, strftime('%s','now') - 40*86400);"
		"INSERT INTO cases (number, topic, channel, applicant_phone, applicant_key, name, status, created_at, updated_at)"
		" VALUES ('2025-0001','zhitongche','sms','+8613700000402','+8613700000402','张桂兰','done',"
		" strftime('%s','now') - 40*86400, strftime('%s','now') - 40*86400);");
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE phone_key = '+8613700000402' AND text=''"));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM cases WHERE number='2025-0001' AND name='张桂兰'"), 1);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE phone_key = '+8613700000401' AND text<>''"), 2);
	/* and on demand */
	sql(&h, "INSERT INTO messages (channel, direction, phone, phone_key, text, status, created_at, updated_at)"
		" VALUES ('sms','in','+8613700000403','+8613700000403','又一条旧短信','answered',"
		" strftime('%s','now') - 31*86400, strftime('%s','now') - 31*86400);");
	assert_int_equal(run_ctl(&h, "purge"), 0);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE phone_key = '+8613700000403' AND text=''"), 1);
	hl_cleanup(&h);
}

/* log.file is created 0600 and masks phone numbers like stderr does. */
static void test_log_file(void **state)
{
	struct hl h;
	char path[400], *buf;
	struct stat st;
	FILE *f;
	long len;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, "log", "log = { level = \"debug\"; file = \"var/hotline.log\"; };"), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_int_equal(hl_sms(&h, 0, "13712345678", "低保", NULL), 1);
	free(hl_wait_reply(&h, "13712345678", 1, WAIT_MS));
	assert_int_equal(hl_stop(&h, SIGTERM, 10000), 0);
	snprintf(path, sizeof(path), "%s/var/hotline.log", h.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	assert_non_null(strstr(buf, " ready: "));
	assert_non_null(strstr(buf, "5678"));
	assert_null(strstr(buf, "13712345678"));
	free(buf);
	hl_cleanup(&h);
}

/* The descriptor numbers of hotlined that point at path, into fds[]; returns how many. */
static int fds_on(pid_t pid, const char *path, int *fds, int max)
{
	char dir[64], link[384], target[512];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		ssize_t len;
		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strcmp(target, path) == 0 && n < max)
			fds[n++] = atoi(e->d_name);
	}
	closedir(d);
	return n;
}

static bool file_has(const char *path, const char *text)
{
	char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static bool reloaded_into(struct hl *h, void *arg)
{
	(void)h;
	return file_has(arg, "reloaded ");
}

/*
 * logrotate moves the log and sends SIGHUP: the new file takes the same
 * descriptor number (dup2 onto it, never close-then-open while the modem and
 * HTTP threads write), the moved file is let go, and lines go to the new file.
 */
static void test_log_file_reopened_on_reload(void **state)
{
	struct hl h;
	char path[400], moved[PATH_MAX + 8], real[PATH_MAX];
	int before[4], after[4];

	(void)state;
	assert_int_equal(hl_setup(&h, 1, "log", "log = { level = \"debug\"; file = \"var/hotline.log\"; };"), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	snprintf(path, sizeof(path), "%s/var/hotline.log", h.dir);
	assert_non_null(realpath(path, real));
	assert_int_equal(fds_on(h.pid, real, before, 4), 1);

	snprintf(moved, sizeof(moved), "%s.1", real);
	assert_int_equal(rename(real, moved), 0);
	assert_int_equal(kill(h.pid, SIGHUP), 0);
	assert_true(hl_wait(WAIT_MS, reloaded_into, &h, real));
	assert_int_equal(fds_on(h.pid, real, after, 4), 1);
	assert_int_equal(after[0], before[0]);
	assert_int_equal(fds_on(h.pid, moved, after, 4), 0);

	assert_int_equal(hl_sms(&h, 0, "13712345678", "低保", NULL), 1);
	free(hl_wait_reply(&h, "13712345678", 1, WAIT_MS));
	assert_true(file_has(real, "5678"));
	assert_false(file_has(moved, "5678"));
	assert_int_equal(hl_stop(&h, SIGTERM, 10000), 0);
	hl_cleanup(&h);
}

/* hotlinectl's stdout for args (stdin from /dev/null unless args redirect it) into out. */
static void ctl_out(struct hl *h, const char *args, char *out, size_t len)
{
	char cmd[1024];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "%s/hotlinectl -c %s %s", getenv("HOTLINE_BUILD"), h->cfg, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
}

/* Beijing's "2026-12-02T21" (the hour) at t: UTC+8, no summer time. */
static void beijing_hour(time_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t bj = t + 8 * 3600;

	gmtime_r(&bj, &tm);
	strftime(buf, len, "%Y-%m-%dT%H", &tm);
}

/* text starts with Beijing's hour at one of the two times (the hour may turn between them) */
static bool in_beijing_hour(const char *text, time_t t0, time_t t1)
{
	char a[32], b[32];

	beijing_hour(t0, a, sizeof(a));
	beijing_hour(t1, b, sizeof(b));
	return strncmp(text, a, strlen(a)) == 0 || strncmp(text, b, strlen(b)) == 0;
}

/*
 * On a machine in New York (13 hours from Beijing in winter, 12 in summer),
 * the log's times, `hotlinectl messages` and `hotlinectl audit` show
 * Beijing's clock (the default timezone = "Asia/Shanghai"); stored times
 * stay UTC.
 */
static void test_times_in_the_bureaus_zone(void **state)
{
	struct hl h;
	char out[8192], path[400], line[512];
	const char *old = getenv("TZ");
	char *saved = old ? strdup(old) : NULL, *p;
	time_t t0 = time(NULL), t1;
	long long stored;
	bool ready = false;
	FILE *f;

	(void)state;
	setenv("TZ", "America/New_York", 1);
	assert_int_equal(hl_setup(&h, 1, "log", "log = { level = \"info\"; file = \"var/hotline.log\"; };"), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_int_equal(hl_sms(&h, 0, "13712345678", "低保", NULL), 1);
	free(hl_wait_reply(&h, "13712345678", 1, WAIT_MS));
	ctl_out(&h, "messages --format tsv", out, sizeof(out));
	snprintf(line, sizeof(line), "echo 'a-long-enough-password' | %s/hotlinectl -c %s user add tzcheck --role viewer >/dev/null",
	    getenv("HOTLINE_BUILD"), h.cfg);
	assert_int_equal(system(line), 0);
	t1 = time(NULL);
	/* messages: id, time, ...: the first row's time */
	p = strchr(out, '\n');
	assert_non_null(p);
	p = strchr(p + 1, '\t');
	assert_non_null(p);
	assert_true(in_beijing_hour(p + 1, t0, t1));
	assert_non_null(strstr(p, "+08:00\t"));
	ctl_out(&h, "audit --limit 1", out, sizeof(out));
	assert_non_null(strstr(out, "user_add"));
	assert_true(in_beijing_hour(out, t0, t1));
	assert_non_null(strstr(out, "+08:00\t"));
	/* stored: UTC seconds */
	stored = hl_int(&h, "SELECT max(created_at) FROM messages");
	assert_true(stored >= (long long)t0 && stored <= (long long)t1);
	assert_int_equal(hl_stop(&h, SIGTERM, 10000), 0);

	/* the log's lines: the ready line's time is Beijing's */
	snprintf(path, sizeof(path), "%s/var/hotline.log", h.dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " ready: ")) {
			ready = true;
			assert_true(in_beijing_hour(line, t0, t1));
		}
	fclose(f);
	assert_true(ready);
	if (saved) {
		setenv("TZ", saved, 1);
		free(saved);
	} else {
		unsetenv("TZ");
	}
	hl_cleanup(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outbox_backlog_alert),
		cmocka_unit_test(test_retention),
		cmocka_unit_test(test_log_file),
		cmocka_unit_test(test_log_file_reopened_on_reload),
		cmocka_unit_test(test_times_in_the_bureaus_zone),
	};

	return cmocka_run_group_tests_name("e2e_ops", tests, NULL, NULL);
}
