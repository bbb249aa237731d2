/*
 * http_console: the staff web console's listener (console.address,
 * console.port), apart from the USSD listener that faces the aggregator.
 * libmicrohttpd glue only: it reads a request (query, form body, cookies,
 * the client's address), hands it to console.c and writes the answer with
 * the security headers every page carries (CSP without inline script,
 * X-Frame-Options DENY, nosniff, no-referrer, no-store). One thread serves
 * the console; it has one database connection of its own.
 */
#ifndef HOTLINE_HTTP_CONSOLE_H
#define HOTLINE_HTTP_CONSOLE_H

#include <stddef.h>

#include "util.h"

struct http_console;

/* Start serving; with no account yet, log the setup link. -1 with the reason in err. */
int http_console_start(const char *db_path, struct http_console **out, char *err, size_t errlen) WARN_UNUSED;
/* Stop and free; NULL is fine. */
void http_console_stop(struct http_console *hc);

#endif
