package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"herald/internal/address"
	"herald/internal/bounce"
	"herald/internal/membership"
	"herald/internal/mime"
	"herald/internal/moderation"
	"herald/internal/notice"
	"herald/internal/runner"
	"herald/internal/spool"
	"herald/internal/status"
	"herald/internal/store"
)

// Store is what the command runner needs from the store.
type Store interface {
	GetList(ctx context.Context, name, domain string) (*store.List, error)
}

// Moderator carries out moderators' replies to hold notices (package
// moderation): a "confirm TOKEN" whose token is a held post's.
type Moderator interface {
	HandleModeratorReply(ctx context.Context, l *store.List, token string, d moderation.Decision, reason string) (*store.Held, error)
}

// Options tune the processor.
type Options struct {
	// Moderator handles replies to hold notices; nil: such replies are
	// answered as unknown tokens.
	Moderator Moderator
	// Logger. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Processor is the command runner's runner.Processor.
type Processor struct {
	st   Store
	svc  *membership.Service
	opts Options
	log  *slog.Logger
}

var _ runner.Processor = (*Processor)(nil)

// New returns a command processor.
func New(st Store, svc *membership.Service, opts Options) *Processor {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Processor{st: st, svc: svc, opts: opts, log: opts.Logger.With("runner", "command")}
}

// request is one command message being handled.
type request struct {
	list      *store.List
	sender    string // normalized From (or envelope sender)
	name      string // From display name, cleaned
	msgID     string
	body      string // the message's text, for a moderator's decision
	results   []result
	mail      []spool.Item
	answered  bool // some mail already went to the sender
	unhandled int
}

// result is one command's line and outcome text.
type result struct {
	line, text string
}

// Process handles one command message.
func (p *Processor) Process(ctx context.Context, c *spool.Claim) error {
	env := c.Envelope
	l, err := p.st.GetList(ctx, env.List, env.Domain)
	if errors.Is(err, store.ErrNotFound) {
		return status.Permanent(fmt.Errorf("list %s@%s no longer exists", env.List, env.Domain))
	} else if err != nil {
		return status.Temporary(fmt.Errorf("load list %s@%s: %w", env.List, env.Domain, err))
	}
	log := p.log.With("id", c.ID, "list", l.Name, "domain", l.Domain, "alias", env.Alias)
	msg, err := mime.Parse(c.Message)
	if err != nil {
		log.Info("command message unreadable, dropped", "err", err, "from", env.Sender)
		return c.Done(ctx)
	}
	if why := automated(msg, c.Message, env.Sender, l); why != "" {
		// RFC 3834 §2: never answer automatic mail; and never act on it:
		// an out-of-office reply to a confirmation must not confirm.
		log.Info("automated message ignored", "reason", why, "from", env.Sender)
		return c.Done(ctx)
	}
	req := p.newRequest(l, msg, env.Sender)
	req.body = mime.TextBody(msg)
	if req.sender == "" {
		log.Info("command message without a sender address, dropped")
		return c.Done(ctx)
	}
	cmds, parsed, err := commandsFor(env, msg)
	if err != nil {
		return status.Permanent(err)
	}
	for _, cmd := range cmds.Commands {
		if err := p.run(ctx, req, cmd); err != nil {
			return status.Temporary(fmt.Errorf("command %q from %s: %w", cmd.Name, req.sender, err))
		}
		if cmd.Name == End {
			break
		}
	}
	req.unhandled = cmds.Unprocessed
	items := req.mail
	if wantsReply(parsed, cmds, req.answered) {
		ok, err := p.svc.Mailable(ctx, l, req.sender)
		if err == nil && ok {
			ok, err = p.svc.ChargeReply(ctx, l, req.sender)
		}
		if err != nil {
			return status.Temporary(err)
		}
		if ok {
			items = append(items, p.reply(req))
		}
	}
	if _, err := c.Forward(ctx, items...); err != nil {
		return err
	}
	log.Info("commands processed", "from", req.sender, "commands", len(cmds.Commands), "mails", len(items))
	return nil
}

func (p *Processor) newRequest(l *store.List, msg *mime.Message, envSender string) *request {
	req := &request{list: l, msgID: messageID(msg.Header.Get("Message-ID"))}
	if addr, name, ok := mime.FirstAddress(msg.Header, "From"); ok {
		if a, err := address.Normalize(addr); err == nil {
			req.sender, req.name = a, clean(name)
		}
	}
	if req.sender == "" {
		if a, err := address.Normalize(envSender); err == nil {
			req.sender = a
		}
	}
	return req
}

// wantsReply reports whether a command message gets a results reply:
// commands read from a message (-request, or -confirm without a token)
// when at least one was a known command, so spam with a forged From gets
// no backscatter; the single implied command of -join, -leave and
// -confirm+TOKEN unless its result already went to the sender by mail.
func wantsReply(parsed bool, cmds Parsed, answered bool) bool {
	if !parsed {
		return !answered
	}
	for _, c := range cmds.Commands {
		if c.Name != "" {
			return true
		}
	}
	return false
}

// messageID returns id if it looks like a Message-ID, for In-Reply-To.
func messageID(id string) string {
	id = strings.TrimSpace(id)
	if len(id) > 250 || !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") || strings.ContainsAny(id, " \t\r\n") {
		return ""
	}
	return id
}

