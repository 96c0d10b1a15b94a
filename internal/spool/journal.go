package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The write-ahead journal.
//
// Making a batch of new entry files durable costs the disk a data block,
// an inode and a directory block per file, so per-file durability stays
// near the disk's random-write rate whatever the batching, and a syncfs
// per round flushes every file written since the last one. The journal
// makes a round one sequential append and one fdatasync of one file, the
// instance's current segment journal/<owner>.<n>, shared by every writer
// waiting at that moment (group commit):
//
//   - Enqueue, EnqueueAll: the entry, encoded exactly as its file, is
//     appended; once the round is durable it is indexed and acknowledged,
//     kept in memory with no file at all (resident.go), or, past the
//     memory budget, with its file (written unsynced) renamed into its
//     queue first. A claim of a resident entry appends an unsynced claim
//     record, so that a crash while it is processed counts a recovery.
//   - Forward: the children are written unsynced and renamed into their
//     queues (not indexed, not announced), then one round holds them and
//     the parent's tombstone; then they are indexed and the parent's claim
//     file is retired, unsynced. Done is the same with no children. If
//     the parent has no claim file (it was resident), the round is only
//     written, not waited for (appendLazy).
//   - Everything else (Retry, Shunt, Update, Release, Unshunt, recovery)
//     commits through the group commit, syncing its own files only.
//
// A checkpoint starts a new segment, waits until the file work of every
// round of the old ones is done, carries their ready resident entries
// into the new segment (one sequential write, see resident.go), writes
// the files of their claimed resident entries (claim files), syncs the
// file system (all those files and removals are now durable) and deletes
// the old segments. It runs when the journal has been quiet for
// checkpointQuiet, else every checkpointEvery or when a segment passes
// checkpointBytes of new records; then it deletes only the oldest
// segments, those the runners have mostly emptied (ckCarryPrefix), so
// that a backlog is not copied at every checkpoint. The checkpoint at Close (and one asked
// for by a full disk) writes the ready resident entries as files instead
// of carrying them. Only entries with files are announced to other
// processes (kick journal), at the checkpoint that makes them durable: no
// other process takes an entry that this one's segments could restore.
//
// After a crash, Open reads the segments of dead owners. A claim file
// whose tombstone is there is dropped (finished; its removal was lost).
// After the claims are recovered, an entry that is nowhere in the spool
// (resident, or its file never reached the disk, or held a spare's stale
// data and was quarantined) is written again from its record (serve
// adopts it instead: journaled in its own segment and kept resident, see
// adopt), with a recovery counted if the owner died holding its claim (its
// last claim record is a claim, not a release), unless it is finished,
// or is a Forward's child whose parent's tombstone is missing (the round
// was cut short: the parent is processed again, and recovery settles any
// placed children as a family, see doc.go); a carried record has no such
// condition (its round was complete). Then the segments go. An Open
// also reads live owners' segments and leaves their entries to them (a
// one-shot command shows them: Counts, List, Get).
//
// A segment is written ahead with zeros (prewriteChunk at a time) and its
// rounds overwrite them: an fdatasync then has no file size to commit,
// only data, which halves its cost here (append + fdatasync of 64 KiB
// 365-498 us, overwrite 255-268 us). An overwrite is not ordered like an
// append, so a crash may leave part of a round written and part still
// zeros: every record carries a CRC-32C, and a segment reads up to its
// first record that is zeros or does not check out. (Segments written
// before, with no header, still read as they were written.)
//
// The journal relies on syncfs for checkpoints (Linux).
const (
	// checkpointQuiet: a checkpoint follows this long without appends,
	// so that a quiet spool's entries are soon announced and checkpointed.
	checkpointQuiet = 100 * time.Millisecond
	// checkpointEvery bounds the time between checkpoints under steady
	// load (the kernel writes dirty data back after ~30 s anyway).
	checkpointEvery = 30 * time.Second
	checkpointBytes = 64 << 20 // a bigger segment is checkpointed at once
	maxKeptRoundBuf = 4 << 20  // a bigger round buffer is not kept
	journalDir      = "journal"
)

