#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "dispatch.h"
#include "health.h"
#include "kannel.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "ussd.h"
#include "ussd_session.h"
#include "world.h"

/*
 * Limits that keep a client from holding the server: an idle connection is
 * dropped after HTTP_IDLE_TIMEOUT seconds (a slow client costs a socket, not
 * a thread: each libmicrohttpd thread serves many connections with epoll),
 * and every connection has a fixed memory pool for its headers.
 */
#define HTTP_IDLE_TIMEOUT 5
#define HTTP_CONN_LIMIT   1024
#define HTTP_CONN_MEMORY  (32 * 1024)
#define HTTP_BACKLOG      256
/* Expired USSD sessions are swept at most this often, by whichever request comes. */
#define PURGE_EVERY 60
/* An oversized body without a Content-Length is read and dropped up to this many times ussd.max_body; then the connection is closed. */
#define DISCARD_FACTOR 16

enum route { ROUTE_NONE, ROUTE_USSD, ROUTE_USSD_END, ROUTE_HEALTH, ROUTE_METRICS, ROUTE_KANNEL, ROUTE_KANNEL_DLR };
/* The largest MO smsbox may post: 255 concatenated UCS-2 parts, as UTF-8. */
#define KANNEL_MAX_BODY 65536

struct http {
	struct MHD_Daemon *d;
	char *db_path;
	unsigned gen;           /* tells this server's thread connections from an earlier one's */
	pthread_mutex_t lock;   /* guards dbs */
	/*
	 * Held around the write transactions a request thread still runs on its
	 * own connection (USSD /end, Kannel MO and delivery reports), so that
	 * those threads queue here instead of sleeping in SQLite's busy handler
	 * (sleeps of up to 100 ms). USSD steps do not take it: they go to the
	 * writer thread below.
	 */
	pthread_mutex_t write_lock;
	struct store **dbs;     /* every thread's connection, closed by http_stop */
	size_t ndbs, cap;
	_Atomic int64_t next_purge;
	/*
	 * The USSD writer: one thread with one connection runs every USSD step.
	 * A request thread hands its step over and suspends the connection; the
	 * writer takes all the steps waiting, runs each in a savepoint of one
	 * transaction, commits once (the answers are durable before they go, as
	 * with one commit each), and resumes the connections. Under load the
	 * cost of a commit is shared by all the steps that waited for it.
	 */
	pthread_t writer;
	bool writer_started;
	pthread_mutex_t wlock;  /* guards the queue and stopping */
	pthread_cond_t wcond;
	struct req *queue, *queue_tail;
	bool stopping;
	struct store *wst;
};

/* The database connection of this libmicrohttpd thread, opened by its first request that needs one. */
static _Thread_local struct {
	unsigned gen;
	struct store *st;
} tdb;
static atomic_uint generations;

/* A POST being read: its world (held until the request completes) and its body so far. */
struct req {
	struct world *w;
	enum route route;
	const struct modem_cfg *ch; /* a Kannel link's call: its channel (in w) */
	bool too_big;
	size_t len, cap, discarded;
	/* a USSD step handed to the writer */
	struct MHD_Connection *conn;
	struct req *next;       /* in the writer's queue */
	struct ussd_callback cb;
	struct ussd_reply rep;
	int rc;                 /* the step's outcome, once done */
	int64_t at;             /* when the step arrived: its time, however long it waits */
	atomic_bool done;
	char body[]; /* cap + 1 bytes: the parser NUL-terminates in place */
};
/* *con_cls of a request answered on its first call: whatever follows is dropped. */
static struct req answered;

static struct store *thread_store(struct http *h, const struct config *cfg)
{
	struct store_opts so = { 0 };
	struct store *st;
	char err[512];

	if (tdb.st != NULL && tdb.gen == h->gen)
		return tdb.st;
	so.synchronous = cfg->db_synchronous;
	if (store_open(h->db_path, &so, &st, err, sizeof(err)) < 0) {
		log_errorx("http", "%s", err);
		return NULL;
	}
	pthread_mutex_lock(&h->lock);
	if (h->ndbs == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 8;
		h->dbs = xrealloc(h->dbs, h->cap * sizeof(*h->dbs));
	}
	h->dbs[h->ndbs++] = st;
	pthread_mutex_unlock(&h->lock);
	tdb.gen = h->gen;
	tdb.st = st;
	return st;
}

