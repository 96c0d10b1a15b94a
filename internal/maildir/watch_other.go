//go:build !linux

package maildir

import "errors"

// watchEvent is unused where there is no inotify.
type watchEvent struct {
	path          string
	dir, overflow bool
}

// watcher is absent off Linux: the periodic scan does the work.
type watcher struct{ events chan watchEvent }

func newWatcher(string) (*watcher, error) { return nil, errors.New("inotify is Linux-only") }

func (w *watcher) add(string, bool) {}

func (w *watcher) close() {}
