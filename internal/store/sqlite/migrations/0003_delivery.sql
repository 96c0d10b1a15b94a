-- Delivery (issue 5): bounce events recorded at SMTP time (and later by
-- bounce processing), and per-domain DKIM signing keys. Times are
-- TIMESTAMP text in UTC, booleans 0/1, as in 0001.

CREATE TABLE bounce_events (
	id        INTEGER PRIMARY KEY,
	list_id   INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	email     TEXT NOT NULL, -- normalized (lower case)
	permanent INTEGER NOT NULL DEFAULT 0,
	reason    TEXT NOT NULL DEFAULT '',
	detail    TEXT NOT NULL DEFAULT '',
	source    TEXT NOT NULL DEFAULT '',
	at        TIMESTAMP NOT NULL,
	processed INTEGER NOT NULL DEFAULT 0
);
-- Bounce processing reads the unprocessed events oldest first.
CREATE INDEX bounce_events_unprocessed ON bounce_events (processed, at, id);
CREATE INDEX bounce_events_list_email ON bounce_events (list_id, email);

-- One signing key per mail domain (the d= of the signature).
CREATE TABLE dkim_keys (
	domain      TEXT PRIMARY KEY REFERENCES domains (name) ON DELETE CASCADE,
	selector    TEXT NOT NULL,
	algorithm   TEXT NOT NULL CHECK (algorithm IN ('rsa', 'ed25519')),
	private_key TEXT NOT NULL, -- PKCS #8, PEM
	created     TIMESTAMP NOT NULL
);

-- The delivery walk (store.Recipients, sqlstore/recipients.go): the members
-- who get posts, in member id spans, without reading the members table.
CREATE INDEX members_recipients ON members
	(list_id, role, delivery_status, delivery_mode, id, address_id, receive_own_postings, receive_list_copy);
