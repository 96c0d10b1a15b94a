-- Membership versions: the recipient walk's cache (sqlstore/recipients.go)
-- keeps a big list's recipients in memory while the list's version is the
-- one it read before walking. The triggers below change the version in the
-- same transaction as any change to what the plain walk reads (members'
-- list, address, role, delivery status and mode, the two receive flags,
-- and addresses' email), whichever process or tool makes it. A new list's
-- version starts at a random number, so a list created under the id of a
-- deleted one never matches what was cached for that one.
CREATE TABLE member_versions (
	list_id INTEGER PRIMARY KEY REFERENCES lists (id) ON DELETE CASCADE,
	version INTEGER NOT NULL
);
-- random() >> 2 leaves room to count up without overflowing.
INSERT INTO member_versions (list_id, version) SELECT id, random() >> 2 FROM lists;

CREATE TRIGGER member_versions_new_list AFTER INSERT ON lists BEGIN
	INSERT INTO member_versions (list_id, version) VALUES (NEW.id, random() >> 2);
END;

CREATE TRIGGER member_versions_insert AFTER INSERT ON members BEGIN
	UPDATE member_versions SET version = version + 1 WHERE list_id = NEW.list_id;
END;

CREATE TRIGGER member_versions_delete AFTER DELETE ON members BEGIN
	UPDATE member_versions SET version = version + 1 WHERE list_id = OLD.list_id;
END;

CREATE TRIGGER member_versions_update AFTER UPDATE ON members
WHEN OLD.list_id IS NOT NEW.list_id OR OLD.address_id IS NOT NEW.address_id OR OLD.role IS NOT NEW.role
	OR OLD.delivery_status IS NOT NEW.delivery_status OR OLD.delivery_mode IS NOT NEW.delivery_mode
	OR OLD.receive_own_postings IS NOT NEW.receive_own_postings OR OLD.receive_list_copy IS NOT NEW.receive_list_copy
BEGIN
	UPDATE member_versions SET version = version + 1 WHERE list_id IN (OLD.list_id, NEW.list_id);
END;

CREATE TRIGGER member_versions_address AFTER UPDATE OF email ON addresses
WHEN OLD.email IS NOT NEW.email
BEGIN
	UPDATE member_versions SET version = version + 1
	WHERE list_id IN (SELECT list_id FROM members WHERE address_id = NEW.id);
END;
