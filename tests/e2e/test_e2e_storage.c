/*
 * End to end, storage faults (issue 11 points 9, 10, 11, 13): one daemon per
 * database (a second start on the same config exits at once naming the
 * first, with HTTP on and off); the database file deleted under a running
 * daemon (nothing more deleted from the phone, /healthz 503 naming the
 * database, the supervisor alerted); /healthz telling the truth with the
 * disk full, with another process holding the write lock, and a corrupt
 * page found at start; a read-only database or folder named at start.
 *
 * The disk-full and read-only cases need a small file system of their own
 * (tmpfs, mounted by root); without root they are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hl.h"

#define WAIT_MS 15000

/* The daemons of the running test, stopped and removed by teardown even when an assertion fails. */
static struct hl *live[2];
static bool var_mounted;

static void watch(struct hl *h)
{
	live[live[0] ? 1 : 0] = h;
}

static bool alive(struct hl *h)
{
	return h->pid > 0 && waitpid(h->pid, NULL, WNOHANG) == 0;
}

struct health_want {
	int status;
	const char *has;  /* text the body must contain, or NULL */
	const char *has2; /* and this, or NULL */
};

static bool health_is(struct hl *h, void *arg)
{
	const struct health_want *w = arg;
	int status = 0;
	char *body = hl_http(h, "GET", "/healthz", NULL, NULL, &status);
	bool ok = status == w->status && (w->has == NULL || (body && strstr(body, w->has))) &&
	    (w->has2 == NULL || (body && strstr(body, w->has2)));

	free(body);
	return ok;
}

/* Log the next start to a file of its own: hl_start waits for " ready: " in the log. */
static void new_log(struct hl *h, const char *name)
{
	snprintf(h->log, sizeof(h->log), "%s/%s.log", h->dir, name);
}

static bool log_has(struct hl *h, void *arg)
{
	return hl_log_has(h, arg);
}

static bool inbox_empty(struct hl *h, void *arg)
{
	(void)arg;
	return hl_inbox_count(h, 0) == 0;
}

/*
 * A second hotlined on the same config, logging to its own file: 1 when it
 * exited before it was ready, -1 when it got as far as ready (then it is
 * killed).
 */
static int second_daemon(struct hl *h, struct hl *h2)
{
	*h2 = *h;
	h2->pid = 0;
	h2->dir[0] = '\0'; /* h's folder: h cleans it up */
	watch(h2);
	snprintf(h2->log, sizeof(h2->log), "%s/second.log", h->dir);
	if (hl_start(h2, NULL) == 0) {
		/* it got as far as "ready": two daemons on one database */
		hl_stop(h2, SIGKILL, 5000);
		return -1;
	}
	return 1;
}

static void two_daemons(bool http)
{
	static struct hl h, h2;
	char want[128];

	assert_int_equal(hl_setup(&h, 1, http ? NULL : "http", http ? NULL : "http = { enabled = false; };"), 0);
	watch(&h);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_int_equal(second_daemon(&h, &h2), 1);
	snprintf(want, sizeof(want), "another hotlined (pid %d) is running on the database", (int)h.pid);
	if (!hl_log_has(&h2, want) || !hl_log_has(&h2, h.db)) {
		hl_dump_log(&h2);
		fail_msg("the second start does not name the first daemon's pid %d and the database", (int)h.pid);
	}
	/* it stopped before the outbox or a modem: no modem line, no recovery */
	assert_false(hl_log_has(&h2, "m0"));
	assert_false(hl_log_has(&h2, "go out again"));
	/* the first one works on */
	assert_true(alive(&h));
	assert_int_equal(hl_sms(&h, 0, "13700000901", "低保", NULL), 1);
	char *reply = hl_wait_reply(&h, "13700000901", 1, WAIT_MS);
	assert_non_null(reply);
	free(reply);
	/* once the first is gone, a start works (the lock file left behind is no obstacle) */
	assert_int_equal(hl_stop(&h, SIGTERM, 10000), 0);
	new_log(&h, "restart");
	assert_int_equal(hl_start(&h, NULL), 0);
	hl_cleanup(&h);
}

/* 11.11: a second daemon on the same config exits at once, naming the first one's pid. */
static void test_second_daemon_refused(void **state)
{
	(void)state;
	two_daemons(true);
}

/* ... also with HTTP off, where no port in use stopped it before (two on one serial port). */
static void test_second_daemon_refused_http_off(void **state)
{
	(void)state;
	two_daemons(false);
}

static void unlink_db(struct hl *h)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char path[400];

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", h->db, suffix[i]);
		unlink(path);
	}
}

/*
 * 11.9: hotline.db* deleted under the running daemon: a new SMS stays on the
 * phone (it is not "stored" in the deleted file and deleted), /healthz is
 * 503 naming the database, the supervisor is alerted, the log says it once.
 */
