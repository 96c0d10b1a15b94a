package spool

import (
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
)

// watch starts an inotify watch on kick/. Events queue in the kernel from
// here on; the loop that consumes them runs once Open has built the index.
func (r *kickReader) watch() error {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return fmt.Errorf("inotify init: %w", err)
	}
	const mask = syscall.IN_CREATE | syscall.IN_MODIFY | syscall.IN_MOVED_TO | syscall.IN_DELETE
	if _, err := syscall.InotifyAddWatch(fd, r.dir, mask); err != nil {
		_ = syscall.Close(fd)
		return fmt.Errorf("inotify watch %s: %w", r.dir, err)
	}
	// A non-blocking descriptor makes the File pollable, so Close wakes a
	// pending Read.
	f := os.NewFile(uintptr(fd), "inotify")
	r.stop = f.Close
	r.run = func() { r.loop(f) }
	return nil
}

func (r *kickReader) loop(f *os.File) {
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		if err != nil {
			return // closed
		}
		var names []string
		var gone []string
		seen := map[string]bool{}
		overflow := false
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
			off += syscall.SizeofInotifyEvent
			if off+nameLen > n {
				break
			}
			name := string(trimNUL(buf[off : off+nameLen]))
			off += nameLen
			switch {
			case mask&syscall.IN_Q_OVERFLOW != 0:
				overflow = true
			case name == "":
			case mask&syscall.IN_DELETE != 0:
				gone = append(gone, name)
			case !seen[name]:
				seen[name] = true
				names = append(names, name)
			}
		}
		if overflow {
			r.drainAll()
			continue
		}
		for _, name := range names {
			r.drain(name)
		}
		for _, name := range gone {
			r.forget(name)
		}
	}
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}
