-- Bounce processing (issue 7): member bounce records, probes and the
-- circuit breaker's holds. Times are TIMESTAMP text in UTC, as in 0001.

-- One record per membership (role member); it goes with the membership.
CREATE TABLE bounce_info (
	member_id     INTEGER PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
	score         INTEGER NOT NULL DEFAULT 0,
	last_bounce   TIMESTAMP, -- NULL: none
	probe_sent    TIMESTAMP, -- NULL: no probe pending
	disabled_at   TIMESTAMP, -- NULL: not disabled by bounce processing
	last_warning  TIMESTAMP, -- NULL: no warning since disabled
	warnings_sent INTEGER NOT NULL DEFAULT 0
);

-- Probes sent to members at the threshold; a bounce to
-- LIST-bounces+TOKEN@DOMAIN names one. Only the token's SHA-256 is kept.
CREATE TABLE bounce_probes (
	token_hash TEXT PRIMARY KEY,
	list_id    INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	email      TEXT NOT NULL, -- normalized (lower case)
	sent       TIMESTAMP NOT NULL
);
CREATE INDEX bounce_probes_sent ON bounce_probes (sent);

-- Circuit-breaker holds: events of the list dated in [starts, ends) are
-- not scored.
CREATE TABLE bounce_holds (
	id      INTEGER PRIMARY KEY,
	list_id INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	starts  TIMESTAMP NOT NULL,
	ends    TIMESTAMP NOT NULL,
	reason  TEXT NOT NULL DEFAULT '',
	created TIMESTAMP NOT NULL
);
CREATE INDEX bounce_holds_list_ends ON bounce_holds (list_id, ends);

-- The breaker reads a list's recent events by time.
CREATE INDEX bounce_events_list_at ON bounce_events (list_id, at);
