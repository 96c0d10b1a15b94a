// Package sendmail generates herald's Sendmail integration: a mailertable
// (one entry per herald domain, to an LMTP mailer), an access table that
// relays exactly the list addresses and refuses every other address at
// herald's domains with 550 5.1.1 at RCPT, and the sendmail.mc lines that
// define the LMTP mailer (P=[IPC] with F=z: LMTP over TCP or a unix
// socket) and load both tables; the domains are also relay domains.
//
// Invariant: like the other generators, routing is per domain and the
// per-address table only says which addresses exist, so adding a list
// never changes where mail goes.
package sendmail

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"herald/internal/mta/model"
)

// File names under the generator's directory.
const (
	Mailertable = "mailertable"
	Access      = "access"
	Domains     = "relay-domains"
	FeaturesMC  = "herald-features.mc"
	MailerMC    = "herald-mailer.mc"
)

// Mailer is the name of the LMTP mailer in sendmail.cf.
const Mailer = "herald"

// Generator is the Sendmail generator.
type Generator struct{}

var _ model.Generator = Generator{}

// Name returns "sendmail".
func (Generator) Name() string { return "sendmail" }

// Files returns the mailertable, the access table and the mc snippet.
func (Generator) Files(s *model.Snapshot, t *model.Target) []model.File {
	var mt, acc strings.Builder
	host := "localhost"
	if t.Transport != "socket" && t.LMTPAddr != "" {
		if h, _, err := net.SplitHostPort(t.LMTPAddr); err == nil {
			host = "[" + h + "]"
		}
	}
	var dom strings.Builder
	for _, d := range s.Domains {
		fmt.Fprintf(&mt, "%s\t%s:%s\n", d, Mailer, host)
		dom.WriteString(d + "\n")
	}
	for _, a := range s.Addresses() {
		fmt.Fprintf(&acc, "To:%s\tRELAY\n", a)
	}
	for _, d := range s.Domains {
		fmt.Fprintf(&acc, "To:%s\tERROR:5.1.1:550 No such list address\n", d)
	}
	return []model.File{
		{Name: Mailertable, Data: []byte(mt.String())},
		{Name: Access, Data: []byte(acc.String())},
		{Name: Domains, Data: []byte(dom.String())},
		{Name: FeaturesMC, Data: []byte(featuresMC(t))},
		{Name: MailerMC, Data: []byte(mailerMC(t))},
	}
}

// mailerArgs is the A= of the LMTP mailer.
func mailerArgs(t *model.Target) string {
	if t.Transport == "socket" || t.LMTPAddr == "" {
		return "A=FILE " + t.LMTPSocket
	}
	_, port, err := net.SplitHostPort(t.LMTPAddr)
	if err != nil {
		port = "24"
	}
	return "A=TCP $h " + port
}

// featuresMC loads herald's tables: it goes before the MAILER() lines.
// The domains are relay domains (class R), so the access table's per-
// address RELAY entries pass and its per-domain ERROR refuses the rest.
func featuresMC(t *model.Target) string {
	return fmt.Sprintf(`dnl herald: in sendmail.mc before the MAILER() lines
FEATURE(`+"`access_db', `hash -T<TMPF> -o %s'"+`)dnl
FEATURE(`+"`blocklist_recipients'"+`)dnl
FEATURE(`+"`mailertable', `hash -o %s'"+`)dnl
RELAY_DOMAIN_FILE(`+"`%s'"+`)dnl
`, filepath.Join(t.Dir, Access), filepath.Join(t.Dir, Mailertable), filepath.Join(t.Dir, Domains))
}

// mailerMC defines the LMTP mailer: it goes at the end of sendmail.mc.
func mailerMC(t *model.Target) string {
	return fmt.Sprintf(`dnl herald: at the end of sendmail.mc, after the MAILER() lines
MAILER_DEFINITIONS
M%s, P=[IPC], F=mDFMnqXz, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\r\n, L=990, T=DNS/RFC822/SMTP, %s
`, Mailer, mailerArgs(t))
}

// Snippet returns the mc lines and notes.
func (Generator) Snippet(_ *model.Snapshot, t *model.Target) *model.Snippet {
	return &model.Snippet{
		Text: featuresMC(t) + mailerMC(t),
		Notes: []string{
			"Herald keeps " + filepath.Join(t.Dir, Mailertable) + " and " + filepath.Join(t.Dir, Access) + " current; rebuild their databases after a change: makemap hash FILE < FILE (a cron job or a path watcher).",
			"If you already use an access database, merge herald's To: lines into it instead of pointing access_db at herald's file; likewise add the domains to your relay-domains if you keep one.",
			"Rebuild sendmail.cf (m4 / sendmailconfig) and restart sendmail; check with: sendmail -bt, then check_rcpt <LIST@DOMAIN>.",
			"Sendmail reads relay-domains only when it starts: restart it after adding a domain (new lists need only makemap).",
			"F=z makes the mailer speak LMTP; A=TCP $h PORT (or A=FILE /socket) is where herald listens.",
		},
	}
}
