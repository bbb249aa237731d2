/*
 * gsm: the libgammu wrapper (see gsm.h). Text crosses this boundary as
 * UTF-8; libgammu's own DecodeUTF8/EncodeUTF8 convert to and from its UCS-2
 * buffers (they keep characters outside the BMP as surrogate pairs).
 */
#include "gsm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gammu.h>

#include "log.h"
#include "smstext.h"
#include "util.h"

#define DUMMY_LOCATIONS 9999 /* the dummy driver keeps sms/<folder>/1 .. 9999 */
#define INJECT_SMSC "+8613800100500"

struct gsm {
	GSM_StateMachine *s;
	char name[40];
	bool dummy;
	char *device;                  /* the dummy phone's folder */
	int send_timeout_ms;
	GSM_MultiSMSMessage *msms;     /* ~266 KB: one per handle, reused for every read and send */
	GSM_SMSC smsc;                 /* the phone's message centre, when it told us */
	bool have_smsc;
	char err[256];
	/* written by the callbacks, read after the call that triggered them */
	volatile int send_status;      /* -1: waiting */
	volatile int send_ref;
	volatile bool ussd_done;
	char ussd_reply[GSM_MAX_USSD_LENGTH * 4 + 4];
	char calls[8][48];
	size_t ncalls;
};

static void set_err(struct gsm *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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

/* How a libgammu error should be treated by the caller. */
static int classify(GSM_Error e)
{
	switch (e) {
	case ERR_NONE:
		return GSM_OK;
	case ERR_TIMEOUT:
	case ERR_DEVICEOPENERROR:
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
	case ERR_DEVICELOCKED:
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
		return GSM_PERMFAIL;
	default:
		return GSM_TEMPFAIL;
	}
}

/* The dummy driver reports an empty inbox for a folder that is gone: look ourselves. */
static bool dummy_alive(struct gsm *g)
{
	char path[PATH_MAX];
	struct stat st;

	if (!g->dummy)
		return true;
	snprintf(path, sizeof(path), "%s/sms/1", g->device);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode) || access(path, R_OK | W_OK | X_OK) < 0) {
		set_err(g, "the dummy phone's folder %s cannot be used: %s", path, strerror(errno ? errno : ENOENT));
		return false;
	}
	return true;
}

static void utf8_from_gammu(const unsigned char *u, char *out, size_t outlen)
{
	size_t units = UnicodeLength(u);
	char *tmp = xmalloc(units * 4 + 1);

	EncodeUTF8(tmp, u);
	snprintf(out, outlen, "%s", tmp);
	free(tmp);
}

static char *utf8_dup_from_gammu(const unsigned char *u, size_t *len)
{
	size_t units = UnicodeLength(u);
	char *tmp = xmalloc(units * 4 + 1);

	tmp[0] = '\0';
	EncodeUTF8(tmp, u);
	*len = strlen(tmp);
	return tmp;
}

/*
 * The text of a UCS-2 part that carries U+0000 inside it: libgammu's strings
 * end at the first NUL, but the part holds `units` code units. What follows
 * a NUL is kept, the NUL as a byte (dispatch stores such a text as valid
 * UTF-8 and keeps the received bytes in messages.raw); NULs at the end are
 * padding and dropped.
 */
static char *utf8_dup_units(const unsigned char *u, size_t units, size_t *len)
{
	unsigned char *seg = xmalloc(units * 2 + 2);
	char *tmp = xmalloc(units * 4 + 1);
	struct buf b = { 0 };

	while (units > 0 && u[2 * units - 2] == 0 && u[2 * units - 1] == 0)
		units--;
	for (size_t i = 0; i < units;) {
		size_t j = i;
		while (j < units && (u[2 * j] != 0 || u[2 * j + 1] != 0))
			j++;
		memcpy(seg, u + 2 * i, (j - i) * 2);
		seg[(j - i) * 2] = seg[(j - i) * 2 + 1] = 0;
		tmp[0] = '\0';
		EncodeUTF8(tmp, seg);
		buf_adds(&b, tmp);
		if (j < units)
			buf_addc(&b, '\0'); /* the NUL itself */
		i = j + 1;
	}
	free(seg);
	free(tmp);
	*len = b.len;
	return buf_take(&b);
}

