/*
 * gsm: the libgammu wrapper (see gsm.h), and the only file that includes
 * <gammu.h>.
 *
 * Text crosses this boundary as UTF-8. Outbound text goes to libgammu's
 * UCS-2 buffers through DecodeUTF8 (after invalid bytes became U+FFFD: that
 * function stops at the first one). Inbound text comes back through our own
 * utf16_to_utf8(): EncodeUTF8 joins surrogate pairs, but writes a lone
 * surrogate as CESU bytes (invalid UTF-8) and stops at U+0000.
 *
 * Everything a phone tells us through a callback (send status, USSD answer,
 * incoming call) is only copied into the handle; the call that caused it
 * looks at the copy afterwards.
 */
#include "gsm.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gammu.h>

#include "log.h"
#include "smstext.h"
#include "utf8.h"
#include "util.h"

#define TAG "gsm"

/*
 * The dummy driver keeps folder f, location l in the file sms/f/l and hands
 * it out as location l + f * 10000; l = 10000 would come back as sms/f/0,
 * so only 1..9999 are usable.
 */
#define DUMMY_LOCATIONS 9999
#define DUMMY_FOLDER_SPAN 10000
#define INJECT_SMSC "+8613800100500"

/* What libgammu's encoder can do: GSM_MAX_MULTI_SMS parts, and GSM-7 text of
 * at most 5000 septets (GSM_EncodeMultiPartSMS cuts longer text silently). */
#define ENCODER_MAX_PARTS GSM_MAX_MULTI_SMS
#define ENCODER_MAX_SEPTETS 5000

#define BINARY_SINGLE 140 /* bytes of 8-bit data in a lone SMS */
#define BINARY_PART 134   /* ... and next to a 6-byte concatenation header */

#define CALL_QUEUE 16 /* distinct callers remembered between two gsm_take_calls() */

#define WITHHELD_WAIT_MS 1500 /* RING with no +CLIP this long after it: a call without caller ID */

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
	bool scan_getnext;             /* read a dummy phone through GSM_GetNextSMS like any other (tests) */
	char *device;                  /* the dummy phone's folder */
	int send_timeout_ms;
	GSM_MultiSMSMessage *msms;     /* ~266 KB: one per handle, reused for every read and send */
	GSM_SMSC smsc;                 /* the phone's message centre, fetched at the first send */
	int smsc_state;                /* 0: not asked yet, 1: in smsc, -1: let the driver ask each time */
	int unreadable;                /* inbox entries libgammu could not read at the last poll */
	bool report_request;           /* ask the network for a status report of the next sends */
	char err[256];
	char dbg[512];                 /* libgammu's debug output, until a whole line is there */
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
	const char *hanging_up;        /* the number whose call GSM_CancelCall is ending right now */
	bool sms_waiting;              /* +CMTI: a new message was announced */
	int64_t ring_at;               /* mono ms of a RING that no +CLIP followed yet; 0: none */
	unsigned withheld;             /* calls without caller ID hung up, not yet taken */
	bool forward_debug;            /* libgammu's debug lines go to our log */
};

static void set_err(struct gsm *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int random_ref(bool ref16, const char *text);

static void set_err(struct gsm *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g->err, sizeof(g->err), fmt, ap);
	va_end(ap);
}

const char *gsm_error(const struct gsm *g)
{
	return g ? g->err : "no phone";
}

/* ---- errors ------------------------------------------------------------------------------ */

/*
 * What a libgammu error means to the caller: the phone is gone (NOCONN), the
 * request can never work (PERMFAIL), or it may work later (TEMPFAIL).
 */
static int classify(GSM_Error e)
{
	switch (e) {
	case ERR_NONE:
		return GSM_OK;
	case ERR_TIMEOUT:
	case ERR_DEVICEOPENERROR:
	case ERR_DEVICELOCKED:
	case ERR_DEVICENOTEXIST:
	case ERR_DEVICEBUSY:
	case ERR_DEVICENOPERMISSION:
	case ERR_DEVICENODRIVER:
	case ERR_DEVICENOTWORK:
	case ERR_DEVICEDTRRTSERROR:
	case ERR_DEVICECHANGESPEEDERROR:
	case ERR_DEVICEWRITEERROR:
	case ERR_DEVICEREADERROR:
	case ERR_DEVICEPARITYERROR:
	case ERR_NOTCONNECTED:
	case ERR_PHONEOFF:
	case ERR_ABORTED:
		return GSM_NOCONN;
	case ERR_UNKNOWNCONNECTIONTYPESTRING:
	case ERR_UNKNOWNMODELSTRING:
	case ERR_SOURCENOTAVAILABLE:
	case ERR_NOTSUPPORTED:
	case ERR_NOTIMPLEMENTED:
	case ERR_SECURITYERROR:
	case ERR_INVALIDDATA:
	case ERR_INVALIDLOCATION:
	case ERR_MOREMEMORY:
	case ERR_UNCONFIGURED:
	case ERR_NONE_SECTION:
	case ERR_USING_DEFAULTS:
		return GSM_PERMFAIL;
	default:
		return GSM_TEMPFAIL;
	}
}

/* For operations on a connected phone: only "gone" and "try later". */
static int op_fail(GSM_Error e)
{
	return classify(e) == GSM_NOCONN ? GSM_NOCONN : GSM_TEMPFAIL;
}

static bool unsupported(GSM_Error e)
{
	return e == ERR_NOTSUPPORTED || e == ERR_NOTIMPLEMENTED;
}

/*
 * The answer of the network to one part, as the send-status callback gives
 * it: 0 accepted, else the CMS (or CME) ERROR code of the modem, or -1 for a
 * plain ERROR. Permanent are the causes about the recipient or the message
 * itself (3GPP TS 24.011 E.2, 23.040 9.2.3.22, 27.005 3.2.5): sending the same
 * text to the same number again cannot succeed. Everything else (congestion,
 * no network, SIM or modem trouble, unknown codes) is worth a retry: a false
 * "permanent" loses a reply, a false "temporary" costs a few retries.
 * 300 (ME failure) is temporary on purpose: modems report it for passing
 * radio trouble too.
 */
static bool cms_permanent(int code)
{
	switch (code) {
	case 1:   /* unassigned (unallocated) number */
	case 8:   /* operator determined barring */
	case 10:  /* call barred */
	case 21:  /* short message transfer rejected */
	case 28:  /* unidentified subscriber */
	case 29:  /* facility rejected */
	case 30:  /* unknown subscriber */
	case 50:  /* requested facility not subscribed */
	case 69:  /* requested facility not implemented */
	case 95:  /* semantically incorrect message */
	case 96:  /* invalid mandatory information */
	case 97:  /* message type non-existent or not implemented */
	case 98:  /* message not compatible with short message protocol state */
	case 99:  /* information element non-existent or not implemented */
	case 111: /* protocol error, unspecified */
	case 127: /* interworking, unspecified */
	case 128: /* telematic interworking not supported */
	case 129: /* short message type 0 not supported */
	case 130: /* cannot replace short message */
	case 143: /* unspecified TP-PID error */
	case 144: /* data coding scheme not supported */
	case 145: /* message class not supported */
	case 159: /* unspecified TP-DCS error */
	case 160: /* command cannot be actioned */
	case 161: /* command unsupported */
	case 176: /* TPDU not supported */
	case 193: /* no SC subscription */
	case 195: /* invalid SME address */
	case 196: /* destination SME barred */
	case 197: /* SM rejected, duplicate */
	case 198: /* TP-VPF not supported */
	case 199: /* TP-VP not supported */
	case 302: /* operation not allowed */
	case 303: /* operation not supported */
	case 304: /* invalid PDU mode parameter */
	case 305: /* invalid text mode parameter */
		return true;
	default:
		return false;
	}
}

/* ---- text ---------------------------------------------------------------------------------- */

