package sqlite

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
)

// signalFile is the change signal (sqlstore.ChangeSignal) of the
// processes sharing one database file: PATH-memo holds a token that every
// write of a list, membership or ban replaces with a random one, so that
// `herald serve` forgets its read memo as soon as the CLI has changed
// something, for the price of one pread per memoized read. The token is
// not synced: only processes running now read it.
type signalFile struct {
	f        *os.File
	writable bool
}

// openSignal opens (creating it if needed) the signal file of the
// database at path; read-only where this process may not write it (it
// then announces nothing). nil if it cannot be opened at all: the memo of
// another process then lasts its lifetime (see sqlstore/memo.go).
func openSignal(path string) *signalFile {
	name := path + "-memo"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err == nil {
		return &signalFile{f: f, writable: true}
	}
	if !errors.Is(err, fs.ErrPermission) {
		return nil
	}
	if f, err = os.Open(name); err != nil {
		return nil
	}
	return &signalFile{f: f}
}

// Announce implements sqlstore.ChangeSignal. A failure to write is not
// the committed write's: it costs the other processes' memos their
// lifetime, no more.
func (s *signalFile) Announce() {
	if !s.writable {
		return
	}
	var tok [8]byte
	_, _ = rand.Read(tok[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	_, _ = s.f.WriteAt(tok[:], 0)
}

// Token implements sqlstore.ChangeSignal; 0 while no write was announced
// or the file cannot be read.
func (s *signalFile) Token() uint64 {
	var tok [8]byte
	if n, _ := s.f.ReadAt(tok[:], 0); n < len(tok) {
		return 0
	}
	return binary.BigEndian.Uint64(tok[:])
}

// close closes the file.
func (s *signalFile) close() error { return s.f.Close() }
