-- A database as the first release of hotlined left it: schema version 1
-- (gateway/store.c, migration 1, which must never change), with one
-- conversation in it. test_store opens it with a newer build and checks that
-- the migrations bring it forward without losing anything.
CREATE TABLE messages (  id INTEGER PRIMARY KEY,  channel TEXT NOT NULL,  direction TEXT NOT NULL CHECK (direction IN ('in','out')),  phone TEXT NOT NULL,  phone_key TEXT NOT NULL,  text TEXT NOT NULL,  raw BLOB,  parts INTEGER NOT NULL DEFAULT 1,  modem TEXT,  status TEXT NOT NULL,  node TEXT,  kind TEXT,  session TEXT,  error TEXT,  reply_to INTEGER REFERENCES messages(id),  smsc_time INTEGER,  msg_ref INTEGER,  uncertain INTEGER NOT NULL DEFAULT 0,  created_at INTEGER NOT NULL,  updated_at INTEGER NOT NULL,  sent_at INTEGER);
CREATE INDEX messages_phone ON messages(phone_key, created_at);
CREATE INDEX messages_created ON messages(created_at);
CREATE INDEX messages_reply ON messages(reply_to);
CREATE TABLE inbox_parts (  id INTEGER PRIMARY KEY,  modem TEXT NOT NULL,  sender TEXT NOT NULL,  smsc_time INTEGER NOT NULL,  ref INTEGER NOT NULL,  ref_bits INTEGER NOT NULL,  total INTEGER NOT NULL,  seq INTEGER NOT NULL,  digest INTEGER NOT NULL,  text TEXT NOT NULL,  raw BLOB,  kind TEXT NOT NULL,  received_at INTEGER NOT NULL,  message_id INTEGER REFERENCES messages(id),  UNIQUE (modem, sender, smsc_time, ref, seq, digest));
CREATE INDEX inbox_parts_open ON inbox_parts(modem, sender, ref, ref_bits, total) WHERE message_id IS NULL;
CREATE TABLE outbox (  message_id INTEGER PRIMARY KEY REFERENCES messages(id),  modem TEXT,  priority INTEGER NOT NULL DEFAULT 0,  not_before INTEGER NOT NULL,  attempts INTEGER NOT NULL DEFAULT 0,  sending INTEGER NOT NULL DEFAULT 0);
CREATE INDEX outbox_due ON outbox(sending, modem, not_before);
CREATE TABLE sessions (  key TEXT PRIMARY KEY,  phone TEXT NOT NULL,  channel TEXT NOT NULL,  node TEXT NOT NULL,  page INTEGER NOT NULL DEFAULT 0,  screen INTEGER NOT NULL DEFAULT 0,  mode INTEGER NOT NULL DEFAULT 0,  form_step INTEGER NOT NULL DEFAULT 0,  form_name TEXT, form_place TEXT, form_need TEXT, form_phone TEXT,  last_reply TEXT,  ussd_text TEXT,  updated_at INTEGER NOT NULL);
CREATE INDEX sessions_idle ON sessions(mode, updated_at);
CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);

INSERT INTO messages (channel, direction, phone, phone_key, text, status, node, kind, created_at, updated_at)
  VALUES ('sms', 'in', '+8613912345678', '13912345678', '低保咋申请', 'answered', 'dibao.apply', 'text', 1700000000, 1700000000);
INSERT INTO messages (channel, direction, phone, phone_key, text, status, node, kind, reply_to, created_at, updated_at)
  VALUES ('sms', 'out', '+8613912345678', '13912345678', '低保咋申请：到乡镇写申请。', 'queued', 'dibao.apply', 'reply', 1, 1700000000, 1700000000);
INSERT INTO outbox (message_id, modem, priority, not_before) VALUES (2, 'm0', 0, 1700000000);
INSERT INTO sessions (key, phone, channel, node, last_reply, updated_at)
  VALUES ('sms:13912345678', '+8613912345678', 'sms', 'dibao.apply', '低保咋申请：到乡镇写申请。', 1700000000);
INSERT INTO sequences (name, value) VALUES ('case-2023', 41);
PRAGMA user_version = 1;
