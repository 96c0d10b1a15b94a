package spool

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Owner liveness. Every Spool instance holds an exclusive flock(2) on
// locks/<owner> for as long as it is open. flock locks belong to the open
// file description, so they die with the process (even on kill -9) and two
// instances in one process exclude each other just like two processes do.
// Another instance tells a dead owner from a live one by trying the lock.

// lockFile opens path (creating it) and takes an exclusive flock on it.
// With wait unset it fails with errLocked when someone else holds it.
func lockFile(path string, create, wait bool) (*os.File, error) {
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flags, fileMode)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, fmt.Errorf("flock %s: %w", path, err)
	}
	return f, nil
}

var errLocked = errors.New("locked by a live owner")
