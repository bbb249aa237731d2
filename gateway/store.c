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

sqlite3_stmt *store_stmt(struct store *st, const char *sql)
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

int store_exec_stmt(struct store *st, const char *sql, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(st, sql);
	sqlite3_reset(s);
	return 0;
}

void store_bind_text(sqlite3_stmt *s, int idx, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, idx);
	else
		sqlite3_bind_text(s, idx, v, -1, SQLITE_TRANSIENT);
}

const char *store_col_text(sqlite3_stmt *s, int idx)
{
	const unsigned char *t = sqlite3_column_text(s, idx);

	return t ? (const char *)t : "";
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
	sqlite3_stmt *s = store_stmt(st, SQL_BEGIN);

	if (s == NULL || store_exec_stmt(st, SQL_BEGIN, s) < 0)
		return -1;
	st->changes_at_begin = (long long)sqlite3_total_changes64(st->db);
	return 0;
}

int store_commit(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, SQL_COMMIT);

	if (s == NULL || store_exec_stmt(st, SQL_COMMIT, s) < 0) {
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
	sqlite3_stmt *s;

	if (sqlite3_get_autocommit(st->db))
		return;
	s = store_stmt(st, SQL_ROLLBACK);
	if (s != NULL)
		(void)store_exec_stmt(st, SQL_ROLLBACK, s);
}

static const char SQL_SAVEPOINT[] = "SAVEPOINT step";
static const char SQL_RELEASE[] = "RELEASE step";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO step";

int store_savepoint(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SAVEPOINT);

	return s == NULL ? -1 : store_exec_stmt(st, SQL_SAVEPOINT, s);
}

int store_release(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, SQL_RELEASE);

	return s == NULL ? -1 : store_exec_stmt(st, SQL_RELEASE, s);
}

void store_rollback_savepoint(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, SQL_ROLLBACK_TO);

	if (s != NULL && store_exec_stmt(st, SQL_ROLLBACK_TO, s) == 0) {
		s = store_stmt(st, SQL_RELEASE);
		if (s != NULL)
			(void)store_exec_stmt(st, SQL_RELEASE, s);
	}
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

/* ---- messages ------------------------------------------------------------------ */

static const char SQL_MSG_ADD[] =
    "INSERT INTO messages (channel, direction, phone, phone_key, text, raw, parts, modem, status, node,"
    " kind, session, error, reply_to, smsc_time, msg_ref, created_at, updated_at, sent_at, asked)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, ?18, ?19)";

int store_msg_add(struct store *st, const struct store_msg *m, int64_t *id)
{
	sqlite3_stmt *s = store_stmt(st, SQL_MSG_ADD);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, m->channel);
	store_bind_text(s, 2, m->direction);
	store_bind_text(s, 3, m->phone);
	store_bind_text(s, 4, m->phone); /* phone_key: the same normalised number */
	sqlite3_bind_text(s, 5, m->text ? m->text : "", m->text ? (int)m->text_len : 0, SQLITE_TRANSIENT);
	if (m->raw)
		sqlite3_bind_blob(s, 6, m->raw, (int)m->raw_len, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 7, m->parts > 0 ? m->parts : 1);
	store_bind_text(s, 8, m->modem);
	store_bind_text(s, 9, m->status);
	store_bind_text(s, 10, m->node);
	store_bind_text(s, 11, m->kind);
	store_bind_text(s, 12, m->session);
	store_bind_text(s, 13, m->error);
	if (m->reply_to > 0)
		sqlite3_bind_int64(s, 14, m->reply_to);
	if (m->smsc_time > 0)
		sqlite3_bind_int64(s, 15, m->smsc_time);
	if (m->msg_ref > 0)
		sqlite3_bind_int(s, 16, m->msg_ref);
	sqlite3_bind_int64(s, 17, m->created_at ? m->created_at : now_unix());
	if (m->sent_at > 0)
		sqlite3_bind_int64(s, 18, m->sent_at);
	sqlite3_bind_int(s, 19, m->asked ? 1 : 0);
	if (store_exec_stmt(st, SQL_MSG_ADD, s) < 0)
		return -1;
	if (id)
		*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

static const char SQL_MSG_SET[] =
    "UPDATE messages SET status = coalesce(?2, status), node = coalesce(?3, node), updated_at = ?4"
    " WHERE id = ?1";

int store_msg_set(struct store *st, int64_t id, const char *status, const char *node)
{
	sqlite3_stmt *s = store_stmt(st, SQL_MSG_SET);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, status);
	store_bind_text(s, 3, node);
	sqlite3_bind_int64(s, 4, now_unix());
	return store_exec_stmt(st, SQL_MSG_SET, s);
}

