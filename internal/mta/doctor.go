package mta

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"herald/internal/config"
	"herald/internal/mta/model"
	"herald/internal/mta/postfix"
	"herald/internal/mta/socketmap"

	"github.com/emersion/go-smtp"
)

// Finding is one doctor check's result, in plain words.
type Finding struct {
	OK   bool   `json:"ok"`
	What string `json:"what"`
	// Fix says what to do when !OK.
	Fix string `json:"fix,omitempty"`
}

// dialTimeout bounds every network check.
const dialTimeout = 5 * time.Second

// Doctor checks the integration from herald's side: LMTP answers, the
// maps on disk match the store, Postfix (when present) uses them, the
// Maildir root is usable and the MTA accepts herald's outgoing SMTP.
func Doctor(ctx context.Context, cfg *config.Config, src Source) []Finding {
	var out []Finding
	out = append(out, checkLMTP(ctx, cfg)...)
	out = append(out, checkMaps(ctx, cfg, src)...)
	if cfg.Maildir.Root != "" {
		out = append(out, checkMaildir(cfg.Maildir.Root))
	}
	if cfg.MTA.Socketmap != "" {
		out = append(out, checkSocketmap(ctx, cfg.MTA.Socketmap))
	}
	out = append(out, checkRelay(ctx, cfg, src))
	return out
}

func checkLMTP(ctx context.Context, cfg *config.Config) []Finding {
	var out []Finding
	for _, ep := range []struct{ network, addr string }{{"tcp", cfg.LMTP.Listen}, {"unix", cfg.LMTP.Socket}} {
		if ep.addr == "" {
			continue
		}
		what := fmt.Sprintf("herald's LMTP server answers on %s", ep.addr)
		if err := lhlo(ctx, ep.network, ep.addr); err != nil {
			out = append(out, Finding{What: what, Fix: fmt.Sprintf("nothing answers LMTP there (%v): start herald serve, or check lmtp.listen / lmtp.socket", err)})
			continue
		}
		out = append(out, Finding{OK: true, What: what})
	}
	return out
}

func lhlo(ctx context.Context, network, addr string) error {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return err
	}
	_ = conn.SetDeadline(time.Now().Add(dialTimeout)) // best effort
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("herald-doctor"); err != nil {
		return err
	}
	return c.Quit()
}

func checkMaps(ctx context.Context, cfg *config.Config, src Source) []Finding {
	snap, err := Load(ctx, src)
	if err != nil {
		return []Finding{{What: "the store can be read", Fix: err.Error()}}
	}
	var out []Finding
	for _, g := range Generators() {
		t := TargetFor(cfg, g.Name())
		what := fmt.Sprintf("the %s maps in %s match the %d domains and %d lists", g.Name(), t.Dir, len(snap.Domains), len(snap.Lists))
		if stale := Stale(g, snap, t); len(stale) > 0 {
			out = append(out, Finding{What: what, Fix: fmt.Sprintf("out of date: %s; run herald mta %s", strings.Join(stale, ", "), g.Name())})
			continue
		}
		out = append(out, Finding{OK: true, What: what})
	}
	t := TargetFor(cfg, "postfix")
	if t.Postfix.Postmap {
		what := "the Postfix map databases are newer than their text files"
		if stale := postfix.StaleDatabases(t); len(stale) > 0 {
			out = append(out, Finding{What: what, Fix: fmt.Sprintf("stale or missing databases for %s; run herald mta postfix (it runs postmap)", strings.Join(stale, ", "))})
		} else {
			out = append(out, Finding{OK: true, What: what})
		}
	}
	if f, ok := checkPostfixUsesMaps(ctx, t); ok {
		out = append(out, f, checkSearchable(t.Dir))
	}
	return out
}

// checkSearchable reports whether unprivileged MTA daemons (Postfix's run
// as user postfix) can reach dir: every directory above it must be
// searchable by others.
func checkSearchable(dir string) Finding {
	what := "the MTA's unprivileged daemons can reach " + dir
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return Finding{What: what, Fix: err.Error()}
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return Finding{What: what, Fix: "chmod o+x " + d + " (Postfix reads the maps as user postfix)"}
		}
		if d == filepath.Dir(d) {
			return Finding{OK: true, What: what}
		}
	}
}

