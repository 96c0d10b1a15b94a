package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"herald/internal/store"
)

const memberCols = `m.id, m.list_id, a.email, m.display_name, m.role, m.moderation_action,
	m.delivery_status, m.delivery_mode, m.receive_own_postings, m.receive_list_copy,
	m.acknowledge_posts, m.hide_address, m.language, m.token, m.created`

const memberFrom = ` FROM members m JOIN addresses a ON a.id = m.address_id `

func scanMember(r rowScanner) (*store.Member, error) {
	var m store.Member
	var role string
	err := r.Scan(&m.ID, &m.ListID, &m.Email, &m.DisplayName, &role, &m.ModerationAction,
		&m.DeliveryStatus, &m.DeliveryMode, &m.ReceiveOwnPostings, &m.ReceiveListCopy,
		&m.AcknowledgePosts, &m.HideAddress, &m.Language, &m.Token, timeCol{&m.Created})
	if err != nil {
		return nil, err
	}
	m.Role = store.Role(role)
	return &m, nil
}

func memberOp(verb string, listID int64, email string, role store.Role) string {
	return fmt.Sprintf("%s %s %s of list %d", verb, role, email, listID)
}

// AddMember implements store.Members. Empty DeliveryStatus, DeliveryMode
// and Language get store.DefaultMember's values; an empty Token gets 128
// random bits in hex. The address is created (with m.DisplayName) if new.
func (db *DB) AddMember(ctx context.Context, m *store.Member) error {
	m.Email = norm(m.Email)
	op := memberOp("add", m.ListID, m.Email, m.Role)
	if err := prepareMember(m); err != nil {
		return db.wrap(op, err)
	}
	token := m.Token
	if token == "" {
		token = newToken()
	}
	created := now()
	err := db.inTx(ctx, op, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM lists WHERE id = ?`), m.ListID).Scan(&n); err != nil {
			return db.wrap(op, err)
		}
		if n == 0 {
			return db.notFound(op + ": list")
		}
		addrID, err := db.ensureAddress(ctx, tx, m.Email, m.DisplayName, created)
		if err != nil {
			return db.wrap(op, err)
		}
		err = tx.QueryRowContext(ctx, db.q(`INSERT INTO members (list_id, address_id, role, display_name,
			moderation_action, delivery_status, delivery_mode, receive_own_postings, receive_list_copy,
			acknowledge_posts, hide_address, language, token, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			m.ListID, addrID, string(m.Role), m.DisplayName, m.ModerationAction, m.DeliveryStatus,
			m.DeliveryMode, m.ReceiveOwnPostings, m.ReceiveListCopy, m.AcknowledgePosts, m.HideAddress,
			m.Language, token, timeArg(created)).Scan(&m.ID)
		return db.wrapParent(op, "list", err)
	})
	if err != nil {
		return err
	}
	m.Token, m.Created = token, created
	return nil
}

// ensureAddress returns the id of email's address row, creating it.
func (db *DB) ensureAddress(ctx context.Context, tx *sql.Tx, email, name string, created time.Time) (int64, error) {
	_, err := tx.ExecContext(ctx, db.q(`INSERT INTO addresses (email, display_name, created)
		VALUES (?, ?, ?) ON CONFLICT (email) DO NOTHING`), email, name, timeArg(created))
	if err != nil {
		return 0, err
	}
	var id int64
	err = tx.QueryRowContext(ctx, db.q(`SELECT id FROM addresses WHERE email = ?`), email).Scan(&id)
	return id, err
}

// GetMember implements store.Members.
func (db *DB) GetMember(ctx context.Context, listID int64, email string, role store.Role) (*store.Member, error) {
	email = norm(email)
	m, err := scanMember(db.R.QueryRowContext(ctx, db.q(`SELECT `+memberCols+memberFrom+
		`WHERE m.list_id = ? AND a.email = ? AND m.role = ?`), listID, email, string(role)))
	if err != nil {
		return nil, db.wrap(memberOp("get", listID, email, role), err)
	}
	return m, nil
}

// MemberRoles implements store.Members, sorted by role.
func (db *DB) MemberRoles(ctx context.Context, listID int64, email string) ([]store.Member, error) {
	email = norm(email)
	return db.memoRoles(roleKey{listID, email}, func() ([]store.Member, error) {
		return db.memberRoles(ctx, listID, email)
	})
}

