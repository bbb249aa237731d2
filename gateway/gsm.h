/*
 * gsm: the only module that includes <gammu.h>.
 *
 * One struct gsm is one open phone (one GSM_StateMachine). It is NOT
 * thread-safe: it belongs to the thread that opened it (one thread per modem),
 * and every call blocks for as long as the phone takes (AT round trips,
 * network sends). libgammu callbacks only copy what they are told into the
 * handle; nothing is processed inside them.
 *
 * Return convention of the int functions: GSM_OK (0) or a negative enum
 * gsm_result; a human-readable reason is kept and returned by gsm_error().
 */
#ifndef HOTLINE_GSM_H
#define HOTLINE_GSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gsm;

enum gsm_result {
	GSM_OK = 0,
	GSM_TEMPFAIL = -1, /* this call failed; the same call may work later */
	GSM_PERMFAIL = -2, /* will never work for this input (bad number, rejected PDU) */
	GSM_NOCONN = -3,   /* the phone is gone or not answering: close and reconnect */
};

struct gsm_settings {
	const char *name;       /* modem name from the config, for log lines */
	const char *device;     /* gammu "device"; for model "dummy": the phone's folder */
	const char *connection; /* gammu "connection": "at", "at115200", "none", ... */
	const char *model;      /* gammu "model": "" (auto), "dummy", ... */
	const char *pin;        /* SIM PIN, or NULL/"" for none; never logged */
	const char *gammurc;    /* when set, device/connection/model come from this file ... */
	int section;            /* ... and this section: 0 = [gammu], 1 = [gammu1], ... */
	int send_timeout_ms;    /* how long to wait for the network to answer one part */
	/*
	 * The watchdog's hook: gsm_open() calls watch(watch_arg, g) with the new
	 * handle before it talks to the phone, so that another thread can
	 * gsm_abort() a connect that hangs, and watch(watch_arg, NULL) before it
	 * frees a handle that failed to connect. NULL: no hook.
	 */
	void (*watch)(void *arg, struct gsm *g);
	void *watch_arg;
};

enum gsm_part_kind { GSM_PART_DELIVER, GSM_PART_STATUS_REPORT, GSM_PART_OTHER };
enum gsm_part_coding { GSM_PART_GSM7, GSM_PART_UCS2, GSM_PART_8BIT };

/* A compact copy of one SMS part read from the phone (never a GSM_MultiSMSMessage). */
struct gsm_part {
	int folder, location;       /* where it sits in the phone, for gsm_delete() */
	enum gsm_part_kind kind;
	enum gsm_part_coding coding;
	int msg_class;              /* -1: none; 0: flash; 1..3 */
	char sender[48];            /* UTF-8 as the network gave it: +8613..., 10086, BANK */
	int64_t smsc_time;          /* SMSC time stamp as unix seconds (UTC), 0 if absent */
	int concat_ref;             /* concatenation reference, -1 when not part of a long SMS */
	int concat_ref_bits;        /* 8 or 16 (0 when concat_ref is -1) */
	int concat_total;           /* parts in the whole message: 1 for a lone SMS */
	int concat_seq;             /* this part's number, 1-based */
	int status_ref;             /* status report: the message reference it reports on, else -1 */
	int delivery_status;        /* status report: the TP-Status byte, else -1 */
	char *text;                 /* owned, NUL-terminated: UTF-8 for GSM-7/UCS-2 text,
	                               lower-case hex of the user data for 8-bit messages */
	size_t text_len;            /* bytes in text, without the NUL */
};

/*
 * Connect to the phone (and enter the PIN if one is asked for and given).
 * On success *out is the new handle. On failure returns GSM_TEMPFAIL (try
 * again later: device missing, busy, timeout) or GSM_PERMFAIL (settings that
 * can never work: unknown connection type, unreadable gammurc, wrong PIN),
 * with the reason in err. Caller frees with gsm_close().
 */
int gsm_open(const struct gsm_settings *settings, struct gsm **out, char *err, size_t errlen);
/* Disconnect and free. NULL is fine. */
void gsm_close(struct gsm *g);
/*
 * Make the operation under way on g give up soon (it returns GSM_NOCONN).
 * The one function that may be called from another thread than the owner's
 * (libgammu's GSM_AbortOperation); the handle is spent afterwards: every later
 * call fails, so the owner closes it and connects again.
 */
void gsm_abort(struct gsm *g);
/* The reason for the last failure on this handle; valid until the next call. */
const char *gsm_error(const struct gsm *g);

/*
 * Read up to max parts from the inbox folders into parts[0..*n-1] (the
 * phone's other folders are not touched). Returns GSM_OK, also when the inbox
 * is empty (*n == 0), or GSM_NOCONN when the phone is gone (for the dummy
 * driver: its folder was removed or cannot be read). The caller frees the
 * parts' texts with gsm_parts_free().
 */
int gsm_read_inbox(struct gsm *g, struct gsm_part *parts, size_t max, size_t *n);
void gsm_parts_free(struct gsm_part *parts, size_t n);
/* Delete one part from the phone. A part already gone counts as deleted. */
int gsm_delete(struct gsm *g, const struct gsm_part *part);

