package moderation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"herald/internal/store"
)

// TokenPrefix starts every held message's reply token, so the command
// runner can tell a moderator's reply from a subscription confirmation
// (both arrive at LIST-confirm+TOKEN or as "confirm TOKEN" on
// LIST-request).
const TokenPrefix = "mod"

// NewToken returns a new reply token: TokenPrefix and 128 random bits in hex.
func NewToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return TokenPrefix + hex.EncodeToString(b)
}

// IsHeldToken reports whether token has the form NewToken makes.
func IsHeldToken(token string) bool {
	hexPart, ok := strings.CutPrefix(strings.ToLower(token), TokenPrefix)
	if !ok || len(hexPart) != 32 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil
}

// ReplyAddress is where a moderator's reply about a held post goes.
func ReplyAddress(l *store.List, token string) string {
	return l.Name + "-confirm+" + token + "@" + l.Domain
}

// Decision is a moderator's decision on a held post.
type Decision string

// The decisions.
const (
	Approve Decision = "approve"
	Reject  Decision = "reject"
	Discard Decision = "discard"
)

// ParseReply reads a moderator's decision from the text of a reply to a
// hold notice: the first non-blank line that is not quoted ("> …") and not
// a "confirm TOKEN" line starts with approve (also "approved", "accept",
// "yes"), reject (the rest of the line, or the next lines up to a blank
// one, is the reason), or discard ("drop", "no"). A reply without any such
// line approves, as in Mailman; a line that is something else is not a
// decision (ok false), so a mistaken reply changes nothing.
func ParseReply(text string) (d Decision, reason string, ok bool) {
	for line := range strings.Lines(text) {
		l := strings.TrimSpace(line)
		low := strings.ToLower(l)
		if l == "" || strings.HasPrefix(l, ">") || strings.HasPrefix(low, "confirm ") {
			continue
		}
		if l == "--" || l == "-- " || strings.HasPrefix(l, "-----") {
			break // signature or quoted original
		}
		word, _, _ := strings.Cut(low, " ")
		word = strings.Trim(word, ".!:,")
		switch word {
		case "approve", "approved", "accept", "yes":
			return Approve, "", true
		case "reject", "rejected":
			_, reason, _ = strings.Cut(l, " ")
			return Reject, strings.TrimSpace(reason), true
		case "discard", "discarded", "drop", "no":
			return Discard, "", true
		}
		return "", "", false
	}
	return Approve, "", true
}

// ErrBadDecision is returned for a decision HandleModeratorReply does not know.
var ErrBadDecision = errors.New("unknown moderation decision")

// HandleModeratorReply carries out a decision that arrived by mail: the
// held post of l whose token is token is approved, rejected (the poster is
// told reason) or discarded. The token is the reply's authority: it went
// only to the list's moderators. It returns the held post decided on;
// store.ErrNotFound (wrapped) when no held post has the token (decided
// already, expired, or a wrong token).
//
// The command runner (issue 6) calls it for "confirm TOKEN" replies on
// LIST-request and for LIST-confirm+TOKEN when IsHeldToken(token), with
// the decision from ParseReply.
func (s *Service) HandleModeratorReply(ctx context.Context, l *store.List, token string, d Decision, reason string) (*store.Held, error) {
	h, err := s.store.GetHeldByToken(ctx, l.ID, token)
	if err != nil {
		return nil, fmt.Errorf("moderator reply on %s: %w", l.Address(), err)
	}
	switch d {
	case Approve:
		err = s.Approve(ctx, l, h.ID)
	case Reject:
		err = s.Reject(ctx, l, h.ID, reason)
	case Discard:
		err = s.Discard(ctx, l, h.ID)
	default:
		return nil, fmt.Errorf("moderator reply on %s: %w %q", l.Address(), ErrBadDecision, d)
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("moderator reply", "list", l.Name, "domain", l.Domain, "held", h.ID, "decision", d)
	return h, nil
}
