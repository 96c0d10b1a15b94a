-- herald's initial PostgreSQL schema. Names and emails use the "C"
-- collation so ORDER BY matches SQLite's byte order on every server.

CREATE TABLE domains (
	name        TEXT COLLATE "C" PRIMARY KEY,
	description TEXT NOT NULL DEFAULT '',
	created     TIMESTAMPTZ NOT NULL
);

CREATE TABLE lists (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name         TEXT COLLATE "C" NOT NULL,
	domain       TEXT COLLATE "C" NOT NULL REFERENCES domains (name) ON DELETE RESTRICT,
	-- store.Settings keyed by setting name; keys absent take their
	-- default, unknown keys are ignored.
	settings     JSONB NOT NULL DEFAULT '{}',
	created      TIMESTAMPTZ NOT NULL,
	post_id      BIGINT NOT NULL DEFAULT 0,
	last_post_at TIMESTAMPTZ,
	UNIQUE (domain, name)
);

CREATE TABLE addresses (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email        TEXT COLLATE "C" NOT NULL UNIQUE, -- normalized (lower case)
	display_name TEXT NOT NULL DEFAULT '',
	verified     TIMESTAMPTZ,
	created      TIMESTAMPTZ NOT NULL
);

CREATE TABLE members (
	id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	list_id              BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	address_id           BIGINT NOT NULL REFERENCES addresses (id) ON DELETE RESTRICT,
	role                 TEXT NOT NULL CHECK (role IN ('member', 'owner', 'moderator', 'nonmember')),
	display_name         TEXT NOT NULL DEFAULT '',
	moderation_action    TEXT NOT NULL DEFAULT '',
	delivery_status      TEXT NOT NULL DEFAULT 'enabled',
	delivery_mode        TEXT NOT NULL DEFAULT 'regular',
	receive_own_postings BOOLEAN NOT NULL DEFAULT TRUE,
	receive_list_copy    BOOLEAN NOT NULL DEFAULT TRUE,
	acknowledge_posts    BOOLEAN NOT NULL DEFAULT FALSE,
	hide_address         BOOLEAN NOT NULL DEFAULT FALSE,
	language             TEXT NOT NULL DEFAULT 'en',
	token                TEXT NOT NULL UNIQUE,
	created              TIMESTAMPTZ NOT NULL,
	UNIQUE (list_id, address_id, role)
);
CREATE INDEX members_list_role ON members (list_id, role);
CREATE INDEX members_address ON members (address_id);

CREATE TABLE held (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	list_id    BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	sender     TEXT NOT NULL DEFAULT '',
	env_sender TEXT NOT NULL DEFAULT '',
	subject    TEXT NOT NULL DEFAULT '',
	message_id TEXT NOT NULL DEFAULT '',
	reasons    JSONB NOT NULL DEFAULT '[]',
	received   TIMESTAMPTZ NOT NULL,
	message    BYTEA NOT NULL
);
CREATE INDEX held_list_received ON held (list_id, received);
