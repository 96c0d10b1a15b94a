package rules

import (
	"context"
	"fmt"

	"herald/internal/pipeline"
	"herald/internal/store"
)

// MemberModeration decides for posts from members (and owners and
// moderators): the member's own moderation action, else the list's
// default_member_action.
type MemberModeration struct{}

// Name is the rule's name.
func (MemberModeration) Name() string { return "member-moderation" }

// Check finds the poster on the roster.
func (MemberModeration) Check(ctx context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	mem, err := posterRole(ctx, m, store.RoleMember, store.RoleOwner, store.RoleModerator)
	if err != nil || mem == nil {
		return pipeline.Verdict{}, err
	}
	act := mem.ModerationAction
	if act == "" {
		act = m.List.Settings.DefaultMemberAction
	}
	return pipeline.Verdict{Hit: true, Action: pipeline.Action(act),
		Reason: fmt.Sprintf("the list's moderation rules for member %s", mem.Email)}, nil
}

// NonmemberModeration decides for everyone else: a registered nonmember's
// own action, else the list's default_nonmember_action.
type NonmemberModeration struct{}

// Name is the rule's name.
func (NonmemberModeration) Name() string { return "nonmember-moderation" }

// Check hits for every poster that is not a member.
func (NonmemberModeration) Check(ctx context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	mem, err := posterRole(ctx, m, store.RoleMember, store.RoleOwner, store.RoleModerator)
	if err != nil || mem != nil {
		return pipeline.Verdict{}, err
	}
	act := m.List.Settings.DefaultNonmemberAction
	if non, err := posterRole(ctx, m, store.RoleNonmember); err != nil {
		return pipeline.Verdict{}, err
	} else if non != nil && non.ModerationAction != "" {
		act = non.ModerationAction
	}
	if act == string(pipeline.Defer) {
		act = string(pipeline.Hold)
	}
	return pipeline.Verdict{Hit: true, Action: pipeline.Action(act),
		Reason: fmt.Sprintf("the message is not from a list member (%s)", m.Sender)}, nil
}

// posterRole returns the first of the post's sender identities that has
// one of roles on the list, and sets m.Sender to it.
func posterRole(ctx context.Context, m *pipeline.Message, roles ...store.Role) (*store.Member, error) {
	for _, addr := range m.Senders {
		ms, err := m.Roster.MemberRoles(ctx, m.List.ID, addr)
		if err != nil {
			return nil, fmt.Errorf("roles of %s: %w", addr, err)
		}
		for _, role := range roles {
			for i := range ms {
				if ms[i].Role == role {
					m.Sender = addr
					return &ms[i], nil
				}
			}
		}
	}
	return nil, nil
}
