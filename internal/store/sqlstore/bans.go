package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"herald/internal/store"
)

// banRegexps caches compiled ban patterns; patterns are validated when
// they are added, so a pattern that does not compile here (written by
// another tool) simply never matches.
var banRegexps sync.Map // pattern → *regexp.Regexp (nil: does not compile)

// listArg is a ban's list_id parameter: NULL for a global ban.
func listArg(listID int64) any {
	if listID == 0 {
		return nil
	}
	return listID
}

// AddBan implements store.Bans. b.Pattern is normalized; b.ID and
// b.Created are set. ErrNotFound for an unknown list.
func (db *DB) AddBan(ctx context.Context, b *store.Ban) error {
	op := fmt.Sprintf("ban %q on list %d", b.Pattern, b.ListID)
	p, err := store.BanPattern(b.Pattern)
	if err != nil {
		return db.wrap(op, err)
	}
	b.Pattern, b.Created = p, now()
	return db.inTx(ctx, op, func(tx *sql.Tx) error {
		if b.ListID != 0 {
			var n int
			if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM lists WHERE id = ?`), b.ListID).Scan(&n); err != nil {
				return db.wrap(op, err)
			}
			if n == 0 {
				return db.notFound(op + ": list")
			}
		}
		err := tx.QueryRowContext(ctx, db.q(`INSERT INTO bans (list_id, pattern, created) VALUES (?, ?, ?) RETURNING id`),
			listArg(b.ListID), b.Pattern, timeArg(b.Created)).Scan(&b.ID)
		return db.wrapParent(op, "list", err)
	})
}

// RemoveBan implements store.Bans.
func (db *DB) RemoveBan(ctx context.Context, listID int64, pattern string) error {
	op := fmt.Sprintf("unban %q on list %d", pattern, listID)
	p, err := store.BanPattern(pattern)
	if err != nil {
		return db.wrap(op, err)
	}
	query := `DELETE FROM bans WHERE list_id = ? AND pattern = ?`
	args := []any{listID, p}
	if listID == 0 {
		query, args = `DELETE FROM bans WHERE list_id IS NULL AND pattern = ?`, []any{p}
	}
	res, err := db.W.ExecContext(ctx, db.q(query), args...)
	db.wrote()
	return db.affected(op, res, err)
}

// ListBans implements store.Bans, ordered by pattern.
func (db *DB) ListBans(ctx context.Context, listID int64) ([]store.Ban, error) {
	query := `SELECT id, list_id, pattern, created FROM bans WHERE list_id = ? ORDER BY pattern`
	args := []any{listID}
	if listID == 0 {
		query, args = `SELECT id, list_id, pattern, created FROM bans WHERE list_id IS NULL ORDER BY pattern`, nil
	}
	return db.queryBans(ctx, fmt.Sprintf("bans of list %d", listID), query, args...)
}

func (db *DB) queryBans(ctx context.Context, op, query string, args ...any) ([]store.Ban, error) {
	rows, err := db.query(ctx, db.R, query, args...)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []store.Ban
	for rows.Next() {
		var b store.Ban
		var list sql.NullInt64
		if err := rows.Scan(&b.ID, &list, &b.Pattern, timeCol{&b.Created}); err != nil {
			return nil, db.wrap(op, err)
		}
		b.ListID = list.Int64
		out = append(out, b)
	}
	return out, db.wrap(op, rows.Err())
}

// IsBanned implements store.Bans: email (normalized) equals a ban's
// address or matches a ban's regexp (case-insensitively, as in Mailman),
// on the list or globally.
func (db *DB) IsBanned(ctx context.Context, listID int64, email string) (bool, error) {
	email = norm(email)
	if email == "" {
		return false, nil
	}
	return db.memoBanned(roleKey{listID, email}, func() (bool, error) {
		bans, err := db.queryBans(ctx, fmt.Sprintf("check ban of %s on list %d", email, listID),
			`SELECT id, list_id, pattern, created FROM bans WHERE list_id = ? OR list_id IS NULL ORDER BY id`, listID)
		if err != nil {
			return false, err
		}
		for _, b := range bans {
			if banMatches(b.Pattern, email) {
				return true, nil
			}
		}
		return false, nil
	})
}

// banMatches reports whether pattern bans the normalized email.
func banMatches(pattern, email string) bool {
	if !strings.HasPrefix(pattern, "^") {
		return pattern == email
	}
	v, ok := banRegexps.Load(pattern)
	if !ok {
		re, err := regexp.Compile("(?i)" + pattern)
		if err != nil {
			re = nil
		}
		v, _ = banRegexps.LoadOrStore(pattern, re)
	}
	re, _ := v.(*regexp.Regexp)
	return re != nil && re.MatchString(email)
}
