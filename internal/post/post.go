// Package post is the post runner's processor: it takes a post from the in
// queue, runs the posting chain (package pipeline with its rules), and acts
// on the decision — discard, reject with a notice, hold for moderators, or
// accept: run the handlers and forward the rewritten post to the out queue,
// split into entries of at most Options.Chunk recipients (or as one entry
// without recipients when the handlers left the member walk to delivery,
// handlers.Recipients.Defer), together with the notices the handlers
// wrote. A handler may still end the post
// (pipeline.Stop): discard, reject, hold, forward to the owners, or
// preserve in the shunt queue.
//
// Every outcome ends the claim with one Forward, so the post and whatever
// it produced are replaced atomically: a crash repeats the post's
// processing at most once and never loses it. (A repeat may use up a post
// number or count an autoresponse twice; it never sends the post twice.)
//
// Failure semantics: a post that cannot be read (not a message, past
// package mime's limits, or with MIME structure a handler cannot process)
// is Malformed and the runner shunts it with the reason; store trouble is
// Temporary and retried.
package post

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"herald/internal/mime"
	"herald/internal/moderation"
	"herald/internal/pipeline"
	"herald/internal/pipeline/handlers"
	"herald/internal/runner"
	"herald/internal/spool"
	"herald/internal/status"
	"herald/internal/store"
)

// Store is what the post runner needs from the store.
type Store interface {
	pipeline.Roster
	pipeline.Ledger
	GetList(ctx context.Context, name, domain string) (*store.List, error)
	// AddMember registers first-time nonmember posters.
	AddMember(ctx context.Context, m *store.Member) error
	// HasDigestMembers and AddDigestMessage keep posts for digests.
	HasDigestMembers(ctx context.Context, listID int64) (bool, error)
	AddDigestMessage(ctx context.Context, m *store.DigestMessage) error
}