/*
 * UTF-16 big-endian code units (libgammu's "unicode" buffers) u[0..n) to
 * UTF-8 in out (outlen > 0 bytes, NUL-terminated), whole characters only:
 * 3 * n + 1 bytes always suffice. A surrogate pair becomes one character, a
 * lone surrogate U+FFFD, U+0000 a NUL byte. Returns the bytes written.
 */
static size_t utf16_to_utf8(const unsigned char *u, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t cp = (uint32_t)u[2 * i] << 8 | u[2 * i + 1];
		char tmp[4];
		size_t len;

		if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n) {
			uint32_t lo = (uint32_t)u[2 * i + 2] << 8 | u[2 * i + 3];
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				i++;
			}
		}
		if (cp >= 0xD800 && cp <= 0xDFFF)
			cp = UTF8_REPLACEMENT;
		len = cp == 0 ? (tmp[0] = '\0', 1) : utf8_put(cp, tmp);
		if (o + len + 1 > outlen)
			break;
		memcpy(out + o, tmp, len);
		o += len;
	}
	out[o] = '\0';
	return o;
}

/* A NUL-terminated libgammu string to a C string (stops at U+0000). */
static void gammu_to_cstr(const unsigned char *u, char *out, size_t outlen)
{
	utf16_to_utf8(u, UnicodeLength(u), out, outlen);
}

/* A UTF-8 text as a libgammu buffer (caller frees); invalid bytes become U+FFFD. */
static unsigned char *gammu_from_utf8(const char *s, size_t len)
{
	struct buf clean = { 0 };
	unsigned char *u;
	size_t i = 0;

	while (i < len) {
		char tmp[4];
		uint32_t cp = utf8_next(s, len, &i);
		buf_add(&clean, tmp, utf8_put(cp ? cp : UTF8_REPLACEMENT, tmp));
	}
	/* every code point takes at most as many UTF-16 units as it had bytes */
	u = xcalloc(clean.len + 2, 2);
	DecodeUTF8(u, buf_str(&clean), clean.len);
	buf_free(&clean);
	return u;
}

/* ---- libgammu's debug output, and the callbacks -------------------------------------------- */

/*
 * One line of libgammu's debug log into ours. It shows numbers as they go
 * (AT commands, message fields): every run of 5 or more digits is masked
 * like a phone number, and lines about security codes are left out.
 */
static void flush_debug(struct gsm *g)
{
	char line[sizeof(g->dbg) + 8];
	size_t o = 0;

	if (g->dbg_len == 0)
		return;
	g->dbg[g->dbg_len] = '\0';
	g->dbg_len = 0;
	/*
	 * libgammu 1.42 has no event for a RING without caller ID: it only says
	 * so in its debug output. A +CLIP (or a hang-up of ours) ends the wait.
	 */
	if (strstr(g->dbg, "Ring detected - waiting for caller ID") != NULL) {
		if (g->ring_at == 0)
			g->ring_at = mono_ms();
	} else if (strstr(g->dbg, "CLIP detected") != NULL || strstr(g->dbg, "Call end detected") != NULL) {
		g->ring_at = 0;
	}
	if (!g->forward_debug)
		return;
	if (strstr(g->dbg, "CPIN") != NULL || strstr(g->dbg, "CPWD") != NULL || strstr(g->dbg, "CLCK") != NULL ||
	    strstr(g->dbg, "ecurity code") != NULL) {
		log_debug(TAG, "%s: gammu: (a line about a security code, hidden)", g->name);
		return;
	}
	for (const char *p = g->dbg; *p && o < sizeof(line) - 1;) {
		size_t run = strspn(p, "0123456789");
		if (run >= 5) {
			char digits[sizeof(g->dbg)], masked[sizeof(g->dbg)];
			memcpy(digits, p, run);
			digits[run] = '\0';
			log_phone(digits, masked, sizeof(masked));
			o += (size_t)snprintf(line + o, sizeof(line) - o, "%s", masked);
			p += run;
		} else if (run > 0) {
			size_t n = run < sizeof(line) - 1 - o ? run : sizeof(line) - 1 - o;
			memcpy(line + o, p, n);
			o += n;
			p += run;
		} else {
			line[o++] = *p++;
		}
		if (o >= sizeof(line))
			o = sizeof(line) - 1;
	}
	line[o] = '\0';
	log_debug(TAG, "%s: gammu: %s", g->name, line);
}

/* libgammu writes its debug log in pieces; we log whole lines. */
static void on_gammu_log(const char *text, void *data)
{
	struct gsm *g = data;

	for (; *text; text++) {
		if (*text == '\n' || g->dbg_len == sizeof(g->dbg) - 1) {
			flush_debug(g);
			if (*text == '\n')
				continue;
		}
		if (*text != '\r')
			g->dbg[g->dbg_len++] = *text;
	}
}

static void on_send_status(GSM_StateMachine *s, int status, int ref, void *data)
{
	struct gsm *g = data;

	(void)s;
	g->send_done = true;
	g->send_status = status;
	g->send_ref = ref;
}

static void on_ussd(GSM_StateMachine *s, GSM_USSDMessage *ussd, void *data)
{
	struct gsm *g = data;

	(void)s;
	gammu_to_cstr(ussd->Text, g->ussd_reply, sizeof(g->ussd_reply));
	g->ussd_status = (int)ussd->Status;
	g->ussd_done = true;
}

/*
 * A ringing call: remember the number once. A modem repeats RING/+CLIP
 * every few seconds while the call rings, and one may still come while we
 * hang that call up: neither is a new call. Once hung up, the same number
 * ringing again is a new call (whether it counts is for the caller to say).
 */
static void on_call(GSM_StateMachine *s, GSM_Call *call, void *data)
{
	struct gsm *g = data;
	struct rang r;

	(void)s;
	if (call->Status != GSM_CALL_IncomingCall)
		return;
	memset(&r, 0, sizeof(r));
	gammu_to_cstr(call->PhoneNumber, r.number, sizeof(r.number));
	r.id = call->CallID;
	r.id_known = call->CallIDAvailable;
	if (g->hanging_up != NULL && strcmp(g->hanging_up, r.number) == 0)
		return;
	for (size_t i = 0; i < g->nrang; i++)
		if (strcmp(g->rang[i].number, r.number) == 0)
			return;
	if (g->nrang < CALL_QUEUE)
		g->rang[g->nrang++] = r;
	else
		g->rang_lost++;
}

/* +CMTI and friends: only noted; the owner reads the inbox afterwards. */
static void on_sms(GSM_StateMachine *s, GSM_SMSMessage *sms, void *data)
{
	struct gsm *g = data;

	(void)s;
	(void)sms;
	g->sms_waiting = true;
}

/* ---- connection ---------------------------------------------------------------------------- */

/* The dummy driver reports an empty inbox for a folder that is gone: look ourselves. */
static bool dummy_alive(struct gsm *g)
{
	char path[PATH_MAX];
	struct stat st;

	if (!g->dummy)
		return true;
	snprintf(path, sizeof(path), "%s/sms/1", g->device);
	errno = 0;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode) || access(path, R_OK | W_OK | X_OK) < 0) {
		set_err(g, "the dummy phone's folder %s cannot be used: %s", path, strerror(errno ? errno : ENOTDIR));
		return false;
	}
	return true;
}

static char *dup_or_null(const char *s)
{
	return strdup(s ? s : "");
}

