package membership

import (
	"context"
	"errors"
	"fmt"
	"time"

	"herald/internal/address"
	"herald/internal/spool"
	"herald/internal/store"
)

// Subscription is a request to join a list.
type Subscription struct {
	Email       string
	DisplayName string
	// DeliveryMode is "" or regular, mime_digests, plaintext_digests.
	DeliveryMode string
	// Source is SourceEmail, SourceWeb or SourceAdmin.
	Source string
	// PreVerified: the address is known to receive mail. PreConfirmed:
	// the subscriber need not confirm. PreApproved: no moderator needed.
	PreVerified, PreConfirmed, PreApproved bool
	// Quiet sends no welcome message and no owner notice (bulk adds).
	Quiet bool
}

// ErrBadAddress is returned for an address that cannot be subscribed.
var ErrBadAddress = errors.New("not a valid email address")

// ValidDeliveryMode reports whether mode names a delivery mode ("" is
// regular).
func ValidDeliveryMode(mode string) bool {
	switch mode {
	case "", store.ModeRegular, store.ModeMIMEDigest, store.ModePlaintextDigest:
		return true
	}
	return false
}

// Subscribe runs the subscription workflow for sub on l.
func (s *Service) Subscribe(ctx context.Context, l *store.List, sub Subscription) (Outcome, error) {
	email, err := address.Normalize(sub.Email)
	if err != nil {
		return Outcome{}, fmt.Errorf("subscribe %q to %s: %w", sub.Email, l.Address(), ErrBadAddress)
	}
	o, err := s.subscribe(ctx, l, email, sub)
	if err == nil {
		s.logOutcome(o, sub.Source)
	}
	return o, err
}

func (s *Service) subscribe(ctx context.Context, l *store.List, email string, sub Subscription) (Outcome, error) {
	o := Outcome{List: l, Email: email, Kind: store.RequestSubscribe}
	if !ValidDeliveryMode(sub.DeliveryMode) {
		return o, fmt.Errorf("subscribe %s to %s: unknown delivery mode %q", email, l.Address(), sub.DeliveryMode)
	}
	mode := sub.DeliveryMode
	if mode == "" {
		mode = store.ModeRegular
	}
	if mode != store.ModeRegular && !l.Settings.DigestsEnabled {
		o.Status = DigestsDisabled
		return o, nil
	}
	r := &store.Request{ListID: l.ID, Kind: store.RequestSubscribe, Email: email, DisplayName: sub.DisplayName,
		DeliveryMode: mode, PreApproved: sub.PreApproved, Source: sub.Source}
	if sub.PreVerified && sub.PreConfirmed && sub.PreApproved && sub.Quiet {
		return s.addDirect(ctx, l, r)
	}
	refused, err := s.refusal(ctx, l, email)
	if err != nil {
		return o, err
	}
	// An operator may add an address that bounces (nothing is mailed to
	// it); a ban stops everyone.
	if refused == Banned || refused != "" && sub.Source != SourceAdmin {
		o.Status = refused
		return o, nil
	}
	if m, err := s.member(ctx, l, email); err != nil || m != nil {
		o.Status, o.Member = AlreadyMember, m
		return o, err
	}
	if p, err := s.pending(ctx, l, email); err != nil || p != nil {
		if err != nil {
			return o, err
		}
		return s.repeat(ctx, l, p, store.RequestSubscribe, sub.Source)
	}
	verified, err := s.verified(ctx, email)
	if err != nil {
		return o, err
	}
	policy := l.Settings.SubscriptionPolicy
	needConfirm := !sub.PreVerified && !verified ||
		!sub.PreConfirmed && (policy == "confirm" || policy == "confirm_then_moderate")
	needModerate := !sub.PreApproved && (policy == "moderate" || policy == "confirm_then_moderate")
	switch {
	case needConfirm:
		return s.startConfirm(ctx, l, r, sub.Source)
	case needModerate:
		return s.startModerate(ctx, l, r)
	}
	if sub.PreVerified && !verified {
		if err := s.st.SetAddressVerified(ctx, email, s.now()); err != nil {
			return o, fmt.Errorf("subscribe %s: %w", email, err)
		}
	}
	return s.join(ctx, l, r, sub.Quiet, refused == "")
}