static const char SQL_MSG_EACH[] =
    "SELECT id, channel, direction, phone, text, raw, parts, modem, status, node, kind, session, error,"
    " reply_to, smsc_time, created_at, sent_at, msg_ref FROM messages"
    " WHERE (?1 IS NULL OR phone_key = ?1) AND (?2 IS NULL OR channel = ?2)"
    " AND (?3 = 0 OR created_at >= ?3) AND (?4 = 0 OR created_at < ?4) AND id > ?5"
    " ORDER BY CASE WHEN ?7 THEN -id ELSE id END LIMIT CASE WHEN ?6 > 0 THEN ?6 ELSE -1 END";
/*
 * The same for one phone: "phone_key = ?1" lets SQLite use messages_phone,
 * where "?1 IS NULL OR ..." makes it scan and sort the whole table (the loop
 * check runs this for nearly every SMS: O(table) per message otherwise).
 */
static const char SQL_MSG_EACH_PHONE[] =
    "SELECT id, channel, direction, phone, text, raw, parts, modem, status, node, kind, session, error,"
    " reply_to, smsc_time, created_at, sent_at, msg_ref FROM messages"
    " WHERE phone_key = ?1 AND (?2 IS NULL OR channel = ?2)"
    " AND (?3 = 0 OR created_at >= ?3) AND (?4 = 0 OR created_at < ?4) AND id > ?5"
    " ORDER BY CASE WHEN ?7 THEN -id ELSE id END LIMIT CASE WHEN ?6 > 0 THEN ?6 ELSE -1 END";

int store_msg_each(struct store *st, const struct store_msg_filter *f,
    int (*fn)(const struct store_msg *m, void *arg), void *arg)
{
	const char *sql = f->phone ? SQL_MSG_EACH_PHONE : SQL_MSG_EACH;
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, f->phone);
	store_bind_text(s, 2, f->channel);
	sqlite3_bind_int64(s, 3, f->since);
	sqlite3_bind_int64(s, 4, f->until);
	sqlite3_bind_int64(s, 5, f->after_id);
	sqlite3_bind_int(s, 6, f->limit);
	sqlite3_bind_int(s, 7, f->newest_first);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_msg m;
		memset(&m, 0, sizeof(m));
		m.id = sqlite3_column_int64(s, 0);
		m.channel = store_col_text(s, 1);
		m.direction = store_col_text(s, 2);
		m.phone = store_col_text(s, 3);
		m.text = store_col_text(s, 4);
		m.text_len = (size_t)sqlite3_column_bytes(s, 4);
		m.raw = sqlite3_column_blob(s, 5);
		m.raw_len = (size_t)sqlite3_column_bytes(s, 5);
		m.parts = sqlite3_column_int(s, 6);
		m.modem = store_col_text(s, 7);
		m.status = store_col_text(s, 8);
		m.node = store_col_text(s, 9);
		m.kind = store_col_text(s, 10);
		m.session = store_col_text(s, 11);
		m.error = store_col_text(s, 12);
		m.reply_to = sqlite3_column_int64(s, 13);
		m.smsc_time = sqlite3_column_int64(s, 14);
		m.created_at = sqlite3_column_int64(s, 15);
		m.sent_at = sqlite3_column_int64(s, 16);
		m.msg_ref = sqlite3_column_int(s, 17);
		if (fn(&m, arg)) {
			sqlite3_reset(s);
			return 0;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, sql);
}

static int count_query(struct store *st, const char *sql, sqlite3_stmt *s, int *count)
{
	if (sqlite3_step(s) != SQLITE_ROW)
		return store_fail(st, sql);
	*count = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return 0;
}

static const char SQL_MSG_COUNT[] =
    "SELECT count(*) FROM messages WHERE (?1 IS NULL OR phone_key = ?1) AND (?2 IS NULL OR channel = ?2)"
    " AND (?3 = 0 OR created_at >= ?3) AND (?4 = 0 OR created_at < ?4) AND id <> ?5";

int store_msg_count(struct store *st, const struct store_msg_filter *f, int64_t exclude_id, int *count)
{
	sqlite3_stmt *s = store_stmt(st, SQL_MSG_COUNT);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, f->phone);
	store_bind_text(s, 2, f->channel);
	sqlite3_bind_int64(s, 3, f->since);
	sqlite3_bind_int64(s, 4, f->until);
	sqlite3_bind_int64(s, 5, exclude_id);
	return count_query(st, SQL_MSG_COUNT, s, count);
}

/* A count over one phone's messages since a time: the rate-limit queries. */
static int count_for_phone(struct store *st, const char *sql, const char *phone, int64_t since, int *count)
{
	sqlite3_stmt *s = store_stmt(st, sql);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, phone);
	sqlite3_bind_int64(s, 2, since);
	return count_query(st, sql, s, count);
}

static const char SQL_REPLIES_SINCE[] =
    "SELECT count(*) FROM messages WHERE phone_key = ?1 AND direction = 'out' AND created_at >= ?2"
    " AND kind = 'reply' AND channel = 'sms' AND asked = 0";

