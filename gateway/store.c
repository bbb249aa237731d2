/*
 * store: the connection (open, migrations, transactions, the file's health),
 * the statement cache and the bind-and-run helpers every store_*.c uses
 * (store_int.h), retention and sequences. The tables' own functions are in
 * store_messages.c, store_outbox.c, store_parts.c, store_sessions.c and the
 * other store_*.c.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "phone.h"

/*
 * The outcome of the last writes over every connection of the process: a
 * sequence number orders successes and failures, so "the last outcome was an
 * error" needs no clock.
 */
static pthread_mutex_t health_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint64_t seq, ok_seq, err_seq;
	struct store_health h;
} health;

static void health_error(sqlite3 *db)
{
	int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;

	/* a busy handler that gave up, a full disk, an I/O error, corruption... not a row that is not there */
	if (code == SQLITE_OK || code == SQLITE_ROW || code == SQLITE_DONE)
		return;
	pthread_mutex_lock(&health_lock);
	health.err_seq = ++health.seq;
	health.h.last_error_at = now_unix();
	health.h.errors++;
	snprintf(health.h.last_error, sizeof(health.h.last_error), "%s", db ? sqlite3_errmsg(db) : "out of memory");
	pthread_mutex_unlock(&health_lock);
}

static void health_commit(void)
{
	pthread_mutex_lock(&health_lock);
	health.ok_seq = ++health.seq;
	health.h.last_commit = now_unix();
	pthread_mutex_unlock(&health_lock);
}

void store_health(struct store_health *out)
{
	pthread_mutex_lock(&health_lock);
	*out = health.h;
	out->failing = health.err_seq > health.ok_seq;
	pthread_mutex_unlock(&health_lock);
}

void store_health_reset(void)
{
	pthread_mutex_lock(&health_lock);
	memset(&health, 0, sizeof(health));
	pthread_mutex_unlock(&health_lock);
}

/*
 * Forward migrations, one per schema version. Never edit one that has
 * shipped: add the next. Each runs in its own transaction with the
 * user_version bump.
 */
