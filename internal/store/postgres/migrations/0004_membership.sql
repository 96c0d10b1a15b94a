-- Membership (issue 6): pending subscription requests and the counters
-- behind the abuse limits.

-- One pending request per address per list, whatever its kind: the
-- subscription workflow's stored state (package membership).
CREATE TABLE sub_requests (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	list_id       BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	email         TEXT COLLATE "C" NOT NULL, -- normalized (lower case)
	display_name  TEXT NOT NULL DEFAULT '',
	kind          TEXT NOT NULL CHECK (kind IN ('subscribe', 'unsubscribe')),
	state         TEXT NOT NULL CHECK (state IN ('confirm', 'moderate')),
	-- SHA-256 hex of the confirmation token; NULL when there is none.
	token_hash    TEXT COLLATE "C" UNIQUE,
	expires       TIMESTAMPTZ, -- NULL: never
	sent          TIMESTAMPTZ, -- last confirmation mail
	delivery_mode TEXT NOT NULL DEFAULT '',
	invited       BOOLEAN NOT NULL DEFAULT FALSE,
	pre_approved  BOOLEAN NOT NULL DEFAULT FALSE,
	source        TEXT NOT NULL DEFAULT '',
	created       TIMESTAMPTZ NOT NULL,
	UNIQUE (list_id, email)
);
CREATE INDEX sub_requests_expires ON sub_requests (expires);

-- Sliding-window quotas: one row per use. quota_scopes has one row per
-- scope that a charging transaction updates first (a row lock), to
-- serialize chargers under READ COMMITTED.
CREATE TABLE quota_scopes (
	scope TEXT COLLATE "C" PRIMARY KEY,
	uses  BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE quota_uses (
	scope TEXT COLLATE "C" NOT NULL,
	at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX quota_uses_scope_at ON quota_uses (scope, at);
CREATE INDEX quota_uses_at ON quota_uses (at);
