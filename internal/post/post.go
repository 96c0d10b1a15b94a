// Package post is the post runner's processor: it takes a post from the in
// queue, runs the posting chain (package pipeline with its rules), and acts
// on the decision — discard, reject with a notice, hold for moderators, or
// accept: run the handlers and forward the rewritten post to the out queue,
// split into entries of at most Options.Chunk recipients.
//
// Every outcome ends the claim with one Forward, so the post and whatever
// it produced are replaced atomically: a crash repeats the post's
// processing at most once and never loses it.
package post

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"herald/internal/mime"
	"herald/internal/moderation"
	"herald/internal/pipeline"
	"herald/internal/runner"
	"herald/internal/spool"
	"herald/internal/status"
	"herald/internal/store"
)

// Store is what the post runner needs from the store.
type Store interface {
	pipeline.Roster
	GetList(ctx context.Context, name, domain string) (*store.List, error)
	NextPostID(ctx context.Context, listID int64, at time.Time) (int64, error)
}

// Options tune the processor.
type Options struct {
	// Chunk is the most recipients per out entry. Default 1000.
	Chunk int
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
		Senders: senders(msg, env.Sender), Approved: env.Meta["approved"] == "1",
		Roster: p.store, Now: p.opts.Now(), Meta: map[string]string{},
	}
	if len(m.Senders) > 0 {
		m.Sender = m.Senders[0]
	}
	d, err := p.chain.Decide(ctx, m)
	if err != nil {
		return status.Temporary(fmt.Errorf("posting chain: %w", err))
	}
	log := p.log.With("id", c.ID, "list", l.Name, "domain", l.Domain, "sender", m.Sender, "action", d.Action, "rule", d.Rule)
	switch d.Action {
	case pipeline.Discard:
		log.Info("post discarded", "reasons", d.Reasons)
		return c.Done(ctx)
	case pipeline.Reject:
		log.Info("post rejected", "reasons", d.Reasons)
		_, err := c.Forward(ctx, p.mod.RejectNotice(l, c.Message, m.Sender, d.Reasons)...)
		return err
	case pipeline.Hold:
		h, items, err := p.mod.Hold(ctx, l, moderation.Post{Raw: c.Message, EnvSender: env.Sender, Sender: m.Sender, Reasons: d.Reasons})
		if err != nil {
			return status.Temporary(err)
		}
		log.Info("post held", "held", h.ID, "reasons", d.Reasons)
		_, err = c.Forward(ctx, items...)
		return err
	case pipeline.Accept:
		return p.accept(ctx, c, m, log)
	}
	return status.Permanent(fmt.Errorf("posting chain: unknown action %q", d.Action))
}

func (p *Processor) accept(ctx context.Context, c *spool.Claim, m *pipeline.Message, log *slog.Logger) error {
	id, err := p.store.NextPostID(ctx, m.List.ID, m.Now)
	if err != nil {
		return status.Temporary(fmt.Errorf("post number: %w", err))
	}
	m.PostID = id
	if err := p.handlers.Run(ctx, m); err != nil {
		return err
	}
	out := m.Msg.Bytes()
	var items []spool.Item
	for start := 0; start < len(m.Recipients); start += p.opts.Chunk {
		end := min(start+p.opts.Chunk, len(m.Recipients))
		items = append(items, spool.Item{Queue: spool.Out, Message: out, Envelope: spool.Envelope{
			Domain: m.List.Domain, List: m.List.Name, Alias: "post", Sender: m.List.SubAddress("bounces"),
			Recipients: m.Recipients[start:end], Arrived: c.Envelope.Arrived,
			Meta: map[string]string{"post_id": fmt.Sprint(id)},
		}})
	}
	if _, err := c.Forward(ctx, items...); err != nil {
		return err
	}
	log.Info("post accepted", "post_id", id, "recipients", len(m.Recipients), "entries", len(items))
	return nil
}

// senders returns the identities a post claims, From first, then the
// envelope sender, normalized and without duplicates.
func senders(m *mime.Message, envSender string) []string {
	var out []string
	add := func(a string) {
		if a == "" {
			return
		}
		for _, x := range out {
			if x == a {
				return
			}
		}
		out = append(out, a)
	}
	for _, a := range mime.AddressList(m.Header, "From") {
		add(normalize(a))
	}
	add(normalize(envSender))
	return out
}