static int configure(struct gsm *g, const struct gsm_settings *st, char *err, size_t errlen)
{
	GSM_Config *cfg = GSM_GetConfig(g->s, 0);
	GSM_Error e;

	if (st->gammurc && *st->gammurc) {
		INI_Section *ini = NULL;

		e = GSM_FindGammuRC(&ini, st->gammurc);
		if (e != ERR_NONE || ini == NULL) {
			snprintf(err, errlen, "cannot read %s: %s", st->gammurc,
			    e != ERR_NONE ? GSM_ErrorString(e) : "empty file");
			if (ini)
				INI_Free(ini);
			return GSM_PERMFAIL;
		}
		e = GSM_ReadConfig(ini, cfg, st->section);
		INI_Free(ini);
		if (e != ERR_NONE) {
			/* section 0 missing comes back as ERR_USING_DEFAULTS, others as ERR_NONE_SECTION */
			if (st->section == 0)
				snprintf(err, errlen, "%s: no usable [gammu] section (%s)", st->gammurc, GSM_ErrorString(e));
			else
				snprintf(err, errlen, "%s: no usable [gammu%d] section (%s)", st->gammurc, st->section,
				    GSM_ErrorString(e));
			return GSM_PERMFAIL;
		}
	} else {
		/* libgammu's defaults first (it returns ERR_USING_DEFAULTS for that), then ours */
		(void)GSM_ReadConfig(NULL, cfg, 0);
		free(cfg->Device);
		cfg->Device = dup_or_null(st->device);
		free(cfg->Connection);
		cfg->Connection = dup_or_null(st->connection && *st->connection ? st->connection : "at");
		snprintf(cfg->Model, sizeof(cfg->Model), "%s", st->model ? st->model : "");
		cfg->SyncTime = FALSE;
		cfg->LockDevice = FALSE;
		if (cfg->Device == NULL || cfg->Connection == NULL) {
			snprintf(err, errlen, "out of memory");
			return GSM_TEMPFAIL;
		}
	}
	/* libgammu's own log goes to ours, and only when we log debug lines */
	cfg->StartInfo = FALSE;
	cfg->UseGlobalDebugFile = FALSE;
	free(cfg->DebugFile);
	cfg->DebugFile = strdup("");
	g->dummy = strcasecmp(cfg->Model, "dummy") == 0;
	/* a real phone's "text" lines are read for the RING that has no caller ID (flush_debug) */
	g->forward_debug = log_enabled(LOG_LVL_DEBUG);
	snprintf(cfg->DebugLevel, sizeof(cfg->DebugLevel), "%s",
	    g->forward_debug ? "textall" : g->dummy ? "nothing" : "text");
	GSM_SetConfigNum(g->s, 1);
	g->device = xstrdup(cfg->Device ? cfg->Device : "");
	return GSM_OK;
}

static int enter_pin(struct gsm *g, const char *pin, char *err, size_t errlen)
{
	GSM_SecurityCodeType need = SEC_None;
	GSM_SecurityCode code;
	GSM_Debug_Info *di;
	GSM_Error e = GSM_GetSecurityStatus(g->s, &need);

	if (unsupported(e) || (e == ERR_NONE && need == SEC_None))
		return GSM_OK;
	if (e != ERR_NONE) {
		snprintf(err, errlen, "cannot ask whether the SIM needs a PIN: %s", GSM_ErrorString(e));
		return GSM_TEMPFAIL;
	}
	if (need != SEC_Pin) {
		snprintf(err, errlen, "the SIM asks for a code other than its PIN (security code type %d: PUK, PIN2"
		    " or phone code); unlock it by hand", (int)need);
		return GSM_PERMFAIL;
	}
	if (pin == NULL || *pin == '\0') {
		snprintf(err, errlen, "the SIM asks for its PIN and none is configured");
		return GSM_PERMFAIL;
	}
	memset(&code, 0, sizeof(code));
	code.Type = SEC_Pin;
	snprintf(code.Code, sizeof(code.Code), "%s", pin);
	/* libgammu's debug log would show the AT+CPIN line: silence it meanwhile */
	di = GSM_GetDebug(g->s);
	GSM_SetDebugLevel("nothing", di);
	e = GSM_EnterSecurityCode(g->s, &code);
	GSM_SetDebugLevel(g->forward_debug ? "textall" : g->dummy ? "nothing" : "text", di);
	memset(&code, 0, sizeof(code));
	if (e == ERR_SECURITYERROR) {
		/* a wrong PIN must not be tried again and again: the SIM would lock */
		snprintf(err, errlen, "the SIM refused the configured PIN: %s", GSM_ErrorString(e));
		return GSM_PERMFAIL;
	}
	if (e != ERR_NONE) {
		snprintf(err, errlen, "entering the SIM PIN: %s", GSM_ErrorString(e));
		return GSM_TEMPFAIL;
	}
	log_info(TAG, "%s: SIM PIN accepted", g->name);
	return GSM_OK;
}

/* libGammu's connection set-up is not thread-safe: one at a time (gsm_open) */
static pthread_mutex_t connect_lock = PTHREAD_MUTEX_INITIALIZER;