/* A gammu UCS-2 buffer for a UTF-8 text; caller frees. */
static unsigned char *gammu_from_utf8(const char *s)
{
	size_t len = strlen(s);
	unsigned char *u = xcalloc(len + 2, 2);

	DecodeUTF8(u, s, len);
	return u;
}

/* ---- callbacks: copy and return --------------------------------------------------------- */

static void on_send_status(GSM_StateMachine *s, int status, int ref, void *data)
{
	struct gsm *g = data;

	(void)s;
	g->send_status = status;
	g->send_ref = ref;
}

static void on_ussd(GSM_StateMachine *s, GSM_USSDMessage *ussd, void *data)
{
	struct gsm *g = data;

	(void)s;
	utf8_from_gammu(ussd->Text, g->ussd_reply, sizeof(g->ussd_reply));
	g->ussd_done = true;
}

static void on_call(GSM_StateMachine *s, GSM_Call *call, void *data)
{
	struct gsm *g = data;
	char num[48];

	(void)s;
	if (call->Status != GSM_CALL_IncomingCall)
		return;
	utf8_from_gammu(call->PhoneNumber, num, sizeof(num));
	for (size_t i = 0; i < g->ncalls; i++)
		if (strcmp(g->calls[i], num) == 0)
			return; /* the same call ringing again */
	if (g->ncalls < sizeof(g->calls) / sizeof(g->calls[0]))
		snprintf(g->calls[g->ncalls++], sizeof(g->calls[0]), "%s", num);
	if (call->CallIDAvailable)
		(void)GSM_CancelCall(s, call->CallID, TRUE);
	else
		(void)GSM_CancelCall(s, 0, TRUE);
}

/* ---- connection ---------------------------------------------------------------------------- */

static int configure(struct gsm *g, const struct gsm_settings *st, char *err, size_t errlen)
{
	GSM_Config *cfg = GSM_GetConfig(g->s, 0);
	GSM_Error e;

	if (st->gammurc && *st->gammurc) {
		INI_Section *ini = NULL;
		e = INI_ReadFile(st->gammurc, FALSE, &ini);
		if (e != ERR_NONE) {
			snprintf(err, errlen, "cannot read %s: %s", st->gammurc, GSM_ErrorString(e));
			return GSM_PERMFAIL;
		}
		e = GSM_ReadConfig(ini, cfg, st->section);
		INI_Free(ini);
		if (e != ERR_NONE) {
			snprintf(err, errlen, "%s, section %d: %s", st->gammurc, st->section, GSM_ErrorString(e));
			return GSM_PERMFAIL;
		}
	} else {
		/* defaults first (libgammu fills what we do not set), then ours */
		(void)GSM_ReadConfig(NULL, cfg, 0);
		free(cfg->Device);
		cfg->Device = strdup(st->device ? st->device : "");
		free(cfg->Connection);
		cfg->Connection = strdup(st->connection && *st->connection ? st->connection : "at");
		snprintf(cfg->Model, sizeof(cfg->Model), "%s", st->model ? st->model : "");
		if (cfg->Device == NULL || cfg->Connection == NULL) {
			snprintf(err, errlen, "out of memory");
			return GSM_TEMPFAIL;
		}
	}
	cfg->SyncTime = FALSE;
	cfg->LockDevice = FALSE;
	cfg->StartInfo = FALSE;
	cfg->DebugLevel[0] = '\0';
	GSM_SetConfigNum(g->s, 1);
	g->dummy = strcmp(cfg->Model, "dummy") == 0;
	g->device = xstrdup(cfg->Device ? cfg->Device : "");
	return GSM_OK;
}

