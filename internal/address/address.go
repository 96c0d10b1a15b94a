// Package address parses and normalizes mail addresses and splits list
// addresses into (list, sub-address, extension): LIST@DOMAIN posts,
// LIST-request, -join/-subscribe, -leave/-unsubscribe, -confirm+TOKEN,
// -owner and -bounces+VERP. It also owns the VERP codec.
//
// It is a leaf package: it knows nothing of the store; callers pass a
// function that says whether a list exists.
package address

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Alias is the sub-address of a list that a recipient names.
type Alias string

// The sub-addresses of a list. Subscribe and unsubscribe are spelled join
// and leave once parsed.
const (
	Post    Alias = "post"
	Request Alias = "request"
	Join    Alias = "join"
	Leave   Alias = "leave"
	Confirm Alias = "confirm"
	Owner   Alias = "owner"
	Bounces Alias = "bounces"
)

// suffixes maps the local-part suffix to its alias. Order does not matter:
// a suffix is only tried after the exact list name failed.
var suffixes = map[string]Alias{
	"request":     Request,
	"join":        Join,
	"subscribe":   Join,
	"leave":       Leave,
	"unsubscribe": Leave,
	"confirm":     Confirm,
	"owner":       Owner,
	"bounces":     Bounces,
}

// Aliases lists every alias, post first.
var Aliases = []Alias{Post, Request, Join, Leave, Confirm, Owner, Bounces}

// Errors returned by the parsers.
var (
	ErrSyntax       = errors.New("bad address syntax")
	ErrUnknownAlias = errors.New("no such list or sub-address")
)

// Parse splits an address (optionally in angle brackets) into local part
// and domain, both lower-cased. Quoted local parts and source routes are
// refused: list addresses never need them.
func Parse(s string) (local, domain string, err error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", "", fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	if !utf8.ValidString(s) {
		return "", "", fmt.Errorf("%w: not UTF-8: %q", ErrSyntax, s)
	}
	// Checked in the lower-cased form that is returned and stored: lower
	// case can be longer in bytes (U+0130 is 2 bytes, its lower case 3).
	local, domain = strings.ToLower(s[:at]), strings.ToLower(strings.TrimSuffix(s[at+1:], "."))
	if strings.ContainsAny(local, " \t\r\n\"<>()[],;:\\@") || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") {
		return "", "", fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	if !ValidDomain(domain) {
		return "", "", fmt.Errorf("%w: bad domain in %q", ErrSyntax, s)
	}
	return local, domain, nil
}

// Normalize returns the canonical, lower-cased form of an address, used as
// the key for members, bans and scores.
func Normalize(s string) (string, error) {
	l, d, err := Parse(s)
	if err != nil {
		return "", err
	}
	return l + "@" + d, nil
}

// ValidDomain reports whether d is a plausible DNS domain name.
func ValidDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			ok := r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127
			if !ok {
				return false
			}
		}
	}
	return true
}

// ValidListName reports whether name can be a list's local part: letters,
// digits, '.', '_' and '-', not starting or ending with a separator.
// '+' is refused because it starts an extension.
func ValidListName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i, r := range name {
		alnum := r >= '0' && r <= '9' || r >= 'a' && r <= 'z'
		sep := r == '.' || r == '_' || r == '-'
		if !alnum && !sep || sep && (i == 0 || i == len(name)-1) {
			return false
		}
	}
	return true
}

// Recipient is a list address resolved into its parts.
type Recipient struct {
	List      string // the list's local part
	Domain    string
	Alias     Alias
	Extension string // after '+': a confirm token or a VERP address
}

// Address renders the recipient back into LIST-ALIAS+EXT@DOMAIN.
func (r Recipient) Address() string {
	local := r.List
	if r.Alias != Post {
		local += "-" + string(r.Alias)
	}
	if r.Extension != "" {
		local += "+" + r.Extension
	}
	return local + "@" + r.Domain
}

// Split resolves local (already lower-cased, without the domain) into a
// list and alias. exists reports whether a list of that name exists in the
// domain. An exact list name wins over a suffix, so a list may itself be
// called "x-request". Extensions (+...) are kept only for -confirm and
// -bounces; anywhere else they make the address unknown, as Mailman does.
func Split(local string, exists func(list string) bool) (list string, alias Alias, ext string, err error) {
	base, ext, hasExt := strings.Cut(local, "+")
	if !hasExt && exists(base) {
		return base, Post, "", nil
	}
	i := strings.LastIndexByte(base, '-')
	if i <= 0 {
		return "", "", "", ErrUnknownAlias
	}
	alias, ok := suffixes[base[i+1:]]
	if !ok || !exists(base[:i]) {
		return "", "", "", ErrUnknownAlias
	}
	if hasExt && alias != Confirm && alias != Bounces {
		return "", "", "", ErrUnknownAlias
	}
	return base[:i], alias, ext, nil
}

// VERPEncode returns the bounce address for member on list:
// LIST-bounces+alice=example.org@DOMAIN.
func VERPEncode(list, domain, member string) string {
	l, d, err := Parse(member)
	if err != nil {
		return list + "-bounces@" + domain
	}
	return list + "-bounces+" + l + "=" + d + "@" + domain
}

// VERPDecode turns the extension of a -bounces address (alice=example.org)
// back into the member address. The last '=' separates local part and
// domain, since local parts may contain '=' but domains may not.
func VERPDecode(ext string) (string, bool) {
	i := strings.LastIndexByte(ext, '=')
	if i <= 0 || i == len(ext)-1 {
		return "", false
	}
	addr, err := Normalize(ext[:i] + "@" + ext[i+1:])
	if err != nil {
		return "", false
	}
	return addr, true
}
