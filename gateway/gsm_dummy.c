/*
 * gsm_dummy: Gammu's dummy phone (a folder of SMS backup files) as the tests
 * and tools use it: whether its folder is still there, its inbox read by
 * directory listing, and the injection of messages into it through
 * libgammu's own encoder and backup writer (hotlinectl dummy, the tests).
 * Declared in gsm.h (injection) and gsm_int.h (for gsm.c).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gammu.h>

#include "gsm_int.h"
#include "log.h"
#include "smstext.h"
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

#define BINARY_SINGLE 140 /* bytes of 8-bit data in a lone SMS */
#define BINARY_PART 134   /* ... and next to a 6-byte concatenation header */

/* ---- the dummy phone's folder ------------------------------------------------------------- */

/* The dummy driver reports an empty inbox for a folder that is gone: look ourselves. */
bool gsm_dummy_alive(struct gsm *g)
{
	char path[PATH_MAX];
	struct stat st;

	if (!g->dummy)
		return true;
	snprintf(path, sizeof(path), "%s/sms/1", g->device);
	errno = 0;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode) || access(path, R_OK | W_OK | X_OK) < 0) {
		gsm_set_err(
		    g, "the dummy phone's folder %s cannot be used: %s", path, strerror(errno ? errno : ENOTDIR));
		return false;
	}
	return true;
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
 * The dummy driver finds messages by trying every file name (10,000 per
 * folder, 50,000 for an empty phone, about 80 ms); its inbox folders (1:
 * SIM, 3: phone) are listed with readdir instead, and each message read
 * through libgammu.
 */
int gsm_dummy_read(struct gsm *g, struct gsm_part *parts, size_t max, size_t *n)
{
	static const int inbox_folders[] = { 1, 3 };
	int *locs = NULL, unreadable = 0, rc = GSM_OK;
	size_t nlocs = 0, cap = 0;
	bool more = true;

	for (size_t f = 0; f < ARRAY_LEN(inbox_folders) && more && rc == GSM_OK; f++) {
		int folder = inbox_folders[f];

		if (dummy_list(g, folder, &locs, &nlocs, &cap) < 0) {
			gsm_set_err(g, "the dummy phone's folder %s/sms/%d cannot be read: %s", g->device, folder,
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
			if (gsm_classify(e) == GSM_NOCONN) {
				gsm_set_err(g, "reading message %d/%d: %s", folder, locs[i], GSM_ErrorString(e));
				rc = GSM_NOCONN;
				break;
			}
			if (e != ERR_NONE || g->msms->Number < 1) {
				unreadable++; /* not an SMS backup file libgammu can read: leave it */
				continue;
			}
			more = gsm_take_parts(g, parts, max, n);
		}
	}
	free(locs);
	if (unreadable != g->unreadable && unreadable > 0)
		log_warnx(TAG, "%s: %d file(s) in %s/sms are not messages libgammu can read; left alone", g->name,
		    unreadable, g->device);
	g->unreadable = unreadable;
	return rc;
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

static int encode_inject_text(
    const char *text, const struct gsm_inject_opts *o, GSM_MultiSMSMessage *msms, char *err, size_t errlen)
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
	u = gsm_from_utf8(text, len);
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
		snprintf(err, errlen,
		    "libgammu's encoder took %zu of %zu characters (at most %d parts, %d GSM-7 septets): %s", units,
		    want, ENCODER_MAX_PARTS, ENCODER_MAX_SEPTETS, GSM_ErrorString(e));
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
	ref = o->concat_ref >= 0 ? o->concat_ref % (o->ref16 ? 65536 : 256) : gsm_random_ref(o->ref16, text);
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
	usender = gsm_from_utf8(sender, strlen(sender));
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
