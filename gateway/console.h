/*
 * console: the staff web console's router and pages (in Chinese), between
 * http_console.c (the libmicrohttpd glue) and the services: auth.c decides
 * who may do what, cases.c does it (the same calls as the SMS staff
 * commands, so the same notifications and refusals), audit.c records it,
 * and the HTML comes from the templates in console/templates (tmpl.c,
 * escaped by default). No I/O of its own but the database connection it is
 * handed; one request at a time per connection.
 */
#ifndef HOTLINE_CONSOLE_H
#define HOTLINE_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"
#include "world.h"

struct console_kv {
	const char *name, *value;
};

struct console_req {
	const char *method;                    /* GET, HEAD or POST */
	const char *path;                      /* without the query */
	const struct console_kv *query;        /* decoded query arguments */
	size_t nquery;
	const struct console_kv *form;         /* decoded form fields (POST) */
	size_t nform;
	const char *session;                   /* the hl_session cookie, or NULL */
	const char *pre;                       /* the hl_pre cookie (login and setup forms), or NULL */
	const char *addr;                      /* the client's address */
	int64_t now;
};

struct console_resp {
	int status;
	const char *type;   /* static */
	struct buf body;
	char *location;     /* a redirect (303) */
	char *cookies[2];   /* Set-Cookie values */
	char *filename;     /* an attachment's name (ASCII) */
};
void console_resp_free(struct console_resp *r);

/* Answer one request. Returns -1 only when not even an error page could be made. */
int console_handle(struct store *st, const struct world *w, const struct console_req *rq, struct console_resp *rs);

/*
 * At start: with no account yet, make a setup token (valid 24 h) and log the
 * one-time link that creates the first admin. -1 on a database error.
 */
int console_first_start(struct store *st, const struct config *cfg, int64_t now) WARN_UNUSED;

#endif
