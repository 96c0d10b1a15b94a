// Package postfix generates herald's Postfix integration: main.cf settings
// (printed once, for `postconf -e`) and four maps herald keeps current under
// <data_dir>/mta/postfix/:
//
//	domains     every herald domain (relay_domains or virtual_mailbox_domains)
//	transport   one entry per domain: where Postfix hands that domain's mail
//	recipients  every list address and sub-address (relay_recipient_maps):
//	            Postfix refuses anything else at RCPT, so no backscatter
//	vmailbox    address → <domain>/<list>/<alias>/ for Maildir delivery
//
// Invariants: transport entries are domain-wide, never per address, so
// creating or removing a list changes only recipients/vmailbox, which
// Postfix's daemons re-open by themselves after postmap (measured: the next
// connection). A per-address transport entry would take up to half a minute
// to reach trivial-rewrite and meanwhile send the list's mail to the
// relayhost. A new domain does change the transport map: with
// postfix_reload set, herald runs `postfix reload` then.
//
// Map databases are built beside the text file and renamed into place, so
// Postfix never opens a half-written table.
package postfix

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"herald/internal/address"
	"herald/internal/mta/model"
)

// Map file names under the generator's directory.
const (
	Domains    = "domains"
	Transport  = "transport"
	Recipients = "recipients"
	VMailbox   = "vmailbox"
)

// PipeService is the master.cf service name of the pipe transport.
const PipeService = "herald"

// Generator is the Postfix generator.
type Generator struct{}

var _ model.Generator = Generator{}
var _ model.AfterWriter = Generator{}

// Name returns "postfix".
func (Generator) Name() string { return "postfix" }

// Files returns the four maps.
func (Generator) Files(s *model.Snapshot, t *model.Target) []model.File {
	var dom, tr, rcpt, vmb strings.Builder
	next := NextHop(t)
	for _, d := range s.Domains {
		fmt.Fprintf(&dom, "%s\therald\n", d)
		fmt.Fprintf(&tr, "%s\t%s\n", d, next)
	}
	for _, a := range s.Addresses() {
		fmt.Fprintf(&rcpt, "%s\therald\n", a)
		fmt.Fprintf(&vmb, "%s\t%s/\n", a, MaildirPath(a))
	}
	return []model.File{
		{Name: Domains, Data: []byte(dom.String())},
		{Name: Transport, Data: []byte(tr.String())},
		{Name: Recipients, Data: []byte(rcpt.String())},
		{Name: VMailbox, Data: []byte(vmb.String())},
	}
}

// MaildirPath is where an address's mail lands under the Maildir root:
// <domain>/<list>/<alias>, the layout herald's Maildir runner reads.
func MaildirPath(a model.Address) string {
	list := a.Local
	if a.Alias != address.Post {
		list = list[:strings.LastIndexByte(list, '-')]
	}
	return a.Domain + "/" + list + "/" + string(a.Alias)
}

// NextHop is the transport map value for every herald domain.
func NextHop(t *model.Target) string {
	switch t.Transport {
	case "socket":
		return "lmtp:unix:" + t.LMTPSocket
	case "pipe":
		return PipeService + ":"
	case "maildir":
		return "virtual:"
	}
	host, port, err := net.SplitHostPort(t.LMTPAddr)
	if err != nil {
		return "lmtp:" + t.LMTPAddr
	}
	// [] turns off MX and DNS lookups.
	return "lmtp:[" + host + "]:" + port
}

// mapRef is TYPE:PATH of one map.
func mapRef(t *model.Target, name string) string {
	return t.Postfix.MapType + ":" + filepath.Join(t.Dir, name)
}

// liveRef is the socketmap table for name when herald serves socketmap,
// else the map file. The transport map stays a file either way: its
// entries are per domain, and trivial-rewrite caches transport answers
// whatever the table type, so a reload is needed for a new domain anyway.
func liveRef(t *model.Target, name string) string {
	if t.Socketmap == "" || name == Transport {
		return mapRef(t, name)
	}
	return "socketmap:inet:" + t.Socketmap + ":" + name
}