static const char *const migrations[] = {
	/* 1: messages, inbound parts, outbox, sessions, sequences */
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  channel TEXT NOT NULL,"
	"  direction TEXT NOT NULL CHECK (direction IN ('in','out')),"
	"  phone TEXT NOT NULL,"
	"  phone_key TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  raw BLOB,"
	"  parts INTEGER NOT NULL DEFAULT 1,"
	"  modem TEXT,"
	"  status TEXT NOT NULL,"
	"  node TEXT,"
	"  kind TEXT,"
	"  session TEXT,"
	"  error TEXT,"
	"  reply_to INTEGER REFERENCES messages(id),"
	"  smsc_time INTEGER,"
	"  msg_ref INTEGER,"
	"  uncertain INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  sent_at INTEGER"
	");"
	"CREATE INDEX messages_phone ON messages(phone_key, created_at);"
	"CREATE INDEX messages_created ON messages(created_at);"
	"CREATE INDEX messages_reply ON messages(reply_to);"
	"CREATE TABLE inbox_parts ("
	"  id INTEGER PRIMARY KEY,"
	"  modem TEXT NOT NULL,"
	"  sender TEXT NOT NULL,"
	"  smsc_time INTEGER NOT NULL,"
	"  ref INTEGER NOT NULL,"
	"  ref_bits INTEGER NOT NULL,"
	"  total INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  digest INTEGER NOT NULL,"
	"  text TEXT NOT NULL,"
	"  raw BLOB,"
	"  kind TEXT NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  message_id INTEGER REFERENCES messages(id),"
	"  UNIQUE (modem, sender, smsc_time, ref, seq, digest)"
	");"
	"CREATE INDEX inbox_parts_open ON inbox_parts(modem, sender, ref, ref_bits, total) WHERE message_id IS NULL;"
	"CREATE TABLE outbox ("
	"  message_id INTEGER PRIMARY KEY REFERENCES messages(id),"
	"  modem TEXT,"
	"  priority INTEGER NOT NULL DEFAULT 0,"
	"  not_before INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  sending INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX outbox_due ON outbox(sending, modem, not_before);"
	"CREATE TABLE sessions ("
	"  key TEXT PRIMARY KEY,"
	"  phone TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  node TEXT NOT NULL,"
	"  page INTEGER NOT NULL DEFAULT 0,"
	"  screen INTEGER NOT NULL DEFAULT 0,"
	"  mode INTEGER NOT NULL DEFAULT 0,"
	"  form_step INTEGER NOT NULL DEFAULT 0,"
	"  form_name TEXT, form_place TEXT, form_need TEXT, form_phone TEXT,"
	"  last_reply TEXT,"
	"  ussd_text TEXT,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE INDEX sessions_idle ON sessions(mode, updated_at);"
	"CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);",

	/* 2: cases with their history, feedback */
	"CREATE TABLE cases ("
	"  id INTEGER PRIMARY KEY,"
	"  number TEXT NOT NULL UNIQUE,"
	"  topic TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  applicant_phone TEXT NOT NULL,"
	"  applicant_key TEXT NOT NULL,"
	"  contact_phone TEXT,"
	"  name TEXT, place TEXT, need TEXT,"
	"  staff TEXT,"
	"  status TEXT NOT NULL,"
	"  reason TEXT,"
	"  message_id INTEGER REFERENCES messages(id),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  accepted_at INTEGER, visited_at INTEGER, closed_at INTEGER,"
	"  escalated_at INTEGER, resent_at INTEGER"
	");"
	"CREATE INDEX cases_applicant ON cases(applicant_key);"
	"CREATE INDEX cases_status ON cases(status, staff);"
	"CREATE TABLE case_events ("
	"  id INTEGER PRIMARY KEY,"
	"  case_id INTEGER NOT NULL REFERENCES cases(id),"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  old_status TEXT,"
	"  new_status TEXT,"
	"  note TEXT"
	");"
	"CREATE INDEX case_events_case ON case_events(case_id, at);"
	"CREATE TABLE feedback ("
	"  id INTEGER PRIMARY KEY,"
	"  number TEXT NOT NULL UNIQUE,"
	"  phone TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  message_id INTEGER REFERENCES messages(id),"
	"  status TEXT NOT NULL DEFAULT 'new',"
	"  created_at INTEGER NOT NULL"
	");",

	/* 3: modem health for `hotlinectl modem`, readings, requests to the modem threads, alerts sent */
	"CREATE TABLE modem_status ("
	"  modem TEXT PRIMARY KEY,"
	"  state TEXT NOT NULL,"
	"  since INTEGER NOT NULL,"
	"  signal INTEGER, network TEXT, battery INTEGER,"
	"  balance REAL, balance_at INTEGER,"
	"  resets INTEGER NOT NULL DEFAULT 0,"
	"  error TEXT,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE TABLE modem_readings ("
	"  id INTEGER PRIMARY KEY,"
	"  modem TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  signal INTEGER, network TEXT, battery INTEGER,"
	"  balance REAL,"
	"  answer TEXT"
	");"
	"CREATE INDEX modem_readings_at ON modem_readings(modem, at);"
	"CREATE TABLE modem_requests ("
	"  id INTEGER PRIMARY KEY,"
	"  modem TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  arg TEXT NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'pending',"
	"  answer TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  done_at INTEGER"
	");"
	"CREATE INDEX modem_requests_pending ON modem_requests(modem, status);"
	"CREATE TABLE alerts ("
	"  kind TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  PRIMARY KEY (kind, key)"
	");",

	/*
	 * 4: fewer pages written per message (each commit waits for them): sessions
	 * keyed by their key alone (WITHOUT ROWID) with an index only over
	 * half-filled forms; no index on messages.reply_to (nothing looks up by it).
	 */
	"CREATE TABLE sessions_new ("
	"  key TEXT PRIMARY KEY,"
	"  phone TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  node TEXT NOT NULL,"
	"  page INTEGER NOT NULL DEFAULT 0,"
	"  screen INTEGER NOT NULL DEFAULT 0,"
	"  mode INTEGER NOT NULL DEFAULT 0,"
	"  form_step INTEGER NOT NULL DEFAULT 0,"
	"  form_name TEXT, form_place TEXT, form_need TEXT, form_phone TEXT,"
	"  last_reply TEXT,"
	"  ussd_text TEXT,"
	"  updated_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"INSERT INTO sessions_new SELECT key, phone, channel, node, page, screen, mode, form_step, form_name,"
	"  form_place, form_need, form_phone, last_reply, ussd_text, updated_at FROM sessions;"
	"DROP TABLE sessions;"
	"ALTER TABLE sessions_new RENAME TO sessions;"
	"CREATE INDEX sessions_forms ON sessions(updated_at) WHERE mode = 1;"
	"DROP INDEX messages_reply;"
	/* the outbox is short (rows leave when sent): a scan beats keeping an index */
	"DROP INDEX outbox_due;",

	/*
	 * 5: the staff web console (store_console.c): accounts (Argon2id hashes),
	 * sessions (the token's hash only), the one-time setup token, login
	 * failures (throttling), and the audit log.
	 */
	"CREATE TABLE console_accounts ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  hash TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('admin','supervisor','staff','viewer')),"
	"  staff_phone TEXT,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE TABLE console_sessions ("
	"  token_hash TEXT PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES console_accounts(id),"
	"  csrf TEXT NOT NULL,"
	"  addr TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE console_setup ("
	"  token_hash TEXT PRIMARY KEY,"
	"  expires_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE console_failures ("
	"  kind TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  at INTEGER NOT NULL"
	");"
	"CREATE INDEX console_failures_key ON console_failures(kind, key, at);"
	"CREATE TABLE console_audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  who TEXT NOT NULL,"
	"  addr TEXT,"
	"  action TEXT NOT NULL,"
	"  target TEXT,"
	"  detail TEXT"
	");"
	"CREATE INDEX console_audit_at ON console_audit(at);",

	/*
	 * 6: every stored number in its E.164 form (phone.c), as the edges now
	 * give them: a number is compared only with normalised numbers, so +1 390
	 * 000 0001 is no longer 139 0000 0001. The keys beside the numbers
	 * (phone_key, applicant_key, "sms:" session keys) become the same
	 * normalised number. OR IGNORE: a row whose new key would collide with
	 * another keeps its old one (it can only be an already merged duplicate).
	 */
	"UPDATE messages SET phone = hotline_phone(phone), phone_key = hotline_phone(phone);"
	"UPDATE OR IGNORE inbox_parts SET sender = hotline_phone(sender);"
	"UPDATE sessions SET phone = hotline_phone(phone), form_phone = hotline_phone(form_phone);"
	"UPDATE OR IGNORE sessions SET key = 'sms:' || phone WHERE key LIKE 'sms:%';"
	"UPDATE cases SET applicant_phone = hotline_phone(applicant_phone),"
	"  applicant_key = hotline_phone(applicant_phone), contact_phone = hotline_phone(contact_phone);"
	"UPDATE feedback SET phone = hotline_phone(phone);"
	"UPDATE OR IGNORE alerts SET key = hotline_phone(key) WHERE kind = 'digest';"
	"UPDATE console_accounts SET staff_phone = hotline_phone(staff_phone);",

	/*
	 * 7: Kannel links: the id Kannel gave each inbound message (a retried or
	 * replayed call is recognised), and the delivery state of sent messages.
	 * New tables only (IF NOT EXISTS): running it again changes nothing.
	 */
	"CREATE TABLE IF NOT EXISTS inbound_keys ("
	"  channel TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  message_id INTEGER NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  PRIMARY KEY (channel, key)"
	") WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS deliveries ("
	"  message_id INTEGER PRIMARY KEY REFERENCES messages(id),"
	"  state TEXT NOT NULL,"
	"  at INTEGER NOT NULL"
	");",

	/*
	 * 8: contacts and their groups (rosters, applicants, self-subscribed, opt-out);
	 * broadcasts and their recipients (a broadcast message is an outbox row whose
	 * message has kind 'broadcast'; delivery reports go in the deliveries table,
	 * from 7); sends per modem for the broadcast rate. No table is altered: the
	 * migration can run again.
	 */
	"CREATE TABLE IF NOT EXISTS contacts ("
	"  id INTEGER PRIMARY KEY,"
	"  phone TEXT NOT NULL UNIQUE,"
	"  name TEXT, town TEXT, village TEXT,"
	"  source TEXT NOT NULL,"
	"  opted_out INTEGER NOT NULL DEFAULT 0,"
	"  opted_out_at INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE INDEX IF NOT EXISTS contacts_place ON contacts(town, village);"
	"CREATE TABLE IF NOT EXISTS contact_groups ("
	"  contact_id INTEGER NOT NULL REFERENCES contacts(id),"
	"  grp TEXT NOT NULL,"
	"  PRIMARY KEY (contact_id, grp)"
	") WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS contact_groups_grp ON contact_groups(grp, contact_id);"
	"CREATE TABLE IF NOT EXISTS broadcasts ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL DEFAULT 'broadcast',"
	"  text TEXT NOT NULL,"
	"  audience TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  start_at INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  approved_by TEXT, approved_at INTEGER,"
	"  updated_at INTEGER NOT NULL,"
	"  done_at INTEGER,"
	"  dedup TEXT UNIQUE"
	");"
	"CREATE TABLE IF NOT EXISTS broadcast_recipients ("
	"  broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id),"
	"  seq INTEGER NOT NULL,"
	"  contact_id INTEGER REFERENCES contacts(id),"
	"  phone TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  reason TEXT,"
	"  message_id INTEGER REFERENCES messages(id),"
	"  PRIMARY KEY (broadcast_id, seq)"
	") WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS broadcast_recipients_todo ON broadcast_recipients(broadcast_id, status, seq);"
	"CREATE INDEX IF NOT EXISTS messages_broadcast_sent ON messages(modem, sent_at) WHERE kind = 'broadcast';",
	/*
	 * 9: messages that answer what the hotline asked (a form field, a menu digit
	 * in a live conversation) and their replies: they do not count against the
	 * reply limits, and a report counts questions, not these. A USSD session
	 * answered with END: a repeated or continued step gets that answer again.
	 * An inbox part is told apart by where it sits on the phone too (two "1"
	 * in the same second are two messages), and `gone` (its own id once
	 * deleted from the phone) lets that place be used again. A suggestion can
	 * be marked handled, with a note.
	 */
	("ALTER TABLE messages ADD COLUMN asked INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE sessions ADD COLUMN ussd_end INTEGER NOT NULL DEFAULT 0;"
	 "CREATE TABLE inbox_parts_new ("
	 "  id INTEGER PRIMARY KEY,"
	 "  modem TEXT NOT NULL,"
	 "  sender TEXT NOT NULL,"
	 "  smsc_time INTEGER NOT NULL,"
	 "  ref INTEGER NOT NULL,"
	 "  ref_bits INTEGER NOT NULL,"
	 "  total INTEGER NOT NULL,"
	 "  seq INTEGER NOT NULL,"
	 "  digest INTEGER NOT NULL,"
	 "  text TEXT NOT NULL,"
	 "  raw BLOB,"
	 "  kind TEXT NOT NULL,"
	 "  received_at INTEGER NOT NULL,"
	 "  message_id INTEGER REFERENCES messages(id),"
	 "  location INTEGER NOT NULL DEFAULT -1,"
	 "  gone INTEGER NOT NULL DEFAULT 0,"
	 "  UNIQUE (modem, sender, smsc_time, ref, seq, digest, location, gone)"
	 ");"
	 "INSERT INTO inbox_parts_new (id, modem, sender, smsc_time, ref, ref_bits, total, seq, digest, text, raw, kind,"
	 "  received_at, message_id) SELECT id, modem, sender, smsc_time, ref, ref_bits, total, seq, digest, text, raw,"
	 "  kind, received_at, message_id FROM inbox_parts;"
	 "DROP TABLE inbox_parts;"
	 "ALTER TABLE inbox_parts_new RENAME TO inbox_parts;"
	 "CREATE INDEX inbox_parts_open ON inbox_parts(modem, sender, ref, ref_bits, total) WHERE message_id IS NULL;"
	 "CREATE INDEX inbox_parts_place ON inbox_parts(modem, location) WHERE gone = 0;"
	 "ALTER TABLE feedback ADD COLUMN note TEXT;"
	 "ALTER TABLE feedback ADD COLUMN done_at INTEGER;"),

	/*
	 * 10: a long reply's progress, so that a retry sends only the parts that
	 * did not go, with the same concatenation reference (issue 12). A row
	 * beside the outbox row, gone with it.
	 */
	"CREATE TABLE IF NOT EXISTS outbox_progress ("
	"  message_id INTEGER PRIMARY KEY,"
	"  concat_ref INTEGER,"
	"  parts_done INTEGER NOT NULL DEFAULT 0"
	");",

	/*
	 * 11: the sent messages of a channel by time, for the Kannel links' scan
	 * of sends the SMSC has not acknowledged (resent after ack_timeout or a
	 * restart of bearerbox). An index only: the migration can run again.
	 */
	"CREATE INDEX IF NOT EXISTS messages_out_sent ON messages(modem, sent_at) WHERE direction = 'out';",
};

