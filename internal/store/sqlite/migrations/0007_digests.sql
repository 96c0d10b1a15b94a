-- Digests: the posts each list keeps for its next digest, and where its
-- digests are (volume, issue, when the last went out).
CREATE TABLE digest_messages (
	id       INTEGER PRIMARY KEY,
	list_id  INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	post_id  INTEGER NOT NULL,
	created  TIMESTAMP NOT NULL,
	message  BLOB NOT NULL
);
CREATE INDEX digest_messages_list ON digest_messages (list_id, id);

-- sending_since is a node's lease on sending the list's digest (several
-- herald nodes share a PostgreSQL database; a lease older than the
-- sender's limit is from a node that died and is taken over).
CREATE TABLE digest_state (
	list_id       INTEGER PRIMARY KEY REFERENCES lists (id) ON DELETE CASCADE,
	volume        INTEGER NOT NULL,
	issue         INTEGER NOT NULL,
	last_sent     TIMESTAMP,
	sending_since TIMESTAMP
);