int store_replies_since(struct store *st, const char *phone, int64_t since, int *count)
{
	return count_for_phone(st, SQL_REPLIES_SINCE, phone, since, count);
}

static const char SQL_REPLIES_TWO[] =
    "SELECT coalesce(sum(created_at >= ?3), 0), count(*) FROM messages WHERE phone_key = ?1"
    " AND direction = 'out' AND created_at >= ?2 AND kind = 'reply' AND channel = 'sms' AND asked = 0";

int store_replies_two(struct store *st, const char *phone, int64_t since_long, int64_t since_short,
    int *short_count, int *long_count)
{
	sqlite3_stmt *s = store_stmt(st, SQL_REPLIES_TWO);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, phone);
	sqlite3_bind_int64(s, 2, since_long);
	sqlite3_bind_int64(s, 3, since_short);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return store_fail(st, SQL_REPLIES_TWO);
	}
	*short_count = sqlite3_column_int(s, 0);
	*long_count = sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	return 0;
}

static const char SQL_NOTICES_SINCE[] =
    "SELECT count(*) FROM messages WHERE phone_key = ?1 AND direction = 'out' AND created_at >= ?2"
    " AND kind = 'notice' AND (?3 IS NULL OR node = ?3)";

int store_notices_since(struct store *st, const char *phone, int64_t since, const char *node, int *count)
{
	sqlite3_stmt *s = store_stmt(st, SQL_NOTICES_SINCE);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, phone);
	sqlite3_bind_int64(s, 2, since);
	store_bind_text(s, 3, node);
	return count_query(st, SQL_NOTICES_SINCE, s, count);
}

static const char SQL_SAME_TEXT[] =
    "SELECT count(*) FROM messages WHERE phone_key = ?1 AND direction = 'in' AND created_at >= ?2"
    " AND text = ?3 AND id <> ?4 AND status = 'answered'";

int store_same_text_since(struct store *st, const char *phone, const char *text, int64_t since,
    int64_t exclude_id, int *answered)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SAME_TEXT);

	*answered = 0;
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, phone);
	sqlite3_bind_int64(s, 2, since);
	store_bind_text(s, 3, text);
	sqlite3_bind_int64(s, 4, exclude_id);
	return count_query(st, SQL_SAME_TEXT, s, answered);
}

/* ---- outbox ------------------------------------------------------------------------ */

/*
 * Held notifications (queued, not yet due, not being sent) to a phone about
 * one case (their node): marked superseded and taken out of the outbox.
 */
static const char SQL_NOTIFY_SUPERSEDE[] =
    "UPDATE messages SET status = 'superseded', updated_at = ?4 WHERE id IN (SELECT m.id FROM messages m"
    " JOIN outbox o ON o.message_id = m.id WHERE m.phone_key = ?1 AND m.node = ?2 AND m.kind = 'notify'"
    " AND m.direction = 'out' AND o.sending = 0 AND o.not_before > ?3)";
static const char SQL_OUTBOX_DROP_SUPERSEDED[] =
    "DELETE FROM outbox WHERE message_id IN (SELECT id FROM messages WHERE phone_key = ?1 AND node = ?2"
    " AND status = 'superseded')";

int store_notify_supersede(struct store *st, const char *phone, const char *node, int64_t now, int *n)
{
	sqlite3_stmt *s = store_stmt(st, SQL_NOTIFY_SUPERSEDE);

	*n = 0;
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, node);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, now);
	if (store_exec_stmt(st, SQL_NOTIFY_SUPERSEDE, s) < 0)
		return -1;
	*n = sqlite3_changes(st->db);
	if (*n == 0)
		return 0;
	s = store_stmt(st, SQL_OUTBOX_DROP_SUPERSEDED);
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, node);
	return store_exec_stmt(st, SQL_OUTBOX_DROP_SUPERSEDED, s);
}

static const char SQL_OUTBOX_ADD[] =
    "INSERT INTO outbox (message_id, modem, priority, not_before) VALUES (?1, ?2, ?3, ?4)";

int store_outbox_add(struct store *st, int64_t msg_id, const char *modem, int priority, int64_t not_before)
{
	sqlite3_stmt *s = store_stmt(st, SQL_OUTBOX_ADD);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	store_bind_text(s, 2, modem && *modem ? modem : NULL);
	sqlite3_bind_int(s, 3, priority);
	sqlite3_bind_int64(s, 4, not_before);
	return store_exec_stmt(st, SQL_OUTBOX_ADD, s);
}

/*
 * Broadcast messages (kind 'broadcast') are claimed only while the claiming
 * modem has sent fewer than ?4 of them in the last minute (0: no limit).
 */
