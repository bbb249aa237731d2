/*
 * End to end, the HTTP side under hostile clients (issue 11 points 3, 5-8):
 * /healthz and /metrics only for http.ops_allow; slow clients trickling
 * their headers (tests/tools/trickle, from other loopback addresses) do not
 * keep an allowed aggregator's USSD request from being answered, are closed
 * at a deadline, capped per address, refused at accept when ussd.allow is
 * set; under a low RLIMIT_NOFILE SMS still flow; /ussd/<secret>/end waits
 * in the writer thread, not in front of /healthz; refusals and aborts are
 * counted in /metrics and logged once a minute.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hl.h"

#define WAIT_MS 15000

static struct hl *live;
static pid_t trickler;

static void watch(struct hl *h)
{
	live = h;
}

/* A connection from source address src (127.0.0.x) to the daemon; -1 on failure. */
static int connect_from(struct hl *h, const char *src)
{
	struct sockaddr_in a, d;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, src, &a.sin_addr);
	memset(&d, 0, sizeof(d));
	d.sin_family = AF_INET;
	d.sin_port = htons((uint16_t)h->port);
	d.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || connect(fd, (struct sockaddr *)&d, sizeof(d)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_request(int fd, const char *method, const char *path, const char *body)
{
	char req[2048];
	int n;

	if (body)
		n = snprintf(req, sizeof(req),
		    "%s %s HTTP/1.1\r\nHost: hotline\r\nConnection: close\r\n"
		    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
		    method, path, strlen(body), body);
	else
		n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: hotline\r\nConnection: close\r\n\r\n", method,
		    path);
	assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
}

/* Read the whole answer (until the server closes); its status, 0 when none came within timeout_ms. */
static int read_answer(int fd, char **body, int timeout_ms)
{
	char *buf = malloc(65536);
	size_t len = 0;
	int status = 0;

	assert_non_null(buf);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		ssize_t r = recv(fd, buf + len, 65535 - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len >= 65535)
			break;
	}
	buf[len] = '\0';
	if (len > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
		status = atoi(buf + 9);
	if (body) {
		char *b = strstr(buf, "\r\n\r\n");
		*body = strdup(b ? b + 4 : "");
	}
	free(buf);
	return status;
}

/* One request from src; its status (0: refused or no answer), the body in *body when asked. */
static int http_from(struct hl *h, const char *src, const char *method, const char *path, const char *body, char **out)
{
	int fd = connect_from(h, src), status;

	if (out)
		*out = NULL;
	if (fd < 0)
		return 0;
	send_request(fd, method, path, body);
	status = read_answer(fd, out, 20000);
	close(fd);
	return status;
}

/* The value of one /metrics line (from 127.0.0.1), -1 when missing. */
static long long metric(struct hl *h, const char *line_start)
{
	char *body = NULL, *p;
	long long v = -1;

	if (http_from(h, "127.0.0.1", "GET", "/metrics", NULL, &body) == 200 && body && (p = strstr(body, line_start)))
		v = atoll(p + strlen(line_start));
	free(body);
	return v;
}

static bool healthy(struct hl *h, void *arg)
{
	(void)arg;
	return http_from(h, "127.0.0.1", "GET", "/healthz", NULL, NULL) == 200;
}

static void start_trickle(struct hl *h, int first, int last, int per_ip, int seconds, char *status_path, size_t len)
{
	char bin[512], port[16], a[16], b[16], c[16], s[16];

	snprintf(status_path, len, "%s/trickle.status", h->dir);
	snprintf(bin, sizeof(bin), "%s/tools/trickle", getenv("HOTLINE_BUILD") ? getenv("HOTLINE_BUILD") : "build");
	snprintf(port, sizeof(port), "%d", h->port);
	snprintf(a, sizeof(a), "%d", first);
	snprintf(b, sizeof(b), "%d", last);
	snprintf(c, sizeof(c), "%d", per_ip);
	snprintf(s, sizeof(s), "%d", seconds);
	trickler = fork();
	assert_true(trickler >= 0);
	if (trickler == 0) {
		execl(bin, bin, port, a, b, c, s, status_path, (char *)NULL);
		_exit(127);
	}
}

static bool trickling(void)
{
	return trickler > 0 && waitpid(trickler, NULL, WNOHANG) == 0;
}

static void stop_trickle(void)
{
	if (trickler > 0) {
		kill(trickler, SIGTERM);
		waitpid(trickler, NULL, 0);
		trickler = 0;
	}
}

struct trickle_status {
	int opened, early, late, alive;
};

static bool read_status(const char *path, struct trickle_status *st)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (f == NULL)
		return false;
	ok = fscanf(f, "opened %d early %d late %d alive %d", &st->opened, &st->early, &st->late, &st->alive) == 4;
	fclose(f);
	return ok;
}