// commandsFor returns the commands a message to env's alias carries;
// parsed is false for the one command an alias implies.
func commandsFor(env spool.Envelope, msg *mime.Message) (cmds Parsed, parsed bool, err error) {
	switch address.Alias(env.Alias) {
	case address.Join:
		return Parsed{Commands: []Command{{Name: Join, Line: "join"}}}, false, nil
	case address.Leave:
		return Parsed{Commands: []Command{{Name: Leave, Line: "leave"}}}, false, nil
	case address.Confirm:
		if env.Extension != "" {
			return Parsed{Commands: []Command{{Name: Confirm, Args: []string{env.Extension}, Line: "confirm"}}}, false, nil
		}
	case address.Request:
	default:
		return Parsed{}, false, fmt.Errorf("command runner: unexpected alias %q", env.Alias)
	}
	return Parse(mime.DecodeWords(msg.Header.Get("Subject")), mime.TextBody(msg)), true, nil
}

// mailerLocals are local parts (or their prefixes and suffixes) of
// addresses that are programs, never people (RFC 3834 §2 suggests not
// answering them).
var (
	mailerLocals   = []string{"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply"}
	mailerSuffixes = []string{"-request", "-bounces", "-owner", "-confirm", "-admin"}
	mailerPrefixes = []string{"owner-", "bounce", "mailer-daemon"}
)

// automated returns why msg must not be answered, or "".
func automated(msg *mime.Message, raw []byte, envSender string, l *store.List) string {
	h := msg.Header
	switch {
	case envSender == "" || envSender == "<>":
		return "null envelope sender"
	case notice.IsAutomated(h):
		return "Auto-Submitted or Precedence"
	case h.Get("List-Id") != "":
		return "List-Id"
	case bounce.IsAutoReply(raw):
		return "auto-reply"
	}
	for _, a := range append([]string{envSender}, mime.AddressList(h, "From")...) {
		local, domain, err := address.Parse(a)
		if err != nil {
			continue
		}
		base, _, _ := strings.Cut(local, "+")
		if domain == l.Domain && (base == l.Name || strings.HasPrefix(base, l.Name+"-")) {
			return "the list's own address"
		}
		for _, m := range mailerLocals {
			if base == m {
				return "mailer address"
			}
		}
		for _, s := range mailerSuffixes {
			if strings.HasSuffix(base, s) {
				return "mailer address"
			}
		}
		for _, pfx := range mailerPrefixes {
			if strings.HasPrefix(base, pfx) {
				return "mailer address"
			}
		}
	}
	return ""
}