// journal is one instance's write-ahead log; see above.
type journal struct {
	s *Spool

	wmu  sync.Mutex // held by a round's write+sync and by rotate
	f    *os.File   // current segment (also in files)
	seg  uint64     // its number
	size int64      // its length
	// carried is how much of size is carried records: they are not new
	// work, so they neither make a checkpoint due nor count toward
	// checkpointBytes (else every checkpoint would call for the next).
	carried int64
	oldest  uint64 // the oldest segment not yet deleted

	// files holds every segment not yet deleted, open for reading the
	// spilled entries' records (resident.go); closed as they are deleted.
	fmu   sync.RWMutex
	files map[uint64]*os.File

	// unsynced is when the oldest lazy round not yet synced was written
	// (zero: none); syncLazy bounds how long it waits.
	unsynced time.Time        // wmu
	rounds   batcher[*jround] // waiting for the syncer
	buf      []byte           // the syncer's round buffer, reused
	// prewritten is how far the current segment is written, zeros past
	// size (prewrite); wmu.
	prewritten int64

	mu       sync.Mutex
	cond     *sync.Cond       // signals inflight changes
	inflight map[uint64]int   // segment -> entries durable but not yet placed
	segKeys  map[uint64][]key // the reverse
	soon     chan struct{}    // asks the checkpointer for a checkpoint now
	ckMu     sync.Mutex       // serializes checkpoints

	lastWrite, lastCheckpoint time.Time // j.mu
}

// A segment starts with segMagic; then records, each a 4-byte big-endian
// length (of kind and payload), a CRC-32C of length, kind and payload, the
// kind byte and the payload.
const (
	segMagic     = "HJR2"
	recordHeader = 9
	// v1RecordHeader is the record header of a segment with no segMagic
	// (length and kind, no checksum), read only.
	v1RecordHeader = 5
	// prewriteChunk is how far ahead of its last record a segment is
	// written with zeros.
	prewriteChunk = 1 << 20
)

// zeros is what prewrite writes.
var zeros = make([]byte, prewriteChunk)

// appendRecord appends a record of kind with payload to buf.
func appendRecord(buf []byte, kind byte, payload []byte) []byte {
	start := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(payload)+1))
	buf = append(buf, 0, 0, 0, 0, kind)
	buf = append(buf, payload...)
	binary.BigEndian.PutUint32(buf[start+4:], recordCRC(buf[start:]))
	return buf
}

// recordCRC is the checksum of record rec: of its length, kind and payload.
func recordCRC(rec []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, rec[:4]), castagnoli, rec[8:])
}

// Record kinds (the record layout is above).
const (
	kindEntry     = 'E' // an encoded entry, exactly as its file
	kindTombstone = 'T' // 12-byte keys of entries finished (Done, Forward)
	kindClaim     = 'K' // 12-byte key of a resident entry claimed (resident.go)
	kindRelease   = 'R' // 12-byte key of a resident entry's claim given back
	// kindCarried is an encoded entry carried forward by a checkpoint from
	// a segment it deletes (resident.go): restored after a crash without
	// the conditions of the round that first journaled it.
	kindCarried = 'C'
)

// jrec is one record to append.
type jrec struct {
	kind byte
	b    []byte
}

// entryRecords wraps encoded entries as records.
func entryRecords(encoded [][]byte) []jrec {
	recs := make([]jrec, len(encoded))
	for i, b := range encoded {
		recs[i] = jrec{kind: kindEntry, b: b}
	}
	return recs
}

// tombstoneRecord is the tombstone of entries keys.
func tombstoneRecord(keys ...key) jrec {
	b := make([]byte, 0, len(keys)*len(key{}))
	for _, k := range keys {
		b = append(b, k[:]...)
	}
	return jrec{kind: kindTombstone, b: b}
}

