package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"herald/internal/store"
)

// HoldMessage implements store.HeldMessages; a zero h.Received becomes
// now and an empty h.Token 128 random bits in hex. ErrNotFound for an
// unknown list; ErrConflict when h.Token is already taken.
func (db *DB) HoldMessage(ctx context.Context, h *store.Held) error {
	op := fmt.Sprintf("hold message %q from %s on list %d", h.MessageID, h.Sender, h.ListID)
	reasons := h.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	rj, err := json.Marshal(reasons)
	if err != nil {
		return db.wrap(op, err)
	}
	if h.Received.IsZero() {
		h.Received = now()
	}
	h.Received = h.Received.UTC().Truncate(time.Microsecond)
	msg := h.Message
	if msg == nil {
		msg = []byte{}
	}
	if h.Token == "" {
		h.Token = newToken()
	}
	return db.inTx(ctx, op, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM lists WHERE id = ?`), h.ListID).Scan(&n); err != nil {
			return db.wrap(op, err)
		}
		if n == 0 {
			return db.notFound(op + ": list")
		}
		err := tx.QueryRowContext(ctx, db.q(`INSERT INTO held (list_id, sender, env_sender, subject,
			message_id, reasons, received, message, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			h.ListID, h.Sender, h.EnvSender, h.Subject, h.MessageID, string(rj), timeArg(h.Received), msg, h.Token).Scan(&h.ID)
		return db.wrapParent(op, "list", err)
	})
}

const heldCols = `id, list_id, sender, env_sender, subject, message_id, reasons, received, token`

func scanHeld(r rowScanner, extra ...any) (*store.Held, error) {
	var h store.Held
	var reasons []byte
	dest := append([]any{&h.ID, &h.ListID, &h.Sender, &h.EnvSender, &h.Subject, &h.MessageID,
		&reasons, timeCol{&h.Received}, &h.Token}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(reasons, &h.Reasons); err != nil {
		return nil, fmt.Errorf("held %d: reasons: %w", h.ID, err)
	}
	return &h, nil
}

// GetHeld implements store.HeldMessages.
func (db *DB) GetHeld(ctx context.Context, listID, id int64) (*store.Held, error) {
	var msg []byte
	h, err := scanHeld(db.R.QueryRowContext(ctx, db.q(`SELECT `+heldCols+`, message FROM held
		WHERE list_id = ? AND id = ?`), listID, id), &msg)
	if err != nil {
		return nil, db.wrap(fmt.Sprintf("get held message %d of list %d", id, listID), err)
	}
	h.Message = msg
	return h, nil
}

// ListHeld implements store.HeldMessages.
func (db *DB) ListHeld(ctx context.Context, listID int64) ([]store.Held, error) {
	op := fmt.Sprintf("list held messages of list %d", listID)
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT `+heldCols+` FROM held WHERE list_id = ?
		ORDER BY received, id`), listID)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []store.Held
	for rows.Next() {
		h, err := scanHeld(rows)
		if err != nil {
			return nil, db.wrap(op, err)
		}
		out = append(out, *h)
	}
	return out, db.wrap(op, rows.Err())
}

// DeleteHeld implements store.HeldMessages.
func (db *DB) DeleteHeld(ctx context.Context, listID, id int64) error {
	res, err := db.W.ExecContext(ctx, db.q(`DELETE FROM held WHERE list_id = ? AND id = ?`), listID, id)
	return db.affected(fmt.Sprintf("delete held message %d of list %d", id, listID), res, err)
}
