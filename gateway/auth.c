#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "store_console.h"

int auth_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

int auth_hash_password(const char *password, char out[AUTH_HASH_MAX])
{
	_Static_assert(AUTH_HASH_MAX >= crypto_pwhash_STRBYTES, "AUTH_HASH_MAX");
	return crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : -1;
}

bool auth_verify_password(const char *hash, const char *password)
{
	return hash != NULL && password != NULL && crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

bool auth_password_ok(const char *password)
{
	size_t n = password ? strlen(password) : 0;

	return n >= AUTH_MIN_PASSWORD && n <= 1000;
}

void auth_random_token(char out[AUTH_TOKEN_LEN + 1])
{
	unsigned char raw[AUTH_TOKEN_LEN / 2];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, AUTH_TOKEN_LEN + 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
}

void auth_token_hash(const char *token, char out[AUTH_TOKEN_LEN + 1])
{
	unsigned char h[AUTH_TOKEN_LEN / 2];

	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(out, AUTH_TOKEN_LEN + 1, h, sizeof(h));
}

bool auth_equal(const char *a, const char *b)
{
	size_t na, nb;

	if (a == NULL || b == NULL)
		return false;
	na = strlen(a);
	nb = strlen(b);
	if (na != nb || na == 0)
		return false;
	return sodium_memcmp(a, b, na) == 0;
}

int64_t auth_locked_until(const int64_t *times, size_t n, int64_t now, int max_failures, int lock_seconds)
{
	size_t m = max_failures > 0 ? (size_t)max_failures : 1;

	/* the latest failure that completed max_failures within lock_seconds starts the lockout */
	for (size_t i = n; i-- >= m;) {
		if (times[i] - times[i + 1 - m] <= lock_seconds) {
			int64_t until = times[i] + lock_seconds;
			return until > now ? until : 0;
		}
		if (i == 0)
			break;
	}
	return 0;
}

/* ---- roles --------------------------------------------------------------------------------------------- */

static const char *const role_codes[] = { "admin", "supervisor", "staff", "viewer" };

int auth_role_parse(const char *s)
{
	for (size_t i = 0; s && i < ARRAY_LEN(role_codes); i++)
		if (strcmp(s, role_codes[i]) == 0)
			return (int)i;
	return -1;
}

const char *auth_role_code(enum auth_role r)
{
	return (size_t)r < ARRAY_LEN(role_codes) ? role_codes[r] : "?";
}

/* Is case k one of staff member s's: theirs, or in one of their areas? */
static bool case_in_scope(const struct staff_cfg *s, const struct store_case *k)
{
	if (s == NULL || k == NULL)
		return false;
	if (k->staff != NULL && strcmp(k->staff, s->name) == 0)
		return true;
	for (size_t a = 0; k->place != NULL && a < s->nareas; a++)
		if (*s->areas[a] != '\0' && strstr(k->place, s->areas[a]) != NULL)
			return true;
	return false;
}

bool auth_may(const struct auth_user *u, enum auth_act act, const struct store_case *k)
{
	if (u == NULL)
		return false;
	switch (u->role) {
	case AUTH_ADMIN:
		return act != AUTH_CASE_VIEW && act != AUTH_CASE_ACT && act != AUTH_CASE_ASSIGN ? true : k != NULL;
	case AUTH_SUPERVISOR:
		if (act == AUTH_USERS || act == AUTH_AUDIT)
			return false;
		return act != AUTH_CASE_VIEW && act != AUTH_CASE_ACT && act != AUTH_CASE_ASSIGN ? true : k != NULL;
	case AUTH_STAFF:
		switch (act) {
		case AUTH_DASHBOARD:
		case AUTH_CASE_LIST:
		case AUTH_EXPORT:
		case AUTH_DEVICES:
		case AUTH_MENU:
			return u->staff != NULL;
		case AUTH_CASE_VIEW:
		case AUTH_CASE_ACT:
			return case_in_scope(u->staff, k);
		default:
			return false;
		}
	case AUTH_VIEWER:
		return act == AUTH_DASHBOARD || act == AUTH_REPORTS;
	}
	return false;
}

/* ---- flows --------------------------------------------------------------------------------------------- */

#define FAILURE_MAX 64

static int locked(struct store *st, const struct auth_policy *p, const char *kind, const char *key, int64_t now,
    int64_t *until)
{
	int64_t times[FAILURE_MAX];
	size_t n;

	*until = 0;
	if (store_failure_times(st, kind, key, now - 2 * (int64_t)p->lock_seconds, times, FAILURE_MAX, &n) < 0)
		return -1;
	*until = auth_locked_until(times, n, now, p->max_failures, p->lock_seconds);
	return 0;
}

static void fill_user(const struct config *cfg, const struct console_account *a, struct auth_user *u)
{
	int role = auth_role_parse(a->role);

	memset(u, 0, sizeof(*u));
	u->id = a->id;
	snprintf(u->name, sizeof(u->name), "%s", a->name);
	u->role = role < 0 ? AUTH_VIEWER : (enum auth_role)role;
	u->staff = a->staff_phone ? config_staff_by_phone(cfg, a->staff_phone) : NULL;
}

int auth_login(struct store *st, const struct config *cfg, const struct auth_policy *p, const char *name,
    const char *password, const char *addr, int64_t now, struct auth_login *r)
{
	struct console_account a;
	int64_t acc_until, addr_until;
	bool found, ok;
	char th[AUTH_TOKEN_LEN + 1], csrf[AUTH_TOKEN_LEN + 1];
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (locked(st, p, "account", name, now, &acc_until) < 0 || locked(st, p, "addr", addr, now, &addr_until) < 0)
		return -1;
	if (acc_until || addr_until) {
		r->outcome = AUTH_LOGIN_LOCKED;
		r->locked_until = acc_until > addr_until ? acc_until : addr_until;
		return 0;
	}
	if (store_account_get(st, name, &a, &found) < 0)
		return -1;
	/* an unknown name costs a hash too, so that timing does not tell names apart */
	ok = auth_verify_password(found ? a.hash : "$argon2id$v=19$m=65536,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
						  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", password) && found;
	if (!ok) {
		r->outcome = AUTH_LOGIN_BAD;
		if (store_failure_add(st, "account", name, now) < 0 || store_failure_add(st, "addr", addr, now) < 0 ||
		    locked(st, p, "account", name, now, &acc_until) < 0 || locked(st, p, "addr", addr, now, &addr_until) < 0)
			goto out;
		if (acc_until || addr_until) {
			r->locked_now = true;
			r->locked_until = acc_until > addr_until ? acc_until : addr_until;
			log_warnx("auth", "console login locked for %d minutes: %s", p->lock_seconds / 60,
			    acc_until ? "too many failures for one account" : "too many failures from one address");
		}
		rc = 0;
		goto out;
	}
	if (a.disabled) {
		r->outcome = AUTH_LOGIN_DISABLED;
		rc = 0;
		goto out;
	}
	if (store_failure_clear(st, "account", name) < 0)
		goto out;
	auth_random_token(r->token);
	auth_random_token(csrf);
	auth_token_hash(r->token, th);
	if (store_csession_add(st, th, a.id, csrf, addr, now) < 0 || store_csession_purge(st, now - p->idle_seconds) < 0)
		goto out;
	fill_user(cfg, &a, &r->user);
	r->outcome = AUTH_LOGIN_OK;
	rc = 0;
out:
	if (found)
		console_account_free(&a);
	return rc;
}

int auth_session(struct store *st, const struct config *cfg, const struct auth_policy *p, const char *token,
    int64_t now, struct auth_user *u, char *csrf, bool *ok)
{
	char th[AUTH_TOKEN_LEN + 1];
	struct console_account a;
	int64_t account_id = 0, last_seen = 0;
	bool found;

	*ok = false;
	if (token == NULL || strlen(token) != AUTH_TOKEN_LEN)
		return 0;
	auth_token_hash(token, th);
	if (store_csession_get(st, th, &account_id, csrf, AUTH_TOKEN_LEN + 1, &last_seen, &found) < 0)
		return -1;
	if (!found)
		return 0;
	if (now - last_seen > p->idle_seconds)
		return store_csession_delete(st, th);
	if (store_account_get_id(st, account_id, &a, &found) < 0)
		return -1;
	if (!found || a.disabled) {
		if (found)
			console_account_free(&a);
		return store_csession_delete(st, th);
	}
	fill_user(cfg, &a, u);
	console_account_free(&a);
	*ok = true;
	/* last_seen need not move on every page: once a minute keeps writes few */
	return now - last_seen >= 60 ? store_csession_touch(st, th, now) : 0;
}

int auth_logout(struct store *st, const char *token)
{
	char th[AUTH_TOKEN_LEN + 1];

	if (token == NULL || strlen(token) != AUTH_TOKEN_LEN)
		return 0;
	auth_token_hash(token, th);
	return store_csession_delete(st, th);
}

int auth_user_add(struct store *st, const char *name, const char *password, const char *role,
    const char *staff_phone, int64_t now, bool *added)
{
	char hash[AUTH_HASH_MAX];

	*added = false;
	if (auth_hash_password(password, hash) < 0)
		return -1;
	if (staff_phone && *staff_phone == '\0')
		staff_phone = NULL; /* else normalised, as the config's staff numbers are */
	return store_account_add(st, name, hash, role, staff_phone, now, added);
}

int auth_user_passwd(struct store *st, const char *name, const char *password, int64_t now, bool *found)
{
	char hash[AUTH_HASH_MAX];
	struct console_account a;

	*found = false;
	if (auth_hash_password(password, hash) < 0 || store_account_set_hash(st, name, hash, now, found) < 0)
		return -1;
	if (!*found)
		return 0;
	/* a new password ends every session of the old one */
	if (store_account_get(st, name, &a, found) < 0)
		return -1;
	int rc = *found ? store_csession_delete_account(st, a.id) : 0;
	if (*found)
		console_account_free(&a);
	return rc;
}

int auth_user_disable(struct store *st, const char *name, bool disabled, int64_t now, bool *found)
{
	struct console_account a;

	if (store_account_set_disabled(st, name, disabled, now, found) < 0)
		return -1;
	if (!*found || !disabled)
		return 0;
	if (store_account_get(st, name, &a, found) < 0)
		return -1;
	int rc = *found ? store_csession_delete_account(st, a.id) : 0;
	if (*found)
		console_account_free(&a);
	return rc;
}

int auth_setup_create(struct store *st, int64_t now, int valid, char token[AUTH_TOKEN_LEN + 1])
{
	char th[AUTH_TOKEN_LEN + 1];

	auth_random_token(token);
	auth_token_hash(token, th);
	return store_setup_set(st, th, now + valid);
}

int auth_setup_check(struct store *st, const char *token, int64_t now, bool take, bool *ok)
{
	char th[AUTH_TOKEN_LEN + 1];

	*ok = false;
	if (token == NULL || strlen(token) != AUTH_TOKEN_LEN)
		return 0;
	auth_token_hash(token, th);
	return store_setup_check(st, th, now, take, ok);
}
