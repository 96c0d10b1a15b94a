package server

import (
	"log/slog"
	"os"
	"runtime"
	"sync"
)

// ExtraProcs is how many Go processors serve runs beyond the runtime's
// default (the CPUs it may use). herald's spool syncers, its SQLite
// writer and its file commits spend much of their time in fdatasync and
// fsync, and a thread blocked there keeps its processor until the
// runtime's monitor takes it back. With as many processors as CPUs, the
// LMTP sessions then waited behind the runners on the processors left.
// On the 2-CPU test machine, with 2 more, 32 sessions with the runners on
// went from 3,070-3,302 to 4,272-4,359 msgs/s over TCP (p99 27 -> 17 ms)
// and end to end (bench/sustained.sh 15) from 1,499-1,536 to 1,606-1,653
// msgs/s; 4 more did no better than 2.
const ExtraProcs = 2

// procs returns the processors serve should run, given the GOMAXPROCS
// environment variable and the runtime's default; 0 means leave it: an
// operator's GOMAXPROCS is obeyed as it is.
func procs(env string, def int) int {
	if env != "" {
		return 0
	}
	return def + ExtraProcs
}

// procsOnce: the default is read from the runtime, so a second Run in the
// same process must not add to what the first set.
var procsOnce sync.Once

// tuneProcs sets the processors for serve (see ExtraProcs), once per
// process. Setting them ends the runtime's own updates of the default when
// the CPU limit of the process's cgroup changes; a restart picks a new
// limit up.
func tuneProcs(log *slog.Logger) {
	procsOnce.Do(func() {
		def := runtime.GOMAXPROCS(0)
		n := procs(os.Getenv("GOMAXPROCS"), def)
		if n == 0 {
			return
		}
		runtime.GOMAXPROCS(n)
		log.Debug("go processors", "gomaxprocs", n, "cpus", def)
	})
}
