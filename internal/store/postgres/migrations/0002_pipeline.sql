-- The post pipeline (issue 4): bans, per-address post counts, autoresponse
-- records and the tokens of held messages.

-- A ban keeps an address or a pattern ("^regexp") off one list, or off
-- every list when list_id is NULL.
CREATE TABLE bans (
	id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	list_id BIGINT REFERENCES lists (id) ON DELETE CASCADE,
	pattern TEXT COLLATE "C" NOT NULL,
	created TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX bans_list_pattern ON bans (list_id, pattern) WHERE list_id IS NOT NULL;
CREATE UNIQUE INDEX bans_global_pattern ON bans (pattern) WHERE list_id IS NULL;

-- Accepted posts per list and address; not on the member row, so the
-- count survives unsubscribe and resubscribe.
CREATE TABLE post_counts (
	list_id   BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	email     TEXT COLLATE "C" NOT NULL,
	count     BIGINT NOT NULL DEFAULT 0,
	last_post TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (list_id, email)
);

-- Automatic responses (hold notices, replybot) per list, address and
-- kind: how many went out on day (UTC, YYYY-MM-DD) and when the last did.
CREATE TABLE autoresponses (
	list_id   BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	email     TEXT COLLATE "C" NOT NULL,
	kind      TEXT NOT NULL,
	day       TEXT NOT NULL,
	count     BIGINT NOT NULL DEFAULT 0,
	last_sent TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (list_id, email, kind)
);

-- The secret a moderator's reply to a hold notice carries.
ALTER TABLE held ADD COLUMN token TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX held_token ON held (token) WHERE token <> '';
