package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"herald/internal/lru"
	"herald/internal/store"
)

// Recipient cache defaults: walks of at least this many recipients are
// kept, up to this many bytes of them in all.
const (
	DefaultRecipientCacheMin   = 1000
	DefaultRecipientCacheBytes = 256 << 20
)

// recipientCache keeps the plain walks of big lists (their spans, which
// hold the addresses in one string each: ~30 bytes a recipient), each
// under the list's membership version read before it was walked. A walk
// is used again only while the version is unchanged; the version is
// changed by triggers (migration 0006) in the same transaction as any
// change to what the walk reads, by whatever process or tool makes it.
// Reading the version before walking means a change that commits during
// the walk is never hidden: at worst the walk sees it and is kept under
// the older version, so the next delivery walks again. Least recently
// used walks go first when the bytes run out.
type recipientCache struct {
	min   int // recipients a walk needs to be kept; set before use
	walks lru.Cache[int64, cachedWalk]
}

// cachedWalk is one list's kept walk.
type cachedWalk struct {
	version int64
	spans   []span
}

// SetRecipientCache sets how many recipients a list's walk needs to be kept
// in memory and how many bytes of walks are kept at most (0: none), and
// forgets what was kept. It is meant for start-up, before any walk.
func (db *DB) SetRecipientCache(min, limitBytes int) {
	db.recipients.min = min
	db.recipients.walks.SetLimit(limitBytes)
}

// get returns the kept walk of list at version.
func (c *recipientCache) get(list, version int64) ([]span, bool) {
	w, ok := c.walks.Get(list)
	if !ok || w.version != version {
		return nil, false
	}
	return w.spans, true
}

// put keeps the walk of list at version if it is big enough (else
// forgets the list's older one).
func (c *recipientCache) put(list, version int64, spans []span) {
	n, size := 0, 0
	for _, s := range spans {
		n += s.n
		size += len(s.agg) + spanOverhead
	}
	if n < c.min {
		c.walks.Delete(list)
		return
	}
	c.walks.Put(list, cachedWalk{version: version, spans: spans}, size)
}

// spanOverhead approximates a kept span's bytes besides its addresses.
const spanOverhead = 64

// MembersVersion returns the list's membership version, which changes in
// the same transaction as any change to what the plain recipient walk
// yields (migration 0006); ok is false when the list has none (it does
// not exist). Delivery keeps its own per-post structures under it.
func (db *DB) MembersVersion(ctx context.Context, listID int64) (v int64, ok bool, err error) {
	v, ok, err = db.memberVersion(ctx, listID)
	return v, ok, db.wrap(fmt.Sprintf("membership version of list %d", listID), err)
}

// memberVersion reads the list's membership version; ok is false when the
// list has none (it does not exist).
func (db *DB) memberVersion(ctx context.Context, listID int64) (v int64, ok bool, err error) {
	err = db.queryRow(ctx, db.R, `SELECT version FROM member_versions WHERE list_id = ?`, listID).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	return v, err == nil, err
}

// WarmRecipients walks, in the cache, every list with at least the cache's
// minimum of recipients, so a big list's first post after a start does not
// wait for its walk. serve runs it in the background at start.
func (db *DB) WarmRecipients(ctx context.Context) error {
	if db.recipients.walks.Limit() == 0 {
		return nil
	}
	ids, err := db.bigLists(ctx, max(db.recipients.min, 1))
	if err != nil {
		return db.wrap("find lists to warm the recipient cache", err)
	}
	for _, id := range ids {
		if err := db.EachRecipient(ctx, id, false, func(*store.Recipient) error { return nil }); err != nil {
			return fmt.Errorf("warm the recipient cache: %w", err)
		}
	}
	return nil
}

// bigLists returns the lists with at least min recipients.
func (db *DB) bigLists(ctx context.Context, min int) ([]int64, error) {
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT list_id FROM members
		WHERE role = ? AND delivery_status = ? AND delivery_mode = ?
		GROUP BY list_id HAVING count(*) >= ?`), string(store.RoleMember), store.DeliveryEnabled, store.ModeRegular, min)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
