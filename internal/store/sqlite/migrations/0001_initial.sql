-- herald's initial SQLite schema. Times are TIMESTAMP text in UTC
-- ("2006-01-02 15:04:05.999999-00:00"); booleans are 0/1.

CREATE TABLE domains (
	name        TEXT PRIMARY KEY,
	description TEXT NOT NULL DEFAULT '',
	created     TIMESTAMP NOT NULL
);

CREATE TABLE lists (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL,
	domain       TEXT NOT NULL REFERENCES domains (name) ON DELETE RESTRICT,
	-- store.Settings as a JSON object keyed by setting name; keys absent
	-- take their default, unknown keys are ignored.
	settings     TEXT NOT NULL DEFAULT '{}',
	created      TIMESTAMP NOT NULL,
	post_id      INTEGER NOT NULL DEFAULT 0,
	last_post_at TIMESTAMP,
	UNIQUE (domain, name)
);

CREATE TABLE addresses (
	id           INTEGER PRIMARY KEY,
	email        TEXT NOT NULL UNIQUE, -- normalized (lower case)
	display_name TEXT NOT NULL DEFAULT '',
	verified     TIMESTAMP,
	created      TIMESTAMP NOT NULL
);

CREATE TABLE members (
	id                   INTEGER PRIMARY KEY,
	list_id              INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	address_id           INTEGER NOT NULL REFERENCES addresses (id) ON DELETE RESTRICT,
	role                 TEXT NOT NULL CHECK (role IN ('member', 'owner', 'moderator', 'nonmember')),
	display_name         TEXT NOT NULL DEFAULT '',
	moderation_action    TEXT NOT NULL DEFAULT '',
	delivery_status      TEXT NOT NULL DEFAULT 'enabled',
	delivery_mode        TEXT NOT NULL DEFAULT 'regular',
	receive_own_postings INTEGER NOT NULL DEFAULT 1,
	receive_list_copy    INTEGER NOT NULL DEFAULT 1,
	acknowledge_posts    INTEGER NOT NULL DEFAULT 0,
	hide_address         INTEGER NOT NULL DEFAULT 0,
	language             TEXT NOT NULL DEFAULT 'en',
	token                TEXT NOT NULL UNIQUE,
	created              TIMESTAMP NOT NULL,
	UNIQUE (list_id, address_id, role)
);
CREATE INDEX members_list_role ON members (list_id, role);
CREATE INDEX members_address ON members (address_id);

CREATE TABLE held (
	id         INTEGER PRIMARY KEY,
	list_id    INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	sender     TEXT NOT NULL DEFAULT '',
	env_sender TEXT NOT NULL DEFAULT '',
	subject    TEXT NOT NULL DEFAULT '',
	message_id TEXT NOT NULL DEFAULT '',
	reasons    TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
	received   TIMESTAMP NOT NULL,
	message    BLOB NOT NULL
);
CREATE INDEX held_list_received ON held (list_id, received);