static bool status_file(struct hl *h, void *arg)
{
	struct trickle_status st;

	(void)h;
	return read_status(arg, &st);
}

static bool closed_late(struct hl *h, void *arg)
{
	struct trickle_status st;

	(void)h;
	return read_status(arg, &st) && st.late > 0;
}

static const char ussd_body[] = "sessionId=http-%d&serviceCode=%%2A123%%23&phoneNumber=13700000%03d&text=";

/* A USSD first step from src with the secret in the path; its status, the body checked for CON. */
static int ussd_from(struct hl *h, const char *src, int n)
{
	char path[128], body[256], *out = NULL;
	int status;

	snprintf(path, sizeof(path), "/ussd/%s", h->secret);
	snprintf(body, sizeof(body), ussd_body, n, n);
	status = http_from(h, src, "POST", path, body, &out);
	if (status == 200 && (out == NULL || strncmp(out, "CON ", 4) != 0))
		status = -1;
	free(out);
	return status;
}

/* 11.3: /healthz and /metrics answer http.ops_allow (default: loopback 127.0.0.1 and ::1) and 403 others. */
static void test_ops_allow(void **state)
{
	static struct hl h;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	watch(&h);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_true(hl_wait(WAIT_MS, healthy, &h, NULL));
	assert_int_equal(http_from(&h, "127.0.0.1", "GET", "/metrics", NULL, NULL), 200);
	assert_int_equal(http_from(&h, "127.0.0.2", "GET", "/healthz", NULL, NULL), 403);
	assert_int_equal(http_from(&h, "127.0.0.2", "GET", "/metrics", NULL, NULL), 403);
	/* ussd.allow (empty here: the secret alone) keeps guarding /ussd */
	assert_int_equal(ussd_from(&h, "127.0.0.2", 1), 200);
	hl_cleanup(&h);

	/* an address added to http.ops_allow gets in; others still not */
	char extra[256];
	assert_int_equal(hl_setup(&h, 1, "http", ""), 0);
	snprintf(extra, sizeof(extra), "http = { address = \"127.0.0.1\"; port = %d; ops_allow = [\"127.0.0.1\", "
				       "\"127.0.0.2\"]; };",
	    h.port);
	FILE *f = fopen(h.cfg, "a");
	assert_non_null(f);
	fprintf(f, "%s\n", extra);
	fclose(f);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_true(hl_wait(WAIT_MS, healthy, &h, NULL));
	assert_int_equal(http_from(&h, "127.0.0.2", "GET", "/healthz", NULL, NULL), 200);
	assert_int_equal(http_from(&h, "127.0.0.3", "GET", "/metrics", NULL, NULL), 403);
	hl_cleanup(&h);
}

/*
 * 11.5, 11.8: with ussd.allow set, 1,100 connections trickling headers from
 * other addresses are refused at accept; the aggregator's USSD request is
 * answered while they trickle; the refusals are counted in /metrics and
 * logged once.
 */
static void test_slowloris_refused_at_accept(void **state)
{
	static struct hl h;
	char status_path[400];
	struct trickle_status st;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, "ussd", "ussd = { secret = \"test-secret\"; allow = [\"127.0.0.1\"]; };"), 0);
	watch(&h);
	assert_int_equal(hl_start(&h, NULL), 0);
	start_trickle(&h, 2, 12, 100, 60, status_path, sizeof(status_path));
	assert_true(hl_wait(WAIT_MS, status_file, &h, status_path));
	assert_true(read_status(status_path, &st));
	assert_int_equal(st.opened, 1100);

	assert_int_equal(ussd_from(&h, "127.0.0.1", 2), 200);
	assert_true(trickling()); /* answered while the trickle goes on */
	assert_true(metric(&h, "hotline_http_refused_total{reason=\"not_allowed\"} ") >= 1000);
	stop_trickle();
	/* one line for the first refusal; the rest are counted, and summed up a minute later */
	assert_int_equal(hl_log_count(&h, "refused a connection from"), 1);
	hl_cleanup(&h);
}

struct metric_want {
	const char *line;
	long long min;
};

static bool metric_reaches(struct hl *h, void *arg)
{
	const struct metric_want *m = arg;

	return metric(h, m->line) >= m->min;
}

/*
 * 11.5, 11.6, 11.8: USSD open to any address with the secret (no ussd.allow),
 * hotlined under RLIMIT_NOFILE 128; 40 other addresses trickle 6 connections
 * each. Each address gets http.per_ip_limit, the last places stay for
 * 127.0.0.1 (http.ops_allow): its USSD request is answered, an SMS is read
 * and answered (the modem still has descriptors), and the trickling
 * connections are closed at the deadline, all while the trickle goes on.
 */
