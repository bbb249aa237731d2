/*
 * http: the daemon's HTTP side (the only module that includes
 * <microhttpd.h>): the USSD aggregator callback and its end-of-session
 * notification, /healthz and /metrics. Runs in libmicrohttpd's own threads;
 * each thread keeps its own database connection, so a slow client never
 * holds a modem thread.
 */
#ifndef HOTLINE_HTTP_H
#define HOTLINE_HTTP_H

#include <stddef.h>

#include "util.h"

struct http;

/*
 * Listen on http.address:http.port of the current world's config and serve
 * until http_stop(). db_path: the database each request thread opens.
 * Returns -1 with the reason in err (port in use, bad address).
 */
int http_start(const char *db_path, struct http **out, char *err, size_t errlen) WARN_UNUSED;
/* Stop accepting, finish the requests under way, free. NULL is fine. */
void http_stop(struct http *h);

#endif
