package delivery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"herald/internal/delivery/smtpclient"
	"herald/internal/spool"
	"herald/internal/status"
	"herald/internal/store"
)

// prepare loads what the entry needs, picks the mode and shapes the body;
// the recipients come later, while they are sent (see feed).
func (d *Deliverer) prepare(ctx context.Context, c *spool.Claim) (*job, error) {
	env := c.Envelope
	j := &job{id: c.ID, env: env, sender: env.Sender, expand: env.Meta[metaRecipients] == "members",
		log: d.log.With("id", c.ID, "list", env.List, "domain", env.Domain)}
	if d.opts.Store != nil && env.List != "" {
		l, err := d.opts.Store.GetList(ctx, env.List, env.Domain)
		switch {
		case errors.Is(err, store.ErrNotFound) && j.expand:
			return nil, errNoList(env)
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, status.Temporary(fmt.Errorf("load list %s@%s: %w", env.List, env.Domain, err))
		default:
			j.list = l
		}
	}
	if j.expand && j.list == nil {
		return nil, status.Permanent(fmt.Errorf("entry asks for list members but there is no list store"))
	}
	if err := d.openProgress(ctx, c, j); err != nil {
		return nil, err
	}
	if err := d.chooseMode(j); err != nil {
		return nil, status.Temporary(err)
	}
	if err := d.shape(ctx, j, c.Message); err != nil {
		return nil, err
	}
	return j, nil
}

// openProgress opens the entry's journal. An expanded post names its
// journal in its envelope first (one Update), so that the journal still
// applies if the runner ever re-queues the entry under a new id.
func (d *Deliverer) openProgress(ctx context.Context, c *spool.Claim, j *job) error {
	key := c.Envelope.Meta[metaProgress]
	if key != "" && !safeKey(key) {
		return status.Permanent(fmt.Errorf("progress key %.40q is not a plain file name", key))
	}
	if key == "" {
		key = c.ID
		if j.expand && d.opts.ProgressDir != "" {
			env := c.Envelope
			env.Meta = make(map[string]string, len(c.Envelope.Meta)+1)
			for k, v := range c.Envelope.Meta {
				env.Meta[k] = v
			}
			env.Meta[metaProgress] = key
			if err := c.Update(ctx, env); err != nil {
				return status.Temporary(fmt.Errorf("record progress key: %w", err))
			}
			j.env = c.Envelope
		}
	}
	p, err := d.jrn.open(key, c.Envelope.Attempts > 0)
	if err != nil {
		return status.Temporary(err)
	}
	j.prog = p
	if n := len(p.done); n > 0 {
		d.Stats.Resumed.Add(int64(n))
		j.log.Info("resuming delivery", "already_accepted", n)
	}
	return nil
}