struct gsm_send_result {
	int parts;        /* parts the text was encoded into */
	int parts_sent;   /* parts the network accepted */
	int msg_ref;      /* message reference of the last part accepted, -1 if none */
	int ref;          /* concatenation reference of a long text, -1 for a lone SMS */
	char error[160];  /* why, when the send failed */
};
/*
 * Encode a UTF-8 text (GSM-7 when every character allows, else UCS-2;
 * concatenated parts as needed) and send it to phone, waiting for the
 * network's answer to each part. GSM_PERMFAIL for a number or text that can
 * never go (invalid number, CMS errors that say so), GSM_TEMPFAIL for errors
 * worth a retry, GSM_NOCONN when the phone stopped answering.
 */
int gsm_send_text(struct gsm *g, const char *phone, const char *text, struct gsm_send_result *res);
/*
 * The same, resuming an earlier attempt: a long text is encoded with
 * concatenation reference ref (-1: a new one) and its parts before
 * first_part (0-based) are not sent again, so that the handset puts one
 * message together. res->ref is the reference used (-1 for a lone SMS) and
 * res->parts_sent counts the parts accepted before and now.
 */
int gsm_send_text_from(struct gsm *g, const char *phone, const char *text, int ref, int first_part,
    struct gsm_send_result *res);

/*
 * Ask the network for a status report (delivery report) of each part of the
 * next gsm_send_text() calls (on) or not. Reports arrive in the inbox as
 * GSM_PART_STATUS_REPORT parts whose status_ref is the part's msg_ref.
 */
void gsm_request_reports(struct gsm *g, bool on);

/*
 * Dial a USSD code (e.g. "*100#") and wait up to timeout_ms for the
 * network's answer, copied as UTF-8 into reply.
 */
int gsm_ussd(struct gsm *g, const char *code, char *reply, size_t replylen, int timeout_ms);

struct gsm_status {
	int signal_percent;   /* -1 when unknown */
	int signal_dbm;       /* 0 when unknown */
	bool registered;      /* home or roaming network */
	char network_code[16];/* "460 00" */
	char network_name[64];/* UTF-8, may be empty */
	int battery_percent;  /* -1 when unknown */
};
/* Signal, network and battery readings; also serves as the "is it alive" check. */
int gsm_get_status(struct gsm *g, struct gsm_status *st);

/*
 * Incoming calls: gsm_open() enables the notification. gsm_take_calls()
 * lets the phone report pending events, copies the numbers of calls that
 * rang since the last call (at most max, UTF-8) into callers and hangs each
 * one up at once, so that the caller is not charged. A call that rings
 * without caller ID (withheld, or a SIM without CLIP: RING and no +CLIP
 * within 1.5 s) is hung up too and only counted (gsm_take_withheld).
 */
int gsm_take_calls(struct gsm *g, char (*callers)[48], size_t max, size_t *n);

/*
 * New messages by notification: ask the modem to announce each new message
 * (AT+CNMI through libgammu's incoming-SMS support). GSM_OK when it will,
 * GSM_PERMFAIL when the phone cannot (poll then), GSM_NOCONN when it is gone.
 */
int gsm_notify_sms(struct gsm *g);
/*
 * Let the phone report what it has to say (new messages, calls) without
 * asking it anything: no AT command is sent. Returns true when a new message
 * was announced since the last call. GSM_NOCONN-worthy trouble shows at the
 * next operation.
 */
bool gsm_pump(struct gsm *g);
/* Calls without caller ID that gsm_take_calls() hung up since the last call. */
unsigned gsm_take_withheld(struct gsm *g);

/* Soft (hard=false) or hard reset of the phone, where the driver supports it. */
int gsm_reset(struct gsm *g, bool hard);

/*
 * Tests and tools: place a Deliver message into the inbox of a dummy phone
 * whose folder is dir (created if missing), through libgammu's own encoder
 * and backup writer. A text too long for one SMS becomes concatenated parts.
 * Each part is written to a temporary file and linked into sms/1/<free
 * location>, so a daemon reading the phone never sees half a file. Returns
 * GSM_OK or GSM_TEMPFAIL with the reason in err.
 */
struct gsm_inject_opts {
	int64_t smsc_time;      /* 0: now */
	int concat_ref;         /* -1: random */
	bool ref16;             /* 16-bit concatenation reference */
	bool force_ucs2;        /* UCS-2 even for GSM-7 text */
	int msg_class;          /* -1: none; 0: flash */
	unsigned skip_parts;    /* bit i set: do not write part i+1 (a part that never comes) */
	bool reverse;           /* write the parts last first */
	bool binary;            /* 8-bit data message; text is taken as raw bytes */
	bool status_report;     /* a status report PDU instead of a Deliver */
};
void gsm_inject_defaults(struct gsm_inject_opts *opts);
int gsm_dummy_inject(const char *dir, const char *sender, const char *text,
    const struct gsm_inject_opts *opts, int *parts_written, char *err, size_t errlen);

#endif
