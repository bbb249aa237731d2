/*
 * gsm_conv: libgammu's values as ours, for gsm.c and gsm_dummy.c (see
 * gsm_int.h): what an error means, text, times, and one message read as a
 * struct gsm_part.
 *
 * Text crosses this boundary as UTF-8. Outbound text goes to libgammu's
 * UCS-2 buffers through DecodeUTF8 (after invalid bytes became U+FFFD: that
 * function stops at the first one). Inbound text comes back through our own
 * gsm_utf16_to_utf8(): EncodeUTF8 joins surrogate pairs, but writes a lone
 * surrogate as CESU bytes (invalid UTF-8) and stops at U+0000.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gammu.h>

#include "gsm_int.h"
#include "utf8.h"
#include "util.h"

void gsm_set_err(struct gsm *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g->err, sizeof(g->err), fmt, ap);
	va_end(ap);
}

/* ---- errors ------------------------------------------------------------------------------ */

/*
 * What a libgammu error means to the caller: the phone is gone (NOCONN), the
 * request can never work (PERMFAIL), or it may work later (TEMPFAIL).
 */
int gsm_classify(GSM_Error e)
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

/* ---- text ---------------------------------------------------------------------------------- */

/*
 * UTF-16 big-endian code units (libgammu's "unicode" buffers) u[0..n) to
 * UTF-8 in out (outlen > 0 bytes, NUL-terminated), whole characters only:
 * 3 * n + 1 bytes always suffice. A surrogate pair becomes one character, a
 * lone surrogate U+FFFD, U+0000 a NUL byte. Returns the bytes written.
 */
size_t gsm_utf16_to_utf8(const unsigned char *u, size_t n, char *out, size_t outlen)
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
void gsm_to_cstr(const unsigned char *u, char *out, size_t outlen)
{
	gsm_utf16_to_utf8(u, UnicodeLength(u), out, outlen);
}

/* A UTF-8 text as a libgammu buffer (caller frees); invalid bytes become U+FFFD. */
unsigned char *gsm_from_utf8(const char *s, size_t len)
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

/* ---- one message read ---------------------------------------------------------------------- */

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
	p->kind = m->PDU == SMS_Deliver   ? GSM_PART_DELIVER
	    : m->PDU == SMS_Status_Report ? GSM_PART_STATUS_REPORT
					  : GSM_PART_OTHER;
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
	gsm_to_cstr(m->Number, p->sender, sizeof(p->sender));
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
		p->text_len = gsm_utf16_to_utf8(m->Text, n, p->text, n * 3 + 1);
	}
}

/*
 * Take the parts libgammu just read into g->msms, unless they do not all
 * fit (then nothing: the parts of one location are deleted together).
 * Returns false when the caller should stop reading.
 */
bool gsm_take_parts(struct gsm *g, struct gsm_part *parts, size_t max, size_t *n)
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

/* ---- references --------------------------------------------------------------------------- */

/* A reference nobody else is likely to use at the same moment. */
int gsm_random_ref(bool ref16, const char *text)
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