/* ---- answers ------------------------------------------------------------------------------ */

/* Queue status with body (mode says who owns it); counts it for /metrics. */
static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *type, void *body,
    size_t len, enum MHD_ResponseMemoryMode mode, const char *allow)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (resp == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow != NULL)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	metrics_http_request((int)status);
	return ret;
}

/* A path fit for a log line: never the secret, no control characters. */
static void loggable_path(const char *url, char *out, size_t outlen)
{
	size_t w = 0;

	if (str_startswith(url, "/ussd/") && strcmp(url, "/ussd/end") != 0)
		url = "/ussd/...";
	if (str_startswith(url, "/kannel/"))
		url = "/kannel/...";
	for (const char *p = url; *p && w + 1 < outlen && w < 64; p++)
		out[w++] = (unsigned char)*p < 0x20 || (unsigned char)*p == 0x7F ? '?' : *p;
	out[w] = '\0';
}

/* A 4xx or 5xx with a one-line reason, for the aggregator's log and ours. */
static enum MHD_Result refuse(struct MHD_Connection *conn, unsigned status, const char *method, const char *url,
    const char *allow, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static enum MHD_Result refuse(struct MHD_Connection *conn, unsigned status, const char *method, const char *url,
    const char *allow, const char *fmt, ...)
{
	struct buf b = { 0 };
	char path[80];
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	loggable_path(url, path, sizeof(path));
	if (status >= 500)
		log_warnx("http", "%u %s %s: %s", status, method, path, buf_str(&b));
	else
		log_info("http", "%u %s %s: %s", status, method, path, buf_str(&b));
	buf_addc(&b, '\n');
	size_t len = b.len;
	return respond(conn, status, "text/plain; charset=utf-8", buf_take(&b), len, MHD_RESPMEM_MUST_FREE, allow);
}

/* ---- routing and access ---------------------------------------------------------------------- */

/* Compare without an early exit, so the time taken says nothing about the secret. */
static bool same_secret(const char *a, size_t alen, const char *secret)
{
	size_t n = strlen(secret);
	unsigned char d = alen != n;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i < alen ? i : 0] ^ secret[i]);
	return d == 0 && alen > 0;
}

/*
 * /healthz, /metrics, /ussd and /ussd/end (secret in a header), /ussd/<secret>
 * and /ussd/<secret>/end. A wrong secret in the path is an unknown path.
 */
static enum route route_of(const char *url, const char *secret, bool *path_secret)
{
	const char *p, *rest;
	size_t n = strlen(secret), plen;

	*path_secret = false;
	if (strcmp(url, "/healthz") == 0)
		return ROUTE_HEALTH;
	if (strcmp(url, "/metrics") == 0)
		return ROUTE_METRICS;
	if (strcmp(url, "/ussd") == 0)
		return ROUTE_USSD;
	if (strcmp(url, "/ussd/end") == 0)
		return ROUTE_USSD_END;
	if (!str_startswith(url, "/ussd/") || n == 0)
		return ROUTE_NONE;
	p = url + strlen("/ussd/");
	plen = strlen(p);
	if (plen < n || !same_secret(p, n, secret))
		return ROUTE_NONE;
	rest = p + n;
	*path_secret = true;
	if (*rest == '\0')
		return ROUTE_USSD;
	if (strcmp(rest, "/end") == 0)
		return ROUTE_USSD_END;
	return ROUTE_NONE;
}

/* May this connection call the USSD endpoints? NULL when yes, else why not. */
static const char *ussd_refusal(struct MHD_Connection *conn, const struct config *cfg, bool path_secret)
{
	const char *secret = cfg->ussd_secret;

	if (*secret == '\0' && cfg->nussd_allow == 0)
		return "USSD is closed: neither ussd.secret nor ussd.allow is set";
	if (cfg->nussd_allow > 0) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci == NULL || !ussd_source_allowed(ci->client_addr, cfg->ussd_allow, cfg->nussd_allow))
			return "source address not in ussd.allow";
	}
	if (*secret != '\0' && !path_secret) {
		const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Hotline-Secret");
		if (given == NULL)
			return "no secret (path /ussd/<secret> or header X-Hotline-Secret)";
		if (!same_secret(given, strlen(given), secret))
			return "wrong X-Hotline-Secret";
	}
	return NULL;
}