int gsm_open(const struct gsm_settings *st, struct gsm **out, char *err, size_t errlen)
{
	struct gsm *g = xcalloc(1, sizeof(*g));
	GSM_Error e;
	int rc;

	*out = NULL;
	snprintf(g->name, sizeof(g->name), "%s", st->name ? st->name : "modem");
	g->send_timeout_ms = st->send_timeout_ms > 0 ? st->send_timeout_ms : 60000;
	g->s = GSM_AllocStateMachine();
	if (g->s == NULL) {
		snprintf(err, errlen, "out of memory");
		free(g);
		return GSM_TEMPFAIL;
	}
	rc = configure(g, st, err, errlen);
	if (rc != GSM_OK)
		goto fail;
	if (g->dummy) {
		/* the driver makes its sub-folders, but the phone's own folder must be there */
		struct stat sb;
		if (stat(g->device, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
			snprintf(err, errlen, "the dummy phone's folder %s is missing", g->device);
			rc = GSM_TEMPFAIL;
			goto fail;
		}
	}
	if (st->watch)
		st->watch(st->watch_arg, g);
	/*
	 * 2 tries per command, as gammu-smsd does: modems drop an answer now and
	 * then. Connection set-up is serialised: libGammu formats into a static
	 * buffer while connecting (GetOS), so two modem threads connecting at
	 * once race (ThreadSanitizer). A stuck connect holds the lock only until
	 * the watchdog aborts it.
	 */
	pthread_mutex_lock(&connect_lock);
	e = GSM_InitConnection_Log(g->s, 2, on_gammu_log, g);
	pthread_mutex_unlock(&connect_lock);
	flush_debug(g);
	if (e != ERR_NONE) {
		snprintf(err, errlen, "%s (device %s, connection %s)", GSM_ErrorString(e), g->device,
		    GSM_GetConfig(g->s, 0)->Connection);
		rc = classify(e) == GSM_PERMFAIL ? GSM_PERMFAIL : GSM_TEMPFAIL;
		(void)GSM_TerminateConnection(g->s); /* closes the device if it was opened */
		goto fail;
	}
	rc = enter_pin(g, st->pin, err, errlen);
	if (rc != GSM_OK) {
		(void)GSM_TerminateConnection(g->s);
		goto fail;
	}
	GSM_SetSendSMSStatusCallback(g->s, on_send_status, g);
	GSM_SetIncomingUSSDCallback(g->s, on_ussd, g);
	GSM_SetIncomingCallCallback(g->s, on_call, g);
	GSM_SetIncomingSMSCallback(g->s, on_sms, g);
	e = GSM_SetIncomingCall(g->s, TRUE);
	if (e != ERR_NONE && !unsupported(e))
		log_warnx(TAG, "%s: incoming calls will not be noticed: %s", g->name, GSM_ErrorString(e));
	g->msms = xcalloc(1, sizeof(*g->msms));
	log_debug(TAG, "%s: connected (%s, %s)", g->name, g->dummy ? "dummy" : GSM_GetConfig(g->s, 0)->Model,
	    g->device);
	*out = g;
	return GSM_OK;
fail:
	if (st->watch)
		st->watch(st->watch_arg, NULL);
	flush_debug(g);
	GSM_FreeStateMachine(g->s);
	free(g->device);
	free(g);
	return rc;
}

void gsm_abort(struct gsm *g)
{
	if (g != NULL)
		(void)GSM_AbortOperation(g->s);
}

void gsm_close(struct gsm *g)
{
	if (g == NULL)
		return;
	if (GSM_IsConnected(g->s))
		(void)GSM_TerminateConnection(g->s);
	flush_debug(g);
	GSM_FreeStateMachine(g->s);
	free(g->msms);
	free(g->device);
	free(g);
}

/* ---- reading -------------------------------------------------------------------------------- */

/*
 * A GSM_DateTime as unix seconds. Its fields are the sender's wall clock and
 * Timezone is that clock's offset from UTC in seconds (east positive), as
 * libgammu decodes the SMSC time stamp. 0 when there is no date.
 */
static int64_t unix_time(const GSM_DateTime *dt)
{
	struct tm tm;

	if (dt->Year == 0)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = dt->Year - 1900;
	tm.tm_mon = dt->Month - 1;
	tm.tm_mday = dt->Day;
	tm.tm_hour = dt->Hour;
	tm.tm_min = dt->Minute;
	tm.tm_sec = dt->Second;
	return (int64_t)timegm(&tm) - dt->Timezone;
}

/*
 * Concatenation from the user data header. GSM_DecodeUDHHeader only knows a
 * header that is nothing but one element it has in its table, so a header
 * with more elements (concatenation next to a port or language shift) is
 * walked here as well.
 */
static void concat_of(const GSM_UDHHeader *in, struct gsm_part *p)
{
	GSM_UDHHeader udh = *in;
	int ref = -1, bits = 0, total = -1, seq = -1;

	p->concat_ref = -1;
	p->concat_ref_bits = 0;
	p->concat_total = 1;
	p->concat_seq = 1;
	if (udh.Length < 2 || udh.Length > (int)sizeof(udh.Text))
		return;
	GSM_DecodeUDHHeader(NULL, &udh);
	if (udh.AllParts > 0 && udh.PartNumber > 0 && (udh.ID16bit >= 0 || udh.ID8bit >= 0)) {
		bits = udh.ID16bit >= 0 ? 16 : 8;
		ref = udh.ID16bit >= 0 ? udh.ID16bit : udh.ID8bit;
		total = udh.AllParts;
		seq = udh.PartNumber;
	} else {
		int end = 1 + udh.Text[0] < udh.Length ? 1 + udh.Text[0] : udh.Length;
		for (int i = 1; i + 1 < end; i += 2 + udh.Text[i + 1]) {
			int iei = udh.Text[i], len = udh.Text[i + 1];
			if (i + 2 + len > end)
				break;
			if (iei == 0x00 && len == 3) {
				bits = 8;
				ref = udh.Text[i + 2];
				total = udh.Text[i + 3];
				seq = udh.Text[i + 4];
			} else if (iei == 0x08 && len == 4) {
				bits = 16;
				ref = udh.Text[i + 2] << 8 | udh.Text[i + 3];
				total = udh.Text[i + 4];
				seq = udh.Text[i + 5];
			}
		}
	}
	/* 3GPP TS 23.040 9.2.3.24.1: a 0 or out-of-range sequence number voids the element */
	if (ref < 0 || total < 2 || seq < 1 || seq > total)
		return;
	p->concat_ref = ref;
	p->concat_ref_bits = bits;
	p->concat_total = total;
	p->concat_seq = seq;
}

/* One SMS as libgammu read it, copied into a compact part. */
static void to_part(const GSM_SMSMessage *m, struct gsm_part *p)
{
	memset(p, 0, sizeof(*p));
	p->folder = m->Folder;
	p->location = m->Location;
	p->kind = m->PDU == SMS_Deliver ? GSM_PART_DELIVER
	    : m->PDU == SMS_Status_Report ? GSM_PART_STATUS_REPORT : GSM_PART_OTHER;
	switch (m->Coding) {
	case SMS_Coding_8bit:
		p->coding = GSM_PART_8BIT;
		break;
	case SMS_Coding_Default_No_Compression:
	case SMS_Coding_Default_Compression:
		p->coding = GSM_PART_GSM7;
		break;
	default:
		p->coding = GSM_PART_UCS2;
		break;
	}
	p->msg_class = m->Class >= 0 && m->Class <= 3 ? m->Class : -1;
	gammu_to_cstr(m->Number, p->sender, sizeof(p->sender));
	/* the SC time stamp (for a status report: when the SC took the reported message) */
	p->smsc_time = unix_time(&m->DateTime);
	concat_of(&m->UDH, p);
	p->status_ref = p->kind == GSM_PART_STATUS_REPORT ? m->MessageReference : -1;
	p->delivery_status = p->kind == GSM_PART_STATUS_REPORT ? m->DeliveryStatus : -1;
	if (p->coding == GSM_PART_8BIT) {
		size_t n = m->Length > 0 ? (size_t)m->Length : 0;
		static const char hex[] = "0123456789abcdef";

		if (n > sizeof(m->Text))
			n = sizeof(m->Text);
		p->text = xmalloc(n * 2 + 1);
		for (size_t i = 0; i < n; i++) {
			p->text[2 * i] = hex[m->Text[i] >> 4];
			p->text[2 * i + 1] = hex[m->Text[i] & 15];
		}
		p->text[n * 2] = '\0';
		p->text_len = n * 2;
	} else {
		/*
		 * UCS-2: Length units, so that a U+0000 in the text keeps what
		 * follows it. GSM-7: Length counts septets (an escape is two), the
		 * decoded text ends at its NUL.
		 */
		size_t cap = sizeof(m->Text) / 2 - 1;
		size_t n = p->coding == GSM_PART_UCS2 && m->Length > 0 ? (size_t)m->Length : UnicodeLength(m->Text);

		if (n > cap)
			n = cap;
		p->text = xmalloc(n * 3 + 1);
		p->text_len = utf16_to_utf8(m->Text, n, p->text, n * 3 + 1);
	}
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* The locations in the dummy phone's sms/<folder>, ascending; -1 (errno set) when it cannot be read. */
static int dummy_list(const struct gsm *g, int folder, int **locs, size_t *n, size_t *cap)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	*n = 0;
	snprintf(path, sizeof(path), "%s/sms/%d", g->device, folder);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long v;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue; /* ".", "..", and our own ".inject-*" temporary files */
		v = strtol(e->d_name, &end, 10);
		if (*end != '\0' || v < 1 || v > DUMMY_LOCATIONS)
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*locs = xrealloc(*locs, *cap * sizeof(**locs));
		}
		(*locs)[(*n)++] = (int)v;
	}
	closedir(d);
	if (*n > 1)
		qsort(*locs, *n, sizeof(**locs), cmp_int);
	return 0;
}

/*
 * Take the parts libgammu just read into g->msms, unless they do not all
 * fit (then nothing: the parts of one location are deleted together).
 * Returns false when the caller should stop reading.
 */
static bool take(struct gsm *g, struct gsm_part *parts, size_t max, size_t *n)
{
	size_t count = g->msms->Number > 0 ? (size_t)g->msms->Number : 0;

	if (count > max - *n) {
		if (*n > 0)
			return false;
		count = max; /* a batch smaller than one location: take what fits */
	}
	for (size_t k = 0; k < count; k++)
		to_part(&g->msms->SMS[k], &parts[(*n)++]);
	return *n < max;
}

/*
 * The dummy driver finds messages by trying every file name (10,000 per
 * folder, 50,000 for an empty phone, about 80 ms); its inbox folders (1:
 * SIM, 3: phone) are listed with readdir instead, and each message read
 * through libgammu.
 */
