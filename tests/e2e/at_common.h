/*
 * What the end-to-end tests on the `at` connection share: a daemon on the AT
 * modem emulator (tests/tools/atemu.py), what went over the air, /healthz.
 * Included by test_e2e_at.c and test_e2e_atfault.c (two suites, so that each
 * stays well under two minutes).
 */
#ifndef HOTLINE_TEST_AT_COMMON_H
#define HOTLINE_TEST_AT_COMMON_H

#define WAIT_MS 30000

/* Short timeouts so that a fault test waits seconds, not minutes. */
#define MODEM_KEYS "op_timeout = 3; send_timeout = 10;"

static __attribute__((unused)) int start(struct hl *h, const char *modem_keys, const char *extra)
{
	/* HL_AT_KEYS replaces the modem keys: to run these tests on a build that predates them */
	if (getenv("HL_AT_KEYS"))
		modem_keys = getenv("HL_AT_KEYS");
	if (hl_setup_at(h, 1, modem_keys ? modem_keys : MODEM_KEYS, NULL, extra) < 0)
		return -1;
	if (hl_start(h, NULL) < 0)
		return -1;
	/* connected: the modem has been asked for its messages */
	if (!hl_emu_wait(h, 0, 1, WAIT_MS, "count CMGL")) {
		hl_dump_log(h);
		return -1;
	}
	return 0;
}

/* Undo the emulator's escapes (\\n, \\\\) in place. */
static __attribute__((unused)) char *unescape(char *s)
{
	char *o = s;

	for (const char *p = s; *p; p++) {
		if (*p == '\\' && p[1] == 'n') {
			*o++ = '\n';
			p++;
		} else if (*p == '\\' && p[1] == 'r') {
			*o++ = '\r';
			p++;
		} else if (*p == '\\' && p[1] == '\\') {
			*o++ = '\\';
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return s;
}

/* The over-the-air text of the newest complete message to `to`, or NULL. */
static __attribute__((unused)) char *air_text(struct hl *h, const char *to)
{
	char *all = hl_emu(h, 0, "messages"), *out = NULL;

	if (all == NULL)
		return NULL;
	for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
		char num[64];
		int got, total, copies, off = 0;
		if (sscanf(line, "%63s %d %d %d %n", num, &got, &total, &copies, &off) == 4 && off > 0 &&
		    strcmp(num, to) == 0 && got == total) {
			free(out);
			out = unescape(strdup(line + off));
		}
	}
	free(all);
	return out;
}


/* The database's key for a phone number (as the daemon writes it). */
static __attribute__((unused)) const char *K(const char *phone)
{
	static char keys[4][PHONE_LEN];
	static int next;
	char *k = keys[next++ % 4];

	phone_normalise(phone, PHONE_COUNTRY_DEFAULT, k, PHONE_LEN);
	return k;
}

static __attribute__((unused)) int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Complete messages over the air to `to`, and the most copies any of their parts went. */
static __attribute__((unused)) int air_count(struct hl *h, const char *to, int *max_copies)
{
	char *all = hl_emu(h, 0, "messages");
	int n = 0;

	if (max_copies)
		*max_copies = 0;
	if (all == NULL)
		return -1;
	for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
		char num[64];
		int got, total, copies;
		if (sscanf(line, "%63s %d %d %d", num, &got, &total, &copies) == 4 && strcmp(num, to) == 0) {
			n += got == total;
			if (max_copies && copies > *max_copies)
				*max_copies = copies;
		}
	}
	free(all);
	return n;
}

static __attribute__((unused)) bool sim_empty(struct hl *h, void *arg)
{
	(void)arg;
	return hl_emu_int(h, 0, "inbox") == 0;
}

struct air_arg {
	const char *to;
	int want;
};

static __attribute__((unused)) bool air_has(struct hl *h, void *arg)
{
	struct air_arg *a = arg;

	return air_count(h, a->to, NULL) >= a->want;
}

/* Every reply stored as sent to phone went over the air whole, once, with the same text. */
static __attribute__((unused)) void assert_air_matches_store(struct hl *h, const char *phone_db, const char *to)
{
	/* the network's answer is recorded right after it came */
	assert_true(hl_wait_count(h, air_count(h, to, NULL), 5000, "SELECT count(*) FROM messages WHERE direction='out'"
	    " AND status='sent' AND phone_key = '%s'", phone_db));
	long long stored = hl_int(h, "SELECT count(*) FROM messages WHERE direction='out' AND status='sent' AND"
				     " phone_key = '%s'", phone_db);
	int copies = 0;
	int n = air_count(h, to, &copies);

	assert_true(stored >= 1);
	assert_int_equal(n, stored);
	assert_int_equal(copies, 1);
	char *reply = hl_text(h, "SELECT text FROM messages WHERE direction='out' AND status='sent' AND phone_key = '%s'"
				 " ORDER BY id DESC LIMIT 1", phone_db);
	char *air = air_text(h, to);
	assert_non_null(reply);
	assert_non_null(air);
	assert_string_equal(air, reply);
	free(air);
	free(reply);
}

static __attribute__((unused)) char *healthz(struct hl *h, int *status)
{
	return hl_http(h, "GET", "/healthz", NULL, NULL, status);
}

struct health_arg {
	int status;
	const char *text;
};

static __attribute__((unused)) bool health_is(struct hl *h, void *arg)
{
	struct health_arg *a = arg;
	int st = 0;
	char *body = healthz(h, &st);
	bool ok = body && st == a->status && (a->text == NULL || strstr(body, a->text) != NULL);

	free(body);
	return ok;
}

/* hotlinectl with the test config: exit status, stdout in *out (caller frees). */
static __attribute__((unused)) int ctl(struct hl *h, char **out, const char *args)
{
	char cmd[2048];
	FILE *p;
	size_t n = 0, cap = 65536;
	int st;

	snprintf(cmd, sizeof(cmd), "%s/hotlinectl -c %s %s", getenv("HOTLINE_BUILD"), h->cfg, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	*out = calloc(1, cap);
	while (!feof(p) && n + 1 < cap) {
		size_t k = fread(*out + n, 1, cap - 1 - n, p);
		if (k == 0)
			break;
		n += k;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