/* hotline_phone(x) in SQL: x normalised (phone_normalise), for migration 6; NULL and "" stay. */
static void sql_hotline_phone(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct store *st = sqlite3_user_data(ctx);
	const unsigned char *in = sqlite3_value_text(argv[0]);
	char out[PHONE_LEN];

	(void)argc;
	if (in == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	if (phone_normalise((const char *)in, st->country, out, sizeof(out)) == PHONE_NONE)
		sqlite3_result_value(ctx, argv[0]);
	else
		sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

int store_schema_version(void)
{
	return (int)ARRAY_LEN(migrations);
}

static int exec(struct store *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		health_error(st->db);
		log_errorx("store", "%s: %.60s", msg ? msg : sqlite3_errmsg(st->db), sql);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int store_fail(struct store *st, const char *sql)
{
	char name[48];
	size_t n = 0;

	for (const char *p = sql; *p && n + 1 < sizeof(name); p++)
		name[n++] = *p == '\n' ? ' ' : *p;
	name[n] = '\0';
	health_error(st->db);
	log_errorx("store", "%s (in \"%s...\")", sqlite3_errmsg(st->db), name);
	return -1;
}

/*
 * The prepared statement for a static SQL string (prepared on first use,
 * then reset and cleared of bindings on each call). NULL on error (logged).
 */
static sqlite3_stmt *store_stmt(struct store *st, const char *sql)
{
	size_t h = (size_t)(((uintptr_t)sql >> 3) % STORE_STMT_SLOTS);

	for (size_t k = 0; k < STORE_STMT_SLOTS; k++) {
		size_t i = (h + k) % STORE_STMT_SLOTS;
		if (st->cache[i].sql == sql) {
			sqlite3_reset(st->cache[i].stmt);
			sqlite3_clear_bindings(st->cache[i].stmt);
			return st->cache[i].stmt;
		}
		if (st->cache[i].sql == NULL) {
			sqlite3_stmt *s;
			if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
				store_fail(st, sql);
				return NULL;
			}
			st->cache[i].sql = sql;
			st->cache[i].stmt = s;
			return s;
		}
	}
	log_errorx("store", "statement cache full");
	return NULL;
}

const char *store_col_text(sqlite3_stmt *s, int idx)
{
	const unsigned char *t = sqlite3_column_text(s, idx);

	return t ? (const char *)t : "";
}

/*
 * Bind args to s, which store_stmt has just cleared (every parameter NULL,
 * so a NULL value needs no call). 0, or -1 (logged) when a bind fails or
 * the count is not the statement's.
 */
static int bind_args(struct store *st, const char *sql, sqlite3_stmt *s, const struct store_arg *args)
{
	static const struct store_arg none[] = { { .type = STORE_ARG_END } };
	int n = 0, rc = SQLITE_OK;

	for (const struct store_arg *a = args ? args : none; a->type != STORE_ARG_END; a++) {
		int i = ++n;
		switch (a->type) {
		case STORE_ARG_INT:
			rc = sqlite3_bind_int64(s, i, a->i);
			break;
		case STORE_ARG_POS:
			if (a->i > 0)
				rc = sqlite3_bind_int64(s, i, a->i);
			break;
		case STORE_ARG_KNOWN:
			if (a->i >= 0)
				rc = sqlite3_bind_int64(s, i, a->i);
			break;
		case STORE_ARG_REAL:
			rc = sqlite3_bind_double(s, i, a->d);
			break;
		case STORE_ARG_TEXT:
			if (a->t)
				rc = sqlite3_bind_text(s, i, a->t, a->len, SQLITE_TRANSIENT);
			break;
		case STORE_ARG_BLOB:
			if (a->b)
				rc = sqlite3_bind_blob(s, i, a->b, a->len, SQLITE_TRANSIENT);
			break;
		case STORE_ARG_NULL:
		case STORE_ARG_END:
			break;
		}
		if (rc != SQLITE_OK)
			return store_fail(st, sql);
	}
	/* a value too many or too few is a bug in the caller: say which statement, whatever the build */
	if (n != sqlite3_bind_parameter_count(s)) {
		log_errorx("store", "%d values for the %d parameters of \"%.40s...\"", n,
		    sqlite3_bind_parameter_count(s), sql);
		return -1;
	}
	return 0;
}

sqlite3_stmt *store_query_a(struct store *st, const char *sql, const struct store_arg *args)
{
	sqlite3_stmt *s = store_stmt(st, sql);

	if (s == NULL || bind_args(st, sql, s, args) < 0)
		return NULL;
	return s;
}

int store_end(struct store *st, const char *sql, sqlite3_stmt *s, int rc)
{
	int ret = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_fail(st, sql);

	sqlite3_reset(s);
	return ret;
}

int store_run_a(struct store *st, const char *sql, const struct store_arg *args)
{
	sqlite3_stmt *s = store_query_a(st, sql, args);

	return s == NULL ? -1 : store_end(st, sql, s, sqlite3_step(s));
}

int store_get_int_a(struct store *st, const char *sql, const struct store_arg *args, int64_t *out)
{
	sqlite3_stmt *s = store_query_a(st, sql, args);
	int rc;

	*out = 0;
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	return store_end(st, sql, s, rc);
}

int store_count_a(struct store *st, const char *sql, const struct store_arg *args, int *out)
{
	int64_t v;
	int rc = store_get_int_a(st, sql, args, &v);

	*out = (int)v;
	return rc;
}

int store_finish(struct store *st, int rc)
{
	if (rc == 0)
		return store_commit(st);
	store_rollback(st);
	return -1;
}

int store_file_version(struct store *st)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int migrate(struct store *st, int target)
{
	int have = store_file_version(st);

	if (have < 0)
		return -1;
	if (have > store_schema_version()) {
		log_errorx("store", "%s has schema version %d, newer than this build's %d: use a newer hotlined",
		    st->path, have, store_schema_version());
		return -1;
	}
	for (int v = have; v < target; v++) {
		char bump[64];
		if (exec(st, "BEGIN IMMEDIATE") < 0)
			return -1;
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
		if (exec(st, migrations[v]) < 0 || exec(st, bump) < 0) {
			exec(st, "ROLLBACK");
			return -1;
		}
		if (exec(st, "COMMIT") < 0)
			return -1;
		/* a new file is created, not migrated: one line for it, below */
		if (have > 0)
			log_info("store", "migrated %s to schema version %d", st->path, v + 1);
	}
	if (have == 0)
		log_info("store", "created %s at schema version %d", st->path, store_schema_version());
	return 0;
}

/* Create the file with tight permissions before SQLite does: its -wal and -shm take the same mode. */
static int create_file(const char *path, const char *group, char *err, size_t errlen)
{
	mode_t mode = (group && *group) ? 0640 : 0600;
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);

	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) < 0) { /* whatever the umask said */
		snprintf(err, errlen, "cannot set the mode of %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (group && *group) {
		struct group *gr = getgrnam(group);
		if (gr == NULL || fchown(fd, (uid_t)-1, gr->gr_gid) < 0) {
			snprintf(err, errlen, "cannot give %s to group %s: %s", path, group,
			    gr ? strerror(errno) : "no such group");
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

/*
 * The database needs its folder writable (SQLite creates the -wal and -shm
 * files beside it) and, when it exists, the file itself: an error that names
 * the path, before SQLite says "unable to open database file".
 */
static int writable_place(const char *path, char *err, size_t errlen)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int rc = 0;

	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if (access(dir, W_OK | X_OK) < 0) {
		snprintf(err, errlen, "the folder %s of the database %s is not writable (%s): hotlined keeps its "
		    "-wal and -shm files beside it", dir, path, strerror(errno));
		rc = -1;
	} else if (access(path, F_OK) == 0 && access(path, R_OK | W_OK) < 0) {
		snprintf(err, errlen, "%s is read-only (%s): hotlined must write it (its permissions, owner or file "
		    "system)", path, strerror(errno));
		rc = -1;
	}
	free(dir);
	return rc;
}

int store_open(const char *path, const struct store_opts *opts, struct store **out, char *err, size_t errlen)
{
	struct store *st;
	int flags = opts->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	char pragma[64];

	*out = NULL;
	if (opts->create && !opts->readonly && strcmp(path, ":memory:") != 0 &&
	    create_file(path, opts->group, err, errlen) < 0)
		return -1;
	if (!opts->readonly && strcmp(path, ":memory:") != 0 && writable_place(path, err, errlen) < 0)
		return -1;
	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	snprintf(st->country, sizeof(st->country), "%s", opts->country ? opts->country : PHONE_COUNTRY_DEFAULT);
	if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		store_close(st);
		return -1;
	}
	/* SQLite falls back to reading a file it may not write: say so now, not at the first message */
	if (!opts->readonly && sqlite3_db_readonly(st->db, "main") == 1) {
		snprintf(err, errlen, "%s is read-only: hotlined must write it (its permissions, owner or file system)",
		    path);
		store_close(st);
		return -1;
	}
	{
		struct stat sb;
		if (strcmp(path, ":memory:") != 0 && stat(path, &sb) == 0) {
			st->have_id = true;
			st->dev = (unsigned long long)sb.st_dev;
			st->ino = (unsigned long long)sb.st_ino;
		}
	}
	sqlite3_busy_timeout(st->db, 10000);
	sqlite3_create_function(st->db, "hotline_phone", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, st, sql_hotline_phone,
	    NULL, NULL);
	if (store_file_version(st) > store_schema_version()) {
		/* refuse before touching the file (no WAL switch on a database we will not use) */
		snprintf(err, errlen, "%s has schema version %d, newer than this build's %d: use a newer hotlined",
		    path, store_file_version(st), store_schema_version());
		store_close(st);
		return -1;
	}
	/*
	 * A new database gets 1 KB pages: a message touches about ten pages, and
	 * every commit writes each whole page to the WAL and waits for the disk.
	 * (Only possible before the first table; an existing file keeps its size.)
	 */
	if (!opts->readonly && store_file_version(st) == 0 && exec(st, "PRAGMA page_size = 1024") < 0) {
		snprintf(err, errlen, "cannot set up %s: %s", path, sqlite3_errmsg(st->db));
		store_close(st);
		return -1;
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA synchronous = %s",
	    opts->synchronous && strcmp(opts->synchronous, "normal") == 0 ? "NORMAL" : "FULL");
	/*
	 * The REFERENCES in the schema say how the tables relate; they are not
	 * enforced (foreign_keys off): every insert would look up its parent row,
	 * about a tenth of the time a message takes, and nothing here deletes a
	 * parent row. The tests check the relations instead.
	 */
	if ((!opts->readonly && exec(st, "PRAGMA journal_mode = WAL") < 0) || exec(st, pragma) < 0 ||
	    exec(st, "PRAGMA foreign_keys = OFF") < 0 || exec(st, "PRAGMA temp_store = MEMORY") < 0) {
		snprintf(err, errlen, "cannot set up %s: %s", path, sqlite3_errmsg(st->db));
		store_close(st);
		return -1;
	}
	if (opts->migrate && !opts->readonly &&
	    migrate(st, opts->migrate_to > 0 && opts->migrate_to < store_schema_version() ? opts->migrate_to
											   : store_schema_version()) < 0) {
		snprintf(err, errlen, "cannot bring %s to schema version %d (see the log above)", path,
		    store_schema_version());
		store_close(st);
		return -1;
	}
	if (!opts->migrate && opts->migrate_to == 0 && store_file_version(st) != store_schema_version()) {
		snprintf(err, errlen, "%s has schema version %d, this build needs %d: start hotlined once to "
		    "migrate it", path, store_file_version(st), store_schema_version());
		store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < STORE_STMT_SLOTS; i++)
		if (st->cache[i].stmt)
			sqlite3_finalize(st->cache[i].stmt);
	if (st->db)
		sqlite3_close(st->db);
	free(st->path);
	free(st);
}

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";

int store_begin(struct store *st)
{
	if (store_run_a(st, SQL_BEGIN, NULL) < 0)
		return -1;
	st->changes_at_begin = (long long)sqlite3_total_changes64(st->db);
	return 0;
}

int store_commit(struct store *st)
{
	if (store_run_a(st, SQL_COMMIT, NULL) < 0) {
		store_rollback(st);
		return -1;
	}
	/* only a commit that wrote something proves that writing works (an empty one always succeeds) */
	if ((long long)sqlite3_total_changes64(st->db) != st->changes_at_begin)
		health_commit();
	return 0;
}

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		(void)store_run_a(st, SQL_ROLLBACK, NULL);
}

