-- Membership (issue 6): pending subscription requests and the counters
-- behind the abuse limits. Times are TIMESTAMP text in UTC, as in 0001.

-- One pending request per address per list, whatever its kind: the
-- subscription workflow's stored state (package membership).
CREATE TABLE sub_requests (
	id            INTEGER PRIMARY KEY,
	list_id       INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	email         TEXT NOT NULL, -- normalized (lower case)
	display_name  TEXT NOT NULL DEFAULT '',
	kind          TEXT NOT NULL CHECK (kind IN ('subscribe', 'unsubscribe')),
	state         TEXT NOT NULL CHECK (state IN ('confirm', 'moderate')),
	-- SHA-256 hex of the confirmation token; NULL when there is none.
	token_hash    TEXT UNIQUE,
	expires       TIMESTAMP, -- NULL: never
	sent          TIMESTAMP, -- last confirmation mail
	delivery_mode TEXT NOT NULL DEFAULT '',
	invited       INTEGER NOT NULL DEFAULT 0,
	pre_approved  INTEGER NOT NULL DEFAULT 0,
	source        TEXT NOT NULL DEFAULT '',
	created       TIMESTAMP NOT NULL,
	UNIQUE (list_id, email)
);
CREATE INDEX sub_requests_expires ON sub_requests (expires);

-- Sliding-window quotas: one row per use. quota_scopes has one row per
-- scope that a charging transaction updates first, to serialize chargers.
CREATE TABLE quota_scopes (
	scope TEXT PRIMARY KEY,
	uses  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE quota_uses (
	scope TEXT NOT NULL,
	at    TIMESTAMP NOT NULL
);
CREATE INDEX quota_uses_scope_at ON quota_uses (scope, at);
CREATE INDEX quota_uses_at ON quota_uses (at);
