/*
 * gsm: the libgammu wrapper on Gammu's dummy driver (a phone in a folder),
 * each test in a fresh mkdtemp folder.
 *
 * Inbound: what gsm_dummy_inject() writes through libgammu's encoder and
 * backup writer comes back through gsm_read_inbox() unchanged (GSM-7,
 * UCS-2, emoji, concatenation with 8- and 16-bit references, class 0,
 * 8-bit data, status reports, SMSC time in any local time zone), only the
 * inbox folders are read, by folder listing and by GSM_GetNextSMS alike, a
 * phone whose folder is gone answers GSM_NOCONN. Outbound: the part counts
 * on both sides of every limit and what the parts hold, invalid numbers,
 * the network's answers. USSD, calls, status, reset. Costs are measured and
 * printed.
 *
 * The test includes gsm.c, gsm_conv.c and gsm_dummy.c themselves (curl's
 * UNITTEST idea): a few checks look inside the handle (the parts libgammu
 * encoded, the read path, the call queue) and at static helpers. So this
 * file sees <gammu.h>; nothing else outside gsm*.c does.
 */
#include "gsm.c"
#include "gsm_conv.c"
#include "gsm_dummy.c"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "utf8.h"

#define MAXP 512

struct fx {
	char dir[128];
	struct gsm *g;
	struct gsm_part parts[MAXP];
	size_t n;
};

/* ---- helpers --------------------------------------------------------------------------------- */

static char *rep(const char *s, size_t n)
{
	size_t l = strlen(s);
	char *out = malloc(l * n + 1);

	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * l, s, l);
	out[l * n] = '\0';
	return out;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct gsm *open_dummy(const char *dir)
{
	struct gsm_settings st;
	struct gsm *g = NULL;
	char err[256];

	memset(&st, 0, sizeof(st));
	st.name = "t0";
	st.device = dir;
	st.connection = "none";
	st.model = "dummy";
	st.send_timeout_ms = 2000;
	if (gsm_open(&st, &g, err, sizeof(err)) != GSM_OK) {
		fprintf(stderr, "gsm_open: %s\n", err);
		return NULL;
	}
	return g;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-gsm-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->g = open_dummy(f->dir);
	if (f->g == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	char away[160];

	gsm_parts_free(f->parts, f->n);
	gsm_close(f->g);
	rm_rf(f->dir);
	snprintf(away, sizeof(away), "%s.away", f->dir); /* left by a test that failed half-way */
	rm_rf(away);
	free(f);
	return 0;
}

static int inject(struct fx *f, const char *sender, const char *text, const struct gsm_inject_opts *o)
{
	struct gsm_inject_opts def;
	char err[256];
	int parts = -1;

	if (o == NULL) {
		gsm_inject_defaults(&def);
		o = &def;
	}
	if (gsm_dummy_inject(f->dir, sender, text, o, &parts, err, sizeof(err)) != GSM_OK)
		fail_msg("gsm_dummy_inject: %s", err);
	return parts;
}

/* Read the inbox into f->parts (freeing what was there); asserts GSM_OK. */
static size_t read_all(struct fx *f, size_t max)
{
	gsm_parts_free(f->parts, f->n);
	f->n = 0;
	assert_int_equal(gsm_read_inbox(f->g, f->parts, max, &f->n), GSM_OK);
	return f->n;
}

/* Read the inbox and return what gsm_read_inbox() returned. */
static int read_rc(struct fx *f)
{
	gsm_parts_free(f->parts, f->n);
	f->n = 99;
	return gsm_read_inbox(f->g, f->parts, MAXP, &f->n);
}

static void delete_all(struct fx *f)
{
	for (size_t i = 0; i < f->n; i++)
		assert_int_equal(gsm_delete(f->g, &f->parts[i]), GSM_OK);
}

/* The part with concatenation sequence number seq. */
static const struct gsm_part *part_seq(const struct fx *f, int seq)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->parts[i].concat_seq == seq)
			return &f->parts[i];
	fail_msg("no part %d", seq);
	return NULL;
}