// jround is one writer's records for one syncer round.
type jround struct {
	recs    []jrec
	keys    []key
	carried bool   // a checkpoint's carried records (j.carried)
	lazy    bool   // written, not yet synced, when done (appendLazy)
	seg     uint64 // set by the syncer: the segment the records went to
	base    int64  // set by the syncer: where in it the first one starts
	err     error
	done    chan struct{}
}

func (s *Spool) openJournal() error {
	j := &journal{
		s:        s,
		inflight: map[uint64]int{},
		segKeys:  map[uint64][]key{},
		soon:     make(chan struct{}, 1),
		files:    map[uint64]*os.File{},
	}
	j.cond = sync.NewCond(&j.mu)
	j.rounds.init()
	if err := j.newSegment(1); err != nil {
		return err
	}
	j.oldest = 1
	j.lastCheckpoint = time.Now()
	s.j = j
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		j.syncer()
	}()
	go func() {
		defer s.wg.Done()
		j.checkpointer()
	}()
	return nil
}

func (j *journal) segPath(n uint64) string {
	return j.s.sub(journalDir, j.s.owner+"."+strconv.FormatUint(n, 10))
}

// newSegment creates segment n and makes its name durable. The segment
// before stays open for reading until it is deleted.
func (j *journal) newSegment(n uint64) error {
	f, err := os.OpenFile(j.segPath(n), os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return diskErr("create journal segment", j.segPath(n), err, &j.s.metrics)
	}
	if err := startSegment(f); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name()) // empty: nothing in it was acknowledged
		return diskErr("write journal segment", f.Name(), err, &j.s.metrics)
	}
	if err := syncDir(j.s.sub(journalDir)); err != nil {
		_ = f.Close()
		return diskErr("sync journal directory", j.s.sub(journalDir), err, &j.s.metrics)
	}
	if j.f != nil {
		// Done with: its zeros need not be kept (nor synced).
		_ = j.f.Truncate(j.size) // a failure leaves zeros, which read as the end
	}
	j.f, j.seg, j.size, j.carried, j.prewritten = f, n, int64(len(segMagic)), 0, int64(len(segMagic))
	j.fmu.Lock()
	j.files[n] = f
	j.fmu.Unlock()
	return nil
}

// recordBytes is how much of the current segment is records; wmu held.
func (j *journal) recordBytes() int64 { return j.size - int64(len(segMagic)) }

// startSegment writes a new segment's header; the first round syncs it
// (a segment that lost it reads as empty, and held nothing acknowledged).
func startSegment(f *os.File) error {
	_, err := f.Write([]byte(segMagic))
	return err
}

// prewrite makes sure, if it can, that the current segment is written
// (with zeros) past the next n bytes; wmu held. The zeros are synced with
// the round that first overwrites them. It may fail where the round
// itself would not (a nearly full disk): the round then appends, as if
// there were no zeros, and the next one tries again.
func (j *journal) prewrite(n int) {
	for j.size+int64(n) > j.prewritten {
		if _, err := j.f.WriteAt(zeros, j.prewritten); err != nil {
			return
		}
		j.prewritten += int64(len(zeros))
	}
}

// pos is where an append's records went: segment and offset of the first.
type pos struct {
	seg  uint64
	base int64
}

// payloadOffsets returns where each of recs' payloads starts in the
// segment, recs having been appended at p.
func (p pos) payloadOffsets(recs []jrec) []int64 {
	offs := make([]int64, len(recs))
	at := p.base
	for i, r := range recs {
		offs[i] = at + recordHeader
		at += recordHeader + int64(len(r.b))
	}
	return offs
}

// readPayload reads the n-byte payload at off in segment seg.
func (j *journal) readPayload(seg uint64, off int64, n int) ([]byte, error) {
	j.fmu.RLock()
	f := j.files[seg]
	j.fmu.RUnlock()
	if f == nil {
		return nil, fmt.Errorf("spool journal: segment %d is gone", seg)
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, diskErr("read journal", f.Name(), err, &j.s.metrics)
	}
	return b, nil
}