static const char SQL_OUTBOX_DUE[] =
    "SELECT o.message_id, m.phone, m.text, o.attempts, m.kind, p.concat_ref, p.parts_done FROM outbox o"
    " JOIN messages m ON m.id = o.message_id LEFT JOIN outbox_progress p ON p.message_id = o.message_id"
    " WHERE o.sending = 0 AND o.not_before <= ?2 AND (o.modem = ?1 OR (?1 IS NULL AND o.modem IS NULL))"
    " AND (coalesce(m.kind, '') <> 'broadcast' OR ?4 <= 0 OR (SELECT count(*) FROM messages b WHERE b.kind = 'broadcast'"
    "  AND b.modem = ?5 AND b.sent_at > ?2 - 60) < ?4)"
    " ORDER BY o.priority DESC, o.not_before, o.message_id LIMIT ?3";
static const char SQL_OUTBOX_MARK[] =
    "UPDATE outbox SET sending = 1, attempts = attempts + 1, modem = ?2 WHERE message_id = ?1";
static const char SQL_MSG_SENDING[] =
    "UPDATE messages SET status = 'sending', modem = ?2, updated_at = ?3 WHERE id = ?1";

int store_outbox_claim(struct store *st, const char *for_modem, const char *by, int64_t now,
    struct store_send *out, size_t max, size_t *n)
{
	sqlite3_stmt *s;
	int rc;

	*n = 0;
	if (store_begin(st) < 0)
		return -1;
	s = store_stmt(st, SQL_OUTBOX_DUE);
	if (s == NULL)
		goto fail;
	store_bind_text(s, 1, for_modem);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
	sqlite3_bind_int(s, 4, st->bcast_rate);
	store_bind_text(s, 5, by);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
		struct store_send *o = &out[*n];
		o->id = sqlite3_column_int64(s, 0);
		snprintf(o->phone, sizeof(o->phone), "%s", store_col_text(s, 1));
		o->text = xstrndup(store_col_text(s, 2), (size_t)sqlite3_column_bytes(s, 2));
		snprintf(o->modem, sizeof(o->modem), "%s", by);
		o->attempts = sqlite3_column_int(s, 3) + 1;
		snprintf(o->kind, sizeof(o->kind), "%s", store_col_text(s, 4));
		o->concat_ref = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 5);
		o->parts_done = sqlite3_column_type(s, 6) == SQLITE_NULL ? 0 : sqlite3_column_int(s, 6);
		(*n)++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_fail(st, SQL_OUTBOX_DUE);
		goto fail;
	}
	for (size_t i = 0; i < *n; i++) {
		s = store_stmt(st, SQL_OUTBOX_MARK);
		if (s == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, out[i].id);
		store_bind_text(s, 2, by);
		if (store_exec_stmt(st, SQL_OUTBOX_MARK, s) < 0)
			goto fail;
		s = store_stmt(st, SQL_MSG_SENDING);
		if (s == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, out[i].id);
		store_bind_text(s, 2, by);
		sqlite3_bind_int64(s, 3, now);
		if (store_exec_stmt(st, SQL_MSG_SENDING, s) < 0)
			goto fail;
	}
	if (store_commit(st) < 0)
		goto fail_nort;
	return 0;
fail:
	store_rollback(st);
fail_nort:
	store_sends_free(out, *n);
	*n = 0;
	return -1;
}

void store_outbox_broadcast_rate(struct store *st, int per_minute)
{
	st->bcast_rate = per_minute;
}

void store_sends_free(struct store_send *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].text);
		s[i].text = NULL;
	}
}

static const char SQL_MSG_SENT[] =
    "UPDATE messages SET status = 'sent', parts = ?2, msg_ref = ?3, sent_at = ?4, updated_at = ?4,"
    " error = NULL WHERE id = ?1";
static const char SQL_OUTBOX_DEL[] = "DELETE FROM outbox WHERE message_id = ?1";
static const char SQL_PROGRESS_DEL[] = "DELETE FROM outbox_progress WHERE message_id = ?1";

