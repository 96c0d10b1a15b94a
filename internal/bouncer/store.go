package bouncer

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"herald/internal/spool"
	"herald/internal/store"
)

// Store is what bounce handling needs from the store.
type Store interface {
	GetList(ctx context.Context, name, domain string) (*store.List, error)
	GetListByID(ctx context.Context, id int64) (*store.List, error)
	GetMember(ctx context.Context, listID int64, email string, role store.Role) (*store.Member, error)
	EachMember(ctx context.Context, listID int64, role store.Role, fn func(*store.Member) error) error
	CountMembers(ctx context.Context, listID int64, role store.Role) (int, error)
	RemoveMember(ctx context.Context, listID int64, email string, role store.Role) error
	store.BounceEvents
	store.BounceScores
}

// Spool is where the messages bounce handling writes go (the out queue).
type Spool interface {
	EnqueueAll(ctx context.Context, items []spool.Item) ([]string, error)
}

// FileClock returns a clock that reads the time from the file at path
// (RFC 3339, re-read at every call): the [bounces] testing_clock hook that
// lets tests move days ahead. When the file cannot be read or parsed it
// logs why and returns the real time.
func FileClock(path string, log *slog.Logger) func() time.Time {
	if log == nil {
		log = slog.Default()
	}
	return func() time.Time {
		t, err := readClock(path)
		if err != nil {
			log.Warn("testing clock unusable, using the real time", "err", err)
			return time.Now()
		}
		return t
	}
}

func readClock(path string) (time.Time, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, fmt.Errorf("testing clock: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
	if err != nil {
		return time.Time{}, fmt.Errorf("testing clock %s: %w", path, err)
	}
	return t, nil
}
