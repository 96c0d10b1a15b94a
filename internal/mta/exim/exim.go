// Package exim generates herald's Exim integration: two lsearch files
// herald keeps current under <data_dir>/mta/exim/ (domains, recipients),
// which Exim re-reads for every message (no reload), and four snippets for
// Exim's .include (main.conf, acl.conf, routers.conf, transports.conf).
//
// Invariant: the router accepts only addresses listed in recipients, the
// next one fails every other address at herald's domains (whatever routers
// follow), and the RCPT ACL verifies recipients at herald's domains, so Exim refuses an
// unknown list address during the SMTP dialogue (550 5.1.1) instead of
// accepting it and bouncing later. -bounces+VERP and -confirm+TOKEN
// addresses match their base address; the router does not strip the
// extension (local_part_suffix would: the LMTP transport then sends the
// base address and herald loses the VERP data), and no other address may
// carry one, as herald itself refuses them.
package exim

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"herald/internal/mta/model"
)

// File names under the generator's directory.
const (
	Domains    = "domains"
	Recipients = "recipients"
	MainConf   = "main.conf"
	ACLConf    = "acl.conf"
	Routers    = "routers.conf"
	Transports = "transports.conf"
)

// Generator is the Exim generator.
type Generator struct{}

var _ model.Generator = Generator{}

// Name returns "exim".
func (Generator) Name() string { return "exim" }

// Files returns the lookup files and the include snippets.
func (Generator) Files(s *model.Snapshot, t *model.Target) []model.File {
	var dom, rcpt strings.Builder
	for _, d := range s.Domains {
		dom.WriteString(d + "\n")
	}
	for _, a := range s.Addresses() {
		rcpt.WriteString(a.String() + "\n")
	}
	return []model.File{
		{Name: Domains, Data: []byte(dom.String())},
		{Name: Recipients, Data: []byte(rcpt.String())},
		{Name: MainConf, Data: []byte(mainConf(t))},
		{Name: ACLConf, Data: []byte(aclConf())},
		{Name: Routers, Data: []byte(routers(t))},
		{Name: Transports, Data: []byte(transports(t))},
	}
}

func mainConf(t *model.Target) string {
	return "# herald: main section\ndomainlist herald_domains = lsearch;" + filepath.Join(t.Dir, Domains) + "\n"
}

func aclConf() string {
	return `# herald: at the top of the RCPT ACL (acl_smtp_rcpt)
deny    domains = +herald_domains
        !verify = recipient
        message = 5.1.1 <$local_part@$domain>: no such list address
accept  domains = +herald_domains
`
}

// transportName is the transport the router uses.
func transportName(t *model.Target) string {
	if t.Transport == "pipe" {
		return "herald_pipe"
	}
	return "herald_lmtp"
}

func routers(t *model.Target) string {
	return fmt.Sprintf(`# herald: first in the routers section
herald_lists:
  driver = accept
  domains = +herald_domains
  condition = ${if or{\
    {bool{${lookup{${lc:$local_part@$domain}}lsearch{%[1]s}{yes}{no}}}}\
    {and{{match{${lc:$local_part}}{\N^(.+-(?:bounces|confirm))\+.+$\N}}\
         {bool{${lookup{$1@${lc:$domain}}lsearch{%[1]s}{yes}{no}}}}}}\
  }}
  transport = %[2]s
herald_unknown:
  driver = redirect
  domains = +herald_domains
  allow_fail
  data = :fail: no such list address
`, filepath.Join(t.Dir, Recipients), transportName(t))
}

func transports(t *model.Target) string {
	switch {
	case t.Transport == "pipe":
		cmd := t.HeraldPath
		if t.ConfigFile != "" {
			cmd += " --config " + t.ConfigFile
		}
		return fmt.Sprintf(`# herald: in the transports section
herald_pipe:
  driver = pipe
  command = %s inject
  user = herald
  return_fail_output
  temp_errors = 75
`, cmd)
	case t.Transport == "socket" || t.LMTPAddr == "":
		return fmt.Sprintf(`# herald: in the transports section
herald_lmtp:
  driver = lmtp
  socket = %s
  batch_max = 100
`, t.LMTPSocket)
	}
	host, port, err := net.SplitHostPort(t.LMTPAddr)
	if err != nil {
		host, port = t.LMTPAddr, "24"
	}
	return fmt.Sprintf(`# herald: in the transports section
herald_lmtp:
  driver = smtp
  protocol = lmtp
  hosts = %s
  port = %s
  allow_localhost
  hosts_try_fastopen = :
  max_rcpt = 100
`, host, port)
}

// Snippet returns the include lines and notes.
func (g Generator) Snippet(_ *model.Snapshot, t *model.Target) *model.Snippet {
	inc := func(name string) string { return ".include " + filepath.Join(t.Dir, name) }
	text := fmt.Sprintf(`# main section (before "begin acl"):
%s
# at the top of your RCPT ACL (acl_check_rcpt):
%s
# first in "begin routers":
%s
# in "begin transports":
%s
`, inc(MainConf), inc(ACLConf), inc(Routers), inc(Transports))
	notes := []string{
		"Add the .include lines above to your Exim configuration (Debian split config: put them in conf.d files), then check with exim -bV and reload.",
		"The files they include and the lookup files " + filepath.Join(t.Dir, Domains) + " and " + filepath.Join(t.Dir, Recipients) + " are kept current by herald; Exim re-reads them per message, no reload needed.",
		"Unknown list addresses are refused at RCPT with 550 5.1.1 (the ACL verifies recipients against the herald_lists router).",
	}
	switch {
	case t.Transport == "pipe":
		notes = append(notes, "user = herald in herald_pipe must be the user herald runs as.")
	case t.Transport == "socket" || t.LMTPAddr == "":
		notes = append(notes, "Exim's delivery user must be able to reach "+t.LMTPSocket+".")
	default:
		notes = append(notes, "allow_localhost lets Exim deliver to herald on an address Exim itself listens on.")
	}
	return &model.Snippet{Text: text, Notes: notes}
}