static void test_database_deleted(void **state)
{
	static struct hl h;
	struct health_want down = { 503, "\"database\"", "deleted or replaced" };
	char *reply;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	watch(&h);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_int_equal(hl_sms(&h, 0, "13700000911", "低保", NULL), 1);
	reply = hl_wait_reply(&h, "13700000911", 1, WAIT_MS);
	assert_non_null(reply);
	free(reply);

	unlink_db(&h);
	assert_int_equal(hl_sms(&h, 0, "13700000912", "低保", NULL), 1);
	if (!hl_wait(WAIT_MS, health_is, &h, &down) || !hl_wait(WAIT_MS, log_has, &h, "alert database file")) {
		hl_dump_log(&h);
		fail_msg("no 503 naming the database, or no alert, after the database was deleted");
	}
	/* the message is still on the phone: nothing is deleted that is not in the file at the path */
	assert_int_equal(hl_inbox_count(&h, 0), 1);
	assert_int_equal(hl_log_count(&h, "is not the file hotlined opened"), 1);
	assert_true(alive(&h));

	/* restarted on a fresh database, the message is read and answered */
	assert_int_equal(hl_stop(&h, SIGTERM, 10000), 0);
	new_log(&h, "restart");
	assert_int_equal(hl_start(&h, NULL), 0);
	reply = hl_wait_reply(&h, "13700000912", 1, WAIT_MS);
	assert_non_null(reply);
	free(reply);
	assert_true(hl_wait(WAIT_MS, inbox_empty, &h, NULL));
	hl_cleanup(&h);
}

