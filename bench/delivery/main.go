// Command delivery measures herald's fan-out to the MTA: it creates lists
// of -sizes members over -domains domains, posts one message to each over
// LMTP, and times until an SMTP sink on loopback has received every
// recipient, in bulk and in VERP mode. In the same run it measures the
// sink's own ceiling with a minimal pipelined client (and, if installed,
// Postfix's smtp-source), and prints herald's recipients/s as a ratio of
// it, with herald's peak RSS (VmHWM) per run. The machine is shared, so
// the ceiling is measured again right before each herald run (the ratio
// to that one, and to the best ceiling seen, are both printed).
//
//	go run ./bench/delivery -sizes 10000,100000
//
// Each run starts herald, waits -settle (its start-up work, such as the
// bounce policy's first pass, is not a post's delivery), posts twice, one
// post after the other has reached every member, and stops herald. The
// first post is printed as "cold": herald has no connection to the MTA
// yet and opens them while it sends. The second is the one measured
// against the ceiling: a server that has sent mail in the last 30 s keeps
// its MTA connections open, as the ceiling's client does. The machine is
// noisy: -repeat warm posts are made and their median printed, against
// the median of as many ceiling runs made just before.
//
// Two sinks are measured in turn (-sinks): Postfix's smtp-sink, the MTA
// stand-in the brief names (postfixsink.go; Debian package postfix), and
// the bench's own counting sink in this process (sink.go: pipelining, one
// write per batch of replies), which takes recipients two to three times
// faster than smtp-sink and so is the stricter ceiling. Lists are made with the herald CLI and
// filled through the store's AddMembers batch, once per -dir; pass -dir
// to reuse a prepared instance, and -cpuprofile DIR for a CPU profile of
// herald per run.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"herald/internal/store"
	_ "herald/internal/store/sqlite" // the bench's fixture writes members directly

	"github.com/emersion/go-smtp"
)

var (
	sizesFlag = flag.String("sizes", "10000,100000", "list sizes")
	domains   = flag.Int("domains", 300, "member domains")
	conns     = flag.Int("connections", 8, "herald's [delivery] connections (and the ceiling client's)")
	maxRcpt   = flag.Int("max-recipients", 500, "herald's [delivery] max_recipients")
	modesFlag = flag.String("modes", "bulk,verp", "modes to measure")
	dirFlag   = flag.String("dir", "", "instance directory to create or reuse (default: a temp dir)")
	logLevel  = flag.String("log-level", "info", "herald's log level")
	cpuProf   = flag.String("cpuprofile", "", "directory for a CPU profile of herald per run (builds ./bench/delivery/profherald)")
	repeat    = flag.Int("repeat", 3, "measured posts per run (after the cold one) and ceiling runs before it; the medians are printed")
	sinksFlag = flag.String("sinks", "postfix,go", "sinks to deliver to, each measured in turn: postfix (Postfix's smtp-sink), go (the bench's in-process counting sink)")
	settle    = flag.Duration("settle", time.Second, "wait after herald listens before posting (its start-up work is not a post's delivery)")
)

const body = "From: Poster <poster@example.com>\r\nTo: LIST\r\nSubject: bench\r\nMessage-ID: <MID@example.com>\r\n" +
	"Date: Mon, 1 Jun 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"

func message(list string, i int) []byte {
	h := strings.ReplaceAll(strings.ReplaceAll(body, "LIST", list), "MID", fmt.Sprintf("%d.%d", time.Now().UnixNano(), i))
	return []byte(h + strings.Repeat("This is a line of a benchmark post, about seventy characters long.\r\n", 20))
}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	if *repeat < 1 {
		return fmt.Errorf("-repeat must be at least 1, got %d", *repeat)
	}
	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-sizes: %w", err)
		}
		sizes = append(sizes, n)
	}
	dir := *dirFlag
	if dir == "" {
		d, err := os.MkdirTemp("", "herald-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	bin, pkg := filepath.Join(dir, "herald"), "./cmd/herald"
	if *cpuProf != "" {
		pkg = "./bench/delivery/profherald"
		if err := os.MkdirAll(*cpuProf, 0o755); err != nil {
			return err
		}
	}
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		return fmt.Errorf("build herald (run from the module root): %v: %s", err, out)
	}
	inst, err := newInstance(dir, bin)
	if err != nil {
		return err
	}
	fmt.Printf("herald delivery bench: %d domains, %d connections, max_recipients %d, %d CPUs\n",
		*domains, *conns, *maxRcpt, numCPU())
	fmt.Printf("each run: the sink's ceiling measured again just before (machine load varies; median of %d), herald's rate (median of %d posts after a cold one) as a ratio of it and of the best ceiling seen for that sink and mode\n", *repeat, *repeat)
	msg := message("bench@lists.example.org", 0)
	for _, kind := range strings.Split(*sinksFlag, ",") {
		if err := runSink(inst, kind, sizes, msg); err != nil {
			return err
		}
	}
	return nil
}