// addDirect is an operator's quiet add with every pre-flag (Mailman's
// addmembers): the ban check and the insert, nothing else, so bulk adds
// cost two queries per address.
func (s *Service) addDirect(ctx context.Context, l *store.List, r *store.Request) (Outcome, error) {
	o := Outcome{List: l, Email: r.Email, Kind: store.RequestSubscribe}
	banned, err := s.st.IsBanned(ctx, l.ID, r.Email)
	if err != nil {
		return o, fmt.Errorf("ban check of %s on %s: %w", r.Email, l.Address(), err)
	}
	if banned {
		o.Status = Banned
		return o, nil
	}
	return s.join(ctx, l, r, true, false)
}

// verified reports whether email ever proved it receives mail.
func (s *Service) verified(ctx context.Context, email string) (bool, error) {
	a, err := s.st.GetAddress(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("address %s: %w", email, err)
	}
	return !a.Verified.IsZero(), nil
}

// Invite sends email an invitation to l: accepting it (the confirmation
// token) subscribes without moderation.
func (s *Service) Invite(ctx context.Context, l *store.List, email string) (Outcome, error) {
	email, err := address.Normalize(email)
	if err != nil {
		return Outcome{}, fmt.Errorf("invite %q to %s: %w", email, l.Address(), ErrBadAddress)
	}
	o := Outcome{List: l, Email: email, Kind: store.RequestSubscribe}
	if o.Status, err = s.refusal(ctx, l, email); err != nil || o.Status != "" {
		return o, err
	}
	if m, err := s.member(ctx, l, email); err != nil || m != nil {
		o.Status, o.Member = AlreadyMember, m
		return o, err
	}
	if p, err := s.pending(ctx, l, email); err != nil || p != nil {
		o.Status, o.Request = AlreadyPending, p
		return o, err
	}
	r := &store.Request{ListID: l.ID, Kind: store.RequestSubscribe, Email: email, DeliveryMode: store.ModeRegular,
		Invited: true, PreApproved: true, Source: SourceAdmin}
	o, err = s.startConfirm(ctx, l, r, SourceAdmin)
	if err == nil {
		if o.Status == ConfirmationSent {
			o.Status = Invited
		}
		s.logOutcome(o, SourceAdmin)
	}
	return o, err
}

// startConfirm stores r waiting for confirmation and returns the
// confirmation mail. Unauthenticated sources are charged to the quotas,
// after the request is stored: of concurrent requests for one address
// only the one that stored its request is charged, and an uncharged
// request is removed again.
func (s *Service) startConfirm(ctx context.Context, l *store.List, r *store.Request, source string) (Outcome, error) {
	o := Outcome{List: l, Email: r.Email, Kind: r.Kind}
	if source != SourceAdmin { // under attack, most requests stop here, without a write
		ok, err := s.st.QuotasAvailable(ctx, s.now(), s.confirmQuotas(l))
		if err != nil || !ok {
			o.Status = RateLimited
			return o, err
		}
	}
	now := s.now()
	token := NewToken()
	r.State, r.TokenHash, r.Created, r.Sent, r.Expires = store.StateConfirm, HashToken(token), now, now, now.Add(s.opts.PendingLife)
	if err := s.st.AddRequest(ctx, r); err != nil {
		if errors.Is(err, store.ErrConflict) { // a concurrent request won
			o.Status = AlreadyPending
			return o, nil
		}
		return o, fmt.Errorf("%s request of %s on %s: %w", r.Kind, r.Email, l.Address(), err)
	}
	if source != SourceAdmin {
		ok, err := s.chargeConfirm(ctx, l)
		if err != nil || !ok {
			if derr := s.consume(ctx, l, r, r.TokenHash); derr != nil {
				err = errors.Join(err, derr)
			}
			o.Status = RateLimited
			return o, err
		}
	}
	o.Status, o.Request, o.Answered = ConfirmationSent, r, true
	o.Mail = append(o.Mail, s.confirmMail(l, r, token))
	return o, nil
}

