// Package spool is herald's durable on-disk queue: one queue per pipeline
// stage (in, command, bounces, owner, out, retry, virgin, shunt), one file
// per entry, claimed by rename, committed in groups, safe to share between
// processes. It imports no other herald package.
//
// # Layout
//
//	<dir>/spool.lock                held by Open while it scans and recovers
//	<dir>/locks/<owner>             flock'ed by each open instance (owner = an id)
//	<dir>/<queue>/<h1>/<h2>/<id>    ready entries; h1, h2 = id[9], id[10]
//	<dir>/active/<owner>/<id>       entries claimed by that owner
//	<dir>/tmp/<owner>.<n>           entries being written, and spare files
//	<dir>/journal/<owner>.<n>       write-ahead journal segments (journal.go)
//	<dir>/kick/<owner>.<gen>        kick journal: what each owner made ready
//	<dir>/corrupt/<id>.<ns>         quarantined torn or misplaced entries
//
// An id is 18 base32 characters: 9 of milliseconds (sortable), 9 random.
// Hash directories (HashDepth levels of 32) come from the random part, so
// with the default depth 2 a million entries make about 1000 per directory.
// Nothing lists a queue directory after Open: an in-memory index (a heap per
// queue, plus an id map), built by one scan at Open, answers claims, and
// each entry added wakes one waiting claimer. Enqueue and claim cost
// O(log n) in memory plus a constant number of file operations, whatever
// the depth.
//
// # Entry files
//
// Magic and version, the envelope and message lengths, a compact binary
// envelope, the raw message, an end marker and a CRC-32C of everything (see
// format.go). Decode rejects a file of any other size or with a bad
// checksum, so a torn file is never mistaken for an entry.
//
// # What syncs, and why
//
//   - Enqueue, EnqueueAll, Forward (the new entries): each data file is
//     written to tmp/ and fsynced by its writer (concurrent writers fsync in
//     parallel and share the journal commit); then the committer renames the
//     whole batch into place and fsyncs every directory touched, in
//     parallel: one round per batch. A lone writer is committed at once;
//     while a batch syncs, the next one forms. Nothing is acknowledged before
//     its round completes.
//   - Done: unlink the claim file, fsync its directory (batched), so a
//     finished entry is not processed again after a crash.
//   - Retry, Shunt, Unshunt, recovery: rewrite the entry under the same id
//     in the target queue (as above), then unlink the claim file and fsync
//     the claim directory (batched, one directory per instance).
//   - Forward: children as above, then unlink the parent's claim file and
//     fsync the claim directory, before the children are announced.
//   - Release (and Close): one rename back; the target directory is synced.
//   - Update: write and fsync a temp file, rename it over the claim file,
//     fsync the claim directory.
//   - Claim: one rename into active/<owner>, not synced: if the claim is
//     lost in a power failure the entry is simply ready again, which is what
//     recovery would make of it. (A process crash keeps the rename.)
//   - Kick journal writes are never synced: after a reboot every instance
//     rescans at Open anyway.
//
// "fsync" above is Options.SyncMode SyncFiles. With SyncFS (and NoJournal)
// writers do not fsync their data files, and each round of directory
// fsyncs is one syncfs(2) of the spool's file system instead, which makes
// the batch's data and directory entries durable together. A crash
// between the rename and the syncfs can leave a renamed entry with
// unwritten data: it was never acknowledged, and its checksum sends it to
// corrupt/ at Open.
//
// The default on Linux is the write-ahead journal (journal.go): Enqueue,
// EnqueueAll, Forward and Done append to this instance's journal segment
// (new entries whole, finished ones as tombstones; over zeros written
// ahead, see journal.go), and a round of
// concurrent writers costs one fdatasync of that one file; a new entry is
// kept in memory with no file (resident.go), past Options.MemoryBytes
// in the journal only (read back when claimed), past JournalBytes more
// as a file: a timed checkpoint that finds a resident entry still queued
// carries its record into the new segment (under load, only those of the
// oldest segments, which the runners have mostly emptied, are carried and
// those segments deleted), the checkpoint at Close
// writes its file. Done and Forward of a claim with no file (a resident
// entry's) append their round without waiting for a sync: the parent's
// own record stays durable until a checkpoint's syncfs, which also makes
// the round durable, so a power failure that loses the round costs a
// repeat of the parent, never a message. The next synced round (same
// file) or, within 50 ms, the checkpointer syncs it. A claim with a file
// is removed after its round, so that round is synced first. A process
// crash loses nothing written. Other files and removals are not synced: they
// reach the disk at the next checkpoint (a syncfs, after which the old
// segments go). The other operations commit as
// under SyncFiles, so a round does not flush every journaled entry's
// file. After a crash, Open rewrites from a dead owner's segments every
// entry that is neither present nor finished (serve's Open journals them
// anew and keeps them resident, as far as the budgets go), and drops
// claims whose tombstone it finds.
//
// Finished entries' files are kept as spares and rewritten for new
// entries (recycle.go): allocating an inode is expensive on ext4.
//
// # Crash invariants
//
//  1. An entry whose Enqueue returned nil survives any crash (in its
//     file, or in its writer's journal until a checkpoint).
//  2. A reader never sees a partial entry: entries become visible by an
//     atomic rename of a fsynced file; anything torn anyway (a lying disk)
//     fails its checksum and is moved to corrupt/, never handed to a runner.
//  3. An entry is in exactly one place: a queue, or one owner's claim
//     directory, or (transiently, between a durable move and the removal of
//     the old claim file) in both a queue and a claim directory under the
//     same id. Recovery resolves the last case in favour of the queue.
//  4. Forward is exactly once: children carry Parent and the family size.
//     After a crash, a parent claim whose whole family exists is dropped; a
//     partial family (the crash came before the children were durable) is
//     removed and the parent processed again. Children are not announced to
//     other instances before the parent is durably gone, and an Open that
//     sees a family whose parent a live owner still holds leaves it alone.
//  5. A claim whose owner died (its flock on locks/<owner> is free) goes
//     back to its queue at the next Open with Attempts+1; after
//     MaxAttempts recoveries it goes to shunt with LastError "too many
//     recoveries" instead, so a message that crashes the process cannot loop.
//  6. A claim of a live owner is never taken: the owner holds its flock as
//     long as it runs, and it is released by the kernel when it dies.
//
// # Several processes
//
// Any number of instances may share a directory: `herald serve`, CLI
// commands, or several serve processes. Claiming is a rename, so exactly one
// wins. Each instance learns of entries made ready by others from their kick
// journals (see kick.go: inotify on Linux), so an entry the CLI enqueues or
// unshunts wakes serve's runners at once. Recovery runs only at Open.
// An entry made through the journal is announced only once it has a
// file, at its writer's checkpoint (100 ms after the writer goes quiet, at
// most 30 s under steady load, for an entry written as a file past the
// budgets; at Close for one kept in memory or the journal), and an Open leaves
// live owners' journaled entries to them, so no process finishes an entry
// that another's journal could restore. One-shot commands (no journal)
// still count and list them (Counts, List, Get).
//
// # Disk trouble
//
// Enqueue refuses with ErrDiskFull when free space is under MinFreeBytes,
// and any write or sync failing with ENOSPC, EDQUOT or EIO returns an error
// wrapping ErrDiskFull; either way the temp files are removed and nothing
// partial is visible. IsTemporary reports such errors as temporary.
//
// Directories on the same file system are assumed to keep metadata
// operations in order across fsyncs (true of ext4, xfs and btrfs journaling);
// the package targets Linux and builds on other Unix systems with a polling
// kick watcher and no free-space check.
package spool
