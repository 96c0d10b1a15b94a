//go:build !linux

package spool

import "time"

// watch polls kick/ every 250 ms where inotify is not available.
func (r *kickReader) watch() error {
	done := make(chan struct{})
	r.stop = func() error { close(done); return nil }
	r.run = func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.drainAll()
			}
		}
	}
	return nil
}