// closeFiles closes the segments up to n (all: ^uint64(0)).
func (j *journal) closeFiles(n uint64) error {
	j.fmu.Lock()
	defer j.fmu.Unlock()
	var first error
	for seg, f := range j.files {
		if seg <= n {
			if err := f.Close(); err != nil && first == nil {
				first = err
			}
			delete(j.files, seg)
		}
	}
	return first
}

// append makes records durable in the journal, in one round; keys are the
// entries they create. On success the caller finishes the file work the
// records stand for, then calls placed(p.seg), so that a checkpoint waits
// for it.
func (j *journal) append(recs []jrec, keys []key) (pos, error) {
	return j.appendOrFree(&jround{recs: recs, keys: keys, done: make(chan struct{})})
}

// appendLazy is append, but the round is written and not yet synced when
// it returns: for a round whose loss in a power failure costs a repeat,
// never a message. It becomes durable with the next synced round (same
// segment file), by syncLazy within lazySyncAfter, when its segment is
// left by a checkpoint, or at the latest by the checkpoint's syncfs, which
// always precedes deleting a segment. finishJournaled's tombstone and
// children are lost, if at all, with the parent's entry still durable.
func (j *journal) appendLazy(recs []jrec, keys []key) (pos, error) {
	return j.appendOrFree(&jround{recs: recs, keys: keys, lazy: true, done: make(chan struct{})})
}

// appendOrFree appends r, asking for a checkpoint if the disk is full.
func (j *journal) appendOrFree(r *jround) (pos, error) {
	p, err := j.appendRound(r)
	if errors.Is(err, ErrDiskFull) {
		// The segments hold a second copy of every entry since the last
		// checkpoint: on a full disk, a checkpoint frees that room. It
		// runs on its own goroutine: it may wait for a claim the caller
		// holds. The caller is told to try again (452; a runner parks).
		select {
		case j.soon <- struct{}{}:
		default:
		}
	}
	return p, err
}

// appendCarried makes carried records durable in one round (see
// jround.carried), for entries keys.
func (j *journal) appendCarried(recs []jrec, keys []key) (pos, error) {
	return j.appendRound(&jround{recs: recs, keys: keys, carried: true, done: make(chan struct{})})
}

// appendRound waits until r is durable (written only, if r.lazy).
func (j *journal) appendRound(r *jround) (pos, error) {
	if !j.rounds.add(r) {
		return pos{}, ErrClosed
	}
	<-r.done
	return pos{seg: r.seg, base: r.base}, r.err
}

// placed records that the file work of one append to segment seg is done.
func (j *journal) placed(seg uint64) {
	j.mu.Lock()
	j.inflight[seg]--
	if j.inflight[seg] <= 0 {
		delete(j.inflight, seg)
	}
	j.mu.Unlock()
	j.cond.Broadcast()
}

// syncer writes and syncs the waiting rounds together until stopped.
func (j *journal) syncer() { j.rounds.run(j.write) }

// write appends the batch's records as one write and one fdatasync.
func (j *journal) write(batch []*jround) {
	need := 0
	for _, r := range batch {
		for _, rec := range r.recs {
			need += recordHeader + len(rec.b)
		}
	}
	buf := j.buf[:0]
	if cap(buf) < need {
		buf = make([]byte, 0, need) // once, not grown by doubling
	}
	defer func() {
		// Kept for the next round (the syncer is the only writer),
		// unless a big one (a checkpoint's carrying) grew it.
		if cap(buf) <= maxKeptRoundBuf {
			j.buf = buf
		}
	}()
	entries, carried, sync := 0, 0, false
	starts := make([]int, len(batch))
	for i, r := range batch {
		sync = sync || !r.lazy
		start := len(buf)
		starts[i] = start
		for _, rec := range r.recs {
			buf = appendRecord(buf, rec.kind, rec.b)
		}
		if r.carried {
			carried += len(buf) - start
		} else {
			entries += len(r.keys)
		}
	}
	j.wmu.Lock()
	base := j.size
	err := j.writeSync(buf, sync)
	seg := j.seg
	if err == nil {
		j.carried += int64(carried)
		j.mu.Lock()
		j.inflight[seg] += len(batch)
		if carried < len(buf) { // new work, not only a checkpoint's carrying
			j.lastWrite = time.Now()
		}
		for _, r := range batch {
			j.segKeys[seg] = append(j.segKeys[seg], r.keys...)
		}
		j.mu.Unlock()
	}
	j.wmu.Unlock()
	if !sync {
		j.s.metrics.LazyRounds.Add(uint64(len(batch)))
	} else {
		j.s.metrics.JournalSyncs.Add(1)
		if err == nil {
			j.s.metrics.batch(entries) // a durability round, like the group commit's
		}
	}
	for i, r := range batch {
		r.seg, r.base, r.err = seg, base+int64(starts[i]), err
		close(r.done)
	}
}