/*
 * A Kannel link's calls: /kannel/<name> and /kannel/<name>/dlr (secret in
 * the X-Hotline-Secret header), /kannel/<name>/<secret> and
 * /kannel/<name>/<secret>/dlr. An unknown link or a wrong secret in the path
 * is an unknown path.
 */
static enum route kannel_route(const char *url, const struct config *cfg, const struct modem_cfg **ch,
    bool *path_secret)
{
	const char *p = url + strlen("/kannel/"), *slash = strchr(p, '/');
	char name[48];
	size_t n = slash ? (size_t)(slash - p) : strlen(p);

	*path_secret = false;
	*ch = NULL;
	if (n == 0 || n >= sizeof(name))
		return ROUTE_NONE;
	memcpy(name, p, n);
	name[n] = '\0';
	if ((*ch = kannel_channel(cfg, name)) == NULL)
		return ROUTE_NONE;
	if (slash == NULL)
		return ROUTE_KANNEL;
	p = slash + 1;
	if (strcmp(p, "dlr") == 0)
		return ROUTE_KANNEL_DLR;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (!same_secret(p, n, (*ch)->secret))
		return ROUTE_NONE;
	*path_secret = true;
	if (slash == NULL)
		return ROUTE_KANNEL;
	if (strcmp(slash, "/dlr") == 0)
		return ROUTE_KANNEL_DLR;
	return ROUTE_NONE;
}

/* May this connection call the link's endpoints? NULL when yes, else why not. */
static const char *kannel_refusal(struct MHD_Connection *conn, const struct modem_cfg *ch, bool path_secret)
{
	if (ch->nallow > 0) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci == NULL || !ussd_source_allowed(ci->client_addr, ch->allow, ch->nallow))
			return "source address not in the link's allow list";
	}
	if (!path_secret) {
		const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Hotline-Secret");
		if (given == NULL)
			return "no secret (path /kannel/<name>/<secret> or header X-Hotline-Secret)";
		if (!same_secret(given, strlen(given), ch->secret))
			return "wrong X-Hotline-Secret";
	}
	return NULL;
}

static bool is_form(const char *type)
{
	static const char want[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(want) - 1;

	return type != NULL && strncasecmp(type, want, n) == 0 &&
	    (type[n] == '\0' || type[n] == ';' || type[n] == ' ' || type[n] == '\t');
}

/* ---- /healthz and /metrics ----------------------------------------------------------------------- */

static void json_str(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20)
			buf_printf(b, "\\u%04x", c);
		else
			buf_addc(b, (char)c);
	}
	buf_addc(b, '"');
}

/* 200 when the database answers and a modem is connected; 503 naming what is down. */
static enum MHD_Result serve_health(struct http *h, struct MHD_Connection *conn, const struct world *w)
{
	struct store *st = thread_store(h, w->cfg);
	struct modem_health mh[CONFIG_MAX_MODEMS];
	size_t n = health_modems(mh, CONFIG_MAX_MODEMS);
	struct store_health sh;
	bool db_ok, modem_ok = false;
	struct buf b = { 0 };
	const char *db_why = NULL;

	/* the database is up when it answers and the last write went through (issue 11.10) */
	store_health(&sh);
	if (sh.lost)
		db_why = "the database file was deleted or replaced: restart hotlined";
	else if (st == NULL || store_ping(st) < 0)
		db_why = "the database does not answer";
	else if (sh.corrupt)
		db_why = sh.last_error;
	else if (sh.failing)
		db_why = sh.last_error;
	db_ok = db_why == NULL;
	if (n > CONFIG_MAX_MODEMS)
		n = CONFIG_MAX_MODEMS;
	for (size_t i = 0; i < n; i++)
		modem_ok |= mh[i].connected;
	buf_printf(&b, "{\"status\":\"%s\"", db_ok && modem_ok ? "ok" : "down");
	if (!db_ok || !modem_ok)
		buf_printf(&b, ",\"down\":[%s%s%s]", db_ok ? "" : "\"database\"", !db_ok && !modem_ok ? "," : "",
		    modem_ok ? "" : "\"modems\"");
	buf_printf(&b, ",\"database\":\"%s\"", db_ok ? "up" : "down");
	if (db_why != NULL) {
		buf_adds(&b, ",\"database_error\":");
		json_str(&b, db_why);
	}
	if (sh.last_commit > 0)
		buf_printf(&b, ",\"last_commit_age\":%lld", (long long)(now_unix() - sh.last_commit));
	buf_adds(&b, ",\"modems\":[");
	for (size_t i = 0; i < n; i++) {
		buf_adds(&b, i ? ",{\"name\":" : "{\"name\":");
		json_str(&b, mh[i].name);
		buf_printf(&b, ",\"state\":\"%s\",\"connected\":%s,\"signal\":%d", modem_state_name(mh[i].state),
		    mh[i].connected ? "true" : "false", mh[i].signal);
		if (!mh[i].connected && mh[i].error[0]) {
			buf_adds(&b, ",\"error\":");
			json_str(&b, mh[i].error);
		}
		buf_addc(&b, '}');
	}
	buf_adds(&b, "]}\n");
	size_t len = b.len;
	return respond(conn, db_ok && modem_ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
	    buf_take(&b), len, MHD_RESPMEM_MUST_FREE, NULL);
}

