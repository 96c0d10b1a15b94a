package membership

import (
	"context"
	"errors"
	"fmt"

	"herald/internal/address"
	"herald/internal/store"
)

// Unsubscription is a request to leave a list.
type Unsubscription struct {
	Email string
	// Source is SourceEmail, SourceWeb or SourceAdmin.
	Source string
	// PreConfirmed: the member need not confirm. PreApproved: no
	// moderator needed.
	PreConfirmed, PreApproved bool
	// AlwaysConfirm asks the member to confirm whatever the policy: the
	// web form, where anyone can type any address, sets it.
	AlwaysConfirm bool
	// Quiet sends no goodbye message and no owner notice.
	Quiet bool
}

// Unsubscribe runs the unsubscription workflow for u on l.
func (s *Service) Unsubscribe(ctx context.Context, l *store.List, u Unsubscription) (Outcome, error) {
	email, err := address.Normalize(u.Email)
	if err != nil {
		return Outcome{}, fmt.Errorf("unsubscribe %q from %s: %w", u.Email, l.Address(), ErrBadAddress)
	}
	o, err := s.unsubscribe(ctx, l, email, u)
	if err == nil {
		s.logOutcome(o, u.Source)
	}
	return o, err
}

func (s *Service) unsubscribe(ctx context.Context, l *store.List, email string, u Unsubscription) (Outcome, error) {
	o := Outcome{List: l, Email: email, Kind: store.RequestUnsubscribe}
	m, err := s.member(ctx, l, email)
	if err != nil || m == nil {
		o.Status = NotMember
		return o, err
	}
	if p, err := s.pending(ctx, l, email); err != nil || p != nil {
		if err != nil {
			return o, err
		}
		return s.repeat(ctx, l, p, store.RequestUnsubscribe, u.Source)
	}
	policy := l.Settings.UnsubscriptionPolicy
	needConfirm := !u.PreConfirmed && (policy == "confirm" || u.AlwaysConfirm)
	needModerate := !u.PreApproved && policy == "moderate"
	refused, err := s.refusal(ctx, l, email)
	if err != nil {
		return o, err
	}
	r := &store.Request{ListID: l.ID, Kind: store.RequestUnsubscribe, Email: email, PreApproved: u.PreApproved,
		Source: u.Source}
	switch {
	case needConfirm && refused != "":
		o.Status = refused // no confirmation mail may go there
		return o, nil
	case needConfirm:
		return s.startConfirm(ctx, l, r, u.Source)
	case needModerate:
		return s.startModerate(ctx, l, r)
	}
	return s.leave(ctx, l, email, u.Quiet, refused == "")
}

// leave removes the member, with the goodbye message (when the address
// may get mail) and the owner notice, unless quiet. The member's one-click
// token dies with the membership.
func (s *Service) leave(ctx context.Context, l *store.List, email string, quiet, mailable bool) (Outcome, error) {
	o := Outcome{List: l, Email: email, Kind: store.RequestUnsubscribe}
	if err := s.st.RemoveMember(ctx, l.ID, email, store.RoleMember); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			o.Status = NotMember
			return o, nil
		}
		return o, fmt.Errorf("unsubscribe %s from %s: %w", email, l.Address(), err)
	}
	o.Status = Unsubscribed
	if quiet {
		return o, nil
	}
	if l.Settings.SendGoodbyeMessage && mailable {
		o.Mail, o.Answered = append(o.Mail, s.goodbyeMail(l, email)), true
	}
	notes, err := s.changeNotice(ctx, l, email, store.RequestUnsubscribe)
	o.Mail = append(o.Mail, notes...)
	return o, err
}

// MemberForToken returns the member whose one-click token is token and
// the list; store.ErrNotFound when there is none (never was, or left).
func (s *Service) MemberForToken(ctx context.Context, token string) (*store.Member, *store.List, error) {
	m, err := s.st.MemberByToken(ctx, token)
	if err == nil && m.Role != store.RoleMember {
		err = fmt.Errorf("token of a %s: %w", m.Role, store.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("one-click token: %w", err)
	}
	l, err := s.st.GetListByID(ctx, m.ListID)
	if err != nil {
		return nil, nil, fmt.Errorf("list of one-click token: %w", err)
	}
	return m, l, nil
}

// OneClick unsubscribes the member whose one-click token is token at
// once, whatever the list's policy: RFC 8058 §3.2 wants the POST alone to
// unsubscribe, and the token, sent only to the member, proves who asks.
// An unknown token gives BadToken.
func (s *Service) OneClick(ctx context.Context, token string) (Outcome, error) {
	m, l, err := s.MemberForToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return Outcome{Status: BadToken, Kind: store.RequestUnsubscribe}, nil
	}
	if err != nil {
		return Outcome{}, err
	}
	refused, err := s.refusal(ctx, l, m.Email)
	if err != nil {
		return Outcome{}, err
	}
	o, err := s.leave(ctx, l, m.Email, false, refused == "")
	if err == nil {
		s.logOutcome(o, "one-click")
	}
	return o, err
}