// writeSync appends buf to the current segment and, if sync, syncs it
// (and every lazy round before it). After a failure the segment is cut
// back to its last good length, or, if that fails too, abandoned for a
// new one, so a later round never follows a torn record (the abandoned
// one waits for the next checkpoint). wmu held.
func (j *journal) writeSync(buf []byte, sync bool) error {
	j.prewrite(len(buf))
	_, err := j.f.Write(buf)
	if err == nil && sync {
		err = unix.Fdatasync(int(j.f.Fd()))
	}
	if err == nil {
		j.size += int64(len(buf))
		if sync {
			j.unsynced = time.Time{}
		} else if j.unsynced.IsZero() {
			j.unsynced = time.Now()
		}
		return nil
	}
	err = diskErr("write journal", j.f.Name(), err, &j.s.metrics)
	// Lazy rounds written before may not reach the disk after a failed
	// write or sync; that costs repeats only (appendLazy), so nothing
	// waits for them any more.
	j.unsynced = time.Time{}
	if terr := j.f.Truncate(j.size); terr == nil {
		j.prewritten = j.size
		if _, serr := j.f.Seek(j.size, 0); serr == nil {
			return err
		}
	}
	if nerr := j.newSegment(j.seg + 1); nerr != nil {
		j.s.check(nerr, "start journal segment after a write error")
		return err
	}
	return err // the old segment stays open for reading until deleted
}

// noteClaim records, without a sync, that resident entry k is claimed: if
// the process dies while processing it, Open counts a recovery, as for a
// claim file (a message that crashes the process cannot loop). A power
// loss may lose the record, as it may lose a claim file's rename.
func (j *journal) noteClaim(k key) error { return j.noteKey(kindClaim, k) }

// noteRelease records, without a sync, that the claim of resident entry k
// was given back unprocessed: it counts no recovery.
func (j *journal) noteRelease(k key) error { return j.noteKey(kindRelease, k) }

// noteKey appends an unsynced record of kind about entry k.
func (j *journal) noteKey(kind byte, k key) error {
	buf := appendRecord(make([]byte, 0, recordHeader+len(key{})), kind, k[:])
	j.wmu.Lock()
	defer j.wmu.Unlock()
	j.prewrite(len(buf))
	n, err := j.f.Write(buf)
	j.size += int64(n)
	if err != nil {
		return diskErr("write journal", j.f.Name(), err, &j.s.metrics)
	}
	return nil
}

// lazySyncAfter bounds how long a lazy round waits for a sync when no
// synced round follows it (the checkpointer's tick checks it).
const lazySyncAfter = 50 * time.Millisecond

// syncLazy syncs the current segment if a lazy round in it has waited
// lazySyncAfter. A failure is logged: the rounds' loss costs repeats.
func (j *journal) syncLazy(now time.Time) {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if j.unsynced.IsZero() || now.Sub(j.unsynced) < lazySyncAfter {
		return
	}
	if err := j.syncUnsynced(); err != nil {
		j.s.log.Error("journal sync failed", "err", err)
	}
}

