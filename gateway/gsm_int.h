/*
 * gsm_int.h: what the gsm files share (gsm.c, gsm_conv.c, gsm_dummy.c): the
 * handle itself and the helpers both gsm.c and gsm_dummy.c need. Calls go
 * one way: gsm.c -> gsm_dummy.c -> gsm_conv.c. Nothing else includes it.
 */
#ifndef HOTLINE_GSM_INT_H
#define HOTLINE_GSM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gammu.h>

#include "gsm.h"

/* What libgammu's encoder can do: GSM_MAX_MULTI_SMS parts, and GSM-7 text of
 * at most 5000 septets (GSM_EncodeMultiPartSMS cuts longer text silently). */
#define ENCODER_MAX_PARTS GSM_MAX_MULTI_SMS
#define ENCODER_MAX_SEPTETS 5000

#define CALL_QUEUE 16 /* distinct callers remembered between two gsm_take_calls() */

#define USSD_REPLY_MAX (GSM_MAX_USSD_LENGTH * 3 + 1) /* UTF-8 of GSM_MAX_USSD_LENGTH UTF-16 units */

struct rang {
	char number[48];
	int id;
	bool id_known;
};

struct gsm {
	GSM_StateMachine *s;
	char name[40];
	bool dummy;
	bool scan_getnext; /* read a dummy phone through GSM_GetNextSMS like any other (tests) */
	char *device;      /* the dummy phone's folder */
	int send_timeout_ms;
	GSM_MultiSMSMessage *msms; /* ~266 KB: one per handle, reused for every read and send */
	GSM_SMSC smsc;             /* the phone's message centre, fetched at the first send */
	int smsc_state;            /* 0: not asked yet, 1: in smsc, -1: let the driver ask each time */
	int unreadable;            /* inbox entries libgammu could not read at the last poll */
	bool report_request;       /* ask the network for a status report of the next sends */
	char err[256];
	char dbg[512]; /* libgammu's debug output, until a whole line is there */
	size_t dbg_len;

	/* written by the callbacks, read after the call that triggered them */
	bool send_done;
	int send_status;
	int send_ref;
	bool ussd_done;
	int ussd_status;
	char ussd_reply[USSD_REPLY_MAX];
	struct rang rang[CALL_QUEUE];
	size_t nrang;
	unsigned rang_lost;
	const char *hanging_up; /* the number whose call GSM_CancelCall is ending right now */
	bool sms_waiting;       /* +CMTI: a new message was announced */
	int64_t ring_at;        /* mono ms of a RING that no +CLIP followed yet; 0: none */
	unsigned withheld;      /* calls without caller ID hung up, not yet taken */
	bool forward_debug;     /* libgammu's debug lines go to our log */
};

/* ---- gsm_conv.c: libgammu's values as ours ---- */

void gsm_set_err(struct gsm *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * What a libgammu error means to the caller: the phone is gone (NOCONN), the
 * request can never work (PERMFAIL), or it may work later (TEMPFAIL).
 */
int gsm_classify(GSM_Error e);
/*
 * UTF-16 big-endian code units (libgammu's "unicode" buffers) u[0..n) to
 * UTF-8 in out (outlen > 0 bytes, NUL-terminated), whole characters only:
 * 3 * n + 1 bytes always suffice. Returns the bytes written.
 */
size_t gsm_utf16_to_utf8(const unsigned char *u, size_t n, char *out, size_t outlen);
/* A NUL-terminated libgammu string to a C string (stops at U+0000). */
void gsm_to_cstr(const unsigned char *u, char *out, size_t outlen);
/* A UTF-8 text as a libgammu buffer (caller frees); invalid bytes become U+FFFD. */
unsigned char *gsm_from_utf8(const char *s, size_t len);
/* A concatenation reference nobody else is likely to use at the same moment (8 or 16 bits). */
int gsm_random_ref(bool ref16, const char *text);
/*
 * Take the parts libgammu just read into g->msms, unless they do not all
 * fit (then nothing: the parts of one location are deleted together).
 * Returns false when the caller should stop reading.
 */
bool gsm_take_parts(struct gsm *g, struct gsm_part *parts, size_t max, size_t *n);

/* ---- gsm_dummy.c: the dummy phone ---- */

/* False (and the reason in g->err) when a dummy phone's folder is gone; true for any other phone. */
bool gsm_dummy_alive(struct gsm *g);
/* A dummy phone's inbox folders listed with readdir, each message read through libgammu. */
int gsm_dummy_read(struct gsm *g, struct gsm_part *parts, size_t max, size_t *n);

#endif