static int enter_pin(struct gsm *g, const char *pin, char *err, size_t errlen)
{
	GSM_SecurityCodeType need;
	GSM_SecurityCode code;
	GSM_Error e = GSM_GetSecurityStatus(g->s, &need);

	if (e == ERR_NOTSUPPORTED || e == ERR_NOTIMPLEMENTED || (e == ERR_NONE && need == SEC_None))
		return GSM_OK;
	if (e != ERR_NONE) {
		snprintf(err, errlen, "cannot ask whether the SIM needs a PIN: %s", GSM_ErrorString(e));
		return classify(e) == GSM_NOCONN ? GSM_TEMPFAIL : classify(e);
	}
	if (need != SEC_Pin) {
		snprintf(err, errlen, "the SIM asks for a code other than its PIN (PUK or phone code): unlock it by hand");
		return GSM_PERMFAIL;
	}
	if (pin == NULL || *pin == '\0') {
		snprintf(err, errlen, "the SIM asks for its PIN and none is configured (modems[].pin)");
		return GSM_PERMFAIL;
	}
	memset(&code, 0, sizeof(code));
	code.Type = SEC_Pin;
	snprintf(code.Code, sizeof(code.Code), "%s", pin);
	e = GSM_EnterSecurityCode(g->s, &code);
	memset(&code, 0, sizeof(code));
	if (e != ERR_NONE) {
		/* a wrong PIN must not be tried again and again: the SIM would lock */
		snprintf(err, errlen, "the SIM refused the configured PIN: %s", GSM_ErrorString(e));
		return GSM_PERMFAIL;
	}
	return GSM_OK;
}

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
	e = GSM_InitConnection(g->s, 1);
	if (e != ERR_NONE) {
		snprintf(err, errlen, "%s (%s, %s)", GSM_ErrorString(e), g->device,
		    GSM_GetConfig(g->s, 0)->Connection);
		rc = classify(e) == GSM_PERMFAIL ? GSM_PERMFAIL : GSM_TEMPFAIL;
		goto fail;
	}
	rc = enter_pin(g, st->pin, err, errlen);
	if (rc != GSM_OK) {
		GSM_TerminateConnection(g->s);
		goto fail;
	}
	GSM_SetSendSMSStatusCallback(g->s, on_send_status, g);
	GSM_SetIncomingUSSDCallback(g->s, on_ussd, g);
	GSM_SetIncomingCallCallback(g->s, on_call, g);
	(void)GSM_SetIncomingCall(g->s, TRUE);
	memset(&g->smsc, 0, sizeof(g->smsc));
	g->smsc.Location = 1;
	g->have_smsc = GSM_GetSMSC(g->s, &g->smsc) == ERR_NONE && UnicodeLength(g->smsc.Number) > 0;
	g->msms = xcalloc(1, sizeof(*g->msms));
	*out = g;
	return GSM_OK;
fail:
	GSM_FreeStateMachine(g->s);
	free(g->device);
	free(g);
	return rc;
}

void gsm_close(struct gsm *g)
{
	if (g == NULL)
		return;
	if (GSM_IsConnected(g->s))
		GSM_TerminateConnection(g->s);
	GSM_FreeStateMachine(g->s);
	free(g->msms);
	free(g->device);
	free(g);
}

/* ---- reading -------------------------------------------------------------------------------- */

/* GSM_DateTime (with its zone in seconds) to unix seconds. */
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

