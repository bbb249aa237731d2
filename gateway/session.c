#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void session_key(enum channel channel, const char *ussd_session, const char *phone, char *out, size_t outlen)
{
	if (channel == CHANNEL_USSD)
		snprintf(out, outlen, "ussd:%s %s", ussd_session ? ussd_session : "-", phone);
	else
		snprintf(out, outlen, "sms:%s", phone);
}

void session_key_ussd_range(const char *ussd_session, char *lo, char *hi, size_t len)
{
	size_t n;

	session_key(CHANNEL_USSD, ussd_session, "", lo, len);
	snprintf(hi, len, "%s", lo);
	/* the space after the sessionId, the smallest byte a phone follows with, becomes the next one up */
	n = strlen(hi);
	if (n > 0 && hi[n - 1] == ' ')
		hi[n - 1] = '!';
}

void session_init(struct session *s, const char *key, const char *phone, enum channel channel)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->key, sizeof(s->key), "%s", key);
	snprintf(s->phone, sizeof(s->phone), "%s", phone);
	s->channel = channel;
	snprintf(s->node, sizeof(s->node), "root");
	s->fresh = true;
}

void session_set(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

void session_form_reset(struct session *s)
{
	session_set(&s->form_name, NULL);
	session_set(&s->form_place, NULL);
	session_set(&s->form_need, NULL);
	session_set(&s->form_phone, NULL);
	s->form_step = FORM_NAME;
	s->mode = SESSION_MENU;
}

void session_clear(struct session *s)
{
	session_form_reset(s);
	session_set(&s->last_reply, NULL);
	session_set(&s->ussd_text, NULL);
}
