// Package opensmtpd generates herald's OpenSMTPD integration: file tables
// of herald's domains, list addresses and extension patterns (kept current
// under <data_dir>/mta/opensmtpd/), and the smtpd.conf lines: an lmtp
// action to herald and match rules that accept exactly the list addresses
// and reject every other address at herald's domains during the SMTP
// dialogue.
//
// OpenSMTPD reads file tables when it starts: after a change run
// `smtpctl update table NAME` for each table (or restart smtpd).
package opensmtpd

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"herald/internal/mta/model"
)

// File names under the generator's directory.
const (
	Domains    = "domains"
	Recipients = "recipients"
	Extensions = "extensions"
	Conf       = "smtpd.conf"
)

// Generator is the OpenSMTPD generator.
type Generator struct{}

var _ model.Generator = Generator{}

// Name returns "opensmtpd".
func (Generator) Name() string { return "opensmtpd" }

// Files returns the three tables and the smtpd.conf fragment.
func (Generator) Files(s *model.Snapshot, t *model.Target) []model.File {
	var dom, rcpt, ext strings.Builder
	for _, d := range s.Domains {
		dom.WriteString(d + "\n")
	}
	for _, a := range s.Addresses() {
		rcpt.WriteString(a.String() + "\n")
	}
	for _, l := range s.Lists {
		// -bounces+VERP and -confirm+TOKEN carry an extension.
		fmt.Fprintf(&ext, "^%s-(bounces|confirm)\\+[^@]*@%s$\n", regexp.QuoteMeta(l.Name), regexp.QuoteMeta(l.Domain))
	}
	if ext.Len() == 0 {
		// An empty regex table would match nothing anyway; smtpd wants a line.
		ext.WriteString("^$\n")
	}
	return []model.File{
		{Name: Domains, Data: []byte(dom.String())},
		{Name: Recipients, Data: []byte(rcpt.String())},
		{Name: Extensions, Data: []byte(ext.String())},
		{Name: Conf, Data: []byte(conf(t))},
	}
}

// conf is the smtpd.conf fragment.
func conf(t *model.Target) string {
	dest := t.LMTPAddr
	if t.Transport == "socket" || dest == "" {
		dest = t.LMTPSocket
	}
	return fmt.Sprintf(`# herald: smtpd.conf lines (before your other match rules)
table herald_domains file:%s
table herald_recipients file:%s
table herald_extensions file:%s
action "herald" lmtp "%s" rcpt-to
match from any for domain <herald_domains> rcpt-to <herald_recipients> action "herald"
match from any for domain <herald_domains> rcpt-to regex <herald_extensions> action "herald"
match from any for domain <herald_domains> reject
`, filepath.Join(t.Dir, Domains), filepath.Join(t.Dir, Recipients), filepath.Join(t.Dir, Extensions), dest)
}

// Snippet returns the smtpd.conf lines and notes.
func (Generator) Snippet(_ *model.Snapshot, t *model.Target) *model.Snippet {
	return &model.Snippet{
		Text: conf(t),
		Notes: []string{
			"Put these lines before your other match rules (first match wins), check with smtpd -n, then restart smtpd.",
			"After herald rewrites the tables (lists or domains created or removed) run: smtpctl update table herald_domains; smtpctl update table herald_recipients; smtpctl update table herald_extensions",
			"The last match rule rejects unknown addresses at herald's domains during RCPT (550), so nothing is bounced later.",
		},
	}
}