// syncUnsynced syncs the current segment if it holds lazy rounds not yet
// synced; wmu held.
func (j *journal) syncUnsynced() error {
	if j.unsynced.IsZero() {
		return nil
	}
	if err := unix.Fdatasync(int(j.f.Fd())); err != nil {
		return diskErr("sync journal", j.f.Name(), err, &j.s.metrics)
	}
	j.unsynced = time.Time{}
	j.s.metrics.JournalSyncs.Add(1)
	return nil
}

// checkpoint makes every journaled entry's file durable and deletes the
// segments that held them; see the comment at the top.
//
// It may wait for claims being finished (to write resident claims' files),
// so it must never run on a goroutine that holds a claim's lock.
func (j *journal) checkpoint() error { return j.checkpointWith(ckFiles) }

// ckMode is what a checkpoint does with the resident entries of the
// segments it deletes.
type ckMode int

const (
	// ckFiles writes their files (Close, a full disk).
	ckFiles ckMode = iota
	// ckCarryAll carries them into the new segment and deletes every old
	// one (a quiet journal).
	ckCarryAll
	// ckCarryPrefix deletes only the oldest segments whose resident
	// entries are at most a quarter of their bytes, carrying those (under
	// load). The runners take the oldest entries first, so the oldest
	// segments empty first, and a backlog is not copied at every
	// checkpoint. Deleting a prefix keeps replay right: a tombstone or
	// claim record only refers to entries of its own or earlier segments.
	ckCarryPrefix
)

// checkpointWith checkpoints in mode; when carrying, a segment holding
// nothing but carried records is no reason for a checkpoint.
func (j *journal) checkpointWith(mode ckMode) error {
	j.ckMu.Lock()
	defer j.ckMu.Unlock()
	j.wmu.Lock()
	fresh := j.recordBytes()
	if mode != ckFiles {
		fresh -= j.carried
	}
	if fresh == 0 && j.oldest == j.seg {
		j.wmu.Unlock()
		return nil // nothing journaled since the last checkpoint
	}
	old := j.seg - 1
	if j.recordBytes() > 0 {
		old = j.seg
		// The next rounds' fdatasyncs will cover only the new segment.
		if err := j.syncUnsynced(); err != nil {
			j.wmu.Unlock()
			return fmt.Errorf("spool checkpoint: %w", err)
		}
		if err := j.newSegment(old + 1); err != nil {
			j.wmu.Unlock()
			return fmt.Errorf("spool checkpoint: %w", err)
		}
	}
	oldest := j.oldest
	j.wmu.Unlock()

	j.mu.Lock()
	for j.inflightUpTo(old) > 0 {
		j.cond.Wait()
	}
	j.lastCheckpoint = time.Now()
	j.mu.Unlock()
	upTo := old
	if mode == ckCarryPrefix {
		upTo = j.deletablePrefix(oldest, old)
		if upTo < oldest {
			return nil // every old segment is still mostly queued entries
		}
	}
	j.s.setCheckpointing(upTo)
	defer j.s.setCheckpointing(0)
	if mode != ckFiles {
		if err := j.s.carryResidents(upTo); err != nil {
			return err
		}
	}
	if err := j.s.materialize(upTo); err != nil {
		return err
	}
	if err := j.s.syncFileSystem(); err != nil {
		return diskErr("checkpoint", j.s.dir, err, &j.s.metrics)
	}
	if err := j.removeSegments(upTo); err != nil {
		return fmt.Errorf("spool checkpoint: %w", err)
	}
	j.wmu.Lock()
	j.oldest = upTo + 1
	j.wmu.Unlock()
	j.forget(upTo)
	j.s.metrics.Checkpoints.Add(1)
	return nil
}

// journalCapFactor: past this many times the resident budgets, a
// checkpoint under load carries everything (the oldest segments may be
// pinned by a backlog that is not moving), bounding the journal's size.
const journalCapFactor = 2

