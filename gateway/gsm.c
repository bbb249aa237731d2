/*
 * gsm: the libgammu wrapper (see gsm.h): connection, reading, sending, USSD,
 * status and calls. libgammu's values become ours in gsm_conv.c; the dummy
 * phone's own support (its inbox read by directory listing, the injection
 * tool) is gsm_dummy.c. Only gsm*.c include <gammu.h>.
 *
 * Everything a phone tells us through a callback (send status, USSD answer,
 * incoming call) is only copied into the handle; the call that caused it
 * looks at the copy afterwards.
 */
#include "gsm.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gammu.h>

#include "gsm_int.h"
#include "log.h"
#include "smstext.h"
#include "util.h"

#define TAG "gsm"

#define WITHHELD_WAIT_MS 1500 /* RING with no +CLIP this long after it: a call without caller ID */

const char *gsm_error(const struct gsm *g)
{
	return g ? g->err : "no phone";
}

/* ---- errors ------------------------------------------------------------------------------ */

/* For operations on a connected phone: only "gone" and "try later". */
static int op_fail(GSM_Error e)
{
	return gsm_classify(e) == GSM_NOCONN ? GSM_NOCONN : GSM_TEMPFAIL;
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
	gsm_to_cstr(ussd->Text, g->ussd_reply, sizeof(g->ussd_reply));
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
	gsm_to_cstr(call->PhoneNumber, r.number, sizeof(r.number));
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
		rc = gsm_classify(e) == GSM_PERMFAIL ? GSM_PERMFAIL : GSM_TEMPFAIL;
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
			gsm_set_err(g, "reading the inbox: %s", GSM_ErrorString(e));
			return op_fail(e);
		}
		if (g->msms->Number < 1)
			continue;
		/* the dummy driver walks folders 1..5 in order: after 3 no inbox is left */
		if (g->dummy && g->msms->SMS[0].Folder > 3)
			break;
		if (!g->msms->SMS[0].InboxFolder)
			continue;
		if (!gsm_take_parts(g, parts, max, n))
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
	if (!gsm_dummy_alive(g))
		return GSM_NOCONN;
	if (max == 0)
		return GSM_OK;
	rc = g->dummy && !g->scan_getnext ? gsm_dummy_read(g, parts, max, n) : read_getnext(g, parts, max, n);
	/* gone while we read: what looked empty was not */
	if (rc == GSM_OK && !gsm_dummy_alive(g))
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

	if (!gsm_dummy_alive(g))
		return GSM_NOCONN;
	memset(m, 0, sizeof(*m));
	/* as gammu-smsd: folder 0 and the flat location the phone gave; the driver finds the memory */
	m->Folder = 0;
	m->Location = p->location;
	e = GSM_DeleteSMS(g->s, m);
	if (e == ERR_NONE || e == ERR_EMPTY)
		return GSM_OK;
	gsm_set_err(g, "deleting message %d/%d: %s", p->folder, p->location, GSM_ErrorString(e));
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
	gsm_set_err(g, "%s", res->error);
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
	u = gsm_from_utf8(text, len);
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
		res->ref = ref >= 0 ? ref % 256 : gsm_random_ref(false, text);
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
	if (!gsm_dummy_alive(g))
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
			rc = gsm_classify(e);
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
		gsm_set_err(g, "not a USSD code: \"%.40s\"", code ? code : "(null)");
		return GSM_PERMFAIL;
	}
	if (!gsm_dummy_alive(g))
		return GSM_NOCONN;
	snprintf(buf, sizeof(buf), "%s", code);
	g->ussd_done = false;
	g->ussd_reply[0] = '\0';
	e = GSM_SetIncomingUSSD(g->s, TRUE);
	if (e != ERR_NONE && !unsupported(e)) {
		gsm_set_err(g, "cannot enable USSD answers: %s", GSM_ErrorString(e));
		return op_fail(e);
	}
	e = GSM_DialService(g->s, buf);
	if (e != ERR_NONE) {
		gsm_set_err(g, "USSD %s: %s", code, GSM_ErrorString(e));
		return gsm_classify(e) == GSM_PERMFAIL ? GSM_PERMFAIL : op_fail(e);
	}
	deadline = mono_ms() + timeout_ms;
	while (!g->ussd_done && mono_ms() < deadline)
		if (GSM_ReadDevice(g->s, TRUE) < 0)
			break;
	if (!g->ussd_done) {
		gsm_set_err(g, "USSD %s: no answer in %d ms", code, timeout_ms);
		return GSM_TEMPFAIL;
	}
	if (g->ussd_reply[0] == '\0' && g->ussd_status != USSD_NoActionNeeded && g->ussd_status != USSD_ActionNeeded) {
		gsm_set_err(g, "USSD %s: the network ended the session without an answer (status %d)", code, g->ussd_status);
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
	if (!gsm_dummy_alive(g))
		return GSM_NOCONN;
	memset(&sig, 0, sizeof(sig));
	e = GSM_GetSignalQuality(g->s, &sig);
	if (e == ERR_NONE) {
		st->signal_percent = sig.SignalPercent >= 0 && sig.SignalPercent <= 100 ? sig.SignalPercent : -1;
		st->signal_dbm = sig.SignalStrength != -1 ? sig.SignalStrength : 0;
	} else if (gsm_classify(e) == GSM_NOCONN) {
		gsm_set_err(g, "signal quality: %s", GSM_ErrorString(e));
		return GSM_NOCONN;
	}
	memset(&net, 0, sizeof(net));
	e = GSM_GetNetworkInfo(g->s, &net);
	if (e == ERR_NONE) {
		st->registered = net.State == GSM_HomeNetwork || net.State == GSM_RoamingNetwork;
		snprintf(st->network_code, sizeof(st->network_code), "%.*s", (int)sizeof(net.NetworkCode),
		    net.NetworkCode);
		gsm_to_cstr(net.NetworkName, st->network_name, sizeof(st->network_name));
	} else if (gsm_classify(e) == GSM_NOCONN) {
		gsm_set_err(g, "network: %s", GSM_ErrorString(e));
		return GSM_NOCONN;
	}
	memset(&bat, 0, sizeof(bat));
	e = GSM_GetBatteryCharge(g->s, &bat);
	if (e == ERR_NONE) {
		st->battery_percent = bat.BatteryPercent >= 0 && bat.BatteryPercent <= 100 ? bat.BatteryPercent : -1;
	} else if (gsm_classify(e) == GSM_NOCONN) {
		gsm_set_err(g, "battery: %s", GSM_ErrorString(e));
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
	if (!gsm_dummy_alive(g))
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
		if (e != ERR_NONE && gsm_classify(e) == GSM_NOCONN) {
			gsm_set_err(g, "%s", GSM_ErrorString(e));
			return GSM_NOCONN;
		}
	}
	if (g->ring_at != 0 && g->nrang == 0 && mono_ms() - g->ring_at >= WITHHELD_WAIT_MS) {
		/* RING and no caller ID: nobody to call back, but the phone must stop ringing */
		g->ring_at = 0;
		e = GSM_CancelCall(g->s, 0, TRUE);
		if (gsm_classify(e) == GSM_NOCONN) {
			gsm_set_err(g, "hanging up: %s", GSM_ErrorString(e));
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
		if (gsm_classify(e) == GSM_NOCONN) {
			gone = true;
			gsm_set_err(g, "hanging up: %s", GSM_ErrorString(e));
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
	gsm_set_err(g, "new-message notification: %s", GSM_ErrorString(e));
	return gsm_classify(e) == GSM_NOCONN ? GSM_NOCONN : GSM_PERMFAIL;
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
	gsm_set_err(g, "%s reset: %s", hard ? "hard" : "soft", GSM_ErrorString(e));
	return gsm_classify(e) == GSM_PERMFAIL ? GSM_PERMFAIL : op_fail(e);
}