static int read_dummy(struct gsm *g, struct gsm_part *parts, size_t max, size_t *n)
{
	static const int inbox_folders[] = { 1, 3 };
	int *locs = NULL, unreadable = 0, rc = GSM_OK;
	size_t nlocs = 0, cap = 0;
	bool more = true;

	for (size_t f = 0; f < ARRAY_LEN(inbox_folders) && more && rc == GSM_OK; f++) {
		int folder = inbox_folders[f];

		if (dummy_list(g, folder, &locs, &nlocs, &cap) < 0) {
			set_err(g, "the dummy phone's folder %s/sms/%d cannot be read: %s", g->device, folder,
			    strerror(errno));
			rc = GSM_NOCONN;
			break;
		}
		for (size_t i = 0; i < nlocs && more; i++) {
			GSM_Error e;

			g->msms->Number = 0;
			g->msms->SMS[0].Folder = folder;
			g->msms->SMS[0].Location = locs[i];
			e = GSM_GetSMS(g->s, g->msms);
			if (e == ERR_EMPTY)
				continue; /* deleted meanwhile */
			if (classify(e) == GSM_NOCONN) {
				set_err(g, "reading message %d/%d: %s", folder, locs[i], GSM_ErrorString(e));
				rc = GSM_NOCONN;
				break;
			}
			if (e != ERR_NONE || g->msms->Number < 1) {
				unreadable++; /* not an SMS backup file libgammu can read: leave it */
				continue;
			}
			more = take(g, parts, max, n);
		}
	}
	free(locs);
	if (unreadable != g->unreadable && unreadable > 0)
		log_warnx(TAG, "%s: %d file(s) in %s/sms are not messages libgammu can read; left alone", g->name,
		    unreadable, g->device);
	g->unreadable = unreadable;
	return rc;
}

/* Any other phone: GSM_GetNextSMS from the start, inbox folders only. */
static int read_getnext(struct gsm *g, struct gsm_part *parts, size_t max, size_t *n)
{
	bool start = true;
	int corrupted = 0;

	g->msms->SMS[0].Location = 0;
	for (;;) {
		GSM_Error e;

		g->msms->Number = 0;
		g->msms->SMS[0].Folder = 0; /* as gammu-smsd: the location is flat across folders */
		e = GSM_GetNextSMS(g->s, g->msms, start);
		start = false;
		if (e == ERR_EMPTY)
			break;
		if (e == ERR_CORRUPTED) {
			corrupted++; /* a PDU libgammu cannot decode; the next call goes on after it */
			continue;
		}
		if (e != ERR_NONE) {
			set_err(g, "reading the inbox: %s", GSM_ErrorString(e));
			return op_fail(e);
		}
		if (g->msms->Number < 1)
			continue;
		/* the dummy driver walks folders 1..5 in order: after 3 no inbox is left */
		if (g->dummy && g->msms->SMS[0].Folder > 3)
			break;
		if (!g->msms->SMS[0].InboxFolder)
			continue;
		if (!take(g, parts, max, n))
			break;
	}
	if (corrupted != g->unreadable && corrupted > 0)
		log_warnx(TAG, "%s: %d message(s) on the phone cannot be decoded; left alone", g->name, corrupted);
	g->unreadable = corrupted;
	return GSM_OK;
}

/* In the order they reached the message centre (SIM locations are reused out of order). */
static int cmp_part(const void *a, const void *b)
{
	const struct gsm_part *x = a, *y = b;

	if (x->smsc_time != y->smsc_time)
		return x->smsc_time < y->smsc_time ? -1 : 1;
	return x->location < y->location ? -1 : x->location > y->location;
}

int gsm_read_inbox(struct gsm *g, struct gsm_part *parts, size_t max, size_t *n)
{
	int rc;

	*n = 0;
	if (!dummy_alive(g))
		return GSM_NOCONN;
	if (max == 0)
		return GSM_OK;
	rc = g->dummy && !g->scan_getnext ? read_dummy(g, parts, max, n) : read_getnext(g, parts, max, n);
	/* gone while we read: what looked empty was not */
	if (rc == GSM_OK && !dummy_alive(g))
		rc = GSM_NOCONN;
	if (rc != GSM_OK) {
		gsm_parts_free(parts, *n);
		*n = 0;
		return rc;
	}
	if (*n > 1)
		qsort(parts, *n, sizeof(*parts), cmp_part);
	if (*n > 0)
		log_debug(TAG, "%s: %zu part(s) read", g->name, *n);
	return GSM_OK;
}

void gsm_parts_free(struct gsm_part *parts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(parts[i].text);
		parts[i].text = NULL;
		parts[i].text_len = 0;
	}
}

int gsm_delete(struct gsm *g, const struct gsm_part *p)
{
	GSM_SMSMessage *m = &g->msms->SMS[0];
	GSM_Error e;

	if (!dummy_alive(g))
		return GSM_NOCONN;
	memset(m, 0, sizeof(*m));
	/* as gammu-smsd: folder 0 and the flat location the phone gave; the driver finds the memory */
	m->Folder = 0;
	m->Location = p->location;
	e = GSM_DeleteSMS(g->s, m);
	if (e == ERR_NONE || e == ERR_EMPTY)
		return GSM_OK;
	set_err(g, "deleting message %d/%d: %s", p->folder, p->location, GSM_ErrorString(e));
	return op_fail(e);
}

/* ---- sending -------------------------------------------------------------------------------- */

/* Digits with an optional leading +, 3 to 20 digits. */
static bool number_ok(const char *phone)
{
	size_t digits = 0;

	if (phone == NULL)
		return false;
	for (const char *p = phone; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (!(*p == '+' && p == phone))
			return false;
	}
	return digits >= 3 && digits <= 20;
}

/* Pump the phone until the send-status callback came or the time is up. */
static bool wait_send_status(struct gsm *g)
{
	int64_t deadline = mono_ms() + g->send_timeout_ms;

	while (!g->send_done && mono_ms() < deadline)
		if (GSM_ReadDevice(g->s, TRUE) < 0)
			break; /* not connected any more */
	return g->send_done;
}

/* The message centre of the phone, asked once (gammu-smsd does the same). */
static void use_smsc(struct gsm *g, GSM_SMSMessage *m)
{
	if (g->smsc_state == 0) {
		GSM_Error e;

		memset(&g->smsc, 0, sizeof(g->smsc));
		g->smsc.Location = 1;
		e = GSM_GetSMSC(g->s, &g->smsc);
		g->smsc_state = e == ERR_NONE && UnicodeLength(g->smsc.Number) > 0 ? 1 : -1;
		if (g->smsc_state < 0)
			log_debug(TAG, "%s: no SMSC number from the phone (%s); the driver asks at each send", g->name,
			    GSM_ErrorString(e));
	}
	if (g->smsc_state > 0) {
		m->SMSC = g->smsc;
		m->SMSC.Location = 0;
	} else {
		memset(&m->SMSC, 0, sizeof(m->SMSC));
		m->SMSC.Location = 1;
	}
}

static int send_fail(struct gsm *g, struct gsm_send_result *res, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int send_fail(struct gsm *g, struct gsm_send_result *res, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->error, sizeof(res->error), fmt, ap);
	va_end(ap);
	set_err(g, "%s", res->error);
	return rc;
}

/*
 * Encode text into g->msms with libgammu's encoder. GSM_PERMFAIL for a text
 * it cannot take whole (it would cut it silently).
 */
static int encode_text(struct gsm *g, const char *text, struct gsm_send_result *res)
{
	size_t len = strlen(text);
	struct sms_count cnt;
	GSM_MultiPartSMSInfo info;
	unsigned char *u;
	size_t units = 0, want;
	GSM_Error e;

	sms_count(text, len, &cnt);
	if (cnt.segments > ENCODER_MAX_PARTS || (cnt.coding == SMS_CODING_GSM7 && cnt.units > ENCODER_MAX_SEPTETS))
		return send_fail(g, res, GSM_PERMFAIL, "text too long: %zu %s in %zu parts, libgammu sends at most %d parts"
		    " (and %d GSM-7 septets)", cnt.units, cnt.coding == SMS_CODING_GSM7 ? "septets" : "UTF-16 units",
		    cnt.segments, ENCODER_MAX_PARTS, ENCODER_MAX_SEPTETS);
	u = gammu_from_utf8(text, len);
	GSM_ClearMultiPartSMSInfo(&info);
	info.EntriesNum = 1;
	info.UnicodeCoding = !sms_is_gsm7(text, len);
	info.Class = -1;
	info.Entries[0].ID = cnt.segments == 1 ? SMS_Text : SMS_ConcatenatedTextLong;
	info.Entries[0].Buffer = u;
	g->msms->Number = 0;
	e = GSM_EncodeMultiPartSMS(NULL, &info, g->msms);
	for (int i = 0; e == ERR_NONE && i < g->msms->Number; i++)
		units += g->msms->SMS[i].Length > 0 ? (size_t)g->msms->SMS[i].Length : 0;
	want = UnicodeLength(u);
	free(u);
	if (e != ERR_NONE || g->msms->Number < 1)
		return send_fail(g, res, GSM_PERMFAIL, "cannot encode the text: %s", GSM_ErrorString(e));
	if (units != want)
		return send_fail(g, res, GSM_PERMFAIL, "libgammu's encoder took %zu of %zu characters", units, want);
	if ((size_t)g->msms->Number != cnt.segments)
		log_debug(TAG, "%s: libgammu made %d parts where smstext counts %zu (it never splits an escape, a"
		    " surrogate pair or a combining sequence)", g->name, g->msms->Number, cnt.segments);
	return GSM_OK;
}

