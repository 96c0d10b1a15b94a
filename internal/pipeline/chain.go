package pipeline

import (
	"context"
	"fmt"
)

// Action is a moderation decision.
type Action string

// The actions, with Mailman's names. Defer means "no decision here, go on".
const (
	Accept  Action = "accept"
	Hold    Action = "hold"
	Reject  Action = "reject"
	Discard Action = "discard"
	Defer   Action = "defer"
)

// ValidAction reports whether a is one of the five actions.
func ValidAction(a string) bool {
	switch Action(a) {
	case Accept, Hold, Reject, Discard, Defer:
		return true
	}
	return false
}

// Verdict is a rule's answer.
type Verdict struct {
	Hit bool
	// Action is the rule's own decision, used when its link has none
	// (the moderation rules decide per member).
	Action Action
	// Reason says why, in words a moderator and a poster can read.
	Reason string
}

// Rule is a predicate over a post.
type Rule interface {
	Name() string
	Check(ctx context.Context, m *Message) (Verdict, error)
}

// Link is one step of a chain.
type Link struct {
	Rule Rule
	// Action on a hit; "" takes the verdict's own action.
	Action Action
	// Group links are evaluated together: every hit's reason is collected,
	// and when the group ends with at least one hit the post is held with
	// all reasons (Mailman's hold chain for max-size, no-subject, …).
	Group bool
}

// Chain is an ordered list of links; a post nobody decides on is accepted.
type Chain []Link

// Decision is what a chain decided and why.
type Decision struct {
	Action  Action
	Rule    string   // the deciding rule ("" when accepted by default)
	Reasons []string // all reasons that led to it
}

// Decide runs the chain over m.
func (ch Chain) Decide(ctx context.Context, m *Message) (Decision, error) {
	var group []string
	for i, l := range ch {
		v, err := l.Rule.Check(ctx, m)
		if err != nil {
			return Decision{}, fmt.Errorf("rule %s: %w", l.Rule.Name(), err)
		}
		if l.Group {
			if v.Hit {
				group = append(group, v.Reason)
			}
			last := i == len(ch)-1 || !ch[i+1].Group
			if last && len(group) > 0 {
				return Decision{Action: Hold, Rule: l.Rule.Name(), Reasons: group}, nil
			}
			continue
		}
		if !v.Hit {
			continue
		}
		act := l.Action
		if act == "" {
			act = v.Action
		}
		if act == Defer || act == "" {
			continue
		}
		var reasons []string
		if v.Reason != "" {
			reasons = []string{v.Reason}
		}
		return Decision{Action: act, Rule: l.Rule.Name(), Reasons: reasons}, nil
	}
	return Decision{Action: Accept}, nil
}

// Handler rewrites an accepted post or computes facts about it.
type Handler interface {
	Name() string
	Handle(ctx context.Context, m *Message) error
}

// Handlers run in order; the first error stops the run.
type Handlers []Handler

// Run applies every handler to m.
func (hs Handlers) Run(ctx context.Context, m *Message) error {
	for _, h := range hs {
		if err := h.Handle(ctx, m); err != nil {
			return fmt.Errorf("handler %s: %w", h.Name(), err)
		}
	}
	return nil
}
