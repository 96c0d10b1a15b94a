package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"herald/internal/runner"
	"herald/internal/spool"
	"herald/internal/status"
	"herald/internal/store"
)

// Options configure delivery.
type Options struct {
	// Addr of the MTA, host:port.
	Addr string
	// Helo name. Default "localhost".
	Helo string
	// Connections kept open to the MTA. Default 8.
	Connections int
	// MaxRecipients per bulk transaction. Default 500.
	MaxRecipients int
	// RetryPeriod after which temporary failures become permanent. Default 5 days.
	RetryPeriod time.Duration
	// RetryMin is the first retry delay (doubling up to RetryMax). Default 1 minute.
	RetryMin time.Duration
	// RetryMax caps the retry delay. Default 1 hour.
	RetryMax time.Duration
	// Timeout for SMTP reads and writes. Default 2 minutes.
	Timeout time.Duration
	// Store gives lists, members and DKIM keys; nil delivers every entry
	// in bulk to its envelope recipients, unsigned.
	Store Store
	// Failures receives permanent failures (bounce processing); may be nil.
	Failures FailureSink
	// ProgressDir holds the progress journal (shared logs, kept entries' files); "" disables
	// it (a crash then resends the entries in progress in full).
	ProgressDir string
	// ProgressSync is how often the journals are fsynced while entries
	// are delivered; records are written at once, so this bounds only
	// what a power loss can undo (see the package doc). Default 50 ms.
	ProgressSync time.Duration
	// XVERP sends VERP posts as one transaction with MAIL FROM … XVERP
	// when the MTA offers it (Postfix), instead of one per recipient.
	XVERP bool
	// BaseURL is herald's web address, for one-click unsubscribe URLs
	// (<BaseURL>/u/<member token>) in personalized posts; "" for none.
	BaseURL string
	// DomainLimits throttle every destination domain; Domains override
	// them per domain (lower-case name).
	DomainLimits Limits
	Domains      map[string]Limits
	// MaxEntryTime bounds the delivery of one entry; recipients not sent
	// by then go back to the queue as a new entry. Default 5 minutes.
	MaxEntryTime time.Duration
	// RosterBytes bounds the memory for rosters (roster.go): big lists'
	// recipients grouped by domain, kept while the list's membership
	// stands, with a store that tells membership versions. 0: none.
	RosterBytes int
	// RosterMin is how many recipients a list needs for a roster.
	// Default 1000.
	RosterMin int
	// NoPipelining disables RFC 2920 pipelining (tests, broken MTAs).
	NoPipelining bool
	Logger       *slog.Logger
	Now          func() time.Time
}

// Store is what delivery reads from the store.
type Store interface {
	GetList(ctx context.Context, name, domain string) (*store.List, error)
	EachRecipient(ctx context.Context, listID int64, personal bool, fn func(*store.Recipient) error) error
	GetMember(ctx context.Context, listID int64, email string, role store.Role) (*store.Member, error)
	GetDKIMKey(ctx context.Context, domain string) (*store.DKIMKey, error)
}

// Stats are delivery counters, for /metrics.
type Stats struct {
	Entries, Transactions, Delivered, Deferred, Failed, Expired atomic.Int64
	ConnErrors, Dials, Resumed, Signed                          atomic.Int64
}

// Deliverer is the out runner's processor.
type Deliverer struct {
	opts    Options
	log     *slog.Logger
	sched   *sched
	jrn     *journal
	eng     *engine
	signers signerCache
	rosters rosters

	stopOnce sync.Once
	stopping chan struct{}

	// Stats counts outcomes.
	Stats Stats
}

var _ runner.Processor = (*Deliverer)(nil)

// New starts a Deliverer: its connection workers run until Close.
func New(opts Options) (*Deliverer, error) {
	setDefaults(&opts)
	d := &Deliverer{opts: opts, log: opts.Logger.With("runner", "out"), stopping: make(chan struct{})}
	jrn, err := newJournal(opts.ProgressDir, opts.ProgressSync, d.log)
	if err != nil {
		return nil, err
	}
	jrn.sweep(opts.RetryPeriod + 24*time.Hour)
	d.jrn = jrn
	d.sched = newSched(opts.DomainLimits, opts.Domains, opts.Now)
	d.eng = newEngine(&d.opts, d.sched, jrn, &d.Stats, d.log)
	d.signers = signerCache{st: opts.Store, ttl: time.Minute, m: map[string]*signerEntry{}}
	d.rosters.min = opts.RosterMin
	d.rosters.cache.SetLimit(opts.RosterBytes)
	return d, nil
}

