package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// postfixSink is Postfix's smtp-sink (Debian package postfix) on
// loopback: the MTA the brief measures delivery against. smtp-sink counts
// messages, not recipients, so it is run in one of two ways:
//
//   - byDump (bulk): -D appends every transaction to a dump file, one
//     "X-Rcpt-Args:" line per recipient; the file is read as it grows (every
//     200 us) and those lines counted. With tens of transactions per post the
//     dump costs the sink little.
//   - byMessages (VERP, one recipient per transaction): -c prints a running
//     message count on every "."; the count is read from its output as it
//     comes. (A dump of every one-recipient transaction would cost the sink
//     two thirds of its rate.)
type postfixSink struct {
	tally
	address string
	cmd     *exec.Cmd
	dir     string
	stop    chan struct{}
	done    chan struct{}
}

// postfixTool finds one of Postfix's test programs (smtp-sink,
// smtp-source): on PATH, else in /usr/sbin, which a user's PATH may lack.
func postfixTool(name string) (string, error) {
	if bin, err := exec.LookPath(name); err == nil {
		return bin, nil
	}
	return exec.LookPath("/usr/sbin/" + name)
}

// startPostfixSink starts smtp-sink counting by dump (byDump) or by its
// message counter.
func startPostfixSink(byDump bool) (*postfixSink, error) {
	bin, err := postfixTool("smtp-sink")
	if err != nil {
		return nil, fmt.Errorf("smtp-sink (Debian package postfix): %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	address := ln.Addr().String()
	ln.Close()
	shm := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		shm = "/dev/shm"
	}
	dir, err := os.MkdirTemp(shm, "herald-smtp-sink-")
	if err != nil {
		return nil, err
	}
	// smtp-sink drops root privileges to -u; that user writes the dump.
	if err := os.Chmod(dir, 0o777); err != nil {
		return nil, err
	}
	args := []string{}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody")
	}
	dump := filepath.Join(dir, "dump")
	if byDump {
		args = append(args, "-D", dump)
	} else {
		args = append(args, "-c")
	}
	s := &postfixSink{address: address, dir: dir, stop: make(chan struct{}), done: make(chan struct{})}
	s.cmd = exec.Command(bin, append(args, address, "256")...)
	s.cmd.Stderr = os.Stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("smtp-sink: %w", err)
	}
	if byDump {
		go s.readDump(dump)
		go func() { _, _ = io.Copy(io.Discard, out) }()
	} else {
		go s.readCounter(out)
	}
	if err := waitListen(address); err != nil {
		s.close()
		return nil, fmt.Errorf("smtp-sink: %w", err)
	}
	return s, nil
}

func (s *postfixSink) addr() string { return s.address }

func (s *postfixSink) close() error {
	close(s.stop)
	err := s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	<-s.done
	return errors.Join(err, os.RemoveAll(s.dir))
}

// readCounter follows smtp-sink -c's output, "sess=N quit=N mesg=N\r" per
// update: every message is one recipient.
func (s *postfixSink) readCounter(out io.Reader) {
	defer close(s.done)
	buf := make([]byte, 64<<10)
	var tail []byte
	for {
		n, err := out.Read(buf)
		if n > 0 {
			tail = append(tail, buf[:n]...)
			if i := bytes.LastIndexByte(tail, '\r'); i >= 0 {
				if m, ok := lastMesg(tail[:i]); ok {
					s.set(m)
				}
				tail = append(tail[:0], tail[i+1:]...)
			}
		}
		if err != nil {
			return
		}
	}
}

// lastMesg is the last "mesg=N" count in b.
func lastMesg(b []byte) (int64, bool) {
	i := bytes.LastIndex(b, []byte("mesg="))
	if i < 0 {
		return 0, false
	}
	digits := b[i+len("mesg="):]
	if j := bytes.IndexAny(digits, " \r\n"); j >= 0 {
		digits = digits[:j]
	}
	n, err := strconv.ParseInt(string(digits), 10, 64)
	return n, err == nil
}

// readDump follows the dump file as smtp-sink appends to it and counts its
// recipient lines.
func (s *postfixSink) readDump(path string) {
	defer close(s.done)
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	buf := make([]byte, 1<<20)
	var partial []byte
	var total int64
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		if f == nil {
			var err error
			if f, err = os.Open(path); err != nil {
				continue // no transaction yet
			}
		}
		for {
			n, err := f.Read(buf)
			if n == 0 || err != nil {
				break
			}
			chunk := append(partial, buf[:n]...)
			last := bytes.LastIndexByte(chunk, '\n')
			if last < 0 {
				partial = chunk
				continue
			}
			total += int64(countLines(chunk[:last+1], []byte("X-Rcpt-Args:")))
			partial = append(partial[:0:0], chunk[last+1:]...)
		}
		if total != s.count() {
			s.set(total)
		}
	}
}

// countLines counts the lines of b (whole lines) that start with prefix.
func countLines(b, prefix []byte) int {
	n := 0
	for len(b) > 0 {
		if bytes.HasPrefix(b, prefix) {
			n++
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		b = b[i+1:]
	}
	return n
}
