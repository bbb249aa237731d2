/*
 * msgtypes: the one name table of each message enum (see msgtypes.h). The
 * names are stored in the database: never change one, only add.
 */
#include "msgtypes.h"

#include <stddef.h>
#include <string.h>

#include "util.h"

static const char *const channel_names[CHANNEL_N] = {
	[CHANNEL_SMS] = "sms",
	[CHANNEL_USSD] = "ussd",
	[CHANNEL_CALL] = "call",
};

static const char *const direction_names[DIRECTION_N] = {
	[DIRECTION_IN] = "in",
	[DIRECTION_OUT] = "out",
};

static const char *const kind_names[MSG_KIND_N] = {
	[MSG_KIND_NONE] = NULL,
	[MSG_KIND_TEXT] = "text",
	[MSG_KIND_INCOMPLETE] = "incomplete",
	[MSG_KIND_FLASH] = "flash",
	[MSG_KIND_BINARY] = "binary",
	[MSG_KIND_STATUS_REPORT] = "status-report",
	[MSG_KIND_OTHER] = "other",
	[MSG_KIND_END] = "end",
	[MSG_KIND_CALL] = "call",
	[MSG_KIND_REPLY] = "reply",
	[MSG_KIND_NOTIFY] = "notify",
	[MSG_KIND_STAFF] = "staff",
	[MSG_KIND_NOTICE] = "notice",
	[MSG_KIND_BROADCAST] = "broadcast",
};

static const char *const status_names[MSG_STATUS_N] = {
	[MSG_STATUS_RECEIVED] = "received",
	[MSG_STATUS_ANSWERED] = "answered",
	[MSG_STATUS_IGNORED] = "ignored",
	[MSG_STATUS_LIMITED] = "limited",
	[MSG_STATUS_QUEUED] = "queued",
	[MSG_STATUS_SENDING] = "sending",
	[MSG_STATUS_SENT] = "sent",
	[MSG_STATUS_FAILED] = "failed",
	[MSG_STATUS_SUPERSEDED] = "superseded",
};

static const char *name_of(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? names[v] : "?";
}

static int parse(const char *const *names, size_t n, const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *channel_name(enum channel c)
{
	return name_of(channel_names, ARRAY_LEN(channel_names), (int)c);
}

int channel_parse(const char *name)
{
	return parse(channel_names, ARRAY_LEN(channel_names), name);
}

const char *direction_name(enum direction d)
{
	return name_of(direction_names, ARRAY_LEN(direction_names), (int)d);
}

int direction_parse(const char *name)
{
	return parse(direction_names, ARRAY_LEN(direction_names), name);
}

const char *msg_kind_name(enum msg_kind k)
{
	return name_of(kind_names, ARRAY_LEN(kind_names), (int)k);
}

int msg_kind_parse(const char *name)
{
	if (name == NULL || *name == '\0')
		return MSG_KIND_NONE;
	return parse(kind_names, ARRAY_LEN(kind_names), name);
}

const char *msg_status_name(enum msg_status s)
{
	return name_of(status_names, ARRAY_LEN(status_names), (int)s);
}

int msg_status_parse(const char *name)
{
	return parse(status_names, ARRAY_LEN(status_names), name);
}