int gsm_send_text(struct gsm *g, const char *phone, const char *text, struct gsm_send_result *res)
{
	return gsm_send_text_from(g, phone, text, -1, 0, res);
}

int gsm_send_text_from(struct gsm *g, const char *phone, const char *text, int ref, int first_part,
    struct gsm_send_result *res)
{
	char who[LOG_PHONE_BUF];
	int rc;

	memset(res, 0, sizeof(*res));
	res->msg_ref = -1;
	res->ref = -1;
	if (!number_ok(phone))
		return send_fail(g, res, GSM_PERMFAIL, "not a number to send to: \"%s\"", log_phone(phone, who, sizeof(who)));
	if (text == NULL)
		text = "";
	rc = encode_text(g, text, res);
	if (rc != GSM_OK)
		return rc;
	res->parts = g->msms->Number;
	if (res->parts > 1) {
		/* our own reference, kept by the caller, so that a retry can send only the missing parts */
		res->ref = ref >= 0 ? ref % 256 : random_ref(false, text);
		for (int i = 0; i < g->msms->Number; i++) {
			GSM_SMSMessage *m = &g->msms->SMS[i];
			m->UDH.ID8bit = res->ref;
			m->UDH.ID16bit = -1;
			GSM_EncodeUDHHeader(NULL, &m->UDH);
		}
	}
	if (first_part < 0 || first_part >= res->parts || res->parts == 1)
		first_part = 0;
	res->parts_sent = first_part;
	if (!dummy_alive(g))
		return send_fail(g, res, GSM_NOCONN, "%.150s", g->err);
	for (int i = first_part; i < g->msms->Number; i++) {
		GSM_SMSMessage *m = &g->msms->SMS[i];
		GSM_Error e;

		/* libgammu encodes an SMS_Status_Report PDU to send as a Submit with TP-SRR set (as gammu-smsd does) */
		m->PDU = g->report_request ? SMS_Status_Report : SMS_Submit;
		EncodeUnicode(m->Number, phone, strlen(phone));
		use_smsc(g, m);
		g->send_done = false;
		g->send_status = -1;
		g->send_ref = -1;
		e = GSM_SendSMS(g->s, m);
		if (e != ERR_NONE && !g->send_done) {
			rc = classify(e);
			return send_fail(g, res, rc == GSM_OK ? GSM_TEMPFAIL : rc, "part %d of %d: %s", i + 1, res->parts,
			    GSM_ErrorString(e));
		}
		if (!wait_send_status(g))
			return send_fail(g, res, GSM_NOCONN, "part %d of %d: no answer from the network in %d ms", i + 1,
			    res->parts, g->send_timeout_ms);
		if (g->send_status != 0) {
			bool perm = cms_permanent(g->send_status);
			return send_fail(g, res, perm ? GSM_PERMFAIL : GSM_TEMPFAIL, "part %d of %d: the network refused it"
			    " (CMS ERROR %d, %s)", i + 1, res->parts, g->send_status, perm ? "permanent" : "temporary");
		}
		res->parts_sent++;
		res->msg_ref = g->send_ref;
	}
	log_debug(TAG, "%s: sent %d part(s) to %s, reference %d", g->name, res->parts,
	    log_phone(phone, who, sizeof(who)), res->msg_ref);
	return GSM_OK;
}

void gsm_request_reports(struct gsm *g, bool on)
{
	g->report_request = on;
}

/* ---- USSD, status, calls, reset ------------------------------------------------------------ */

int gsm_ussd(struct gsm *g, const char *code, char *reply, size_t replylen, int timeout_ms)
{
	char buf[GSM_MAX_USSD_LENGTH + 1];
	int64_t deadline;
	GSM_Error e;

	if (replylen > 0)
		reply[0] = '\0';
	if (code == NULL || *code == '\0' || strlen(code) >= 160 || strspn(code, "0123456789*#+") != strlen(code)) {
		set_err(g, "not a USSD code: \"%.40s\"", code ? code : "(null)");
		return GSM_PERMFAIL;
	}
	if (!dummy_alive(g))
		return GSM_NOCONN;
	snprintf(buf, sizeof(buf), "%s", code);
	g->ussd_done = false;
	g->ussd_reply[0] = '\0';
	e = GSM_SetIncomingUSSD(g->s, TRUE);
	if (e != ERR_NONE && !unsupported(e)) {
		set_err(g, "cannot enable USSD answers: %s", GSM_ErrorString(e));
		return op_fail(e);
	}
	e = GSM_DialService(g->s, buf);
	if (e != ERR_NONE) {
		set_err(g, "USSD %s: %s", code, GSM_ErrorString(e));
		return classify(e) == GSM_PERMFAIL ? GSM_PERMFAIL : op_fail(e);
	}
	deadline = mono_ms() + timeout_ms;
	while (!g->ussd_done && mono_ms() < deadline)
		if (GSM_ReadDevice(g->s, TRUE) < 0)
			break;
	if (!g->ussd_done) {
		set_err(g, "USSD %s: no answer in %d ms", code, timeout_ms);
		return GSM_TEMPFAIL;
	}
	if (g->ussd_reply[0] == '\0' && g->ussd_status != USSD_NoActionNeeded && g->ussd_status != USSD_ActionNeeded) {
		set_err(g, "USSD %s: the network ended the session without an answer (status %d)", code, g->ussd_status);
		return GSM_TEMPFAIL;
	}
	if (replylen > 0) {
		/* cut between characters, never inside one */
		size_t n = strlen(g->ussd_reply);
		if (n >= replylen) {
			n = replylen - 1;
			while (n > 0 && ((unsigned char)g->ussd_reply[n] & 0xC0) == 0x80)
				n--;
		}
		memcpy(reply, g->ussd_reply, n);
		reply[n] = '\0';
	}
	return GSM_OK;
}

int gsm_get_status(struct gsm *g, struct gsm_status *st)
{
	GSM_SignalQuality sig;
	GSM_NetworkInfo net;
	GSM_BatteryCharge bat;
	GSM_Error e;

	memset(st, 0, sizeof(*st));
	st->signal_percent = -1;
	st->battery_percent = -1;
	if (!dummy_alive(g))
		return GSM_NOCONN;
	memset(&sig, 0, sizeof(sig));
	e = GSM_GetSignalQuality(g->s, &sig);
	if (e == ERR_NONE) {
		st->signal_percent = sig.SignalPercent >= 0 && sig.SignalPercent <= 100 ? sig.SignalPercent : -1;
		st->signal_dbm = sig.SignalStrength != -1 ? sig.SignalStrength : 0;
	} else if (classify(e) == GSM_NOCONN) {
		set_err(g, "signal quality: %s", GSM_ErrorString(e));
		return GSM_NOCONN;
	}
	memset(&net, 0, sizeof(net));
	e = GSM_GetNetworkInfo(g->s, &net);
	if (e == ERR_NONE) {
		st->registered = net.State == GSM_HomeNetwork || net.State == GSM_RoamingNetwork;
		snprintf(st->network_code, sizeof(st->network_code), "%.*s", (int)sizeof(net.NetworkCode),
		    net.NetworkCode);
		gammu_to_cstr(net.NetworkName, st->network_name, sizeof(st->network_name));
	} else if (classify(e) == GSM_NOCONN) {
		set_err(g, "network: %s", GSM_ErrorString(e));
		return GSM_NOCONN;
	}
	memset(&bat, 0, sizeof(bat));
	e = GSM_GetBatteryCharge(g->s, &bat);
	if (e == ERR_NONE) {
		st->battery_percent = bat.BatteryPercent >= 0 && bat.BatteryPercent <= 100 ? bat.BatteryPercent : -1;
	} else if (classify(e) == GSM_NOCONN) {
		set_err(g, "battery: %s", GSM_ErrorString(e));
		return GSM_NOCONN;
	}
	return GSM_OK;
}

