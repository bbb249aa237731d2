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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "dispatch.h"
#include "health.h"
#include "kannel.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "store.h"
#include "store_outbox.h"
#include "store_sessions.h"
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
#define HTTP_CONN_MEMORY  (32 * 1024)
#define HTTP_BACKLOG      256
/*
 * A connection has this long to send its headers and body, however slowly
 * it trickles them (the idle timeout alone lets a byte every 4 s hold a
 * connection for ever): then it is closed (issue 11.5).
 */
#define HTTP_REQUEST_DEADLINE_MS 10000
/*
 * The file descriptor budget (issue 11.6): HTTP connections get what the
 * process may open minus what the rest needs: the standard streams, the log
 * and lock files, the listening socket, libmicrohttpd's epoll and wake-up
 * descriptors, and per modem its device and libgammu's files, per database
 * connection the file, its -wal and -shm (one connection per modem thread,
 * per HTTP thread, the writer and the main thread).
 */
#define FD_BASE          32
#define FD_PER_MODEM     8
#define FD_PER_DB        4
#define FD_PER_THREAD    3
#define HTTP_CONN_MAX    8192
#define HTTP_CONN_MIN    8
/* Connections kept for addresses in ussd.allow or http.ops_allow: a share of the limit, at least this many. */
#define HTTP_RESERVE_MIN 4
#define HTTP_RESERVE_DIV 8
/* A kind of refusal or abort is logged at most once per this many seconds, then with a count. */
#define LOG_EVERY_S 60
/* Expired USSD sessions are swept at most this often, by whichever request comes. */
#define PURGE_EVERY 60
/* An oversized body without a Content-Length is read and dropped up to this many times ussd.max_body; then the connection is closed. */
#define DISCARD_FACTOR 16

enum route { ROUTE_NONE, ROUTE_USSD, ROUTE_USSD_END, ROUTE_HEALTH, ROUTE_METRICS, ROUTE_KANNEL, ROUTE_KANNEL_DLR };
/* The largest MO smsbox may post: 255 concatenated UCS-2 parts, as UTF-8. */
#define KANNEL_MAX_BODY 65536

/* An open connection, from accept to close (libmicrohttpd's socket context). */
struct conn {
	struct conn *prev, *next;
	int fd;
	struct sockaddr_storage addr;
	_Atomic int64_t deadline; /* mono ms by which its request must be in; 0 while it is being answered */
	bool reaped;              /* closed by us at the deadline (under clock) */
	atomic_bool answered;     /* a request on it came to an end */
};

