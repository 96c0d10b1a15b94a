// Command ingress compares herald's three ingress paths on one machine,
// against a running `herald serve` (bench/ingress.sh starts one):
//
//   - lmtp: N concurrent LMTP sessions on TCP, one recipient per message;
//     a message counts once herald answered 250 (durable);
//
//   - inject: `herald inject` fork/exec'd per message (as an MTA's pipe
//     transport does), P in parallel; counts on exit 0 (durable);
//
//   - maildir: M files renamed into <root>/<domain>/<list>/post/new/ at
//     once (as Postfix's virtual agent delivers), counted when the runner
//     removed the last one (each removal follows a durable spool entry).
//
//     ingress -herald bin/herald -config herald.toml -maildir ROOT -rcpt bench@lists.example.org
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

type opts struct {
	herald, config, lmtp, maildir, rcpt string
	size, count                         int
}

func main() {
	var o opts
	flag.StringVar(&o.herald, "herald", "bin/herald", "herald binary")
	flag.StringVar(&o.config, "config", "herald.toml", "herald.toml of the running serve")
	flag.StringVar(&o.lmtp, "lmtp", "127.0.0.1:8024", "LMTP TCP address")
	flag.StringVar(&o.maildir, "maildir", "", "Maildir root of the running serve (\"\" skips the maildir path)")
	flag.StringVar(&o.rcpt, "rcpt", "bench@lists.example.org", "list address")
	flag.IntVar(&o.size, "size", 4096, "message size in bytes")
	flag.IntVar(&o.count, "count", 1000, "messages per measurement")
	par := flag.String("parallel", "1,8", "concurrency levels, comma-separated")
	flag.Parse()
	for _, p := range strings.Split(*par, ",") {
		var n int
		if _, err := fmt.Sscan(p, &n); err != nil || n <= 0 {
			fail(fmt.Errorf("bad -parallel %q", p))
		}
		report(o, "lmtp", n, timed(func() error { return lmtpRun(o, n) }))
		report(o, "inject", n, timed(func() error { return injectRun(o, n) }))
	}
	if o.maildir != "" {
		report(o, "maildir", 0, func() (time.Duration, error) { return maildirRun(o) })
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ingress:", err)
	os.Exit(1)
}

// timed measures run's wall-clock time.
func timed(run func() error) func() (time.Duration, error) {
	return func() (time.Duration, error) {
		start := time.Now()
		err := run()
		return time.Since(start), err
	}
}

func report(o opts, path string, par int, run func() (time.Duration, error)) {
	d, err := run()
	if err != nil {
		fail(fmt.Errorf("%s: %w", path, err))
	}
	conc := fmt.Sprintf("parallel=%d", par)
	if par == 0 {
		conc = "parallel=runner"
	}
	fmt.Printf("path=%-7s %-15s msgs=%d size=%d secs=%.2f msgs_per_sec=%.0f\n", path, conc, o.count, o.size, d.Seconds(), float64(o.count)/d.Seconds())
}

// message is a post of about size bytes with a unique Message-ID.
func message(size int, tag string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: member@example.net\r\nTo: bench@lists.example.org\r\nSubject: bench %s\r\nMessage-ID: <%s.%d@bench.invalid>\r\n\r\n", tag, tag, time.Now().UnixNano())
	line := strings.Repeat("x", 76) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	return b.Bytes()
}

// split runs fn(worker, i) for count items over par workers.
func split(par, count int, fn func(w, i int) error) error {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for w := range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				if err := fn(w, i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func lmtpRun(o opts, par int) error {
	clients := make([]*smtp.Client, par)
	defer func() {
		for _, c := range clients {
			if c != nil {
				_ = c.Quit() // done sending
			}
		}
	}()
	return split(par, o.count, func(w, i int) error {
		if clients[w] == nil {
			conn, err := net.Dial("tcp", o.lmtp)
			if err != nil {
				return err
			}
			c := smtp.NewClientLMTP(conn)
			if err := c.Hello("bench.invalid"); err != nil {
				return err
			}
			clients[w] = c
		}
		return clients[w].SendMail("member@example.net", []string{o.rcpt}, bytes.NewReader(message(o.size, fmt.Sprintf("lmtp%d", i))))
	})
}

func injectRun(o opts, par int) error {
	return split(par, o.count, func(_, i int) error {
		cmd := exec.Command(o.herald, "--config", o.config, "inject", "--rcpt", o.rcpt, "--sender", "member@example.net")
		cmd.Stdin = bytes.NewReader(message(o.size, fmt.Sprintf("inject%d", i)))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("inject: %v: %s", err, out)
		}
		return nil
	})
}

func maildirRun(o opts) (time.Duration, error) {
	at := strings.LastIndexByte(o.rcpt, '@')
	dir := filepath.Join(o.maildir, o.rcpt[at+1:], o.rcpt[:at], "post")
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return 0, err
		}
	}
	// Stage every file in tmp/ first, then rename them into new/ as fast
	// as an MTA would deliver: the clock runs from the first rename until
	// the runner has taken the last file.
	names := make([]string, o.count)
	for i := range names {
		names[i] = fmt.Sprintf("%d.M%dP%d.bench", time.Now().Unix(), i, os.Getpid())
		data := append([]byte("Return-Path: <member@example.net>\r\nDelivered-To: "+o.rcpt+"\r\n"), message(o.size, fmt.Sprintf("maildir%d", i))...)
		if err := os.WriteFile(filepath.Join(dir, "tmp", names[i]), data, 0o600); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	for _, n := range names {
		if err := os.Rename(filepath.Join(dir, "tmp", n), filepath.Join(dir, "new", n)); err != nil {
			return 0, err
		}
	}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		ents, err := os.ReadDir(filepath.Join(dir, "new"))
		if err != nil {
			return 0, err
		}
		if len(ents) == 0 {
			return time.Since(start), nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, errors.New("the maildir runner did not take every file within 5 minutes")
}
