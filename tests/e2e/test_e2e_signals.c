/*
 * End to end, signals: SIGTERM and SIGINT while messages are flowing stop
 * the daemon cleanly within 5 s (exit 0, no send left in doubt) and a
 * restart answers every message exactly once; SIGHUP reloads the menus, and
 * a broken menu or config file keeps the ones in use and names file:line.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hl.h"

#define WAIT_MS 15000
#define FLOW 300 /* messages waiting when the daemon starts */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool alive(struct hl *h)
{
	return h->pid > 0 && waitpid(h->pid, NULL, WNOHANG) == 0;
}

struct log_want {
	const char *text;
	int n;
};

static bool log_reaches(struct hl *h, void *arg)
{
	const struct log_want *w = arg;

	return hl_log_count(h, w->text) >= w->n;
}

/* Lines (ids) written to the sent journal more than once. */
static int journal_duplicates(const char *path, int *lines)
{
	FILE *f = fopen(path, "r");
	long long *ids = NULL, v;
	size_t n = 0, cap = 0;
	int dups = 0;

	*lines = 0;
	if (f == NULL)
		return 0;
	while (fscanf(f, "%lld", &v) == 1) {
		for (size_t i = 0; i < n; i++)
			if (ids[i] == v) {
				dups++;
				break;
			}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			ids = realloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = v;
	}
	*lines = (int)n;
	free(ids);
	fclose(f);
	return dups;
}

/*
 * A backlog waits in the phone; the signal comes as soon as the first
 * replies go out, and more messages arrive while the daemon is down. It
 * exits 0 within 5 s with work left and nothing left 'sending'; restarted,
 * it answers every message exactly once and sends no reply twice.
 */
static void stop_while_flowing(int sig)
{
	struct hl h;
	char journal[400], phone[32];
	int64_t t0;
	int status, lines, dups;

	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	snprintf(journal, sizeof(journal), "%s/sent.journal", h.dir);
	setenv("HOTLINE_SENT_JOURNAL", journal, 1);
	for (int i = 0; i < FLOW; i++) {
		snprintf(phone, sizeof(phone), "1370001%04d", i);
		assert_true(hl_sms(&h, 0, phone, i % 3 ? "低保" : "我想问问高龄补贴咋申请", NULL) >= 1);
	}
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'"));
	t0 = now_ms();
	status = hl_stop(&h, sig, 5000);
	assert_int_equal(status, 0);
	assert_true(now_ms() - t0 <= 5000);
	assert_true(hl_log_has(&h, "stopping: finishing the sends under way"));
	/* it stopped with work left: messages in the phone or replies queued */
	assert_true(hl_inbox_count(&h, 0) + hl_int(&h, "SELECT count(*) FROM outbox") > 0);
	/* a clean stop leaves no send in doubt */
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM outbox WHERE sending = 1"), 0);
	/* more arrive while it is down */
	for (int i = FLOW; i < FLOW + 10; i++) {
		snprintf(phone, sizeof(phone), "1370001%04d", i);
		assert_true(hl_sms(&h, 0, phone, "临时救助", NULL) >= 1);
	}

	assert_int_equal(hl_start(&h, NULL), 0);
	assert_true(hl_wait_count(&h, FLOW + 10, WAIT_MS,
	    "SELECT count(*) FROM messages WHERE direction = 'out' AND kind = 'reply' AND status = 'sent'"));
	assert_true(hl_wait_count(&h, 1, WAIT_MS, "SELECT count(*) = 0 FROM outbox"));
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'in'"), FLOW + 10);
	assert_int_equal(hl_int(&h, "SELECT count(DISTINCT phone_key) FROM messages WHERE direction = 'in'"), FLOW + 10);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages i WHERE direction = 'in' AND"
				    " (SELECT count(*) FROM messages o WHERE o.reply_to = i.id AND o.status = 'sent') <> 1"), 0);
	assert_int_equal(hl_int(&h, "SELECT coalesce(sum(uncertain), 0) FROM messages"), 0);
	assert_false(hl_log_has(&h, "were being sent when the daemon stopped"));
	assert_int_equal(hl_stop(&h, SIGTERM, 5000), 0);
	dups = journal_duplicates(journal, &lines);
	assert_int_equal(dups, 0);
	assert_int_equal(lines, hl_int(&h, "SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'sent'"));
	unsetenv("HOTLINE_SENT_JOURNAL");
	hl_cleanup(&h);
}

static void test_sigterm_while_flowing(void **state)
{
	(void)state;
	stop_while_flowing(SIGTERM);
}

static void test_sigint_while_flowing(void **state)
{
	(void)state;
	stop_while_flowing(SIGINT);
}

