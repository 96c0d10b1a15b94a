-- Membership versions: the recipient walk's cache (sqlstore/recipients.go)
-- keeps a big list's recipients in memory while the list's version is the
-- one it read before walking. The triggers below change the version in the
-- same transaction as any change to what the plain walk reads (members'
-- list, address, role, delivery status and mode, the two receive flags,
-- and addresses' email), whichever process or tool makes it. Versions come
-- from one sequence, so no version is ever seen twice, even for a list
-- created under the id of a deleted one. The member triggers run once per
-- statement over its transition table, and change a list's version once per
-- transaction (bumped_by: the transaction that last changed it): a version
-- row updated again by the same transaction gains nothing (no other
-- transaction sees the first change before the last) and costs more each
-- time (PostgreSQL follows the chain of the row's versions), which made a
-- 5,000-member batch 60% slower.
CREATE SEQUENCE member_version_seq;

CREATE TABLE member_versions (
	list_id   BIGINT PRIMARY KEY REFERENCES lists (id) ON DELETE CASCADE,
	version   BIGINT NOT NULL,
	bumped_by BIGINT -- txid_current() of the transaction that last changed version
);
INSERT INTO member_versions (list_id, version) SELECT id, nextval('member_version_seq') FROM lists;

CREATE FUNCTION member_versions_new_list() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO member_versions (list_id, version) VALUES (NEW.id, nextval('member_version_seq'));
	RETURN NULL;
END $$;
CREATE TRIGGER member_versions_new_list AFTER INSERT ON lists
	FOR EACH ROW EXECUTE FUNCTION member_versions_new_list();

-- Inserted or deleted members: the rows are in the transition table "changed".
CREATE FUNCTION member_versions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE member_versions SET version = nextval('member_version_seq'), bumped_by = txid_current()
	WHERE bumped_by IS DISTINCT FROM txid_current() AND list_id IN (SELECT DISTINCT list_id FROM changed);
	RETURN NULL;
END $$;
CREATE TRIGGER member_versions_insert AFTER INSERT ON members
	REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION member_versions_changed();
CREATE TRIGGER member_versions_delete AFTER DELETE ON members
	REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION member_versions_changed();

-- Updated members: only rows whose walked columns changed count.
CREATE FUNCTION member_versions_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE member_versions SET version = nextval('member_version_seq'), bumped_by = txid_current()
	WHERE bumped_by IS DISTINCT FROM txid_current() AND list_id IN (
		SELECT unnest(ARRAY[o.list_id, n.list_id]) FROM old_rows o JOIN new_rows n ON n.id = o.id
		WHERE (o.list_id, o.address_id, o.role, o.delivery_status, o.delivery_mode,
				o.receive_own_postings, o.receive_list_copy)
			IS DISTINCT FROM (n.list_id, n.address_id, n.role, n.delivery_status, n.delivery_mode,
				n.receive_own_postings, n.receive_list_copy));
	RETURN NULL;
END $$;
CREATE TRIGGER member_versions_update AFTER UPDATE ON members
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION member_versions_updated();

-- A changed address email: every list the address is a member of.
CREATE FUNCTION member_versions_address() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE member_versions SET version = nextval('member_version_seq'), bumped_by = txid_current()
	WHERE bumped_by IS DISTINCT FROM txid_current() AND list_id IN (SELECT m.list_id FROM members m JOIN old_rows o ON o.id = m.address_id
		JOIN new_rows n ON n.id = o.id WHERE o.email IS DISTINCT FROM n.email);
	RETURN NULL;
END $$;
CREATE TRIGGER member_versions_address AFTER UPDATE ON addresses
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION member_versions_address();
