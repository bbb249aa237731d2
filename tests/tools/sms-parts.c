/*
 * sms-parts: put one inbound SMS of any shape into a dummy phone's inbox,
 * part by part, each part built by libgammu (GSM_AddSMSBackupFile). Where
 * `hotlinectl dummy-sms` goes through libgammu's encoder (valid text, at
 * most 50 parts), this writes what a network could deliver and the encoder
 * would not make: up to 255 parts, UCS-2 code units that are not valid text
 * (lone surrogates, U+0000), 8-bit data with NUL bytes, empty parts.
 *
 *   sms-parts [-c ucs2|gsm7|8bit] [-x] [-f] [-n PARTS] [-t TIME] [-r REF] [-R] DIR SENDER TEXT
 *
 *   -c CODING  ucs2 (default); gsm7 (the text is marked GSM 7-bit; the dummy
 *              phone keeps it as characters); 8bit (data)
 *   -x         TEXT is hex: 4 digits per UCS-2 code unit (ucs2, gsm7) or 2
 *              per byte (8bit)
 *   -f         TEXT names a file holding it ("-": standard input)
 *   -n PARTS   how many parts (1..255); default: as few as the text fits in
 *   -t TIME    SMSC time of part 1 in unix seconds (default: now); part i
 *              reaches the message centre i-1 seconds later
 *   -r REF     8-bit concatenation reference (default: random)
 *   -R         place the parts last first
 *
 * Each part is written to a temporary file and linked into DIR/sms/1 under
 * a free location, so a daemon reading the phone never sees half a file.
 * Prints the parts written. Exit 0, 1 on a failure, 2 on bad usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gammu.h>

#define MAX_PARTS 255
#define MAX_LOCATIONS 9999 /* the dummy driver's sms/<folder>/1..9999 */
#define SMSC_NUMBER "+8613800100500"

enum coding { C_UCS2, C_GSM7, C_8BIT };

static void usage(void)
{
	fprintf(stderr, "usage: sms-parts [-c ucs2|gsm7|8bit] [-x] [-f] [-n PARTS] [-t TIME] [-r REF] [-R] DIR SENDER TEXT\n");
	exit(2);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex digits (spaces ignored) to bytes; returns the count or -1. */
static long unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v = hexval((unsigned char)*s);
		if (*s == ' ' || *s == '\n')
			continue;
		if (v < 0)
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == max)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? (long)n : -1;
}

static char *slurp(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	size_t got;

	if (f == NULL || buf == NULL) {
		perror(path);
		exit(1);
	}
	while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (len + 1 == cap && (buf = realloc(buf, cap *= 2)) == NULL)
			exit(1);
	}
	buf[len] = '\0';
	if (f != stdin)
		fclose(f);
	return buf;
}

/* The location after the highest one in use in DIR/sms/1 (new parts sort after waiting ones). */
static int first_free(const char *dir)
{
	char path[4200];
	int loc = 1;

	for (int i = 1; i <= MAX_LOCATIONS; i++) {
		snprintf(path, sizeof(path), "%s/sms/1/%d", dir, i);
		if (access(path, F_OK) == 0)
			loc = i + 1;
	}
	return loc > MAX_LOCATIONS ? 1 : loc;
}