// sinkFor starts the sink of kind for mode: the in-process counting sink
// (go) or Postfix's smtp-sink (postfix), counted by dump in bulk.
func sinkFor(kind, mode string) (sink, error) {
	switch kind {
	case "go":
		return startSink(true)
	case "postfix":
		return startPostfixSink(mode != "verp")
	}
	return nil, fmt.Errorf("-sinks: unknown sink %q (go, postfix)", kind)
}

// runSink measures every size and mode against one kind of sink.
func runSink(inst *instance, kind string, sizes []int, msg []byte) error {
	fmt.Printf("\nsink: %s\n", sinkTitle[kind])
	if _, err := postfixTool("smtp-sink"); kind == "postfix" && err != nil {
		fmt.Println("skipped: smtp-sink not found (Debian package postfix)")
		return nil
	}
	if s, err := sinkFor(kind, "bulk"); err == nil {
		if r, err := smtpSource(s.addr(), *conns, 1000, 100); err == nil {
			r1, _ := smtpSource(s.addr(), *conns, 20000, 1)
			fmt.Printf("reference, Postfix smtp-source (lock-step) into this sink: %.0f rcpt/s (100/transaction), %.0f rcpt/s (1/transaction)\n", r, r1)
		}
		s.close()
	}
	fmt.Printf("%-8s %-5s %7s %8s %10s %10s %9s %9s %8s %10s\n", "members", "mode", "cold s", "seconds", "rcpt/s", "ceiling", "of it", "of best", "target", "VmHWM MB")
	best := map[string]float64{}
	for _, n := range sizes {
		list := fmt.Sprintf("bench%d", n)
		if err := inst.ensureList(list, n); err != nil {
			return err
		}
		for _, mode := range strings.Split(*modesFlag, ",") {
			if err := runOne(inst, kind, list, n, mode, msg, best); err != nil {
				return fmt.Errorf("%s sink, %s %d: %w", kind, mode, n, err)
			}
		}
	}
	return nil
}

var sinkTitle = map[string]string{
	"go":      "the bench's own counting sink (in process, pipelining, one write per batch of replies): the strictest ceiling",
	"postfix": "Postfix smtp-sink (Debian package postfix), the MTA stand-in the brief measures against",
}