struct http {
	struct MHD_Daemon *d;
	/* the connections, for the per-address limit, the reserve and the deadline */
	pthread_mutex_t clock;
	struct conn *conns;
	unsigned nconns;
	unsigned conn_limit, reserve;
	/* the reaper: closes connections past their deadline, writes the counted log lines */
	pthread_t reaper;
	bool reaper_started;
	pthread_cond_t rcond;   /* with clock */
	bool reaper_stop;
	char *db_path;
	unsigned gen;           /* tells this server's thread connections from an earlier one's */
	pthread_mutex_t lock;   /* guards dbs */
	/*
	 * Held around the Kannel link's write transactions, which still run on
	 * libmicrohttpd's threads (USSD steps and ends go to the writer).
	 */
	pthread_mutex_t write_lock;
	struct store **dbs;     /* every thread's connection, closed by http_stop */
	size_t ndbs, cap;
	_Atomic int64_t next_purge;
	/*
	 * The USSD writer: one thread with one connection runs every USSD step
	 * and every end-of-session notification: no database write runs on
	 * libmicrohttpd's threads, so /healthz never waits behind one.
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
	/* a USSD step or end notification handed to the writer */
	struct MHD_Connection *conn;
	struct req *next;       /* in the writer's queue */
	struct ussd_callback cb;
	struct ussd_end ev;     /* ROUTE_USSD_END */
	int64_t end_id;
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

/* ---- counted log lines (issue 11.8): a flood cannot fill the disk ------------------------------ */

/* Per kind: the first line in a minute is written, the rest counted and summed up a minute later. */
struct counted {
	_Atomic int64_t next;           /* mono seconds before which lines of this kind are only counted */
	_Atomic unsigned long pending;  /* counted, not yet logged */
};
static struct counted refusal_log[REFUSED_N], abort_log[ABORT_N];
/* libmicrohttpd's own messages, counted per message (by its format string) */
#define MHD_KINDS 8
static struct {
	_Atomic(const char *) fmt;
	struct counted c;
} mhd_kinds[MHD_KINDS];

/* true when this one is to be written out; false when it was counted for the summary. */
static bool count_for_log(struct counted *c)
{
	int64_t now = mono_ms() / 1000, next = atomic_load(&c->next);

	if (now >= next && atomic_compare_exchange_strong(&c->next, &next, now + LOG_EVERY_S))
		return true;
	atomic_fetch_add(&c->pending, 1);
	return false;
}

/* The reaper, once a second: what was counted and not written, as one line per kind and minute. */
static void flush_counted(struct counted *c, const char *what, const char *name)
{
	int64_t now = mono_ms() / 1000, next = atomic_load(&c->next);
	unsigned long n;

	if (now < next || atomic_load(&c->pending) == 0 ||
	    !atomic_compare_exchange_strong(&c->next, &next, now + LOG_EVERY_S))
		return;
	n = atomic_exchange(&c->pending, 0);
	log_info("http", "%lu more %s (%s) in the last minute", n, what, name);
}

static void flush_all_counted(void)
{
	for (int i = 0; i < REFUSED_N; i++)
		flush_counted(&refusal_log[i], "refused", metrics_refusal_name((enum metrics_refusal)i));
	for (int i = 0; i < ABORT_N; i++)
		flush_counted(&abort_log[i], "connections ended without an answer", metrics_abort_name((enum metrics_abort)i));
	for (int i = 0; i < MHD_KINDS; i++)
		flush_counted(&mhd_kinds[i].c, "libmicrohttpd messages", "like the one logged before");
}

static enum metrics_refusal refusal_of(unsigned status)
{
	switch (status) {
	case MHD_HTTP_BAD_REQUEST:
		return REFUSED_BAD_REQUEST;
	case MHD_HTTP_FORBIDDEN:
		return REFUSED_FORBIDDEN;
	case MHD_HTTP_NOT_FOUND:
		return REFUSED_NOT_FOUND;
	case MHD_HTTP_METHOD_NOT_ALLOWED:
		return REFUSED_METHOD;
	case MHD_HTTP_CONTENT_TOO_LARGE:
		return REFUSED_TOO_LARGE;
	case MHD_HTTP_UNSUPPORTED_MEDIA_TYPE:
		return REFUSED_MEDIA_TYPE;
	default:
		return status >= 500 ? REFUSED_UNAVAILABLE : REFUSED_BAD_REQUEST;
	}
}

/* A 4xx or 5xx with a one-line reason, for the aggregator's log and ours (counted, see above). */
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
	metrics_http_refused(refusal_of(status));
	if (!count_for_log(&refusal_log[refusal_of(status)]))
		; /* counted: the reaper writes how many */
	else if (status >= 500)
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

/*
 * Is this address one of ussd.allow's, http.ops_allow's or a Kannel link's
 * allow list (the reserve is theirs, no per-address cap)?
 */
static bool addr_privileged(const struct config *cfg, const struct sockaddr *sa)
{
	if ((cfg->nussd_allow > 0 && ussd_source_allowed(sa, cfg->ussd_allow, cfg->nussd_allow)) ||
	    ussd_source_allowed(sa, cfg->http_ops_allow, cfg->nhttp_ops_allow))
		return true;
	for (size_t i = 0; i < cfg->nmodems; i++)
		if (cfg->modems[i].kind == CHANNEL_KANNEL && cfg->modems[i].nallow > 0 &&
		    ussd_source_allowed(sa, cfg->modems[i].allow, cfg->modems[i].nallow))
			return true;
	return false;
}

/* Does every path name the addresses it takes (ussd.allow, each Kannel link's allow)? Then others are refused at accept. */
static bool only_listed(const struct config *cfg)
{
	if (cfg->nussd_allow == 0)
		return false;
	for (size_t i = 0; i < cfg->nmodems; i++)
		if (cfg->modems[i].kind == CHANNEL_KANNEL && cfg->modems[i].nallow == 0)
			return false;
	return true;
}

/* May this connection read /healthz and /metrics (http.ops_allow)? */
static bool ops_allowed(struct MHD_Connection *conn, const struct config *cfg)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	return ci != NULL && ussd_source_allowed(ci->client_addr, cfg->http_ops_allow, cfg->nhttp_ops_allow);
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

	struct store_health sh;