// deletablePrefix returns the last segment of the longest run from oldest
// to old whose resident entries are at most a quarter of its bytes
// (oldest-1 if none), or old if the journal has grown past its cap.
func (j *journal) deletablePrefix(oldest, old uint64) uint64 {
	sizes := j.segmentSizes(oldest, old)
	live := j.s.residentBytesBySegment(old)
	var total, cumSize, cumLive int64
	for _, sz := range sizes {
		total += sz
	}
	if total > journalCapFactor*(j.s.residentMax+j.s.spillMax)+checkpointBytes {
		return old
	}
	upTo := oldest - 1
	for seg := oldest; seg <= old; seg++ {
		cumSize += sizes[seg-oldest]
		cumLive += live[seg]
		if 4*cumLive <= cumSize {
			upTo = seg
		}
	}
	return upTo
}

// segmentSizes returns the sizes of segments first..last (0 for one that
// is gone).
func (j *journal) segmentSizes(first, last uint64) []int64 {
	sizes := make([]int64, last-first+1)
	j.fmu.RLock()
	defer j.fmu.RUnlock()
	for seg := first; seg <= last; seg++ {
		if f := j.files[seg]; f != nil {
			if fi, err := f.Stat(); err == nil {
				sizes[seg-first] = fi.Size()
			}
		}
	}
	return sizes
}

// inflightUpTo counts entries of segments <= n not yet placed (j.mu held).
func (j *journal) inflightUpTo(n uint64) int {
	c := 0
	for seg, v := range j.inflight {
		if seg <= n {
			c += v
		}
	}
	return c
}

// removeSegments deletes this owner's segments up to n, durably.
func (j *journal) removeSegments(n uint64) error {
	segs, err := listSegments(j.s.sub(journalDir), j.s.owner)
	if err != nil {
		return err
	}
	if err := j.closeFiles(n); err != nil {
		return fmt.Errorf("close journal segments: %w", err)
	}
	removed := false
	for _, sg := range segs {
		if sg.n <= n {
			if err := os.Remove(sg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			removed = true
		}
	}
	if removed {
		return syncDir(j.s.sub(journalDir))
	}
	return nil
}

// forget drops the entries of segments <= n and announces those still
// ready to other processes.
func (j *journal) forget(n uint64) {
	var gone []key
	j.mu.Lock()
	for seg, keys := range j.segKeys {
		if seg > n {
			continue
		}
		gone = append(gone, keys...)
		delete(j.segKeys, seg)
	}
	j.mu.Unlock()
	s := j.s
	var kicks []byte
	s.mu.Lock()
	for _, k := range gone {
		if _, res := s.resident[k]; res {
			continue // carried: still in memory and the journal only
		}
		if q := s.idx.lookup(k); q >= 0 {
			kicks = appendKick(kicks, '+', q, k, 0)
		}
	}
	s.mu.Unlock()
	if len(kicks) > 0 && s.kick != nil {
		s.check(s.kick.write(kicks), "write kick journal", "owner", s.owner)
	}
}

// checkpointer checkpoints when the journal has been quiet for
// checkpointQuiet, or checkpointEvery has passed, or the segment has grown
// past checkpointBytes, until the journal stops.
func (j *journal) checkpointer() {
	t := time.NewTicker(checkpointQuiet)
	defer t.Stop()
	for {
		select {
		case <-j.rounds.done:
			return
		case <-j.soon:
			if err := j.checkpoint(); err != nil {
				j.s.log.Error("journal checkpoint failed", "err", err)
			}
		case now := <-t.C:
			j.syncLazy(now)
			mode := j.due(now)
			if j.s.noTimedCheckpoint || mode == ckFiles {
				continue
			}
			if err := j.checkpointWith(mode); err != nil {
				j.s.log.Error("journal checkpoint failed", "err", err)
			}
		}
	}
}

// due returns the checkpoint due at now: ckCarryAll when the journal has
// been quiet for checkpointQuiet, ckCarryPrefix every checkpointEvery or
// when the segment has checkpointBytes of new records, else ckFiles for
// none.
func (j *journal) due(now time.Time) ckMode {
	j.wmu.Lock()
	size := j.recordBytes() - j.carried
	pending := size > 0 || j.oldest != j.seg
	j.wmu.Unlock()
	if !pending {
		return ckFiles
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case now.Sub(j.lastWrite) >= checkpointQuiet:
		return ckCarryAll
	case now.Sub(j.lastCheckpoint) >= checkpointEvery || size >= checkpointBytes:
		return ckCarryPrefix
	}
	return ckFiles
}

// close stops the syncer after the waiting rounds, checkpoints, and closes
// the segment. Called by Close after the committer stopped.
func (j *journal) close() error {
	j.rounds.stop()
	<-j.rounds.done
	err := j.checkpoint()
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if cerr := j.closeFiles(^uint64(0)); err == nil {
		err = cerr
	}
	if err == nil && j.recordBytes() == 0 {
		err = j.removeSegments(j.seg) // the empty current one
	}
	return err
}

// halt stops the journal as a crash would: no checkpoint, segments kept.
func (j *journal) halt() {
	j.rounds.stop()
	<-j.rounds.done
	j.wmu.Lock()
	_ = j.closeFiles(^uint64(0))
	j.wmu.Unlock()
}

// segment is one journal segment file.
type segment struct {
	n    uint64
	path string
}

// listSegments lists owner's segments in dir, oldest first.
func listSegments(dir, owner string) ([]segment, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var segs []segment
	for _, de := range des {
		o, num, ok := strings.Cut(de.Name(), ".")
		if !ok || o != owner {
			continue
		}
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			continue
		}
		segs = append(segs, segment{n: n, path: filepath.Join(dir, de.Name())})
	}
	sort.Slice(segs, func(a, b int) bool { return segs[a].n < segs[b].n })
	return segs, nil
}

