package delivery

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	"herald/internal/delivery/smtpclient"
	"herald/internal/spool"
	"herald/internal/store"
)

// mode is how a job's transactions are shaped.
type mode int

const (
	// modeBulk: recipients grouped by domain, up to MaxRecipients each.
	modeBulk mode = iota
	// modeXVERP: like bulk, with MAIL FROM … XVERP so the MTA makes
	// the per-recipient bounce addresses.
	modeXVERP
	// modeVERP: one transaction per recipient, envelope sender
	// LIST-bounces+local=domain@DOMAIN, same body for all.
	modeVERP
	// modePersonal: one transaction per recipient with a body rendered
	// for that member (footer variables, To:, one-click unsubscribe URL).
	modePersonal
)

func (m mode) String() string {
	return [...]string{"bulk", "xverp", "verp", "personalized"}[m]
}

// rcpt is one recipient of a job. A post to a big list makes one per
// member, so it stays small: what only personalized copies need is apart.
type rcpt struct {
	addr string
	who  *member // personalized jobs: the member, nil for a non-member
}

// member is what a member's personalized copy needs.
type member struct {
	name, token, lang string
}

// outcome is a recipient's failed transaction.
type outcome struct {
	r     *rcpt
	reply smtpclient.Reply
	err   error // the connection error when reply.Code is 0
}

// job is one out entry being delivered: its shaped body and its results.
// Workers report results concurrently; the Process goroutine waits on done.
type job struct {
	id     string
	env    spool.Envelope
	expand bool        // the recipients are the list's members
	list   *store.List // nil for mail of an unknown list
	log    *slog.Logger
	mode   mode
	sender string // envelope sender (the base for VERP)
	verp   bool   // personalized jobs: VERP the sender too
	wire   []byte // bulk, XVERP, VERP: the shared body
	eight  bool   // the body has 8-bit bytes
	render func(r *rcpt) ([]byte, error)
	prog   *progress
	// prepared is how long prepare took (list, journal, body shaping);
	// walked how long the recipients took to come from the store (while
	// the first transactions went out).
	prepared, walked time.Duration

	mu        sync.Mutex
	groups    int // groups not yet handed out in full
	inflight  int // transactions handed out, not yet finished
	delivered int
	temp      []outcome
	perm      []outcome
	left      []*rcpt // never sent (cancelled)
	done      chan struct{}
	closed    bool
}

// start readies the job to be fed: the feed counts as one group until
// its end, so the job cannot finish while recipients are still coming.
func (j *job) start() {
	j.mu.Lock()
	j.groups = 1
	j.done = make(chan struct{})
	j.mu.Unlock()
}

// addGroups counts n groups about to be scheduled.
func (j *job) addGroups(n int) {
	j.mu.Lock()
	j.groups += n
	j.mu.Unlock()
}

// groupDone counts a group handed out in full or cancelled.
func (j *job) groupDone() {
	j.mu.Lock()
	j.groups--
	j.checkDone()
	j.mu.Unlock()
}

// checkDone closes done when nothing is queued or in flight; j.mu is held.
func (j *job) checkDone() {
	if j.groups == 0 && j.inflight == 0 && !j.closed {
		j.closed = true
		close(j.done)
	}
}

func (j *job) taken() {
	j.mu.Lock()
	j.inflight++
	j.mu.Unlock()
}

// record files a finished transaction's results; it returns the accepted
// addresses. The caller journals them, then calls ended.
func (j *job) record(rs []*rcpt, tx *smtpclient.Tx) []string {
	ok := make([]string, 0, len(rs))
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, r := range rs {
		rep := tx.Result(i)
		switch {
		case rep.Code/100 == 2:
			ok = append(ok, r.addr)
		case rep.Temporary():
			j.temp = append(j.temp, outcome{r: r, reply: rep, err: tx.Err})
		default:
			j.perm = append(j.perm, outcome{r: r, reply: rep})
		}
	}
	j.delivered += len(ok)
	return ok
}

// ended counts a recorded transaction as finished: the job is done when
// none is left. Its results are journaled by then, so whoever waits for
// the job finds them recorded everywhere.
func (j *job) ended() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.inflight--
	j.checkDone()
}

// fail files a transaction that never reached the MTA.
func (j *job) fail(rs []*rcpt, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, r := range rs {
		j.temp = append(j.temp, outcome{r: r, err: err})
	}
	j.inflight--
	j.checkDone()
}

// cancelled files recipients that were never handed out.
func (j *job) cancelled(rs []*rcpt) {
	j.mu.Lock()
	j.left = append(j.left, rs...)
	j.mu.Unlock()
}

// why renders an outcome for logs, retries and bounce events.
func (o outcome) why() string {
	if o.reply.Code == 0 && o.err != nil {
		return o.err.Error()
	}
	return o.reply.String()
}

// domainOf returns the lower-cased domain of addr.
func domainOf(addr string) string {
	return strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
}