	memset(&g, 0, sizeof(g));
	store_health(&sh);
	g.db_last_commit_age = sh.last_commit > 0 ? now - sh.last_commit : -1;
	g.db_errors = sh.errors;
	g.db_ok = st != NULL && !sh.lost && !sh.corrupt && !sh.failing && store_ping(st) == 0;
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
			if (r->route == ROUTE_USSD_END)
				r->rc = ussd_session_end_in(&c, &r->ev, &r->end_id);
			else
				r->rc = ussd_session_step_in(&c, &r->cb, &r->rep);
			if (r->rc < 0)
				store_rollback_savepoint(h->wst);
			else if (store_release(h->wst) < 0)
				r->rc = -1, ussd_reply_free(&r->rep);
			queued |= r->rc == 0 && r->route == ROUTE_USSD && r->rep.queued;
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
			} else if (r->rc == 0 && r->route == ROUTE_USSD_END) {
				metrics_message(CHANNEL_USSD, DIRECTION_IN);
			}
			atomic_store(&r->done, true);
			MHD_resume_connection(r->conn);
			r = next;
		}
	}
	return NULL;
}

/* The connection's record (deadline, counts), or NULL. */
static struct conn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/*
 * A USSD step or an end-of-session notification: parsed here, run by the
 * writer thread (the connection waits suspended), answered when resumed.
 */
static enum MHD_Result serve_ussd(struct http *h, struct MHD_Connection *conn, const char *url, struct req *r)
{
	char err[160], who[LOG_PHONE_BUF];