/* 11.10: another process holds the write lock: /healthz answers, and says 503 naming the lock. */
static void test_write_lock_held(void **state)
{
	static struct hl h;
	struct health_want locked = { 503, "\"database\"", "locked" }, up = { 200, "\"database\":\"up\"", NULL };
	sqlite3 *db = NULL;
	char *reply;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	watch(&h);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_true(hl_wait(WAIT_MS, health_is, &h, &up));
	assert_int_equal(sqlite3_open_v2(h.db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(hl_sms(&h, 0, "13700000921", "低保", NULL), 1);
	if (!hl_wait(40000, health_is, &h, &locked)) {
		hl_dump_log(&h);
		sqlite3_close(db);
		fail_msg("/healthz does not report the held write lock");
	}
	assert_int_equal(hl_inbox_count(&h, 0), 1); /* not stored, so not deleted */
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* the lock gone, the message is stored and answered and health comes back */
	reply = hl_wait_reply(&h, "13700000921", 1, 30000);
	assert_non_null(reply);
	free(reply);
	assert_true(hl_wait(WAIT_MS, health_is, &h, &up));
	hl_cleanup(&h);
}

/* 11.10: a corrupt page is found at start: a clear exit naming the file. */
static void test_corrupt_page_at_start(void **state)
{
	static struct hl h;
	char want[400], *page;
	long long root, psize;
	int fd;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	watch(&h);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_int_equal(hl_sms(&h, 0, "13700000931", "低保", NULL), 1);
	page = hl_wait_reply(&h, "13700000931", 1, WAIT_MS);
	assert_non_null(page);
	free(page);
	assert_int_equal(hl_stop(&h, SIGTERM, 10000), 0);

	root = hl_int(&h, "SELECT rootpage FROM sqlite_master WHERE name = 'messages'");
	psize = hl_int(&h, "PRAGMA page_size");
	assert_true(root > 1 && psize >= 512);
	page = malloc((size_t)psize);
	assert_non_null(page);
	memset(page, 0xA5, (size_t)psize);
	fd = open(h.db, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, page, (size_t)psize, (off_t)((root - 1) * psize)), psize);
	close(fd);
	free(page);

	new_log(&h, "corrupt");
	assert_int_not_equal(hl_start(&h, NULL), 0);
	snprintf(want, sizeof(want), "the database %s failed its integrity check", h.db);
	if (!hl_log_has(&h, want)) {
		hl_dump_log(&h);
		fail_msg("no clear message naming %s", h.db);
	}
	hl_cleanup(&h);
}

/* A tmpfs of size bytes on h's var folder (root only); false when it cannot be had. */
static bool mount_var(struct hl *h, const char *size)
{
	char var[400], opts[64];

	snprintf(var, sizeof(var), "%s/var", h->dir);
	snprintf(opts, sizeof(opts), "size=%s,mode=0700", size);
	var_mounted = geteuid() == 0 && mount("tmpfs", var, "tmpfs", 0, opts) == 0;
	return var_mounted;
}

static void umount_var(struct hl *h)
{
	char var[400];

	var_mounted = false;
	snprintf(var, sizeof(var), "%s/var", h->dir);
	if (umount2(var, MNT_DETACH) < 0)
		fprintf(stderr, "umount %s: %s\n", var, strerror(errno));
}

/* Fill the file system of path with a file of its own; returns the file's path. */
static void fill_up(const char *path)
{
	static char block[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	memset(block, 'x', sizeof(block));
	while (write(fd, block, sizeof(block)) > 0)
		;
	/* and the last bytes */
	while (write(fd, block, 1) > 0)
		;
	close(fd);
}

/*
 * 11.10: the disk full: /healthz 503 with the error, the messages stay on
 * the phone; space freed, they are stored and answered and health is back.
 */
static void test_disk_full(void **state)
{
	static struct hl h;
	struct health_want full = { 503, "\"database\"", "full" }, up = { 200, "\"database\":\"up\"", NULL };
	char filler[400], phone[32];
	int sent = 0;
	bool down = false;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	watch(&h);
	if (!mount_var(&h, "4m")) {
		hl_cleanup(&h);
		skip();
	}
	assert_int_equal(hl_start(&h, NULL), 0);
	snprintf(filler, sizeof(filler), "%s/var/filler", h.dir);
	fill_up(filler);
	/* what is already allocated may still take a few commits: send until a write fails */
	while (sent < 200 && !down) {
		snprintf(phone, sizeof(phone), "137000%05d", 940 + sent);
		assert_int_equal(hl_sms(&h, 0, phone, "我想问问低保咋申请，家里老人瘫痪在床，孩子在外打工，一个月能领多少钱", NULL), 1);
		sent++;
		down = hl_wait(300, health_is, &h, &full);
	}
	if (!down && !hl_wait(WAIT_MS, health_is, &h, &full)) {
		hl_dump_log(&h);
		umount_var(&h);
		fail_msg("/healthz does not report the full disk after %d messages (%s)", sent, h.dir);
	}
	assert_true(hl_inbox_count(&h, 0) > 0); /* what could not be stored stays on the phone */
	unlink(filler);
	/* every message is stored once and answered, and health is back */
	bool all = hl_wait_count(&h, sent, 60000, "SELECT count(*) FROM messages WHERE direction = 'in'");
	bool healthy = hl_wait(WAIT_MS, health_is, &h, &up);
	long long in = hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in'");
	if (!all || !healthy || in != sent) {
		hl_dump_log(&h);
		hl_stop(&h, SIGTERM, 10000);
		umount_var(&h);
		fail_msg("after the disk had room again: %lld of %d stored, health %s", in, sent, healthy ? "up" : "down");
	}
	assert_int_equal(hl_stop(&h, SIGTERM, 10000), 0);
	umount_var(&h);
	hl_cleanup(&h);
}

/* 11.13: a read-only folder, then a read-only database file: the start fails naming the path. */
static void test_read_only(void **state)
{
	static struct hl h;
	char var[400], want[1000];

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	watch(&h);
	if (!mount_var(&h, "8m")) {
		hl_cleanup(&h);
		skip();
	}
	snprintf(var, sizeof(var), "%s/var", h.dir);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_int_equal(hl_stop(&h, SIGTERM, 10000), 0);

	/* the database file read-only (a read-only bind mount of it), its folder writable */
	assert_int_equal(mount(h.db, h.db, NULL, MS_BIND, NULL), 0);
	assert_int_equal(mount(NULL, h.db, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), 0);
	new_log(&h, "ro-file");
	assert_int_not_equal(hl_start(&h, NULL), 0);
	snprintf(want, sizeof(want), "%s is read-only", h.db);
	bool named = hl_log_has(&h, want);
	umount2(h.db, MNT_DETACH);
	if (!named) {
		hl_dump_log(&h);
		umount_var(&h);
		fail_msg("the error does not name the read-only %s", h.db);
	}

	/* the whole folder read-only */
	assert_int_equal(mount(NULL, var, NULL, MS_REMOUNT | MS_RDONLY, "size=8m"), 0);
	new_log(&h, "ro-folder");
	assert_int_not_equal(hl_start(&h, NULL), 0);
	snprintf(want, sizeof(want), "%s.lock beside the database %s: Read-only file system", h.db, h.db);
	named = hl_log_has(&h, want);
	if (!named)
		hl_dump_log(&h);
	umount_var(&h);
	assert_true(named);
	hl_cleanup(&h);
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		struct hl *h = live[i];
		live[i] = NULL;
		if (h == NULL)
			continue;
		if (h->pid > 0 && hl_stop(h, SIGKILL, 5000) < 0)
			fprintf(stderr, "could not stop hotlined %d\n", (int)h->pid);
		if (h->dir[0] == '\0')
			continue;
		if (var_mounted) {
			char db[400];
			snprintf(db, sizeof(db), "%s", h->db);
			umount2(db, MNT_DETACH); /* the read-only bind mount, if it is there */
			umount_var(h);
		}
		hl_cleanup(h);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_second_daemon_refused, teardown),
		cmocka_unit_test_teardown(test_second_daemon_refused_http_off, teardown),
		cmocka_unit_test_teardown(test_database_deleted, teardown),
		cmocka_unit_test_teardown(test_write_lock_held, teardown),
		cmocka_unit_test_teardown(test_corrupt_page_at_start, teardown),
		cmocka_unit_test_teardown(test_disk_full, teardown),
		cmocka_unit_test_teardown(test_read_only, teardown),
	};

	if (getenv("HL_ONLY")) /* HL_ONLY=test_disk_full: one test */
		cmocka_set_test_filter(getenv("HL_ONLY"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
