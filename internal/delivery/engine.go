package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"herald/internal/address"
	"herald/internal/delivery/smtpclient"
)

// idleClose is how long a connection may sit idle before it is closed.
const idleClose = 30 * time.Second

// errMTADown fails transactions fast while the MTA cannot be reached.
var errMTADown = errors.New("MTA unreachable")

// engine runs Options.Connections workers, each owning at most one
// connection to the MTA, taking transactions from the scheduler. While the
// MTA cannot be reached, dial attempts back off (1 s doubling to a minute)
// and transactions fail at once as temporary, so their recipients go to
// the retry queue instead of piling up or looping; entries not yet started
// wait in awaitMTA instead of being expanded only to fail.
type engine struct {
	opts  *Options
	sched *sched
	jrn   *journal
	stats *Stats
	log   *slog.Logger
	stop  chan struct{}
	wg    sync.WaitGroup

	probe     sync.Mutex // one awaitMTA probes at a time
	mu        sync.Mutex
	downUntil time.Time
	downErr   error
	fails     int
	ext       map[string]string // the MTA's EHLO keywords, from the last dial
}

func newEngine(opts *Options, s *sched, j *journal, stats *Stats, log *slog.Logger) *engine {
	e := &engine{opts: opts, sched: s, jrn: j, stats: stats, log: log, stop: make(chan struct{})}
	for i := range opts.Connections {
		e.wg.Add(1)
		go e.worker(i)
	}
	return e
}

// close stops the workers; their connections say QUIT.
func (e *engine) close() {
	close(e.stop)
	e.sched.close()
	e.wg.Wait()
}

// worker is one connection's loop.
type worker struct {
	e    *engine
	conn *smtpclient.Conn
	// jerr is set when a finished transaction's journal record could not
	// be written: no further body may go out on this connection (see
	// send), so a crash resends at most that one transaction.
	jerr error
}

func (e *engine) worker(int) {
	defer e.wg.Done()
	w := &worker{e: e}
	defer w.hangUp()
	for {
		t := e.sched.tryNext()
		if t == nil && w.conn != nil && w.conn.Pending() {
			if err := w.conn.Flush(); err != nil {
				w.drop(err)
			}
			continue
		}
		if t == nil {
			t = e.sched.next(e.stop, idleClose)
		}
		if t == nil {
			select {
			case <-e.stop:
				return
			default:
				w.hangUp() // idle
				continue
			}
		}
		w.send(t)
	}
}

func (w *worker) hangUp() {
	if w.conn != nil {
		if err := w.conn.Quit(); err != nil {
			w.e.log.Debug("quit MTA connection", "err", err)
		}
		w.conn = nil
	}
}

func (w *worker) drop(err error) {
	w.e.stats.ConnErrors.Add(1)
	w.e.log.Warn("MTA connection failed", "addr", w.e.opts.Addr, "err", err)
	if w.conn != nil {
		_ = w.conn.Close() // already broken; err says why
		w.conn = nil
	}
}

// send runs one transaction, connecting first if needed.
func (w *worker) send(t *txn) {
	e := w.e
	if w.conn == nil {
		c, err := e.dial()
		if err != nil {
			e.finishFailed(t, err)
			return
		}
		w.conn, w.jerr = c, nil
	}
	tx, err := t.job.build(t, w.conn)
	if err != nil {
		e.log.Error("build transaction", "id", t.job.id, "list", t.job.env.List, "err", err)
		e.finishFailed(t, err)
		return
	}
	// Done runs when the final reply is read, which smtpclient does before
	// it writes the next body on this connection: the record is written
	// (not yet synced) before any later transaction can be delivered.
	tx.Done = func(tx *smtpclient.Tx) {
		if err := e.finished(t, tx); err != nil {
			w.jerr = err
		}
	}
	tx.BeforeBody = func() error { return w.jerr }
	e.stats.Transactions.Add(1)
	if err := w.conn.Send(tx); err != nil {
		w.drop(err)
	}
}

// dial connects to the MTA unless it is known to be down.
func (e *engine) dial() (*smtpclient.Conn, error) {
	e.mu.Lock()
	if time.Now().Before(e.downUntil) {
		err := fmt.Errorf("%w (%v); next attempt at %s", errMTADown, e.downErr, e.downUntil.Format(time.TimeOnly))
		e.mu.Unlock()
		return nil, err
	}
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), e.opts.Timeout)
	defer cancel()
	e.stats.Dials.Add(1)
	c, err := smtpclient.Dial(ctx, "tcp", e.opts.Addr, smtpclient.Options{Helo: e.opts.Helo,
		Timeout: e.opts.Timeout, NoPipelining: e.opts.NoPipelining})
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.fails++
		wait := min(time.Second<<min(e.fails-1, 6), time.Minute)
		e.downUntil, e.downErr = time.Now().Add(wait), err
		e.stats.ConnErrors.Add(1)
		e.log.Warn("cannot reach MTA", "addr", e.opts.Addr, "err", err, "retry_in", wait)
		return nil, err
	}
	e.fails, e.downUntil, e.downErr = 0, time.Time{}, nil
	e.ext = map[string]string{}
	for _, k := range []string{"PIPELINING", "XVERP", "8BITMIME", "SMTPUTF8", "SIZE"} {
		if v, ok := c.Ext(k); ok {
			e.ext[k] = v
		}
	}
	return c, nil
}

