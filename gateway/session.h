/*
 * session: where one conversation stands (menu node, page, a half-filled
 * form, the last reply). Plain data: the engine changes it, the store keeps
 * it, so a restart loses no conversation.
 */
#ifndef HOTLINE_SESSION_H
#define HOTLINE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "menu.h"
#include "msgtypes.h"

enum session_mode {
	SESSION_MENU = 0,
	SESSION_FORM = 1,     /* filling in the home-visit request */
	SESSION_FEEDBACK = 2, /* the next message is a suggestion or complaint */
};

enum form_step { FORM_NAME = 0, FORM_PLACE, FORM_NEED, FORM_PHONE, FORM_CONFIRM };

struct session {
	char key[144];          /* "sms:13912345678" or "ussd:<sessionId> <phone>" (session_key) */
	char phone[48];         /* as the network gave it */
	enum channel channel;   /* CHANNEL_SMS | CHANNEL_USSD */
	char node[MENU_ID_MAX]; /* where the sender is */
	int page;               /* page of that node */
	int screen;             /* USSD screen of that page */
	int mode;               /* enum session_mode */
	int form_step;          /* enum form_step */
	char *form_name, *form_place, *form_need, *form_phone; /* owned, NULL when not given */
	char *last_reply;       /* owned: what 重复 sends again */
	char *ussd_text;        /* owned: the aggregator's text seen last (USSD only) */
	int64_t updated_at;
	bool fresh;             /* no session before this message, or it had expired */
	bool ussd_ended;        /* USSD: answered with END; what follows gets that answer again */
};

/*
 * The key of a conversation, the one place it is built. SMS: the phone,
 * normalised at the edge ("sms:+8613912345678"). USSD: the aggregator's
 * sessionId (NULL: "-") and the caller's number ("ussd:<sessionId>
 * 13912345678"), so a session belongs to one phone. A sessionId never holds
 * a space, so every key of one sessionId sorts in [lo, hi) of
 * session_key_ussd_range ("ussd:<sessionId> ", "ussd:<sessionId>!").
 */
void session_key(enum channel channel, const char *ussd_session, const char *phone, char *out, size_t outlen);
void session_key_ussd_range(const char *ussd_session, char *lo, char *hi, size_t len);

/* Zero the session and set its key fields. Never fails. */
void session_init(struct session *s, const char *key, const char *phone, enum channel channel);
/* Free what the session owns (not the struct). */
void session_clear(struct session *s);
/* Forget the form (free its fields) and go back to menu mode. */
void session_form_reset(struct session *s);
/* Replace an owned string field: *field = copy of value (NULL allowed). */
void session_set(char **field, const char *value);

#endif
