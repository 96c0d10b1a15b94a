package maildir

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// watchEvent is a new file (in a new/ directory), a new directory, or an
// overflow of the kernel's event queue (then everything is rescanned).
type watchEvent struct {
	path     string
	dir      bool
	overflow bool
}

// watcher follows the tree with inotify: every directory down to the new/
// level is watched for created and moved-in entries.
type watcher struct {
	f      *os.File
	fd     int
	events chan watchEvent

	mu    sync.Mutex
	dirs  map[int]string // watch descriptor → directory
	known map[string]bool
}

func newWatcher(string) (*watcher, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	// A non-blocking descriptor makes the File pollable, so close wakes Read.
	w := &watcher{f: os.NewFile(uintptr(fd), "inotify"), fd: fd, events: make(chan watchEvent, 256),
		dirs: map[int]string{}, known: map[string]bool{}}
	go w.loop()
	return w, nil
}

// add watches dir once. Maildir delivery links a finished file into new/
// (IN_CREATE) or renames it there (IN_MOVED_TO).
func (w *watcher) add(dir string, _ bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.known[dir] {
		return
	}
	wd, err := syscall.InotifyAddWatch(w.fd, dir, syscall.IN_CREATE|syscall.IN_MOVED_TO|syscall.IN_ONLYDIR)
	if err != nil {
		return // the periodic scan still covers it
	}
	w.known[dir] = true
	w.dirs[wd] = dir
}

func (w *watcher) close() {
	_ = w.f.Close() // ends loop; nothing buffered to lose
}

func (w *watcher) loop() {
	defer close(w.events)
	buf := make([]byte, 64<<10)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			wd := int(int32(binary.NativeEndian.Uint32(buf[off:])))
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
			off += syscall.SizeofInotifyEvent
			if off+nameLen > n {
				break
			}
			name := string(trimNUL(buf[off : off+nameLen]))
			off += nameLen
			if mask&syscall.IN_Q_OVERFLOW != 0 {
				w.events <- watchEvent{overflow: true}
				continue
			}
			if mask&syscall.IN_IGNORED != 0 {
				w.forget(wd)
				continue
			}
			w.mu.Lock()
			dir, ok := w.dirs[wd]
			w.mu.Unlock()
			if !ok || name == "" || name[0] == '.' {
				continue
			}
			w.events <- watchEvent{path: filepath.Join(dir, name), dir: mask&syscall.IN_ISDIR != 0}
		}
	}
}

// forget drops a removed directory's watch, so it is added again if the
// directory comes back.
func (w *watcher) forget(wd int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if dir, ok := w.dirs[wd]; ok {
		delete(w.known, dir)
		delete(w.dirs, wd)
	}
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}
