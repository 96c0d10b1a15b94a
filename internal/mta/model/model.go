// Package model holds the types shared by herald's MTA generators: the
// routing snapshot (every domain and list address herald serves), how the
// MTA reaches herald (Target), and what a generator produces (map files
// and a config snippet with install notes).
//
// Invariants: a Snapshot is sorted (domains by name, lists by domain then
// name) and generators are pure functions of (Snapshot, Target), so the
// same state always yields byte-identical files and unchanged maps are
// never rewritten.
package model

import (
	"context"
	"sort"

	"herald/internal/address"
)

// SubAddress is one local-part suffix a list answers to.
type SubAddress struct {
	Suffix string        // "" for the list address itself, else "request", "join", ...
	Alias  address.Alias // what ingress resolves it to
}

// SubAddresses are every local part a list answers to, the list address
// first, in the order MTAs list them. Spellings that share an alias
// (subscribe/join, unsubscribe/leave) are both listed. Extensions
// (-confirm+TOKEN, -bounces+VERP) are matched by the MTA's recipient
// delimiter, not listed.
var SubAddresses = []SubAddress{
	{"", address.Post},
	{"request", address.Request},
	{"join", address.Join},
	{"subscribe", address.Join},
	{"leave", address.Leave},
	{"unsubscribe", address.Leave},
	{"confirm", address.Confirm},
	{"owner", address.Owner},
	{"bounces", address.Bounces},
}

// List is one list herald serves.
type List struct {
	Name   string // local part
	Domain string
}

// Address is one deliverable list address.
type Address struct {
	Local  string // "dev", "dev-request", ...
	Domain string
	Alias  address.Alias
}

// String returns LOCAL@DOMAIN.
func (a Address) String() string { return a.Local + "@" + a.Domain }

// Addresses returns the list's address and every sub-address.
func (l List) Addresses() []Address {
	out := make([]Address, 0, len(SubAddresses))
	for _, s := range SubAddresses {
		local := l.Name
		if s.Suffix != "" {
			local += "-" + s.Suffix
		}
		out = append(out, Address{Local: local, Domain: l.Domain, Alias: s.Alias})
	}
	return out
}

// Snapshot is the routing state at one moment.
type Snapshot struct {
	Domains []string
	Lists   []List
}

// Sort puts the snapshot in its canonical order.
func (s *Snapshot) Sort() {
	sort.Strings(s.Domains)
	sort.Slice(s.Lists, func(i, j int) bool {
		if s.Lists[i].Domain != s.Lists[j].Domain {
			return s.Lists[i].Domain < s.Lists[j].Domain
		}
		return s.Lists[i].Name < s.Lists[j].Name
	})
}

// Addresses returns every deliverable address, in snapshot order.
func (s *Snapshot) Addresses() []Address {
	var out []Address
	for _, l := range s.Lists {
		out = append(out, l.Addresses()...)
	}
	return out
}

// Target says how the MTA hands mail to herald and where herald's files are.
type Target struct {
	// Transport is how the MTA hands mail over: "tcp" or "socket" (LMTP),
	// "pipe" (`herald inject` per message) or "maildir" (a Maildir drop).
	Transport string
	// LMTPAddr is herald's LMTP host:port ("" when off).
	LMTPAddr string
	// LMTPSocket is herald's LMTP unix socket, absolute ("" when off).
	LMTPSocket string
	// MaildirRoot is the Maildir ingest root ("" when off).
	MaildirRoot string
	// MaildirUID and MaildirGID own the files the MTA drops there.
	MaildirUID, MaildirGID int
	// HeraldPath is the herald binary for pipe deliveries.
	HeraldPath string
	// ConfigFile is herald.toml, passed to piped `herald inject` ("" = default lookup).
	ConfigFile string
	// Dir is this generator's map directory, <data_dir>/mta/<name>.
	Dir string
	// Socketmap is herald's socketmap host:port ("" when off).
	Socketmap string
	// Postfix options.
	Postfix PostfixOptions
}

// PostfixOptions are the [mta] postfix_* settings.
type PostfixOptions struct {
	Postmap   bool
	MapType   string // hash, btree, cdb, lmdb, texthash
	ConfigDir string
	Reload    bool
}

// File is one generated file, relative to Target.Dir.
type File struct {
	Name string
	Data []byte
}

// Setting is one key = value line of an MTA's main configuration.
type Setting struct {
	Key, Value string
}

// Snippet is what `herald mta NAME` prints.
type Snippet struct {
	// Settings are key = value lines (Postfix main.cf); may be empty.
	Settings []Setting
	// Text is configuration to paste (Exim, Sendmail, OpenSMTPD, qmail);
	// may be empty.
	Text string
	// Notes are short install instructions, one per line.
	Notes []string
}

// Generator is one MTA's integration.
type Generator interface {
	// Name is the MTA's name as on the command line ("postfix").
	Name() string
	// Files returns the files herald keeps current for this MTA.
	Files(s *Snapshot, t *Target) []File
	// Snippet returns the configuration to install once.
	Snippet(s *Snapshot, t *Target) *Snippet
}

// AfterWriter is implemented by generators that must act once their files
// changed (run postmap, reload the MTA). changed names the changed files.
type AfterWriter interface {
	AfterWrite(ctx context.Context, t *Target, changed []string) error
}