// awaitMTA returns at once while the MTA is reachable (its last dial
// worked). After a failed dial it waits out the backoff, then one caller
// at a time probes with a new connection, until a probe gets through; it
// returns false if stop closes first. An outage thus costs one probe per
// backoff step, not a trip through the retry queue for every entry, and
// a post to a big list is not expanded only to be deferred. It also
// returns false when ctx ends (the entry's processing time is up).
func (e *engine) awaitMTA(ctx context.Context, stop <-chan struct{}) bool {
	for {
		e.mu.Lock()
		down, until := e.fails > 0, e.downUntil
		e.mu.Unlock()
		if !down {
			return true
		}
		if wait := time.Until(until); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-stop:
				t.Stop()
				return false
			case <-ctx.Done():
				t.Stop()
				return false
			}
			continue
		}
		e.probeOnce()
	}
}

// probeOnce dials the MTA unless another caller's probe or a worker's
// dial settled the question while this one waited for the probe lock.
func (e *engine) probeOnce() {
	e.probe.Lock()
	defer e.probe.Unlock()
	e.mu.Lock()
	due := e.fails > 0 && !time.Now().Before(e.downUntil)
	e.mu.Unlock()
	if !due {
		return
	}
	c, err := e.dial() // on failure dial has set the next backoff
	if err != nil {
		return
	}
	if err := c.Quit(); err != nil {
		e.log.Debug("quit probe connection", "err", err)
	}
}

// hasExt reports whether the MTA offered ext, dialling once to learn it
// if no connection was made yet.
func (e *engine) hasExt(ext string) (bool, error) {
	e.mu.Lock()
	known := e.ext
	e.mu.Unlock()
	if known == nil {
		c, err := e.dial()
		if err != nil {
			return false, err
		}
		if err := c.Quit(); err != nil {
			e.log.Debug("quit probe connection", "err", err)
		}
		e.mu.Lock()
		known = e.ext
		e.mu.Unlock()
	}
	_, ok := known[ext]
	return ok, nil
}

// finishFailed ends a transaction that did not reach the MTA.
func (e *engine) finishFailed(t *txn, err error) {
	t.job.fail(t.rcpts, err)
	e.stats.Deferred.Add(int64(len(t.rcpts)))
	e.sched.release(t)
}

// finished files a transaction's results, journals the accepted
// recipients and logs the transaction (at debug level; at warn when
// recipients were refused). It returns the journal's write error.
func (e *engine) finished(t *txn, tx *smtpclient.Tx) error {
	j := t.job
	ok := j.record(t.rcpts, tx)
	err := j.prog.add(ok)
	if err != nil {
		e.log.Error("journal delivery progress", "id", j.id, "list", j.env.List, "err", err)
	}
	e.stats.Delivered.Add(int64(len(ok)))
	j.ended()
	lvl := slog.LevelDebug
	if len(ok) < len(t.rcpts) {
		lvl = slog.LevelWarn
	}
	if e.log.Enabled(context.Background(), lvl) {
		reply := tx.Final.String()
		switch {
		case tx.Err != nil:
			reply = tx.Err.Error()
		case tx.Data.Code != 354:
			reply = tx.Data.String()
		}
		e.log.Log(context.Background(), lvl, "transaction", "id", j.id, "list", j.env.List+"@"+j.env.Domain,
			"to_domain", t.domainName(), "mode", j.mode.String(), "recipients", len(t.rcpts), "accepted", len(ok), "reply", reply)
	}
	e.sched.release(t)
	return err
}

// build shapes the transaction for t on connection c.
func (j *job) build(t *txn, c *smtpclient.Conn) (*smtpclient.Tx, error) {
	tx := &smtpclient.Tx{From: j.sender, Rcpts: make([]string, len(t.rcpts)), Body: j.wire}
	for i, r := range t.rcpts {
		tx.Rcpts[i] = r.addr
	}
	var params []string
	switch j.mode {
	case modeVERP:
		tx.From = verpSender(j, t.rcpts[0].addr)
	case modeXVERP:
		params = append(params, "XVERP=+=")
	case modePersonal:
		if j.verp {
			tx.From = verpSender(j, t.rcpts[0].addr)
		}
		b, err := j.render(t.rcpts[0])
		if err != nil {
			return nil, fmt.Errorf("personalize for %s: %w", t.rcpts[0].addr, err)
		}
		tx.Body = b
	}
	if _, ok := c.Ext("8BITMIME"); ok && j.eight {
		params = append(params, "BODY=8BITMIME")
	}
	if _, ok := c.Ext("SMTPUTF8"); ok && needsUTF8(tx) {
		params = append(params, "SMTPUTF8")
	}
	tx.Params = strings.Join(params, " ")
	return tx, nil
}

func verpSender(j *job, rcpt string) string {
	if j.env.List == "" {
		return j.sender
	}
	return address.VERPEncode(j.env.List, j.env.Domain, rcpt)
}

func needsUTF8(tx *smtpclient.Tx) bool {
	if smtpclient.Has8Bit([]byte(tx.From)) {
		return true
	}
	for _, r := range tx.Rcpts {
		if smtpclient.Has8Bit([]byte(r)) {
			return true
		}
	}
	return false
}
