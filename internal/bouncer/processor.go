package bouncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"herald/internal/address"
	"herald/internal/bounce"
	"herald/internal/runner"
	"herald/internal/spool"
	"herald/internal/status"
	"herald/internal/store"
)

// Options configure the Processor and the Policy.
type Options struct {
	// Window: see the package doc (the circuit breaker). Default 1h.
	Window time.Duration
	// Hold: how long scoring stays held after a burst. Default 24h.
	Hold time.Duration
	// SiteOwner receives unrecognized bounces of lists that forward them
	// to site_owner; "" sends them to the list's administrators.
	SiteOwner string
	// BatchSize is how many events a pass reads at a time. Default 500.
	BatchSize int
	// Logger. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock that dates events and drives the periodic pass.
	// Default time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Window <= 0 {
		o.Window = time.Hour
	}
	if o.Hold <= 0 {
		o.Hold = 24 * time.Hour
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Processor is the bounce runner's processor: it turns mail to
// LIST-bounces[+…] into bounce events (see the package doc).
type Processor struct {
	st   Store
	opts Options
	log  *slog.Logger
}

var _ runner.Processor = (*Processor)(nil)

// NewProcessor returns the bounce runner's processor.
func NewProcessor(st Store, opts Options) *Processor {
	opts.defaults()
	return &Processor{st: st, opts: opts, log: opts.Logger.With("runner", "bounces")}
}

// Process handles one bounce.
func (p *Processor) Process(ctx context.Context, c *spool.Claim) error {
	env := c.Envelope
	log := p.log.With("id", c.ID, "list", env.List, "domain", env.Domain)
	l, err := p.st.GetList(ctx, env.List, env.Domain)
	switch {
	case errors.Is(err, store.ErrNotFound):
		log.Info("bounce for a list that no longer exists: discarded")
		return c.Done(ctx)
	case err != nil:
		return status.Temporary(fmt.Errorf("bounce: load list: %w", err))
	case !l.Settings.ProcessBounces:
		log.Info("bounce discarded: process_bounces is off")
		return c.Done(ctx)
	case bounce.IsAutoReply(c.Message):
		log.Info("auto-reply to the bounce address discarded", "from", env.Sender)
		return c.Done(ctx)
	}
	rcpt := ""
	if len(env.Recipients) > 0 {
		rcpt = env.Recipients[0]
	}
	v := &verpLookup{ctx: ctx, st: p.st, list: l}
	res, err := bounce.ScanWithVERP(c.Message, rcpt, v.member)
	if v.err != nil {
		return status.Temporary(fmt.Errorf("bounce: probe lookup: %w", v.err))
	}
	if err != nil && !errors.Is(err, bounce.ErrNotMessage) {
		log.Warn("bounce scanner failed; treating the bounce as unrecognized", "err", err)
	}
	if res.Empty() {
		return p.unrecognized(ctx, c, l, log)
	}
	n, err := p.record(ctx, l, res, v.probe, c.Message, log)
	if err != nil {
		return status.Temporary(err)
	}
	if n == 0 {
		log.Info("bounce names no member of the list: discarded", "format", res.Format,
			"permanent", res.Permanent, "temporary", res.Temporary)
	}
	return c.Done(ctx)
}

// record stores one event per failed address that is a member of l, and
// returns how many it stored.
func (p *Processor) record(ctx context.Context, l *store.List, res bounce.Result, probe *store.BounceProbe, msg []byte, log *slog.Logger) (int, error) {
	at := p.opts.Now()
	n := 0
	for _, perm := range []bool{true, false} {
		addrs := res.Temporary
		if perm {
			addrs = res.Permanent
		}
		for _, addr := range addrs {
			if _, err := p.st.GetMember(ctx, l.ID, addr, store.RoleMember); errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return n, fmt.Errorf("bounce: member %s: %w", addr, err)
			}
			source := res.Format
			if probe != nil && probe.Email == addr {
				source = SourceProbe
			}
			e := &store.BounceEvent{ListID: l.ID, Email: addr, Permanent: perm, Reason: string(res.Reasons[addr]),
				Detail: diagnostic(msg, addr), Source: source, At: at}
			if err := p.st.RecordBounce(ctx, e); err != nil {
				return n, fmt.Errorf("bounce: record %s: %w", addr, err)
			}
			n++
			log.Info("bounce recorded", "member", addr, "permanent", perm, "reason", e.Reason, "source", source,
				"event", e.ID)
		}
	}
	return n, nil
}

// unrecognized forwards or discards a bounce in which nothing was found,
// per forward_unrecognized_bounces_to.
func (p *Processor) unrecognized(ctx context.Context, c *spool.Claim, l *store.List, log *slog.Logger) error {
	var to []string
	switch l.Settings.ForwardUnrecognizedBouncesTo {
	case "discard":
		log.Info("unrecognized bounce discarded", "from", c.Envelope.Sender)
		return c.Done(ctx)
	case "site_owner":
		if p.opts.SiteOwner != "" {
			to = []string{p.opts.SiteOwner}
			break
		}
		log.Warn("forward_unrecognized_bounces_to is site_owner but [bounces] site_owner is not set: forwarding to the list's administrators")
		fallthrough
	default:
		admins, err := administrators(ctx, p.st, l)
		if err != nil {
			return status.Temporary(err)
		}
		to = admins
	}
	if len(to) == 0 {
		log.Warn("unrecognized bounce discarded: the list has no administrators", "from", c.Envelope.Sender)
		return c.Done(ctx)
	}
	it := unrecognizedItem(l, to, c.Message, p.opts.Now())
	if _, err := c.Forward(ctx, it); err != nil {
		return err
	}
	log.Info("unrecognized bounce forwarded", "to", strings.Join(to, ","), "from", c.Envelope.Sender)
	return nil
}

// verpLookup decodes the bounce addresses of one list for
// bounce.ScanWithVERP: LIST-bounces+local=domain@DOMAIN names a member,
// LIST-bounces+TOKEN@DOMAIN a probe.
type verpLookup struct {
	ctx   context.Context
	st    Store
	list  *store.List
	probe *store.BounceProbe // the probe found, if any
	err   error              // a store failure during the lookup
}

func (v *verpLookup) member(addr string) (string, bool) {
	local, domain, err := address.Parse(addr)
	if err != nil || domain != v.list.Domain {
		return "", false
	}
	base, ext, ok := strings.Cut(local, "+")
	if !ok || base != v.list.Name+"-bounces" || ext == "" {
		return "", false
	}
	if m, ok := address.VERPDecode(ext); ok {
		return m, true
	}
	pr, err := v.st.GetBounceProbe(v.ctx, ext)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", false
	case err != nil:
		v.err = err
		return "", false
	case pr.ListID != v.list.ID:
		return "", false
	}
	v.probe = pr
	return pr.Email, true
}
