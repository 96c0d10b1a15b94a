package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// Group commit of small writes.
//
// Every post takes a write transaction (NumberPost), and on SQLite each
// commit is a sync of the WAL (synchronous=FULL): with the one write
// connection, posts are numbered no faster than the disk syncs. So
// concurrent callers of inGroupTx share one transaction: the first caller
// becomes the leader and runs every function waiting meanwhile, each
// inside its own savepoint (a function that fails is rolled back alone,
// and its caller gets its error), then commits once; callers that arrive
// while it works form the next group. The functions run one after the
// other, as separate transactions would, and every caller returns only
// once its writes are committed. A failed commit fails the whole group.
// NumberPost calls are not run one by one but merged, in a savepoint of
// their own (runMerged), falling back to one by one if that fails.
type groupCommit struct {
	mu      sync.Mutex
	waiting []*groupCall
	leading bool
}

// groupCall is one caller's function in a group.
type groupCall struct {
	ctx  context.Context
	op   string
	fn   func(ctx context.Context, tx *sql.Tx) error
	err  error
	done chan struct{}
	// post, for a NumberPost, lets the group number its posts in a few
	// merged statements (numberMerged) instead of fn for each.
	post *postCall
}

// inGroupTx runs fn in a transaction shared with concurrent callers (see
// groupCommit); it returns fn's error, or the commit's. fn gets ctx
// without its cancellation: on SQLite a statement interrupted inside a
// transaction rolls the whole transaction back, the other callers'
// writes with it; ctx done before fn starts skips it. Its writes do not
// end the read memo (memo.go): it is for per-post counters only, never
// for a list, a membership or a ban.
func (db *DB) inGroupTx(ctx context.Context, op string, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return db.joinGroup(&groupCall{ctx: ctx, op: op, fn: fn, done: make(chan struct{})})
}

// joinGroup runs call in the next group (see inGroupTx).
func (db *DB) joinGroup(call *groupCall) error {
	ctx := call.ctx
	g := &db.group
	g.mu.Lock()
	g.waiting = append(g.waiting, call)
	if g.leading {
		g.mu.Unlock()
		<-call.done
		return call.err
	}
	g.leading = true
	for {
		batch := g.waiting
		g.waiting = nil
		if len(batch) == 0 {
			g.leading = false
			g.mu.Unlock()
			break
		}
		g.mu.Unlock()
		db.runGroup(context.WithoutCancel(ctx), batch)
		g.mu.Lock()
	}
	<-call.done
	return call.err
}

// runGroup runs batch in one transaction and ends every call.
func (db *DB) runGroup(ctx context.Context, batch []*groupCall) {
	defer func() {
		for _, c := range batch {
			close(c.done)
		}
	}()
	if len(batch) == 1 {
		// Alone: a transaction of its own, no savepoint.
		c := batch[0]
		c.err = db.runTx(ctx, c.op, c.run) // counters: the read memo stays
		return
	}
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		for _, c := range batch {
			c.err = db.wrap(c.op, err)
		}
		return
	}
	for _, c := range db.runMerged(tx, batch) {
		if err := db.runSaved(tx, c); err != nil {
			// The transaction is unusable: fail the calls not yet ended.
			_ = tx.Rollback() // err is the one that matters
			for _, o := range batch {
				if o.err == nil {
					o.err = err
				}
			}
			return
		}
	}
	if err := tx.Commit(); err != nil {
		for _, c := range batch {
			if c.err == nil {
				c.err = db.wrap(c.op, err)
			}
		}
	}
}

// runSaved runs c's function inside a savepoint, rolled back if it
// fails (c.err). A non-nil result means the savepoint itself failed and
// the transaction cannot go on.
func (db *DB) runSaved(tx *sql.Tx, c *groupCall) error {
	ctx := context.WithoutCancel(c.ctx)
	if _, err := tx.ExecContext(ctx, "SAVEPOINT grouped"); err != nil {
		return db.wrap(c.op, err)
	}
	if c.err = c.run(tx); c.err != nil {
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT grouped"); err != nil {
			return db.wrap(c.op, errors.Join(c.err, err))
		}
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT grouped"); err != nil {
		return db.wrap(c.op, err)
	}
	return nil
}

// runMerged numbers the batch's posts together inside a savepoint and
// returns the calls still to run one by one: the others, or, if the
// merged statements failed, the posts too (each then fails or succeeds
// alone, as it would in a transaction of its own).
func (db *DB) runMerged(tx *sql.Tx, batch []*groupCall) []*groupCall {
	var posts, rest []*groupCall
	for _, c := range batch {
		switch {
		case c.post == nil:
			rest = append(rest, c)
		case c.ctx.Err() != nil:
			c.err = c.ctx.Err()
		default:
			posts = append(posts, c)
		}
	}
	if len(posts) < 2 {
		return append(rest, posts...)
	}
	ctx := context.WithoutCancel(posts[0].ctx)
	if _, err := tx.ExecContext(ctx, "SAVEPOINT merged"); err != nil {
		return append(rest, posts...)
	}
	if err := db.numberMerged(ctx, tx, posts); err != nil {
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT merged"); err != nil {
			return append(rest, posts...) // the transaction fails them all
		}
		rest = append(rest, posts...)
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT merged"); err != nil {
		for _, c := range posts {
			c.err = db.wrap(c.op, err)
		}
	}
	return rest
}

// run calls c's function, unless its caller gave up already.
func (c *groupCall) run(tx *sql.Tx) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	return c.fn(context.WithoutCancel(c.ctx), tx)
}
