package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"herald/internal/runner"
	"herald/internal/spool"

	"github.com/emersion/go-smtp"
)

// Options configure delivery.
type Options struct {
	// Addr of the MTA, host:port.
	Addr string
	// Helo name. Default "localhost".
	Helo string
	// Connections kept open to the MTA. Default 4.
	Connections int
	// MaxRecipients per transaction. Default 500.
	MaxRecipients int
	// RetryPeriod after which temporary failures become permanent. Default 5 days.
	RetryPeriod time.Duration
	// RetryMin is the first retry delay (doubling up to RetryMax). Default 1 minute.
	RetryMin time.Duration
	// RetryMax caps the retry delay. Default 1 hour.
	RetryMax time.Duration
	// Timeout for SMTP commands. Default 2 minutes.
	Timeout time.Duration
	// Failures receives permanent failures (bounce processing); may be nil.
	Failures FailureSink
	Logger   *slog.Logger
	Now      func() time.Time
}

// Failure is a recipient that could not be delivered.
type Failure struct {
	List, Domain string
	Recipient    string
	Reply        string // the SMTP reply or the reason
	At           time.Time
}

// FailureSink records permanent failures.
type FailureSink interface {
	RecordFailure(ctx context.Context, f Failure) error
}

// Stats are delivery counters.
type Stats struct {
	Transactions, Delivered, Deferred, Failed, ConnErrors atomic.Int64
}

// Deliverer is the out and retry runners' processor.
type Deliverer struct {
	opts Options
	pool *pool
	log  *slog.Logger
	// Stats counts outcomes.
	Stats Stats
}

var _ runner.Processor = (*Deliverer)(nil)

