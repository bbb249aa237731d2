#include "http_console.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "auth.h"
#include "console.h"
#include "log.h"
#include "store.h"
#include "world.h"

#define CONSOLE_MAX_BODY   (64 * 1024)
#define CONSOLE_MAX_FIELDS 64
#define CONSOLE_TIMEOUT    30

static const char CSP[] = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
			  "frame-ancestors 'none'; base-uri 'none'";

struct http_console {
	struct MHD_Daemon *d;
	struct store *st; /* used only by libmicrohttpd's one thread */
};

struct creq {
	struct buf body;
	bool too_big;
	struct console_kv query[CONSOLE_MAX_FIELDS];
	size_t nquery;
};
static char answered_marker;

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct creq *r = cls;

	(void)kind;
	if (r->nquery < CONSOLE_MAX_FIELDS && key != NULL)
		r->query[r->nquery++] = (struct console_kv){ key, value ? value : "" };
	return MHD_YES;
}

/* Split an application/x-www-form-urlencoded body in place. */
static size_t parse_form(char *s, struct console_kv *kv, size_t max)
{
	size_t n = 0;

	while (s && *s && n < max) {
		char *amp = strchr(s, '&'), *eq;
		if (amp)
			*amp = '\0';
		eq = strchr(s, '=');
		if (eq)
			*eq = '\0';
		for (char *p = s; *p; p++)
			if (*p == '+')
				*p = ' ';
		if (eq)
			for (char *p = eq + 1; *p; p++)
				if (*p == '+')
					*p = ' ';
		MHD_http_unescape(s);
		if (eq)
			MHD_http_unescape(eq + 1);
		if (*s)
			kv[n++] = (struct console_kv){ s, eq ? eq + 1 : "" };
		s = amp ? amp + 1 : NULL;
	}
	return n;
}

static void client_addr(struct MHD_Connection *conn, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	snprintf(out, len, "?");
	if (ci == NULL || ci->client_addr == NULL)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out, (socklen_t)len);
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, out, (socklen_t)len);
}

static enum MHD_Result send_plain(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	(void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result answer(struct http_console *hc, struct MHD_Connection *conn, const char *url,
    const char *method, struct creq *r)
{
	struct console_kv form[CONSOLE_MAX_FIELDS];
	struct console_req rq;
	struct console_resp rs;
	struct world *w = world_get();
	char addr[INET6_ADDRSTRLEN + 1];
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	enum MHD_Result ret;

	if (w == NULL)
		return send_plain(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "starting or stopping\n");
	memset(&rq, 0, sizeof(rq));
	client_addr(conn, addr, sizeof(addr));
	(void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query, r);
	rq.method = post ? "POST" : "GET";
	rq.path = url;
	rq.query = r->query;
	rq.nquery = r->nquery;
	if (post) {
		const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
		if (type == NULL || strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0) {
			world_release(w);
			return send_plain(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "forms only\n");
		}
		buf_addc(&r->body, '\0'); /* make sure there is a string to split */
		rq.nform = parse_form(r->body.s, form, CONSOLE_MAX_FIELDS);
		rq.form = form;
	}
	rq.session = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "hl_session");
	rq.pre = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "hl_pre");
	rq.addr = addr;
	rq.now = now_unix();
	(void)console_handle(hc->st, w, &rq, &rs);
	world_release(w);

	size_t len = rs.body.len;
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, buf_take(&rs.body), MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		console_resp_free(&rs);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rs.type ? rs.type : "text/plain");
	(void)MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	(void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	(void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	(void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (rs.location)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, rs.location);
	for (size_t i = 0; i < 2; i++)
		if (rs.cookies[i])
			(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, rs.cookies[i]);
	if (rs.filename) {
		char cd[160];
		snprintf(cd, sizeof(cd), "attachment; filename=\"%s\"", rs.filename);
		(void)MHD_add_response_header(resp, "Content-Disposition", cd);
	}
	log_debug("console", "%d %s %s", rs.status, rq.method, url);
	ret = MHD_queue_response(conn, (unsigned)rs.status, resp);
	MHD_destroy_response(resp);
	console_resp_free(&rs);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_console *hc = cls;
	struct creq *r = *con_cls;

	(void)version;
	if (r == NULL) {
		bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
		if (!get && strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
			*con_cls = &answered_marker;
			return send_plain(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
		}
		*con_cls = xcalloc(1, sizeof(struct creq));
		return MHD_YES;
	}
	if ((void *)r == &answered_marker) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (r->body.len + *upload_data_size > CONSOLE_MAX_BODY)
			r->too_big = true;
		else
			buf_add(&r->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->too_big)
		return send_plain(conn, MHD_HTTP_CONTENT_TOO_LARGE, "form too large\n");
	return answer(hc, conn, url, method, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct creq *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r != NULL && (void *)r != &answered_marker) {
		buf_free(&r->body);
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
	log_info("console", "libmicrohttpd: %s", line);
}

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
		snprintf(err, errlen, "console.address \"%s\" is not an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1)", address);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open a socket for the console: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "cannot listen on %s port %d (console.address, console.port): %s", address, port,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int http_console_start(const char *db_path, struct http_console **out, char *err, size_t errlen)
{
	struct world *w = world_get();
	struct store_opts so = { 0 };
	struct http_console *hc;
	char serr[512];
	int fd;

	*out = NULL;
	if (w == NULL) {
		snprintf(err, errlen, "console: no configuration loaded");
		return -1;
	}
	if (auth_init() < 0) {
		snprintf(err, errlen, "console: libsodium cannot start");
		world_release(w);
		return -1;
	}
	hc = xcalloc(1, sizeof(*hc));
	so.synchronous = w->cfg->db_synchronous;
	so.country = w->cfg->phone_country;
	if (store_open(db_path, &so, &hc->st, serr, sizeof(serr)) < 0) {
		snprintf(err, errlen, "console: %s", serr);
		goto fail;
	}
	if (console_first_start(hc->st, w->cfg, now_unix()) < 0) {
		snprintf(err, errlen, "console: cannot prepare the setup link (database error)");
		goto fail;
	}
	fd = listen_on(w->cfg->console_address, w->cfg->console_port, err, errlen);
	if (fd < 0)
		goto fail;
	/* one thread: pages are quick, and a login's Argon2id is paid by whoever logs in */
	hc->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    on_request, hc,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONSOLE_TIMEOUT,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, hc,
	    MHD_OPTION_END);
	if (hc->d == NULL) {
		snprintf(err, errlen, "cannot start the console on %s port %d", w->cfg->console_address,
		    w->cfg->console_port);
		close(fd);
		goto fail;
	}
	log_info("console", "staff console on http://%s:%d/", w->cfg->console_address, w->cfg->console_port);
	world_release(w);
	*out = hc;
	return 0;
fail:
	store_close(hc->st);
	free(hc);
	world_release(w);
	return -1;
}

void http_console_stop(struct http_console *hc)
{
	if (hc == NULL)
		return;
	if (hc->d != NULL)
		MHD_stop_daemon(hc->d);
	store_close(hc->st);
	free(hc);
}