static enum MHD_Result serve_metrics(struct http *h, struct MHD_Connection *conn, const struct world *w)
{
	struct store *st = thread_store(h, w->cfg);
	struct metrics_gauges g;
	struct buf b = { 0 };
	int64_t now = now_unix();

	memset(&g, 0, sizeof(g));
	g.db_ok = st != NULL && store_ping(st) == 0;
	if (g.db_ok && (store_outbox_stats(st, now, &g.outbox_depth, &g.outbox_oldest_age) < 0 ||
	    store_session_count(st, "ussd", now - w->cfg->ussd_timeout, &g.ussd_sessions) < 0))
		g.db_ok = false;
	metrics_render(&b, &g);
	size_t len = b.len;
	return respond(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf_take(&b), len,
	    MHD_RESPMEM_MUST_FREE, NULL);
}

/* ---- USSD ------------------------------------------------------------------------------------------ */

static void maybe_purge(struct http *h, struct store *st, const struct config *cfg, int64_t now)
{
	int64_t due = atomic_load(&h->next_purge);
	int n = 0;

	if (now < due || !atomic_compare_exchange_strong(&h->next_purge, &due, now + PURGE_EVERY))
		return;
	if (store_session_purge(st, "ussd", now - cfg->ussd_timeout, &n) == 0 && n > 0)
		log_debug("http", "forgot %d USSD session(s) idle over %d s", n, cfg->ussd_timeout);
}

/* The writer's loop: take what waits, run it in one transaction, answer. */
static void *writer_main(void *arg)
{
	struct http *h = arg;

	for (;;) {
		struct req *batch, *r;
		bool queued = false, committed;
		int64_t now;

		pthread_mutex_lock(&h->wlock);
		while (h->queue == NULL && !h->stopping)
			pthread_cond_wait(&h->wcond, &h->wlock);
		batch = h->queue;
		h->queue = h->queue_tail = NULL;
		pthread_mutex_unlock(&h->wlock);
		if (batch == NULL)
			break; /* stopping, and nothing left */
		now = now_unix();

		committed = h->wst != NULL && store_begin(h->wst) == 0;
		for (r = batch; committed && r != NULL; r = r->next) {
			/* every step is timed when it came, not when the batch began or the writer last woke */
			struct ctx c = { h->wst, r->w->cfg, r->w->menu, r->at, NULL, 0 };
			r->rc = -1;
			if (store_savepoint(h->wst) < 0)
				continue;
			r->rc = ussd_session_step_in(&c, &r->cb, &r->rep);
			if (r->rc < 0)
				store_rollback_savepoint(h->wst);
			else if (store_release(h->wst) < 0)
				r->rc = -1, ussd_reply_free(&r->rep);
			queued |= r->rc == 0 && r->rep.queued;
		}
		if (committed) {
			maybe_purge(h, h->wst, batch->w->cfg, now);
			committed = store_commit(h->wst) == 0;
		}
		if (committed && queued)
			outbox_kick();
		for (r = batch; r != NULL;) {
			struct req *next = r->next;
			if (!committed && r->rc == 0) {
				r->rc = -1;
				ussd_reply_free(&r->rep);
			} else if (!committed) {
				r->rc = -1;
			}
			atomic_store(&r->done, true);
			MHD_resume_connection(r->conn);
			r = next;
		}
	}
	return NULL;
}