// Options tune the processor.
type Options struct {
	// Chunk is the most recipients per out entry. Default 1000.
	Chunk int
	// DMARC looks up authors' DMARC policies; nil: none are known.
	DMARC pipeline.DMARCLookup
	// Logger. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Processor is the post runner's runner.Processor.
type Processor struct {
	store    Store
	mod      *moderation.Service
	chain    pipeline.Chain
	handlers pipeline.Handlers
	opts     Options
	log      *slog.Logger
}

var _ runner.Processor = (*Processor)(nil)

// New returns a post processor using chain and handlers.
func New(st Store, mod *moderation.Service, chain pipeline.Chain, hs pipeline.Handlers, opts Options) *Processor {
	if opts.Chunk <= 0 {
		opts.Chunk = 1000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Processor{store: st, mod: mod, chain: chain, handlers: hs, opts: opts, log: opts.Logger.With("runner", "post")}
}

// Process handles one post.
func (p *Processor) Process(ctx context.Context, c *spool.Claim) error {
	env := c.Envelope
	l, err := p.store.GetList(ctx, env.List, env.Domain)
	if errors.Is(err, store.ErrNotFound) {
		return status.Permanent(fmt.Errorf("list %s@%s no longer exists", env.List, env.Domain))
	} else if err != nil {
		return status.Temporary(fmt.Errorf("load list %s@%s: %w", env.List, env.Domain, err))
	}
	msg, err := mime.Parse(c.Message)
	if err != nil {
		return status.Malformed(fmt.Errorf("parse post: %w", err))
	}
	m := &pipeline.Message{
		List: l, Msg: msg, Size: len(c.Message), EnvSender: env.Sender,
		Senders:  pipeline.Senders(msg, env.Sender, l.Settings.SenderHeaders),
		Approved: env.Meta["approved"] == "1",
		Roster:   p.store, Ledger: p.store, DMARC: p.opts.DMARC, Now: p.opts.Now(), Meta: map[string]string{},
	}
	if len(m.Senders) > 0 {
		m.Sender = m.Senders[0]
	}
	d, err := p.chain.Decide(ctx, m)
	if err != nil {
		return status.Temporary(fmt.Errorf("posting chain: %w", err))
	}
	log := p.log.With("id", c.ID, "list", l.Name, "domain", l.Domain, "sender", m.Sender, "action", d.Action, "rule", d.Rule)
	p.registerNonmember(ctx, m, log)
	switch d.Action {
	case pipeline.Discard:
		log.Info("post discarded", "reasons", d.Reasons)
		return c.Done(ctx)
	case pipeline.Reject:
		log.Info("post rejected", "reasons", d.Reasons)
		return p.forward(ctx, c, p.mod.RejectNotice(l, c.Message, m.Sender, d.Reasons))
	case pipeline.Hold:
		return p.hold(ctx, c, m, d.Reasons, log)
	case pipeline.Accept:
		return p.accept(ctx, c, m, log)
	}
	return status.Permanent(fmt.Errorf("posting chain: unknown action %q", d.Action))
}

// registerNonmember adds a first-time poster without any role as a
// nonmember of the list (Mailman does so), so moderators can set their
// action. Failing to is logged, not fatal: the post's outcome stands.
func (p *Processor) registerNonmember(ctx context.Context, m *pipeline.Message, log *slog.Logger) {
	addr := m.Meta[pipeline.MetaNonmember]
	if addr == "" {
		return
	}
	mem := store.DefaultMember(m.List.ID, addr, store.RoleNonmember)
	err := p.store.AddMember(ctx, &mem)
	switch {
	case err == nil:
		log.Info("nonmember registered", "address", addr)
	case !errors.Is(err, store.ErrConflict):
		log.Warn("register nonmember", "address", addr, "err", err)
	}
}

func (p *Processor) hold(ctx context.Context, c *spool.Claim, m *pipeline.Message, reasons []string, log *slog.Logger) error {
	h, items, err := p.mod.Hold(ctx, m.List, moderation.Post{Raw: c.Message, EnvSender: c.Envelope.Sender, Sender: m.Sender, Reasons: reasons})
	if err != nil {
		return status.Temporary(err)
	}
	log.Info("post held", "held", h.ID, "reasons", reasons)
	return p.forward(ctx, c, append(items, p.noticeItems(m)...))
}

// forward ends the claim with items (Done when there are none).
func (p *Processor) forward(ctx context.Context, c *spool.Claim, items []spool.Item) error {
	if len(items) == 0 {
		return c.Done(ctx)
	}
	_, err := c.Forward(ctx, items...)
	return err
}

func (p *Processor) accept(ctx context.Context, c *spool.Claim, m *pipeline.Message, log *slog.Logger) error {
	if err := p.handlers.Run(ctx, m); err != nil {
		if stop, ok := pipeline.AsStop(err); ok {
			return p.stopped(ctx, c, m, stop, log)
		}
		if errors.Is(err, mime.ErrLimit) || errors.Is(err, mime.ErrMalformed) {
			return status.Malformed(err)
		}
		return status.Temporary(err)
	}
	out := m.Msg.Bytes()
	if err := p.keepForDigest(ctx, m, out); err != nil {
		return status.Temporary(err)
	}
	meta := map[string]string{"post_id": strconv.FormatInt(m.PostID, 10)}
	for k, v := range m.OutMeta {
		meta[k] = v
	}
	var items []spool.Item
	item := func(rcpts []string) {
		items = append(items, spool.Item{Queue: spool.Out, Message: out, Envelope: spool.Envelope{
			Domain: m.List.Domain, List: m.List.Name, Alias: "post", Sender: m.List.SubAddress("bounces"),
			Recipients: rcpts, Arrived: c.Envelope.Arrived, Meta: meta,
		}})
	}
	expand := meta[handlers.OutMetaRecipients] == handlers.RecipientsMembers
	if expand {
		item(nil) // delivery walks the members (handlers.Recipients.Defer)
	}
	for start := 0; start < len(m.Recipients); start += p.opts.Chunk {
		item(m.Recipients[start:min(start+p.opts.Chunk, len(m.Recipients))])
	}
	entries := len(items)
	if err := p.forward(ctx, c, append(items, p.noticeItems(m)...)); err != nil {
		return err
	}
	log.Info("post accepted", "post_id", m.PostID, "recipients", len(m.Recipients), "members_at_delivery", expand,
		"entries", entries, "notices", len(m.Notices))
	return nil
}

// keepForDigest keeps the post as it goes to the members for the list's
// next digest, if the list has digest members. It runs before the post is
// forwarded: if the forward then fails, the retried post is kept twice (a
// repeat in the digest), never lost from it.
func (p *Processor) keepForDigest(ctx context.Context, m *pipeline.Message, out []byte) error {
	if !m.List.Settings.DigestsEnabled {
		return nil
	}
	has, err := p.store.HasDigestMembers(ctx, m.List.ID)
	if err != nil || !has {
		return err
	}
	if err := p.store.AddDigestMessage(ctx, &store.DigestMessage{ListID: m.List.ID, PostID: m.PostID, Message: out}); err != nil {
		return fmt.Errorf("keep post %d for the digest: %w", m.PostID, err)
	}
	return nil
}

// stopped carries out a handler's Stop.
func (p *Processor) stopped(ctx context.Context, c *spool.Claim, m *pipeline.Message, s *pipeline.Stop, log *slog.Logger) error {
	log = log.With("handler_action", s.Action, "reason", s.Reason)
	notices := p.noticeItems(m)
	switch s.Action {
	case pipeline.Discard:
		log.Info("post discarded by a handler")
		return p.forward(ctx, c, notices)
	case pipeline.Reject:
		log.Info("post rejected by a handler")
		return p.forward(ctx, c, append(p.mod.RejectNotice(m.List, c.Message, m.Sender, []string{s.Reason}), notices...))
	case pipeline.Hold:
		return p.hold(ctx, c, m, []string{s.Reason}, log)
	case pipeline.Forward:
		items, err := p.mod.ModeratorNotice(ctx, m.List, fmt.Sprintf("Content filtered post to %s from %s", m.List.Address(), m.Sender),
			fmt.Sprintf("A post to %s from %s was forwarded to you instead of the members:\n\n  %s\n\nThe post is attached.\n",
				m.List.Address(), m.Sender, s.Reason), c.Message)
		if err != nil {
			return status.Temporary(err)
		}
		log.Info("post forwarded to the moderators by a handler")
		return p.forward(ctx, c, append(items, notices...))
	case pipeline.Preserve:
		log.Info("post preserved in the shunt queue by a handler")
		return c.Shunt(ctx, fmt.Errorf("preserved: %s", s.Reason))
	}
	return status.Permanent(fmt.Errorf("handler: unknown action %q", s.Action))
}

// noticeItems turns the handlers' notices into out entries.
func (p *Processor) noticeItems(m *pipeline.Message) []spool.Item {
	items := make([]spool.Item, 0, len(m.Notices))
	for _, n := range m.Notices {
		items = append(items, moderation.OutItem(m.List, n.Recipients, n.Message, m.Now))
	}
	return items
}