func setDefaults(o *Options) {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.Helo == "" {
		o.Helo = "localhost"
	}
	def(&o.Connections, 8)
	def(&o.MaxRecipients, 500)
	def(&o.RosterMin, 1000)
	defDur(&o.RetryPeriod, 5*24*time.Hour)
	defDur(&o.RetryMin, time.Minute)
	defDur(&o.RetryMax, time.Hour)
	defDur(&o.Timeout, 2*time.Minute)
	defDur(&o.MaxEntryTime, 5*time.Minute)
	defDur(&o.ProgressSync, defaultProgressSync)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Stop makes entries in progress wrap up: transactions in flight finish,
// recipients not yet sent go back to the out queue as a new entry. The
// server calls it at shutdown, before waiting for the runners.
func (d *Deliverer) Stop() { d.stopOnce.Do(func() { close(d.stopping) }) }

// Close stops the connection workers (QUIT) and the progress journal.
func (d *Deliverer) Close() {
	d.Stop()
	d.eng.close()
	d.jrn.close()
}

// Process delivers one out entry.
func (d *Deliverer) Process(ctx context.Context, c *spool.Claim) error {
	start := time.Now()
	if !d.eng.awaitMTA(ctx, d.stopping) {
		// Stopping, or out of time, during an outage: the entry goes back
		// as it was, to be claimed again with a fresh time budget.
		if err := c.Release(context.WithoutCancel(ctx)); err != nil {
			return status.Temporary(fmt.Errorf("give back %s during an MTA outage: %w", c.ID, err))
		}
		return nil
	}
	d.Stats.Entries.Add(1)
	j, err := d.prepare(ctx, c)
	if err != nil {
		return err
	}
	j.prepared = time.Since(start)
	if err := d.run(ctx, j); err != nil {
		j.prog.keep() // for the next attempt
		return err
	}
	return d.finish(ctx, c, j, start)
}

// run feeds the job's recipients to the scheduler as the store yields them
// and waits until every transaction has finished, or the entry's time is
// up, or delivery stops; then what was not sent is in j.left. A store
// error ends the walk: what was scheduled is taken back, the transactions
// in flight finish (and are journaled), and the error retries the entry.
func (d *Deliverer) run(ctx context.Context, j *job) error {
	budget := time.NewTimer(d.opts.MaxEntryTime)
	defer budget.Stop()
	f := d.newFeed(j, budget.C)
	t0 := time.Now()
	err := d.recipients(ctx, j, f)
	j.walked = time.Since(t0)
	if err != nil {
		f.halted = true
	}
	left := f.end()
	if !f.halted {
		select {
		case <-j.done:
			return nil
		case <-budget.C:
			f.expired = true
		case <-d.stopping:
		}
	}
	if f.expired {
		j.log.Warn("entry took too long; requeueing the rest", "limit", d.opts.MaxEntryTime)
	}
	j.cancelled(append(left, d.sched.cancel(j)...))
	<-j.done
	return err
}

// finish records permanent failures, sends temporary failures to the
// retry queue and unsent recipients back to the out queue, all with one
// Forward, then drops the progress journal.
func (d *Deliverer) finish(ctx context.Context, c *spool.Claim, j *job, start time.Time) error {
	env := c.Envelope
	now := d.opts.Now()
	temp, perm := j.temp, j.perm
	expired := len(temp) > 0 && now.Sub(env.Arrived) > d.opts.RetryPeriod
	if expired {
		d.Stats.Expired.Add(int64(len(temp)))
		perm = append(perm, temp...)
		temp = nil
	}
	d.recordFailures(ctx, j, perm, expired)
	var items []spool.Item
	if len(temp) > 0 {
		d.Stats.Deferred.Add(int64(len(temp)))
		items = append(items, d.retryItem(c, temp, now))
	}
	if len(j.left) > 0 {
		items = append(items, d.leftItem(c, j, now))
	}
	var err error
	if len(items) == 0 {
		err = c.Done(ctx)
	} else {
		_, err = c.Forward(ctx, items...)
	}
	if err != nil {
		return fmt.Errorf("finish delivery of %s: %w", c.ID, err)
	}
	j.prog.remove()
	j.log.Info("entry delivered", "mode", j.mode.String(), "delivered", j.delivered, "deferred", len(temp),
		"failed", len(perm), "requeued", len(j.left), "seconds", time.Since(start).Seconds(),
		"prepare_seconds", j.prepared.Seconds(), "walk_seconds", j.walked.Seconds())
	return nil
}

// carried are the envelope Meta keys a retry or requeued entry keeps.
func carried(meta map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range meta {
		switch k {
		case metaRecipients, metaPoster, metaExplicit, metaProgress:
			// expansion and progress belong to the entry that expanded
		default:
			out[k] = v
		}
	}
	return out
}

func addrs(os []outcome) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = o.r.addr
	}
	return out
}