static void to_part(struct gsm *g, const GSM_SMSMessage *m, struct gsm_part *p)
{
	memset(p, 0, sizeof(*p));
	p->folder = m->Folder;
	p->location = m->Location;
	p->kind = m->PDU == SMS_Deliver ? GSM_PART_DELIVER
	    : m->PDU == SMS_Status_Report ? GSM_PART_STATUS_REPORT : GSM_PART_OTHER;
	p->coding = m->Coding == SMS_Coding_8bit ? GSM_PART_8BIT
	    : (m->Coding == SMS_Coding_Default_No_Compression || m->Coding == SMS_Coding_Default_Compression)
	    ? GSM_PART_GSM7 : GSM_PART_UCS2;
	p->msg_class = m->Class;
	utf8_from_gammu(m->Number, p->sender, sizeof(p->sender));
	p->smsc_time = unix_time(m->PDU == SMS_Status_Report ? &m->SMSCTime : &m->DateTime);
	if (p->smsc_time == 0)
		p->smsc_time = unix_time(&m->DateTime);
	p->concat_ref = -1;
	p->concat_total = 1;
	p->concat_seq = 1;
	if ((m->UDH.Type == UDH_ConcatenatedMessages || m->UDH.Type == UDH_ConcatenatedMessages16bit ||
		m->UDH.ID8bit >= 0 || m->UDH.ID16bit >= 0) && m->UDH.AllParts > 1 && m->UDH.PartNumber >= 1) {
		p->concat_ref = m->UDH.ID16bit >= 0 ? m->UDH.ID16bit : m->UDH.ID8bit;
		p->concat_ref_bits = m->UDH.ID16bit >= 0 ? 16 : 8;
		p->concat_total = m->UDH.AllParts;
		p->concat_seq = m->UDH.PartNumber;
	}
	p->status_ref = p->kind == GSM_PART_STATUS_REPORT ? m->MessageReference : -1;
	p->delivery_status = p->kind == GSM_PART_STATUS_REPORT ? m->DeliveryStatus : -1;
	if (p->coding == GSM_PART_8BIT) {
		size_t n = m->Length > 0 ? (size_t)m->Length : 0;
		p->text = xmalloc(n * 2 + 1);
		for (size_t i = 0; i < n; i++)
			snprintf(p->text + i * 2, 3, "%02x", m->Text[i]);
		p->text[n * 2] = '\0';
		p->text_len = n * 2;
	} else if (p->coding == GSM_PART_UCS2 && m->Length > 0 && (size_t)m->Length > UnicodeLength(m->Text)) {
		size_t units = (size_t)m->Length;
		if (units > sizeof(m->Text) / 2 - 1)
			units = sizeof(m->Text) / 2 - 1;
		p->text = utf8_dup_units(m->Text, units, &p->text_len);
	} else {
		p->text = utf8_dup_from_gammu(m->Text, &p->text_len);
	}
	(void)g;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/*
 * The dummy driver finds messages by trying 10,000 file names per folder
 * (about 100 ms for an empty phone); its inbox folders are read with
 * readdir instead, then each message through libgammu.
 */
static int read_dummy(struct gsm *g, struct gsm_part *parts, size_t max, size_t *n)
{
	static const int folders[] = { 1, 3 };
	int *locs = NULL;
	size_t nlocs = 0, cap = 0;

	for (size_t f = 0; f < 2 && *n < max; f++) {
		char path[PATH_MAX];
		DIR *d;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s/sms/%d", g->device, folders[f]);
		d = opendir(path);
		if (d == NULL)
			continue;
		nlocs = 0;
		while ((e = readdir(d)) != NULL) {
			char *end;
			long v = strtol(e->d_name, &end, 10);
			if (*end != '\0' || v < 1 || v > DUMMY_LOCATIONS)
				continue;
			if (nlocs == cap) {
				cap = cap ? cap * 2 : 64;
				locs = xrealloc(locs, cap * sizeof(int));
			}
			locs[nlocs++] = (int)v;
		}
		closedir(d);
		if (nlocs > 1)
			qsort(locs, nlocs, sizeof(int), cmp_int);
		for (size_t i = 0; i < nlocs && *n < max; i++) {
			GSM_Error e2;
			memset(g->msms, 0, sizeof(*g->msms));
			g->msms->SMS[0].Folder = folders[f];
			g->msms->SMS[0].Location = locs[i];
			e2 = GSM_GetSMS(g->s, g->msms);
			if (e2 == ERR_EMPTY)
				continue; /* deleted meanwhile, or a half-written file that is not ours */
			if (e2 != ERR_NONE) {
				set_err(g, "reading message %d/%d: %s", folders[f], locs[i], GSM_ErrorString(e2));
				free(locs);
				return classify(e2) == GSM_NOCONN ? GSM_NOCONN : GSM_TEMPFAIL;
			}
			for (int k = 0; k < g->msms->Number && *n < max; k++)
				to_part(g, &g->msms->SMS[k], &parts[(*n)++]);
		}
	}
	free(locs);
	return GSM_OK;
}

static int read_phone(struct gsm *g, struct gsm_part *parts, size_t max, size_t *n)
{
	bool start = true;

	memset(g->msms, 0, sizeof(*g->msms));
	while (*n < max) {
		GSM_Error e = GSM_GetNextSMS(g->s, g->msms, start);
		start = false;
		if (e == ERR_EMPTY)
			break;
		if (e != ERR_NONE) {
			set_err(g, "reading the inbox: %s", GSM_ErrorString(e));
			return classify(e) == GSM_NOCONN ? GSM_NOCONN : GSM_TEMPFAIL;
		}
		for (int k = 0; k < g->msms->Number && *n < max; k++)
			if (g->msms->SMS[k].InboxFolder)
				to_part(g, &g->msms->SMS[k], &parts[(*n)++]);
	}
	return GSM_OK;
}

/* In the order they reached the message centre (SIM locations are reused out of order). */
static int cmp_part(const void *a, const void *b)
{
	const struct gsm_part *x = a, *y = b;

	if (x->smsc_time != y->smsc_time)
		return x->smsc_time < y->smsc_time ? -1 : 1;
	if (x->folder != y->folder)
		return x->folder - y->folder;
	return x->location < y->location ? -1 : x->location > y->location;
}

int gsm_read_inbox(struct gsm *g, struct gsm_part *parts, size_t max, size_t *n)
{
	int rc;

	*n = 0;
	if (!dummy_alive(g))
		return GSM_NOCONN;
	rc = g->dummy ? read_dummy(g, parts, max, n) : read_phone(g, parts, max, n);
	if (rc == GSM_OK && g->dummy && !dummy_alive(g))
		rc = GSM_NOCONN;
	if (*n > 1)
		qsort(parts, *n, sizeof(*parts), cmp_part);
	return rc;
}

void gsm_parts_free(struct gsm_part *parts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(parts[i].text);
		parts[i].text = NULL;
	}
}