// Snippet returns the main.cf settings and install notes.
func (Generator) Snippet(_ *model.Snapshot, t *model.Target) *model.Snippet {
	sn := &model.Snippet{}
	set := func(k, v string) { sn.Settings = append(sn.Settings, model.Setting{Key: k, Value: v}) }
	if t.Transport == "maildir" {
		set("virtual_mailbox_domains", liveRef(t, Domains))
		set("virtual_mailbox_maps", liveRef(t, VMailbox))
		set("virtual_mailbox_base", t.MaildirRoot)
		set("virtual_uid_maps", fmt.Sprintf("static:%d", t.MaildirUID))
		set("virtual_gid_maps", fmt.Sprintf("static:%d", t.MaildirGID))
		set("transport_maps", mapRef(t, Transport))
	} else {
		set("relay_domains", liveRef(t, Domains))
		set("transport_maps", mapRef(t, Transport))
		set("relay_recipient_maps", liveRef(t, Recipients))
	}
	// -bounces+VERP and -confirm+TOKEN are looked up without their extension.
	set("recipient_delimiter", "+")
	if t.Transport == "pipe" {
		set(PipeService+"_destination_recipient_limit", "1")
	}
	sn.Notes = notes(t)
	if t.Transport == "pipe" {
		sn.Text = "# master.cf (add with: postconf -M -e '" + PipeService + "/unix=...')\n" + pipeService(t) + "\n"
	}
	return sn
}

// pipeService is the master.cf line of the pipe transport.
func pipeService(t *model.Target) string {
	args := t.HeraldPath
	if t.ConfigFile != "" {
		args += " --config " + t.ConfigFile
	}
	return PipeService + " unix - n n - - pipe flags=q user=herald argv=" + args +
		" inject --rcpt ${recipient} --sender ${sender}"
}

func notes(t *model.Target) []string {
	n := []string{
		"Apply: herald mta postfix | while IFS= read -r l; do postconf -e \"$l\"; done; postfix reload",
		"If relay_domains, transport_maps or relay_recipient_maps already have values, append herald's maps after a comma instead.",
		"Maps live in " + t.Dir + " and are rewritten whenever a list or domain is created or removed; Postfix's daemons read them as user postfix, so every directory above needs o+x (herald doctor checks).",
	}
	if t.Socketmap != "" {
		n = append(n, "Domains, recipients and mailboxes are looked up live over socketmap from herald serve at "+t.Socketmap+" (no postmap); while serve is down Postfix answers 4xx (try later).")
	}
	if !t.Postfix.Postmap && t.Postfix.MapType != "texthash" {
		n = append(n, "Set postfix_postmap = true in [mta] so herald runs postmap after each change (or run: postmap "+mapRef(t, Recipients)+" and the others).")
	}
	if !t.Postfix.Reload {
		n = append(n, "Set postfix_reload = true in [mta]: Postfix sees a new domain's transport entry only after a reload.")
	}
	switch t.Transport {
	case "socket":
		n = append(n, "Postfix's lmtp client must reach "+t.LMTPSocket+": run lmtp unchrooted (postconf -F 'lmtp/unix/chroot = n') or put the socket under the queue directory; every directory above it must be searchable by the postfix user.")
	case "maildir":
		n = append(n, "Postfix's virtual agent writes as uid "+fmt.Sprint(t.MaildirUID)+" (must be >= virtual_minimum_uid, 100): "+t.MaildirRoot+" must be writable by it and herald must be able to read and delete those files.",
			"virtual_mailbox_base is global: if virtual(8) already serves other mailboxes, give them paths under the same base.")
	case "pipe":
		n = append(n, "Add the pipe service to master.cf (printed above); user= must be the user herald runs as.")
	}
	return n
}
