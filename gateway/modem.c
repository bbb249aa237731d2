#include "modem.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calls.h"
#include "dispatch.h"
#include "gsm.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "modem_in.h"
#include "phone.h"
#include "smstext.h"
#include "store.h"
#include "store_modem.h"
#include "store_outbox.h"
#include "store_parts.h"
#include "world.h"

#define READ_BATCH 64       /* parts read from the phone per transaction */
#define SEND_ROUND 16       /* sends per modem per round, before the inbox is read again */
#define BACKOFF_MAX_MS 60000
#define FAILS_SOFT_RESET 3  /* consecutive failures of a connected modem before a soft reset */
#define FAILS_HARD_RESET 6  /* ... and before a hard one */
#define DOWN_GRACE_S 10     /* another modem down this long: send its messages too */
#define USSD_TIMEOUT_MS 30000
#define CONNECT_SLACK_S 10  /* the watchdog's deadline for a connect: op_timeout and this (libgammu's
                               first pass writes slowly and sleeps: about 4.5 s on an AT modem) */
#define WATCHDOG_TICK_MS 100
#define STOP_GRACE_MS 3000   /* after a stop request, an operation gets this long at most */
#define DELETE_WARN_MS 60000 /* failing deletes: one warning a minute, with a count */

struct modem {
	struct modem_cfg cfg; /* deep copy */
	char *db_path;
	pthread_t thread;
	atomic_bool stop;
	struct gsm *g;
	struct store *st;
	struct modem_health h;
	int backoff_ms;
	int fails;             /* consecutive failures while READY */
	int64_t next_monitor;  /* mono ms */
	uint64_t bell;
	int journal_fd;        /* HOTLINE_SENT_JOURNAL: one line per send the network accepted */

	/*
	 * The watchdog: each phone operation has a deadline; the watchdog thread
	 * aborts one that misses it (gsm_abort, the one call made from another
	 * thread). Everything below wd_lock is shared with that thread.
	 */
	pthread_t watchdog;
	bool watchdog_started;
	atomic_bool done;      /* the modem thread has ended: the watchdog ends too */
	pthread_mutex_t wd_lock;
	struct gsm *wd_g;      /* the handle it may abort, NULL between connections */
	int64_t wd_deadline;   /* mono ms; 0 when no operation is under way */
	bool wd_fired;
	char wd_what[64];      /* the operation under way, for the log */
	int wd_limit_s;

	int stalls_in_row;     /* stalls since the last good read: the next connect resets the modem */
	bool notify;           /* +CMTI works on this connection: poll only as a safety net */
	bool announced;        /* a +CMTI came: read now */
	bool stall_pending;    /* send_one: the watchdog aborted the send */
	int64_t next_poll;     /* mono ms of the next inbox poll */
	int64_t read_after;    /* mono ms: failing deletes back off the next read until then */
	int delete_backoff_ms;
	unsigned delete_fails_unlogged;
	int64_t delete_warned; /* mono ms of the last warning about failing deletes */
};

/* Tell the rest of the daemon (health, metrics) and hotlinectl (the database) how the modem is. */
static void publish(struct modem *m)
{
	health_modem_set(&m->h);
	metrics_modem(m->cfg.name, m->h.connected, m->h.signal, m->h.resets, m->h.balance);
	metrics_modem_faults(m->cfg.name, m->h.state == MODEM_STALLED, m->h.stalls, m->h.withheld,
	    m->h.delete_failures);
	if (m->st && store_modem_status_set(m->st, &m->h) < 0)
		log_warnx("modem", "%s: could not record its state", m->cfg.name);
}

static void enter_state(struct modem *m, enum modem_state s, const char *why)
{
	if (m->h.state != s) {
		if (s == MODEM_READY || m->h.state == MODEM_READY || s == MODEM_RESETTING)
			log_info("modem", "%s: %s -> %s%s%s", m->cfg.name, modem_state_name(m->h.state), modem_state_name(s),
			    why ? ": " : "", why ? why : "");
		else
			log_debug("modem", "%s: %s -> %s%s%s", m->cfg.name, modem_state_name(m->h.state),
			    modem_state_name(s), why ? ": " : "", why ? why : "");
		if (m->h.state == MODEM_READY)
			m->h.down_since = now_unix();
		m->h.state = s;
		m->h.since = now_unix();
	}
	m->h.connected = s == MODEM_READY;
	if (why)
		snprintf(m->h.error, sizeof(m->h.error), "%s", why);
	publish(m);
}

static char *dup_or_empty(const char *s)
{
	return xstrdup(s ? s : "");
}