int gsm_delete(struct gsm *g, const struct gsm_part *p)
{
	GSM_SMSMessage m;
	GSM_Error e;

	memset(&m, 0, sizeof(m));
	m.Folder = p->folder;
	m.Location = p->location;
	m.InboxFolder = TRUE;
	m.Memory = p->folder >= 3 ? MEM_ME : MEM_SM;
	e = GSM_DeleteSMS(g->s, &m);
	if (e == ERR_NONE || e == ERR_EMPTY)
		return GSM_OK;
	set_err(g, "deleting message %d/%d: %s", p->folder, p->location, GSM_ErrorString(e));
	return classify(e) == GSM_NOCONN ? GSM_NOCONN : GSM_TEMPFAIL;
}

/* ---- sending -------------------------------------------------------------------------------- */

static bool number_ok(const char *phone)
{
	size_t digits = 0;

	for (const char *p = phone; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (!(*p == '+' && p == phone))
			return false;
	}
	return digits >= 3 && digits <= 20;
}

/* CMS errors (3GPP TS 27.005 / 24.011) that no retry can fix. */
static bool cms_permanent(int code)
{
	switch (code) {
	case 1:   /* unassigned number */
	case 8:   /* operator determined barring */
	case 10:  /* call barred */
	case 21:  /* short message transfer rejected */
	case 27:  /* destination out of service */
	case 28:  /* unidentified subscriber */
	case 29:  /* facility rejected */
	case 30:  /* unknown subscriber */
	case 50:  /* requested facility not subscribed */
	case 96: case 97: case 98: case 99: /* invalid or unexpected message */
	case 111: /* protocol error */
	case 127: /* interworking */
		return true;
	default:
		return code >= 300 && code <= 305; /* ME failure / invalid PDU or text parameters */
	}
}

static int wait_send_status(struct gsm *g)
{
	int64_t deadline = mono_ms() + g->send_timeout_ms;

	while (g->send_status == -1 && mono_ms() < deadline)
		GSM_ReadDevice(g->s, TRUE);
	return g->send_status;
}

