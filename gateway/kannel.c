/*
 * kannel: the sender threads of a Kannel link, the one file with libcurl.
 *
 * Each of the link's `senders` threads (1 by default) drains the outbox like
 * a modem thread (store_outbox_claim one message right before it goes, then
 * store_outbox_sent / _retry / _failed; the claim is a transaction, so two
 * threads never take the same message) through
 * smsbox's sendsms: UTF-8 with coding 2 (UCS-2 on the air) for anything
 * beyond GSM-7, Kannel splitting and concatenating long texts (the
 * sendsms-user needs max-messages and concatenation), and a dlr-url back to
 * /kannel/<name>/<secret>/dlr?msg=<id> so the reports land on the message.
 * smsbox not answering (it exits when its bearerbox goes) puts the link in
 * BACKOFF: /healthz, /metrics and the supervisor's alert see it as a modem
 * that is down; a check every check_interval seconds (by the first sender)
 * brings it back. The link's state is shared by its senders under a mutex.
 *
 * smsbox's 202 is tentative: bearerbox may die before it stores the MT. A
 * sent MT the SMSC has not acknowledged (report 8, or a final 1/2/16) goes
 * back into the outbox (the same row, counted uncertain) when the link was
 * seen down and comes back, or after ack_timeout seconds; at most
 * RESEND_MAX times. Sender 0 looks for them.
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
#include "outbox.h"
#include "smstext.h"
#include "store.h"
#include "store_kannel.h"
#include "store_modem.h"
#include "store_outbox.h"
#include "world.h"

#define SEND_ROUND 32
#define DOWN_GRACE_S 10 /* another channel down this long: send its messages too */
#define ANSWER_MAX 512
#define RESEND_MAX 3          /* resends of one unacknowledged MT (messages.uncertain) */
#define RESEND_WINDOW_S 21600 /* only sends of the last 6 hours are looked at */
#define RESEND_ROUND 64

struct kannel;

/* One sender thread: its own database connection and curl handle. */
struct sender {
	struct kannel *k;
	int index;          /* 0 checks smsbox and owns the link's state transitions at start and stop */
	pthread_t thread;
	bool started;
	struct store *st;
	CURL *curl;
	uint64_t bell;
};

