// Command fsyncbase measures the disk's own limit for durable file
// creation, the yardstick for the spool: a single-threaded loop of
// create, write 4 KiB, fsync, rename, fsync(dir) — what a spool without
// group commit pays per message.
//
//	fsyncbase -dir /path/on/the/same/disk -duration 5s
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func main() {
	dir := flag.String("dir", os.TempDir(), "directory on the disk to measure")
	d := flag.Duration("duration", 5*time.Second, "how long to run")
	size := flag.Int("size", 4096, "bytes per file")
	flag.Parse()
	n, el, err := run(*dir, *d, *size)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fsyncbase:", err)
		os.Exit(1)
	}
	fmt.Printf("fsync_per_file files=%d seconds=%.2f files_per_sec=%.0f\n", n, el.Seconds(), float64(n)/el.Seconds())
}

func run(parent string, d time.Duration, size int) (int, time.Duration, error) {
	dir, err := os.MkdirTemp(parent, "fsyncbase-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	df, err := os.Open(dir)
	if err != nil {
		return 0, 0, err
	}
	defer df.Close()
	buf := make([]byte, size)
	start := time.Now()
	n := 0
	for time.Since(start) < d {
		tmp := filepath.Join(dir, fmt.Sprintf("tmp.%d", n))
		f, err := os.Create(tmp)
		if err != nil {
			return n, 0, err
		}
		if _, err := f.Write(buf); err != nil {
			return n, 0, err
		}
		if err := f.Sync(); err != nil {
			return n, 0, err
		}
		if err := f.Close(); err != nil {
			return n, 0, err
		}
		if err := os.Rename(tmp, filepath.Join(dir, fmt.Sprintf("e.%d", n))); err != nil {
			return n, 0, err
		}
		if err := df.Sync(); err != nil {
			return n, 0, err
		}
		n++
	}
	return n, time.Since(start), nil
}