static enum MHD_Result serve_ussd(struct http *h, struct MHD_Connection *conn, const char *url, struct req *r)
{
	char err[160], who[LOG_PHONE_BUF];

	if (!atomic_load(&r->done)) {
		/* first time here: check the body, then hand the step to the writer */
		if (ussd_parse_callback(r->body, r->len, r->w->cfg->phone_country, &r->cb, err, sizeof(err)) < 0)
			return refuse(conn, MHD_HTTP_BAD_REQUEST, "POST", url, NULL, "%s", err);
		r->conn = conn;
		r->next = NULL;
		r->at = now_unix();
		pthread_mutex_lock(&h->wlock);
		if (h->stopping || h->wst == NULL) {
			pthread_mutex_unlock(&h->wlock);
			return refuse(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "POST", url, NULL, "stopping");
		}
		MHD_suspend_connection(conn);
		if (h->queue_tail)
			h->queue_tail->next = r;
		else
			h->queue = r;
		h->queue_tail = r;
		pthread_cond_signal(&h->wcond);
		pthread_mutex_unlock(&h->wlock);
		return MHD_YES;
	}
	/* resumed: the writer has run the step */
	if (r->rc < 0)
		return refuse(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "POST", url, NULL, "database error, nothing stored");
	log_info("http", "ussd %s from %s -> %s, %s screen %zu of %zu%s", r->cb.session_id,
	    log_phone(r->cb.phone, who, sizeof(who)), r->rep.node, r->rep.end ? "END" : "CON", r->rep.screen + 1,
	    r->rep.screens, r->rep.sms_copy ? ", SMS copy queued" : "");
	size_t len = strlen(r->rep.body);
	enum MHD_Result ret = respond(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", r->rep.body, len,
	    MHD_RESPMEM_MUST_FREE, NULL);
	r->rep.body = NULL; /* the response owns it now */
	return ret;
}

static enum MHD_Result serve_ussd_end(struct http *h, struct MHD_Connection *conn, const char *url, struct req *r)
{
	struct ussd_end ev;
	struct store *st;
	char err[160], who[LOG_PHONE_BUF];
	int64_t id;

	if (ussd_parse_end(r->body, r->len, r->w->cfg->phone_country, &ev, err, sizeof(err)) < 0)
		return refuse(conn, MHD_HTTP_BAD_REQUEST, "POST", url, NULL, "%s", err);
	st = thread_store(h, r->w->cfg);
	if (st == NULL)
		return refuse(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "POST", url, NULL, "database unavailable");
	pthread_mutex_lock(&h->write_lock);
	struct ctx c = { st, r->w->cfg, r->w->menu, now_unix(), NULL, 0 };
	int rc = ussd_session_end(&c, &ev, &id);
	pthread_mutex_unlock(&h->write_lock);
	if (rc < 0)
		return refuse(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "POST", url, NULL, "database error, nothing stored");
	log_info("http", "ussd %s from %s ended: %s (message %lld)", ev.session_id, log_phone(ev.phone, who, sizeof(who)),
	    ev.status, (long long)id);
	static const char ok[] = "OK\n";
	return respond(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", (void *)ok, sizeof(ok) - 1,
	    MHD_RESPMEM_PERSISTENT, NULL);
}

/* ---- Kannel ----------------------------------------------------------------------------------------- */

static const char *arg(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

/* The charset parameter of a Content-Type (text/plain; charset="UTF-16BE"), into out. */
static void content_charset(struct MHD_Connection *conn, char *out, size_t outlen)
{
	const char *t = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *p = t ? strcasestr(t, "charset=") : NULL;
	size_t n;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen("charset=");
	if (*p == '"')
		p++;
	n = strcspn(p, "\"; \t");
	snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), p);
}

/*
 * An MO (post-url: the text is the body; get-url: the text argument) or a
 * delivery report. The MO is committed before the answer: 202 when stored
 * now or stored before (a retried call), 400 when it can never be stored,
 * 503 when smsbox should call again.
 */