	if (!atomic_load(&r->done)) {
		/* first time here: check the body, then hand the step to the writer */
		int prc = r->route == ROUTE_USSD_END ?
		    ussd_parse_end(r->body, r->len, r->w->cfg->phone_country, &r->ev, err, sizeof(err)) :
		    ussd_parse_callback(r->body, r->len, r->w->cfg->phone_country, &r->cb, err, sizeof(err));
		if (prc < 0)
			return refuse(conn, MHD_HTTP_BAD_REQUEST, "POST", url, NULL, "%s", err);
		struct conn *c = conn_of(conn);
		if (c != NULL)
			atomic_store(&c->deadline, 0); /* all in: the rest is ours, not the client's */
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
	if (r->route == ROUTE_USSD_END) {
		static const char ok[] = "OK\n";
		log_info("http", "ussd %s from %s ended: %s (message %lld)", r->ev.session_id,
		    log_phone(r->ev.phone, who, sizeof(who)), r->ev.status, (long long)r->end_id);
		return respond(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", (void *)ok, sizeof(ok) - 1,
		    MHD_RESPMEM_PERSISTENT, NULL);
	}
	log_info("http", "ussd %s from %s -> %s, %s screen %zu of %zu%s", r->cb.session_id,
	    log_phone(r->cb.phone, who, sizeof(who)), r->rep.node, r->rep.end ? "END" : "CON", r->rep.screen + 1,
	    r->rep.screens, r->rep.sms_copy ? ", SMS copy queued" : "");
	size_t len = strlen(r->rep.body);
	enum MHD_Result ret = respond(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", r->rep.body, len,
	    MHD_RESPMEM_MUST_FREE, NULL);
	r->rep.body = NULL; /* the response owns it now */
	return ret;
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
		if (!ops_allowed(conn, cfg))
			ret = refuse(conn, MHD_HTTP_FORBIDDEN, method, url, NULL, "source address not in http.ops_allow");
		else if (!get)
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
	return serve_ussd(h, conn, url, r);
}

static void count_abort(enum metrics_abort a)
{
	metrics_http_aborted(a);
	if (count_for_log(&abort_log[a]))
		log_info("http", "a connection ended without an answer (%s)", metrics_abort_name(a));
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	struct conn *c = conn_of(conn);

	(void)cls;
	if (c != NULL) {
		bool reaped;
		pthread_mutex_lock(&((struct http *)cls)->clock);
		reaped = c->reaped;
		pthread_mutex_unlock(&((struct http *)cls)->clock);
		if (!reaped && (toe == MHD_REQUEST_TERMINATED_READ_ERROR || toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT))
			count_abort(ABORT_CLIENT);
		else if (!reaped && (toe == MHD_REQUEST_TERMINATED_WITH_ERROR ||
		    toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED))
			count_abort(ABORT_ERROR);
		atomic_store(&c->answered, true);
		/* the next request on a kept-alive connection gets its own deadline */
		atomic_store(&c->deadline, mono_ms() + HTTP_REQUEST_DEADLINE_MS);
	}
	if (r != NULL && r != &answered) {
		ussd_reply_free(&r->rep);
		world_release(r->w);
		free(r);
	}
	*con_cls = NULL;
}

/* ---- connections: accept policy, per-address cap, reserve, deadline ------------------------------ */

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)a)->sin_addr,
			   &((const struct sockaddr_in *)(const void *)b)->sin_addr, sizeof(struct in_addr)) == 0;
	if (b->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
			   &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return false;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t len)
{
	const void *a = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr :
						    (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;

	if (inet_ntop(sa->sa_family, a, out, (socklen_t)len) == NULL)
		snprintf(out, len, "?");
}

/*
 * libmicrohttpd asks before it takes a connection (issue 11.5): with
 * ussd.allow set, only its addresses and http.ops_allow's get in; any other
 * address gets at most http.per_ip_limit connections at once, and none of
 * the last `reserve` places, which stay for the allowed addresses.
 */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	static const char *const why_text[] = {
		[REFUSED_NOT_ALLOWED] = "not in ussd.allow, http.ops_allow or a Kannel link's allow",
		[REFUSED_PER_IP] = "http.per_ip_limit reached for it",
		[REFUSED_FULL] = "the places left are kept for ussd.allow and http.ops_allow",
	};
	struct http *h = cls;
	struct world *w = world_get();
	enum metrics_refusal why = REFUSED_N;
	bool privileged, closed;
	unsigned per_ip, same = 0;
	char text[INET6_ADDRSTRLEN];

	(void)addrlen;
	if (w == NULL)
		return MHD_NO;
	privileged = addr_privileged(w->cfg, addr);
	closed = only_listed(w->cfg);
	per_ip = (unsigned)w->cfg->http_per_ip_limit;
	world_release(w);
	if (privileged)
		return MHD_YES;
	if (closed) {
		why = REFUSED_NOT_ALLOWED;
	} else {
		pthread_mutex_lock(&h->clock);
		if (h->nconns + h->reserve >= h->conn_limit)
			why = REFUSED_FULL;
		for (struct conn *c = h->conns; c != NULL && why == REFUSED_N; c = c->next)
			if (same_host(&c->addr, addr) && ++same >= per_ip)
				why = REFUSED_PER_IP;
		pthread_mutex_unlock(&h->clock);
		if (why == REFUSED_N)
			return MHD_YES;
	}
	metrics_http_refused(why);
	if (count_for_log(&refusal_log[why])) {
		addr_text(addr, text, sizeof(text));
		log_info("http", "refused a connection from %s: %s", text, why_text[why]);
	}
	return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;
	struct conn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fi = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *ai = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		c = xcalloc(1, sizeof(*c));
		c->fd = fi ? (int)fi->connect_fd : -1;
		if (ai != NULL && ai->client_addr != NULL)
			memcpy(&c->addr, ai->client_addr,
			    ai->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
		atomic_init(&c->deadline, mono_ms() + HTTP_REQUEST_DEADLINE_MS);
		atomic_init(&c->answered, false);
		pthread_mutex_lock(&h->clock);
		c->next = h->conns;
		if (h->conns)
			h->conns->prev = c;
		h->conns = c;
		h->nconns++;
		pthread_mutex_unlock(&h->clock);
		*socket_context = c;
		return;
	}
	if (c == NULL)
		return;
	/* unlinked before libmicrohttpd closes the descriptor: the reaper never shuts down a reused one */
	pthread_mutex_lock(&h->clock);
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->nconns--;
	pthread_mutex_unlock(&h->clock);
	if (c->reaped)
		metrics_http_aborted(ABORT_DEADLINE); /* logged by the reaper */
	else if (!atomic_load(&c->answered))
		count_abort(ABORT_INCOMPLETE);
	free(c);
	*socket_context = NULL;
}

/* Once a second: close what is past its deadline, write the counted log lines. */
static void *reaper_main(void *arg)
{
	struct http *h = arg;
	struct timespec ts;

	pthread_mutex_lock(&h->clock);
	while (!h->reaper_stop) {
		int64_t now = mono_ms();
		unsigned n = 0;
		for (struct conn *c = h->conns; c != NULL; c = c->next) {
			int64_t d = atomic_load(&c->deadline);
			if (d != 0 && now >= d && !c->reaped && c->fd >= 0) {
				c->reaped = true;
				(void)shutdown(c->fd, SHUT_RDWR); /* libmicrohttpd sees the end and closes it */
				n++;
			}
		}
		pthread_mutex_unlock(&h->clock);
		for (unsigned i = 0; i < n; i++)
			if (count_for_log(&abort_log[ABORT_DEADLINE]))
				log_info("http", "closed a connection that had not sent its request within %d s",
				    HTTP_REQUEST_DEADLINE_MS / 1000);
		flush_all_counted();
		pthread_mutex_lock(&h->clock);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		if (!h->reaper_stop)
			(void)pthread_cond_timedwait(&h->rcond, &h->clock, &ts);
	}
	pthread_mutex_unlock(&h->clock);
	return NULL;
}