/* The message leaves the outbox, and its progress with it. */
static int outbox_delete(struct store *st, int64_t id)
{
	sqlite3_stmt *s;

	if ((s = store_stmt(st, SQL_OUTBOX_DEL)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (store_exec_stmt(st, SQL_OUTBOX_DEL, s) < 0)
		return -1;
	if ((s = store_stmt(st, SQL_PROGRESS_DEL)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return store_exec_stmt(st, SQL_PROGRESS_DEL, s);
}

int store_outbox_sent(struct store *st, int64_t id, int parts, int msg_ref, int64_t now)
{
	sqlite3_stmt *s;

	if (store_begin(st) < 0)
		return -1;
	if ((s = store_stmt(st, SQL_MSG_SENT)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, parts);
	if (msg_ref >= 0)
		sqlite3_bind_int(s, 3, msg_ref);
	sqlite3_bind_int64(s, 4, now);
	if (store_exec_stmt(st, SQL_MSG_SENT, s) < 0)
		goto fail;
	if (outbox_delete(st, id) < 0)
		goto fail;
	return store_commit(st);
fail:
	store_rollback(st);
	return -1;
}

static const char SQL_OUTBOX_REQUEUE[] =
    "UPDATE outbox SET sending = 0, not_before = ?2 WHERE message_id = ?1";
static const char SQL_MSG_QUEUED[] =
    "UPDATE messages SET status = 'queued', error = ?2, updated_at = ?3 WHERE id = ?1";

static const char SQL_OUTBOX_PROGRESS[] =
    "INSERT OR REPLACE INTO outbox_progress (message_id, concat_ref, parts_done) VALUES (?1, ?2, ?3)";

int store_outbox_retry(struct store *st, int64_t id, int64_t not_before, const char *error)
{
	return store_outbox_retry_from(st, id, not_before, error, -2, 0);
}

int store_outbox_retry_from(struct store *st, int64_t id, int64_t not_before, const char *error, int concat_ref,
    int parts_done)
{
	sqlite3_stmt *s;

	if (store_begin(st) < 0)
		return -1;
	if ((s = store_stmt(st, SQL_OUTBOX_REQUEUE)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, not_before);
	if (store_exec_stmt(st, SQL_OUTBOX_REQUEUE, s) < 0)
		goto fail;
	if (concat_ref != -2) {
		if ((s = store_stmt(st, SQL_OUTBOX_PROGRESS)) == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, id);
		if (concat_ref >= 0)
			sqlite3_bind_int(s, 2, concat_ref);
		sqlite3_bind_int(s, 3, parts_done);
		if (store_exec_stmt(st, SQL_OUTBOX_PROGRESS, s) < 0)
			goto fail;
	}
	if ((s = store_stmt(st, SQL_MSG_QUEUED)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, error);
	sqlite3_bind_int64(s, 3, now_unix());
	if (store_exec_stmt(st, SQL_MSG_QUEUED, s) < 0)
		goto fail;
	return store_commit(st);
fail:
	store_rollback(st);
	return -1;
}

static const char SQL_MSG_FAILED[] =
    "UPDATE messages SET status = 'failed', error = ?2, updated_at = ?3 WHERE id = ?1";

int store_outbox_failed(struct store *st, int64_t id, const char *error)
{
	sqlite3_stmt *s;

	if (store_begin(st) < 0)
		return -1;
	if ((s = store_stmt(st, SQL_MSG_FAILED)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, error);
	sqlite3_bind_int64(s, 3, now_unix());
	if (store_exec_stmt(st, SQL_MSG_FAILED, s) < 0)
		goto fail;
	if (outbox_delete(st, id) < 0)
		goto fail;
	return store_commit(st);
fail:
	store_rollback(st);
	return -1;
}

static const char SQL_RECOVER_MSG[] =
    "UPDATE messages SET status = 'queued', uncertain = uncertain + 1, updated_at = ?1"
    " WHERE id IN (SELECT message_id FROM outbox WHERE sending = 1)";
static const char SQL_RECOVER_OUTBOX[] = "UPDATE outbox SET sending = 0 WHERE sending = 1";

int store_outbox_recover(struct store *st, int *n)
{
	sqlite3_stmt *s;

	*n = 0;
	if (store_begin(st) < 0)
		return -1;
	if ((s = store_stmt(st, SQL_RECOVER_MSG)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, now_unix());
	if (store_exec_stmt(st, SQL_RECOVER_MSG, s) < 0)
		goto fail;
	*n = sqlite3_changes(st->db);
	if ((s = store_stmt(st, SQL_RECOVER_OUTBOX)) == NULL || store_exec_stmt(st, SQL_RECOVER_OUTBOX, s) < 0)
		goto fail;
	return store_commit(st);
fail:
	store_rollback(st);
	return -1;
}

static const char SQL_OUTBOX_STATS[] =
    "SELECT count(*), coalesce(min(CASE WHEN o.not_before <= ?1 THEN m.created_at END), 0)"
    " FROM outbox o JOIN messages m ON m.id = o.message_id";

int store_outbox_stats(struct store *st, int64_t now, int *depth, int64_t *oldest_age)
{
	sqlite3_stmt *s = store_stmt(st, SQL_OUTBOX_STATS);
	int64_t oldest;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	if (sqlite3_step(s) != SQLITE_ROW)
		return store_fail(st, SQL_OUTBOX_STATS);
	*depth = sqlite3_column_int(s, 0);
	oldest = sqlite3_column_int64(s, 1);
	*oldest_age = oldest > 0 && oldest < now ? now - oldest : 0;
	sqlite3_reset(s);
	return 0;
}

static const char SQL_OUTBOX_NEXT[] = "SELECT min(not_before) FROM outbox WHERE sending = 0";

int store_outbox_next_due(struct store *st, int64_t now, int64_t *wait)
{
	sqlite3_stmt *s = store_stmt(st, SQL_OUTBOX_NEXT);

	*wait = INT64_MAX;
	if (s == NULL)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW)
		return store_fail(st, SQL_OUTBOX_NEXT);
	if (sqlite3_column_type(s, 0) != SQLITE_NULL) {
		int64_t t = sqlite3_column_int64(s, 0);
		*wait = t > now ? t - now : 0;
	}
	sqlite3_reset(s);
	return 0;
}

/* ---- inbound parts ------------------------------------------------------------------- */

static const char SQL_PART_ADD[] =
    "INSERT OR IGNORE INTO inbox_parts (modem, sender, smsc_time, ref, ref_bits, total, seq, digest, text,"
    " raw, kind, received_at, message_id, location) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

static const char SQL_PART_SEEN[] =
    "SELECT count(*) FROM inbox_parts WHERE modem = ?1 AND sender = ?2 AND smsc_time = ?3 AND ref = ?4"
    " AND seq = ?5 AND digest = ?6 AND location = ?7 AND gone = 0";

static int64_t part_digest(const struct store_part *p)
{
	uint64_t d = p->raw ? hash64(p->raw, p->raw_len) : hash64(p->text, p->text_len);

	return (int64_t)(d >> 1);
}

int store_part_seen(struct store *st, const struct store_part *p, bool *seen)
{
	sqlite3_stmt *s = store_stmt(st, SQL_PART_SEEN);
	int n = 0;

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, p->modem);
	store_bind_text(s, 2, p->sender);
	sqlite3_bind_int64(s, 3, p->smsc_time);
	sqlite3_bind_int(s, 4, p->ref);
	sqlite3_bind_int(s, 5, p->seq);
	sqlite3_bind_int64(s, 6, part_digest(p));
	sqlite3_bind_int(s, 7, p->location);
	if (count_query(st, SQL_PART_SEEN, s, &n) < 0)
		return -1;
	*seen = n > 0;
	return 0;
}

int store_part_add(struct store *st, const struct store_part *p, bool *inserted)
{
	sqlite3_stmt *s = store_stmt(st, SQL_PART_ADD);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, p->modem);
	store_bind_text(s, 2, p->sender);
	sqlite3_bind_int64(s, 3, p->smsc_time);
	sqlite3_bind_int(s, 4, p->ref);
	sqlite3_bind_int(s, 5, p->ref_bits);
	sqlite3_bind_int(s, 6, p->total);
	sqlite3_bind_int(s, 7, p->seq);
	sqlite3_bind_int64(s, 8, part_digest(p));
	sqlite3_bind_text(s, 9, p->text, (int)p->text_len, SQLITE_TRANSIENT);
	if (p->raw)
		sqlite3_bind_blob(s, 10, p->raw, (int)p->raw_len, SQLITE_TRANSIENT);
	store_bind_text(s, 11, p->kind);
	sqlite3_bind_int64(s, 12, p->received_at ? p->received_at : now_unix());
	if (p->message_id > 0)
		sqlite3_bind_int64(s, 13, p->message_id);
	sqlite3_bind_int(s, 14, p->location);
	if (store_exec_stmt(st, SQL_PART_ADD, s) < 0)
		return -1;
	*inserted = sqlite3_changes(st->db) > 0;
	return 0;
}

static const char SQL_PART_GONE[] =
    "UPDATE inbox_parts SET gone = id WHERE modem = ?1 AND location = ?2 AND gone = 0";

int store_parts_gone(struct store *st, const char *modem, const int *locations, size_t n)
{
	if (n == 0)
		return 0;
	if (store_begin(st) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *s = store_stmt(st, SQL_PART_GONE);
		if (s == NULL)
			goto fail;
		store_bind_text(s, 1, modem);
		sqlite3_bind_int(s, 2, locations[i]);
		if (store_exec_stmt(st, SQL_PART_GONE, s) < 0)
			goto fail;
	}
	return store_commit(st);
fail:
	store_rollback(st);
	return -1;
}

static const char SQL_GROUP_LOAD[] =
    "SELECT seq, text, received_at, smsc_time, kind FROM inbox_parts WHERE message_id IS NULL"
    " AND modem = ?1 AND sender = ?2 AND ref = ?3 AND ref_bits = ?4 AND total = ?5 ORDER BY seq, id";

int store_group_load(struct store *st, const char *modem, const char *sender, int ref, int ref_bits, int total,
    struct store_group *g)
{
	sqlite3_stmt *s = store_stmt(st, SQL_GROUP_LOAD);
	int rc, last_seq = -1;

	memset(g, 0, sizeof(*g));
	snprintf(g->modem, sizeof(g->modem), "%s", modem);
	snprintf(g->sender, sizeof(g->sender), "%s", sender);
	g->ref = ref;
	g->ref_bits = ref_bits;
	g->total = total;
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, modem);
	store_bind_text(s, 2, sender);
	sqlite3_bind_int(s, 3, ref);
	sqlite3_bind_int(s, 4, ref_bits);
	sqlite3_bind_int(s, 5, total);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int seq = sqlite3_column_int(s, 0);
		int64_t rec = sqlite3_column_int64(s, 2);
		if (seq == last_seq)
			continue; /* the same part twice (different SMSC time): keep one */
		last_seq = seq;
		buf_add(&g->text, store_col_text(s, 1), (size_t)sqlite3_column_bytes(s, 1));
		if (g->n == 0 || rec < g->first_received)
			g->first_received = rec;
		if (g->n == 0) {
			g->smsc_time = sqlite3_column_int64(s, 3);
			snprintf(g->kind, sizeof(g->kind), "%s", store_col_text(s, 4));
		}
		g->n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_fail(st, SQL_GROUP_LOAD);
	g->complete = g->n >= (size_t)total;
	return 0;
}

static const char SQL_GROUP_CONSUME[] =
    "UPDATE inbox_parts SET message_id = ?6 WHERE message_id IS NULL"
    " AND modem = ?1 AND sender = ?2 AND ref = ?3 AND ref_bits = ?4 AND total = ?5";

int store_group_consume(struct store *st, const struct store_group *g, int64_t message_id)
{
	sqlite3_stmt *s = store_stmt(st, SQL_GROUP_CONSUME);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, g->modem);
	store_bind_text(s, 2, g->sender);
	sqlite3_bind_int(s, 3, g->ref);
	sqlite3_bind_int(s, 4, g->ref_bits);
	sqlite3_bind_int(s, 5, g->total);
	sqlite3_bind_int64(s, 6, message_id);
	return store_exec_stmt(st, SQL_GROUP_CONSUME, s);
}

static const char SQL_GROUP_STALE[] =
    "SELECT modem, sender, ref, ref_bits, total, min(received_at), count(DISTINCT seq) FROM inbox_parts"
    " WHERE message_id IS NULL GROUP BY modem, sender, ref, ref_bits, total"
    " HAVING min(received_at) < ?1 LIMIT ?2";

int store_group_stale(struct store *st, int64_t cutoff, struct store_group *out, size_t max, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, SQL_GROUP_STALE);
	int rc;

	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, cutoff);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
		struct store_group *g = &out[*n];
		memset(g, 0, sizeof(*g));
		snprintf(g->modem, sizeof(g->modem), "%s", store_col_text(s, 0));
		snprintf(g->sender, sizeof(g->sender), "%s", store_col_text(s, 1));
		g->ref = sqlite3_column_int(s, 2);
		g->ref_bits = sqlite3_column_int(s, 3);
		g->total = sqlite3_column_int(s, 4);
		g->first_received = sqlite3_column_int64(s, 5);
		g->n = (size_t)sqlite3_column_int(s, 6);
		(*n)++;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_fail(st, SQL_GROUP_STALE);
}

void store_group_free(struct store_group *g)
{
	buf_free(&g->text);
}

/* ---- sessions -------------------------------------------------------------------------- */

static const char SQL_SESSION_LOAD[] =
    "SELECT node, page, screen, mode, form_step, form_name, form_place, form_need, form_phone, last_reply,"
    " ussd_text, updated_at, ussd_end FROM sessions WHERE key = ?1";

static char *col_dup(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NULL : xstrdup(store_col_text(s, i));
}

int store_session_load(struct store *st, const char *key, int64_t now, int timeout, struct session *ses)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_LOAD);
	int rc;

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int64_t updated = sqlite3_column_int64(s, 11);
		ses->last_reply = col_dup(s, 9);
		ses->updated_at = updated;
		if (now - updated <= timeout) {
			snprintf(ses->node, sizeof(ses->node), "%s", store_col_text(s, 0));
			ses->page = sqlite3_column_int(s, 1);
			ses->screen = sqlite3_column_int(s, 2);
			ses->mode = sqlite3_column_int(s, 3);
			ses->form_step = sqlite3_column_int(s, 4);
			ses->form_name = col_dup(s, 5);
			ses->form_place = col_dup(s, 6);
			ses->form_need = col_dup(s, 7);
			ses->form_phone = col_dup(s, 8);
			ses->ussd_text = col_dup(s, 10);
			ses->ussd_ended = sqlite3_column_int(s, 12) != 0;
			ses->fresh = false;
		}
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(s);
		return store_fail(st, SQL_SESSION_LOAD);
	}
	sqlite3_reset(s);
	return 0;
}

