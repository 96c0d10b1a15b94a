package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"herald/internal/store"
)

// recordPostSQL counts posts of an address (count, last post).
const recordPostSQL = `INSERT INTO post_counts (list_id, email, count, last_post)
	VALUES (?, ?, ?, ?) ON CONFLICT (list_id, email) DO UPDATE
	SET count = post_counts.count + excluded.count, last_post = excluded.last_post RETURNING count`

// RecordPost implements store.Posting in one statement.
func (db *DB) RecordPost(ctx context.Context, listID int64, email string, at time.Time) (int64, error) {
	email = norm(email)
	op := fmt.Sprintf("record post of %s on list %d", email, listID)
	if email == "" {
		return 0, db.wrap(op, errEmpty("email"))
	}
	var n int64
	err := db.W.QueryRowContext(ctx, db.q(recordPostSQL), listID, email, 1, timeArg(at)).Scan(&n)
	if err != nil {
		return 0, db.wrapParent(op, "list", err)
	}
	return n, nil
}

// numberPostSQL takes the next numbers (increment, last post) and returns
// the last one taken.
const numberPostSQL = `UPDATE lists SET post_id = post_id + ?, last_post_at = ? WHERE id = ? RETURNING post_id`

// postCall is one NumberPost waiting in a group; id is its result.
type postCall struct {
	list  int64
	email string
	at    time.Time
	id    int64
}

// NumberPost implements store.Posting. Every post takes this write, so it
// is committed in groups (groupcommit.go), and a group numbers its posts
// together: one statement per list and one per sender, whatever the
// group's size, with the numbers and counts that the posts one after the
// other would have given.
func (db *DB) NumberPost(ctx context.Context, listID int64, email string, at time.Time) (int64, error) {
	p := &postCall{list: listID, email: norm(email), at: at}
	op := fmt.Sprintf("number post of %q on list %d", p.email, listID)
	db.prepareW(ctx, numberPostSQL, recordPostSQL)
	alone := func(ctx context.Context, tx *sql.Tx) error {
		return db.wrap(op, db.numberPosts(ctx, tx, []*postCall{p}))
	}
	if err := db.joinGroup(&groupCall{ctx: ctx, op: op, fn: alone, post: p, done: make(chan struct{})}); err != nil {
		return 0, err // p.id may be left from a merged attempt rolled back
	}
	return p.id, nil
}

// numberMerged numbers the posts of calls (see NumberPost).
func (db *DB) numberMerged(ctx context.Context, tx *sql.Tx, calls []*groupCall) error {
	posts := make([]*postCall, len(calls))
	for i, c := range calls {
		posts[i] = c.post
	}
	return db.numberPosts(ctx, tx, posts)
}

// numberPosts gives posts, in order, their lists' next numbers and counts
// them for their senders, in a statement per list and one per sender.
func (db *DB) numberPosts(ctx context.Context, tx *sql.Tx, posts []*postCall) error {
	type sender struct {
		list  int64
		email string
	}
	var lists []int64
	byList := map[int64][]*postCall{}
	var senders []sender
	bySender := map[sender][]*postCall{}
	for _, p := range posts {
		if byList[p.list] == nil {
			lists = append(lists, p.list)
		}
		byList[p.list] = append(byList[p.list], p)
		if p.email == "" {
			continue
		}
		k := sender{p.list, p.email}
		if bySender[k] == nil {
			senders = append(senders, k)
		}
		bySender[k] = append(bySender[k], p)
	}
	for _, l := range lists {
		ps := byList[l]
		var last int64
		err := db.txQueryRow(ctx, tx, numberPostSQL, len(ps), timeArg(ps[len(ps)-1].at), l).Scan(&last)
		if err != nil {
			return err
		}
		for i, p := range ps {
			p.id = last - int64(len(ps)-1-i)
		}
	}
	for _, k := range senders {
		ps := bySender[k]
		var n int64
		err := db.txQueryRow(ctx, tx, recordPostSQL, k.list, k.email, len(ps), timeArg(ps[len(ps)-1].at)).Scan(&n)
		if err != nil {
			return err
		}
	}
	return nil
}

// PostCount implements store.Posting.
func (db *DB) PostCount(ctx context.Context, listID int64, email string) (int64, error) {
	email = norm(email)
	var n int64
	err := db.R.QueryRowContext(ctx, db.q(`SELECT count FROM post_counts WHERE list_id = ? AND email = ?`),
		listID, email).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, db.wrap(fmt.Sprintf("post count of %s on list %d", email, listID), err)
	}
	return n, nil
}

// AllowAutoresponse implements store.Posting. The grace period is checked
// by reading first; the daily limit by the conditional upsert itself, so
// concurrent callers never exceed it.
func (db *DB) AllowAutoresponse(ctx context.Context, listID int64, email, kind string, at time.Time, perDay int, grace time.Duration) (bool, error) {
	email = norm(email)
	op := fmt.Sprintf("autoresponse %s to %s on list %d", kind, email, listID)
	if email == "" || kind == "" {
		return false, db.wrap(op, errEmpty("email or kind"))
	}
	at = at.UTC().Truncate(time.Microsecond)
	if grace > 0 {
		var last time.Time
		err := db.R.QueryRowContext(ctx, db.q(`SELECT last_sent FROM autoresponses
			WHERE list_id = ? AND email = ? AND kind = ?`), listID, email, kind).Scan(timeCol{&last})
		switch {
		case err == nil && at.Sub(last) < grace:
			return false, nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return false, db.wrap(op, err)
		}
	}
	limit := int64(perDay)
	if perDay <= 0 {
		limit = 1 << 62
	}
	var n int64
	err := db.W.QueryRowContext(ctx, db.q(`INSERT INTO autoresponses (list_id, email, kind, day, count, last_sent)
		VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (list_id, email, kind) DO UPDATE
		SET count = CASE WHEN autoresponses.day = excluded.day THEN autoresponses.count + 1 ELSE 1 END,
			day = excluded.day, last_sent = excluded.last_sent
		WHERE autoresponses.day <> excluded.day OR autoresponses.count < ?
		RETURNING count`), listID, email, kind, at.Format("2006-01-02"), timeArg(at), limit).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // today's limit reached: the update did not happen
	}
	if err != nil {
		return false, db.wrapParent(op, "list", err)
	}
	return true, nil
}

// GetHeldByToken implements store.Posting.
func (db *DB) GetHeldByToken(ctx context.Context, listID int64, token string) (*store.Held, error) {
	op := fmt.Sprintf("get held message by token on list %d", listID)
	if token == "" {
		return nil, db.notFound(op)
	}
	var msg []byte
	h, err := scanHeld(db.R.QueryRowContext(ctx, db.q(`SELECT `+heldCols+`, message FROM held
		WHERE list_id = ? AND token = ?`), listID, token), &msg)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	h.Message = msg
	return h, nil
}