// checkPostfixUsesMaps asks postconf whether main.cf names herald's maps.
// It reports nothing when Postfix is not configured on this host.
func checkPostfixUsesMaps(ctx context.Context, t *model.Target) (Finding, bool) {
	bin, err := postfix.Binary("postconf")
	if err != nil {
		return Finding{}, false
	}
	cfgDir := t.Postfix.ConfigDir
	if cfgDir == "" {
		cfgDir = "/etc/postfix"
	}
	if _, err := os.Stat(filepath.Join(cfgDir, "main.cf")); err != nil {
		return Finding{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-c", cfgDir, "-h", "transport_maps", "relay_recipient_maps", "virtual_mailbox_maps")
	cmd.Stdout = &out
	what := "Postfix (" + cfgDir + ") uses herald's maps"
	if err := cmd.Run(); err != nil {
		return Finding{What: what, Fix: fmt.Sprintf("postconf failed: %v", err)}, true
	}
	want := filepath.Join(t.Dir, postfix.Recipients)
	if t.Transport == "maildir" {
		want = filepath.Join(t.Dir, postfix.VMailbox)
	}
	got := out.String()
	if !strings.Contains(got, filepath.Join(t.Dir, postfix.Transport)) || !strings.Contains(got, want) {
		return Finding{What: what, Fix: "main.cf does not name " + want + " and the transport map; apply the output of herald mta postfix with postconf -e"}, true
	}
	return Finding{OK: true, What: what}, true
}

func checkMaildir(root string) Finding {
	what := "the Maildir root " + root + " exists"
	fi, err := os.Stat(root)
	if err != nil || !fi.IsDir() {
		return Finding{What: what, Fix: "create it and make it writable by the MTA's delivery user (see herald mta postfix)"}
	}
	return Finding{OK: true, What: what}
}

// checkRelay opens an SMTP session to the MTA herald delivers through and
// checks it would take a list post for an outside address (MAIL and RCPT,
// then RSET: nothing is sent).
func checkRelay(ctx context.Context, cfg *config.Config, src Source) Finding {
	addr := cfg.SMTPAddr()
	what := "the MTA at " + addr + " accepts herald's outgoing mail"
	from := "herald-doctor@" + cfg.SMTP.Helo
	if snap, err := Load(ctx, src); err == nil && len(snap.Lists) > 0 {
		from = snap.Lists[0].Name + "-bounces@" + snap.Lists[0].Domain
	}
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return Finding{What: what, Fix: fmt.Sprintf("cannot connect (%v): check [smtp] host and port, and that the MTA listens there", err)}
	}
	_ = conn.SetDeadline(time.Now().Add(dialTimeout)) // best effort
	c := smtp.NewClient(conn)
	defer c.Close()
	steps := []struct {
		name string
		run  func() error
	}{
		{"EHLO " + cfg.SMTP.Helo, func() error { return c.Hello(cfg.SMTP.Helo) }},
		{"MAIL FROM:<" + from + ">", func() error { return c.Mail(from, nil) }},
		{"RCPT TO:<postmaster@example.com>", func() error { return c.Rcpt("postmaster@example.com", nil) }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			return Finding{What: what, Fix: fmt.Sprintf("the MTA refused %s: %v (let herald's address relay, e.g. Postfix mynetworks)", s.name, err)}
		}
	}
	_ = c.Reset() // only probing; nothing was sent
	_ = c.Quit()  // same
	return Finding{OK: true, What: what}
}

// checkSocketmap asks herald's socketmap server one question.
func checkSocketmap(ctx context.Context, addr string) Finding {
	what := "herald's socketmap server answers on " + addr
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return Finding{What: what, Fix: fmt.Sprintf("cannot connect (%v): start herald serve; until then Postfix answers 4xx to list mail", err)}
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(dialTimeout)) // best effort
	if _, err := conn.Write(socketmap.Netstring([]byte("domains herald-doctor.invalid"))); err != nil {
		return Finding{What: what, Fix: err.Error()}
	}
	reply, err := socketmap.ReadNetstring(bufio.NewReader(conn), 100000)
	if err != nil || !strings.HasPrefix(string(reply), "NOTFOUND") {
		return Finding{What: what, Fix: fmt.Sprintf("unexpected answer %q (%v)", reply, err)}
	}
	return Finding{OK: true, What: what}
}
