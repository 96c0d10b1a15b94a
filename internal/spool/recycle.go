package spool

import (
	"errors"
	"os"
	"strconv"
	"sync"
)

// Spare entry files.
//
// Every message used to cost two new inodes (its in entry and its out
// entry) and two freed ones. On ext4 that is the dearest part of ingest:
// allocating an inode skips every inode freed in the last seconds (on a
// file system without a journal it reads each one's inode table block to
// check), so at a thousand messages a second a create took ~0.4 ms of CPU,
// half of herald's CPU under load. The files of finished entries are
// therefore kept in tmp/ as spares and rewritten in place for new entries:
// a rename instead of an unlink, an overwrite and a truncate instead of a
// create.
//
// Why reuse stays crash-safe: a file becomes a spare only once the entry
// it held is finished or durably superseded (Done, or the claim file that
// Forward, Retry, Shunt or Unshunt replaces), so overwriting it loses
// nothing. A rewritten spare may reach its new name before its new data is
// on disk (SyncFS mode); after a crash it then holds an older entry, whose
// id does not match the file name, so Open and Claim quarantine it as they
// do torn files. That needs the older entry's id to differ from the new
// one's: a spare is never reused for the id it last held. Update renames
// over a live claim file, whose content must never be stale, so it always
// writes a new file.
const (
	maxSpares    = 1024    // files kept for reuse, per instance
	maxSpareSize = 1 << 20 // larger files are unlinked, not kept
)

// spare is a file in tmp/ that last held entry id, durably.
type spare struct {
	path string
	id   string
}

// spares is the instance's stack of spare files.
type spares struct {
	mu    sync.Mutex
	files []spare
}

// retired names a file whose entry is finished or superseded: a candidate
// spare. size is the entry's message size; a negative size means unlink.
type retired struct {
	path string
	k    key // the entry's id
	size int
}

// retired is c's claim file, retired.
func (c *Claim) retired() retired {
	return retired{path: c.path, k: c.k, size: len(c.Message)}
}

// take pops a spare that did not last hold id.
func (p *spares) take(id string) (spare, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.files) - 1; i >= 0 && i >= len(p.files)-2; i-- {
		if sp := p.files[i]; sp.id != id {
			p.files[i] = p.files[len(p.files)-1]
			p.files = p.files[:len(p.files)-1]
			return sp, true
		}
	}
	return spare{}, false
}

// full reports whether no more spares are kept.
func (p *spares) full() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.files) >= maxSpares
}

func (p *spares) put(sp spare) {
	p.mu.Lock()
	p.files = append(p.files, sp)
	p.mu.Unlock()
}

// drain returns every spare and forgets them.
func (p *spares) drain() []spare {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.files
	p.files = nil
	return out
}

// retire takes r's file out of its directory: renamed into tmp/ as a
// spare when it is worth keeping, unlinked otherwise. A file that is
// already gone is not an error.
func (s *Spool) retire(r retired) error {
	if r.size >= 0 && r.size <= maxSpareSize && !s.spares.full() {
		path := s.tempPath()
		err := os.Rename(r.path, path)
		if err == nil {
			s.spares.put(spare{path: path, id: r.k.String()})
			return nil
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		// Fall through: an unlink may still work where the rename did not.
	}
	if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// tempPath names a new file in tmp/ for this instance.
func (s *Spool) tempPath() string {
	return s.sub("tmp", s.owner+"."+strconv.FormatUint(s.tmpSeq.Add(1), 10))
}

// openTemp opens a file in tmp/ to write entry id into: a spare when reuse
// allows and one is left (reused reports it; it must be truncated to the
// new size after the write), else a new file.
func (s *Spool) openTemp(id string, reuse bool) (f *os.File, path string, reused bool, err error) {
	if reuse {
		if sp, ok := s.spares.take(id); ok {
			f, err := os.OpenFile(sp.path, os.O_WRONLY, fileMode)
			if err == nil {
				s.metrics.SparesReused.Add(1)
				return f, sp.path, true, nil
			}
			s.check(os.Remove(sp.path), "remove spare entry file", "path", sp.path)
		}
	}
	path = s.tempPath()
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err == nil {
		s.metrics.FilesCreated.Add(1)
	}
	return f, path, false, err
}

// removeSpares unlinks every spare (at Close).
func (s *Spool) removeSpares() error {
	var errs []error
	for _, sp := range s.spares.drain() {
		if err := os.Remove(sp.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
