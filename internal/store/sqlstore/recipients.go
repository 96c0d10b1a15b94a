package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"herald/internal/store"
)

// recipientSpan is how many member ids one query of the plain walk covers
// at most. The first spans are smaller (firstRecipientSpan, doubling), so
// the first recipients reach the caller (delivery, which starts sending
// them during the walk) within a millisecond or two.
const (
	recipientSpan      = 16384
	firstRecipientSpan = 512
)

// recipientWhere selects the members who get posts; the caller appends
// the id range.
const recipientWhere = `WHERE m.list_id = ? AND m.role = ? AND m.delivery_status = ? AND m.delivery_mode = ?`

// EachRecipient implements store.Recipients.
//
// The personal walk is one indexed scan of the list's members joined to
// their addresses by primary key, with no ORDER BY (no sort) and only the
// columns delivery reads.
//
// The plain walk (bulk and VERP posts, the big ones) moves most of the
// per-row work into the database: it splits the list's member ids into
// spans of recipientSpan, each read from the covering index
// members_recipients (migration 0003; without it, members_list_role and
// the members rows), and each span's query returns one row, the
// span's addresses joined by "\n" (string_agg, in SQLite ≥ 3.44 and
// PostgreSQL), with their count. An address whose flags are not both set
// comes as "\t" + receive_own_postings + receive_list_copy ("0"/"1") +
// address; stored addresses are trimmed, so none starts with a tab. Should
// the count not match the lines (an address with a line break), that span
// is walked row by row instead. recipientWalkers spans are queried at
// once (the read pool has several connections) while fn consumes the
// ones done, always from the caller's goroutine. (Delivery keeps big
// lists' walks in memory under MembersVersion, so this runs once per
// membership change for them.)
func (db *DB) EachRecipient(ctx context.Context, listID int64, personal bool, fn func(*store.Recipient) error) error {
	return db.memoWalk(recipKey{listID, personal}, fn, func(fn func(*store.Recipient) error) error {
		return db.eachRecipient(ctx, listID, personal, fn)
	})
}

// eachRecipient is EachRecipient's walk.
func (db *DB) eachRecipient(ctx context.Context, listID int64, personal bool, fn func(*store.Recipient) error) error {
	op := fmt.Sprintf("walk recipients of list %d", listID)
	if personal {
		return db.wrapWalk(op, db.eachRecipientRow(ctx, listID, true, 0, 0, fn))
	}
	var lo, hi sql.NullInt64
	// Two indexed probes: SQLite optimizes a lone min() or max() into one,
	// but min() and max() together scan all of the list's members.
	role := string(store.RoleMember)
	if err := db.queryRow(ctx, db.R, `SELECT
		(SELECT id FROM members WHERE list_id = ? AND role = ? ORDER BY id LIMIT 1),
		(SELECT id FROM members WHERE list_id = ? AND role = ? ORDER BY id DESC LIMIT 1)`,
		listID, role, listID, role).Scan(&lo, &hi); err != nil {
		return db.wrap(op, err)
	}
	if !lo.Valid {
		return nil
	}
	return db.wrapWalk(op, db.walkSpans(ctx, listID, lo.Int64-1, hi.Int64, fn))
}

// recipientWalkers is how many spans of the plain walk are queried at once.
const recipientWalkers = 2

// span is one query of the plain walk: member ids in (from, to].
type span struct {
	from, to int64
	n        int    // rows
	agg      string // see EachRecipient
	err      error
}

// walkSpans runs the plain walk over member ids in (from, to].
func (db *DB) walkSpans(ctx context.Context, listID, from, to int64, fn func(*store.Recipient) error) error {
	ctx, cancel := context.WithCancel(ctx)
	todo, done := make(chan span), make(chan span, recipientWalkers)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(todo)
		size := int64(firstRecipientSpan)
		for f := from; f < to; f, size = f+size, min(2*size, recipientSpan) {
			select {
			case todo <- span{from: f, to: f + size}:
			case <-ctx.Done():
				return
			}
		}
	})
	for range recipientWalkers {
		wg.Go(func() {
			for s := range todo {
				s.n, s.agg, s.err = db.querySpan(ctx, listID, s.from, s.to)
				select {
				case done <- s:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(done)
	}()
	defer func() {
		cancel()
		for range done { // let the walkers end before returning
		}
	}()
	for s := range done {
		if err := db.consumeSpan(ctx, listID, s, fn); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// querySpan returns the count and the joined addresses of one span.
func (db *DB) querySpan(ctx context.Context, listID, from, to int64) (int, string, error) {
	var n int
	var agg sql.NullString
	err := db.queryRow(ctx, db.R, `SELECT count(*), string_agg(CASE
			WHEN m.receive_own_postings AND m.receive_list_copy THEN a.email
			ELSE ? || (CASE WHEN m.receive_own_postings THEN '1' ELSE '0' END)
				|| (CASE WHEN m.receive_list_copy THEN '1' ELSE '0' END) || a.email END, ?)`+
		memberFrom+recipientWhere+` AND m.id > ? AND m.id <= ?`,
		"\t", "\n", listID, string(store.RoleMember), store.DeliveryEnabled, store.ModeRegular, from, to).Scan(&n, &agg)
	return n, agg.String, err
}

// consumeSpan hands a span's recipients to fn.
func (db *DB) consumeSpan(ctx context.Context, listID int64, s span, fn func(*store.Recipient) error) error {
	switch {
	case s.err != nil:
		return s.err
	case s.n == 0:
		return nil
	case strings.Count(s.agg, "\n") != s.n-1:
		return db.eachRecipientRow(ctx, listID, false, s.from, s.to, fn)
	}
	var r store.Recipient
	for rest := s.agg; rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		r.Email, r.ReceiveOwnPostings, r.ReceiveListCopy = line, true, true
		if len(line) > 3 && line[0] == '\t' {
			r.Email, r.ReceiveOwnPostings, r.ReceiveListCopy = line[3:], line[1] == '1', line[2] == '1'
		}
		if err := fn(&r); err != nil {
			return walkError{err}
		}
	}
	return nil
}

// walkError is fn's error, passed through the walk unwrapped.
type walkError struct{ err error }

func (e walkError) Error() string { return e.err.Error() }

// wrapWalk wraps a database error with op and returns fn's as it is.
func (db *DB) wrapWalk(op string, err error) error {
	if we, ok := err.(walkError); ok {
		return we.err
	}
	return db.wrap(op, err)
}

// eachRecipientRow walks the recipients one row each: all of them, or
// those with member ids in (from, to] when to > 0.
func (db *DB) eachRecipientRow(ctx context.Context, listID int64, personal bool, from, to int64, fn func(*store.Recipient) error) error {
	cols := `a.email, m.receive_own_postings, m.receive_list_copy`
	if personal {
		cols += `, m.display_name, m.token, m.language`
	}
	query := `SELECT ` + cols + memberFrom + recipientWhere
	args := []any{listID, string(store.RoleMember), store.DeliveryEnabled, store.ModeRegular}
	if to > 0 {
		query += ` AND m.id > ? AND m.id <= ?`
		args = append(args, from, to)
	}
	rows, err := db.R.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var r store.Recipient
	dest := []any{&r.Email, &r.ReceiveOwnPostings, &r.ReceiveListCopy}
	if personal {
		dest = append(dest, &r.DisplayName, &r.Token, &r.Language)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return walkError{err}
		}
	}
	return rows.Err()
}
