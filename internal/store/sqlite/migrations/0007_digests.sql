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

CREATE TABLE digest_state (
	list_id   INTEGER PRIMARY KEY REFERENCES lists (id) ON DELETE CASCADE,
	volume    INTEGER NOT NULL,
	issue     INTEGER NOT NULL,
	last_sent TIMESTAMP NOT NULL
);