// nextRecord splits b's first record off; ok is false at the end of the
// records (zeros, a torn record, a checksum that does not match).
func nextRecord(b []byte, v2 bool) (kind byte, payload, rest []byte, ok bool) {
	head := v1RecordHeader
	if v2 {
		head = recordHeader
	}
	if len(b) < head {
		return 0, nil, nil, false
	}
	n := int(binary.BigEndian.Uint32(b))
	if n < 1 || n > len(b)-head+1 {
		return 0, nil, nil, false
	}
	rec := b[:head-1+n]
	if v2 {
		if recordCRC(rec) != binary.BigEndian.Uint32(rec[4:]) {
			return 0, nil, nil, false
		}
	}
	return rec[head-1], rec[head:], b[len(rec):], true
}

// segmentRecords is what a segment holds: entries, tombstones of finished
// entries, and whether each resident entry's last claim record is a
// claim (true) or a release (false).
type segmentRecords struct {
	entries  []*Entry
	finished map[key]bool
	claimed  map[key]bool
	carried  map[key]bool // entries carried forward by a checkpoint
}

// readSegment decodes a segment's records up to the first torn one (a
// write cut short by a crash: nothing after it was acknowledged).
func readSegment(path string) (*segmentRecords, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseSegment(b), nil
}

// parseSegment decodes a segment's bytes (see readSegment).
func parseSegment(b []byte) *segmentRecords {
	out := &segmentRecords{finished: map[key]bool{}, claimed: map[key]bool{}, carried: map[key]bool{}}
	v2 := bytes.HasPrefix(b, []byte(segMagic))
	if v2 {
		b = b[len(segMagic):]
	}
	for {
		kind, payload, rest, ok := nextRecord(b, v2)
		if !ok {
			break
		}
		b = rest
		switch kind {
		case kindEntry, kindCarried:
			e, err := decodeBytes(payload)
			if err != nil {
				return out
			}
			out.entries = append(out.entries, e)
			if k, ok := parseKey(e.ID); ok && kind == kindCarried {
				out.carried[k] = true
			}
		case kindTombstone:
			if len(payload)%len(key{}) != 0 {
				return out
			}
			for ; len(payload) > 0; payload = payload[len(key{}):] {
				out.finished[key(payload[:len(key{})])] = true
			}
		case kindClaim, kindRelease:
			if len(payload) != len(key{}) {
				return out
			}
			out.claimed[key(payload)] = kind == kindClaim
		default:
			return out
		}
	}
	return out
}