static void copy_cfg(struct modem_cfg *dst, const struct modem_cfg *src)
{
	*dst = *src;
	dst->name = dup_or_empty(src->name);
	dst->model = dup_or_empty(src->model);
	dst->connection = dup_or_empty(src->connection);
	dst->device = dup_or_empty(src->device);
	dst->pin = dup_or_empty(src->pin);
	dst->gammurc = dup_or_empty(src->gammurc);
	dst->own_number = dup_or_empty(src->own_number);
	dst->balance_code = dup_or_empty(src->balance_code);
	dst->balance_pattern = dup_or_empty(src->balance_pattern);
}

static void free_cfg(struct modem_cfg *c)
{
	free(c->name);
	free(c->model);
	free(c->connection);
	free(c->device);
	free(c->pin);
	free(c->gammurc);
	free(c->own_number);
	free(c->balance_code);
	free(c->balance_pattern);
}

/*
 * Sleep up to ms, waking early for the outbox doorbell or a stop request; on
 * a connected modem that announces new messages, also for a +CMTI (the
 * phone's unsolicited lines are read meanwhile, without sending anything).
 */
static void nap(struct modem *m, int ms)
{
	while (ms > 0 && !atomic_load(&m->stop)) {
		int step = ms > 200 ? 200 : ms;
		if (outbox_wait(&m->bell, step))
			return;
		ms -= step;
		if (m->g != NULL && m->notify && gsm_pump(m->g)) {
			m->announced = true;
			return;
		}
	}
}

/* ---- the watchdog ------------------------------------------------------------------- */

