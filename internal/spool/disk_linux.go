package spool

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// freeBytes returns the bytes available to unprivileged users in dir's
// file system.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// syncfsAvailable: Linux has syncfs(2), and reports writeback errors
// through it since 5.8.
const syncfsAvailable = true

// syncfs flushes the file system that holds f.
func syncfs(f *os.File) error {
	return unix.Syncfs(int(f.Fd()))
}