int gsm_send_text(struct gsm *g, const char *phone, const char *text, struct gsm_send_result *res)
{
	GSM_MultiPartSMSInfo info;
	unsigned char *u;
	GSM_Error e;

	memset(res, 0, sizeof(*res));
	res->msg_ref = -1;
	if (!number_ok(phone)) {
		snprintf(res->error, sizeof(res->error), "not a number to send to: \"%.40s\"", phone);
		set_err(g, "%s", res->error);
		return GSM_PERMFAIL;
	}
	if (!dummy_alive(g)) {
		snprintf(res->error, sizeof(res->error), "%.150s", g->err);
		return GSM_NOCONN;
	}
	u = gammu_from_utf8(text);
	GSM_ClearMultiPartSMSInfo(&info);
	info.EntriesNum = 1;
	info.UnicodeCoding = !sms_is_gsm7(text, strlen(text));
	info.Class = -1;
	info.Entries[0].ID = SMS_ConcatenatedTextLong;
	info.Entries[0].Buffer = u;
	memset(g->msms, 0, sizeof(*g->msms));
	e = GSM_EncodeMultiPartSMS(NULL, &info, g->msms);
	free(u);
	if (e != ERR_NONE || g->msms->Number < 1) {
		snprintf(res->error, sizeof(res->error), "cannot encode the text: %s", GSM_ErrorString(e));
		set_err(g, "%s", res->error);
		return GSM_PERMFAIL;
	}
	res->parts = g->msms->Number;
	for (int i = 0; i < g->msms->Number; i++) {
		GSM_SMSMessage *m = &g->msms->SMS[i];
		int status;

		m->PDU = SMS_Submit;
		EncodeUnicode(m->Number, phone, strlen(phone));
		if (g->have_smsc) {
			m->SMSC = g->smsc;
			m->SMSC.Location = 0;
		} else {
			m->SMSC.Location = 1;
		}
		g->send_status = -1;
		g->send_ref = -1;
		e = GSM_SendSMS(g->s, m);
		if (e != ERR_NONE) {
			snprintf(res->error, sizeof(res->error), "part %d of %d: %s", i + 1, res->parts, GSM_ErrorString(e));
			set_err(g, "%s", res->error);
			return classify(e) == GSM_NOCONN ? GSM_NOCONN : classify(e) == GSM_PERMFAIL ? GSM_PERMFAIL
												    : GSM_TEMPFAIL;
		}
		status = wait_send_status(g);
		if (status == -1) {
			snprintf(res->error, sizeof(res->error), "part %d of %d: no answer from the network in %d s", i + 1,
			    res->parts, g->send_timeout_ms / 1000);
			set_err(g, "%s", res->error);
			return GSM_NOCONN;
		}
		if (status != 0) {
			snprintf(res->error, sizeof(res->error), "part %d of %d: CMS ERROR %d", i + 1, res->parts, status);
			set_err(g, "%s", res->error);
			return cms_permanent(status) ? GSM_PERMFAIL : GSM_TEMPFAIL;
		}
		res->parts_sent++;
		res->msg_ref = g->send_ref;
	}
	return GSM_OK;
}

/* ---- USSD, status, calls, reset ------------------------------------------------------------ */

int gsm_ussd(struct gsm *g, const char *code, char *reply, size_t replylen, int timeout_ms)
{
	char buf[64];
	GSM_Error e;
	int64_t deadline;

	snprintf(buf, sizeof(buf), "%s", code);
	if (!dummy_alive(g))
		return GSM_NOCONN;
	g->ussd_done = false;
	g->ussd_reply[0] = '\0';
	e = GSM_SetIncomingUSSD(g->s, TRUE);
	if (e != ERR_NONE && e != ERR_NOTSUPPORTED && e != ERR_NOTIMPLEMENTED) {
		set_err(g, "cannot enable USSD replies: %s", GSM_ErrorString(e));
		return classify(e) == GSM_NOCONN ? GSM_NOCONN : GSM_TEMPFAIL;
	}
	e = GSM_DialService(g->s, buf);
	if (e != ERR_NONE) {
		set_err(g, "USSD %s: %s", code, GSM_ErrorString(e));
		return classify(e) == GSM_NOCONN ? GSM_NOCONN : classify(e);
	}
	deadline = mono_ms() + timeout_ms;
	while (!g->ussd_done && mono_ms() < deadline)
		GSM_ReadDevice(g->s, TRUE);
	if (!g->ussd_done) {
		set_err(g, "USSD %s: no answer in %d s", code, timeout_ms / 1000);
		return GSM_TEMPFAIL;
	}
	snprintf(reply, replylen, "%s", g->ussd_reply);
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
		st->signal_percent = sig.SignalPercent;
		st->signal_dbm = sig.SignalStrength;
	} else if (classify(e) == GSM_NOCONN) {
		set_err(g, "signal: %s", GSM_ErrorString(e));
		return GSM_NOCONN;
	}
	memset(&net, 0, sizeof(net));
	e = GSM_GetNetworkInfo(g->s, &net);
	if (e == ERR_NONE) {
		st->registered = net.State == GSM_HomeNetwork || net.State == GSM_RoamingNetwork;
		snprintf(st->network_code, sizeof(st->network_code), "%s", net.NetworkCode);
		utf8_from_gammu(net.NetworkName, st->network_name, sizeof(st->network_name));
	} else if (classify(e) == GSM_NOCONN) {
		set_err(g, "network: %s", GSM_ErrorString(e));
		return GSM_NOCONN;
	}
	memset(&bat, 0, sizeof(bat));
	e = GSM_GetBatteryCharge(g->s, &bat);
	if (e == ERR_NONE)
		st->battery_percent = bat.BatteryPercent;
	return GSM_OK;
}

