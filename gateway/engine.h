/*
 * engine: one step of a conversation. Given where the sender stands (a
 * session) and what they sent, decide the answer and where they stand next.
 * Pure: no I/O, no clock, no database. What needs the database (creating a
 * case, storing feedback, listing cases) comes back as an action for the
 * caller (dispatch.c) to carry out.
 */
#ifndef HOTLINE_ENGINE_H
#define HOTLINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "menu.h"
#include "session.h"

struct engine_in {
	const char *text;  /* as received, valid UTF-8 */
	size_t len;
	const char *phone; /* the sender, normalised: the form's "1 = this number" */
	const char *country; /* phone.country_code, for a number the villager types */
	/*
	 * Today in the bureau's time zone, as days since 1970-01-01 (0: not
	 * known; the market node then lists no dates). The engine has no clock.
	 */
	long today;
	/*
	 * Where the sender lives, when the caller knows it (the place of their
	 * latest request): asked only when the answer needs it (the market
	 * node). Returns a string the engine frees, or NULL. May be NULL.
	 */
	char *(*known_place)(void *arg);
	void *place_arg;
};

enum engine_action {
	ENGINE_REPLY = 0, /* reply holds the whole answer */
	ENGINE_FORM_DONE, /* form confirmed: create the case from the session's form, send case_created */
	ENGINE_FEEDBACK,  /* store payload as feedback, send feedback_ack */
	ENGINE_CALLBACK,  /* record a request for a call back, send callback_ack */
	ENGINE_STATUS,    /* answer with the sender's own cases */
};

struct engine_out {
	enum engine_action action;
	int node;       /* index of the node that answered (for the log and reports) */
	char *reply;    /* owned; NULL when the action's text is still to be written */
	char *payload;  /* owned: the feedback text */
	bool keep;      /* USSD: the answer is worth keeping: end the session and send it by SMS too */
	bool unknown;   /* the message was not understood */
};

/*
 * Run one message through the menus. s is updated (node, page, mode, form
 * fields); out must be freed with engine_out_free(). Never fails: whatever
 * the input, there is an answer.
 */
void engine_step(const struct menu *m, struct session *s, const struct engine_in *in, struct engine_out *out);
void engine_out_free(struct engine_out *out);

/* The page the session stands on (after a reload the node may be gone: root then). */
const char *engine_current_page(const struct menu *m, const struct session *s);

#endif