// runOne measures one post of list (n members) in mode against a fresh
// sink of kind, after that sink's ceiling, and prints the row.
func runOne(inst *instance, kind, list string, n int, mode string, msg []byte, best map[string]float64) error {
	target, per, ceilN := 0.70, 100, n
	interval := "0"
	if mode == "verp" {
		target, per, ceilN, interval = 0.50, 1, 20000, "1"
	}
	if _, err := inst.cli("lists", "set", list+"@lists.example.org", "verp_delivery_interval="+interval); err != nil {
		return err
	}
	s, err := sinkFor(kind, mode)
	if err != nil {
		return err
	}
	defer s.close()
	if err := inst.writeConfig(s.addr()); err != nil {
		return err
	}
	ceil, err := medianCeiling(s.addr(), *conns, ceilN, per, msg)
	if err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	if mode != "verp" && *maxRcpt != per {
		// The sink may take herald's bigger transactions faster (smtp-sink
		// dumps per transaction): the ceiling is the better of the two.
		c, err := medianCeiling(s.addr(), *conns, ceilN, *maxRcpt, msg)
		if err != nil {
			return fmt.Errorf("ceiling: %w", err)
		}
		ceil = max(ceil, c)
	}
	best[mode] = max(best[mode], ceil)
	cold, secs, hwm, err := inst.measure(s, list, n, mode)
	if err != nil {
		return err
	}
	rate := float64(n) / secs
	ok := "ok"
	if rate/ceil < target {
		ok = "MISSED"
	}
	fmt.Printf("%-8d %-5s %7.3f %8.3f %10.0f %10.0f %8.0f%% %8.0f%% %5.0f%% %-6s %6.1f\n", n, mode, cold, secs, rate, ceil,
		100*rate/ceil, 100*rate/best[mode], 100*target, ok, float64(hwm)/1024)
	return nil
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

// instance is one herald data dir with its config.
type instance struct {
	dir, bin, cfg, lmtp string
}

func newInstance(dir, bin string) (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	lmtp := ln.Addr().String()
	ln.Close()
	inst := &instance{dir: dir, bin: bin, cfg: filepath.Join(dir, "herald.toml"), lmtp: lmtp}
	if err := inst.writeConfig("127.0.0.1:25"); err != nil {
		return nil, err
	}
	if _, err := inst.cli("domains", "add", "lists.example.org"); err != nil && !strings.Contains(err.Error(), "exists") {
		if !strings.Contains(err.Error(), "conflict") {
			return nil, err
		}
	}
	return inst, nil
}

// writeConfig writes herald's config, delivering to the MTA at smtpAddr.
func (i *instance) writeConfig(smtpAddr string) error {
	host, port, err := net.SplitHostPort(smtpAddr)
	if err != nil {
		return err
	}
	cfg := fmt.Sprintf("data_dir = \"data\"\n[lmtp]\nlisten = %q\nsocket = \"\"\nhostname = \"bench.invalid\"\n"+
		"[smtp]\nhost = %q\nport = %s\nhelo = \"bench.invalid\"\n[http]\nlisten = \"\"\n[spool]\nmin_free_mb = 1\n"+
		"[delivery]\nconnections = %d\nmax_recipients = %d\n[log]\nlevel = %q\n", i.lmtp, host, port, *conns, *maxRcpt, *logLevel)
	return os.WriteFile(i.cfg, []byte(cfg), 0o644)
}

func (i *instance) cli(args ...string) (string, error) {
	cmd := exec.Command(i.bin, append([]string{"--config", i.cfg}, args...)...)
	cmd.Dir = i.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("herald %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// ensureList creates LIST with n members unless it exists.
func (i *instance) ensureList(list string, n int) error {
	addr := list + "@lists.example.org"
	if _, err := i.cli("lists", "show", addr); err == nil {
		return nil
	}
	if _, err := i.cli("lists", "create", addr); err != nil {
		return err
	}
	if _, err := i.cli("lists", "set", addr, "default_nonmember_action=accept", "require_explicit_destination=false",
		"max_message_size=0"); err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "adding %d members to %s ...", n, addr)
	if err := i.addMembers(list, n); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, " %.1f s\n", time.Since(start).Seconds())
	return nil
}

// addMembers subscribes n members straight through the store's batch
// (one transaction per 10,000): the fixture, not what is measured.
// `herald members add` takes members through the subscription workflow
// (bans, requests, welcome mail), one address at a time.
func (i *instance) addMembers(list string, n int) error {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(i.dir, "data", "herald.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	l, err := st.GetList(ctx, list, "lists.example.org")
	if err != nil {
		return err
	}
	for start := 0; start < n; start += 10000 {
		var ms []*store.Member
		for k := start; k < min(start+10000, n); k++ {
			m := store.DefaultMember(l.ID, fmt.Sprintf("user%06d@d%03d.example", k, k%*domains), store.RoleMember)
			ms = append(ms, &m)
		}
		if _, err := st.AddMembers(ctx, ms); err != nil {
			return err
		}
	}
	return nil
}

// measure starts herald, posts twice (see the package comment), and
// returns the seconds from each LMTP post to its last recipient at the
// sink, and herald's peak RSS in KiB.
func (i *instance) measure(sink sink, list string, n int, mode string) (cold, warm float64, hwmKiB int64, err error) {
	logf, err := os.OpenFile(filepath.Join(i.dir, "herald.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, 0, 0, err
	}
	defer logf.Close()
	cmd := exec.Command(i.bin, "--config", i.cfg, "serve")
	cmd.Dir, cmd.Stdout, cmd.Stderr = i.dir, logf, logf
	if *cpuProf != "" {
		abs, err := filepath.Abs(filepath.Join(*cpuProf, fmt.Sprintf("cpu-%d-%s.pprof", n, mode)))
		if err != nil {
			return 0, 0, 0, err
		}
		cmd.Env = append(os.Environ(), "BENCH_HERALD_CPUPROFILE="+abs)
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	if err := waitListen(i.lmtp); err != nil {
		return 0, 0, 0, err
	}
	time.Sleep(*settle)
	if cold, err = i.post(sink, list, n, mode+" cold"); err != nil {
		return 0, 0, 0, err
	}
	warms := make([]float64, *repeat)
	for k := range warms {
		if warms[k], err = i.post(sink, list, n, mode); err != nil {
			return 0, 0, 0, err
		}
	}
	return cold, median(warms), vmHWM(cmd.Process.Pid), nil
}

// post posts once to list and waits until the sink has n more recipients;
// it returns the seconds from the LMTP post to the last of them.
func (i *instance) post(sink sink, list string, n int, label string) (float64, error) {
	exp := sink.expect(int64(n))
	start := time.Now()
	if err := lmtpPost(i.lmtp, list+"@lists.example.org", message(list+"@lists.example.org", n)); err != nil {
		return 0, err
	}
	select {
	case <-exp.done:
	case <-time.After(10 * time.Minute):
		return 0, fmt.Errorf("sink has %d of %d after 10 minutes", sink.count()-exp.base, n)
	}
	secs := exp.last.Sub(start).Seconds()
	fmt.Fprintf(os.Stderr, "%s %d: first recipient at the sink after %.4f s, last after %.4f s\n", label, n, exp.first.Sub(start).Seconds(), secs)
	return secs, nil
}

func waitListen(addr string) error {
	for range 400 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("herald did not listen")
}

func lmtpPost(addr, rcpt string, msg []byte) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("bench.invalid"); err != nil {
		return err
	}
	if err := c.Mail("poster@example.com", nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// vmHWM reads the peak resident set size (KiB) of pid.
func vmHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return -1
}

// medianCeiling is the median of -repeat ceiling runs.
func medianCeiling(addr string, conns, n, per int, msg []byte) (float64, error) {
	rates := make([]float64, *repeat)
	for k := range rates {
		r, err := ceiling(addr, conns, n, per, msg)
		if err != nil {
			return 0, err
		}
		rates[k] = r
	}
	return median(rates), nil
}

// median returns the middle value of xs (the mean of the middle two for
// an even count); xs is sorted in place.
func median(xs []float64) float64 {
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}
