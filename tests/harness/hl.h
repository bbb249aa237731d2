/*
 * hl: the end-to-end test harness. Starts a real hotlined in a fresh temp
 * folder on Gammu's dummy phone(s) and the shipped menus, places SMS in the
 * phone's inbox with libgammu (gsm_dummy_inject), talks HTTP with the curl
 * command, and looks at the real SQLite file. Waits poll with a deadline
 * (never a fixed sleep).
 *
 * Every function that can fail returns 0/-1 or NULL and prints why to
 * stderr; the tests assert on the result.
 */
#ifndef HOTLINE_TEST_HL_H
#define HOTLINE_TEST_HL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gsm.h"
#include "phone.h"
#include "world.h"

#define HL_MAX_MODEMS 4

struct hl {
	char dir[256];               /* the temp folder; removed by hl_cleanup unless HL_KEEP=1 */
	char cfg[320];               /* dir/hotline.cfg */
	char db[320];                /* dir/var/hotline.db */
	char log[320];               /* hotlined's stderr */
	char phone[HL_MAX_MODEMS][320]; /* dummy phone folders: dir/phone0 ... */
	int nmodems;
	int port;                    /* HTTP port (a free one, chosen by hl_setup) */
	pid_t pid;                   /* hotlined, 0 when not running */
	char secret[64];             /* ussd.secret */
	bool clock;                  /* hl_use_clock: hotlined runs on the test clock */
	int64_t clock_offset;        /* seconds the test clock is ahead of the real one */
	pid_t emu_pid[HL_MAX_MODEMS];   /* AT modem emulators (hl_setup_at), 0 when none */
	char emu[HL_MAX_MODEMS][320];   /* their folders: dir/emu0 ... (modem link, ctl.sock, at.log) */
	int nofile;                  /* > 0: hl_start runs hotlined with RLIMIT_NOFILE this low (soft and hard) */
};

/* The repository's root ($HOTLINE_SRC, else "."), for fixtures and the shipped files. */
const char *hl_src_dir(void);
/* Load a config and its menus, printing every problem; NULL when any is an error. */
struct world *hl_load_world(const char *config_path);
/*
 * A unit test's world: writes dir/hotline.cfg as the shipped menus plus
 * config_body, loads it, and opens a migrated in-memory store in *st.
 * NULL (and *st NULL) on failure, with the reason on stderr. The caller
 * releases both (world_release, store_close).
 */
struct store;
struct world *hl_unit_world(const char *dir, const char *config_body, struct store **st);

/*
 * Prepare a temp folder with a config for nmodems dummy modems, the shipped
 * menus ($HOTLINE_SRC/menus), staff 王建国 13900000001 (崆峒镇, duty),
 * 李秀英 13900000002 (白水镇, 寨子街村), supervisor 张主任 13900000003,
 * quiet hours off unless set in `extra`. `extra` is libconfig text appended
 * to the config (settings not in the base: e.g. "retention = { message_days = 30; };")
 * and may replace a base group by naming it in `replace` (comma-separated
 * top-level group names the base leaves out, e.g. "cases,limits").
 */
int hl_setup(struct hl *h, int nmodems, const char *replace, const char *extra);
/*
 * The same folder layout with `make run`'s configuration ($HOTLINE_SRC/config/hotline.cfg)
 * as shipped, only its paths (database, menus, the dummy phone) and HTTP ports
 * (USSD, the staff console) moved into the temp folder (and allow_root, for a test run as root).
 * Secret as shipped ("change-me"). -1 when the shipped file no longer has those lines.
 */
int hl_setup_shipped(struct hl *h);
/*
 * Run hotlined on a test clock (HOTLINE_TEST_CLOCK, util.h) that starts at
 * unix time `start` (0: now): call before hl_start. hl_advance moves it on,
 * so a test plays a person's pace (2 s between messages) without waiting.
 * hl_now is the daemon's time; hl_sms_at places an SMS stamped with it.
 */