/* Copy the shipped menus into dir/menus, where the config points. */
static int copy_menus(struct hl *h)
{
	char cmd[1200];
	const char *src = getenv("HOTLINE_SRC") ? getenv("HOTLINE_SRC") : ".";

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/menus' && cp '%s'/menus/*.cfg '%s/menus/'", h->dir, src, h->dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Replace the first `from` in file by `to`. */
static int edit_file(const char *path, const char *from, const char *to)
{
	FILE *f = fopen(path, "rb");
	char *buf, *at;
	long len;

	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)len + 1);
	if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	at = strstr(buf, from);
	if (at == NULL) {
		free(buf);
		return -1;
	}
	f = fopen(path, "wb");
	fwrite(buf, 1, (size_t)(at - buf), f);
	fputs(to, f);
	fputs(at + strlen(from), f);
	fclose(f);
	free(buf);
	return 0;
}

/* Lines in a file (so that a line appended to it has number n + 1). */
static int file_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int c, n = 0;

	if (f == NULL)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static char *ask(struct hl *h, const char *phone, const char *text)
{
	if (hl_sms(h, 0, phone, text, NULL) < 1)
		return NULL;
	return hl_wait_reply(h, phone, 1, WAIT_MS);
}

/*
 * SIGHUP with a changed menu: the next reply has the new text. SIGHUP with
 * a broken menu file, then a broken config: the log names file:line, the
 * menus in use keep answering, the daemon keeps running.
 */
static void test_sighup_reload(void **state)
{
	struct hl h;
	char path[400], where[480], cfgwhere[480], *reply;
	struct log_want reloaded = { "reloaded ", 1 }, failed = { "reload failed", 1 };
	const char *old_head = "低保（最低生活保障：给收入太低的人家发的生活钱），请回复：";
	const char *new_head = "低保（最低生活保障：新版说明），请回复：";
	int line;
	FILE *f;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, "menus", "menus = { dir = \"menus\"; };"), 0);
	assert_int_equal(copy_menus(&h), 0);
	assert_int_equal(hl_start(&h, NULL), 0);
	reply = ask(&h, "13700000301", "低保");
	assert_non_null(reply);
	assert_non_null(strstr(reply, old_head));
	free(reply);

	/* a valid change */
	snprintf(path, sizeof(path), "%s/menus/10-dibao.cfg", h.dir);
	assert_int_equal(edit_file(path, old_head, new_head), 0);
	assert_int_equal(kill(h.pid, SIGHUP), 0);
	assert_true(hl_wait(WAIT_MS, log_reaches, &h, &reloaded));
	reply = ask(&h, "13700000302", "低保");
	assert_non_null(reply);
	assert_non_null(strstr(reply, new_head));
	free(reply);

	/* a broken menu file: old menus stay, the log says where */
	line = file_lines(path) + 1;
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("this line is not a setting\n", f);
	fclose(f);
	assert_int_equal(kill(h.pid, SIGHUP), 0);
	assert_true(hl_wait(WAIT_MS, log_reaches, &h, &failed));
	snprintf(where, sizeof(where), "10-dibao.cfg:%d", line);
	assert_true(hl_log_has(&h, where));
	reply = ask(&h, "13700000303", "低保");
	assert_non_null(reply);
	assert_non_null(strstr(reply, new_head));
	free(reply);
	assert_true(alive(&h));

	/* the menu mended, the config broken: still the same world, and the config's file:line */
	assert_int_equal(edit_file(path, "this line is not a setting\n", ""), 0);
	line = file_lines(h.cfg) + 1;
	f = fopen(h.cfg, "a");
	assert_non_null(f);
	fputs("sessions = { timeout = \"long\"; };\n", f);
	fclose(f);
	failed.n = 2;
	assert_int_equal(kill(h.pid, SIGHUP), 0);
	assert_true(hl_wait(WAIT_MS, log_reaches, &h, &failed));
	snprintf(cfgwhere, sizeof(cfgwhere), "hotline.cfg:%d", line);
	assert_true(hl_log_has(&h, cfgwhere));
	reply = ask(&h, "13700000304", "低保");
	assert_non_null(reply);
	assert_non_null(strstr(reply, new_head));
	free(reply);
	assert_true(alive(&h));
	assert_int_equal(hl_stop(&h, SIGTERM, 5000), 0);
	hl_cleanup(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigterm_while_flowing),
		cmocka_unit_test(test_sigint_while_flowing),
		cmocka_unit_test(test_sighup_reload),
	};

	return cmocka_run_group_tests_name("e2e_signals", tests, NULL, NULL);
}