static const char SQL_SAVEPOINT[] = "SAVEPOINT step";
static const char SQL_RELEASE[] = "RELEASE step";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO step";

int store_savepoint(struct store *st)
{
	return store_run_a(st, SQL_SAVEPOINT, NULL);
}

int store_release(struct store *st)
{
	return store_run_a(st, SQL_RELEASE, NULL);
}

void store_rollback_savepoint(struct store *st)
{
	if (store_run_a(st, SQL_ROLLBACK_TO, NULL) == 0)
		(void)store_run_a(st, SQL_RELEASE, NULL);
}

static const char SQL_PING[] = "SELECT count(*) FROM sqlite_master";

int store_ping(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, SQL_PING);

	if (s == NULL || sqlite3_step(s) != SQLITE_ROW)
		return -1;
	sqlite3_reset(s);
	return 0;
}

int store_file_check(struct store *st)
{
	static atomic_bool logged;
	struct stat sb;
	int moved = 0;
	const char *why = NULL;

	if (!st->have_id)
		return 0;
	if (stat(st->path, &sb) < 0)
		why = errno == ENOENT ? "it was deleted" : "it cannot be looked at";
	else if ((unsigned long long)sb.st_dev != st->dev || (unsigned long long)sb.st_ino != st->ino)
		why = "another file took its place";
	else if (sqlite3_file_control(st->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved)
		why = "it was moved";
	if (why == NULL)
		return 0;
	pthread_mutex_lock(&health_lock);
	health.h.lost = true;
	pthread_mutex_unlock(&health_lock);
	if (!atomic_exchange(&logged, true))
		log_errorx("store", "the database %s is not the file hotlined opened (%s): nothing more is deleted "
		    "from the phones and the daemon reports itself unhealthy; restart it once the file is back",
		    st->path, why);
	return -1;
}

int store_quick_check(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &s, NULL) != SQLITE_OK) {
		health_error(st->db);
		snprintf(err, errlen, "%s", sqlite3_errmsg(st->db));
	} else {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW && strcmp(store_col_text(s, 0), "ok") == 0) {
			sqlite3_finalize(s);
			return 0;
		}
		if (rc == SQLITE_ROW)
			snprintf(err, errlen, "%s", store_col_text(s, 0));
		else
			snprintf(err, errlen, "%s", sqlite3_errmsg(st->db));
		sqlite3_finalize(s);
	}
	for (char *p = err; *p; p++)
		if (*p == '\n')
			*p = ' ';
	pthread_mutex_lock(&health_lock);
	health.h.corrupt = true;
	health.err_seq = ++health.seq;
	health.h.last_error_at = now_unix();
	health.h.errors++;
	snprintf(health.h.last_error, sizeof(health.h.last_error), "integrity check failed: %s", err);
	pthread_mutex_unlock(&health_lock);
	return -1;
}