static const char SQL_SESSION_SAVE[] =
    "INSERT INTO sessions (key, phone, channel, node, page, screen, mode, form_step, form_name, form_place,"
    " form_need, form_phone, last_reply, ussd_text, updated_at, ussd_end)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    " ON CONFLICT (key) DO UPDATE SET node = ?4, page = ?5, screen = ?6, mode = ?7, form_step = ?8,"
    " form_name = ?9, form_place = ?10, form_need = ?11, form_phone = ?12, last_reply = ?13,"
    " ussd_text = ?14, updated_at = ?15, ussd_end = ?16";

int store_session_save(struct store *st, const struct session *ses)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_SAVE);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, ses->key);
	store_bind_text(s, 2, ses->phone);
	store_bind_text(s, 3, ses->channel);
	store_bind_text(s, 4, ses->node);
	sqlite3_bind_int(s, 5, ses->page);
	sqlite3_bind_int(s, 6, ses->screen);
	sqlite3_bind_int(s, 7, ses->mode);
	sqlite3_bind_int(s, 8, ses->form_step);
	store_bind_text(s, 9, ses->form_name);
	store_bind_text(s, 10, ses->form_place);
	store_bind_text(s, 11, ses->form_need);
	store_bind_text(s, 12, ses->form_phone);
	store_bind_text(s, 13, ses->last_reply);
	store_bind_text(s, 14, ses->ussd_text);
	sqlite3_bind_int64(s, 15, ses->updated_at ? ses->updated_at : now_unix());
	sqlite3_bind_int(s, 16, ses->ussd_ended ? 1 : 0);
	return store_exec_stmt(st, SQL_SESSION_SAVE, s);
}