static enum MHD_Result serve_kannel(struct http *h, struct MHD_Connection *conn, const char *method,
    const char *url, const struct world *w, const struct modem_cfg *ch, enum route route, const char *body,
    size_t blen)
{
	struct store *st = thread_store(h, w->cfg);
	char charset[32];

	if (st == NULL)
		return refuse(conn, MHD_HTTP_SERVICE_UNAVAILABLE, method, url, NULL, "database unavailable");
	if (route == ROUTE_KANNEL_DLR) {
		long long msg, type;
		if (arg(conn, "msg") == NULL || !parse_int(arg(conn, "msg"), 1, INT64_MAX, &msg) ||
		    arg(conn, "type") == NULL || !parse_int(arg(conn, "type"), 0, 1 << 20, &type))
			return refuse(conn, MHD_HTTP_BAD_REQUEST, method, url, NULL, "a report needs msg and type=%%d");
		pthread_mutex_lock(&h->write_lock);
		struct ctx c = { st, w->cfg, w->menu, now_unix(), ch->name, 0 };
		int rc = kannel_dlr(&c, ch, (int64_t)msg, (int)type);
		pthread_mutex_unlock(&h->write_lock);
		if (rc < 0)
			return refuse(conn, MHD_HTTP_SERVICE_UNAVAILABLE, method, url, NULL, "database error, nothing stored");
		if (rc > 0)
			return refuse(conn, MHD_HTTP_NOT_FOUND, method, url, NULL, "no such message sent through %s, or an unknown type",
			    ch->name);
		return respond(conn, MHD_HTTP_ACCEPTED, "text/plain; charset=utf-8", (void *)"", 0, MHD_RESPMEM_PERSISTENT,
		    NULL);
	}
	struct kannel_mo mo;
	struct kannel_mo_result res;
	long long t = 0;
	memset(&mo, 0, sizeof(mo));
	mo.id = arg(conn, "id");
	mo.from = arg(conn, "from");
	mo.to = arg(conn, "to");
	mo.coding = arg(conn, "coding");
	mo.charset = arg(conn, "charset");
	if (mo.charset == NULL || *mo.charset == '\0') {
		content_charset(conn, charset, sizeof(charset));
		mo.charset = charset;
	}
	if (arg(conn, "time") && parse_int(arg(conn, "time"), 0, INT64_MAX, &t))
		mo.time = (int64_t)t;
	if (body != NULL) {
		mo.text = body;
		mo.len = blen;
	} else {
		const char *v = NULL;
		size_t vlen = 0;
		if (MHD_lookup_connection_value_n(conn, MHD_GET_ARGUMENT_KIND, "text", 4, &v, &vlen) == MHD_YES) {
			mo.text = v;
			mo.len = vlen;
		}
	}
	pthread_mutex_lock(&h->write_lock);
	struct ctx c = { st, w->cfg, w->menu, now_unix(), ch->name, 0 };
	kannel_mo(&c, ch, &mo, &res);
	pthread_mutex_unlock(&h->write_lock);
	switch (res.outcome) {
	case KANNEL_BAD:
		return refuse(conn, MHD_HTTP_BAD_REQUEST, method, url, NULL, "%s", res.why);
	case KANNEL_DBERROR:
		return refuse(conn, MHD_HTTP_SERVICE_UNAVAILABLE, method, url, NULL, "database error, nothing stored");
	case KANNEL_STORED:
	case KANNEL_DUPLICATE:
		break;
	}
	/* no body: smsbox sends nothing of its own; the reply goes out through the outbox */
	return respond(conn, MHD_HTTP_ACCEPTED, "text/plain; charset=utf-8", (void *)"", 0, MHD_RESPMEM_PERSISTENT, NULL);
}

/* ---- the request cycle ------------------------------------------------------------------------------ */

/*
 * The first call for a request (headers read, no body yet): route it, check
 * the method and access, and answer at once whatever needs no body; for a
 * USSD POST, set up the body buffer. Everything refused here touches nothing.
 */
