package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"herald/internal/store"
)

// AddMembers implements store.MemberBatches with three prepared
// statements per transaction; a conflicting member is skipped by ON
// CONFLICT DO NOTHING (no row returned), so the transaction goes on.
func (db *DB) AddMembers(ctx context.Context, ms []*store.Member) ([]bool, error) {
	op := fmt.Sprintf("add %d members", len(ms))
	for _, m := range ms {
		if err := prepareMember(m); err != nil {
			return nil, db.wrap(op, fmt.Errorf("%s: %w", m.Email, err))
		}
	}
	added := make([]bool, len(ms))
	tokens := make([]string, len(ms))
	created := now()
	err := db.inTx(ctx, op, func(tx *sql.Tx) error {
		b, err := db.prepareBatch(ctx, tx)
		if err != nil {
			return db.wrap(op, err)
		}
		defer b.close()
		lists := map[int64]bool{}
		for i, m := range ms {
			if err := b.checkList(ctx, lists, m.ListID); err != nil {
				return db.wrap(op, err)
			}
			tokens[i] = m.Token
			if tokens[i] == "" {
				tokens[i] = newToken()
			}
			if added[i], err = b.add(ctx, m, tokens[i], created); err != nil {
				return db.wrap(memberOp("add", m.ListID, m.Email, m.Role), err)
			}
		}
		return nil
	})
	if err != nil {
		for i, m := range ms {
			if added[i] {
				m.ID = 0 // rolled back
			}
		}
		return nil, err
	}
	for i, m := range ms {
		if added[i] {
			m.Token, m.Created = tokens[i], created
		}
	}
	return added, nil
}

// prepareMember normalizes m and fills AddMember's defaults.
func prepareMember(m *store.Member) error {
	m.Email = norm(m.Email)
	if m.Email == "" {
		return errEmpty("email")
	}
	if !store.ValidRole(m.Role) {
		return fmt.Errorf("invalid role %q", m.Role)
	}
	def := store.DefaultMember(m.ListID, m.Email, m.Role)
	if m.DeliveryStatus == "" {
		m.DeliveryStatus = def.DeliveryStatus
	}
	if m.DeliveryMode == "" {
		m.DeliveryMode = def.DeliveryMode
	}
	if m.Language == "" {
		m.Language = def.Language
	}
	return nil
}

// memberBatch holds one transaction's prepared statements.
type memberBatch struct {
	list, addr, addrID, member *sql.Stmt
}

func (db *DB) prepareBatch(ctx context.Context, tx *sql.Tx) (*memberBatch, error) {
	var b memberBatch
	queries := []struct {
		st **sql.Stmt
		q  string
	}{
		{&b.list, `SELECT COUNT(*) FROM lists WHERE id = ?`},
		{&b.addr, `INSERT INTO addresses (email, display_name, created) VALUES (?, ?, ?) ON CONFLICT (email) DO NOTHING`},
		{&b.addrID, `SELECT id FROM addresses WHERE email = ?`},
		{&b.member, `INSERT INTO members (list_id, address_id, role, display_name,
			moderation_action, delivery_status, delivery_mode, receive_own_postings, receive_list_copy,
			acknowledge_posts, hide_address, language, token, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (list_id, address_id, role) DO NOTHING RETURNING id`},
	}
	for _, q := range queries {
		st, err := tx.PrepareContext(ctx, db.q(q.q))
		if err != nil {
			b.close()
			return nil, err
		}
		*q.st = st
	}
	return &b, nil
}

func (b *memberBatch) close() {
	for _, st := range []*sql.Stmt{b.list, b.addr, b.addrID, b.member} {
		if st != nil {
			_ = st.Close() // closing with the transaction; nothing to report
		}
	}
}

// checkList fails with ErrNotFound for a list that does not exist.
func (b *memberBatch) checkList(ctx context.Context, seen map[int64]bool, id int64) error {
	if seen[id] {
		return nil
	}
	var n int
	if err := b.list.QueryRowContext(ctx, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("list %d: %w", id, store.ErrNotFound)
	}
	seen[id] = true
	return nil
}

// add inserts one member; false when it exists already.
func (b *memberBatch) add(ctx context.Context, m *store.Member, token string, created time.Time) (bool, error) {
	if _, err := b.addr.ExecContext(ctx, m.Email, m.DisplayName, timeArg(created)); err != nil {
		return false, err
	}
	var addrID int64
	if err := b.addrID.QueryRowContext(ctx, m.Email).Scan(&addrID); err != nil {
		return false, err
	}
	err := b.member.QueryRowContext(ctx, m.ListID, addrID, string(m.Role), m.DisplayName, m.ModerationAction,
		m.DeliveryStatus, m.DeliveryMode, m.ReceiveOwnPostings, m.ReceiveListCopy, m.AcknowledgePosts,
		m.HideAddress, m.Language, token, timeArg(created)).Scan(&m.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