// memberRoles is MemberRoles' query; email is normalized.
func (db *DB) memberRoles(ctx context.Context, listID int64, email string) ([]store.Member, error) {
	op := fmt.Sprintf("get roles of %s on list %d", email, listID)
	rows, err := db.query(ctx, db.R, `SELECT `+memberCols+memberFrom+
		`WHERE m.list_id = ? AND a.email = ? ORDER BY m.role`, listID, email)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []store.Member
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, db.wrap(op, err)
		}
		out = append(out, *m)
	}
	return out, db.wrap(op, rows.Err())
}

// UpdateMember implements store.Members. It finds the row by m.ID, or by
// (list, email, role) when m.ID is 0; ErrNotFound if there is none.
func (db *DB) UpdateMember(ctx context.Context, m *store.Member) error {
	m.Email = norm(m.Email)
	op := memberOp("update", m.ListID, m.Email, m.Role)
	set := `UPDATE members SET display_name = ?, moderation_action = ?, delivery_status = ?,
		delivery_mode = ?, receive_own_postings = ?, receive_list_copy = ?, acknowledge_posts = ?,
		hide_address = ?, language = ? `
	args := []any{m.DisplayName, m.ModerationAction, m.DeliveryStatus, m.DeliveryMode,
		m.ReceiveOwnPostings, m.ReceiveListCopy, m.AcknowledgePosts, m.HideAddress, m.Language}
	if m.ID != 0 {
		set += `WHERE id = ?`
		args = append(args, m.ID)
	} else {
		set += `WHERE list_id = ? AND role = ? AND address_id = (SELECT id FROM addresses WHERE email = ?)`
		args = append(args, m.ListID, string(m.Role), m.Email)
	}
	res, err := db.W.ExecContext(ctx, db.q(set), args...)
	db.wrote()
	return db.affected(op, res, err)
}

// RemoveMember implements store.Members. The address row stays.
func (db *DB) RemoveMember(ctx context.Context, listID int64, email string, role store.Role) error {
	email = norm(email)
	res, err := db.W.ExecContext(ctx, db.q(`DELETE FROM members WHERE list_id = ? AND role = ?
		AND address_id = (SELECT id FROM addresses WHERE email = ?)`), listID, string(role), email)
	db.wrote()
	return db.affected(memberOp("remove", listID, email, role), res, err)
}

// EachMember implements store.Members. Rows are read one at a time from
// an open cursor on the read pool, so fn may call the store, writes
// included; the walk sees the list as it was when it started (SQLite WAL
// snapshot) or as it is row by row (PostgreSQL cursor semantics).
func (db *DB) EachMember(ctx context.Context, listID int64, role store.Role, fn func(*store.Member) error) error {
	op := fmt.Sprintf("walk members of list %d", listID)
	query, args := `SELECT `+memberCols+memberFrom+`WHERE m.list_id = ? ORDER BY a.email, m.role`, []any{listID}
	if role != "" {
		op = fmt.Sprintf("walk %ss of list %d", role, listID)
		query = `SELECT ` + memberCols + memberFrom + `WHERE m.list_id = ? AND m.role = ? ORDER BY a.email`
		args = append(args, string(role))
	}
	rows, err := db.R.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return db.wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return db.wrap(op, err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return db.wrap(op, rows.Err())
}

// CountMembers implements store.Members.
func (db *DB) CountMembers(ctx context.Context, listID int64, role store.Role) (int, error) {
	query, args := `SELECT COUNT(*) FROM members WHERE list_id = ?`, []any{listID}
	if role != "" {
		query += ` AND role = ?`
		args = append(args, string(role))
	}
	var n int
	if err := db.R.QueryRowContext(ctx, db.q(query), args...).Scan(&n); err != nil {
		return 0, db.wrap(fmt.Sprintf("count members of list %d", listID), err)
	}
	return n, nil
}

// GetAddress implements store.Members.
func (db *DB) GetAddress(ctx context.Context, email string) (*store.Address, error) {
	email = norm(email)
	var a store.Address
	err := db.R.QueryRowContext(ctx, db.q(`SELECT id, email, display_name, verified, created
		FROM addresses WHERE email = ?`), email).
		Scan(&a.ID, &a.Email, &a.DisplayName, timeCol{&a.Verified}, timeCol{&a.Created})
	if err != nil {
		return nil, db.wrap("get address "+email, err)
	}
	return &a, nil
}
