// Package owner is the owner runner's processor: mail to LIST-owner goes
// to the list's owners and moderators, unchanged, with the list's bounce
// address as envelope sender so their bounces come back to herald.
package owner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"herald/internal/runner"
	"herald/internal/spool"
	"herald/internal/status"
	"herald/internal/store"
)

// Store is what the owner runner needs.
type Store interface {
	GetList(ctx context.Context, name, domain string) (*store.List, error)
	EachMember(ctx context.Context, listID int64, role store.Role, fn func(*store.Member) error) error
}

// Processor forwards -owner mail.
type Processor struct {
	store Store
	log   *slog.Logger
}

var _ runner.Processor = (*Processor)(nil)

// New returns an owner processor.
func New(st Store, log *slog.Logger) *Processor {
	if log == nil {
		log = slog.Default()
	}
	return &Processor{store: st, log: log.With("runner", "owner")}
}

// Process forwards one message.
func (p *Processor) Process(ctx context.Context, c *spool.Claim) error {
	env := c.Envelope
	l, err := p.store.GetList(ctx, env.List, env.Domain)
	if errors.Is(err, store.ErrNotFound) {
		return status.Permanent(fmt.Errorf("list %s@%s no longer exists", env.List, env.Domain))
	} else if err != nil {
		return status.Temporary(fmt.Errorf("load list: %w", err))
	}
	seen := map[string]bool{}
	var rcpts []string
	for _, role := range []store.Role{store.RoleOwner, store.RoleModerator} {
		err := p.store.EachMember(ctx, l.ID, role, func(m *store.Member) error {
			if !seen[m.Email] {
				seen[m.Email] = true
				rcpts = append(rcpts, m.Email)
			}
			return nil
		})
		if err != nil {
			return status.Temporary(fmt.Errorf("owners of %s: %w", l.Address(), err))
		}
	}
	if len(rcpts) == 0 {
		return status.Permanent(fmt.Errorf("list %s has no owners or moderators to forward to", l.Address()))
	}
	out := env
	out.Sender = l.SubAddress("bounces")
	out.Recipients = rcpts
	out.Alias = "owner"
	if _, err := c.Forward(ctx, spool.Item{Queue: spool.Out, Envelope: out, Message: c.Message}); err != nil {
		return err
	}
	p.log.Info("forwarded to owners", "id", c.ID, "list", l.Name, "domain", l.Domain, "recipients", len(rcpts), "from", env.Sender)
	return nil
}
