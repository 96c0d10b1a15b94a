package membership

import (
	"context"
	"fmt"
	"strings"

	"herald/internal/moderation"
	"herald/internal/notice"
	"herald/internal/spool"
	"herald/internal/store"
)

// The mails of the workflows. None of them carries text the requester
// chose: the address (normalized) is the only requester data in them.

func (s *Service) item(l *store.List, to []string, n notice.Notice) spool.Item {
	now := s.now()
	return moderation.OutItem(l, to, notice.Compose(n, now), now)
}

func listName(l *store.List) string {
	if d := l.Settings.DisplayName; d != "" && d != l.Name {
		return fmt.Sprintf("%q (%s)", d, l.Address())
	}
	return l.Address()
}

// confirmMail asks email to confirm r with token. The From address carries
// the token, so a plain reply confirms (Mailman's LIST-confirm+TOKEN).
func (s *Service) confirmMail(l *store.List, r *store.Request, token string) spool.Item {
	verb, what := "join", "subscribe"
	if r.Kind == store.RequestUnsubscribe {
		verb, what = "leave", "unsubscribe"
	}
	var b strings.Builder
	if r.Invited {
		fmt.Fprintf(&b, "The owners of the %s mailing list invite %s to join it.\n\n", listName(l), r.Email)
	} else {
		fmt.Fprintf(&b, "Someone, hopefully you, asked to %s %s %s the %s mailing list.\n\n",
			what, r.Email, map[bool]string{true: "to", false: "from"}[r.Kind == store.RequestSubscribe], listName(l))
	}
	fmt.Fprintf(&b, "To confirm, simply reply to this message: the reply address carries\nthe confirmation code. Or send a message to\n\n    %s\n\n",
		l.SubAddress("confirm+"+token))
	if base := s.opts.BaseURL; base != "" {
		fmt.Fprintf(&b, "or open this page and press the button:\n\n    %s\n\n", ConfirmURL(base, token))
	}
	fmt.Fprintf(&b, "If you do not want to %s, ignore this message: nothing happens, and\nthe request lapses on %s.\n\nQuestions go to the list's owners: %s\n",
		verb, r.Expires.Format("2 January 2006 15:04 MST"), l.SubAddress("owner"))
	subject := fmt.Sprintf("Your confirmation is needed to %s the %s mailing list", verb, l.Address())
	if r.Invited {
		subject = fmt.Sprintf("You are invited to join the %s mailing list", l.Address())
	}
	return s.item(l, []string{r.Email}, notice.Notice{
		From: l.SubAddress("confirm+" + token), To: []string{r.Email}, Subject: subject, Body: b.String(),
	})
}

// welcomeMail greets a new member, with their one-click unsubscribe link.
func (s *Service) welcomeMail(l *store.List, m *store.Member) spool.Item {
	var b strings.Builder
	fmt.Fprintf(&b, "Welcome to the %s mailing list!\n\n", listName(l))
	if info := strings.TrimSpace(l.Settings.Info); info != "" {
		b.WriteString(info + "\n\n")
	}
	if l.Settings.AllowListPosts {
		fmt.Fprintf(&b, "To post to this list, send your message to:\n\n    %s\n\n", l.Address())
	}
	fmt.Fprintf(&b, "You are subscribed as %s. To unsubscribe, send a message to\n\n    %s\n\n", m.Email, l.SubAddress("leave"))
	if base := s.opts.BaseURL; base != "" && m.Token != "" {
		fmt.Fprintf(&b, "or open this page (it is yours alone: keep it private):\n\n    %s\n\n", OneClickURL(base, m.Token))
	}
	fmt.Fprintf(&b, "For help, send a message with the subject \"help\" to %s.\n", l.SubAddress("request"))
	return s.item(l, []string{m.Email}, notice.Notice{
		From: l.SubAddress("request"), To: []string{m.Email},
		Subject: fmt.Sprintf("Welcome to the %s mailing list", l.Address()), Body: b.String(),
	})
}

