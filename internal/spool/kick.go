package spool

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cross-process wakeup. After each group commit an instance appends one
// line per entry it made ready ("+ queue id due") or removed ("- id") to its
// own kick journal, kick/<owner>.<gen>, with a single unsynced write. Every
// other instance watches kick/ (inotify on Linux, a 250 ms poll elsewhere),
// reads the new bytes of each journal from the offset it had reached, and
// applies the lines to its index, which wakes its claimers. So an entry the
// CLI puts in `in` reaches serve's runners within a scheduling delay, and no
// instance ever lists a queue directory after Open.
//
// A journal rotates at kickRotate bytes; the writer removes the generation
// before the previous one. A reader that finds it skipped a generation, or
// that the kernel's event queue overflowed, rescans the queue directories
// once. Journals are left in place at Close so that a short-lived process's
// lines are still there for slower readers; Open removes the journals of
// dead owners older than kickKeep.
const (
	kickRotate = 1 << 20
	kickKeep   = time.Minute
)

// kickWriter appends to this instance's kick journal, for the committer
// and the write-ahead journal's checkpoints.
type kickWriter struct {
	dir, owner string
	mu         sync.Mutex
	f          *os.File
	gen        int
	size       int64
}

func (w *kickWriter) name(gen int) string {
	return filepath.Join(w.dir, fmt.Sprintf("%s.%06d", w.owner, gen))
}

func (w *kickWriter) write(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil && w.size+int64(len(b)) > kickRotate {
		if err := w.f.Close(); err != nil {
			return fmt.Errorf("close kick journal: %w", err)
		}
		w.f = nil
		if w.gen >= 1 {
			if err := os.Remove(w.name(w.gen - 1)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove kick journal: %w", err)
			}
		}
		w.gen++
		w.size = 0
	}
	if w.f == nil {
		f, err := os.OpenFile(w.name(w.gen), os.O_WRONLY|os.O_CREATE|os.O_APPEND, fileMode)
		if err != nil {
			return fmt.Errorf("open kick journal: %w", err)
		}
		w.f = f
	}
	n, err := w.f.Write(b)
	w.size += int64(n)
	if err != nil {
		return fmt.Errorf("write kick journal: %w", err)
	}
	return nil
}

func (w *kickWriter) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close kick journal: %w", err)
	}
	return nil
}

// kickReader follows the other instances' journals.
type kickReader struct {
	s     *Spool
	dir   string
	files map[string]*kickFile // by file name
	gens  map[string]int       // owner -> highest generation seen
	stop  func() error         // ends the watch loop
	run   func()               // the watch loop
}

type kickFile struct {
	f    *os.File
	off  int64
	rest []byte
}

func newKickReader(s *Spool) *kickReader {
	return &kickReader{s: s, dir: s.sub("kick"), files: map[string]*kickFile{}, gens: map[string]int{}}
}

// parseKickName splits "<owner>.<gen>".
func parseKickName(name string) (owner string, gen int, ok bool) {
	owner, g, found := strings.Cut(name, ".")
	if !found || !validID(owner) {
		return "", 0, false
	}
	gen, err := strconv.Atoi(g)
	return owner, gen, err == nil
}

// snapshot opens every journal present and skips what it already holds:
// Open's scan of the queue directories, which follows, covers it.
func (r *kickReader) snapshot() error {
	des, err := os.ReadDir(r.dir)
	if err != nil {
		return fmt.Errorf("read kick dir: %w", err)
	}
	for _, de := range des {
		owner, gen, ok := parseKickName(de.Name())
		if !ok || owner == r.s.owner {
			continue
		}
		f, err := os.Open(filepath.Join(r.dir, de.Name()))
		if err != nil {
			continue // removed meanwhile
		}
		off, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			_ = f.Close()
			continue
		}
		r.files[de.Name()] = &kickFile{f: f, off: off}
		r.gens[owner] = max(r.gens[owner], gen)
	}
	return nil
}

// drain reads what is new in journal name and applies it.
func (r *kickReader) drain(name string) {
	owner, gen, ok := parseKickName(name)
	if !ok || owner == r.s.owner {
		return
	}
	kf := r.files[name]
	if kf == nil {
		f, err := os.Open(filepath.Join(r.dir, name))
		if err != nil {
			return // an old generation removed by its writer
		}
		kf = &kickFile{f: f}
		r.files[name] = kf
		last, seen := r.gens[owner]
		if seen && gen > last+1 || !seen && gen > 0 {
			r.s.log.Info("kick journal skipped a generation; rescanning", "owner", owner)
			r.s.rescan()
		}
		r.gens[owner] = max(last, gen)
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := kf.f.ReadAt(buf, kf.off)
		kf.off += int64(n)
		if n > 0 {
			kf.rest = r.apply(append(kf.rest, buf[:n]...))
		}
		if err != nil || n < len(buf) {
			return
		}
	}
}

// forget drops a removed journal after reading what is left of it.
func (r *kickReader) forget(name string) {
	if kf := r.files[name]; kf != nil {
		r.drain(name)
		_ = kf.f.Close()
		delete(r.files, name)
	}
}

// drainAll reads every journal in the directory (poll fallback, overflow).
func (r *kickReader) drainAll() {
	des, err := os.ReadDir(r.dir)
	if err != nil {
		return
	}
	present := map[string]bool{}
	for _, de := range des {
		present[de.Name()] = true
		r.drain(de.Name())
	}
	for name := range r.files {
		if !present[name] {
			r.forget(name)
		}
	}
}

// apply applies the complete lines in b and returns the incomplete tail.
func (r *kickReader) apply(b []byte) []byte {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return append([]byte(nil), b...)
		}
		line := string(b[:i])
		b = b[i+1:]
		s.metrics.KicksRead.Add(1)
		f := strings.Fields(line)
		switch {
		case len(f) == 4 && f[0] == "+":
			q := queueIndex(f[1])
			k, ok := parseKey(f[2])
			due, err := strconv.ParseInt(f[3], 10, 64)
			if q < 0 || !ok || err != nil {
				continue
			}
			if _, mine := s.claims[k]; !mine {
				s.idx.add(q, k, due)
			}
		case len(f) == 2 && f[0] == "-":
			if k, ok := parseKey(f[1]); ok {
				s.idx.remove(k)
			}
		}
	}
}

// close ends the watch loop; release must follow once it has returned.
func (r *kickReader) close() error {
	if r.stop != nil {
		return r.stop()
	}
	return nil
}

// release closes the journals the reader had open.
func (r *kickReader) release() {
	for name, kf := range r.files {
		_ = kf.f.Close()
		delete(r.files, name)
	}
}

// removeStaleKicks removes the journals of owners that are not live (dead
// or closed) once they are older than kickKeep. It runs under spool.lock,
// so no owner starts meanwhile.
func (s *Spool) removeStaleKicks(live map[string]bool) {
	dir := s.sub("kick")
	des, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range des {
		owner, _, ok := parseKickName(de.Name())
		if !ok || owner == s.owner || live[owner] {
			continue
		}
		if fi, err := de.Info(); err == nil && time.Since(fi.ModTime()) > kickKeep {
			s.check(os.Remove(filepath.Join(dir, de.Name())), "remove stale kick journal", "name", de.Name())
		}
	}
}
