package rules

import (
	"context"
	"fmt"

	"herald/internal/pipeline"
	"herald/internal/store"
)

// Poster is what the roster says about a post's sender.
type Poster struct {
	Email string
	// Privileged is the owner or moderator row, if any.
	Privileged *store.Member
	// Member is the member row, if any.
	Member *store.Member
	// Nonmember is the registered nonmember row, if any.
	Nonmember *store.Member
}

// findPoster returns the roster facts of the first identity of the post
// that has any role on the list (nil when none has), and sets m.Sender to
// it.
func findPoster(ctx context.Context, m *pipeline.Message) (*Poster, error) {
	for _, addr := range m.Senders {
		ms, err := m.Roles(ctx, addr)
		if err != nil {
			return nil, fmt.Errorf("roles of %s: %w", addr, err)
		}
		if len(ms) == 0 {
			continue
		}
		p := &Poster{Email: addr}
		for i := range ms {
			switch ms[i].Role {
			case store.RoleOwner, store.RoleModerator:
				if p.Privileged == nil || p.Privileged.ModerationAction == "" {
					p.Privileged = &ms[i]
				}
			case store.RoleMember:
				p.Member = &ms[i]
			case store.RoleNonmember:
				p.Nonmember = &ms[i]
			}
		}
		if p.Privileged == nil && p.Member == nil && p.Nonmember != nil {
			continue // a later identity may be a member
		}
		m.Sender = addr
		return p, nil
	}
	return nil, nil
}

// MemberModeration decides for posts from members, owners and moderators.
// An owner or moderator is never held for being a member: their own
// explicit action applies, else none (defer), so they post even on an
// announce list whose members are all held. A member's own moderation
// action applies, else the list's default_member_action. Defer lets the
// remaining rules decide (Mailman's semantics); accept skips them.
type MemberModeration struct{}

// Name is the rule's name.
func (MemberModeration) Name() string { return "member-moderation" }

// Check finds the poster on the roster.
func (MemberModeration) Check(ctx context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	p, err := findPoster(ctx, m)
	if err != nil || p == nil {
		return pipeline.Verdict{}, err
	}
	var act, who string
	switch {
	case p.Privileged != nil:
		act, who = p.Privileged.ModerationAction, string(p.Privileged.Role)
		if act == "" {
			act = string(pipeline.Defer)
		}
	case p.Member != nil:
		act, who = p.Member.ModerationAction, "member"
		if act == "" {
			act = m.List.Settings.DefaultMemberAction
		}
	default:
		return pipeline.Verdict{}, nil
	}
	return pipeline.Verdict{Hit: true, Action: pipeline.Action(act),
		Reason: fmt.Sprintf("posts from %s %s are moderated (%s)", who, p.Email, act)}, nil
}

// NonmemberModeration decides for everyone else: a registered nonmember's
// own action, else the list's default_nonmember_action. Defer lets the
// remaining rules decide, as in Mailman. A poster without any role is
// noted in Meta (MetaNonmember) so the post runner registers it.
type NonmemberModeration struct{}

// Name is the rule's name.
func (NonmemberModeration) Name() string { return "nonmember-moderation" }

// Check hits for every poster that is not a member, owner or moderator.
func (NonmemberModeration) Check(ctx context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	p, err := findPoster(ctx, m)
	if err != nil {
		return pipeline.Verdict{}, err
	}
	if p != nil && (p.Privileged != nil || p.Member != nil) {
		return pipeline.Verdict{}, nil
	}
	act := m.List.Settings.DefaultNonmemberAction
	if p == nil && len(m.Senders) > 0 {
		// Registered nonmembers come first in findPoster; none was found.
		if non, err := nonmemberRow(ctx, m); err != nil {
			return pipeline.Verdict{}, err
		} else if non != nil {
			p = &Poster{Email: non.Email, Nonmember: non}
		} else {
			m.SetMeta(pipeline.MetaNonmember, m.Senders[0])
		}
	}
	if p != nil && p.Nonmember != nil && p.Nonmember.ModerationAction != "" {
		act = p.Nonmember.ModerationAction
	}
	return pipeline.Verdict{Hit: true, Action: pipeline.Action(act),
		Reason: fmt.Sprintf("the message is not from a list member (%s)", m.Sender)}, nil
}

// nonmemberRow returns the first sender identity registered as a
// nonmember, setting m.Sender to it.
func nonmemberRow(ctx context.Context, m *pipeline.Message) (*store.Member, error) {
	for _, addr := range m.Senders {
		ms, err := m.Roles(ctx, addr)
		if err != nil {
			return nil, fmt.Errorf("roles of %s: %w", addr, err)
		}
		for i := range ms {
			if ms[i].Role == store.RoleNonmember {
				m.Sender = addr
				return &ms[i], nil
			}
		}
	}
	return nil, nil
}

// NewMemberModeration holds a member's first moderate_first_posts posts
// (counted per address in the store, so leaving and rejoining does not
// reset the count). Members with an explicit moderation action, owners and
// moderators are exempt.
type NewMemberModeration struct{}

// Name is the rule's name.
func (NewMemberModeration) Name() string { return "new-member-moderation" }

// Check compares the poster's post count with the setting.
func (NewMemberModeration) Check(ctx context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	n := m.List.Settings.ModerateFirstPosts
	if n <= 0 {
		return pipeline.Verdict{}, nil
	}
	p, err := findPoster(ctx, m)
	if err != nil || p == nil || p.Member == nil || p.Privileged != nil || p.Member.ModerationAction != "" {
		return pipeline.Verdict{}, err
	}
	count, err := m.Roster.PostCount(ctx, m.List.ID, p.Email)
	if err != nil {
		return pipeline.Verdict{}, fmt.Errorf("post count of %s: %w", p.Email, err)
	}
	if count >= int64(n) {
		return pipeline.Verdict{}, nil
	}
	return pipeline.Verdict{Hit: true, Reason: fmt.Sprintf(
		"a new member's first %d posts are moderated; this is post %d of %s", n, count+1, p.Email)}, nil
}