/* ---- retention --------------------------------------------------------------------------- */

static const char SQL_PURGE_MSG[] =
    "UPDATE messages SET text = '', raw = NULL WHERE created_at < ?1 AND (text <> '' OR raw IS NOT NULL)";
static const char SQL_PURGE_PARTS[] =
    "UPDATE inbox_parts SET text = '', raw = NULL WHERE received_at < ?1 AND message_id IS NOT NULL"
    " AND (text <> '' OR raw IS NOT NULL)";
static const char SQL_PURGE_SESSIONS[] = "DELETE FROM sessions WHERE updated_at < ?1";

int store_purge_texts(struct store *st, int64_t cutoff, int *n)
{
	int rc;

	*n = 0;
	if (store_begin(st) < 0)
		return -1;
	rc = store_run(st, SQL_PURGE_MSG, ST_INT(cutoff));
	if (rc == 0) {
		*n = sqlite3_changes(st->db);
		rc = store_run(st, SQL_PURGE_PARTS, ST_INT(cutoff));
	}
	if (rc == 0)
		rc = store_run(st, SQL_PURGE_SESSIONS, ST_INT(cutoff));
	return store_finish(st, rc);
}

/* ---- sequences -------------------------------------------------------------------------- */

static const char SQL_SEQ_NEXT[] =
    "INSERT INTO sequences (name, value) VALUES (?1, 1)"
    " ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value";

int store_next_seq(struct store *st, const char *name, int64_t *value)
{
	return store_get_int(st, SQL_SEQ_NEXT, value, ST_TEXT(name));
}
