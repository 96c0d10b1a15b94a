package delivery

import (
	"runtime"
	"slices"
	"strings"
	"time"
)

// Feeding tunes how a job's recipients reach the scheduler while they are
// still being walked from the store.
const (
	// feedGroupMin is the smallest group a domain's recipients are
	// scheduled in before the walk ends, whatever MaxRecipients is (VERP
	// and personalized jobs send one recipient per transaction, but are
	// still handed over in groups, not one by one).
	feedGroupMin = 64
	// feedHungryMin is the smallest group handed over early because the
	// connections are running out of work: smaller groups would mean
	// many small transactions, each carrying the whole body.
	feedHungryMin = 32
	// feedCheckEvery is how many recipients pass between checks of the
	// scheduler's backlog, of Stop and of the entry's time budget.
	feedCheckEvery = 512
)

// feed hands a job's recipients to the scheduler while the store is still
// walking the list, so that the first transactions go out during the walk
// instead of after it. It groups recipients by destination domain; a
// domain's group goes as soon as it fills whole transactions (at least
// feedGroupMin recipients). What is left goes when the walk ends, or
// earlier when the scheduler's backlog could not keep the connections
// busy: in bulk, the groups smaller than a transaction of domains without
// throttles are then packed into shared transactions, sorted by domain,
// so each domain's recipients stay together (a domain with a
// transaction's worth has its own) while a post to many small domains
// still travels in full transactions (the MTA splits them by destination
// anyway). The job's first packed transaction goes as soon as it is full
// (the connections have nothing else to do), the next packs wait for
// twice as many recipients as the one before, up to a backlog's worth
// (hungry): a domain's recipients are split among few transactions, yet
// the connections get work early. Only whole transactions are packed
// before the end; the rest waits for the next check. Other groups go
// alone if they have at least feedHungryMin recipients (or a
// transaction's worth). Once halted (Stop, or the entry's time is up) it
// schedules nothing more and keeps what it is given, for the caller to
// requeue.
type feed struct {
	d       *Deliverer
	j       *job
	per     int  // recipients per transaction
	full    int  // a group this big is scheduled at once
	hungry  int  // the backlog, in recipients, below which groups go early
	pack    bool // partial groups of unthrottled domains share transactions
	budget  <-chan time.Time
	groups  map[string]*group // being filled, by domain
	n       int
	packs   int // packed groups scheduled so far
	halted  bool
	expired bool // halted because the budget ran out
}

// newFeed starts feeding j: the job counts the feed as one group until end.
func (d *Deliverer) newFeed(j *job, budget <-chan time.Time) *feed {
	per := 1
	if j.mode == modeBulk || j.mode == modeXVERP {
		per = d.opts.MaxRecipients
	}
	j.start()
	// A group that goes at once fills whole transactions.
	full := per * ((feedGroupMin + per - 1) / per)
	return &feed{d: d, j: j, per: per, full: full, hungry: d.opts.Connections * per, pack: per > 1,
		budget: budget, groups: map[string]*group{}}
}

// add takes one recipient.
func (f *feed) add(r *rcpt) {
	dom := domainOf(r.addr)
	g := f.groups[dom]
	if g == nil {
		g = &group{job: f.j, dom: dom, per: f.per}
		f.groups[dom] = g
	}
	g.rcpts = append(g.rcpts, r)
	// A full group goes before the check, which could hand it over too.
	if len(g.rcpts) >= f.full && !f.halted {
		f.take(g)
		f.schedule([]*group{g})
	}
	if f.n++; f.n%feedCheckEvery == 0 {
		f.check()
	}
}

// addRoster takes a roster's domains whole, less the recipients out, as
// groups being filled: end schedules them as it does a walk's.
func (f *feed) addRoster(r *roster, out map[string]bool) {
	outDoms := map[string]bool{}
	for a := range out {
		outDoms[domainOf(a)] = true
	}
	for _, d := range r.domains {
		rcpts := d.rcpts
		if outDoms[d.name] {
			rcpts = without(rcpts, out)
		}
		if len(rcpts) > 0 {
			f.groups[d.name] = &group{job: f.j, dom: d.name, per: f.per, rcpts: rcpts}
			f.n += len(rcpts)
		}
	}
}

// take removes g from the groups being filled.
func (f *feed) take(g *group) { delete(f.groups, g.dom) }

// check halts the feed on Stop or when the budget runs out, and hands
// over the groups big enough to be worth a transaction when the
// connections are about to run dry.
func (f *feed) check() {
	if f.halted {
		return
	}
	select {
	case <-f.d.stopping:
		f.halted = true
		return
	case <-f.budget:
		f.halted, f.expired = true, true
		return
	default:
	}
	if f.d.sched.backlog() < f.hungry {
		f.flush(false)
	}
}

// flush hands over the partial groups: all of them at the end of the walk,
// else those worth it (see feed).
func (f *feed) flush(all bool) {
	var gs, packed []*group
	n := 0
	for dom, g := range f.groups {
		switch {
		case f.pack && len(g.rcpts) < f.per && f.d.sched.limitsFor(dom) == (Limits{}):
			packed = append(packed, g)
			n += len(g.rcpts)
		case all || len(g.rcpts) >= min(f.per, feedHungryMin):
			gs = append(gs, g)
		}
	}
	for _, g := range gs {
		f.take(g)
	}
	switch {
	case n > 0 && all:
		gs = append(gs, f.packed(packed, n))
	case n >= min(f.hungry, f.per<<min(f.packs, 30)):
		gs = append(gs, f.packed(packed, n-n%f.per))
	}
	f.schedule(gs)
}

// packed takes limit recipients out of groups, whole groups in order of
// domain and the head of the one that crosses the limit, and joins them
// in one group of the shared domain "" (no throttle).
func (f *feed) packed(gs []*group, limit int) *group {
	slices.SortFunc(gs, func(a, b *group) int { return strings.Compare(a.dom, b.dom) })
	p := &group{job: f.j, per: f.per, rcpts: make([]*rcpt, 0, limit)}
	for _, g := range gs {
		room := limit - len(p.rcpts)
		if room <= 0 {
			break
		}
		if len(g.rcpts) > room {
			p.rcpts = append(p.rcpts, g.rcpts[:room]...)
			g.rcpts = g.rcpts[room:]
			break
		}
		f.take(g)
		p.rcpts = append(p.rcpts, g.rcpts...)
	}
	f.packs++
	return p
}

// schedule hands groups to the scheduler, counted by the job first so it
// cannot look finished while they are queued.
func (f *feed) schedule(gs []*group) {
	if len(gs) == 0 {
		return
	}
	f.j.addGroups(len(gs))
	f.d.sched.add(gs)
	// The woken workers wait in this goroutine's run queue; with every
	// CPU busy they would start only when the walk's time slice ends.
	runtime.Gosched()
}

// end schedules what is left, or, if the feed halted, returns it unsent;
// either way the job stops counting the feed.
func (f *feed) end() []*rcpt {
	defer f.j.groupDone()
	if !f.halted {
		f.flush(true)
		return nil
	}
	var left []*rcpt
	for _, g := range f.groups {
		left = append(left, g.rcpts...)
	}
	f.groups = nil
	return left
}
