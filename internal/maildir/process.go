package maildir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"herald/internal/address"
	"herald/internal/ingress"
	"herald/internal/mime"
	"herald/internal/spool"
	"herald/internal/status"
)

// process takes one file: accept or shunt it, then remove it; or leave it
// for the next pass on temporary trouble.
func (r *Runner) process(ctx context.Context, path string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.FileTimeout)
	defer cancel()
	raw, err := os.ReadFile(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) { // gone: another instance took it
			r.log.Warn("read maildir file", "path", path, "err", err)
		}
		return
	}
	rcpt, err := r.target(path)
	if err != nil {
		r.shunt(ctx, path, rcpt, raw, err)
		return
	}
	log := r.log.With("list", rcpt.List, "domain", rcpt.Domain, "alias", rcpt.Alias, "path", path)
	resolved, limit, err := r.in.Resolve(ctx, rcpt.Address())
	if err != nil {
		r.fail(ctx, path, rcpt, raw, err)
		return
	}
	sender, data := trace(raw)
	resolved.Extension = extension(raw, resolved)
	if limit > 0 && int64(len(data)) > limit {
		r.shunt(ctx, path, resolved, raw, status.TooBig(fmt.Errorf("message of %d bytes over the limit of %d", len(data), limit)))
		return
	}
	if _, err := mail.ReadMessage(bytes.NewReader(data)); err != nil || len(bytes.TrimSpace(data)) == 0 {
		r.shunt(ctx, path, resolved, raw, status.Malformed(errors.New("unparseable message")))
		return
	}
	errs := r.in.Accept(ctx, sender, []address.Recipient{resolved}, mime.CRLF(data))
	if len(errs) != 1 {
		errs = []error{status.Temporary(errors.New("ingress returned no status"))}
	}
	if errs[0] != nil {
		r.fail(ctx, path, resolved, raw, errs[0])
		return
	}
	if err := remove(path); err != nil {
		log.Error("remove accepted maildir file; it will be picked up again", "err", err)
		return
	}
	r.Stats.mu.Lock()
	r.Stats.Accepted++
	r.Stats.mu.Unlock()
	log.Debug("picked up", "from", sender, "size", len(data))
}

// fail shunts permanent failures and leaves temporary ones for later.
func (r *Runner) fail(ctx context.Context, path string, rcpt address.Recipient, raw []byte, err error) {
	if status.IsTemporary(err) {
		r.Stats.mu.Lock()
		r.Stats.Deferred++
		r.Stats.mu.Unlock()
		r.log.Warn("maildir file deferred", "path", path, "err", err, "retry_in", r.opts.ScanInterval)
		return
	}
	r.shunt(ctx, path, rcpt, raw, err)
}

// target reads the recipient from the path .../<domain>/<list>/<alias>/new/<file>.
func (r *Runner) target(path string) (address.Recipient, error) {
	rel, err := filepath.Rel(r.root, path)
	if err != nil {
		return address.Recipient{}, status.Permanent(fmt.Errorf("path outside the maildir root: %w", err))
	}
	parts := strings.Split(rel, string(filepath.Separator))
	if len(parts) != 5 || parts[3] != "new" {
		return address.Recipient{}, status.Permanent(fmt.Errorf("path %s is not <domain>/<list>/<alias>/new/<file>", rel))
	}
	rc := address.Recipient{Domain: strings.ToLower(parts[0]), List: strings.ToLower(parts[1]), Alias: address.Alias(strings.ToLower(parts[2]))}
	if !slices.Contains(address.Aliases, rc.Alias) {
		return rc, status.UnknownRecipient(fmt.Errorf("unknown alias directory %q (want one of %v)", parts[2], address.Aliases))
	}
	return rc, nil
}

// shunt writes the file to the shunt queue with the reason, then removes it.
func (r *Runner) shunt(ctx context.Context, path string, rcpt address.Recipient, raw []byte, cause error) {
	origin := spool.In
	if slices.Contains(address.Aliases, rcpt.Alias) {
		origin = ingress.QueueFor(rcpt.Alias)
	}
	sender, _ := trace(raw)
	item := spool.Item{Queue: spool.Shunt, Message: raw, Envelope: spool.Envelope{
		Domain: rcpt.Domain, List: rcpt.List, Alias: string(rcpt.Alias), Extension: rcpt.Extension,
		Sender: sender, Recipients: []string{rcpt.Address()}, Origin: origin,
		LastError: "maildir " + path + ": " + cause.Error(),
	}}
	ids, err := r.spool.EnqueueAll(ctx, []spool.Item{item})
	if err != nil {
		r.log.Error("shunt maildir file; left in place", "path", path, "err", err, "cause", cause)
		return
	}
	if err := remove(path); err != nil {
		r.log.Error("remove shunted maildir file; it will be shunted again", "path", path, "err", err)
		return
	}
	r.Stats.mu.Lock()
	r.Stats.Shunted++
	r.Stats.mu.Unlock()
	r.log.Warn("maildir file shunted", "id", ids[0], "queue", spool.Shunt, "list", rcpt.List, "domain", rcpt.Domain, "path", path, "reason", cause)
}

// remove unlinks path and syncs its directory, so the removal survives a crash.
func remove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// traceFields are the header fields the final delivery agent puts on top
// of the message (Postfix virtual(8): Return-Path, X-Original-To,
// Delivered-To); LMTP delivery would not have them.
var traceFields = []string{"return-path", "x-original-to", "delivered-to"}

// trace returns the envelope sender from the top Return-Path field and the
// message with the delivery agent's leading trace fields removed.
func trace(raw []byte) (sender string, msg []byte) {
	msg = raw
	for {
		line, rest, ok := cutLine(msg)
		name, val, isField := strings.Cut(line, ":")
		if !ok || !isField || !slices.Contains(traceFields, strings.ToLower(name)) {
			return sender, msg
		}
		if strings.EqualFold(name, "return-path") && sender == "" {
			sender = strings.Trim(strings.TrimSpace(val), "<>")
		}
		msg = rest
	}
}

// cutLine splits off the first line (without its line end).
func cutLine(b []byte) (line string, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return "", b, false
	}
	return strings.TrimRight(string(b[:i]), "\r"), b[i+1:], true
}

// extension recovers a -confirm+TOKEN or -bounces+VERP extension, which
// the path cannot carry, from the top Delivered-To or X-Original-To field
// when it names the same list address.
func extension(raw []byte, rc address.Recipient) string {
	if rc.Alias != address.Confirm && rc.Alias != address.Bounces {
		return ""
	}
	base := rc
	base.Extension = ""
	local, domain, _ := strings.Cut(base.Address(), "@")
	msg := raw
	for {
		line, rest, ok := cutLine(msg)
		name, val, isField := strings.Cut(line, ":")
		if !ok || !isField || !slices.Contains(traceFields, strings.ToLower(name)) {
			return ""
		}
		msg = rest
		if strings.EqualFold(name, "return-path") {
			continue
		}
		l, d, err := address.Parse(strings.TrimSpace(val))
		if err != nil || d != domain {
			continue
		}
		if ext, ok := strings.CutPrefix(l, local+"+"); ok && ext != "" {
			return ext
		}
	}
}