int gsm_take_calls(struct gsm *g, char (*callers)[48], size_t max, size_t *n)
{
	GSM_SignalQuality sig;
	GSM_Error e;

	*n = 0;
	if (!dummy_alive(g))
		return GSM_NOCONN;
	/* any call lets the phone report what happened; for AT phones also read pending lines */
	if (!g->dummy)
		GSM_ReadDevice(g->s, FALSE);
	e = GSM_GetSignalQuality(g->s, &sig);
	if (e != ERR_NONE && classify(e) == GSM_NOCONN) {
		set_err(g, "%s", GSM_ErrorString(e));
		return GSM_NOCONN;
	}
	for (size_t i = 0; i < g->ncalls && *n < max; i++)
		snprintf(callers[(*n)++], 48, "%s", g->calls[i]);
	g->ncalls = 0;
	return GSM_OK;
}

int gsm_reset(struct gsm *g, bool hard)
{
	GSM_Error e = GSM_Reset(g->s, hard ? TRUE : FALSE);

	if (e == ERR_NONE)
		return GSM_OK;
	set_err(g, "%s reset: %s", hard ? "hard" : "soft", GSM_ErrorString(e));
	return classify(e) == GSM_NOCONN ? GSM_NOCONN : GSM_TEMPFAIL;
}

/* ---- the dummy phone's inbox, for tests and tools ------------------------------------------- */

void gsm_inject_defaults(struct gsm_inject_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->concat_ref = -1;
	o->msg_class = -1;
}

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

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s%s", dir, subs[i]);
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The location after the highest one in use: new messages sort after the waiting ones. */
static int next_location(const char *dir)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;
	long max = 0;

	snprintf(path, sizeof(path), "%s/sms/1", dir);
	d = opendir(path);
	if (d == NULL)
		return 1;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long v = strtol(e->d_name, &end, 10);
		if (*end == '\0' && v > max && v <= DUMMY_LOCATIONS)
			max = v;
	}
	closedir(d);
	return max >= DUMMY_LOCATIONS ? 1 : (int)max + 1;
}

/* Write one part to a temp file with libgammu, then link it into the inbox under a free location. */
static int place(const char *dir, GSM_SMSMessage *m, char *err, size_t errlen)
{
	static unsigned counter;
	char tmp[PATH_MAX], dst[PATH_MAX];
	GSM_SMS_Backup *backup = calloc(1, sizeof(*backup));
	GSM_Error e;
	int loc;

	if (backup == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s/.inject-%d-%u-%ld", dir, (int)getpid(), counter++, (long)mono_ms());
	unlink(tmp);
	backup->SMS[0] = m;
	backup->SMS[1] = NULL;
	e = GSM_AddSMSBackupFile(tmp, backup);
	free(backup);
	if (e != ERR_NONE) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, GSM_ErrorString(e));
		unlink(tmp);
		return -1;
	}
	loc = next_location(dir);
	for (int tries = 0; tries < DUMMY_LOCATIONS; tries++, loc = loc % DUMMY_LOCATIONS + 1) {
		snprintf(dst, sizeof(dst), "%s/sms/1/%d", dir, loc);
		if (link(tmp, dst) == 0) {
			unlink(tmp);
			return 0;
		}
		if (errno != EEXIST) {
			snprintf(err, errlen, "cannot place %s: %s", dst, strerror(errno));
			unlink(tmp);
			return -1;
		}
	}
	snprintf(err, errlen, "the dummy phone's inbox %s/sms/1 is full", dir);
	unlink(tmp);
	return -1;
}

