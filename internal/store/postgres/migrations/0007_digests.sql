-- Digests: the posts each list keeps for its next digest, and where its
-- digests are (volume, issue, when the last went out).
CREATE TABLE digest_messages (
	id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	list_id  BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	post_id  BIGINT NOT NULL,
	created  TIMESTAMPTZ NOT NULL,
	message  BYTEA NOT NULL
);
CREATE INDEX digest_messages_list ON digest_messages (list_id, id);

-- sending_since is a node's lease on sending the list's digest (several
-- herald nodes share a PostgreSQL database; a lease older than the
-- sender's limit is from a node that died and is taken over).
CREATE TABLE digest_state (
	list_id       BIGINT PRIMARY KEY REFERENCES lists (id) ON DELETE CASCADE,
	volume        INTEGER NOT NULL,
	issue         INTEGER NOT NULL,
	last_sent     TIMESTAMPTZ,
	sending_since TIMESTAMPTZ
);