func (d *Deliverer) retryItem(c *spool.Claim, temp []outcome, now time.Time) spool.Item {
	env := c.Envelope
	retry := env
	retry.Recipients = addrs(temp)
	retry.Meta = carried(env.Meta)
	retry.Attempts++
	retry.Origin = spool.Out
	retry.LastError = temp[0].why()
	retry.NotBefore = now.Add(d.backoff(env.Attempts))
	d.log.Info("deferred", "id", c.ID, "list", env.List, "recipients", len(temp), "attempts", retry.Attempts,
		"next", retry.NotBefore, "err", retry.LastError)
	return spool.Item{Queue: spool.Retry, Envelope: retry, Message: c.Message}
}

// leftItem requeues recipients never sent: to out at once when this round
// made progress or delivery is stopping, else to retry after RetryMin.
func (d *Deliverer) leftItem(c *spool.Claim, j *job, now time.Time) spool.Item {
	env := c.Envelope
	left := env
	left.Recipients = make([]string, len(j.left))
	for i, r := range j.left {
		left.Recipients[i] = r.addr
	}
	left.Meta = carried(env.Meta)
	q := spool.Out
	select {
	case <-d.stopping:
	default:
		if j.delivered == 0 && len(j.temp) == 0 && len(j.perm) == 0 {
			q = spool.Retry
			left.Origin = spool.Out
			left.NotBefore = now.Add(d.opts.RetryMin)
		}
	}
	return spool.Item{Queue: q, Envelope: left, Message: c.Message}
}

func (d *Deliverer) backoff(attempts int) time.Duration {
	b := d.opts.RetryMin << min(attempts, 20)
	if b <= 0 || b > d.opts.RetryMax {
		b = d.opts.RetryMax
	}
	// ±10% jitter so a crowd of deferred entries does not come back at once.
	return b + time.Duration(rand.Int64N(int64(b)/5+1)) - b/10
}

// recordFailures hands permanent failures to the sink. A sink error is
// logged, not returned: the recipients' fate is settled, and failing the
// entry would send the post again to everyone not yet journaled.
func (d *Deliverer) recordFailures(ctx context.Context, j *job, perm []outcome, expired bool) {
	for _, o := range perm {
		d.Stats.Failed.Add(1)
		f := Failure{List: j.env.List, Domain: j.env.Domain, Recipient: o.r.addr, Reply: o.why(),
			Code: o.reply.Code, Enhanced: o.reply.Enhanced, At: d.opts.Now(), Expired: expired && o.reply.Temporary()}
		if j.list != nil {
			f.ListID = j.list.ID
		}
		f.Reason = Classify(o.reply)
		if f.Expired {
			f.Reply = fmt.Sprintf("retry period %s expired: %s", d.opts.RetryPeriod, f.Reply)
		}
		j.log.Warn("delivery failed permanently", "rcpt", o.r.addr, "reply", f.Reply, "reason", f.Reason)
		if d.opts.Failures == nil {
			continue
		}
		if err := d.opts.Failures.RecordFailure(ctx, f); err != nil {
			j.log.Error("record delivery failure", "rcpt", o.r.addr, "err", err)
		}
	}
}

// Envelope Meta keys this package reads. The post pipeline writes the
// first four under the same names (handlers.OutMetaRecipients and
// friends, handlers.Recipients.Defer); delivery must not import it.
const (
	// metaRecipients "members": deliver to the list's members, computed
	// here from the store, instead of Envelope.Recipients.
	metaRecipients = "recipients"
	// metaPoster is the poster's address (receive_own_postings).
	metaPoster = "poster"
	// metaExplicit are the addresses in the post's To and Cc, comma
	// separated (receive_list_copy).
	metaExplicit = "explicit"
	// metaProgress names the progress journal when it is not the entry
	// id (letters, digits, '.', '_', '-'; set when the entry is made, or
	// by the first attempt's Update).
	metaProgress = "progress"
	// metaPostID is the list's post number (VERP interval).
	metaPostID = "post_id"
)

// MemberEnvelope returns the Meta for an out entry that delivery expands
// to the list's members itself: poster is the post's sender, explicit the
// addresses its To and Cc named before any rewriting.
func MemberEnvelope(postID int64, poster string, explicit []string) map[string]string {
	low := make([]string, 0, len(explicit))
	for _, a := range explicit {
		low = append(low, strings.ToLower(a))
	}
	return map[string]string{metaRecipients: "members", metaPostID: strconv.FormatInt(postID, 10),
		metaPoster: strings.ToLower(poster), metaExplicit: strings.Join(low, ",")}
}

// errNoList is the permanent error for a post to a list that vanished.
func errNoList(env spool.Envelope) error {
	return status.Permanent(fmt.Errorf("list %s@%s no longer exists", env.List, env.Domain))
}
