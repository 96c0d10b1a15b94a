package membership

import (
	"context"
	"errors"
	"fmt"
	"time"

	"herald/internal/store"
)

// Confirm uses a confirmation token. l, when not nil, is the list the
// token was sent to (LIST-confirm+TOKEN, or a command on LIST-request): a
// token of another list is refused. An unknown, used or expired token
// gives BadToken.
func (s *Service) Confirm(ctx context.Context, l *store.List, token string) (Outcome, error) {
	o := Outcome{List: l, Status: BadToken}
	if !ValidToken(token) {
		return o, nil
	}
	hash := HashToken(token)
	r, err := s.st.RequestByToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return o, nil
	}
	if err != nil {
		return o, fmt.Errorf("confirm: %w", err)
	}
	if l != nil && r.ListID != l.ID || r.State != store.StateConfirm {
		return o, nil
	}
	if l == nil {
		if l, err = s.st.GetListByID(ctx, r.ListID); err != nil {
			return o, fmt.Errorf("confirm: list of request %d: %w", r.ID, err)
		}
		o.List = l
	}
	o.Email, o.Kind = r.Email, r.Kind
	if s.expired(r) {
		if err := s.st.DeleteRequest(ctx, l.ID, r.ID, r.State, hash); err != nil && !errors.Is(err, store.ErrNotFound) {
			return o, fmt.Errorf("confirm: drop expired request %d: %w", r.ID, err)
		}
		return o, nil
	}
	if r.Kind == store.RequestSubscribe {
		o, err = s.confirmJoin(ctx, l, r, hash)
	} else {
		o, err = s.confirmLeave(ctx, l, r, hash)
	}
	if err == nil {
		s.logOutcome(o, "confirm")
	}
	return o, err
}

// confirmJoin continues a subscription after its confirmation: the
// address is now verified; a moderator comes next or it is done.
func (s *Service) confirmJoin(ctx context.Context, l *store.List, r *store.Request, hash string) (Outcome, error) {
	o := Outcome{List: l, Email: r.Email, Kind: r.Kind}
	refused, err := s.refusal(ctx, l, r.Email)
	if err != nil {
		return o, err
	}
	if refused == Banned { // banned since the request
		return s.drop(ctx, l, r, hash, Banned)
	}
	if err := s.st.SetAddressVerified(ctx, r.Email, s.now()); err != nil {
		return o, fmt.Errorf("confirm %s: %w", r.Email, err)
	}
	policy := l.Settings.SubscriptionPolicy
	if !r.PreApproved && !r.Invited && (policy == "moderate" || policy == "confirm_then_moderate") {
		return s.toModerator(ctx, l, r, hash)
	}
	o, err = s.join(ctx, l, r, false, refused == "")
	if err != nil {
		return o, err
	}
	return o, s.consume(ctx, l, r, hash)
}

// confirmLeave continues an unsubscription after its confirmation.
func (s *Service) confirmLeave(ctx context.Context, l *store.List, r *store.Request, hash string) (Outcome, error) {
	if !r.PreApproved && l.Settings.UnsubscriptionPolicy == "moderate" {
		return s.toModerator(ctx, l, r, hash)
	}
	refused, err := s.refusal(ctx, l, r.Email)
	if err != nil {
		return Outcome{List: l, Email: r.Email, Kind: r.Kind}, err
	}
	o, err := s.leave(ctx, l, r.Email, false, refused == "")
	if err != nil {
		return o, err
	}
	return o, s.consume(ctx, l, r, hash)
}

// toModerator moves a confirmed request on to the moderators; the token
// is used up by the same compare-and-swap.
func (s *Service) toModerator(ctx context.Context, l *store.List, r *store.Request, hash string) (Outcome, error) {
	o := Outcome{List: l, Email: r.Email, Kind: r.Kind, Status: BadToken}
	next := *r
	next.State, next.TokenHash, next.Expires = store.StateModerate, "", time.Time{}
	if err := s.st.UpdateRequest(ctx, &next, store.StateConfirm, hash); err != nil {
		if errors.Is(err, store.ErrNotFound) { // used concurrently
			return o, nil
		}
		return o, fmt.Errorf("confirm request %d on %s: %w", r.ID, l.Address(), err)
	}
	o.Status, o.Request = AwaitingModerator, &next
	mail, err := s.moderatorNotice(ctx, l, &next)
	o.Mail = mail
	return o, err
}

