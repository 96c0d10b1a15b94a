package spool

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// diskErr wraps err from operation what on path. ENOSPC, EDQUOT and EIO
// also wrap ErrDiskFull, so callers answer 452/451 and retry later.
func diskErr(what, path string, err error, c *counters) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EIO) {
		c.DiskFull.Add(1)
		return fmt.Errorf("spool: %s %s: %w: %w", what, path, ErrDiskFull, err)
	}
	return fmt.Errorf("spool: %s %s: %w", what, path, err)
}

// Free space is measured at most every freeSpaceReuse while it is more
// than freeSpaceMargin above the floor (a statfs per enqueue was 3% of
// herald's CPU under load); near the floor, at every write, so that
// acceptance resumes as soon as space returns. The margin is more than
// the disk can write in that time.
const (
	freeSpaceReuse  = 50 * time.Millisecond
	freeSpaceMargin = 256 << 20
)

// checkSpace refuses a write when free space is under the configured floor.
func (s *Spool) checkSpace() error {
	if s.minFree < 0 {
		return nil
	}
	now := time.Now().UnixNano()
	if now-s.freeAt.Load() < int64(freeSpaceReuse) && s.lastFree.Load() > s.minFree+freeSpaceMargin {
		return nil
	}
	free, err := freeBytes(s.dir)
	if err != nil {
		return fmt.Errorf("spool: statfs %s: %w", s.dir, err)
	}
	s.lastFree.Store(free)
	s.freeAt.Store(now)
	if free >= 0 && free < s.minFree {
		s.metrics.DiskFull.Add(1)
		return fmt.Errorf("spool: %d bytes free in %s, need %d: %w", free, s.dir, s.minFree, ErrDiskFull)
	}
	return nil
}

// check logs a best-effort cleanup error (handled once, here).
func (s *Spool) check(err error, msg string, args ...any) {
	if err != nil {
		s.log.Warn(msg, append(args, "err", err)...)
	}
}