struct kannel {
	char *name, *url, *user, *password, *from, *dlr_base, *db_path;
	int check_interval; /* seconds */
	int timeout;        /* seconds per sendsms call */
	int ack_timeout;    /* seconds; 0: no resend after a time */
	int64_t next_ack_scan; /* mono ms; sender 0 only */
	atomic_bool stop;
	pthread_mutex_t lock; /* guards h, backoff_s, next_check, seen_down, resend_before */
	struct modem_health h;
	bool seen_down;        /* left READY since it was last READY */
	int64_t resend_before; /* unix: back after a fall; resend the unacknowledged sent before (0: none) */
	int backoff_s;
	int64_t next_check; /* mono ms */
	int nsenders;
	struct sender *senders;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_setup(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		log_errorx("kannel", "libcurl could not start");
}

/* With k->lock held; st: a connection to record the state in (NULL: none at hand). */
static void publish_locked(struct kannel *k, struct store *st)
{
	health_modem_set(&k->h);
	metrics_modem(k->name, k->h.connected, -1, k->h.resets, NAN);
	if (st && store_modem_status_set(st, &k->h) < 0)
		log_warnx("kannel", "%s: could not record its state", k->name);
}

static void enter_state_locked(struct kannel *k, struct store *st, enum modem_state s, const char *why)
{
	if (k->h.state != s) {
		if (s == MODEM_READY || k->h.state == MODEM_READY)
			log_info("kannel", "%s: %s -> %s%s%s", k->name, modem_state_name(k->h.state), modem_state_name(s),
			    why ? ": " : "", why ? why : "");
		if (k->h.state == MODEM_READY) {
			k->h.down_since = now_unix();
			k->seen_down = true;
		}
		if (s == MODEM_READY && k->seen_down) {
			k->seen_down = false;
			k->resend_before = now_unix();
		}
		k->h.state = s;
		k->h.since = now_unix();
	}
	k->h.connected = s == MODEM_READY;
	if (why)
		snprintf(k->h.error, sizeof(k->h.error), "%s", why);
	else if (s == MODEM_READY)
		k->h.error[0] = '\0';
	publish_locked(k, st);
}

static void enter_state(struct sender *w, enum modem_state s, const char *why)
{
	pthread_mutex_lock(&w->k->lock);
	enter_state_locked(w->k, w->st, s, why);
	pthread_mutex_unlock(&w->k->lock);
}

static bool link_ready(struct kannel *k)
{
	bool ready;

	pthread_mutex_lock(&k->lock);
	ready = k->h.state == MODEM_READY;
	pthread_mutex_unlock(&k->lock);
	return ready;
}

/* smsbox did not answer: down, and checked again after a backoff (1 s, 2 s, ... up to check_interval). */
static void went_down(struct sender *w, const char *why)
{
	struct kannel *k = w->k;

	pthread_mutex_lock(&k->lock);
	if (k->h.state != MODEM_BACKOFF) {
		k->backoff_s = k->backoff_s ? k->backoff_s * 2 : 1;
		if (k->backoff_s > k->check_interval)
			k->backoff_s = k->check_interval;
		log_warnx("kannel", "%s: smsbox does not answer (%s); checking again every %d s at most", k->name, why,
		    k->check_interval);
		k->next_check = mono_ms() + (int64_t)k->backoff_s * 1000;
	}
	enter_state_locked(k, w->st, MODEM_BACKOFF, why);
	pthread_mutex_unlock(&k->lock);
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
static long http_get(struct sender *w, const char *url, char *answer, size_t alen, char *err, size_t elen)
{
	struct buf b = { 0 };
	long status = 0;
	CURLcode rc;

	curl_easy_reset(w->curl);
	curl_easy_setopt(w->curl, CURLOPT_URL, url);
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(w->curl, CURLOPT_TIMEOUT, (long)w->k->timeout);
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, keep_answer);
	curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(w->curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
	else
		snprintf(err, elen, "%s", curl_easy_strerror(rc));
	snprintf(answer, alen, "%.*s", (int)strcspn(buf_str(&b), "\r\n"), buf_str(&b));
	buf_free(&b);
	return status;
}

/* Does smsbox answer at all? Any HTTP status will do (without credentials it says 403). Sender 0 asks. */
static void check(struct sender *w)
{
	struct kannel *k = w->k;
	char answer[128], err[CURL_ERROR_SIZE + 64] = "";
	long status = http_get(w, k->url, answer, sizeof(answer), err, sizeof(err));

	pthread_mutex_lock(&k->lock);
	if (status == 0) {
		k->backoff_s = k->backoff_s ? k->backoff_s * 2 : 1;
		if (k->backoff_s > k->check_interval)
			k->backoff_s = k->check_interval;
		if (k->h.state != MODEM_BACKOFF)
			log_warnx("kannel", "%s: smsbox does not answer (%s); checking again every %d s at most", k->name,
			    err, k->check_interval);
		k->next_check = mono_ms() + (int64_t)k->backoff_s * 1000;
		enter_state_locked(k, w->st, MODEM_BACKOFF, err);
	} else {
		k->backoff_s = 0;
		k->next_check = mono_ms() + (int64_t)k->check_interval * 1000;
		if (k->h.state != MODEM_READY)
			enter_state_locked(k, w->st, MODEM_READY, NULL);
	}
	pthread_mutex_unlock(&k->lock);
}

static bool check_due(struct kannel *k, int64_t *wait_ms)
{
	bool due;

	pthread_mutex_lock(&k->lock);
	*wait_ms = k->next_check - mono_ms();
	due = *wait_ms <= 0;
	pthread_mutex_unlock(&k->lock);
	return due;
}

static void add_param(struct buf *b, CURL *c, const char *name, const char *value)
{
	char *esc = curl_easy_escape(c, value, 0);

	buf_printf(b, "%s%s=%s", strchr(buf_str(b), '?') ? "&" : "?", name, esc ? esc : "");
	curl_free(esc);
}

enum send_rc { SEND_OK, SEND_RETRY, SEND_PERM, SEND_DOWN };

/* The sendsms call for one message. */
static enum send_rc sendsms(struct sender *w, const struct store_send *s, char *why, size_t wlen)
{
	struct kannel *k = w->k;
	struct buf url = { 0 }, dlr = { 0 };
	char answer[ANSWER_MAX], err[CURL_ERROR_SIZE + 64] = "";
	bool gsm7 = sms_is_gsm7(s->text, strlen(s->text));
	long status;

	buf_adds(&url, k->url);
	add_param(&url, w->curl, "username", k->user);
	add_param(&url, w->curl, "password", k->password);
	add_param(&url, w->curl, "from", k->from);
	add_param(&url, w->curl, "to", s->phone);
	add_param(&url, w->curl, "charset", "UTF-8");
	add_param(&url, w->curl, "coding", gsm7 ? "0" : "2");
	add_param(&url, w->curl, "text", s->text);
	buf_printf(&dlr, "%s%smsg=%lld&type=%%d", k->dlr_base, strchr(k->dlr_base, '?') ? "&" : "?", (long long)s->id);
	add_param(&url, w->curl, "dlr-mask", "31");
	add_param(&url, w->curl, "dlr-url", buf_str(&dlr));
	status = http_get(w, buf_str(&url), answer, sizeof(answer), err, sizeof(err));
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

static void send_one(struct sender *w, const struct config *cfg, struct store_send *s)
{
	struct kannel *k = w->k;
	char why[ANSWER_MAX + 64], who[LOG_PHONE_BUF];
	enum send_rc rc = sendsms(w, s, why, sizeof(why));
	struct sms_count cnt;

	log_phone(s->phone, who, sizeof(who));
	if (rc == SEND_OK) {
		sms_count(s->text, strlen(s->text), &cnt);
		metrics_send(true, false);
		metrics_message(CHANNEL_SMS, DIRECTION_OUT);
		pthread_mutex_lock(&k->lock);
		k->h.sent++;
		pthread_mutex_unlock(&k->lock);
		if (store_outbox_sent(w->st, s->id, (int)cnt.segments, -1, now_unix()) < 0)
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
		if (store_outbox_failed(w->st, s->id, final) < 0)
			log_errorx("kannel", "%s: could not record message %lld as failed", k->name, (long long)s->id);
		return;
	}
	metrics_send(false, false);
	metrics_retry();
	int64_t delay = outbox_retry_delay(cfg, s->attempts);
	log_warnx("kannel", "%s: message %lld to %s not sent (%s); retry %d in %lld s", k->name, (long long)s->id, who,
	    why, s->attempts, (long long)delay);
	if (store_outbox_retry(w->st, s->id, now_unix() + delay, why) < 0)
		log_errorx("kannel", "%s: could not requeue message %lld", k->name, (long long)s->id);
	if (rc == SEND_DOWN)
		went_down(w, why);
}

/* Put the unacknowledged sends with since <= sent_at < before back in the outbox. */
static void resend_unacked(struct sender *w, int64_t since, int64_t before, const char *why)
{
	struct kannel *k = w->k;
	int64_t ids[RESEND_ROUND];
	size_t n = 0;
	int queued = 0;

	if (store_kannel_unacked(w->st, k->name, since, before, RESEND_MAX, ids, RESEND_ROUND, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		bool q = false;
		if (store_kannel_resend(w->st, ids[i], k->name, now_unix(), &q) < 0) {
			log_errorx("kannel", "%s: could not queue message %lld again", k->name, (long long)ids[i]);
			continue;
		}
		if (!q)
			continue;
		queued++;
		metrics_kannel_resent();
		log_warnx("kannel", "%s: message %lld has no acknowledgement from the SMSC (%s); sending it again", k->name,
		    (long long)ids[i], why);
	}
	if (queued)
		outbox_kick();
}

/* Sender 0: after a fall of the link, and every little while for ack_timeout. */
static void resend_check(struct sender *w)
{
	struct kannel *k = w->k;
	int64_t before, now = now_unix();

	pthread_mutex_lock(&k->lock);
	before = k->h.state == MODEM_READY ? k->resend_before : 0;
	if (before)
		k->resend_before = 0;
	pthread_mutex_unlock(&k->lock);
	if (before)
		resend_unacked(w, before - RESEND_WINDOW_S, before, "the link was down after it was handed over");
	if (k->ack_timeout > 0 && mono_ms() >= k->next_ack_scan) {
		int every = k->ack_timeout / 4;
		every = every < 1 ? 1 : every > 30 ? 30 : every;
		k->next_ack_scan = mono_ms() + (int64_t)every * 1000;
		resend_unacked(w, now - k->ack_timeout - RESEND_WINDOW_S, now - k->ack_timeout + 1, "ack_timeout passed");
	}
}

/* Send what is due for `target` (NULL: no channel named), one claim at a time. */
static int send_for(struct sender *w, const struct config *cfg, const char *target)
{
	int tried = 0;

	while (tried < SEND_ROUND && link_ready(w->k) && !atomic_load(&w->k->stop)) {
		struct store_send one;
		size_t n = 0;
		if (store_outbox_claim(w->st, target, w->k->name, now_unix(), &one, 1, &n) < 0 || n == 0)
			break;
		tried++;
		send_one(w, cfg, &one);
		store_sends_free(&one, 1);
	}
	return tried;
}

static int send_round(struct sender *w, const struct config *cfg)
{
	struct modem_health others[CONFIG_MAX_MODEMS];
	size_t no = health_modems(others, CONFIG_MAX_MODEMS);
	const char *name = w->k->name;
	int total = send_for(w, cfg, name);

	total += send_for(w, cfg, NULL);
	/* a channel that is down: its conversations go out through this one */
	for (size_t i = 0; i < no && i < CONFIG_MAX_MODEMS; i++) {
		if (strcmp(others[i].name, name) == 0 || others[i].connected || now_unix() - others[i].since < DOWN_GRACE_S)
			continue;
		total += send_for(w, cfg, others[i].name);
	}
	return total;
}

static void nap(struct sender *w, int ms)
{
	while (ms > 0 && !atomic_load(&w->k->stop)) {
		int step = ms > 200 ? 200 : ms;
		if (outbox_wait(&w->bell, step))
			return;
		ms -= step;
	}
}

static void *sender_main(void *arg)
{
	struct sender *w = arg;
	struct kannel *k = w->k;
	struct store_opts so = { 0 };
	char err[512];
	struct world *w0 = world_get();

	so.synchronous = w0 ? w0->cfg->db_synchronous : "full";
	world_release(w0);
	if (store_open(k->db_path, &so, &w->st, err, sizeof(err)) < 0) {
		log_errorx("kannel", "%s: %s; this sender stays down", k->name, err);
		if (w->index == 0)
			enter_state(w, MODEM_DOWN, err);
		return NULL;
	}
	w->curl = curl_easy_init();
	if (w->curl == NULL) {
		log_errorx("kannel", "%s: libcurl could not start; this sender stays down", k->name);
		if (w->index == 0)
			enter_state(w, MODEM_DOWN, "libcurl could not start");
		store_close(w->st);
		w->st = NULL;
		return NULL;
	}
	if (w->index == 0)
		enter_state(w, MODEM_CONNECTING, NULL);
	while (!atomic_load(&k->stop)) {
		int sent = 0;
		int64_t wait;
		if (check_due(k, &wait) && w->index == 0)
			check(w);
		if (w->index == 0 && link_ready(k))
			resend_check(w);
		if (link_ready(k)) {
			struct world *wd = world_get();
			sent = send_round(w, wd->cfg);
			world_release(wd);
		}
		if (sent == 0) {
			check_due(k, &wait);
			nap(w, w->index != 0 || wait > 1000 ? 1000 : wait < 0 ? 0 : (int)wait);
		}
	}
	if (w->index == 0)
		enter_state(w, MODEM_DOWN, "stopping");
	curl_easy_cleanup(w->curl);
	store_close(w->st);
	w->st = NULL;
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
	free(k->senders);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

int kannel_start(const struct modem_cfg *mc, const struct config *cfg, struct kannel **out)
{
	struct kannel *k = xcalloc(1, sizeof(*k));

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
	k->ack_timeout = mc->ack_timeout;
	atomic_init(&k->stop, false);
	pthread_mutex_init(&k->lock, NULL);
	snprintf(k->h.name, sizeof(k->h.name), "%s", mc->name);
	k->h.signal = -1;
	k->h.battery = -1;
	k->h.balance = NAN;
	k->h.state = MODEM_DOWN;
	k->h.since = k->h.down_since = now_unix();
	health_modem_set(&k->h);
	k->nsenders = mc->senders > 0 ? mc->senders : 1;
	k->senders = xcalloc((size_t)k->nsenders, sizeof(*k->senders));
	for (int i = 0; i < k->nsenders; i++) {
		struct sender *w = &k->senders[i];
		int rc;
		w->k = k;
		w->index = i;
		rc = pthread_create(&w->thread, NULL, sender_main, w);
		if (rc != 0) {
			errno = rc;
			log_error("kannel", "%s: cannot start sender %d", mc->name, i + 1);
			if (i == 0) {
				kannel_free(k);
				return -1;
			}
			break;
		}
		w->started = true;
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
	for (int i = 0; i < k->nsenders; i++)
		if (k->senders[i].started)
			pthread_join(k->senders[i].thread, NULL);
	kannel_free(k);
}