static void *watchdog_main(void *arg)
{
	struct modem *m = arg;
	int64_t stop_at = 0;

	/* until the modem thread ends: a stop must not wait for an operation that hangs */
	while (!atomic_load(&m->done)) {
		struct timespec ts = { 0, WATCHDOG_TICK_MS * 1000000L };
		int64_t now = mono_ms();
		if (stop_at == 0 && atomic_load(&m->stop))
			stop_at = now;
		pthread_mutex_lock(&m->wd_lock);
		if (m->wd_deadline != 0 && !m->wd_fired && m->wd_g != NULL &&
		    (now > m->wd_deadline || (stop_at != 0 && now > stop_at + STOP_GRACE_MS))) {
			gsm_abort(m->wd_g);
			m->wd_fired = true;
		}
		pthread_mutex_unlock(&m->wd_lock);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* gsm_open's hook: the handle the watchdog may abort (NULL: none). */
static void watch(void *arg, struct gsm *g)
{
	struct modem *m = arg;

	pthread_mutex_lock(&m->wd_lock);
	m->wd_g = g;
	pthread_mutex_unlock(&m->wd_lock);
}

/* An operation on the phone starts: it must be over within secs. */
static void op_begin(struct modem *m, const char *what, int secs)
{
	pthread_mutex_lock(&m->wd_lock);
	snprintf(m->wd_what, sizeof(m->wd_what), "%s", what);
	m->wd_limit_s = secs;
	m->wd_fired = false;
	m->wd_deadline = mono_ms() + (int64_t)secs * 1000;
	pthread_mutex_unlock(&m->wd_lock);
}

/* It is over: true when the watchdog aborted it (the handle is spent). */
static bool op_end(struct modem *m)
{
	bool fired;

	pthread_mutex_lock(&m->wd_lock);
	m->wd_deadline = 0;
	fired = m->wd_fired;
	m->wd_fired = false;
	pthread_mutex_unlock(&m->wd_lock);
	return fired;
}

static int next_backoff(int ms)
{
	return ms ? (ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2) : 1000;
}

/* ---- connecting ---------------------------------------------------------------------- */

static void disconnect(struct modem *m, enum modem_state next, const char *why)
{
	char reason[200];

	/* why is often gsm_error(m->g), which gsm_close() frees */
	snprintf(reason, sizeof(reason), "%s", why ? why : "");
	watch(m, NULL);
	gsm_close(m->g);
	m->g = NULL;
	m->notify = false;
	enter_state(m, next, reason);
}

/*
 * The watchdog aborted the operation under way: the handle is spent. Close
 * it and connect again after the backoff; stalls in a row without a good
 * read in between reset the modem after the next connect (soft at the
 * second, hard from the third). Logged once per stall.
 */
static void stalled(struct modem *m)
{
	char why[200];

	m->fails++;
	m->stalls_in_row++;
	m->h.stalls++;
	m->backoff_ms = next_backoff(m->backoff_ms);
	snprintf(why, sizeof(why), "%s: no answer in %d s", m->wd_what, m->wd_limit_s);
	log_warnx("modem", "%s: stalled (%s): aborted; reconnecting in %d s%s", m->cfg.name, why, m->backoff_ms / 1000,
	    m->stalls_in_row >= 3 ? ", then a hard reset" : m->stalls_in_row == 2 ? ", then a soft reset" : "");
	disconnect(m, MODEM_STALLED, why);
}

/* The phone went away during an operation: connect again after the backoff (never in a tight loop). */
static void lost(struct modem *m, const char *why)
{
	m->fails++;
	m->backoff_ms = next_backoff(m->backoff_ms);
	disconnect(m, MODEM_BACKOFF, why);
}

/* After an operation: -1 when the watchdog aborted it or the phone is gone (the handle is closed). */
static int op_done(struct modem *m, int rc)
{
	if (op_end(m)) {
		stalled(m);
		return -1;
	}
	if (rc == GSM_NOCONN) {
		lost(m, gsm_error(m->g));
		return -1;
	}
	return 0;
}

/* A fresh connection: the reset that stalls in a row asked for, then new-message notifications. */
static int after_connect(struct modem *m)
{
	int rc;

	if (m->stalls_in_row >= 2) {
		bool hard = m->stalls_in_row >= 3;
		enter_state(m, MODEM_RESETTING, hard ? "hard reset after stalls" : "soft reset after stalls");
		m->h.resets++;
		op_begin(m, hard ? "hard reset" : "soft reset", m->cfg.op_timeout);
		rc = gsm_reset(m->g, hard);
		if (op_done(m, rc) < 0)
			return -1;
		if (rc != GSM_OK)
			log_warnx("modem", "%s: %s reset failed: %s", m->cfg.name, hard ? "hard" : "soft", gsm_error(m->g));
		else
			log_info("modem", "%s: %s reset done after %d stalls in a row", m->cfg.name, hard ? "hard" : "soft",
			    m->stalls_in_row);
	}
	op_begin(m, "enabling new-message notifications", m->cfg.op_timeout);
	rc = gsm_notify_sms(m->g);
	if (op_done(m, rc) < 0)
		return -1;
	if (rc == GSM_OK && !m->notify)
		log_info("modem", "%s: new messages are announced (+CMTI); the inbox is polled every %d s as a safety net",
		    m->cfg.name, m->cfg.poll_interval);
	m->notify = rc == GSM_OK;
	return 0;
}

static void try_connect(struct modem *m)
{
	struct gsm_settings gs;
	char err[256];
	int rc;

	memset(&gs, 0, sizeof(gs));
	gs.name = m->cfg.name;
	gs.device = m->cfg.device;
	gs.connection = m->cfg.connection;
	gs.model = m->cfg.model;
	gs.pin = m->cfg.pin;
	gs.gammurc = *m->cfg.gammurc ? m->cfg.gammurc : NULL;
	gs.section = m->cfg.section;
	gs.send_timeout_ms = m->cfg.send_timeout * 1000;
	gs.watch = watch;
	gs.watch_arg = m;
	/* a retry that fails the same way as the last one is not news: log once per state change */
	bool retry = m->h.state == MODEM_BACKOFF;
	char last[sizeof(m->h.error)];
	snprintf(last, sizeof(last), "%s", m->h.error);
	enter_state(m, MODEM_CONNECTING, NULL);
	op_begin(m, "connecting", m->cfg.op_timeout + CONNECT_SLACK_S);
	rc = gsm_open(&gs, &m->g, err, sizeof(err));
	if (op_end(m) && rc == GSM_OK) {
		snprintf(err, sizeof(err), "no answer while connecting in %d s", m->cfg.op_timeout + CONNECT_SLACK_S);
		watch(m, NULL);
		gsm_close(m->g);
		m->g = NULL;
		rc = GSM_TEMPFAIL;
	}
	if (rc == GSM_OK) {
		/* the backoff and the failure count stay until a read works: a modem that
		 * connects but fails every read must not be reset in a tight loop */
		if (m->fails == 0)
			m->backoff_ms = 0;
		m->next_monitor = 0;
		m->next_poll = 0;
		m->h.error[0] = '\0';
		if (after_connect(m) < 0)
			return;
		enter_state(m, MODEM_READY, NULL);
		m->h.error[0] = '\0';
		return;
	}
	m->g = NULL;
	/* back off 1 s, 2 s, 4 s ... up to a minute; settings that can never work wait the longest */
	m->backoff_ms = rc == GSM_PERMFAIL ? BACKOFF_MAX_MS : next_backoff(m->backoff_ms);
	if (!retry || strncmp(last, err, sizeof(last) - 1) != 0)
		log_warnx("modem", "%s: cannot connect (%s); trying again in %d s", m->cfg.name, err, m->backoff_ms / 1000);
	enter_state(m, MODEM_BACKOFF, err);
}

/*
 * A connected modem failed an operation. Failures in a row (cleared only by a
 * successful read, not by reconnecting) lead to a soft reset at the third, a
 * hard one at the sixth and every third after that; after a reset the modem
 * backs off for longer each time before it reconnects.
 */
static void failed_op(struct modem *m, const char *what)
{
	char why[200];

	m->fails++;
	snprintf(why, sizeof(why), "%s: %s", what, gsm_error(m->g));
	if (m->fails % FAILS_SOFT_RESET == 0) {
		bool hard = m->fails >= FAILS_HARD_RESET;
		enter_state(m, MODEM_RESETTING, why);
		m->h.resets++;
		op_begin(m, hard ? "hard reset" : "soft reset", m->cfg.op_timeout);
		int rc = gsm_reset(m->g, hard);
		if (op_done(m, rc) < 0)
			return;
		if (rc != GSM_OK)
			log_warnx("modem", "%s: %s reset failed: %s", m->cfg.name, hard ? "hard" : "soft", gsm_error(m->g));
		else
			log_info("modem", "%s: %s reset done after %d failures in a row", m->cfg.name, hard ? "hard" : "soft",
			    m->fails);
		m->backoff_ms = next_backoff(m->backoff_ms);
		disconnect(m, MODEM_BACKOFF, why);
		return;
	}
	log_warnx("modem", "%s: %s", m->cfg.name, why);
}

/* ---- receiving ---------------------------------------------------------------------- */

/*
 * The edge where a sender's or caller's number enters: rewritten in place to
 * its normalised form (E.164 for a person; a short code or a name stays what
 * it is), the only form stored and compared from here on.
 */
static void normalise_number(char *number, size_t size, const struct config *cfg)
{
	char norm[PHONE_LEN];

	phone_normalise(number, cfg->phone_country, norm, sizeof(norm));
	snprintf(number, size, "%s", norm);
}

/*
 * The parts deleted from the phone free their places: a new message there,
 * even the same text in the same second, is a new message. Should this fail,
 * only such a twin would be taken for a re-read.
 */
static void mark_gone(struct modem *m, const int *places, size_t n)
{
	if (store_parts_gone(m->st, m->cfg.name, places, n) < 0)
		log_warnx("modem", "%s: could not note %zu deleted part(s)", m->cfg.name, n);
}

/*
 * Stored parts the phone would not delete: they are read again and skipped
 * (their keys are stored), so nothing is processed twice; the reads back
 * off like any failed operation, with one warning a minute and a count, and
 * the supervisor is alerted when it lasts (maintenance.c).
 */
static void deletes_failed(struct modem *m, unsigned failed)
{
	int64_t now = mono_ms();

	m->h.delete_failures += failed;
	m->delete_fails_unlogged += failed;
	if (m->h.delete_failing_since == 0)
		m->h.delete_failing_since = now_unix();
	m->delete_backoff_ms = next_backoff(m->delete_backoff_ms);
	m->read_after = now + m->delete_backoff_ms;
	if (m->delete_warned == 0 || now - m->delete_warned >= DELETE_WARN_MS) {
		log_warnx("modem", "%s: %u stored part(s) could not be deleted from the phone (%s); they are skipped when"
		    " read again; next read in %d s", m->cfg.name, m->delete_fails_unlogged, gsm_error(m->g),
		    m->delete_backoff_ms / 1000);
		m->delete_fails_unlogged = 0;
		m->delete_warned = now;
	}
	publish(m);
}

/* Read, store, delete. Returns the parts taken, or -1 when the phone went away. */
static int receive(struct modem *m, const struct world *w)
{
	struct gsm_part parts[READ_BATCH];
	size_t n = 0;
	unsigned failed = 0;
	int rc;

	/* issue 11.9: nothing is read (so nothing deleted) while the database file is not the one we write */
	if (store_file_check(m->st) < 0)
		return 0;
	if (m->read_after != 0 && mono_ms() < m->read_after)
		return 0;
	op_begin(m, "reading the inbox", m->cfg.op_timeout);
	rc = gsm_read_inbox(m->g, parts, READ_BATCH, &n);
	if (op_done(m, rc) < 0) {
		gsm_parts_free(parts, n);
		return -1;
	}
	if (rc != GSM_OK) {
		failed_op(m, "reading the inbox");
		gsm_parts_free(parts, n);
		return m->g == NULL ? -1 : 0;
	}
	m->fails = 0;
	m->stalls_in_row = 0;
	m->backoff_ms = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		normalise_number(parts[i].sender, sizeof(parts[i].sender), w->cfg);
	if (modem_store_parts(m->st, w, m->cfg.name, parts, n, &m->h.received) < 0) {
		/* nothing deleted: the parts stay on the phone and are read again */
		log_warnx("modem", "%s: could not store %zu part(s); they stay on the phone", m->cfg.name, n);
		gsm_parts_free(parts, n);
		return 0;
	}
	/* committed, but to the file at the configured path? Else the parts stay on the phone. */
	if (store_file_check(m->st) < 0) {
		gsm_parts_free(parts, n);
		return 0;
	}
	int gone[READ_BATCH];
	size_t ngone = 0;
	for (size_t i = 0; i < n; i++) {
		op_begin(m, "deleting a stored part", m->cfg.op_timeout);
		rc = gsm_delete(m->g, &parts[i]);
		if (op_done(m, rc) < 0) {
			mark_gone(m, gone, ngone);
			gsm_parts_free(parts, n);
			return -1;
		}
		if (rc != GSM_OK)
			failed++;
		else
			gone[ngone++] = modem_part_place(&parts[i]);
	}
	mark_gone(m, gone, ngone);
	gsm_parts_free(parts, n);
	if (failed > 0) {
		deletes_failed(m, failed);
		return 0; /* no progress: do not read again at once */
	}
	if (m->h.delete_failing_since != 0) {
		log_info("modem", "%s: deleting works again", m->cfg.name);
		m->h.delete_failing_since = 0;
		m->delete_backoff_ms = 0;
		m->read_after = 0;
		m->delete_warned = 0;
		publish(m);
	}
	return (int)n;
}

/* ---- sending ------------------------------------------------------------------------ */

static void journal(struct modem *m, int64_t id)
{
	char line[32];
	int n;

	if (m->journal_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%lld\n", (long long)id);
	if (write(m->journal_fd, line, (size_t)n) < 0)
		log_warn("modem", "sent journal");
}

/* Send one claimed message; returns GSM_NOCONN when the phone went away. */
static int send_one(struct modem *m, const struct config *cfg, struct store_send *s)
{
	struct gsm_send_result r;
	char who[LOG_PHONE_BUF];
	int rc;

	memset(&r, 0, sizeof(r));
	/* delivery reports for broadcasts and case notifications (a reply's sender is there to see it) */
	gsm_request_reports(m->g, cfg->bcast_delivery_reports &&
	    (s->kind == MSG_KIND_BROADCAST || s->kind == MSG_KIND_NOTIFY));
	struct sms_count cnt;
	sms_count(s->text, strlen(s->text), &cnt);
	op_begin(m, "sending", m->cfg.send_timeout * (int)(cnt.segments > 0 ? cnt.segments : 1) + m->cfg.op_timeout);
	rc = gsm_send_text_from(m->g, s->phone, s->text, s->concat_ref, s->parts_done, &r);
	/* aborted: the handle is spent (send_for closes it); what the network accepted is kept */
	m->stall_pending = op_end(m);
	if (m->stall_pending && rc != GSM_OK) {
		rc = GSM_NOCONN;
		snprintf(r.error, sizeof(r.error), "no answer in %d s (part %d of %d)",
		    m->cfg.send_timeout * (int)(cnt.segments > 0 ? cnt.segments : 1) + m->cfg.op_timeout, r.parts_sent + 1,
		    r.parts);
	}
	log_phone(s->phone, who, sizeof(who));
	if (rc == GSM_OK) {
		journal(m, s->id);
		metrics_send(true, false);
		metrics_message(CHANNEL_SMS, DIRECTION_OUT);
		m->h.sent++;
		if (store_outbox_sent(m->st, s->id, r.parts, r.msg_ref, now_unix()) < 0)
			log_errorx("modem", "%s: message %lld was sent but could not be recorded as sent", m->cfg.name,
			    (long long)s->id);
		log_debug("modem", "%s: sent %lld to %s (%d part%s)", m->cfg.name, (long long)s->id, who, r.parts,
		    r.parts == 1 ? "" : "s");
		return GSM_OK;
	}
	if (rc == GSM_PERMFAIL || s->attempts > cfg->send_retries) {
		char why[220];
		snprintf(why, sizeof(why), "%s%s", rc == GSM_PERMFAIL ? "" : "gave up after retries: ", r.error);
		metrics_send(false, true);
		log_warnx("modem", "%s: message %lld to %s failed for good: %s", m->cfg.name, (long long)s->id, who, why);
		if (store_outbox_failed(m->st, s->id, why) < 0)
			log_errorx("modem", "%s: could not record message %lld as failed", m->cfg.name, (long long)s->id);
		return GSM_OK;
	}
	metrics_send(false, false);
	metrics_retry();
	int64_t delay = outbox_retry_delay(cfg, s->attempts);
	log_warnx("modem", "%s: message %lld to %s not sent (%s); retry %d in %lld s%s", m->cfg.name, (long long)s->id,
	    who, r.error, s->attempts, (long long)delay, r.parts_sent > 0 ? " (only the parts that did not go)" : "");
	if (store_outbox_retry_from(m->st, s->id, now_unix() + delay, r.error, r.ref, r.parts_sent) < 0)
		log_errorx("modem", "%s: could not requeue message %lld", m->cfg.name, (long long)s->id);
	return rc == GSM_NOCONN ? GSM_NOCONN : GSM_OK;
}

/*
 * Send what is due for `target` (NULL: no modem named), claiming one message
 * at a time right before sending it, so that a crash leaves at most the one in
 * flight "sending" (counted uncertain at the next start). Returns sends
 * tried, -1 when the phone went away.
 */
static int send_for(struct modem *m, const struct config *cfg, const char *target)
{
	int tried = 0;

	while (tried < SEND_ROUND && m->g != NULL && !atomic_load(&m->stop)) {
		struct store_send one;
		size_t n = 0;
		if (store_outbox_claim(m->st, target, m->cfg.name, now_unix(), &one, 1, &n) < 0 || n == 0)
			break;
		tried++;
		int rc = send_one(m, cfg, &one);
		store_sends_free(&one, 1);
		if (m->stall_pending) {
			m->stall_pending = false;
			stalled(m);
		} else if (rc == GSM_NOCONN) {
			lost(m, gsm_error(m->g));
		}
	}
	return m->g == NULL ? -1 : tried;
}

static int send_round(struct modem *m, const struct config *cfg)
{
	store_outbox_broadcast_rate(m->st, cfg->bcast_per_modem_per_minute);
	struct modem_health others[CONFIG_MAX_MODEMS];
	size_t no = health_modems(others, CONFIG_MAX_MODEMS);
	int total = 0, k;

	if ((k = send_for(m, cfg, m->cfg.name)) < 0)
		return -1;
	total += k;
	if ((k = send_for(m, cfg, NULL)) < 0)
		return -1;
	total += k;
	/* a modem that is down: its conversations go out through this one */
	for (size_t i = 0; i < no && i < CONFIG_MAX_MODEMS; i++) {
		if (strcmp(others[i].name, m->cfg.name) == 0 || others[i].connected)
			continue;
		if (now_unix() - others[i].since < DOWN_GRACE_S)
			continue;
		if ((k = send_for(m, cfg, others[i].name)) < 0)
			return -1;
		total += k;
	}
	return total;
}

/* ---- health ------------------------------------------------------------------------- */

/* The amount in an answer, by the configured pattern (group 1); NAN when it does not match. */
static double parse_balance(const char *pattern, const char *answer)
{
	regex_t re;
	regmatch_t mt[2];
	double v = NAN;

	if (regcomp(&re, pattern, REG_EXTENDED) != 0)
		return NAN;
	if (regexec(&re, answer, 2, mt, 0) == 0 && mt[1].rm_so >= 0) {
		char num[64];
		int len = (int)(mt[1].rm_eo - mt[1].rm_so);
		char *end;
		snprintf(num, sizeof(num), "%.*s", len, answer + mt[1].rm_so);
		v = strtod(num, &end);
		if (end == num)
			v = NAN;
	}
	regfree(&re);
	return v;
}

/* Ask the SIM's balance by USSD; the answer is kept whole in `answer`. */
static double read_balance(struct modem *m, char *answer, size_t len)
{
	double v;
	op_begin(m, "asking the balance", USSD_TIMEOUT_MS / 1000 + m->cfg.op_timeout);
	int rc = gsm_ussd(m->g, m->cfg.balance_code, answer, len, USSD_TIMEOUT_MS);

	if (op_done(m, rc) < 0)
		return NAN;
	if (rc != GSM_OK) {
		log_warnx("modem", "%s: balance query %s: %s", m->cfg.name, m->cfg.balance_code, gsm_error(m->g));
		return NAN;
	}
	v = parse_balance(m->cfg.balance_pattern, answer);
	if (isnan(v)) {
		log_warnx("modem", "%s: the balance answer does not match balance_pattern: %s", m->cfg.name, answer);
		return NAN;
	}
	m->h.balance = v;
	m->h.balance_at = now_unix();
	log_info("modem", "%s: balance %.2f", m->cfg.name, v);
	return v;
}

static void monitor(struct modem *m, const struct config *cfg)
{
	struct gsm_status st;
	int rc;

	if (cfg->monitor_interval <= 0 || mono_ms() < m->next_monitor)
		return;
	m->next_monitor = mono_ms() + (int64_t)cfg->monitor_interval * 1000;
	op_begin(m, "reading the signal", m->cfg.op_timeout);
	rc = gsm_get_status(m->g, &st);
	if (op_done(m, rc) < 0)
		return;
	if (rc != GSM_OK) {
		failed_op(m, "reading the signal");
		return;
	}
	m->h.signal = st.signal_percent;
	m->h.battery = st.battery_percent;
	snprintf(m->h.network, sizeof(m->h.network), "%s", st.network_code);
	double balance = NAN;
	char answer[512] = "";
	if (*m->cfg.balance_code)
		balance = read_balance(m, answer, sizeof(answer));
	if (m->g == NULL)
		return;
	if (store_modem_reading_add(m->st, m->cfg.name, now_unix(), m->h.signal, m->h.network, m->h.battery, balance,
	    *answer ? answer : NULL) < 0)
		log_warnx("modem", "%s: could not record a reading", m->cfg.name);
	enter_state(m, MODEM_READY, NULL);
}

/* ---- calls and requests ------------------------------------------------------------------ */

/* Incoming calls are hung up at once; each becomes a missed call for calls.c. */
static void take_calls(struct modem *m, const struct world *w)
{
	char callers[8][48];
	size_t n = 0;
	int rc;

	if (!w->cfg->calls_enabled)
		return;
	op_begin(m, "taking calls", m->cfg.op_timeout);
	rc = gsm_take_calls(m->g, callers, 8, &n);
	unsigned withheld = m->g ? gsm_take_withheld(m->g) : 0;
	if (withheld > 0) {
		/* nobody to call back: counted, no SMS, no case */
		m->h.withheld += withheld;
		log_info("modem", "%s: %u call(s) without caller ID hung up", m->cfg.name, withheld);
		publish(m);
	}
	if (op_done(m, rc) < 0)
		return;
	if (n == 0)
		return;
	struct ctx c = { m->st, w->cfg, w->menu, now_unix(), m->cfg.name, 0 };
	if (store_begin(m->st) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		normalise_number(callers[i], sizeof(callers[i]), w->cfg);
	for (size_t i = 0; i < n; i++)
		if (calls_missed(&c, callers[i]) < 0) {
			store_rollback(m->st);
			log_warnx("modem", "%s: could not record %zu missed call(s)", m->cfg.name, n);
			return;
		}
	if (store_commit(m->st) == 0)
		outbox_kick();
}

/* A request hotlinectl left in the database for this modem (a USSD query). */
static void serve_request(struct modem *m)
{
	char kind[16], arg[64], answer[512];
	int64_t id = 0;
	int rc;

	if (store_modem_request_next(m->st, m->cfg.name, &id, kind, sizeof(kind), arg, sizeof(arg)) < 0 || id == 0)
		return;
	if (strcmp(kind, "ussd") != 0) {
		if (store_modem_request_done(m->st, id, false, "unknown request") < 0)
			log_warnx("modem", "%s: could not answer request %lld", m->cfg.name, (long long)id);
		return;
	}
	answer[0] = '\0';
	op_begin(m, "USSD", USSD_TIMEOUT_MS / 1000 + m->cfg.op_timeout);
	rc = gsm_ussd(m->g, arg, answer, sizeof(answer), USSD_TIMEOUT_MS);
	bool fired = op_end(m);
	if (store_modem_request_done(m->st, id, rc == GSM_OK && !fired, rc == GSM_OK && !fired ? answer
	    : fired ? "the modem did not answer" : gsm_error(m->g)) < 0)
		log_warnx("modem", "%s: could not record the answer to request %lld", m->cfg.name, (long long)id);
	if (fired)
		stalled(m);
	else if (rc == GSM_NOCONN)
		lost(m, gsm_error(m->g));
}

/* ---- the thread ------------------------------------------------------------------------ */

static void *modem_main(void *arg)
{
	struct modem *m = arg;
	char err[512];
	struct store_opts so = { 0 };
	struct world *w0 = world_get();

	so.create = false;
	so.migrate = false;
	so.synchronous = w0 ? w0->cfg->db_synchronous : "full";
	world_release(w0);
	if (store_open(m->db_path, &so, &m->st, err, sizeof(err)) < 0) {
		log_errorx("modem", "%s: %s; this modem stays down", m->cfg.name, err);
		enter_state(m, MODEM_DOWN, err);
		atomic_store(&m->done, true);
		return NULL;
	}
	publish(m);
	while (!atomic_load(&m->stop)) {
		struct world *w;
		if (m->g == NULL) {
			if ((m->h.state == MODEM_BACKOFF || m->h.state == MODEM_STALLED) && m->backoff_ms > 0) {
				nap(m, m->backoff_ms);
				if (atomic_load(&m->stop))
					break;
			}
			try_connect(m);
			continue;
		}
		w = world_get();
		int got = 0, sent = 0;
		/* with +CMTI, read when a message is announced, and poll slowly as a safety net */
		if (!m->notify || m->announced || mono_ms() >= m->next_poll) {
			m->announced = false;
			got = receive(m, w);
			m->next_poll = mono_ms() + (int64_t)m->cfg.poll_interval * 1000;
		}
		if (m->g != NULL && !atomic_load(&m->stop))
			sent = send_round(m, w->cfg);
		if (m->g != NULL && !atomic_load(&m->stop))
			take_calls(m, w);
		if (m->g != NULL && !atomic_load(&m->stop))
			serve_request(m);
		if (m->g != NULL && !atomic_load(&m->stop))
			monitor(m, w->cfg);
		int idle_ms = w->cfg->poll_interval_ms;
		world_release(w);
		/* while messages keep coming, keep reading; otherwise poll about once a second */
		if (got <= 0 && sent <= 0 && m->g != NULL)
			nap(m, idle_ms);
	}
	if (m->g)
		disconnect(m, MODEM_DOWN, "stopping");
	store_close(m->st);
	m->st = NULL;
	atomic_store(&m->done, true);
	return NULL;
}

int modem_start(const struct modem_cfg *mc, const char *db_path, struct modem **out)
{
	struct modem *m = xcalloc(1, sizeof(*m));
	const char *journal_path = getenv("HOTLINE_SENT_JOURNAL");
	int rc;

	copy_cfg(&m->cfg, mc);
	m->db_path = xstrdup(db_path);
	atomic_init(&m->stop, false);
	atomic_init(&m->done, false);
	snprintf(m->h.name, sizeof(m->h.name), "%s", mc->name);
	m->h.signal = -1;
	m->h.battery = -1;
	m->h.balance = NAN;
	m->h.state = MODEM_DOWN;
	m->h.since = m->h.down_since = now_unix();
	m->journal_fd = -1;
	if (journal_path && *journal_path) {
		m->journal_fd = open(journal_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (m->journal_fd < 0)
			log_warn("modem", "HOTLINE_SENT_JOURNAL %s", journal_path);
	}
	health_modem_set(&m->h);
	pthread_mutex_init(&m->wd_lock, NULL);
	rc = pthread_create(&m->watchdog, NULL, watchdog_main, m);
	if (rc != 0) {
		errno = rc;
		log_error("modem", "%s: cannot start its watchdog thread", mc->name);
		pthread_mutex_destroy(&m->wd_lock);
		free_cfg(&m->cfg);
		free(m->db_path);
		free(m);
		return -1;
	}
	m->watchdog_started = true;
	rc = pthread_create(&m->thread, NULL, modem_main, m);
	if (rc != 0) {
		errno = rc;
		log_error("modem", "%s: cannot start its thread", mc->name);
		atomic_store(&m->done, true);
		pthread_join(m->watchdog, NULL);
		pthread_mutex_destroy(&m->wd_lock);
		free_cfg(&m->cfg);
		free(m->db_path);
		free(m);
		return -1;
	}
	*out = m;
	return 0;
}

void modem_request_stop(struct modem *m)
{
	atomic_store(&m->stop, true);
}

void modem_join(struct modem *m)
{
	if (m == NULL)
		return;
	pthread_join(m->thread, NULL);
	if (m->watchdog_started)
		pthread_join(m->watchdog, NULL);
	pthread_mutex_destroy(&m->wd_lock);
	if (m->journal_fd >= 0)
		close(m->journal_fd);
	free_cfg(&m->cfg);
	free(m->db_path);
	free(m);
}