// New returns a Deliverer.
func New(opts Options) *Deliverer {
	if opts.Helo == "" {
		opts.Helo = "localhost"
	}
	if opts.Connections <= 0 {
		opts.Connections = 4
	}
	if opts.MaxRecipients <= 0 {
		opts.MaxRecipients = 500
	}
	if opts.RetryPeriod <= 0 {
		opts.RetryPeriod = 5 * 24 * time.Hour
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = time.Minute
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = time.Hour
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Deliverer{opts: opts, pool: newPool(opts.Addr, opts.Helo, opts.Connections, opts.Timeout),
		log: opts.Logger.With("runner", "out")}
}

// Close closes idle connections.
func (d *Deliverer) Close() { d.pool.close() }

// result of one recipient.
type result struct {
	rcpt string
	err  error // nil: accepted
	temp bool
}

// Process delivers one out (or due retry) entry.
func (d *Deliverer) Process(ctx context.Context, c *spool.Claim) error {
	env := c.Envelope
	log := d.log.With("id", c.ID, "list", env.List, "domain", env.Domain)
	var temp, perm []result
	for _, batch := range batches(env.Recipients, d.opts.MaxRecipients) {
		for _, r := range d.send(ctx, env.Sender, batch, c.Message, log) {
			switch {
			case r.err == nil:
				d.Stats.Delivered.Add(1)
			case r.temp:
				temp = append(temp, r)
			default:
				perm = append(perm, r)
			}
		}
	}
	now := d.opts.Now()
	if len(temp) > 0 && now.Sub(env.Arrived) > d.opts.RetryPeriod {
		for _, r := range temp {
			perm = append(perm, result{rcpt: r.rcpt, err: fmt.Errorf("retry period %s expired: %w", d.opts.RetryPeriod, r.err)})
		}
		temp = nil
	}
	for _, r := range perm {
		d.Stats.Failed.Add(1)
		log.Warn("delivery failed permanently", "rcpt", r.rcpt, "err", r.err)
		if d.opts.Failures != nil {
			f := Failure{List: env.List, Domain: env.Domain, Recipient: r.rcpt, Reply: r.err.Error(), At: now}
			if err := d.opts.Failures.RecordFailure(ctx, f); err != nil {
				return fmt.Errorf("record failure of %s: %w", r.rcpt, err)
			}
		}
	}
	if len(temp) == 0 {
		return c.Done(ctx)
	}
	d.Stats.Deferred.Add(int64(len(temp)))
	retry := env
	retry.Recipients = make([]string, len(temp))
	for i, r := range temp {
		retry.Recipients[i] = r.rcpt
	}
	retry.Attempts++
	retry.Origin = spool.Out
	retry.LastError = temp[0].err.Error()
	retry.NotBefore = now.Add(d.backoff(env.Attempts))
	log.Info("deferred", "recipients", len(temp), "attempts", retry.Attempts, "next", retry.NotBefore, "err", retry.LastError)
	_, err := c.Forward(ctx, spool.Item{Queue: spool.Retry, Envelope: retry, Message: c.Message})
	return err
}

func (d *Deliverer) backoff(attempts int) time.Duration {
	b := d.opts.RetryMin << min(attempts, 20)
	if b <= 0 || b > d.opts.RetryMax {
		b = d.opts.RetryMax
	}
	// ±10% jitter so a crowd of deferred entries does not come back at once.
	return b + time.Duration(rand.Int64N(int64(b)/5+1)) - b/10
}

// send runs one transaction and classifies each recipient.
func (d *Deliverer) send(ctx context.Context, from string, rcpts []string, msg []byte, log *slog.Logger) []result {
	out := make([]result, 0, len(rcpts))
	failAll := func(err error, temp bool) []result {
		out = out[:0]
		for _, r := range rcpts {
			out = append(out, result{rcpt: r, err: err, temp: temp})
		}
		return out
	}
	c, err := d.pool.get(ctx)
	if err != nil {
		d.Stats.ConnErrors.Add(1)
		log.Warn("no connection to MTA", "err", err)
		return failAll(err, true)
	}
	d.Stats.Transactions.Add(1)
	broken := func(err error) []result {
		d.pool.discard(c)
		d.Stats.ConnErrors.Add(1)
		return failAll(err, true)
	}
	if err := c.Mail(from, nil); err != nil {
		if se, ok := asSMTP(err); ok {
			_ = c.Reset() // the transaction never started; a failed RSET shows on the next use
			d.pool.put(c)
			return failAll(err, se.Code/100 == 4)
		}
		return broken(err)
	}
	var accepted []string
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			se, ok := asSMTP(err)
			if !ok {
				return broken(err)
			}
			// RFC 5321 §4.5.3.1.10: 552 on RCPT means "too many
			// recipients"; treat it as temporary.
			out = append(out, result{rcpt: r, err: err, temp: se.Code/100 == 4 || se.Code == 552})
			continue
		}
		accepted = append(accepted, r)
	}
	if len(accepted) == 0 {
		_ = c.Reset() // see above
		d.pool.put(c)
		return out
	}
	if err := d.data(c, msg); err != nil {
		if se, ok := asSMTP(err); ok {
			d.pool.put(c)
			for _, r := range accepted {
				out = append(out, result{rcpt: r, err: err, temp: se.Code/100 == 4 || se.Code == 552})
			}
			return out
		}
		// The connection broke during DATA: nobody in this transaction
		// is known to have it, so all are retried (a duplicate is better
		// than a loss).
		d.pool.discard(c)
		d.Stats.ConnErrors.Add(1)
		for _, r := range accepted {
			out = append(out, result{rcpt: r, err: err, temp: true})
		}
		return out
	}
	d.pool.put(c)
	for _, r := range accepted {
		out = append(out, result{rcpt: r})
	}
	log.Debug("transaction done", "recipients", len(accepted))
	return out
}

func (d *Deliverer) data(c *smtp.Client, msg []byte) error {
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		_ = w.Close() // the write error is the one to report
		return err
	}
	if !bytes.HasSuffix(msg, []byte("\n")) {
		if _, err := w.Write([]byte("\r\n")); err != nil {
			_ = w.Close() // as above
			return err
		}
	}
	return w.Close()
}

func asSMTP(err error) (*smtp.SMTPError, bool) {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se, true
	}
	return nil, false
}

// batches groups recipients by domain and cuts groups at max.
func batches(rcpts []string, max int) [][]string {
	sorted := append([]string(nil), rcpts...)
	domain := func(a string) string { return a[strings.LastIndexByte(a, '@')+1:] }
	sort.SliceStable(sorted, func(i, j int) bool { return domain(sorted[i]) < domain(sorted[j]) })
	var out [][]string
	var cur []string
	for i, r := range sorted {
		if len(cur) == max || len(cur) > 0 && domain(r) != domain(sorted[i-1]) {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, r)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
