package bouncer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"herald/internal/moderation"
	"herald/internal/notice"
	"herald/internal/spool"
	"herald/internal/store"
)

// The messages bounce handling writes. Each is a spool item for the out
// queue with the list's bounce address as envelope sender (a probe: its
// own VERP address), so their bounces come back here too: a bounce of an
// owner notice names no member and is dropped; a bounce of a warning is a
// residual bounce of a disabled member and scores nothing.

func listName(l *store.List) string {
	if d := l.Settings.DisplayName; d != "" && d != l.Name {
		return fmt.Sprintf("%q (%s)", d, l.Address())
	}
	return l.Address()
}

// administrators returns the list's owners and moderators (Mailman's
// administrators), without duplicates.
func administrators(ctx context.Context, st Store, l *store.List) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, role := range []store.Role{store.RoleOwner, store.RoleModerator} {
		err := st.EachMember(ctx, l.ID, role, func(m *store.Member) error {
			if !seen[m.Email] {
				seen[m.Email] = true
				out = append(out, m.Email)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("administrators of %s: %w", l.Address(), err)
		}
	}
	return out, nil
}

// ownerItem is a notice to the administrators, or nothing when there are
// none.
func ownerItem(ctx context.Context, st Store, l *store.List, subject, body string, attach []byte, now time.Time) ([]spool.Item, error) {
	to, err := administrators(ctx, st, l)
	if err != nil || len(to) == 0 {
		return nil, err
	}
	msg := notice.Compose(notice.Notice{From: l.SubAddress("owner"), To: to, Subject: subject, Body: body,
		Attach: attach}, now)
	return []spool.Item{moderation.OutItem(l, to, msg, now)}, nil
}

// probeItem is the probe to email; its envelope sender carries token.
func probeItem(l *store.List, email, token string, now time.Time) spool.Item {
	sender := l.SubAddress("bounces+" + token)
	var b strings.Builder
	fmt.Fprintf(&b, "This is a probe message. You can ignore it.\n\n")
	fmt.Fprintf(&b, "The %s mailing list has received a number of bounces for your\n", listName(l))
	fmt.Fprintf(&b, "address, %s, which suggests that messages to it may not arrive.\n", email)
	fmt.Fprintf(&b, "This message checks whether the address still works. If it arrives, you\n")
	fmt.Fprintf(&b, "need not do anything: you stay a member and keep receiving the list.\n\n")
	fmt.Fprintf(&b, "You may want to ask your mail administrator why earlier messages bounced.\n")
	fmt.Fprintf(&b, "Questions go to the list's owners: %s\n", l.SubAddress("owner"))
	msg := notice.Compose(notice.Notice{From: l.SubAddress("owner"), To: []string{email},
		Subject: fmt.Sprintf("%s mailing list probe message", displayName(l)), Body: b.String()}, now)
	it := moderation.OutItem(l, []string{email}, msg, now)
	it.Envelope.Sender = sender
	return it
}

// warningItem tells email that bounces disabled its delivery; n counts
// the warnings so far (1 for the first), of total.
func warningItem(l *store.List, email string, n, total, interval int, now time.Time) spool.Item {
	var b strings.Builder
	fmt.Fprintf(&b, "Your membership of the %s mailing list is disabled: messages to\n", listName(l))
	fmt.Fprintf(&b, "your address, %s, bounced too often, so the list stopped sending\nyou posts.\n\n", email)
	if left := total - n; left > 0 {
		fmt.Fprintf(&b, "This is warning %d of %d. You will get %d more, one every %d days;\n", n, total, left, interval)
		fmt.Fprintf(&b, "after the last one you will be removed from the list.\n\n")
	} else {
		fmt.Fprintf(&b, "This is the last warning: in %d days you will be removed from the list.\n\n", interval)
	}
	fmt.Fprintf(&b, "If you want to stay, ask the list's owners to enable your delivery\nagain: %s\n", l.SubAddress("owner"))
	msg := notice.Compose(notice.Notice{From: l.SubAddress("owner"), To: []string{email},
		Subject: fmt.Sprintf("Your subscription for the %s mailing list has been disabled", displayName(l)),
		Body:    b.String()}, now)
	return moderation.OutItem(l, []string{email}, msg, now)
}

func displayName(l *store.List) string {
	if l.Settings.DisplayName != "" {
		return l.Settings.DisplayName
	}
	return l.Name
}

// disableNotice tells the administrators that email was disabled.
func disableNotice(ctx context.Context, st Store, l *store.List, email, why string, now time.Time) ([]spool.Item, error) {
	s := l.Settings
	body := fmt.Sprintf("Delivery to %s on the %s mailing list has been disabled because of\n"+
		"bounces (%s).\n\nThe member gets %d warnings, one every %d days, and is then removed.\n"+
		"To enable delivery again, set the member's delivery_status to enabled.\n",
		email, listName(l), why, s.BounceYouAreDisabledWarnings, s.BounceYouAreDisabledWarningsInterval)
	return ownerItem(ctx, st, l, fmt.Sprintf("%s's subscription disabled on %s", email, displayName(l)), body, nil, now)
}

// removalNotice tells the administrators that email was removed.
func removalNotice(ctx context.Context, st Store, l *store.List, email string, now time.Time) ([]spool.Item, error) {
	body := fmt.Sprintf("%s has been removed from the %s mailing list: its delivery was\n"+
		"disabled because of bounces, and it did not recover after %d warnings.\n",
		email, listName(l), l.Settings.BounceYouAreDisabledWarnings)
	return ownerItem(ctx, st, l, fmt.Sprintf("%s unsubscribed from %s mailing list due to bounces", email,
		displayName(l)), body, nil, now)
}

// breakerNotice tells the administrators that scoring is held.
func breakerNotice(ctx context.Context, st Store, l *store.List, b burst, members int, h store.BounceHold, now time.Time) ([]spool.Item, error) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Between %s and %s, %d of the %d members of the %s mailing list\n",
		b.start.UTC().Format(time.RFC1123), b.end.UTC().Format("15:04 MST"), b.addresses, members, listName(l))
	fmt.Fprintf(&sb, "had a post refused for the same kind of policy reason (%s). When that\n", b.class)
	fmt.Fprintf(&sb, "many members are refused alike, the cause is on the list's side (its\n")
	fmt.Fprintf(&sb, "server is on a blocklist, or a poster's domain fails DMARC), not theirs.\n\n")
	if b.sample != "" {
		fmt.Fprintf(&sb, "One of the refusals:\n\n    %s\n\n", b.sample)
	}
	fmt.Fprintf(&sb, "Bounce scoring for the list is paused until %s, so no member is\n", h.Until.UTC().Format(time.RFC1123))
	fmt.Fprintf(&sb, "disabled for it. To resume earlier: herald bounces resume %s\n", l.Address())
	return ownerItem(ctx, st, l, fmt.Sprintf("Bounce processing paused for %s: many members refused alike", displayName(l)),
		sb.String(), nil, now)
}

// unrecognizedItem forwards a bounce in which nothing was recognized.
func unrecognizedItem(l *store.List, to []string, bounce []byte, now time.Time) spool.Item {
	body := "The attached message was received as a bounce, but either its format was not\n" +
		"recognized or no failed address could be found in it. The list is set to\n" +
		"send such messages to you (forward_unrecognized_bounces_to).\n"
	msg := notice.Compose(notice.Notice{From: l.SubAddress("owner"), To: to,
		Subject: "Uncaught bounce notification", Body: body, Attach: bounce}, now)
	return moderation.OutItem(l, to, msg, now)
}