int hl_use_clock(struct hl *h, int64_t start);
int hl_advance(struct hl *h, int64_t seconds);
int64_t hl_now(struct hl *h);
int hl_sms_now(struct hl *h, int modem, const char *phone, const char *text);
/*
 * As hl_setup, but modem i is libgammu's real `at` connection to an AT modem
 * emulator (tests/tools/atemu.py) started here on a pty in dir/emu<i>.
 * modem_keys is libconfig text added to each modem's entry (e.g.
 * "op_timeout = 3;"), or NULL. hl_cleanup stops the emulators by PID.
 */
int hl_setup_at(struct hl *h, int nmodems, const char *modem_keys, const char *replace, const char *extra);
/* Start emulator i in dir/emu<i> (hl_setup_at does it for each modem; more for tools such as modem scan). */
int hl_emu_start(struct hl *h, int i);
/*
 * One order to emulator i (see tests/tools/atemu.py), printf-style. Returns
 * its answer ("ok ..." or "error ..."; caller frees), NULL when it cannot be
 * reached. hl_emu_int: the number after "ok ", -1 on an error.
 */
char *hl_emu(struct hl *h, int i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
long long hl_emu_int(struct hl *h, int i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Wait until emulator i answers fmt with "ok N", N >= want. */
bool hl_emu_wait(struct hl *h, int i, long long want, int timeout_ms, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Start $HOTLINE_BUILD/hotlined -c cfg (extra args may be NULL) and wait until it is ready. */
int hl_start(struct hl *h, const char *const *extra_args);
/* Send sig (SIGTERM, SIGKILL...) and wait up to timeout_ms; returns the exit status, -1 on timeout. */
int hl_stop(struct hl *h, int sig, int timeout_ms);
/* Stop if running, remove the folder. */
void hl_cleanup(struct hl *h);

/* Place an SMS from phone in modem i's inbox (opts NULL: defaults). Returns parts written, -1 on error. */
int hl_sms(struct hl *h, int modem, const char *phone, const char *text, const struct gsm_inject_opts *opts);
/* Files left in modem i's inbox folder. */
int hl_inbox_count(struct hl *h, int modem);

/* Poll fn every 20 ms until it returns true or timeout_ms pass. */
bool hl_wait(int timeout_ms, bool (*fn)(struct hl *h, void *arg), struct hl *h, void *arg);
/* Wait until the SQL query (one integer) returns at least want. */
bool hl_wait_count(struct hl *h, int want, int timeout_ms, const char *sql_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* One integer from a query on the daemon's database (-1 on error). */
long long hl_int(struct hl *h, const char *sql_fmt, ...) __attribute__((format(printf, 2, 3)));
/* One text value (first row, first column) or NULL; caller frees. */
char *hl_text(struct hl *h, const char *sql_fmt, ...) __attribute__((format(printf, 2, 3)));
/* phone as the daemon stores it (normalised with the shipped phone.country_code) into buf; returns buf. */
const char *hl_phone(const char *phone, char *buf, size_t len);
/* The newest reply text queued or sent to phone (any form: normalised as the daemon does with
 * the shipped phone.country_code), or NULL; caller frees. */
char *hl_last_reply(struct hl *h, const char *phone);
/* Wait until phone has at least n outbound messages; then hl_last_reply. */
char *hl_wait_reply(struct hl *h, const char *phone, int n, int timeout_ms);

/*
 * HTTP through the curl command: method, path (e.g. "/ussd/SECRET"),
 * form body or NULL, extra header or NULL. *status gets the HTTP code (0 on
 * failure). Returns the body (caller frees) or NULL.
 */
char *hl_http(struct hl *h, const char *method, const char *path, const char *body, const char *header, int *status);

/* Does the daemon's log contain this text? How many of its lines do? */
bool hl_log_has(struct hl *h, const char *text);
int hl_log_count(struct hl *h, const char *text);
/* Print the daemon's log to stderr (call when a test fails). */
void hl_dump_log(struct hl *h);

#endif
