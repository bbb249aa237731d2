/*
 * bench_console: the staff console's pages on a full database: 10,000 cases
 * and 100,000 messages (-k, -m), an admin logged in, then the case list
 * (page 1, as 请求 opens) and a case page (its timeline and its applicant's
 * thread) each requested -n times through console_handle, the router the
 * HTTP glue calls (in process: the socket and libmicrohttpd are not in the
 * figure); p50 and p99 in milliseconds. Then logins per second (Argon2id at
 * libsodium's interactive cost: it costs what it costs). One line of
 * key=value.
 *
 *   bench_console [-c CONFIG] [-k CASES] [-m MESSAGES] [-n REQUESTS]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "bench_corpus.h"
#include "console.h"
#include "diag.h"
#include "log.h"
#include "store.h"
#include "store_cases.h"
#include "store_messages.h"
#include "world.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	int i = (int)(p * (n - 1) + 0.5);
	return v[i];
}

/* Fill the database in one transaction: cases spread over the staff's towns, messages over their applicants. */
static int fill(struct store *st, int ncases, int nmsgs, int64_t t0)
{
	static const char *const places[] = { "崆峒镇东关村5组", "白水镇寨子街村3组", "崆峒镇西关村", "柳湖镇", "白水镇" };
	static const char *const statuses[] = { "received", "assigned", "visited", "reviewing", "done" };
	char phone[24], number[24], name[32];

	if (store_begin(st) < 0)
		return -1;
	for (int i = 0; i < ncases; i++) {
		struct store_case k = { 0 };
		int64_t id;
		snprintf(phone, sizeof(phone), "+86137%08d", i);
		snprintf(number, sizeof(number), "2026-%05d", i + 1);
		snprintf(name, sizeof(name), "村民%d", i);
		k.number = number;
		k.topic = "zhitongche";
		k.channel = "sms";
		k.applicant_phone = phone;
		k.contact_phone = phone;
		k.name = name;
		k.place = (char *)places[i % 5];
		k.need = "老伴瘫痪在床，想办低保";
		k.staff = i % 2 ? "李秀英" : "王建国";
		k.status = (char *)statuses[i % 5];
		k.created_at = t0 - (ncases - i) * 60;
		if (store_case_add(st, &k, &id) < 0)
			return -1;
	}
	for (int i = 0; i < nmsgs; i++) {
		struct store_msg m = { 0 };
		int64_t id;
		snprintf(phone, sizeof(phone), "+86137%08d", i % (ncases > 0 ? ncases : 1));
		m.channel = CHANNEL_SMS;
		m.direction = i % 2 ? DIRECTION_OUT : DIRECTION_IN;
		m.phone = phone;
		m.text = i % 2 ? "低保怎么申请：带上户口本、身份证，到村委会或乡镇民政办提出申请。" : "我想问问低保咋申请";
		m.text_len = strlen(m.text);
		m.parts = 1;
		m.status = i % 2 ? MSG_STATUS_SENT : MSG_STATUS_ANSWERED;
		m.kind = i % 2 ? MSG_KIND_REPLY : MSG_KIND_TEXT;
		m.created_at = t0 - (nmsgs - i) * 6;
		if (store_msg_add(st, &m, &id) < 0)
			return -1;
	}
	return store_commit(st);
}

static double request(struct store *st, const struct world *w, const char *path, const char *token, const char *addr)
{
	struct console_req rq = { 0 };
	struct console_resp rs;
	double t = bench_now();

	rq.method = "GET";
	rq.path = path;
	rq.session = token;
	rq.addr = addr;
	rq.now = now_unix();
	(void)console_handle(st, w, &rq, &rs);
	t = bench_now() - t;
	if (rs.status != 200) {
		fprintf(stderr, "bench_console: %s answered %d\n", path, rs.status);
		t = -1;
	}
	console_resp_free(&rs);
	return t;
}