static enum MHD_Result begin(struct http *h, struct MHD_Connection *conn, const char *url, const char *method,
    void **con_cls)
{
	struct world *w = world_get();
	const struct config *cfg;
	bool path_secret, get;
	enum route route;
	const char *why, *v;
	enum MHD_Result ret;
	long long clen;

	*con_cls = &answered;
	if (w == NULL)
		return refuse(conn, MHD_HTTP_SERVICE_UNAVAILABLE, method, url, NULL, "starting or stopping");
	cfg = w->cfg;
	const struct modem_cfg *ch = NULL;
	if (str_startswith(url, "/kannel/"))
		route = kannel_route(url, cfg, &ch, &path_secret);
	else
		route = route_of(url, cfg->ussd_secret, &path_secret);
	get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	switch (route) {
	case ROUTE_NONE:
		ret = refuse(conn, MHD_HTTP_NOT_FOUND, method, url, NULL, "no such path");
		goto out;
	case ROUTE_HEALTH:
	case ROUTE_METRICS:
		if (!get)
			ret = refuse(conn, MHD_HTTP_METHOD_NOT_ALLOWED, method, url, "GET, HEAD", "method not allowed");
		else if (route == ROUTE_HEALTH)
			ret = serve_health(h, conn, w);
		else
			ret = serve_metrics(h, conn, w);
		goto out;
	case ROUTE_KANNEL:
	case ROUTE_KANNEL_DLR:
		if (!get && strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
			ret = refuse(conn, MHD_HTTP_METHOD_NOT_ALLOWED, method, url, "GET, POST", "method not allowed");
			goto out;
		}
		if ((why = kannel_refusal(conn, ch, path_secret)) != NULL) {
			ret = refuse(conn, MHD_HTTP_FORBIDDEN, method, url, NULL, "%s", why);
			goto out;
		}
		if (get) {
			ret = serve_kannel(h, conn, method, url, w, ch, route, NULL, 0);
			goto out;
		}
		v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (v != NULL && (!parse_int(v, 0, INT64_MAX, &clen) || clen > KANNEL_MAX_BODY)) {
			ret = refuse(conn, MHD_HTTP_CONTENT_TOO_LARGE, method, url, NULL, "body over %d bytes", KANNEL_MAX_BODY);
			goto out;
		}
		goto body;
	case ROUTE_USSD:
	case ROUTE_USSD_END:
		break;
	}
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
		ret = refuse(conn, MHD_HTTP_METHOD_NOT_ALLOWED, method, url, "POST", "method not allowed");
		goto out;
	}
	if ((why = ussd_refusal(conn, cfg, path_secret)) != NULL) {
		ret = refuse(conn, MHD_HTTP_FORBIDDEN, method, url, NULL, "%s", why);
		goto out;
	}
	if (!is_form(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		ret = refuse(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, method, url, NULL,
		    "Content-Type must be application/x-www-form-urlencoded");
		goto out;
	}
	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (v != NULL && (!parse_int(v, 0, INT64_MAX, &clen) || clen > cfg->ussd_max_body)) {
		ret = refuse(conn, MHD_HTTP_CONTENT_TOO_LARGE, method, url, NULL, "body over ussd.max_body (%d bytes)",
		    cfg->ussd_max_body);
		goto out;
	}
body:;
	size_t cap = ch ? KANNEL_MAX_BODY : (size_t)cfg->ussd_max_body;
	struct req *r = xmalloc(sizeof(*r) + cap + 1);
	r->w = w;
	r->route = route;
	r->ch = ch;
	r->too_big = false;
	r->len = r->discarded = 0;
	r->cap = cap;
	r->conn = NULL;
	r->next = NULL;
	memset(&r->rep, 0, sizeof(r->rep));
	r->rc = 0;
	atomic_init(&r->done, false);
	*con_cls = r;
	return MHD_YES; /* the world is released when the request completes */
out:
	world_release(w);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http *h = cls;
	struct req *r = *con_cls;

	(void)version;
	if (r == NULL)
		return begin(h, conn, url, method, con_cls);
	if (r == &answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (!r->too_big && n <= r->cap - r->len) {
			memcpy(r->body + r->len, upload_data, n);
			r->len += n;
		} else {
			r->too_big = true;
			r->discarded += n;
			if (r->discarded > DISCARD_FACTOR * r->cap)
				return MHD_NO; /* close: this client only wastes our time */
		}
		return MHD_YES;
	}
	if (r->too_big)
		return refuse(conn, MHD_HTTP_CONTENT_TOO_LARGE, method, url, NULL, "body over ussd.max_body (%zu bytes)",
		    r->cap);
	if (r->route == ROUTE_KANNEL || r->route == ROUTE_KANNEL_DLR)
		return serve_kannel(h, conn, method, url, r->w, r->ch, r->route, r->body, r->len);
	if (r->route == ROUTE_USSD_END)
		return serve_ussd_end(h, conn, url, r);
	return serve_ussd(h, conn, url, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r != NULL && r != &answered) {
		ussd_reply_free(&r->rep);
		world_release(r->w);
		free(r);
	}
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_info("http", "libmicrohttpd: %s", line);
}

