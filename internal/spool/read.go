package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// Get returns the entry with id from any queue, or claimed by any owner.
// It fails with ErrNotFound when there is none.
func (s *Spool) Get(id string) (*Entry, error) {
	k, ok := parseKey(id)
	if !ok {
		return nil, fmt.Errorf("spool get %q: %w", id, ErrNotFound)
	}
	if e, ok := s.residentEntry(k); ok {
		return e, nil
	}
	s.mu.Lock()
	q := s.idx.lookup(k)
	_, mine := s.claims[k]
	s.mu.Unlock()
	var paths []string
	if mine {
		paths = append(paths, s.claimPath(id))
	}
	if q >= 0 {
		paths = append(paths, s.readyPath(Queues[q], id))
	}
	for _, name := range Queues {
		paths = append(paths, s.readyPath(name, id))
	}
	if owners, err := os.ReadDir(s.sub("active")); err == nil {
		for _, o := range owners {
			paths = append(paths, s.sub("active", o.Name(), id))
		}
	}
	for _, p := range paths {
		e, err := readEntry(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("spool get %s: %w", id, err)
		}
		return e, nil
	}
	return nil, fmt.Errorf("spool get %s: %w", id, ErrNotFound)
}

// List returns the envelopes (Message nil) of the ready entries of queue,
// oldest id first, reading each entry's header from disk. Claimed entries
// are not listed. Entries that vanish meanwhile are skipped.
func (s *Spool) List(queue string) ([]Entry, error) {
	qi, err := checkQueue(queue)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	keys := s.idx.keys(qi)
	for k, e := range s.foreign {
		if e.Envelope.Queue == queue {
			keys = append(keys, k)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(keys, func(a, b key) int { return bytes.Compare(a[:], b[:]) })
	out := make([]Entry, 0, len(keys))
	for _, k := range keys {
		id := k.String()
		if e, ok := s.residentEntry(k); ok {
			e.Message = nil
			out = append(out, *e)
			continue
		}
		e, err := readHead(s.readyPath(queue, id))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			if errors.Is(err, errCorrupt) {
				s.log.Warn("skipping corrupt entry in list", "queue", queue, "id", id, "err", err)
				continue
			}
			return nil, fmt.Errorf("spool list %s: %w", queue, err)
		}
		out = append(out, *e)
	}
	return out, nil
}

// readHead reads just enough of an entry file to decode its envelope.
func readHead(path string) (*Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	b := make([]byte, 4096)
	n, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	b = b[:n]
	envLen, _, err := parseHeader(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if need := headerSize + int(envLen); need > n {
		more := make([]byte, need-n)
		if _, err := io.ReadFull(f, more); err != nil {
			return nil, fmt.Errorf("%s: %w", path, corruptf("short envelope"))
		}
		b = append(b, more...)
	}
	e, err := parseEnvelope(b[headerSize : headerSize+int(envLen)])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

// Unshunt moves the shunted entry id back to its Origin queue (In when
// Origin is empty or shunt), with Attempts and LastError reset and
// NotBefore cleared, and wakes that queue's claimers, in this process and
// (through the kick journal) in others. It fails with ErrNotFound when id is
// not in shunt.
func (s *Spool) Unshunt(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	k, ok := parseKey(id)
	if !ok {
		return fmt.Errorf("spool unshunt %q: %w", id, ErrNotFound)
	}
	// Claim it first, so no other process unshunts it at the same time.
	src, dst := s.readyPath(Shunt, id), s.claimPath(id)
	if err := os.Rename(src, dst); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spool unshunt %s: %w", id, ErrNotFound)
		}
		return diskErr("unshunt", src, err, &s.metrics)
	}
	s.mu.Lock()
	s.idx.remove(k)
	s.mu.Unlock()
	e, err := readEntry(dst)
	if err != nil {
		if errors.Is(err, errCorrupt) {
			s.quarantine(dst, id, Shunt, err)
			return fmt.Errorf("spool unshunt %s: %w", id, err)
		}
		s.check(os.Rename(dst, src), "give back shunted entry", "id", id)
		return fmt.Errorf("spool unshunt %s: %w", id, err)
	}
	env := &e.Envelope
	target := env.Origin
	if queueIndex(target) < 0 || target == Shunt {
		target = In
	}
	env.Queue, env.Attempts, env.LastError, env.NotBefore = target, 0, "", time.Time{}
	e.recoveries = 0
	tmp, err := s.stage(e, true)
	if err != nil {
		s.check(os.Rename(dst, src), "give back shunted entry", "id", id)
		return fmt.Errorf("spool unshunt %s: %w", id, err)
	}
	o := newOp()
	o.place = []placement{s.readyPlacement(tmp, e)}
	o.after = []retired{{path: dst, k: k, size: len(e.Message)}}
	if err := s.run(o); err != nil {
		s.check(os.Rename(dst, src), "give back shunted entry", "id", id)
		return fmt.Errorf("spool unshunt %s: %w", id, err)
	}
	s.metrics.Unshunted.Add(1)
	s.log.Info("entry unshunted", "queue", target, "id", id, "list", env.List, "domain", env.Domain)
	return nil
}
