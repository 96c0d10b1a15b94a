package handlers

import (
	"context"
	"time"

	"herald/internal/store"
)

// emptyRoster is a list with no members; roster-driven handlers get a
// real store in the post runner's tests.
type emptyRoster struct{}

func (emptyRoster) MemberRoles(context.Context, int64, string) ([]store.Member, error) {
	return nil, nil
}
func (emptyRoster) EachMember(context.Context, int64, store.Role, func(*store.Member) error) error {
	return nil
}
func (emptyRoster) IsBanned(context.Context, int64, string) (bool, error)   { return false, nil }
func (emptyRoster) PostCount(context.Context, int64, string) (int64, error) { return 0, nil }

// ledger counts in memory.
type ledger struct {
	postID    int64
	posts     map[string]int64
	responses int
}

func (l *ledger) NumberPost(_ context.Context, _ int64, email string, _ time.Time) (int64, error) {
	l.postID++
	if email != "" {
		if l.posts == nil {
			l.posts = map[string]int64{}
		}
		l.posts[email]++
	}
	return l.postID, nil
}

func (l *ledger) AllowAutoresponse(context.Context, int64, string, string, time.Time, int, time.Duration) (bool, error) {
	l.responses++
	return l.responses <= 1, nil
}