int gsm_take_calls(struct gsm *g, char (*callers)[48], size_t max, size_t *n)
{
	struct rang got[CALL_QUEUE];
	size_t ngot, keep = 0;
	GSM_SignalQuality sig;
	bool gone = false;
	GSM_Error e;

	*n = 0;
	if (!dummy_alive(g))
		return GSM_NOCONN;
	/*
	 * Let the phone report what happened: an AT modem's RING/+CLIP lines
	 * wait in the device; the dummy driver reports its incoming-call file
	 * at the start of any API call, and a cheap one will do.
	 */
	if (!g->dummy) {
		(void)GSM_ReadDevice(g->s, FALSE);
	} else {
		e = GSM_GetSignalQuality(g->s, &sig);
		if (e != ERR_NONE && classify(e) == GSM_NOCONN) {
			set_err(g, "%s", GSM_ErrorString(e));
			return GSM_NOCONN;
		}
	}
	if (g->ring_at != 0 && g->nrang == 0 && mono_ms() - g->ring_at >= WITHHELD_WAIT_MS) {
		/* RING and no caller ID: nobody to call back, but the phone must stop ringing */
		g->ring_at = 0;
		e = GSM_CancelCall(g->s, 0, TRUE);
		if (classify(e) == GSM_NOCONN) {
			set_err(g, "hanging up: %s", GSM_ErrorString(e));
			return GSM_NOCONN;
		}
		if (e != ERR_NONE)
			log_warnx(TAG, "%s: cannot hang up a call without caller ID: %s", g->name, GSM_ErrorString(e));
		g->withheld++;
		g->ring_at = 0; /* the RING that came while hanging up */
	}
	if (g->rang_lost) {
		log_warnx(TAG, "%s: %u incoming call notification(s) dropped (more than %d callers at once)", g->name,
		    g->rang_lost, CALL_QUEUE);
		g->rang_lost = 0;
	}
	/* hanging up is an API call too, which may report more: work on a copy */
	ngot = g->nrang;
	memcpy(got, g->rang, ngot * sizeof(got[0]));
	g->nrang = 0;
	for (size_t i = 0; i < ngot; i++) {
		if (*n == max) {
			got[keep++] = got[i]; /* for the next call */
			continue;
		}
		if (gone) {
			/* the calls rang all the same: report them; the next call on the phone says it is gone */
			memcpy(callers[(*n)++], got[i].number, sizeof(got[i].number));
			continue;
		}
		g->hanging_up = got[i].number;
		e = got[i].id_known ? GSM_CancelCall(g->s, got[i].id, TRUE) : ERR_NOTSUPPORTED;
		if (unsupported(e))
			e = GSM_CancelCall(g->s, 0, TRUE);
		g->hanging_up = NULL;
		if (classify(e) == GSM_NOCONN) {
			gone = true;
			set_err(g, "hanging up: %s", GSM_ErrorString(e));
		}
		if (e != ERR_NONE) {
			char who[LOG_PHONE_BUF];
			log_warnx(TAG, "%s: cannot hang up the call from %s: %s", g->name,
			    log_phone(got[i].number, who, sizeof(who)), GSM_ErrorString(e));
		}
		memcpy(callers[(*n)++], got[i].number, sizeof(got[i].number));
	}
	/* callers beyond max go back in front of whatever rang meanwhile */
	for (size_t i = 0; i < g->nrang && keep < CALL_QUEUE; i++) {
		bool dup = false;
		for (size_t k = 0; k < keep; k++)
			dup = dup || strcmp(got[k].number, g->rang[i].number) == 0;
		if (!dup)
			got[keep++] = g->rang[i];
	}
	memcpy(g->rang, got, keep * sizeof(got[0]));
	g->nrang = keep;
	return GSM_OK;
}

unsigned gsm_take_withheld(struct gsm *g)
{
	unsigned n = g->withheld;

	g->withheld = 0;
	return n;
}

int gsm_notify_sms(struct gsm *g)
{
	GSM_Error e;

	if (g->dummy)
		return GSM_PERMFAIL; /* the dummy phone announces nothing */
	e = GSM_SetIncomingSMS(g->s, TRUE);
	if (e == ERR_NONE)
		return GSM_OK;
	set_err(g, "new-message notification: %s", GSM_ErrorString(e));
	return classify(e) == GSM_NOCONN ? GSM_NOCONN : GSM_PERMFAIL;
}

bool gsm_pump(struct gsm *g)
{
	bool got;

	if (!g->dummy)
		(void)GSM_ReadDevice(g->s, FALSE);
	got = g->sms_waiting;
	g->sms_waiting = false;
	return got;
}

int gsm_reset(struct gsm *g, bool hard)
{
	GSM_Error e = GSM_Reset(g->s, hard ? TRUE : FALSE);

	/* the AT driver has only the one reset (AT+CFUN=1,1): a hard reset is that */
	if (hard && unsupported(e))
		e = GSM_Reset(g->s, FALSE);

	if (e == ERR_NONE)
		return GSM_OK;
	set_err(g, "%s reset: %s", hard ? "hard" : "soft", GSM_ErrorString(e));
	return classify(e) == GSM_PERMFAIL ? GSM_PERMFAIL : op_fail(e);
}

/* ---- the dummy phone's inbox, for tests and tools ------------------------------------------- */

void gsm_inject_defaults(struct gsm_inject_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->concat_ref = -1;
	o->msg_class = -1;
}

/* Unix seconds as a UTC GSM_DateTime: the backup file keeps no zone but "Z" for Timezone 0. */
static void datetime_of(int64_t t, GSM_DateTime *dt)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	memset(dt, 0, sizeof(*dt));
	dt->Year = tm.tm_year + 1900;
	dt->Month = tm.tm_mon + 1;
	dt->Day = tm.tm_mday;
	dt->Hour = tm.tm_hour;
	dt->Minute = tm.tm_min;
	dt->Second = tm.tm_sec;
	dt->Timezone = 0;
}

static int mkdirs(const char *dir, char *err, size_t errlen)
{
	static const char *const subs[] = { "", "/sms", "/sms/1", "/sms/2", "/sms/3", "/sms/4", "/sms/5" };

	for (size_t i = 0; i < ARRAY_LEN(subs); i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s%s", dir, subs[i]);
		/* 0755 as the dummy driver makes them, so that a daemon of another user can work in them */
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Write one part with libgammu into a temporary file in dir, check that
 * libgammu reads it back (GSM_AddSMSBackupFile does not report write
 * errors), and link it into sms/1 under the first free location: link()
 * fails rather than replace, so concurrent writers and a daemon deleting
 * meanwhile are safe, and a reader never sees half a file.
 */
static int place(const char *dir, GSM_SMSMessage *m, int *loc, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	GSM_SMS_Backup *backup = calloc(1, sizeof(*backup));
	GSM_Error e;
	int fd, rc = -1;

	if (backup == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s/.inject-XXXXXX", dir);
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a file in %s: %s", dir, strerror(errno));
		free(backup);
		return -1;
	}
	close(fd);
	backup->SMS[0] = m;
	backup->SMS[1] = NULL;
	e = GSM_AddSMSBackupFile(tmp, backup); /* appends to the empty file */
	if (e == ERR_NONE) {
		e = GSM_ReadSMSBackupFile(tmp, backup);
		if (e == ERR_NONE && (backup->SMS[0] == NULL || backup->SMS[1] != NULL))
			e = ERR_WRITING_FILE;
		GSM_FreeSMSBackup(backup);
	}
	free(backup);
	if (e != ERR_NONE) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, GSM_ErrorString(e));
		goto out;
	}
	for (; *loc <= DUMMY_LOCATIONS; (*loc)++) {
		snprintf(dst, sizeof(dst), "%s/sms/1/%d", dir, *loc);
		if (link(tmp, dst) == 0) {
			(*loc)++;
			rc = 0;
			goto out;
		}
		if (errno != EEXIST) {
			snprintf(err, errlen, "cannot place %s: %s", dst, strerror(errno));
			goto out;
		}
	}
	snprintf(err, errlen, "the dummy phone's inbox %s/sms/1 is full (%d messages)", dir, DUMMY_LOCATIONS);
out:
	unlink(tmp);
	return rc;
}

