/*
 * kannel: the sender thread of a Kannel link, the one file with libcurl.
 *
 * It drains the outbox like a modem thread (store_outbox_claim one message
 * right before it goes, then store_outbox_sent / _retry / _failed) through
 * smsbox's sendsms: UTF-8 with coding 2 (UCS-2 on the air) for anything
 * beyond GSM-7, Kannel splitting and concatenating long texts (the
 * sendsms-user needs max-messages and concatenation), and a dlr-url back to
 * /kannel/<name>/<secret>/dlr?msg=<id> so the reports land on the message.
 * smsbox not answering (it exits when its bearerbox goes) puts the link in
 * BACKOFF: /healthz, /metrics and the supervisor's alert see it as a modem
 * that is down; a check every check_interval seconds brings it back.
 */
#include "kannel.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "dispatch.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "smstext.h"
#include "store.h"
#include "store_modem.h"
#include "world.h"

#define SEND_ROUND 32
#define DOWN_GRACE_S 10 /* another channel down this long: send its messages too */
#define ANSWER_MAX 512

struct kannel {
	char *name, *url, *user, *password, *from, *dlr_base, *db_path;
	int check_interval; /* seconds */
	int timeout;        /* seconds per sendsms call */
	pthread_t thread;
	atomic_bool stop;
	struct store *st;
	CURL *curl;
	struct modem_health h;
	int backoff_s;
	int64_t next_check; /* mono ms */
	uint64_t bell;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_setup(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		log_errorx("kannel", "libcurl could not start");
}

static void publish(struct kannel *k)
{
	health_modem_set(&k->h);
	metrics_modem(k->name, k->h.connected, -1, k->h.resets, NAN);
	if (k->st && store_modem_status_set(k->st, &k->h) < 0)
		log_warnx("kannel", "%s: could not record its state", k->name);
}

static void enter_state(struct kannel *k, enum modem_state s, const char *why)
{
	if (k->h.state != s) {
		if (s == MODEM_READY || k->h.state == MODEM_READY)
			log_info("kannel", "%s: %s -> %s%s%s", k->name, modem_state_name(k->h.state), modem_state_name(s),
			    why ? ": " : "", why ? why : "");
		if (k->h.state == MODEM_READY)
			k->h.down_since = now_unix();
		k->h.state = s;
		k->h.since = now_unix();
	}
	k->h.connected = s == MODEM_READY;
	if (why)
		snprintf(k->h.error, sizeof(k->h.error), "%s", why);
	else if (s == MODEM_READY)
		k->h.error[0] = '\0';
	publish(k);
}

/* smsbox did not answer: down, and checked again after a backoff (1 s, 2 s, ... up to check_interval). */
static void went_down(struct kannel *k, const char *why)
{
	k->backoff_s = k->backoff_s ? k->backoff_s * 2 : 1;
	if (k->backoff_s > k->check_interval)
		k->backoff_s = k->check_interval;
	if (k->h.state != MODEM_BACKOFF)
		log_warnx("kannel", "%s: smsbox does not answer (%s); checking again every %d s at most", k->name, why,
		    k->check_interval);
	k->next_check = mono_ms() + (int64_t)k->backoff_s * 1000;
	enter_state(k, MODEM_BACKOFF, why);
}

static size_t keep_answer(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = size * n;

	if (b->len < ANSWER_MAX)
		buf_add(b, data, len < ANSWER_MAX - b->len ? len : ANSWER_MAX - b->len);
	return len;
}

/*
 * One GET; returns the HTTP status, or 0 when smsbox did not answer (err
 * says why). The answer's first line goes into answer.
 */
static long http_get(struct kannel *k, const char *url, char *answer, size_t alen, char *err, size_t elen)
{
	struct buf b = { 0 };
	long status = 0;
	CURLcode rc;

	curl_easy_reset(k->curl);
	curl_easy_setopt(k->curl, CURLOPT_URL, url);
	curl_easy_setopt(k->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k->curl, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(k->curl, CURLOPT_TIMEOUT, (long)k->timeout);
	curl_easy_setopt(k->curl, CURLOPT_WRITEFUNCTION, keep_answer);
	curl_easy_setopt(k->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(k->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(k->curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
	else
		snprintf(err, elen, "%s", curl_easy_strerror(rc));
	snprintf(answer, alen, "%.*s", (int)strcspn(buf_str(&b), "\r\n"), buf_str(&b));
	buf_free(&b);
	return status;
}

/* Does smsbox answer at all? Any HTTP status will do (without credentials it says 403). */
static void check(struct kannel *k)
{
	char answer[128], err[CURL_ERROR_SIZE + 64] = "";

	k->next_check = mono_ms() + (int64_t)k->check_interval * 1000;
	if (http_get(k, k->url, answer, sizeof(answer), err, sizeof(err)) == 0) {
		went_down(k, err);
		return;
	}
	k->backoff_s = 0;
	if (k->h.state != MODEM_READY)
		enter_state(k, MODEM_READY, NULL);
}

static void add_param(struct buf *b, CURL *c, const char *name, const char *value)
{
	char *esc = curl_easy_escape(c, value, 0);

	buf_printf(b, "%s%s=%s", strchr(buf_str(b), '?') ? "&" : "?", name, esc ? esc : "");
	curl_free(esc);
}

enum send_rc { SEND_OK, SEND_RETRY, SEND_PERM, SEND_DOWN };

/* The sendsms call for one message. */
static enum send_rc sendsms(struct kannel *k, const struct store_send *s, char *why, size_t wlen)
{
	struct buf url = { 0 }, dlr = { 0 };
	char answer[ANSWER_MAX], err[CURL_ERROR_SIZE + 64] = "";
	bool gsm7 = sms_is_gsm7(s->text, strlen(s->text));
	long status;

	buf_adds(&url, k->url);
	add_param(&url, k->curl, "username", k->user);
	add_param(&url, k->curl, "password", k->password);
	add_param(&url, k->curl, "from", k->from);
	add_param(&url, k->curl, "to", s->phone);
	add_param(&url, k->curl, "charset", "UTF-8");
	add_param(&url, k->curl, "coding", gsm7 ? "0" : "2");
	add_param(&url, k->curl, "text", s->text);
	buf_printf(&dlr, "%s%smsg=%lld&type=%%d", k->dlr_base, strchr(k->dlr_base, '?') ? "&" : "?", (long long)s->id);
	add_param(&url, k->curl, "dlr-mask", "31");
	add_param(&url, k->curl, "dlr-url", buf_str(&dlr));
	status = http_get(k, buf_str(&url), answer, sizeof(answer), err, sizeof(err));
	buf_free(&url);
	buf_free(&dlr);
	if (status == 0) {
		snprintf(why, wlen, "smsbox: %s", err);
		return SEND_DOWN;
	}
	snprintf(why, wlen, "smsbox %ld: %s", status, answer);
	if (status == 200 || status == 202)
		return SEND_OK;
	/* 4xx: this message can never go (a bad number, a text smsbox refuses), but for
	 * credentials (401/403): a setting to fix, and nothing to give up on */
	if (status >= 400 && status < 500 && status != 401 && status != 403 && status != 429)
		return SEND_PERM;
	return SEND_RETRY;
}

static void send_one(struct kannel *k, const struct config *cfg, struct store_send *s)
{
	char why[ANSWER_MAX + 64], who[LOG_PHONE_BUF];
	enum send_rc rc = sendsms(k, s, why, sizeof(why));
	struct sms_count cnt;

	log_phone(s->phone, who, sizeof(who));
	if (rc == SEND_OK) {
		sms_count(s->text, strlen(s->text), &cnt);
		metrics_send(true, false);
		metrics_message("sms", "out");
		k->h.sent++;
		if (store_outbox_sent(k->st, s->id, (int)cnt.segments, -1, now_unix()) < 0)
			log_errorx("kannel", "%s: message %lld was sent but could not be recorded as sent", k->name,
			    (long long)s->id);
		log_debug("kannel", "%s: sent %lld to %s (%zu part%s)", k->name, (long long)s->id, who, cnt.segments,
		    cnt.segments == 1 ? "" : "s");
		return;
	}
	if (rc == SEND_PERM || s->attempts > cfg->send_retries) {
		char final[sizeof(why) + 32];
		snprintf(final, sizeof(final), "%s%s", rc == SEND_PERM ? "" : "gave up after retries: ", why);
		metrics_send(false, true);
		log_warnx("kannel", "%s: message %lld to %s failed for good: %s", k->name, (long long)s->id, who, final);
		if (store_outbox_failed(k->st, s->id, final) < 0)
			log_errorx("kannel", "%s: could not record message %lld as failed", k->name, (long long)s->id);
		return;
	}
	metrics_send(false, false);
	metrics_retry();
	int64_t delay = dispatch_retry_delay(cfg, s->attempts);
	log_warnx("kannel", "%s: message %lld to %s not sent (%s); retry %d in %lld s", k->name, (long long)s->id, who,
	    why, s->attempts, (long long)delay);
	if (store_outbox_retry(k->st, s->id, now_unix() + delay, why) < 0)
		log_errorx("kannel", "%s: could not requeue message %lld", k->name, (long long)s->id);
	if (rc == SEND_DOWN)
		went_down(k, why);
}

/* Send what is due for `target` (NULL: no channel named), one claim at a time. */
static int send_for(struct kannel *k, const struct config *cfg, const char *target)
{
	int tried = 0;

	while (tried < SEND_ROUND && k->h.state == MODEM_READY && !atomic_load(&k->stop)) {
		struct store_send one;
		size_t n = 0;
		if (store_outbox_claim(k->st, target, k->name, now_unix(), &one, 1, &n) < 0 || n == 0)
			break;
		tried++;
		send_one(k, cfg, &one);
		store_sends_free(&one, 1);
	}
	return tried;
}

static int send_round(struct kannel *k, const struct config *cfg)
{
	struct modem_health others[16];
	size_t no = health_modems(others, 16);
	int total = send_for(k, cfg, k->name);

	total += send_for(k, cfg, NULL);
	/* a channel that is down: its conversations go out through this one */
	for (size_t i = 0; i < no && i < 16; i++) {
		if (strcmp(others[i].name, k->name) == 0 || others[i].connected ||
		    now_unix() - others[i].since < DOWN_GRACE_S)
			continue;
		total += send_for(k, cfg, others[i].name);
	}
	return total;
}

static void nap(struct kannel *k, int ms)
{
	while (ms > 0 && !atomic_load(&k->stop)) {
		int step = ms > 200 ? 200 : ms;
		if (outbox_wait(&k->bell, step))
			return;
		ms -= step;
	}
}

static void *kannel_main(void *arg)
{
	struct kannel *k = arg;
	struct store_opts so = { 0 };
	char err[512];
	struct world *w0 = world_get();

	so.synchronous = w0 ? w0->cfg->db_synchronous : "full";
	world_release(w0);
	if (store_open(k->db_path, &so, &k->st, err, sizeof(err)) < 0) {
		log_errorx("kannel", "%s: %s; this link stays down", k->name, err);
		enter_state(k, MODEM_DOWN, err);
		return NULL;
	}
	k->curl = curl_easy_init();
	if (k->curl == NULL) {
		log_errorx("kannel", "%s: libcurl could not start; this link stays down", k->name);
		enter_state(k, MODEM_DOWN, "libcurl could not start");
		store_close(k->st);
		k->st = NULL;
		return NULL;
	}
	enter_state(k, MODEM_CONNECTING, NULL);
	while (!atomic_load(&k->stop)) {
		int sent = 0;
		if (mono_ms() >= k->next_check)
			check(k);
		if (k->h.state == MODEM_READY) {
			struct world *w = world_get();
			sent = send_round(k, w->cfg);
			world_release(w);
		}
		if (sent == 0) {
			int64_t wait = k->next_check - mono_ms();
			nap(k, wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait);
		}
	}
	enter_state(k, MODEM_DOWN, "stopping");
	curl_easy_cleanup(k->curl);
	store_close(k->st);
	k->st = NULL;
	return NULL;
}

static void kannel_free(struct kannel *k)
{
	free(k->name);
	free(k->url);
	free(k->user);
	free(k->password);
	free(k->from);
	free(k->dlr_base);
	free(k->db_path);
	free(k);
}

int kannel_start(const struct modem_cfg *mc, const struct config *cfg, struct kannel **out)
{
	struct kannel *k = xcalloc(1, sizeof(*k));
	int rc;

	pthread_once(&curl_once, curl_setup);
	k->name = xstrdup(mc->name);
	k->url = xstrdup(mc->sendsms_url);
	k->user = xstrdup(mc->sendsms_user);
	k->password = xstrdup(mc->sendsms_password);
	k->from = xstrdup(mc->nnumbers ? mc->numbers[0] : "");
	if (*mc->dlr_url) {
		k->dlr_base = xstrdup(mc->dlr_url);
	} else {
		const char *host = strcmp(cfg->http_address, "0.0.0.0") == 0 ? "127.0.0.1"
		    : strcmp(cfg->http_address, "::") == 0 ? "[::1]" : cfg->http_address;
		bool v6 = strchr(host, ':') != NULL && host[0] != '[';
		k->dlr_base = xasprintf("http://%s%s%s:%d/kannel/%s/%s/dlr", v6 ? "[" : "", host, v6 ? "]" : "",
		    cfg->http_port, mc->name, mc->secret);
	}
	k->db_path = xstrdup(cfg->db_path);
	k->check_interval = mc->check_interval;
	k->timeout = mc->send_timeout;
	atomic_init(&k->stop, false);
	snprintf(k->h.name, sizeof(k->h.name), "%s", mc->name);
	k->h.signal = -1;
	k->h.battery = -1;
	k->h.balance = NAN;
	k->h.state = MODEM_DOWN;
	k->h.since = k->h.down_since = now_unix();
	health_modem_set(&k->h);
	rc = pthread_create(&k->thread, NULL, kannel_main, k);
	if (rc != 0) {
		errno = rc;
		log_error("kannel", "%s: cannot start its thread", mc->name);
		kannel_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

void kannel_request_stop(struct kannel *k)
{
	atomic_store(&k->stop, true);
}

void kannel_join(struct kannel *k)
{
	if (k == NULL)
		return;
	pthread_join(k->thread, NULL);
	kannel_free(k);
}