static int count_files(const char *dir, int folder)
{
	char path[256];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/sms/%d", dir, folder);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(fp);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void touch(const char *dir, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One text through inject and read: returns the lone part (asserted lone). */
static const struct gsm_part *roundtrip(struct fx *f, const char *sender, const char *text,
    const struct gsm_inject_opts *o)
{
	assert_int_equal(inject(f, sender, text, o), 1);
	assert_int_equal(read_all(f, MAXP), 1);
	return &f->parts[0];
}

/* ---- inbound: round trips -------------------------------------------------------------------- */

static void test_roundtrip_gsm7(void **state)
{
	struct fx *f = *state;
	static const char text[] = "Hello {world} 5\xE2\x82\xAC @home_[x]~|^\\ \xC3\xA9\xC3\xA0\xC3\xBC \xCE\x94 ok";
	struct gsm_inject_opts o;
	const struct gsm_part *p;

	gsm_inject_defaults(&o);
	o.smsc_time = 1764300000;
	p = roundtrip(f, "+8613800138000", text, &o);
	assert_int_equal(p->kind, GSM_PART_DELIVER);
	assert_int_equal(p->coding, GSM_PART_GSM7);
	assert_string_equal(p->text, text);
	assert_int_equal(p->text_len, strlen(text));
	assert_string_equal(p->sender, "+8613800138000");
	assert_int_equal(p->smsc_time, 1764300000);
	assert_int_equal(p->msg_class, -1);
	assert_int_equal(p->concat_ref, -1);
	assert_int_equal(p->concat_ref_bits, 0);
	assert_int_equal(p->concat_total, 1);
	assert_int_equal(p->concat_seq, 1);
	assert_int_equal(p->status_ref, -1);
	assert_int_equal(p->delivery_status, -1);
	assert_int_equal(p->folder, 1);
	assert_int_equal(p->location, 1 * DUMMY_FOLDER_SPAN + 1);
}

static void test_roundtrip_ucs2_chinese(void **state)
{
	struct fx *f = *state;
	static const char text[] = "我想问问低保咋申请，谢谢！";
	const struct gsm_part *p = roundtrip(f, "13700000001", text, NULL);

	assert_int_equal(p->coding, GSM_PART_UCS2);
	assert_string_equal(p->text, text);
	assert_int_equal(p->text_len, strlen(text));
	assert_string_equal(p->sender, "13700000001");
	assert_int_equal(p->concat_ref, -1);
}

static void test_roundtrip_emoji(void **state)
{
	struct fx *f = *state;
	static const char text[] = "😀低保👍🏽怎么申请🙏🇨🇳";
	const struct gsm_part *p = roundtrip(f, "13700000002", text, NULL);

	assert_int_equal(p->coding, GSM_PART_UCS2);
	assert_string_equal(p->text, text);
	assert_true(utf8_valid(p->text, p->text_len));
}

/* U+0000 inside a UCS-2 text (a network may send it) keeps what follows it. */
static void test_nul_in_ucs2(void **state)
{
	struct fx *f = *state;
	GSM_SMSMessage *m = calloc(1, sizeof(*m));
	char err[256];
	int loc = 1;

	assert_non_null(m);
	GSM_SetDefaultReceivedSMSData(m);
	m->PDU = SMS_Deliver;
	m->State = SMS_UnRead;
	m->Folder = 1;
	m->Class = -1;
	m->Coding = SMS_Coding_Unicode_No_Compression;
	memcpy(m->Text, "\x4F\x4E\x4F\xDD\x00\x00\x75\x33\x8B\xF7", 10); /* 低保 U+0000 申请 */
	m->Length = 5;
	EncodeUnicode(m->Number, "13700000505", 11);
	datetime_of(1764300000, &m->DateTime);
	assert_int_equal(place(f->dir, m, &loc, err, sizeof(err)), 0);
	free(m);
	assert_int_equal(read_all(f, MAXP), 1);
	assert_int_equal(f->parts[0].text_len, 13);
	assert_memory_equal(f->parts[0].text, "低保\0申请", 13);
}

/* An alphanumeric sender in Chinese comes back as it went. */
static void test_roundtrip_named_sender(void **state)
{
	struct fx *f = *state;
	const struct gsm_part *p = roundtrip(f, "中国银行", "Balance 100", NULL);

	assert_string_equal(p->sender, "中国银行");
	assert_string_equal(p->text, "Balance 100");
}

static void test_roundtrip_force_ucs2(void **state)
{
	struct fx *f = *state;
	struct gsm_inject_opts o;
	const struct gsm_part *p;

	gsm_inject_defaults(&o);
	o.force_ucs2 = true;
	p = roundtrip(f, "13700000003", "plain ascii", &o);
	assert_int_equal(p->coding, GSM_PART_UCS2);
	assert_string_equal(p->text, "plain ascii");
}

/* Three UCS-2 parts: linked by reference, total and sequence; the same sender; whole in order. */
static void test_multipart_chinese(void **state)
{
	struct fx *f = *state;
	char *text = rep("低保申请", 40); /* 160 characters: 3 parts of at most 67 */
	struct gsm_inject_opts o;
	struct buf joined = { 0 };

	gsm_inject_defaults(&o);
	o.concat_ref = 77;
	o.smsc_time = 1764300100;
	assert_int_equal(inject(f, "13700000004", text, &o), 3);
	assert_int_equal(read_all(f, MAXP), 3);
	for (int seq = 1; seq <= 3; seq++) {
		const struct gsm_part *p = part_seq(f, seq);
		assert_int_equal(p->concat_ref, 77);
		assert_int_equal(p->concat_ref_bits, 8);
		assert_int_equal(p->concat_total, 3);
		assert_int_equal(p->coding, GSM_PART_UCS2);
		assert_string_equal(p->sender, "13700000004");
		assert_int_equal(p->smsc_time, 1764300100);
		assert_true(utf8_chars(p->text, p->text_len) <= SMS_UCS2_PART);
		buf_add(&joined, p->text, p->text_len);
	}
	assert_string_equal(buf_str(&joined), text);
	buf_free(&joined);

	/* a random reference is still one reference for all parts */
	delete_all(f);
	assert_int_equal(inject(f, "13700000004", text, NULL), 3);
	assert_int_equal(read_all(f, MAXP), 3);
	assert_int_equal(f->parts[1].concat_ref, f->parts[0].concat_ref);
	assert_int_equal(f->parts[2].concat_ref, f->parts[0].concat_ref);
	assert_in_range(f->parts[0].concat_ref, 0, 255);
	free(text);
}

static void test_multipart_ref16(void **state)
{
	struct fx *f = *state;
	char *text = rep("abcdefghij", 20); /* 200 septets: 2 parts */
	struct gsm_inject_opts o;

	gsm_inject_defaults(&o);
	o.ref16 = true;
	o.concat_ref = 0xBEEF;
	assert_int_equal(inject(f, "13700000005", text, &o), 2);
	assert_int_equal(read_all(f, MAXP), 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(f->parts[i].concat_ref, 0xBEEF);
		assert_int_equal(f->parts[i].concat_ref_bits, 16);
		assert_int_equal(f->parts[i].concat_total, 2);
		assert_int_equal(f->parts[i].coding, GSM_PART_GSM7);
	}
	assert_int_equal(part_seq(f, 1)->text_len + part_seq(f, 2)->text_len, 200);
	/* a 7-byte header (16-bit reference) leaves 152 septets, not 153 */
	assert_int_equal(part_seq(f, 1)->text_len, 152);
	free(text);
}

static void test_flash_and_class(void **state)
{
	struct fx *f = *state;
	struct gsm_inject_opts o;
	const struct gsm_part *p;

	gsm_inject_defaults(&o);
	o.msg_class = 0;
	p = roundtrip(f, "13700000006", "flash!", &o);
	assert_int_equal(p->msg_class, 0);
	assert_string_equal(p->text, "flash!");
	delete_all(f);
	o.msg_class = 1;
	p = roundtrip(f, "13700000006", "class one", &o);
	assert_int_equal(p->msg_class, 1);
}

static void test_binary(void **state)
{
	struct fx *f = *state;
	struct gsm_inject_opts o;
	const struct gsm_part *p;
	char data[301], want[603];
	struct buf joined = { 0 };

	gsm_inject_defaults(&o);
	o.binary = true;
	p = roundtrip(f, "10086", "\x01\x02" "AB\xff", &o);
	assert_int_equal(p->coding, GSM_PART_8BIT);
	assert_string_equal(p->text, "01024142ff");
	assert_int_equal(p->text_len, 10);
	assert_int_equal(p->kind, GSM_PART_DELIVER);
	delete_all(f);

	/* 300 bytes: 3 parts of at most 134, linked */
	for (int i = 0; i < 300; i++) {
		data[i] = (char)(1 + i % 255);
		snprintf(want + 2 * i, 3, "%02x", (unsigned char)data[i]);
	}
	data[300] = '\0';
	o.concat_ref = 9;
	assert_int_equal(inject(f, "10086", data, &o), 3);
	assert_int_equal(read_all(f, MAXP), 3);
	for (int seq = 1; seq <= 3; seq++) {
		p = part_seq(f, seq);
		assert_int_equal(p->coding, GSM_PART_8BIT);
		assert_int_equal(p->concat_ref, 9);
		assert_int_equal(p->concat_total, 3);
		assert_true(p->text_len <= 2 * BINARY_PART);
		buf_add(&joined, p->text, p->text_len);
	}
	assert_string_equal(buf_str(&joined), want);
	buf_free(&joined);
}

static void test_status_report(void **state)
{
	struct fx *f = *state;
	struct gsm_inject_opts o;
	const struct gsm_part *p;

	gsm_inject_defaults(&o);
	o.status_report = true;
	o.concat_ref = 42;
	o.smsc_time = 1764300200;
	p = roundtrip(f, "+8613700000007", "", &o);
	assert_int_equal(p->kind, GSM_PART_STATUS_REPORT);
	assert_int_equal(p->status_ref, 42);
	assert_int_equal(p->delivery_status, 0);
	assert_string_equal(p->sender, "+8613700000007");
	assert_string_equal(p->text, "Delivered");
	assert_int_equal(p->smsc_time, 1764300200);
	assert_int_equal(p->concat_ref, -1);
}

/* The SMSC time comes back the same whatever the local time zone is. */
static void test_time_any_zone(void **state)
{
	struct fx *f = *state;
	static const char *const zones[] = { "UTC0", "CST-8", "EST5EDT", "NZST-12NZDT" };
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	struct gsm_inject_opts o;
	int64_t before, after;

	gsm_inject_defaults(&o);
	for (size_t i = 0; i < ARRAY_LEN(zones); i++) {
		setenv("TZ", zones[i], 1);
		tzset();
		/* a summer and a winter date, and a leap day */
		static const int64_t when[] = { 1764300000, 1751328000, 1709164800 };
		for (size_t k = 0; k < ARRAY_LEN(when); k++) {
			o.smsc_time = when[k];
			const struct gsm_part *p = roundtrip(f, "13700000008", "time", &o);
			assert_int_equal(p->smsc_time, when[k]);
			delete_all(f);
		}
	}
	/* 0 means now */
	o.smsc_time = 0;
	before = (int64_t)time(NULL);
	const struct gsm_part *p = roundtrip(f, "13700000008", "now", &o);
	after = (int64_t)time(NULL);
	assert_in_range(p->smsc_time, before, after);
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

/* skip_parts leaves a part out; reverse writes the last part first. */
static void test_skip_and_reverse(void **state)
{
	struct fx *f = *state;
	char *text = rep("低保", 100); /* 200 units: 3 parts */
	struct gsm_inject_opts o;

	gsm_inject_defaults(&o);
	o.skip_parts = 1u << 1;
	assert_int_equal(inject(f, "13700000009", text, &o), 2);
	assert_int_equal(read_all(f, MAXP), 2);
	assert_int_equal(f->parts[0].concat_seq, 1);
	assert_int_equal(f->parts[1].concat_seq, 3);
	assert_int_equal(f->parts[0].concat_total, 3);
	delete_all(f);

	gsm_inject_defaults(&o);
	o.reverse = true;
	assert_int_equal(inject(f, "13700000009", text, &o), 3);
	assert_int_equal(read_all(f, MAXP), 3);
	/* written last first: location 1 holds part 3 */
	assert_int_equal(f->parts[0].location, DUMMY_FOLDER_SPAN + 1);
	assert_int_equal(f->parts[0].concat_seq, 3);
	assert_int_equal(f->parts[2].location, DUMMY_FOLDER_SPAN + 3);
	assert_int_equal(f->parts[2].concat_seq, 1);
	free(text);
}

/* Injectors running at the same time never take the same location. */
static void test_concurrent_injectors(void **state)
{
	struct fx *f = *state;
	pid_t pids[4];
	int status;

	for (int k = 0; k < 4; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			for (int i = 0; i < 10; i++) {
				struct gsm_inject_opts o;
				char err[256], text[32];
				int parts;
				gsm_inject_defaults(&o);
				snprintf(text, sizeof(text), "w%d m%d", k, i);
				if (gsm_dummy_inject(f->dir, "13700000010", text, &o, &parts, err, sizeof(err)) != GSM_OK ||
				    parts != 1)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int k = 0; k < 4; k++) {
		assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(count_files(f->dir, 1), 40);
	assert_int_equal(read_all(f, MAXP), 40);
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < 10; i++) {
			char text[32];
			int seen = 0;
			snprintf(text, sizeof(text), "w%d m%d", k, i);
			for (size_t j = 0; j < f->n; j++)
				seen += strcmp(f->parts[j].text, text) == 0;
			assert_int_equal(seen, 1);
		}
}

/* ---- inbound: reading, deleting, the folder --------------------------------------------------- */

static void test_delete(void **state)
{
	struct fx *f = *state;
	struct gsm_part gone;

	assert_int_equal(read_all(f, MAXP), 0);
	inject(f, "13700000011", "one", NULL);
	inject(f, "13700000011", "two", NULL);
	assert_int_equal(read_all(f, MAXP), 2);
	assert_int_equal(gsm_delete(f->g, &f->parts[0]), GSM_OK);
	gone = f->parts[0];
	assert_int_equal(read_all(f, MAXP), 1);
	assert_string_equal(f->parts[0].text, "two");
	/* already gone counts as deleted */
	assert_int_equal(gsm_delete(f->g, &gone), GSM_OK);
	delete_all(f);
	assert_int_equal(read_all(f, MAXP), 0);
	assert_int_equal(count_files(f->dir, 1), 0);
}

/* At most max parts per read; the rest waits for the next read. */
static void test_read_max(void **state)
{
	struct fx *f = *state;
	char text[16];

	for (int i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "m%d", i);
		inject(f, "13700000012", text, NULL);
	}
	assert_int_equal(read_all(f, 3), 3);
	assert_string_equal(f->parts[0].text, "m0");
	delete_all(f);
	assert_int_equal(read_all(f, 3), 2);
	assert_string_equal(f->parts[0].text, "m3");
	assert_string_equal(f->parts[1].text, "m4");
	delete_all(f);
	assert_int_equal(read_all(f, 0), 0);
}

/* Oldest first by SMSC time, whatever location the phone put them in. */
static void test_read_order(void **state)
{
	struct fx *f = *state;
	struct gsm_inject_opts o;

	gsm_inject_defaults(&o);
	o.smsc_time = 1764300300;
	inject(f, "13700000016", "later", &o);
	o.smsc_time = 1764300100;
	inject(f, "13700000016", "earlier", &o);
	o.smsc_time = 1764300200;
	inject(f, "13700000016", "between", &o);
	assert_int_equal(read_all(f, MAXP), 3);
	assert_string_equal(f->parts[0].text, "earlier");
	assert_int_equal(f->parts[0].location, DUMMY_FOLDER_SPAN + 2);
	assert_string_equal(f->parts[1].text, "between");
	assert_string_equal(f->parts[2].text, "later");
}

/* Put a copy of the file at sms/1/<loc> into another folder. */
static void copy_to_folder(const struct fx *f, int loc, int folder, int newloc)
{
	char from[256], to[256];

	snprintf(from, sizeof(from), "%s/sms/1/%d", f->dir, loc);
	snprintf(to, sizeof(to), "%s/sms/%d/%d", f->dir, folder, newloc);
	assert_int_equal(link(from, to), 0);
}

/* Only the inbox folders (1: SIM, 3: phone), by listing and through GSM_GetNextSMS alike. */
static void test_inbox_folders_only(void **state)
{
	struct fx *f = *state;

	inject(f, "13700000013", "in sim", NULL);
	copy_to_folder(f, 1, 2, 5);  /* outbox */
	copy_to_folder(f, 1, 3, 7);  /* phone inbox */
	copy_to_folder(f, 1, 4, 2);  /* phone outbox */
	copy_to_folder(f, 1, 5, 9);  /* templates */
	for (int path = 0; path < 2; path++) {
		f->g->scan_getnext = path == 1;
		assert_int_equal(read_all(f, MAXP), 2);
		assert_int_equal(f->parts[0].folder, 1);
		assert_int_equal(f->parts[0].location, DUMMY_FOLDER_SPAN + 1);
		assert_int_equal(f->parts[1].folder, 3);
		assert_int_equal(f->parts[1].location, 3 * DUMMY_FOLDER_SPAN + 7);
		assert_string_equal(f->parts[1].text, "in sim");
	}
	/* deleting through either path's location removes the right file */
	assert_int_equal(gsm_delete(f->g, &f->parts[1]), GSM_OK);
	assert_int_equal(count_files(f->dir, 3), 0);
	assert_int_equal(count_files(f->dir, 2), 1);
	f->g->scan_getnext = false;
	assert_int_equal(read_all(f, MAXP), 1);
	/* GSM_GetNextSMS stops at max too */
	f->g->scan_getnext = true;
	inject(f, "13700000013", "second", NULL);
	assert_int_equal(read_all(f, 1), 1);
	assert_int_equal(read_all(f, MAXP), 2);
}

/* A file in the inbox that is not a message is left alone, the rest is read. */
static void test_unreadable_file_skipped(void **state)
{
	struct fx *f = *state;
	char path[256];
	FILE *fp;

	inject(f, "13700000014", "good", NULL);
	snprintf(path, sizeof(path), "%s/sms/1/5", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("this is not an SMS backup\n", fp);
	fclose(fp);
	assert_int_equal(read_all(f, MAXP), 1);
	assert_string_equal(f->parts[0].text, "good");
	assert_int_equal(f->g->unreadable, 1);
}

/* The phone's folder renamed away (root cannot read what is not there): GSM_NOCONN, and back. */
static void test_folder_removed(void **state)
{
	struct fx *f = *state;
	struct gsm_send_result r;
	struct gsm_status st;
	char away[160], sms1[160], callers[4][48], reply[64];
	size_t n = 99;

	inject(f, "13700000015", "waiting", NULL);
	snprintf(away, sizeof(away), "%s.away", f->dir);
	assert_int_equal(rename(f->dir, away), 0);
	assert_int_equal(read_rc(f), GSM_NOCONN);
	assert_int_equal(f->n, 0);
	assert_non_null(strstr(gsm_error(f->g), "cannot be used"));
	assert_int_equal(gsm_send_text(f->g, "13700000015", "hi", &r), GSM_NOCONN);
	assert_int_equal(gsm_get_status(f->g, &st), GSM_NOCONN);
	assert_int_equal(gsm_take_calls(f->g, callers, 4, &n), GSM_NOCONN);
	assert_int_equal(gsm_ussd(f->g, "*100#", reply, sizeof(reply), 1000), GSM_NOCONN);
	assert_int_equal(rename(away, f->dir), 0);
	assert_int_equal(read_all(f, MAXP), 1);
	assert_string_equal(f->parts[0].text, "waiting");

	/* only the SIM inbox folder gone */
	snprintf(sms1, sizeof(sms1), "%s/sms/1", f->dir);
	snprintf(away, sizeof(away), "%s/sms/1.away", f->dir);
	assert_int_equal(rename(sms1, away), 0);
	assert_int_equal(read_rc(f), GSM_NOCONN);
	assert_int_equal(rename(away, sms1), 0);
	/* the phone inbox folder gone */
	snprintf(sms1, sizeof(sms1), "%s/sms/3", f->dir);
	snprintf(away, sizeof(away), "%s/sms/3.away", f->dir);
	assert_int_equal(rename(sms1, away), 0);
	assert_int_equal(read_rc(f), GSM_NOCONN);
	assert_non_null(strstr(gsm_error(f->g), "sms/3"));
	assert_int_equal(rename(away, sms1), 0);
	assert_int_equal(read_all(f, MAXP), 1);
}

/* A folder the daemon's user may not read (EACCES): GSM_NOCONN too. */
static void test_folder_unreadable(void **state)
{
	struct fx *f = *state;
	char sms1[160];
	pid_t pid;
	int status;

	snprintf(sms1, sizeof(sms1), "%s/sms/1", f->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t n = 0;
		/* as root: become nobody (the folder is root's, 0755 and mkdtemp's 0700); else take our rights */
		if (getuid() == 0) {
			if (setgid(65534) < 0 || setuid(65534) < 0)
				_exit(2);
		} else if (chmod(sms1, 0) < 0) {
			_exit(3);
		}
		_exit(gsm_read_inbox(f->g, f->parts, MAXP, &n) == GSM_NOCONN && strstr(gsm_error(f->g), "Permission")
			? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	chmod(sms1, 0755);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(read_all(f, MAXP), 0);
}

/* ---- outbound ----------------------------------------------------------------------------------- */

/* Decode what libgammu encoded for the last send and check it against the text. */
static void check_encoded(struct gsm *g, const char *text)
{
	struct sms_count cnt;
	struct buf joined = { 0 };
	int ref = -1;

	sms_count(text, strlen(text), &cnt);
	for (int i = 0; i < g->msms->Number; i++) {
		GSM_SMSMessage *m = &g->msms->SMS[i];
		struct gsm_part p;

		assert_int_equal(m->PDU, SMS_Submit);
		assert_int_equal(m->Coding, cnt.coding == SMS_CODING_GSM7 ? SMS_Coding_Default_No_Compression
						 : SMS_Coding_Unicode_No_Compression);
		to_part(m, &p);
		if (g->msms->Number > 1) {
			assert_int_equal(p.concat_total, g->msms->Number);
			assert_int_equal(p.concat_seq, i + 1);
			assert_int_equal(p.concat_ref_bits, 8);
			if (ref < 0)
				ref = p.concat_ref;
			assert_int_equal(p.concat_ref, ref);
		} else {
			assert_int_equal(p.concat_ref, -1);
		}
		/* each part within its limit */
		struct sms_count pc;
		sms_count(p.text, p.text_len, &pc);
		assert_true(pc.units <= (g->msms->Number == 1 ? (cnt.coding == SMS_CODING_GSM7 ? 160u : 70u)
							      : (cnt.coding == SMS_CODING_GSM7 ? 153u : 67u)));
		buf_add(&joined, p.text, p.text_len);
		free(p.text);
	}
	assert_string_equal(buf_str(&joined), text);
	buf_free(&joined);
}

static void send_expect(struct fx *f, const char *text, int parts)
{
	struct gsm_send_result r;
	struct sms_count cnt;

	sms_count(text, strlen(text), &cnt);
	assert_int_equal(gsm_send_text(f->g, "+8613700000020", text, &r), GSM_OK);
	assert_int_equal(r.parts, parts);
	assert_int_equal(r.parts, (int)cnt.segments);
	assert_int_equal(r.parts_sent, parts);
	assert_int_equal(r.msg_ref, 255); /* the dummy driver's reference */
	assert_string_equal(r.error, "");
	check_encoded(f->g, text);
}

/* Both sides of 160/153 (GSM-7), 70/67 (UCS-2); € costs two septets, an emoji two units. */
static void test_send_part_counts(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *unit;
		size_t n;
		int parts;
	} cases[] = {
		{ "a", 1, 1 }, { "a", 160, 1 }, { "a", 161, 2 }, { "a", 306, 2 }, { "a", 307, 3 }, { "a", 459, 3 },
		{ "a", 460, 4 }, { "中", 1, 1 }, { "中", 70, 1 }, { "中", 71, 2 }, { "中", 134, 2 }, { "中", 135, 3 },
		{ "中", 201, 3 }, { "中", 202, 4 }, { "€", 80, 1 }, { "€", 81, 2 }, { "😀", 35, 1 }, { "😀", 36, 2 },
		{ "😀", 66, 2 }, { "😀", 99, 3 },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *text = rep(cases[i].unit, cases[i].n);
		send_expect(f, text, cases[i].parts);
		free(text);
	}
	/* an extension character counts double next to plain ones: 120 + 2 * 20 = 160, then 161 */
	char *a = rep("a", 120), *e = rep("€", 20), buf[400];
	snprintf(buf, sizeof(buf), "%s%s", a, e);
	send_expect(f, buf, 1);
	snprintf(buf, sizeof(buf), "%s%sa", a, e);
	send_expect(f, buf, 2);
	free(a);
	free(e);
	/* a single Chinese character makes it UCS-2: 69 + 1 = 70, then 71 */
	a = rep("a", 69);
	snprintf(buf, sizeof(buf), "%s中", a);
	send_expect(f, buf, 1);
	snprintf(buf, sizeof(buf), "%sb中", a);
	send_expect(f, buf, 2);
	free(a);
	send_expect(f, "", 1);
}

/*
 * libgammu never splits an escape sequence nor a surrogate pair between two
 * parts (a phone showing parts apart would show garbage): 152 + € + 152 is
 * 306 septets, but € does not fit after 152 septets, so it takes 3; likewise
 * 67 emoji are 134 UTF-16 units, but a part of 67 units would end in half an
 * emoji: 3. sms_count(), which the menu checker and the cost report use,
 * must say the same.
 */
static void test_send_no_split_at_boundary(void **state)
{
	struct fx *f = *state;
	char *a = rep("a", 152), *e = rep("😀", 67), buf[400];
	struct gsm_send_result r;

	struct sms_count cnt;

	snprintf(buf, sizeof(buf), "%s€%s", a, a);
	sms_count(buf, strlen(buf), &cnt);
	assert_int_equal(cnt.segments, 3);
	sms_count(e, strlen(e), &cnt);
	assert_int_equal(cnt.segments, 3);
	assert_int_equal(gsm_send_text(f->g, "13700000021", buf, &r), GSM_OK);
	assert_int_equal(r.parts, 3);
	assert_int_equal(r.parts_sent, 3);
	check_encoded(f->g, buf);
	assert_int_equal(gsm_send_text(f->g, "13700000021", e, &r), GSM_OK);
	assert_int_equal(r.parts, 3);
	check_encoded(f->g, e);
	free(a);
	free(e);
}

static void test_send_invalid_number(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = { "", "12", "+12", "abc", "1380013800a", "+86 13800138000", "++8613800138000",
		"86+13800138000", "123456789012345678901", "-123" };
	static const char *const good[] = { "123", "+123", "12345678901234567890", "+8613800138000", "10086" };
	struct gsm_send_result r;
	char away[160];

	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		assert_int_equal(gsm_send_text(f->g, good[i], "hi", &r), GSM_OK);
	/* with the phone gone: an invalid number is PERMFAIL, not NOCONN, so the phone was not asked */
	snprintf(away, sizeof(away), "%s.away", f->dir);
	assert_int_equal(rename(f->dir, away), 0);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(gsm_send_text(f->g, bad[i], "hi", &r), GSM_PERMFAIL);
		assert_int_equal(r.parts, 0);
		assert_int_equal(r.parts_sent, 0);
		assert_int_equal(r.msg_ref, -1);
		assert_non_null(strstr(r.error, "not a number"));
		assert_string_equal(gsm_error(f->g), r.error);
	}
	assert_int_equal(gsm_send_text(f->g, NULL, "hi", &r), GSM_PERMFAIL);
	/* the error (logged, stored in messages.error) never holds the whole number (issue 11.4) */
	log_init(LOG_LVL_ERROR, true);
	assert_int_equal(gsm_send_text(f->g, "139 0000 0001", "hi", &r), GSM_PERMFAIL);
	assert_null(strstr(r.error, "139 0000"));
	assert_non_null(strstr(r.error, "0001"));
	assert_int_equal(gsm_send_text(f->g, "１３９００００１２３４", "hi", &r), GSM_PERMFAIL);
	assert_null(strstr(r.error, "１３９"));
	assert_non_null(strstr(r.error, "１２３４"));
	assert_true(utf8_valid(r.error, strlen(r.error)));
	assert_int_equal(rename(away, f->dir), 0);
}

/* More than libgammu's encoder takes whole: refused, never cut. */
static void test_send_too_long(void **state)
{
	struct fx *f = *state;
	struct gsm_send_result r;
	char *t;

	t = rep("中", 50 * 67);
	send_expect(f, t, 50);
	free(t);
	t = rep("中", 50 * 67 + 1);
	assert_int_equal(gsm_send_text(f->g, "13700000022", t, &r), GSM_PERMFAIL);
	assert_non_null(strstr(r.error, "too long"));
	free(t);
	t = rep("a", 5000);
	send_expect(f, t, 33);
	free(t);
	t = rep("a", 5001);
	assert_int_equal(gsm_send_text(f->g, "13700000022", t, &r), GSM_PERMFAIL);
	free(t);
	/* invalid UTF-8 goes as U+FFFD, not cut at the bad byte */
	assert_int_equal(gsm_send_text(f->g, "13700000022", "ab\xff" "cd", &r), GSM_OK);
	assert_int_equal(r.parts, 1);
	struct gsm_part p;
	to_part(&f->g->msms->SMS[0], &p);
	assert_string_equal(p.text, "ab\xEF\xBF\xBD" "cd");
	free(p.text);
}

/* The network's answer through the send-status callback, as an AT modem gives it. */
static int fake_status;
static void fake_send_status(GSM_StateMachine *s, int status, int ref, void *data)
{
	(void)status;
	if (fake_status != -2)
		on_send_status(s, fake_status, fake_status == 0 ? 17 : ref, data);
}

static void test_send_network_answers(void **state)
{
	struct fx *f = *state;
	struct gsm_send_result r;
	char *two = rep("a", 200);

	GSM_SetSendSMSStatusCallback(f->g->s, fake_send_status, f->g);
	fake_status = 0;
	assert_int_equal(gsm_send_text(f->g, "13700000023", "ok", &r), GSM_OK);
	assert_int_equal(r.msg_ref, 17);
	/* unassigned number: never */
	fake_status = 1;
	assert_int_equal(gsm_send_text(f->g, "13700000023", two, &r), GSM_PERMFAIL);
	assert_int_equal(r.parts, 2);
	assert_int_equal(r.parts_sent, 0);
	assert_non_null(strstr(r.error, "CMS ERROR 1"));
	/* congestion, no network, ME failure, unknown: later */
	static const int temp[] = { 42, 331, 300, 500, -1 };
	for (size_t i = 0; i < ARRAY_LEN(temp); i++) {
		fake_status = temp[i];
		assert_int_equal(gsm_send_text(f->g, "13700000023", "x", &r), GSM_TEMPFAIL);
	}
	/* no answer at all: the phone is not answering */
	fake_status = -2;
	f->g->send_timeout_ms = 50;
	assert_int_equal(gsm_send_text(f->g, "13700000023", "x", &r), GSM_NOCONN);
	assert_non_null(strstr(r.error, "no answer"));
	free(two);
}

static void test_cms_policy(void **state)
{
	static const int perm[] = { 1, 8, 10, 21, 28, 29, 30, 50, 96, 97, 98, 99, 111, 127, 144, 195, 196, 302, 303,
		304, 305 };
	static const int temp[] = { -1, 17, 22, 27, 38, 41, 42, 47, 192, 208, 255, 300, 301, 310, 313, 314, 322, 330,
		331, 332, 500, 512, 9999 };

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(perm); i++)
		assert_true(cms_permanent(perm[i]));
	for (size_t i = 0; i < ARRAY_LEN(temp); i++)
		assert_false(cms_permanent(temp[i]));
}

/* ---- USSD, calls, status, reset ------------------------------------------------------------------- */

static void test_ussd(void **state)
{
	struct fx *f = *state;
	char reply[200], small[6];

	assert_int_equal(gsm_ussd(f->g, "*100#", reply, sizeof(reply), 5000), GSM_OK);
	assert_string_equal(reply, "Reply for *100#");
	assert_int_equal(gsm_ussd(f->g, "*123*1#", reply, sizeof(reply), 5000), GSM_OK);
	assert_string_equal(reply, "Reply for *123*1#");
	assert_int_equal(gsm_ussd(f->g, "*100#", small, sizeof(small), 5000), GSM_OK);
	assert_string_equal(small, "Reply");
	assert_int_equal(gsm_ussd(f->g, "*100#; rm -rf /", reply, sizeof(reply), 5000), GSM_PERMFAIL);
	assert_int_equal(gsm_ussd(f->g, "", reply, sizeof(reply), 5000), GSM_PERMFAIL);
}

/* A network answering USSD as it likes, through the callback. */
static int fake_ussd_mode;
static void fake_ussd(GSM_StateMachine *s, GSM_USSDMessage *ussd, void *data)
{
	GSM_USSDMessage mine;

	(void)ussd;
	memset(&mine, 0, sizeof(mine));
	if (fake_ussd_mode == 0)
		return; /* never answers */
	if (fake_ussd_mode == 1) {
		/* "余额10元" */
		memcpy(mine.Text, "\x4F\x59\x98\x9D\x00\x31\x00\x30\x51\x43", 10);
		mine.Status = USSD_ActionNeeded;
	} else {
		mine.Status = USSD_Timeout;
	}
	on_ussd(s, &mine, data);
}

static void test_ussd_answers(void **state)
{
	struct fx *f = *state;
	char reply[64];

	GSM_SetIncomingUSSDCallback(f->g->s, fake_ussd, f->g);
	fake_ussd_mode = 1;
	assert_int_equal(gsm_ussd(f->g, "*100#", reply, sizeof(reply), 5000), GSM_OK);
	assert_string_equal(reply, "余额10元");
	/* a short buffer is cut between characters: 余 is 3 bytes, 余额 6 */
	assert_int_equal(gsm_ussd(f->g, "*100#", reply, 6, 5000), GSM_OK);
	assert_string_equal(reply, "余");
	assert_int_equal(gsm_ussd(f->g, "*100#", reply, 7, 5000), GSM_OK);
	assert_string_equal(reply, "余额");
	/* the network ends without an answer, or never answers: later */
	fake_ussd_mode = 2;
	assert_int_equal(gsm_ussd(f->g, "*100#", reply, sizeof(reply), 5000), GSM_TEMPFAIL);
	assert_non_null(strstr(gsm_error(f->g), "without an answer"));
	fake_ussd_mode = 0;
	assert_int_equal(gsm_ussd(f->g, "*100#", reply, sizeof(reply), 100), GSM_TEMPFAIL);
	assert_non_null(strstr(gsm_error(f->g), "no answer"));
	assert_string_equal(reply, "");
}

static void ring_fake(struct gsm *g, const char *number, GSM_CallStatus status)
{
	GSM_Call call;

	memset(&call, 0, sizeof(call));
	call.Status = status;
	EncodeUnicode(call.PhoneNumber, number, strlen(number));
	on_call(g->s, &call, g);
}

static void test_calls(void **state)
{
	struct fx *f = *state;
	char callers[4][48], path[200], *log;
	struct gsm_status st;
	size_t n = 99;

	assert_int_equal(gsm_take_calls(f->g, callers, 4, &n), GSM_OK);
	assert_int_equal(n, 0);
	/* rings: taken once, hung up */
	touch(f->dir, "incoming-call");
	assert_int_equal(gsm_take_calls(f->g, callers, 4, &n), GSM_OK);
	assert_int_equal(n, 1);
	assert_string_equal(callers[0], "+800123456");
	snprintf(path, sizeof(path), "%s/incoming-call", f->dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(gsm_take_calls(f->g, callers, 4, &n), GSM_OK);
	assert_int_equal(n, 0);
	/* the same number calling again after the hang-up: a new call */
	touch(f->dir, "incoming-call");
	assert_int_equal(gsm_take_calls(f->g, callers, 4, &n), GSM_OK);
	assert_int_equal(n, 1);
	/* one call noticed during other work (any API call), ringing twice meanwhile: one caller */
	touch(f->dir, "incoming-call");
	assert_int_equal(gsm_get_status(f->g, &st), GSM_OK);
	touch(f->dir, "incoming-call");
	assert_int_equal(gsm_get_status(f->g, &st), GSM_OK);
	assert_int_equal(gsm_take_calls(f->g, callers, 4, &n), GSM_OK);
	assert_int_equal(n, 1);
	assert_string_equal(callers[0], "+800123456");
	/* a last RING of the call being hung up, reported while hanging up: not a call; another number is */
	f->g->hanging_up = "13700000030";
	ring_fake(f->g, "13700000030", GSM_CALL_IncomingCall);
	ring_fake(f->g, "13700000039", GSM_CALL_IncomingCall);
	f->g->hanging_up = NULL;
	assert_int_equal(gsm_take_calls(f->g, callers, 4, &n), GSM_OK);
	assert_int_equal(n, 1);
	assert_string_equal(callers[0], "13700000039");

	/* more callers than max: the rest wait for the next call */
	static const char *const nums[] = { "13700000031", "13700000032", "13700000033", "13700000031" };
	for (size_t i = 0; i < ARRAY_LEN(nums); i++)
		ring_fake(f->g, nums[i], GSM_CALL_IncomingCall);
	ring_fake(f->g, "13700000034", GSM_CALL_CallRemoteEnd); /* not a ringing call */
	assert_int_equal(gsm_take_calls(f->g, callers, 2, &n), GSM_OK);
	assert_int_equal(n, 2);
	assert_string_equal(callers[0], "13700000031");
	assert_string_equal(callers[1], "13700000032");
	assert_int_equal(gsm_take_calls(f->g, callers, 2, &n), GSM_OK);
	assert_int_equal(n, 1);
	assert_string_equal(callers[0], "13700000033");
	assert_int_equal(gsm_take_calls(f->g, callers, 2, &n), GSM_OK);
	assert_int_equal(n, 0);

	/* each was hung up: the dummy phone logs it (flushed on close) */
	gsm_close(f->g);
	snprintf(path, sizeof(path), "%s/operations.log", f->dir);
	log = slurp(path);
	size_t hangups = 0;
	for (const char *p = log; (p = strstr(p, "Canceling call")) != NULL; p++)
		hangups++;
	assert_int_equal(hangups, 7);
	free(log);
	f->g = open_dummy(f->dir);
	assert_non_null(f->g);
}

static void test_status(void **state)
{
	struct fx *f = *state;
	struct gsm_status st;

	assert_int_equal(gsm_get_status(f->g, &st), GSM_OK);
	assert_int_equal(st.signal_percent, 42);
	assert_int_equal(st.signal_dbm, 42);
	assert_true(st.registered);
	assert_string_equal(st.network_code, "999 99");
	assert_string_equal(st.network_name, "GammuT3l");
	assert_int_equal(st.battery_percent, 100);
}

static void test_reset(void **state)
{
	struct fx *f = *state;
	char path[200], *log;

	assert_int_equal(gsm_reset(f->g, false), GSM_OK);
	assert_int_equal(gsm_reset(f->g, true), GSM_OK);
	gsm_close(f->g);
	snprintf(path, sizeof(path), "%s/operations.log", f->dir);
	log = slurp(path);
	assert_non_null(strstr(log, "Performing soft reset!"));
	assert_non_null(strstr(log, "Performing hard reset!"));
	free(log);
	f->g = open_dummy(f->dir);
	assert_non_null(f->g);
}

/* ---- opening ------------------------------------------------------------------------------------ */

static void test_open_errors(void **state)
{
	struct fx *f = *state;
	struct gsm_settings st;
	struct gsm *g = (struct gsm *)1;
	char err[256], rc[200], missing[160];
	FILE *fp;

	memset(&st, 0, sizeof(st));
	snprintf(missing, sizeof(missing), "%s/nowhere", f->dir);
	st.device = missing;
	st.connection = "none";
	st.model = "dummy";
	assert_int_equal(gsm_open(&st, &g, err, sizeof(err)), GSM_TEMPFAIL);
	assert_null(g);
	assert_non_null(strstr(err, "missing"));

	/* gammurc: device, connection and model from the file; [gammu] is section 0, [gammu1] 1 */
	snprintf(rc, sizeof(rc), "%s/gammurc", f->dir);
	fp = fopen(rc, "w");
	assert_non_null(fp);
	fprintf(fp, "[gammu]\ndevice = %s\nconnection = none\nmodel = dummy\n\n[gammu1]\ndevice = %s\n"
		    "connection = none\nmodel = dummy\n", missing, f->dir);
	fclose(fp);
	memset(&st, 0, sizeof(st));
	st.gammurc = rc;
	st.section = 1;
	assert_int_equal(gsm_open(&st, &g, err, sizeof(err)), GSM_OK);
	assert_true(g->dummy);
	assert_string_equal(g->device, f->dir);
	gsm_close(g);
	st.section = 0;
	assert_int_equal(gsm_open(&st, &g, err, sizeof(err)), GSM_TEMPFAIL);
	assert_non_null(strstr(err, "missing"));
	st.section = 2;
	assert_int_equal(gsm_open(&st, &g, err, sizeof(err)), GSM_PERMFAIL);
	assert_non_null(strstr(err, "[gammu2]"));
	snprintf(rc, sizeof(rc), "%s/no-such-gammurc", f->dir);
	assert_int_equal(gsm_open(&st, &g, err, sizeof(err)), GSM_PERMFAIL);
	assert_non_null(strstr(err, "cannot read"));

	/* a serial device that is not there: try again later */
	memset(&st, 0, sizeof(st));
	st.device = "/dev/ttyNOSUCHDEVICE9";
	st.connection = "at115200";
	assert_int_equal(gsm_open(&st, &g, err, sizeof(err)), GSM_TEMPFAIL);
	assert_null(g);
	/* a connection type libgammu does not know: never */
	st.connection = "carrier-pigeon";
	assert_int_equal(gsm_open(&st, &g, err, sizeof(err)), GSM_PERMFAIL);
	gsm_close(NULL);
	assert_string_equal(gsm_error(NULL), "no phone");
}

/* libgammu's own log reaches ours only at debug level, with numbers masked. */
static void test_gammu_debug_log(void **state)
{
	struct fx *f = *state;
	struct gsm_send_result r;
	char path[200], *log;
	int fd;

	snprintf(path, sizeof(path), "%s/our.log", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	log_set_fd(fd);
	struct gsm *g = open_dummy(f->dir);
	assert_non_null(g);
	assert_int_equal(gsm_send_text(g, "13712345671", "hello", &r), GSM_OK);
	gsm_close(g);
	log = slurp(path);
	assert_null(strstr(log, "gammu:"));
	free(log);
	log_init(LOG_LVL_DEBUG, true);
	g = open_dummy(f->dir);
	assert_non_null(g);
	assert_int_equal(gsm_send_text(g, "13712345671", "hello", &r), GSM_OK);
	inject(f, "13712345672", "hi", NULL);
	assert_int_equal(read_all(f, MAXP), 1);
	/* what an AT modem's PIN entry looks like in libgammu's log, in pieces */
	on_gammu_log("SENDING frame type 0x00/length 0x0F/15\nAT+CPIN=\"47", g);
	on_gammu_log("11\"\r\n", g);
	gsm_close(g);
	log_init(LOG_LVL_INFO, true);
	log_set_fd(-1);
	close(fd);
	log = slurp(path);
	assert_non_null(strstr(log, "gsm: t0: gammu: "));
	assert_non_null(strstr(log, "5671"));
	assert_null(strstr(log, "1371234"));
	assert_non_null(strstr(log, "SENDING frame type"));
	assert_null(strstr(log, "4711"));
	free(log);
}

/* ---- static helpers -------------------------------------------------------------------------------- */

static void test_utf16_to_utf8(void **state)
{
	char out[64];
	size_t n;

	(void)state;
	/* A, U+1F600 as a pair, B */
	n = gsm_utf16_to_utf8((const unsigned char *)"\x00\x41\xD8\x3D\xDE\x00\x00\x42", 4, out, sizeof(out));
	assert_int_equal(n, 6);
	assert_string_equal(out, "A\xF0\x9F\x98\x80" "B");
	/* a lone high surrogate, a lone low one, a high one at the end: U+FFFD each */
	n = gsm_utf16_to_utf8((const unsigned char *)"\x00\x41\xD8\x00\x00\x42\xDC\x00\xD8\x3D", 5, out, sizeof(out));
	assert_string_equal(out, "A\xEF\xBF\xBD" "B\xEF\xBF\xBD\xEF\xBF\xBD");
	assert_true(utf8_valid(out, n));
	/* two high surrogates then a low one: the second pair is whole */
	gsm_utf16_to_utf8((const unsigned char *)"\xD8\x3D\xD8\x3D\xDE\x00", 3, out, sizeof(out));
	assert_string_equal(out, "\xEF\xBF\xBD\xF0\x9F\x98\x80");
	/* U+0000 stays, with what follows it */
	n = gsm_utf16_to_utf8((const unsigned char *)"\x4F\x4E\x00\x00\x75\x33", 3, out, sizeof(out));
	assert_int_equal(n, 7);
	assert_memory_equal(out, "\xE4\xBD\x8E\0\xE7\x94\xB3", 7);
	/* a short buffer: whole characters only */
	n = gsm_utf16_to_utf8((const unsigned char *)"\x00\x41\x4F\x4E\x4F\xDD", 3, out, 5);
	assert_int_equal(n, 4);
	assert_string_equal(out, "A\xE4\xBD\x8E");
}

static void test_unix_time(void **state)
{
	GSM_DateTime dt;

	(void)state;
	memset(&dt, 0, sizeof(dt));
	assert_int_equal(unix_time(&dt), 0);
	dt.Year = 2000;
	dt.Month = 1;
	dt.Day = 1;
	assert_int_equal(unix_time(&dt), 946684800);
	/* 16:00 at UTC+8 is 08:00 UTC; 03:00 at UTC-5 is 08:00 UTC */
	dt.Year = 2025;
	dt.Month = 11;
	dt.Day = 28;
	dt.Hour = 16;
	dt.Timezone = 8 * 3600;
	assert_int_equal(unix_time(&dt), 1764316800);
	dt.Hour = 3;
	dt.Timezone = -5 * 3600;
	assert_int_equal(unix_time(&dt), 1764316800);
}

static void udh(GSM_UDHHeader *h, const char *bytes, int len)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->Text, bytes, (size_t)len);
	h->Length = len;
}

static void test_concat_from_udh(void **state)
{
	GSM_UDHHeader h;
	struct gsm_part p;

	(void)state;
	udh(&h, "\x05\x00\x03\xC8\x03\x02", 6);
	concat_of(&h, &p);
	assert_int_equal(p.concat_ref, 200);
	assert_int_equal(p.concat_ref_bits, 8);
	assert_int_equal(p.concat_total, 3);
	assert_int_equal(p.concat_seq, 2);
	udh(&h, "\x06\x08\x04\xBE\xEF\x04\x04", 7);
	concat_of(&h, &p);
	assert_int_equal(p.concat_ref, 0xBEEF);
	assert_int_equal(p.concat_ref_bits, 16);
	assert_int_equal(p.concat_total, 4);
	assert_int_equal(p.concat_seq, 4);
	/* concatenation after a port element: GSM_DecodeUDHHeader does not know it, we walk it */
	udh(&h, "\x0B\x05\x04\x0B\x84\x23\xF0\x00\x03\x11\x02\x01", 12);
	concat_of(&h, &p);
	assert_int_equal(p.concat_ref, 0x11);
	assert_int_equal(p.concat_total, 2);
	assert_int_equal(p.concat_seq, 1);
	/* language shift then 16-bit concatenation */
	udh(&h, "\x09\x25\x01\x01\x08\x04\x01\x02\x05\x03", 10);
	concat_of(&h, &p);
	assert_int_equal(p.concat_ref, 0x0102);
	assert_int_equal(p.concat_ref_bits, 16);
	assert_int_equal(p.concat_seq, 3);
	/* part 0, part beyond the total, a total of 1, no header, a truncated element: a lone SMS */
	static const char *const lone[] = { "\x05\x00\x03\x01\x03\x00", "\x05\x00\x03\x01\x03\x04",
		"\x05\x00\x03\x01\x01\x01", "\x05\x00\x05\x01\x03\x01" };
	for (size_t i = 0; i < ARRAY_LEN(lone); i++) {
		udh(&h, lone[i], 6);
		concat_of(&h, &p);
		assert_int_equal(p.concat_ref, -1);
		assert_int_equal(p.concat_total, 1);
		assert_int_equal(p.concat_seq, 1);
	}
	udh(&h, "", 0);
	concat_of(&h, &p);
	assert_int_equal(p.concat_ref, -1);
}

/* ---- costs ------------------------------------------------------------------------------------------ */

static void test_costs(void **state)
{
	struct fx *f = *state;
	struct gsm_send_result r;
	char text[64];
	double t0, empty_list, empty_getnext, per_msg, per_inject, per_send1, per_send3;
	const int polls = 200, msgs = 200, sends = 100;
	char *three = rep("低保", 100);

	t0 = now_s();
	for (int i = 0; i < polls; i++)
		read_all(f, MAXP);
	empty_list = (now_s() - t0) / polls;
	f->g->scan_getnext = true;
	t0 = now_s();
	for (int i = 0; i < 5; i++)
		read_all(f, MAXP);
	empty_getnext = (now_s() - t0) / 5;
	f->g->scan_getnext = false;

	t0 = now_s();
	for (int i = 0; i < msgs; i++) {
		snprintf(text, sizeof(text), "低保 message %d", i);
		inject(f, "13700000040", text, NULL);
	}
	per_inject = (now_s() - t0) / msgs;
	t0 = now_s();
	assert_int_equal(read_all(f, MAXP), (size_t)msgs);
	per_msg = (now_s() - t0 - empty_list) / msgs;
	delete_all(f);

	t0 = now_s();
	for (int i = 0; i < sends; i++)
		assert_int_equal(gsm_send_text(f->g, "13700000041", "您的低保申请已受理", &r), GSM_OK);
	per_send1 = (now_s() - t0) / sends;
	t0 = now_s();
	for (int i = 0; i < sends; i++)
		assert_int_equal(gsm_send_text(f->g, "13700000041", three, &r), GSM_OK);
	per_send3 = (now_s() - t0) / sends;
	free(three);

	printf("[   COST   ] empty poll: %.3f ms (folder listing), %.1f ms (GSM_GetNextSMS)\n", empty_list * 1e3,
	    empty_getnext * 1e3);
	printf("[   COST   ] read: %.3f ms per message; inject: %.3f ms per message\n", per_msg * 1e3,
	    per_inject * 1e3);
	printf("[   COST   ] send: %.3f ms for 1 part, %.3f ms for 3 parts\n", per_send1 * 1e3, per_send3 * 1e3);
	/* the listing must stay far below the driver's 50,000 probes */
	assert_true(empty_list < 0.02);
	assert_true(empty_list * 5 < empty_getnext);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_roundtrip_gsm7),
		T(test_roundtrip_ucs2_chinese),
		T(test_roundtrip_emoji),
		T(test_nul_in_ucs2),
		T(test_roundtrip_named_sender),
		T(test_roundtrip_force_ucs2),
		T(test_multipart_chinese),
		T(test_multipart_ref16),
		T(test_flash_and_class),
		T(test_binary),
		T(test_status_report),
		T(test_time_any_zone),
		T(test_skip_and_reverse),
		T(test_concurrent_injectors),
		T(test_delete),
		T(test_read_max),
		T(test_read_order),
		T(test_inbox_folders_only),
		T(test_unreadable_file_skipped),
		T(test_folder_removed),
		T(test_folder_unreadable),
		T(test_send_part_counts),
		T(test_send_no_split_at_boundary),
		T(test_send_invalid_number),
		T(test_send_too_long),
		T(test_send_network_answers),
		cmocka_unit_test(test_cms_policy),
		T(test_ussd),
		T(test_ussd_answers),
		T(test_calls),
		T(test_status),
		T(test_reset),
		T(test_open_errors),
		T(test_gammu_debug_log),
		cmocka_unit_test(test_utf16_to_utf8),
		cmocka_unit_test(test_unix_time),
		cmocka_unit_test(test_concat_from_udh),
		T(test_costs),
	};
#undef T

	return cmocka_run_group_tests_name("gsm", tests, NULL, NULL);
}