// goodbyeMail tells email it left l.
func (s *Service) goodbyeMail(l *store.List, email string) spool.Item {
	body := fmt.Sprintf("%s is no longer subscribed to the %s mailing list.\n\nTo join again, send a message to %s.\n",
		email, listName(l), l.SubAddress("join"))
	return s.item(l, []string{email}, notice.Notice{
		From: l.SubAddress("request"), To: []string{email},
		Subject: fmt.Sprintf("You have been unsubscribed from the %s mailing list", l.Address()), Body: body,
	})
}

// rejectMail tells the requester that a moderator refused r.
func (s *Service) rejectMail(l *store.List, r *store.Request, reason string) spool.Item {
	what := "join"
	if r.Kind == store.RequestUnsubscribe {
		what = "leave"
	}
	if reason = strings.TrimSpace(reason); reason == "" {
		reason = "no reason given"
	}
	body := fmt.Sprintf("The request of %s to %s the %s mailing list was rejected by its moderators.\n\nReason: %s\n\nQuestions go to the list's owners: %s\n",
		r.Email, what, listName(l), reason, l.SubAddress("owner"))
	return s.item(l, []string{r.Email}, notice.Notice{
		From: l.SubAddress("request"), To: []string{r.Email},
		Subject: fmt.Sprintf("Your request to %s the %s mailing list", what, l.Address()), Body: body,
	})
}

// staff returns the list's owners and, with mods, its moderators.
func (s *Service) staff(ctx context.Context, l *store.List, mods bool) ([]string, error) {
	roles := []store.Role{store.RoleOwner}
	if mods {
		roles = append(roles, store.RoleModerator)
	}
	seen := map[string]bool{}
	var out []string
	for _, role := range roles {
		err := s.st.EachMember(ctx, l.ID, role, func(m *store.Member) error {
			if !seen[m.Email] {
				seen[m.Email] = true
				out = append(out, m.Email)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("staff of %s: %w", l.Address(), err)
		}
	}
	return out, nil
}

// changeNotice tells the owners that email joined or left, when the list
// asks for it (admin_notify_mchanges).
func (s *Service) changeNotice(ctx context.Context, l *store.List, email string, kind store.RequestKind) ([]spool.Item, error) {
	if !l.Settings.AdminNotifyMchanges {
		return nil, nil
	}
	owners, err := s.staff(ctx, l, false)
	if err != nil || len(owners) == 0 {
		return nil, err
	}
	what, verb := "subscription", "subscribed to"
	if kind == store.RequestUnsubscribe {
		what, verb = "unsubscription", "unsubscribed from"
	}
	return []spool.Item{s.item(l, owners, notice.Notice{
		From: l.SubAddress("owner"), To: []string{l.SubAddress("owner")},
		Subject: fmt.Sprintf("%s %s notification", l.Address(), what),
		Body:    fmt.Sprintf("%s has been %s %s.\n", email, verb, l.Address()),
	})}, nil
}

// moderatorNotice tells owners and moderators that r waits for them.
func (s *Service) moderatorNotice(ctx context.Context, l *store.List, r *store.Request) ([]spool.Item, error) {
	staff, err := s.staff(ctx, l, true)
	if err != nil || len(staff) == 0 {
		return nil, err
	}
	body := fmt.Sprintf("%s asks to %s %s. The request waits for your decision:\n\n"+
		"    herald requests approve %s %d\n    herald requests reject %s %d\n    herald requests discard %s %d\n",
		r.Email, map[bool]string{true: "join", false: "leave"}[r.Kind == store.RequestSubscribe], l.Address(),
		l.Address(), r.ID, l.Address(), r.ID, l.Address(), r.ID)
	return []spool.Item{s.item(l, staff, notice.Notice{
		From: l.SubAddress("owner"), To: []string{l.SubAddress("owner")},
		Subject: fmt.Sprintf("New %s request to %s from %s", r.Kind, l.Address(), r.Email), Body: body,
	})}, nil
}
