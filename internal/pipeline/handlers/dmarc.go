package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"herald/internal/mime"
	"herald/internal/pipeline"
)

// DMARC applies the list's munge_from and wrap_message mitigations
// (dmarc_mitigate_action; reject and discard are the dmarc-mitigation
// rule's) to posts whose author's domain publishes a DMARC policy of
// quarantine or reject, or to every post with
// dmarc_mitigate_unconditionally. Receivers then see the list as the
// author, so the rewritten post passes DMARC.
//
//   - munge_from: From becomes "Name via List" <list>; the author goes to
//     Reply-To, or to Cc when the post already has a Reply-To (the list's
//     munging or the poster's own).
//   - wrap_message: the post travels as a message/rfc822 attachment
//     (after dmarc_wrapped_message_text) of an outer message from the list
//     that keeps the addressing, subject, threading and List-* fields.
//
// When the lookup fails (DNS trouble), the mitigation is applied: it is
// harmless for posts that did not need it, while skipping it would get
// strict authors' posts rejected by receivers. Anonymous lists are exempt
// (their posts are From the list already).
type DMARC struct{}

// Name is the handler's name.
func (DMARC) Name() string { return "dmarc" }

// Handle rewrites the post when the policy asks for it.
func (DMARC) Handle(ctx context.Context, m *pipeline.Message) error {
	s := m.List.Settings
	act := s.DMARCMitigateAction
	if act != "munge_from" && act != "wrap_message" || s.AnonymousList {
		return nil // an anonymous list's posts are From the list already
	}
	if !s.DMARCMitigateUnconditionally {
		p, err := m.AuthorPolicy(ctx)
		if err == nil && p != "quarantine" && p != "reject" {
			return nil
		}
	}
	addr, name, ok := mime.FirstAddress(m.Msg.Header, "From")
	if !ok {
		return nil
	}
	if act == "wrap_message" {
		return wrapMessage(m, addr, name)
	}
	mungeFrom(m, addr, name)
	return nil
}

// viaName is the munged From's display name: "Name via List".
func viaName(m *pipeline.Message, addr, name string) string {
	if strings.TrimSpace(name) == "" {
		name, _, _ = strings.Cut(addr, "@")
	}
	list := m.List.Settings.DisplayName
	if list == "" {
		list = m.List.Name
	}
	return name + " via " + list
}

// mungeFrom rewrites From and keeps the author reachable.
func mungeFrom(m *pipeline.Message, addr, name string) {
	h := m.Msg.Header
	orig := strings.TrimSpace(h.Get("From"))
	h.Set("From", mailbox(viaName(m, addr, name), m.List.Address()))
	keepAuthor(h, addr, orig)
}

// keepAuthor puts the author (raw From value orig) into Reply-To, or into
// Cc when there is a Reply-To already and the author is not addressed.
func keepAuthor(h *mime.Header, addr, orig string) {
	if !h.Has("Reply-To") {
		h.Set("Reply-To", orig)
		return
	}
	for _, f := range []string{"Reply-To", "To", "Cc"} {
		for _, a := range mime.AddressList(h, f) {
			if strings.EqualFold(a, addr) {
				return
			}
		}
	}
	if cc := strings.TrimSpace(h.Get("Cc")); cc != "" {
		h.Set("Cc", cc+", "+orig)
		return
	}
	h.Set("Cc", orig)
}

// outerFields are the fields the outer message of wrap_message keeps.
var outerFields = []string{"To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
	"Reply-To", "Precedence", "X-BeenThere", "Auto-Submitted"}

// wrapMessage replaces m.Msg by an outer message carrying it.
func wrapMessage(m *pipeline.Message, addr, name string) error {
	inner := m.Msg.Bytes()
	nl := lineEnd(inner)
	h := mime.NewHeader(nl)
	orig := strings.TrimSpace(m.Msg.Header.Get("From"))
	h.Set("From", mailbox(viaName(m, addr, name), m.List.Address()))
	for _, f := range m.Msg.Header.Fields() {
		if keepOuter(f.Name) {
			h.Add(f.Name, f.Value)
		}
	}
	keepAuthor(h, addr, orig)
	sum := sha256.Sum256(inner)
	boundary := "=_herald_wrap_" + hex.EncodeToString(sum[:12])
	h.Set("MIME-Version", "1.0")
	h.Set("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	var b bytes.Buffer
	if text := strings.TrimSpace(m.List.Settings.DMARCWrappedMessageText); text != "" {
		part := mime.NewHeader(nl)
		part.Set("Content-Type", "text/plain; charset=utf-8")
		n := &node{header: part, nl: nl}
		n.setText("plain", Expand(text, ListVars(m))+"\n")
		b.WriteString("--" + boundary + nl)
		b.Write((&mime.Message{Header: n.header, Body: n.body}).Bytes())
		b.WriteString(nl)
	}
	b.WriteString("--" + boundary + nl + "Content-Type: message/rfc822" + nl + "Content-Disposition: inline" + nl)
	if !isASCII(string(inner)) {
		b.WriteString("Content-Transfer-Encoding: 8bit" + nl)
	}
	b.WriteString(nl)
	b.Write(inner)
	if !bytes.HasSuffix(inner, []byte("\n")) {
		b.WriteString(nl)
	}
	b.WriteString("--" + boundary + "--" + nl)
	out, err := mime.Parse((&mime.Message{Header: h, Body: b.Bytes()}).Bytes())
	if err != nil {
		return fmt.Errorf("wrap message: %w", err)
	}
	m.Msg = out
	return nil
}

// keepOuter reports whether the outer message keeps the field.
func keepOuter(name string) bool {
	if strings.HasPrefix(strings.ToLower(name), "list-") {
		return true
	}
	for _, f := range outerFields {
		if strings.EqualFold(f, name) {
			return true
		}
	}
	return false
}
