package spool

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var benchDeep = flag.Int("spool.deep", 0,
	"entries pre-filled for BenchmarkEnqueueClaimDone/deep (default $SPOOL_BENCH_DEEP, else 100000)")

func deepSize() int {
	if *benchDeep > 0 {
		return *benchDeep
	}
	if n, err := strconv.Atoi(os.Getenv("SPOOL_BENCH_DEEP")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

func benchOptions(dir string) Options {
	return Options{Dir: dir, MinFreeBytes: -1, SkipVerify: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

var (
	msg4k = []byte(fmt.Sprintf("Subject: bench\r\n\r\n%4080s", "x"))
	// msgBlock fills one 4 KiB block together with the entry's header, so
	// that a pre-filled million entries take 4 GiB.
	msgBlock = []byte(fmt.Sprintf("Subject: bench\r\n\r\n%3900s", "x"))
)

// prefill writes n entries straight into queue In (no fsync: this is setup,
// not what is measured), older than anything the benchmark enqueues.
func prefill(b *testing.B, dir string, n int) {
	b.Helper()
	t0 := time.Now().Add(-time.Hour)
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				e := &Entry{ID: newID(t0.Add(time.Duration(i) * time.Microsecond)), Message: msgBlock,
					Envelope: Envelope{Queue: In, Domain: "example.org", List: "dev", Alias: "post"}}
				p := hashPath(filepath.Join(dir, In), defaultHashDepth, e.ID)
				buf, _ := encodeBytes(e)
				if err := os.WriteFile(p, buf, fileMode); err != nil {
					if err := os.MkdirAll(filepath.Dir(p), dirMode); err != nil {
						errs <- err
						return
					}
					if err := os.WriteFile(p, buf, fileMode); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// BenchmarkEnqueueClaimDone measures one message's full cycle: a durable
// enqueue of a 4 KiB entry, a claim, a durable Done. The deep variant runs it on top
// of a queue pre-filled with -spool.deep entries.
//
// The nosync variants skip every fsync (a test-only knob): they measure the
// spool's own cost (index, renames, reads) without the disk's flush
// latency, which on a shared virtual disk varies several-fold between runs
// and would hide any depth effect.
//
// Every entry is a file here (no resident entries): claims take the
// oldest entry first, so the deep variant claims the pre-filled files, and
// with resident entries the empty one would claim from memory instead,
// measuring another path rather than the queue's depth.
func BenchmarkEnqueueClaimDone(b *testing.B) {
	for _, sub := range []struct {
		depth  int
		noSync bool
	}{{0, false}, {deepSize(), false}, {0, true}, {deepSize(), true}} {
		depth := sub.depth
		name := "sync/empty"
		if sub.noSync {
			name = "nosync/empty"
		}
		if depth > 0 {
			name = strings.Replace(name, "empty", fmt.Sprintf("deep=%d", depth), 1)
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			prefill(b, dir, depth)
			syscall.Sync() // don't measure the write-back of the setup
			start := time.Now()
			s, err := Open(context.Background(), benchOptions(dir))
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Close() }()
			s.testingNoSync = sub.noSync
			s.residentMax, s.spillMax = 0, 0 // see above
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			b.Logf("open of %d entries: %v, heap %d MiB", depth, time.Since(start), ms.HeapAlloc>>20)
			ctx := context.Background()
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Enqueue(ctx, Item{Queue: In, Message: msgBlock}); err != nil {
					b.Fatal(err)
				}
				c, ok, err := s.TryClaim(In)
				if err != nil || !ok {
					b.Fatalf("claim: %v %v", ok, err)
				}
				if err := c.Done(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			// CPU time (user+sys, all threads) per op: steadier than wall
			// time on a loaded machine.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			if got := s.Counts()[In]; depth > 0 && got != depth {
				b.Fatalf("queue depth drifted to %d", got)
			}
		})
	}
}

// BenchmarkEnqueueWriters measures durable enqueue throughput of 4 KiB
// messages with 1, 8 and 32 concurrent writers (group commit).
func BenchmarkEnqueueWriters(b *testing.B) {
	for _, writers := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s, err := Open(context.Background(), benchOptions(b.TempDir()))
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Close() }()
			var left atomic.Int64
			left.Store(int64(b.N))
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for left.Add(-1) >= 0 {
						if _, err := s.Enqueue(context.Background(), Item{Queue: Out, Message: msg4k}); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			m := s.Metrics()
			b.ReportMetric(float64(m.Acked)/float64(max(m.SyncBatches, 1)), "msgs/batch")
		})
	}
}

// BenchmarkFsyncLoopBaseline is the naive durable write, one message at a
// time: create, write, fsync, rename, fsync(dir).
func BenchmarkFsyncLoopBaseline(b *testing.B) {
	dir := b.TempDir()
	start := time.Now()
	i := 0
	for b.Loop() {
		i++
		tmp := filepath.Join(dir, fmt.Sprintf(".tmp%d", i))
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Write(msg4k); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, strconv.Itoa(i))); err != nil {
			b.Fatal(err)
		}
		if err := syncDir(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// cpuTime is the process's user+system CPU time in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkSteadyState measures a spool whose queue stays short: 32
// writers each enqueue a 4 KiB message, then claim one and finish it, so
// finished entries' files are reused (no inode is made or freed) and the
// cost is the durability of each round: with the write-ahead journal (the
// default) and without it (one syncfs per group commit).
func BenchmarkSteadyState(b *testing.B) {
	for _, noJournal := range []bool{false, true} {
		name := "journal"
		if noJournal {
			name = "syncfs"
		}
		b.Run(name, func(b *testing.B) {
			opts := benchOptions(b.TempDir())
			opts.NoJournal = noJournal
			s, err := Open(context.Background(), opts)
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Close() }()
			steadyState(b, s)
		})
	}
}

func steadyState(b *testing.B, s *Spool) {
	ctx := context.Background()
	var left atomic.Int64
	left.Store(int64(b.N))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if _, err := s.Enqueue(ctx, Item{Queue: Out, Message: msg4k}); err != nil {
					b.Error(err)
					return
				}
				c, err := s.Claim(ctx, Out)
				if err == nil {
					err = c.Done(ctx)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	m := s.Metrics()
	b.ReportMetric(float64(m.FilesCreated)/float64(b.N), "creates/op")
}