/* ---- start and stop ------------------------------------------------------------------------------------ */

/* Bind ourselves, so that "port in use" comes back as such. */
static int listen_on(const char *address, int port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, address, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		len = sizeof(*in6);
	} else {
		snprintf(err, errlen, "http.address \"%s\" is not an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1)", address);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open a socket for HTTP: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, HTTP_BACKLOG) < 0) {
		snprintf(err, errlen, "cannot listen on %s port %d (http.address, http.port): %s", address, port,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Say at start what the USSD access rules will do, once. */
static void check_access(const struct config *cfg)
{
	if (*cfg->ussd_secret == '\0' && cfg->nussd_allow == 0)
		log_warnx("http", "USSD callbacks are refused: set ussd.secret or ussd.allow");
	for (size_t i = 0; i < cfg->nussd_allow; i++)
		if (!ussd_allow_entry_ok(cfg->ussd_allow[i]))
			log_warnx("http", "ussd.allow entry \"%s\" is not an address or address/bits: it matches nothing",
			    cfg->ussd_allow[i]);
}

int http_start(const char *db_path, struct http **out, char *err, size_t errlen)
{
	struct world *w = world_get();
	struct http *h;
	int fd;

	*out = NULL;
	if (w == NULL) {
		snprintf(err, errlen, "HTTP: no configuration loaded");
		return -1;
	}
	fd = listen_on(w->cfg->http_address, w->cfg->http_port, err, errlen);
	if (fd < 0) {
		world_release(w);
		return -1;
	}
	h = xcalloc(1, sizeof(*h));
	h->db_path = xstrdup(db_path);
	h->gen = atomic_fetch_add(&generations, 1) + 1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->write_lock, NULL);
	pthread_mutex_init(&h->wlock, NULL);
	pthread_cond_init(&h->wcond, NULL);
	atomic_init(&h->next_purge, 0);
	{
		struct store_opts so = { 0 };
		char serr[512];
		so.synchronous = w->cfg->db_synchronous;
		if (store_open(db_path, &so, &h->wst, serr, sizeof(serr)) < 0) {
			snprintf(err, errlen, "HTTP: %s", serr);
			close(fd);
			http_stop(h);
			world_release(w);
			return -1;
		}
	}
	if (pthread_create(&h->writer, NULL, writer_main, h) != 0) {
		snprintf(err, errlen, "HTTP: cannot start the USSD writer thread");
		close(fd);
		http_stop(h);
		world_release(w);
		return -1;
	}
	h->writer_started = true;
	/* a pool of threads, each polling its own connections with epoll: requests never wait on a modem */
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
		MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
	    on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, /* first, or early messages go to stderr raw */
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)w->cfg->http_threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONN_LIMIT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		snprintf(err, errlen, "cannot start the HTTP server on %s port %d", w->cfg->http_address,
		    w->cfg->http_port);
		close(fd);
		http_stop(h);
		world_release(w);
		return -1;
	}
	check_access(w->cfg);
	world_release(w);
	*out = h;
	return 0;
}

void http_stop(struct http *h)
{
	if (h == NULL)
		return;
	/* the writer answers what it was handed, then stops; later steps get 503 */
	pthread_mutex_lock(&h->wlock);
	h->stopping = true;
	pthread_cond_broadcast(&h->wcond);
	pthread_mutex_unlock(&h->wlock);
	if (h->writer_started)
		pthread_join(h->writer, NULL);
	/* joins the threads: no request runs after this, so their connections can go */
	if (h->d != NULL)
		MHD_stop_daemon(h->d);
	store_close(h->wst);
	h->wst = NULL;
	pthread_mutex_destroy(&h->wlock);
	pthread_cond_destroy(&h->wcond);
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->ndbs; i++)
		store_close(h->dbs[i]);
	free(h->dbs);
	h->dbs = NULL;
	h->ndbs = 0;
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->write_lock);
	free(h->db_path);
	free(h);
}