/* A reference nobody else is likely to use at the same moment. */
static int random_ref(bool ref16, const char *text)
{
	static atomic_uint counter;
	struct {
		int64_t t;
		pid_t pid;
		unsigned n;
		uint64_t text;
	} seed = { mono_ms() ^ (int64_t)time(NULL) << 20, getpid(), atomic_fetch_add(&counter, 1),
		hash64(text, strlen(text)) };
	uint64_t h = hash64(&seed, sizeof(seed));

	return (int)(ref16 ? h % 65536 : h % 256);
}

/* 8-bit data: libgammu's encoder has no long 8-bit text, so the parts are cut here. */
static int encode_binary(const char *text, GSM_MultiSMSMessage *msms, char *err, size_t errlen)
{
	size_t len = strlen(text), per = len <= BINARY_SINGLE ? BINARY_SINGLE : BINARY_PART;
	size_t nparts = len == 0 ? 1 : (len + per - 1) / per;

	if (nparts > ENCODER_MAX_PARTS) {
		snprintf(err, errlen, "%zu bytes of data need %zu parts, at most %d", len, nparts, ENCODER_MAX_PARTS);
		return -1;
	}
	msms->Number = (int)nparts;
	for (size_t i = 0; i < nparts; i++) {
		GSM_SMSMessage *m = &msms->SMS[i];
		size_t off = i * per, n = len - off < per ? len - off : per;

		GSM_SetDefaultReceivedSMSData(m);
		m->Coding = SMS_Coding_8bit;
		m->Class = -1;
		memcpy(m->Text, text + off, n);
		m->Length = (int)n;
		if (nparts > 1) {
			m->UDH.Type = UDH_ConcatenatedMessages;
			m->UDH.PartNumber = (int)i + 1;
			m->UDH.AllParts = (int)nparts;
		}
	}
	return 0;
}

static int encode_inject_text(const char *text, const struct gsm_inject_opts *o, GSM_MultiSMSMessage *msms,
    char *err, size_t errlen)
{
	size_t len = strlen(text), units = 0, want;
	GSM_MultiPartSMSInfo info;
	unsigned char *u;
	GSM_Error e;

	/* more than the most the encoder could ever take (and its own buffer holds) */
	if (len > ENCODER_MAX_PARTS * SMS_GSM7_PART * 4) {
		snprintf(err, errlen, "text too long for libgammu's encoder (at most %d parts)", ENCODER_MAX_PARTS);
		return -1;
	}
	u = gammu_from_utf8(text, len);
	GSM_ClearMultiPartSMSInfo(&info);
	info.EntriesNum = 1;
	info.UnicodeCoding = o->force_ucs2 || !sms_is_gsm7(text, len);
	info.Class = o->msg_class;
	info.Entries[0].ID = o->ref16 ? SMS_ConcatenatedTextLong16bit : SMS_ConcatenatedTextLong;
	info.Entries[0].Buffer = u;
	e = GSM_EncodeMultiPartSMS(NULL, &info, msms);
	for (int i = 0; e == ERR_NONE && i < msms->Number; i++)
		units += msms->SMS[i].Length > 0 ? (size_t)msms->SMS[i].Length : 0;
	want = UnicodeLength(u);
	free(u);
	if (e != ERR_NONE || msms->Number < 1 || units != want) {
		snprintf(err, errlen, "libgammu's encoder took %zu of %zu characters (at most %d parts, %d GSM-7"
		    " septets): %s", units, want, ENCODER_MAX_PARTS, ENCODER_MAX_SEPTETS, GSM_ErrorString(e));
		return -1;
	}
	return 0;
}

int gsm_dummy_inject(const char *dir, const char *sender, const char *text, const struct gsm_inject_opts *o,
    int *parts_written, char *err, size_t errlen)
{
	GSM_MultiSMSMessage *msms;
	int64_t t = o->smsc_time ? o->smsc_time : (int64_t)time(NULL);
	int rc = GSM_TEMPFAIL, ref, loc = 1;
	unsigned char *usender;

	*parts_written = 0;
	if (text == NULL)
		text = "";
	if (mkdirs(dir, err, errlen) < 0)
		return GSM_TEMPFAIL;
	msms = calloc(1, sizeof(*msms));
	if (msms == NULL) {
		snprintf(err, errlen, "out of memory");
		return GSM_TEMPFAIL;
	}
	ref = o->concat_ref >= 0 ? o->concat_ref % (o->ref16 ? 65536 : 256) : random_ref(o->ref16, text);
	if (o->status_report) {
		/* a report that the message with reference `ref` reached `sender` */
		GSM_SMSMessage *m = &msms->SMS[0];
		msms->Number = 1;
		GSM_SetDefaultReceivedSMSData(m);
		m->PDU = SMS_Status_Report;
		m->Coding = SMS_Coding_Unicode_No_Compression;
		EncodeUnicode(m->Text, "Delivered", 9);
		m->Length = 9;
		m->DeliveryStatus = 0; /* the backup file keeps no TP-Status: it reads back as 0 */
		m->MessageReference = ref % 256;
		m->Class = -1;
	} else if (o->binary) {
		if (encode_binary(text, msms, err, errlen) < 0)
			goto out;
	} else if (encode_inject_text(text, o, msms, err, errlen) < 0) {
		goto out;
	}
	usender = gammu_from_utf8(sender, strlen(sender));
	for (int k = 0; k < msms->Number; k++) {
		int i = o->reverse ? msms->Number - 1 - k : k;
		GSM_SMSMessage *m = &msms->SMS[i];
		size_t slen = UnicodeLength(usender);

		if (i < 32 && (o->skip_parts & (1u << i)))
			continue;
		if (!o->status_report)
			m->PDU = SMS_Deliver;
		m->State = SMS_UnRead;
		m->Folder = 1;
		m->InboxFolder = TRUE;
		m->Memory = MEM_SM;
		m->Location = 0;
		m->Class = o->status_report ? -1 : o->msg_class >= 0 && o->msg_class <= 3 ? o->msg_class : -1;
		if (slen > GSM_MAX_NUMBER_LENGTH)
			slen = GSM_MAX_NUMBER_LENGTH;
		memset(m->Number, 0, sizeof(m->Number));
		memcpy(m->Number, usender, slen * 2);
		EncodeUnicode(m->SMSC.Number, INJECT_SMSC, strlen(INJECT_SMSC));
		datetime_of(t, &m->DateTime);
		if (msms->Number > 1) {
			/* our reference, through libgammu's own header encoder */
			m->UDH.Type = o->ref16 ? UDH_ConcatenatedMessages16bit : UDH_ConcatenatedMessages;
			m->UDH.ID8bit = o->ref16 ? -1 : ref;
			m->UDH.ID16bit = o->ref16 ? ref : -1;
			m->UDH.PartNumber = i + 1;
			m->UDH.AllParts = msms->Number;
			GSM_EncodeUDHHeader(NULL, &m->UDH);
		}
		if (place(dir, m, &loc, err, errlen) < 0) {
			free(usender);
			goto out;
		}
		(*parts_written)++;
	}
	free(usender);
	rc = GSM_OK;
out:
	free(msms);
	return rc;
}
