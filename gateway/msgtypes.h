/*
 * msgtypes: a message's channel, direction, kind and status as enums, with
 * one name table each. The names are what the database stores, /metrics
 * shows and the logs say; code compares the enums. Each X_name() gives the
 * stored name, each X_parse() the enum of a name (-1 for one it does not
 * know: the caller decides, as a value read from an older database may be).
 * A message may have no kind (NULL in the database): MSG_KIND_NONE, the zero
 * value, named NULL.
 * Pure: no I/O, no state.
 */
#ifndef HOTLINE_MSGTYPES_H
#define HOTLINE_MSGTYPES_H

enum channel {
	CHANNEL_SMS,
	CHANNEL_USSD,
	CHANNEL_CALL, /* a missed call, stored as an inbound message */
};
#define CHANNEL_N 3

enum direction {
	DIRECTION_IN,
	DIRECTION_OUT,
};
#define DIRECTION_N 2

/* What a message is: inbound kinds first, then the kinds of what the hotline sends. */
enum msg_kind {
	MSG_KIND_NONE,          /* none stored (NULL) */
	MSG_KIND_TEXT,          /* a whole text message */
	MSG_KIND_INCOMPLETE,    /* a text whose missing parts never came (multipart timeout) */
	MSG_KIND_FLASH,         /* class 0 */
	MSG_KIND_BINARY,        /* 8-bit data (stored as hex) */
	MSG_KIND_STATUS_REPORT, /* the network's report on one we sent */
	MSG_KIND_OTHER,         /* any other PDU a phone hands over */
	MSG_KIND_END,           /* the end of a USSD session */
	MSG_KIND_CALL,          /* a missed call */
	MSG_KIND_REPLY,         /* out: the answer to a message */
	MSG_KIND_NOTIFY,        /* out: a notification about a case */
	MSG_KIND_STAFF,         /* out: a text to staff */
	MSG_KIND_NOTICE,        /* out: a limit notice */
	MSG_KIND_BROADCAST,     /* out: one recipient's copy of a broadcast */
};
#define MSG_KIND_N 14

enum msg_status {
	MSG_STATUS_RECEIVED, /* in: stored, not decided yet */
	MSG_STATUS_ANSWERED,
	MSG_STATUS_IGNORED,
	MSG_STATUS_LIMITED, /* in: over a limit, a notice sent instead */
	MSG_STATUS_QUEUED,  /* out: in the outbox */
	MSG_STATUS_SENDING,
	MSG_STATUS_SENT,
	MSG_STATUS_FAILED,
	MSG_STATUS_SUPERSEDED, /* out: a newer notification about the same case replaced it unsent */
};
#define MSG_STATUS_N 9

const char *channel_name(enum channel c);
int channel_parse(const char *name);
const char *direction_name(enum direction d);
int direction_parse(const char *name);
const char *msg_kind_name(enum msg_kind k);
int msg_kind_parse(const char *name);
const char *msg_status_name(enum msg_status s);
int msg_status_parse(const char *name);

#endif