// consume removes a request that has been carried out. Losing a race
// here is fine: whoever won carried out the same request.
func (s *Service) consume(ctx context.Context, l *store.List, r *store.Request, hash string) error {
	err := s.st.DeleteRequest(ctx, l.ID, r.ID, r.State, hash)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("finish request %d on %s: %w", r.ID, l.Address(), err)
	}
	return nil
}

// drop removes a request that can no longer succeed and reports st.
func (s *Service) drop(ctx context.Context, l *store.List, r *store.Request, hash string, st Status) (Outcome, error) {
	o := Outcome{List: l, Email: r.Email, Kind: r.Kind, Status: st}
	return o, s.consume(ctx, l, r, hash)
}

// ErrNotWaiting is returned by Approve for a request that waits for its
// subscriber's confirmation, not for a moderator.
var ErrNotWaiting = errors.New("request waits for the subscriber's confirmation, not for a moderator")

// Approve carries out a request that waits for a moderator.
func (s *Service) Approve(ctx context.Context, l *store.List, id int64) (Outcome, error) {
	r, err := s.st.GetRequest(ctx, l.ID, id)
	if err != nil {
		return Outcome{}, fmt.Errorf("approve request %d on %s: %w", id, l.Address(), err)
	}
	if r.State != store.StateModerate {
		return Outcome{}, fmt.Errorf("approve request %d on %s: %w", id, l.Address(), ErrNotWaiting)
	}
	refused, err := s.refusal(ctx, l, r.Email)
	if err != nil {
		return Outcome{}, err
	}
	var o Outcome
	switch {
	case r.Kind == store.RequestSubscribe && refused == Banned:
		return s.drop(ctx, l, r, "", Banned)
	case r.Kind == store.RequestSubscribe:
		o, err = s.join(ctx, l, r, false, refused == "")
	default:
		o, err = s.leave(ctx, l, r.Email, false, refused == "")
	}
	if err != nil {
		return o, err
	}
	s.logOutcome(o, SourceAdmin)
	return o, s.consume(ctx, l, r, "")
}

// Reject refuses a pending request, telling the requester why.
func (s *Service) Reject(ctx context.Context, l *store.List, id int64, reason string) (Outcome, error) {
	return s.decline(ctx, l, id, reason, true)
}

// Discard drops a pending request without telling anyone.
func (s *Service) Discard(ctx context.Context, l *store.List, id int64) (Outcome, error) {
	return s.decline(ctx, l, id, "", false)
}

func (s *Service) decline(ctx context.Context, l *store.List, id int64, reason string, tell bool) (Outcome, error) {
	r, err := s.st.GetRequest(ctx, l.ID, id)
	if err != nil {
		return Outcome{}, fmt.Errorf("decline request %d on %s: %w", id, l.Address(), err)
	}
	o := Outcome{List: l, Email: r.Email, Kind: r.Kind, Status: Discarded}
	if err := s.st.DeleteRequest(ctx, l.ID, r.ID, r.State, r.TokenHash); err != nil {
		return o, fmt.Errorf("decline request %d on %s: %w", id, l.Address(), err)
	}
	if tell {
		o.Status = Rejected
		refused, err := s.refusal(ctx, l, r.Email)
		if err != nil {
			return o, err
		}
		if refused == "" {
			o.Mail = append(o.Mail, s.rejectMail(l, r, reason))
		}
	}
	s.logOutcome(o, SourceAdmin)
	return o, nil
}

// Requests returns the list's pending requests, oldest first, expired
// ones left out.
func (s *Service) Requests(ctx context.Context, l *store.List) ([]store.Request, error) {
	all, err := s.st.ListRequests(ctx, l.ID)
	if err != nil {
		return nil, fmt.Errorf("requests of %s: %w", l.Address(), err)
	}
	out := all[:0]
	for _, r := range all {
		if !s.expired(&r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// PeekToken returns the pending request a confirmation token belongs to
// and its list, without using the token (for a page that asks before it
// confirms). store.ErrNotFound for an unknown, used or expired token.
func (s *Service) PeekToken(ctx context.Context, token string) (*store.Request, *store.List, error) {
	if !ValidToken(token) {
		return nil, nil, fmt.Errorf("peek token: %w", store.ErrNotFound)
	}
	r, err := s.st.RequestByToken(ctx, HashToken(token))
	if err == nil && (r.State != store.StateConfirm || s.expired(r)) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("peek token: %w", err)
	}
	l, err := s.st.GetListByID(ctx, r.ListID)
	if err != nil {
		return nil, nil, fmt.Errorf("peek token: list of request %d: %w", r.ID, err)
	}
	return r, l, nil
}