int main(int argc, char **argv)
{
	const char *cfg_path = "config/hotline.cfg";
	int ncases = 10000, nmsgs = 100000, n = 200, ch, rc = 1;
	struct world *w;
	struct diag d;
	struct store *st;
	struct store_opts so = { 0 };
	char tmpl[] = "/tmp/bench-console-XXXXXX", err[512], *path, *dir;
	bool ok;

	while ((ch = getopt(argc, argv, "c:k:m:n:")) != -1) {
		switch (ch) {
		case 'c': cfg_path = optarg; break;
		case 'k': ncases = atoi(optarg); break;
		case 'm': nmsgs = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench_console [-c CONFIG] [-k CASES] [-m MESSAGES] [-n REQUESTS]\n");
			return 2;
		}
	}
	if (ncases < 1 || nmsgs < 0 || n < 2)
		return 2;
	log_init(LOG_LVL_ERROR, true);
	diag_init(&d);
	w = world_load(cfg_path, &d);
	if (w == NULL) {
		diag_print(&d, stderr);
		return 1;
	}
	diag_free(&d);
	if (auth_init() < 0 || (dir = mkdtemp(tmpl)) == NULL)
		return 1;
	path = xasprintf("%s/console.db", dir);
	so.create = true;
	so.migrate = true;
	so.synchronous = w->cfg->db_synchronous;
	so.country = w->cfg->phone_country;
	if (store_open(path, &so, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_console: %s\n", err);
		return 1;
	}
	int64_t t0 = now_unix();
	double fill_s = bench_now();
	if (fill(st, ncases, nmsgs, t0) < 0 || auth_user_add(st, "admin", "bench-pass-1", "admin", NULL, t0, &ok) < 0)
		goto out;
	fill_s = bench_now() - fill_s;

	/* logins: each one Argon2id verify, a session row */
	struct auth_policy p = { 1000000, 900, 1800 };
	struct auth_login lr;
	int logins = 10;
	double ls = bench_now();
	for (int i = 0; i < logins; i++)
		if (store_begin(st) < 0 || auth_login(st, w->cfg, &p, "admin", "bench-pass-1", "127.0.0.1", now_unix(), &lr) < 0 ||
		    store_commit(st) < 0 || lr.outcome != AUTH_LOGIN_OK)
			goto out;
	ls = bench_now() - ls;

	double *list = xcalloc((size_t)n, sizeof(double)), *page = xcalloc((size_t)n, sizeof(double));
	char casepath[48];
	(void)request(st, w, "/cases", lr.token, "127.0.0.1"); /* warm the statement cache */
	for (int i = 0; i < n; i++) {
		snprintf(casepath, sizeof(casepath), "/cases/2026-%05d", 1 + (i * 7919) % ncases);
		if ((list[i] = request(st, w, "/cases", lr.token, "127.0.0.1")) < 0 ||
		    (page[i] = request(st, w, casepath, lr.token, "127.0.0.1")) < 0) {
			free(list);
			free(page);
			goto out;
		}
	}
	printf("console cases=%d messages=%d requests=%d inproc=1 fill_s=%.1f list_p50_ms=%.2f list_p99_ms=%.2f "
	       "case_p50_ms=%.2f case_p99_ms=%.2f logins_per_s=%.1f\n",
	    ncases, nmsgs, n, fill_s, pct(list, n, 0.5) * 1e3, pct(list, n, 0.99) * 1e3, pct(page, n, 0.5) * 1e3,
	    pct(page, n, 0.99) * 1e3, logins / ls);
	free(list);
	free(page);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "bench_console: failed\n");
	store_close(st);
	for (int i = 0; i < 3; i++) {
		char *f = xasprintf("%s%s", path, (const char *const[]){ "", "-wal", "-shm" }[i]);
		unlink(f);
		free(f);
	}
	rmdir(dir);
	free(path);
	world_release(w);
	return rc;
}