static void test_slowloris_per_ip_reserve_deadline(void **state)
{
	static struct hl h;
	char status_path[400], *reply, extra[256];
	struct metric_want per_ip = { "hotline_http_refused_total{reason=\"per_ip_limit\"} ", 1 },
			   reserve = { "hotline_http_refused_total{reason=\"reserve\"} ", 1 },
			   deadline = { "hotline_http_aborted_total{kind=\"deadline\"} ", 1 };

	(void)state;
	assert_int_equal(hl_setup(&h, 1, "http", NULL), 0);
	watch(&h);
	snprintf(extra, sizeof(extra), "http = { address = \"127.0.0.1\"; port = %d; per_ip_limit = 4; };", h.port);
	FILE *f = fopen(h.cfg, "a");
	assert_non_null(f);
	fprintf(f, "%s\n", extra);
	fclose(f);
	h.nofile = 128;
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_true(hl_log_has(&h, "file descriptors: 128 usable"));
	start_trickle(&h, 2, 41, 6, 60, status_path, sizeof(status_path));
	assert_true(hl_wait(WAIT_MS, status_file, &h, status_path));

	assert_int_equal(ussd_from(&h, "127.0.0.1", 3), 200);
	assert_int_equal(hl_sms(&h, 0, "13700000961", "低保", NULL), 1);
	reply = hl_wait_reply(&h, "13700000961", 1, WAIT_MS);
	assert_non_null(reply);
	free(reply);
	assert_true(trickling());
	assert_true(hl_wait(WAIT_MS, metric_reaches, &h, &per_ip));
	assert_true(hl_wait(WAIT_MS, metric_reaches, &h, &reserve));
	/* the 10 s deadline for headers and body, whatever the trickle */
	if (!hl_wait(20000, metric_reaches, &h, &deadline)) {
		hl_dump_log(&h);
		fail_msg("no connection closed at the deadline");
	}
	/* the trickler saw them closed */
	assert_true(hl_wait(5000, closed_late, &h, status_path));
	assert_true(trickling());
	stop_trickle();
	assert_int_equal(hl_log_count(&h, "had not sent its request within"), 1);
	hl_cleanup(&h);
}

/*
 * 11.7: /ussd/<secret>/end waits for the write lock in the writer thread:
 * /healthz is answered meanwhile; the notification is stored once the lock
 * is free. And no "thread pool size ... ignored" warning at start.
 */
static void test_end_waits_in_the_writer(void **state)
{
	static struct hl h;
	sqlite3 *db = NULL;
	char path[128], *body = NULL;
	int fd, status;

	(void)state;
	assert_int_equal(hl_setup(&h, 1, NULL, NULL), 0);
	watch(&h);
	assert_int_equal(hl_start(&h, NULL), 0);
	assert_false(hl_log_has(&h, "thread pool size"));
	assert_true(hl_wait(WAIT_MS, healthy, &h, NULL));

	assert_int_equal(sqlite3_open_v2(h.db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	snprintf(path, sizeof(path), "/ussd/%s/end", h.secret);
	fd = connect_from(&h, "127.0.0.1");
	assert_true(fd >= 0);
	send_request(fd, "POST", path, "sessionId=end-1&phoneNumber=13700000971&status=completed");
	/* while /end waits for the lock, /healthz answers */
	status = http_from(&h, "127.0.0.1", "GET", "/healthz", NULL, NULL);
	struct pollfd p = { fd, POLLIN, 0 };
	bool end_pending = poll(&p, 1, 0) == 0;
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_true(status == 200 || status == 503);
	assert_true(end_pending);
	/* the lock gone, /end is stored and answered */
	assert_int_equal(read_answer(fd, &body, 20000), 200);
	close(fd);
	assert_non_null(body);
	assert_string_equal(body, "OK\n");
	free(body);
	assert_int_equal(hl_int(&h, "SELECT count(*) FROM messages WHERE kind = 'end' AND session = 'end-1'"), 1);
	hl_cleanup(&h);
}

static int teardown(void **state)
{
	(void)state;
	stop_trickle();
	if (live != NULL) {
		hl_cleanup(live);
		live = NULL;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_ops_allow, teardown),
		cmocka_unit_test_teardown(test_slowloris_refused_at_accept, teardown),
		cmocka_unit_test_teardown(test_slowloris_per_ip_reserve_deadline, teardown),
		cmocka_unit_test_teardown(test_end_waits_in_the_writer, teardown),
	};

	if (getenv("HL_ONLY")) /* HL_ONLY=test_ops_allow: one test */
		cmocka_set_test_filter(getenv("HL_ONLY"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