// startModerate stores r waiting for a moderator and tells the staff.
func (s *Service) startModerate(ctx context.Context, l *store.List, r *store.Request) (Outcome, error) {
	o := Outcome{List: l, Email: r.Email, Kind: r.Kind}
	r.State, r.TokenHash, r.Created, r.Expires = store.StateModerate, "", s.now(), time.Time{}
	if err := s.st.AddRequest(ctx, r); err != nil {
		if errors.Is(err, store.ErrConflict) {
			o.Status = AlreadyPending
			return o, nil
		}
		return o, fmt.Errorf("%s request of %s on %s: %w", r.Kind, r.Email, l.Address(), err)
	}
	o.Status, o.Request = AwaitingModerator, r
	mail, err := s.moderatorNotice(ctx, l, r)
	o.Mail = mail
	return o, err
}

// repeat answers a request while p is pending: nothing new, except that a
// confirmation sent long enough ago is sent again with a new token (the
// first mail may have been lost), within the quotas.
func (s *Service) repeat(ctx context.Context, l *store.List, p *store.Request, kind store.RequestKind, source string) (Outcome, error) {
	o := Outcome{List: l, Email: p.Email, Kind: p.Kind, Status: AlreadyPending, Request: p}
	if p.Kind != kind || p.State != store.StateConfirm || s.now().Sub(p.Sent) < s.opts.ResendAfter {
		return o, nil
	}
	if source != SourceAdmin {
		ok, err := s.chargeConfirm(ctx, l)
		if err != nil || !ok {
			return o, err
		}
	}
	now := s.now()
	token := NewToken()
	next := *p
	next.TokenHash, next.Sent, next.Expires = HashToken(token), now, now.Add(s.opts.PendingLife)
	if err := s.st.UpdateRequest(ctx, &next, p.State, p.TokenHash); err != nil {
		if errors.Is(err, store.ErrNotFound) { // confirmed or resent meanwhile
			return o, nil
		}
		return o, fmt.Errorf("resend confirmation to %s on %s: %w", p.Email, l.Address(), err)
	}
	o.Status, o.Request, o.Answered = ConfirmationSent, &next, true
	o.Mail = []spool.Item{s.confirmMail(l, &next, token)}
	return o, nil
}

// join adds the member, with the welcome message (when the address may
// get mail) and the owner notice, unless quiet.
func (s *Service) join(ctx context.Context, l *store.List, r *store.Request, quiet, mailable bool) (Outcome, error) {
	o := Outcome{List: l, Email: r.Email, Kind: store.RequestSubscribe}
	m := store.DefaultMember(l.ID, r.Email, store.RoleMember)
	m.DisplayName, m.DeliveryMode = r.DisplayName, r.DeliveryMode
	if m.DeliveryMode == "" {
		m.DeliveryMode = store.ModeRegular
	}
	if err := s.st.AddMember(ctx, &m); err != nil {
		if errors.Is(err, store.ErrConflict) {
			o.Status = AlreadyMember
			return o, nil
		}
		return o, fmt.Errorf("subscribe %s to %s: %w", r.Email, l.Address(), err)
	}
	o.Status, o.Member = Subscribed, &m
	if quiet {
		return o, nil
	}
	if l.Settings.SendWelcomeMessage && mailable {
		o.Mail, o.Answered = append(o.Mail, s.welcomeMail(l, &m)), true
	}
	notes, err := s.changeNotice(ctx, l, r.Email, store.RequestSubscribe)
	o.Mail = append(o.Mail, notes...)
	return o, err
}
