// Package ingress is the one path by which mail enters herald, whatever
// carried it (LMTP, `herald inject`, Maildir pickup): resolve each
// recipient to (domain, list, alias) against the store, then write one
// durable spool entry per recipient into the queue its alias belongs to.
//
// Failures are classified here with package status, once: an unknown
// list address is permanent; a full disk is NoSpace; anything else from
// the store or the spool is temporary.
package ingress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"herald/internal/address"
	"herald/internal/spool"
	"herald/internal/status"
	"herald/internal/store"
)

// Lists is what ingress needs from the store.
type Lists interface {
	GetList(ctx context.Context, name, domain string) (*store.List, error)
}

// Spool is what ingress needs from the spool.
type Spool interface {
	EnqueueAll(ctx context.Context, items []spool.Item) ([]string, error)
}

// Ingress routes and accepts messages.
type Ingress struct {
	lists   Lists
	spool   Spool
	siteMax int64
	log     *slog.Logger
	now     func() time.Time
	known   listCache
}

// New returns an Ingress. siteMax is the largest message accepted anywhere.
func New(lists Lists, sp Spool, siteMax int64, log *slog.Logger) *Ingress {
	if log == nil {
		log = slog.Default()
	}
	in := &Ingress{lists: lists, spool: sp, siteMax: siteMax, log: log.With("component", "ingress"), now: time.Now}
	in.known.now = func() time.Time { return in.now() }
	return in
}

// QueueFor returns the spool queue that handles an alias.
func QueueFor(a address.Alias) string {
	switch a {
	case address.Post:
		return spool.In
	case address.Owner:
		return spool.Owner
	case address.Bounces:
		return spool.Bounces
	}
	return spool.Command
}

// Resolve maps rcpt to its list target and the size limit for it.
func (in *Ingress) Resolve(ctx context.Context, rcpt string) (address.Recipient, int64, error) {
	local, domain, err := address.Parse(rcpt)
	if err != nil {
		return address.Recipient{}, 0, status.UnknownRecipient(err)
	}
	var (
		lookupErr error
		found     = map[string]int64{} // list name: hard size limit in bytes (0: none)
	)
	exists := func(name string) bool {
		if h, ok := in.known.get(name, domain); ok {
			found[name] = h.maxSize
			return true
		}
		l, err := in.lists.GetList(ctx, name, domain)
		switch {
		case err == nil:
			found[name] = int64(l.Settings.HardMaxMessageSize) << 10
			in.known.put(name, domain, found[name])
			return true
		case !errors.Is(err, store.ErrNotFound):
			lookupErr = err
		}
		return false
	}
	list, alias, ext, err := address.Split(local, exists)
	if lookupErr != nil {
		return address.Recipient{}, 0, status.Temporary(fmt.Errorf("resolve %s: %w", rcpt, lookupErr))
	}
	if err != nil {
		return address.Recipient{}, 0, status.UnknownRecipient(fmt.Errorf("resolve %s: %w", rcpt, err))
	}
	limit := in.siteMax
	if lim := found[list]; lim > 0 {
		limit = min(limit, lim)
	}
	return address.Recipient{List: list, Domain: domain, Alias: alias, Extension: ext}, limit, nil
}

// Accept writes one entry per recipient, all in one group commit, and
// returns one error per recipient: nil means durable.
func (in *Ingress) Accept(ctx context.Context, sender string, rcpts []address.Recipient, data []byte) []error {
	errs := make([]error, len(rcpts))
	if len(data) == 0 {
		for i := range errs {
			errs[i] = status.Malformed(errors.New("empty message"))
		}
		return errs
	}
	now := in.now()
	items := make([]spool.Item, len(rcpts))
	for i, r := range rcpts {
		items[i] = spool.Item{
			Queue: QueueFor(r.Alias),
			Envelope: spool.Envelope{
				Domain: r.Domain, List: r.List, Alias: string(r.Alias), Extension: r.Extension,
				Sender: sender, Recipients: []string{r.Address()}, Arrived: now,
			},
			Message: data,
		}
	}
	ids, err := in.spool.EnqueueAll(ctx, items)
	if err != nil {
		if errors.Is(err, spool.ErrDiskFull) {
			err = status.NoSpace(err)
		} else {
			err = status.Temporary(err)
		}
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	for i, id := range ids {
		in.log.Info("accepted", "id", id, "queue", items[i].Queue, "list", rcpts[i].List, "domain", rcpts[i].Domain,
			"alias", rcpts[i].Alias, "from", sender, "size", len(data))
	}
	return errs
}