/* libmicrohttpd's own messages, counted like the refusals (per message, by its format). */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t n, k;

	(void)cls;
	for (k = 0; k < MHD_KINDS; k++) {
		const char *none = NULL;
		if (atomic_load(&mhd_kinds[k].fmt) == fmt ||
		    atomic_compare_exchange_strong(&mhd_kinds[k].fmt, &none, fmt) || atomic_load(&mhd_kinds[k].fmt) == fmt)
			break;
	}
	if (k < MHD_KINDS && !count_for_log(&mhd_kinds[k].c))
		return;
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

/*
 * How many connections HTTP may hold (issue 11.6): what the process may open
 * (RLIMIT_NOFILE, at most FD_SETSIZE: libgammu waits on a serial port with
 * select(), which cannot take a descriptor above it) minus what the modems,
 * the database connections and the log need. -1 when that leaves too few.
 */
static int fd_budget(const struct config *cfg, struct http *h, char *err, size_t errlen)
{
	struct rlimit rl;
	long nofile = FD_SETSIZE, have = -1, reserve, limit;
	long threads = cfg->http_threads, modems = (long)cfg->nmodems;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		have = (long)rl.rlim_cur;
		if (have < nofile)
			nofile = have;
	}
	/* the main thread, the writer, each modem and each HTTP thread have a database connection */
	reserve = FD_BASE + modems * FD_PER_MODEM + (modems + threads + 2) * FD_PER_DB + (threads + 1) * FD_PER_THREAD;
	limit = nofile - reserve;
	if (limit > HTTP_CONN_MAX)
		limit = HTTP_CONN_MAX;
	if (limit < HTTP_CONN_MIN) {
		snprintf(err, errlen, "HTTP: the process may open %ld files (RLIMIT_NOFILE, LimitNOFILE in the systemd "
		    "unit) and %ld are kept for %ld modem(s), the database and the log: too few are left for HTTP; raise "
		    "it", nofile, reserve, modems);
		return -1;
	}
	h->conn_limit = (unsigned)limit;
	h->reserve = (unsigned)(limit / HTTP_RESERVE_DIV > HTTP_RESERVE_MIN ? limit / HTTP_RESERVE_DIV : HTTP_RESERVE_MIN);
	log_info("http", "file descriptors: %ld usable (RLIMIT_NOFILE %ld, FD_SETSIZE %d), %ld kept for %ld modem(s), "
	    "the database and the log; HTTP takes up to %u connections, the last %u only from ussd.allow and "
	    "http.ops_allow, at most %d at once from any other address (http.per_ip_limit)", nofile, have,
	    (int)FD_SETSIZE, reserve, modems, h->conn_limit, h->reserve, cfg->http_per_ip_limit);
	return 0;
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
	pthread_mutex_init(&h->clock, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&h->rcond, &ca);
		pthread_condattr_destroy(&ca);
	}
	atomic_init(&h->next_purge, 0);
	if (fd_budget(w->cfg, h, err, errlen) < 0) {
		close(fd);
		http_stop(h);
		world_release(w);
		return -1;
	}
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
	if (pthread_create(&h->reaper, NULL, reaper_main, h) != 0) {
		snprintf(err, errlen, "HTTP: cannot start the connection reaper thread");
		close(fd);
		http_stop(h);
		world_release(w);
		return -1;
	}
	h->reaper_started = true;
	/*
	 * One thread polling its connections with epoll, or a pool of them when
	 * http.threads > 1 (a pool of one is no pool: libmicrohttpd warns).
	 */
	struct MHD_OptionItem pool[] = {
		{ w->cfg->http_threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, w->cfg->http_threads, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
		MHD_ALLOW_SUSPEND_RESUME, 0, on_accept, h,
	    on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, /* first, or early messages go to stderr raw */
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)h->conn_limit,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_ARRAY, pool,
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
	pthread_mutex_lock(&h->clock);
	h->reaper_stop = true;
	pthread_cond_broadcast(&h->rcond);
	pthread_mutex_unlock(&h->clock);
	if (h->reaper_started)
		pthread_join(h->reaper, NULL);
	pthread_mutex_destroy(&h->clock);
	pthread_cond_destroy(&h->rcond);
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