static const char SQL_SESSION_DELETE[] = "DELETE FROM sessions WHERE key = ?1";

int store_session_delete(struct store *st, const char *key)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_DELETE);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, key);
	return store_exec_stmt(st, SQL_SESSION_DELETE, s);
}

static const char SQL_SESSION_IDLE_FORMS[] =
    "SELECT key, phone, channel, node, form_step, last_reply, updated_at FROM sessions"
    " WHERE mode = 1 AND updated_at < ?1 LIMIT 100";

int store_session_idle_forms(struct store *st, int64_t cutoff, int (*fn)(struct session *s, void *arg), void *arg)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_IDLE_FORMS);
	struct session *list = NULL;
	size_t n = 0, cap = 0;
	int rc, ret = 0;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, cutoff);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			list = xrealloc(list, cap * sizeof(*list));
		}
		session_init(&list[n], store_col_text(s, 0), store_col_text(s, 1), store_col_text(s, 2));
		snprintf(list[n].node, sizeof(list[n].node), "%s", store_col_text(s, 3));
		list[n].mode = SESSION_FORM;
		list[n].form_step = sqlite3_column_int(s, 4);
		list[n].last_reply = col_dup(s, 5);
		list[n].updated_at = sqlite3_column_int64(s, 6);
		list[n].fresh = false;
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		ret = store_fail(st, SQL_SESSION_IDLE_FORMS);
	/* the statement is reset before the callbacks, which may write */
	for (size_t i = 0; i < n; i++) {
		if (ret == 0)
			(void)fn(&list[i], arg);
		session_clear(&list[i]);
	}
	free(list);
	return ret;
}