static void patch_ref(GSM_SMSMessage *m, int ref, bool ref16)
{
	/* the concatenation element: 00 03 ref total seq, or 08 04 refhi reflo total seq */
	for (int i = 1; i + 2 < m->UDH.Length; i += 2 + m->UDH.Text[i + 1]) {
		if (!ref16 && m->UDH.Text[i] == 0x00 && m->UDH.Text[i + 1] == 3) {
			m->UDH.Text[i + 2] = (unsigned char)(ref & 0xFF);
			m->UDH.ID8bit = ref & 0xFF;
		} else if (ref16 && m->UDH.Text[i] == 0x08 && m->UDH.Text[i + 1] == 4) {
			m->UDH.Text[i + 2] = (unsigned char)((ref >> 8) & 0xFF);
			m->UDH.Text[i + 3] = (unsigned char)(ref & 0xFF);
			m->UDH.ID16bit = ref & 0xFFFF;
		}
	}
}

int gsm_dummy_inject(const char *dir, const char *sender, const char *text, const struct gsm_inject_opts *o,
    int *parts_written, char *err, size_t errlen)
{
	GSM_MultiSMSMessage *msms;
	GSM_MultiPartSMSInfo info;
	unsigned char *u = NULL;
	int64_t t = o->smsc_time ? o->smsc_time : (int64_t)time(NULL);
	int rc = GSM_OK, ref = o->concat_ref;
	GSM_Error e;

	*parts_written = 0;
	if (mkdirs(dir, err, errlen) < 0)
		return GSM_TEMPFAIL;
	msms = calloc(1, sizeof(*msms));
	if (msms == NULL) {
		snprintf(err, errlen, "out of memory");
		return GSM_TEMPFAIL;
	}
	if (o->binary || o->status_report) {
		GSM_SMSMessage *m = &msms->SMS[0];
		size_t n = strlen(text);
		msms->Number = 1;
		GSM_SetDefaultReceivedSMSData(m);
		if (o->status_report) {
			m->PDU = SMS_Status_Report;
			m->Coding = SMS_Coding_Default_No_Compression;
			m->DeliveryStatus = 0;
			m->MessageReference = 42;
			datetime_of(t, &m->SMSCTime);
		} else {
			if (n > 140)
				n = 140;
			m->Coding = SMS_Coding_8bit;
			memcpy(m->Text, text, n);
			m->Length = (int)n;
		}
	} else {
		u = gammu_from_utf8(text);
		GSM_ClearMultiPartSMSInfo(&info);
		info.EntriesNum = 1;
		info.UnicodeCoding = o->force_ucs2 || !sms_is_gsm7(text, strlen(text));
		info.Class = o->msg_class;
		info.Entries[0].ID = o->ref16 ? SMS_ConcatenatedTextLong16bit : SMS_ConcatenatedTextLong;
		info.Entries[0].Buffer = u;
		e = GSM_EncodeMultiPartSMS(NULL, &info, msms);
		if (e != ERR_NONE || msms->Number < 1) {
			snprintf(err, errlen, "cannot encode the text (too long for %d parts?): %s", GSM_MAX_MULTI_SMS,
			    GSM_ErrorString(e));
			rc = GSM_TEMPFAIL;
			goto out;
		}
	}
	if (ref < 0) {
		srand((unsigned)(mono_ms() ^ getpid()));
		ref = o->ref16 ? rand() % 65536 : rand() % 256;
	}
	for (int k = 0; k < msms->Number; k++) {
		int i = o->reverse ? msms->Number - 1 - k : k;
		GSM_SMSMessage *m = &msms->SMS[i];

		if (i < 32 && (o->skip_parts & (1u << i)))
			continue;
		if (!o->status_report)
			m->PDU = SMS_Deliver;
		m->State = SMS_UnRead;
		m->Folder = 1;
		m->InboxFolder = TRUE;
		m->Memory = MEM_SM;
		m->Location = 0;
		if (o->msg_class >= 0)
			m->Class = (signed char)o->msg_class;
		EncodeUnicode(m->Number, sender, strlen(sender));
		EncodeUnicode(m->SMSC.Number, INJECT_SMSC, strlen(INJECT_SMSC));
		/* parts reach the message centre about a second apart */
		datetime_of(t + i, &m->DateTime);
		if (msms->Number > 1)
			patch_ref(m, ref, o->ref16);
		if (place(dir, m, err, errlen) < 0) {
			rc = GSM_TEMPFAIL;
			goto out;
		}
		(*parts_written)++;
	}
out:
	free(u);
	free(msms);
	return rc;
}
