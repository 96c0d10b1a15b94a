// Package qmail generates herald's qmail integration: control lines that
// hand every herald domain to one local user (virtualdomains, rcpthosts),
// that user's .qmail-default, which pipes each message to `herald inject`
// (qmail-local sets DEFAULT to the list's local part and HOST to its
// domain), and a list of valid recipients for RCPT-time checks.
//
// Stock qmail cannot refuse an unknown recipient at RCPT; with a
// recipient-check patch (validrcptto and the like) the recipients file
// gives it the list addresses. Without one, herald's inject exits 100 for
// an unknown list address and qmail bounces.
package qmail

import (
	"path/filepath"
	"strings"

	"herald/internal/mta/model"
)

// File names under the generator's directory.
const (
	VirtualDomains = "virtualdomains"
	RcptHosts      = "rcpthosts"
	Recipients     = "recipients"
	DotQmail       = "dot-qmail-default"
)

// User is the local user the herald domains are delegated to.
const User = "herald"

// Generator is the qmail generator.
type Generator struct{}

var _ model.Generator = Generator{}

// Name returns "qmail".
func (Generator) Name() string { return "qmail" }

// Files returns the control lines, the recipients and .qmail-default.
func (Generator) Files(s *model.Snapshot, t *model.Target) []model.File {
	var vd, rh, rc strings.Builder
	for _, d := range s.Domains {
		vd.WriteString(d + ":" + User + "\n")
		rh.WriteString(d + "\n")
	}
	for _, a := range s.Addresses() {
		rc.WriteString(a.String() + "\n")
	}
	return []model.File{
		{Name: VirtualDomains, Data: []byte(vd.String())},
		{Name: RcptHosts, Data: []byte(rh.String())},
		{Name: Recipients, Data: []byte(rc.String())},
		{Name: DotQmail, Data: []byte(DotQmailLine(t) + "\n")},
	}
}

// DotQmailLine is the .qmail-default delivery line. qmail-local runs it
// with /bin/sh -c and maps exit 0 → success, 100 (and 64, 65, 70, 76, 77,
// 78, 112) → permanent failure, anything else → retry; 67 (unknown user)
// would be retried, so inject runs with --exit-codes qmail (100/111).
func DotQmailLine(t *model.Target) string {
	cmd := "|" + t.HeraldPath
	if t.ConfigFile != "" {
		cmd += " --config " + t.ConfigFile
	}
	return cmd + " inject --exit-codes qmail"
}

// Snippet returns the install steps.
func (Generator) Snippet(_ *model.Snapshot, t *model.Target) *model.Snippet {
	text := "# ~" + User + "/.qmail-default\n" + DotQmailLine(t) + "\n"
	return &model.Snippet{
		Text: text,
		Notes: []string{
			"Create the user " + User + " (herald runs as it) and install " + filepath.Join(t.Dir, DotQmail) + " as ~" + User + "/.qmail-default.",
			"Append " + filepath.Join(t.Dir, VirtualDomains) + " to /var/qmail/control/virtualdomains and " + filepath.Join(t.Dir, RcptHosts) + " to /var/qmail/control/rcpthosts, then restart qmail-send (svc -h).",
			"qmail-local sets DEFAULT (the list local part) and HOST; herald inject reads them. An unknown list exits 100, which makes qmail bounce: stock qmail cannot refuse at RCPT.",
			"With a recipient-check patch (validrcptto.cdb and similar), feed it " + filepath.Join(t.Dir, Recipients) + ".",
		},
	}
}
