-- The archive: the messages of a list's archive (imported from mbox files;
-- the post runner does not add posts yet). A list's Message-IDs are
-- unique, so an import run twice adds nothing twice.
CREATE TABLE archive (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	list_id     BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	post_id     BIGINT NOT NULL DEFAULT 0,
	message_id  TEXT NOT NULL DEFAULT '',
	in_reply_to TEXT NOT NULL DEFAULT '',
	subject     TEXT NOT NULL DEFAULT '',
	sender      TEXT NOT NULL DEFAULT '',
	date        TIMESTAMPTZ NOT NULL,
	archived    TIMESTAMPTZ NOT NULL,
	message     BYTEA NOT NULL
);
CREATE INDEX archive_list ON archive (list_id, id);
CREATE UNIQUE INDEX archive_message_id ON archive (list_id, message_id) WHERE message_id <> '';