static int place(const char *dir, GSM_SMSMessage *m, int *loc)
{
	char tmp[4200], dst[4200];
	GSM_SMS_Backup *backup = calloc(1, sizeof(*backup));
	GSM_Error e;

	if (backup == NULL)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s/.sms-parts-%d", dir, (int)getpid());
	unlink(tmp);
	backup->SMS[0] = m;
	e = GSM_AddSMSBackupFile(tmp, backup);
	free(backup);
	if (e != ERR_NONE) {
		fprintf(stderr, "sms-parts: cannot write %s: %s\n", tmp, GSM_ErrorString(e));
		return -1;
	}
	for (int tries = 0; tries < MAX_LOCATIONS; tries++, *loc = *loc % MAX_LOCATIONS + 1) {
		snprintf(dst, sizeof(dst), "%s/sms/1/%d", dir, *loc);
		if (link(tmp, dst) == 0) {
			unlink(tmp);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	fprintf(stderr, "sms-parts: cannot place a part in %s/sms/1: %s\n", dir, strerror(errno));
	unlink(tmp);
	return -1;
}

static void datetime_of(time_t t, GSM_DateTime *dt)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	memset(dt, 0, sizeof(*dt));
	dt->Year = tm.tm_year + 1900;
	dt->Month = tm.tm_mon + 1;
	dt->Day = tm.tm_mday;
	dt->Hour = tm.tm_hour;
	dt->Minute = tm.tm_min;
	dt->Second = tm.tm_sec;
}

int main(int argc, char **argv)
{
	enum coding coding = C_UCS2;
	bool hex = false, from_file = false, reverse = false;
	long parts = 0, ref = -1;
	time_t t0 = time(NULL);
	const char *dir, *sender;
	char *text, *payload;
	unsigned char *units; /* UCS-2 big-endian pairs, or bytes for 8bit */
	long nunits, per, cap;
	size_t width;
	int ch, loc;
	GSM_SMSMessage *m;

	while ((ch = getopt(argc, argv, "c:xfn:t:r:R")) != -1) {
		switch (ch) {
		case 'c':
			coding = strcmp(optarg, "ucs2") == 0 ? C_UCS2 : strcmp(optarg, "gsm7") == 0 ? C_GSM7
			    : strcmp(optarg, "8bit") == 0 ? C_8BIT : (usage(), C_UCS2);
			break;
		case 'x':
			hex = true;
			break;
		case 'f':
			from_file = true;
			break;
		case 'n':
			parts = strtol(optarg, NULL, 10);
			if (parts < 1 || parts > MAX_PARTS)
				usage();
			break;
		case 't':
			t0 = (time_t)strtoll(optarg, NULL, 10);
			break;
		case 'r':
			ref = strtol(optarg, NULL, 10);
			if (ref < 0 || ref > 255)
				usage();
			break;
		case 'R':
			reverse = true;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3)
		usage();
	dir = argv[optind];
	sender = argv[optind + 1];
	text = from_file ? slurp(argv[optind + 2]) : strdup(argv[optind + 2]);
	payload = text;

	/* the whole message as code units (2 bytes each) or bytes */
	width = coding == C_8BIT ? 1 : 2;
	units = calloc(strlen(payload) * 2 + 4, 1);
	if (units == NULL)
		return 1;
	if (hex) {
		nunits = unhex(payload, units, strlen(payload) * 2 + 2);
		if (nunits < 0 || nunits % (long)width != 0) {
			fprintf(stderr, "sms-parts: TEXT is not hex of whole %s\n", width == 1 ? "bytes" : "code units");
			return 2;
		}
		nunits /= (long)width;
	} else if (coding == C_8BIT) {
		nunits = (long)strlen(payload);
		memcpy(units, payload, (size_t)nunits);
	} else {
		DecodeUTF8(units, payload, strlen(payload));
		nunits = (long)UnicodeLength(units);
	}

	/* what one part holds next to a 6-byte concatenation header */
	cap = coding == C_8BIT ? 134 : coding == C_GSM7 ? 153 : 67;
	if (parts == 0)
		parts = nunits <= (coding == C_8BIT ? 140 : coding == C_GSM7 ? 160 : 70) ? 1 : (nunits + cap - 1) / cap;
	if (parts > MAX_PARTS) {
		fprintf(stderr, "sms-parts: %ld parts needed, at most %d\n", parts, MAX_PARTS);
		return 2;
	}
	per = (nunits + parts - 1) / parts; /* parts share the units evenly: part i is [i*n/parts, (i+1)*n/parts) */
	if (per > (parts == 1 ? cap + (coding == C_8BIT ? 6 : coding == C_GSM7 ? 7 : 3) : cap)) {
		fprintf(stderr, "sms-parts: %ld units in %ld parts: %ld a part, more than fits\n", nunits, parts, per);
		return 2;
	}
	if (ref < 0) {
		srand((unsigned)(time(NULL) ^ getpid()));
		ref = rand() % 256;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	{
		static const char *const subs[] = { "sms", "sms/1", "sms/2", "sms/3", "sms/4", "sms/5" };
		char path[4200];
		for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, subs[i]);
			if (mkdir(path, 0700) < 0 && errno != EEXIST) {
				perror(path);
				return 1;
			}
		}
	}

	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return 1;
	loc = first_free(dir);
	for (long k = 0; k < parts; k++) {
		long i = reverse ? parts - 1 - k : k;
		long off = i * nunits / parts, n = (i + 1) * nunits / parts - off;

		GSM_SetDefaultReceivedSMSData(m);
		m->PDU = SMS_Deliver;
		m->State = SMS_UnRead;
		m->Folder = 1;
		m->InboxFolder = TRUE;
		m->Memory = MEM_SM;
		m->Location = 0;
		m->Class = -1;
		m->Coding = coding == C_8BIT ? SMS_Coding_8bit
		    : coding == C_GSM7 ? SMS_Coding_Default_No_Compression : SMS_Coding_Unicode_No_Compression;
		EncodeUnicode(m->Number, sender, strlen(sender));
		EncodeUnicode(m->SMSC.Number, SMSC_NUMBER, strlen(SMSC_NUMBER));
		datetime_of(t0 + (time_t)i, &m->DateTime);
		memset(m->Text, 0, sizeof(m->Text));
		memcpy(m->Text, units + (size_t)off * width, (size_t)n * width);
		m->Length = (int)n;
		m->UDH.Type = UDH_NoUDH;
		m->UDH.Length = 0;
		if (parts > 1) {
			m->UDH.Type = UDH_ConcatenatedMessages;
			m->UDH.Length = 6;
			m->UDH.Text[0] = 0x05;
			m->UDH.Text[1] = 0x00;
			m->UDH.Text[2] = 0x03;
			m->UDH.Text[3] = (unsigned char)ref;
			m->UDH.Text[4] = (unsigned char)parts;
			m->UDH.Text[5] = (unsigned char)(i + 1);
			m->UDH.ID8bit = (int)ref;
			m->UDH.AllParts = (int)parts;
			m->UDH.PartNumber = (int)(i + 1);
		}
		if (place(dir, m, &loc) < 0)
			return 1;
	}
	printf("%ld\n", parts);
	free(m);
	free(units);
	free(text);
	return 0;
}