static const char SQL_SESSION_COUNT[] =
    "SELECT count(*) FROM sessions WHERE channel = ?1 AND updated_at >= ?2";

int store_session_count(struct store *st, const char *channel, int64_t since, int *count)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_COUNT);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, channel);
	sqlite3_bind_int64(s, 2, since);
	return count_query(st, SQL_SESSION_COUNT, s, count);
}

/* half-filled forms stay for the idle-forms job (cases_jobs.c), whatever other traffic comes */
static const char SQL_SESSION_PURGE[] =
    "DELETE FROM sessions WHERE channel = ?1 AND updated_at < ?2 AND mode <> 1";

int store_session_purge(struct store *st, const char *channel, int64_t cutoff, int *n)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SESSION_PURGE);

	*n = 0;
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, channel);
	sqlite3_bind_int64(s, 2, cutoff);
	if (store_exec_stmt(st, SQL_SESSION_PURGE, s) < 0)
		return -1;
	*n = sqlite3_changes(st->db);
	return 0;
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
	sqlite3_stmt *s;

	*n = 0;
	if (store_begin(st) < 0)
		return -1;
	if ((s = store_stmt(st, SQL_PURGE_MSG)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, cutoff);
	if (store_exec_stmt(st, SQL_PURGE_MSG, s) < 0)
		goto fail;
	*n = sqlite3_changes(st->db);
	if ((s = store_stmt(st, SQL_PURGE_PARTS)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, cutoff);
	if (store_exec_stmt(st, SQL_PURGE_PARTS, s) < 0)
		goto fail;
	if ((s = store_stmt(st, SQL_PURGE_SESSIONS)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, cutoff);
	if (store_exec_stmt(st, SQL_PURGE_SESSIONS, s) < 0)
		goto fail;
	return store_commit(st);
fail:
	store_rollback(st);
	return -1;
}

/* ---- sequences -------------------------------------------------------------------------- */

static const char SQL_SEQ_NEXT[] =
    "INSERT INTO sequences (name, value) VALUES (?1, 1)"
    " ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value";

int store_next_seq(struct store *st, const char *name, int64_t *value)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SEQ_NEXT);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, name);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return store_fail(st, SQL_SEQ_NEXT);
	}
	*value = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return 0;
}