// safeKey reports whether a journal key is a plain file name.
func safeKey(k string) bool {
	if k == "" || k[0] == '.' || len(k) > 100 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// chooseMode applies the list's personalize, verp_delivery_interval and
// verp_personalized_deliveries settings to posts; everything else (notices,
// owner mail, entries without a list) goes in bulk.
func (d *Deliverer) chooseMode(j *job) error {
	j.mode = modeBulk
	post, _ := strconv.ParseInt(j.env.Meta[metaPostID], 10, 64)
	if j.list == nil || j.env.Meta[metaPostID] == "" {
		return nil
	}
	s := j.list.Settings
	personal := s.Personalize == "individual" || s.Personalize == "full"
	verp := s.VERPDeliveryInterval == 1 || s.VERPDeliveryInterval > 1 && post%int64(s.VERPDeliveryInterval) == 0
	switch {
	case personal:
		j.mode = modePersonal
		j.verp = verp || s.VERPPersonalizedDeliveries
	case verp && d.opts.XVERP:
		ok, err := d.eng.hasExt("XVERP")
		if err != nil {
			return fmt.Errorf("ask the MTA for XVERP: %w", err)
		}
		j.mode = modeVERP
		if ok {
			j.mode = modeXVERP
		}
	case verp:
		j.mode = modeVERP
	}
	return nil
}

// recipients passes the feed who gets the entry, minus those already
// accepted.
func (d *Deliverer) recipients(ctx context.Context, j *job, f *feed) error {
	if j.expand {
		return d.members(ctx, j, f)
	}
	emit := f.add
	seen := make(map[string]bool, len(j.env.Recipients))
	for _, a := range j.env.Recipients {
		if j.prog.done[a] || seen[a] {
			continue
		}
		seen[a] = true
		r := &rcpt{addr: a}
		if j.mode == modePersonal {
			m, err := d.opts.Store.GetMember(ctx, j.list.ID, a, store.RoleMember)
			switch {
			case err == nil:
				r.who = &member{name: m.DisplayName, token: m.Token, lang: m.Language}
			case !errors.Is(err, store.ErrNotFound):
				return status.Temporary(fmt.Errorf("load member %s: %w", a, err))
			}
		}
		emit(r)
	}
	return nil
}

// members streams the list's members from the store (the slim
// store.Recipients walk) and passes the feed those who get the post:
// delivery enabled, regular (not digest) mode, not the poster if they
// opted out of their own posts (receive_own_postings), not named in the
// post's To or Cc if they opted out of list copies then
// (receive_list_copy), not journaled as accepted by an earlier attempt.
// A big list's walk is kept as a roster (roster.go) that the next posts
// use instead while the membership stands (not for personalized posts,
// nor for resumed ones, which leave out what was accepted).
func (d *Deliverer) members(ctx context.Context, j *job, f *feed) error {
	poster := j.env.Meta[metaPoster]
	explicit := map[string]bool{}
	for _, a := range strings.Split(j.env.Meta[metaExplicit], ",") {
		if a = strings.TrimSpace(a); a != "" {
			explicit[a] = true
		}
	}
	personal := j.mode == modePersonal
	var build *rosterBuilder
	rostered := !personal && len(j.prog.done) == 0 && d.rosters.on()
	if vs, ok := d.opts.Store.(rosterStore); ok && rostered && !d.rosters.isSmall(j.list.ID) {
		v, known, err := vs.MembersVersion(ctx, j.list.ID)
		if err != nil {
			return status.Temporary(fmt.Errorf("members of %s: %w", j.list.Address(), err))
		}
		if known {
			if r := d.rosters.get(j.list.ID, v); r != nil {
				f.addRoster(r, r.leftOut(poster, explicit))
				return nil
			}
			build = newRosterBuilder(v)
		}
	}
	var slab rcptSlab
	walked := 0
	err := d.opts.Store.EachRecipient(ctx, j.list.ID, personal, func(m *store.Recipient) error {
		walked++
		if j.prog.done[m.Email] {
			return nil
		}
		r := slab.next(m.Email)
		if personal {
			r.who = &member{name: m.DisplayName, token: m.Token, lang: m.Language}
		}
		if build != nil {
			build.add(r, m)
		}
		switch {
		case m.Email == poster && !m.ReceiveOwnPostings:
		case !m.ReceiveListCopy && explicit[m.Email]:
		default:
			f.add(r)
		}
		return nil
	})
	if err != nil {
		return status.Temporary(fmt.Errorf("members of %s: %w", j.list.Address(), err))
	}
	switch {
	case build != nil:
		d.rosters.keep(j.list.ID, build)
	case rostered:
		d.rosters.walked(j.list.ID, walked) // a small list's walk, with no version asked
	}
	return nil
}

// rcptSlab allocates recipients in blocks: a big list is many small
// structs. Blocks double up to 1024, so a small list's post does not
// allocate a big block for a few recipients.
type rcptSlab []rcpt

// next returns a new recipient for addr.
func (s *rcptSlab) next(addr string) *rcpt {
	if len(*s) == cap(*s) {
		*s = make([]rcpt, 0, min(max(2*cap(*s), 8), 1024))
	}
	*s = append(*s, rcpt{addr: addr})
	return &(*s)[len(*s)-1]
}

// shape builds the wire body once (bulk, XVERP, VERP), signed when the
// domain has a DKIM key, or the per-member renderer (personalized).
func (d *Deliverer) shape(ctx context.Context, j *job, msg []byte) error {
	j.eight = smtpclient.Has8Bit(msg)
	sg, err := d.signers.get(ctx, j.env.Domain)
	if err != nil {
		return status.Temporary(err)
	}
	if j.mode == modePersonal {
		render, err := d.personalizer(j, msg, sg)
		if err != nil {
			return err
		}
		j.render = render
		return nil
	}
	var sig []byte
	if sg != nil {
		if sig, err = sg.Sign(msg); err != nil {
			return status.Temporary(err)
		}
		d.Stats.Signed.Add(1)
	}
	j.wire = smtpclient.Wire(sig, msg)
	return nil
}
