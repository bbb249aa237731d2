/*
 * auth: the console's accounts, passwords, sessions, login throttling and
 * roles (the only module that includes <sodium.h>).
 *
 * Passwords are Argon2id strings (crypto_pwhash_str, interactive limits);
 * tokens (sessions, CSRF, the setup link) are 32 random bytes in hex; only a
 * token's BLAKE2b hash is stored, so a copy of the database opens no session.
 * Secrets are compared in constant time. auth_may() is THE role check: every
 * page and action of the console asks it, nothing else decides who may see
 * or do what.
 */
#ifndef HOTLINE_AUTH_H
#define HOTLINE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"
#include "store_cases.h"

#define AUTH_TOKEN_LEN 64 /* hex characters of a token or a token hash */
#define AUTH_HASH_MAX  128 /* crypto_pwhash_STRBYTES */

/* sodium_init(); -1 when the library cannot start (no entropy). Safe to call again. */
int auth_init(void) WARN_UNUSED;

/* Argon2id of password into out (AUTH_HASH_MAX bytes). -1 when out of memory. */
int auth_hash_password(const char *password, char out[AUTH_HASH_MAX]) WARN_UNUSED;
bool auth_verify_password(const char *hash, const char *password);
/* Long enough to be a password: at least AUTH_MIN_PASSWORD bytes, at most 1,000. */
#define AUTH_MIN_PASSWORD 8
bool auth_password_ok(const char *password);
/* A fresh random token: AUTH_TOKEN_LEN hex characters + NUL. */
void auth_random_token(char out[AUTH_TOKEN_LEN + 1]);
/* The stored form of a token (BLAKE2b-256, hex). */
void auth_token_hash(const char *token, char out[AUTH_TOKEN_LEN + 1]);
/* Constant-time comparison of two strings (the time depends only on their lengths). */
bool auth_equal(const char *a, const char *b);

/*
 * Throttling, pure: given failure times (ascending), is the account or
 * address locked at now, and until when (0: not locked)? A lockout starts
 * at the failure that makes `max_failures` within `lock_seconds`, and lasts
 * lock_seconds from it. Attempts during a lockout are refused unchecked and
 * not counted.
 */
int64_t auth_locked_until(const int64_t *times, size_t n, int64_t now, int max_failures, int lock_seconds);

enum auth_role { AUTH_ADMIN, AUTH_SUPERVISOR, AUTH_STAFF, AUTH_VIEWER };
/* "admin", ... ; -1 when none. */
int auth_role_parse(const char *s);
const char *auth_role_code(enum auth_role r);

/* Who is asking: an account, with its linked staff entry resolved against the current config. */
struct auth_user {
	int64_t id;
	char name[96];
	enum auth_role role;
	const struct staff_cfg *staff; /* NULL when not linked */
};

enum auth_act {
	AUTH_DASHBOARD,   /* the dashboard (figures; personal data only with AUTH_CASE_LIST) */
	AUTH_REPORTS,     /* figures without personal data */
	AUTH_CASE_LIST,   /* lists of cases (each row still passes AUTH_CASE_VIEW) */
	AUTH_CASE_VIEW,   /* one case's personal data (k required) */
	AUTH_CASE_ACT,    /* accept, status changes, notes on case k */
	AUTH_CASE_ASSIGN, /* give case k to someone */
	AUTH_EXPORT,      /* CSV/XLSX of cases (each row still passes AUTH_CASE_VIEW) */
	AUTH_USERS,       /* accounts */
	AUTH_AUDIT,       /* the audit log */
	AUTH_DEVICES,     /* modem state */
	AUTH_MESSAGES,    /* 短信记录: anyone's messages */
	AUTH_FEEDBACK,    /* 意见建议: read, mark handled, answer by SMS */
	AUTH_MENU,        /* 菜单: the tree and the simulator (no personal data) */
	AUTH_CASE_ALL,    /* every case, whatever its place or staff (lists may then page in SQL) */
};
#define AUTH_ACT_LAST AUTH_CASE_ALL

/*
 * May u do act (on case k, for the case acts)? admin: everything;
 * supervisor: everything but accounts and the audit log; staff: the cases of
 * their areas (a town or village of theirs named in the case's place) and
 * those they have, the devices and the menus (not everyone's messages or
 * feedback); viewer: the dashboard's figures and reports only.
 */
bool auth_may(const struct auth_user *u, enum auth_act act, const struct store_case *k);

/* ---- flows over the store (inside the caller's transaction) ---------------------------------- */

struct auth_policy {
	int max_failures;   /* console.login_failures */
	int lock_seconds;   /* console.lockout_minutes * 60 */
	int idle_seconds;   /* console.session_idle */
};

enum auth_login_outcome {
	AUTH_LOGIN_OK,
	AUTH_LOGIN_BAD,       /* unknown name or wrong password (the same answer) */
	AUTH_LOGIN_LOCKED,    /* too many failures for this account or from this address */
	AUTH_LOGIN_DISABLED,
};

struct auth_login {
	enum auth_login_outcome outcome;
	bool locked_now;      /* this failure started a lockout */
	int64_t locked_until;
	char token[AUTH_TOKEN_LEN + 1]; /* the session cookie, when OK */
	struct auth_user user;
};

/* Check a login, record a failure or open a session. */
int auth_login(struct store *st, const struct config *cfg, const struct auth_policy *p, const char *name,
    const char *password, const char *addr, int64_t now, struct auth_login *r) WARN_UNUSED;
/*
 * The session of a cookie token: *ok, the user, its CSRF token (csrf at
 * least AUTH_TOKEN_LEN + 1). An idle session is deleted; a disabled account
 * has none. Touches last_seen.
 */
int auth_session(struct store *st, const struct config *cfg, const struct auth_policy *p, const char *token,
    int64_t now, struct auth_user *u, char *csrf, bool *ok) WARN_UNUSED;
int auth_logout(struct store *st, const char *token) WARN_UNUSED;

/* Accounts (hotlinectl user ..., the console's 用户 page and first setup); staff_phone normalised (phone.h). */
int auth_user_add(struct store *st, const char *name, const char *password, const char *role,
    const char *staff_phone, int64_t now, bool *added) WARN_UNUSED;
int auth_user_passwd(struct store *st, const char *name, const char *password, int64_t now, bool *found) WARN_UNUSED;
/* Disable (and end its sessions) or enable again. */
int auth_user_disable(struct store *st, const char *name, bool disabled, int64_t now, bool *found) WARN_UNUSED;

/* The one-time setup link: a new token valid for `valid` seconds (replacing any earlier one). */
int auth_setup_create(struct store *st, int64_t now, int valid, char token[AUTH_TOKEN_LEN + 1]) WARN_UNUSED;
int auth_setup_check(struct store *st, const char *token, int64_t now, bool take, bool *ok) WARN_UNUSED;

#endif
