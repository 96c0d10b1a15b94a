package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"herald/internal/membership"
	"herald/internal/moderation"
	"herald/internal/notice"
	"herald/internal/spool"
	"herald/internal/store"
)

// maxRoster bounds the addresses a who reply lists.
const maxRoster = 1000

// run carries out one command, adding its result and mail to req.
func (p *Processor) run(ctx context.Context, req *request, cmd Command) error {
	l := req.list
	add := func(text string) { req.results = append(req.results, result{line: cmd.Line, text: text}) }
	var (
		o   membership.Outcome
		err error
	)
	switch cmd.Name {
	case Join:
		mode, ok := digestOption(cmd.Args)
		if !ok {
			add("Usage: join [digest=no|mime|plain]. Only the sender can be subscribed.")
			return nil
		}
		o, err = p.svc.Subscribe(ctx, l, membership.Subscription{Email: req.sender, DisplayName: req.name,
			DeliveryMode: mode, Source: membership.SourceEmail})
	case Leave:
		if len(cmd.Args) > 0 {
			add("Usage: leave. Only the sender can be unsubscribed.")
			return nil
		}
		o, err = p.svc.Unsubscribe(ctx, l, membership.Unsubscription{Email: req.sender, Source: membership.SourceEmail})
	case Confirm:
		if len(cmd.Args) != 1 {
			add("Usage: confirm TOKEN")
			return nil
		}
		if moderation.IsHeldToken(cmd.Args[0]) && p.opts.Moderator != nil {
			add(p.moderate(ctx, req, cmd.Args[0]))
			return nil
		}
		o, err = p.svc.Confirm(ctx, l, cmd.Args[0])
	case Help:
		add(helpText(l))
		return nil
	case Who:
		return p.who(ctx, req, add)
	case Echo:
		add(clean(strings.Join(cmd.Args, " ")))
		return nil
	case End:
		add("Done: the rest of the message was ignored.")
		return nil
	default:
		add("Unknown command. Send \"help\" to " + l.SubAddress("request") + " for the list of commands.")
		return nil
	}
	if err != nil {
		return err
	}
	add(outcomeText(o, req.sender))
	req.mail = append(req.mail, o.Mail...)
	if o.Answered {
		req.answered = true
	}
	return nil
}

// digestOption parses join's arguments: nothing or digest=no|mime|plain.
func digestOption(args []string) (mode string, ok bool) {
	if len(args) == 0 {
		return store.ModeRegular, true
	}
	if len(args) > 1 {
		return "", false
	}
	k, v, found := strings.Cut(strings.ToLower(args[0]), "=")
	if !found || k != "digest" {
		return "", false
	}
	switch v {
	case "no":
		return store.ModeRegular, true
	case "mime":
		return store.ModeMIMEDigest, true
	case "plain":
		return store.ModePlaintextDigest, true
	}
	return "", false
}

// who lists the roster, if the sender may see it. The reply goes to the
// sender's own address, so a forged From learns nothing.
func (p *Processor) who(ctx context.Context, req *request, add func(string)) error {
	members, ok, err := p.svc.Roster(ctx, req.list, req.sender)
	if err != nil {
		return err
	}
	if !ok {
		add("You may not see the members of this list.")
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d member(s) of %s:", len(members), req.list.Address())
	for i, m := range members {
		if i == maxRoster {
			fmt.Fprintf(&b, "\n… and %d more", len(members)-maxRoster)
			break
		}
		b.WriteString("\n" + m)
	}
	add(b.String())
	return nil
}

// outcomeText says what a workflow step did, in the reply's words. Only
// the sender's address and the list's own data appear.
func outcomeText(o membership.Outcome, sender string) string {
	addr := o.Email
	if addr == "" {
		addr = sender
	}
	switch o.Status {
	case membership.Subscribed:
		return addr + " is now subscribed."
	case membership.Unsubscribed:
		return addr + " is no longer subscribed."
	case membership.ConfirmationSent:
		return "A confirmation request was sent to " + addr + ". Reply to it to go on."
	case membership.AwaitingModerator:
		return "The request waits for the list's moderators."
	case membership.AlreadyMember:
		return addr + " is already subscribed."
	case membership.NotMember:
		return addr + " is not subscribed."
	case membership.AlreadyPending:
		return "A request for " + addr + " is already pending: look for the confirmation message."
	case membership.Banned:
		return addr + " may not subscribe to this list."
	case membership.Undeliverable:
		return "Mail to " + addr + " bounces; ask the list's owners."
	case membership.RateLimited:
		return "Too many requests right now; try again in an hour."
	case membership.BadToken:
		return "The confirmation code is unknown, already used or expired."
	case membership.DigestsDisabled:
		return "This list has no digests."
	}
	return string(o.Status)
}

// helpText lists the commands.
func helpText(l *store.List) string {
	return fmt.Sprintf(`Commands for %s, in the Subject or one per line in the body of a
message to %s:

  join [digest=no|mime|plain]  subscribe the sender (also: subscribe)
  leave                        unsubscribe the sender (also: unsubscribe)
  confirm TOKEN                confirm a request
  who                          list the members, if the list allows it
  help                         this text
  echo TEXT                    answer TEXT
  end                          ignore the rest of the message (also: stop)

Or send any message to %s to join, to %s to leave.`,
		l.Address(), l.SubAddress("request"), l.SubAddress("join"), l.SubAddress("leave"))
}

// reply renders the results for the sender (RFC 3834: auto-replied, with
// In-Reply-To).
func (p *Processor) reply(req *request) spool.Item {
	var b strings.Builder
	b.WriteString("The results of your email commands are below.\n")
	for _, r := range req.results {
		fmt.Fprintf(&b, "\n> %s\n%s\n", r.line, indent(r.text))
	}
	if req.unhandled > 0 {
		fmt.Fprintf(&b, "\n%d more line(s) were not processed (at most %d commands per message).\n", req.unhandled, MaxLines)
	}
	now := p.opts.Now()
	l := req.list
	n := notice.Compose(notice.Notice{
		From: l.SubAddress("request"), To: []string{req.sender},
		Subject: "The results of your email commands", Body: b.String(),
		AutoSubmitted: "auto-replied", InReplyTo: req.msgID,
	}, now)
	return moderation.OutItem(l, []string{req.sender}, n, now)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// moderate carries out a moderator's reply to a hold notice and returns
// the result line. The token is the authority: it went only to the
// list's moderators, as in Mailman.
func (p *Processor) moderate(ctx context.Context, req *request, token string) string {
	d, reason, ok := moderation.ParseReply(req.body)
	if !ok {
		return "No decision found: start the reply with approve, reject REASON or discard. Nothing was changed."
	}
	h, err := p.opts.Moderator.HandleModeratorReply(ctx, req.list, token, d, reason)
	if errors.Is(err, store.ErrNotFound) {
		return "No held post has this code: it was decided already or has expired."
	}
	if err != nil {
		p.log.Warn("moderator reply failed", "list", req.list.Name, "domain", req.list.Domain, "err", err)
		return "The decision could not be carried out now; please try again later."
	}
	return fmt.Sprintf("Held post #%d from %s: %s.", h.ID, h.Sender, map[moderation.Decision]string{
		moderation.Approve: "approved", moderation.Reject: "rejected", moderation.Discard: "discarded"}[d])
}
