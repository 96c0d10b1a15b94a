package mime

import (
	stdmime "mime"
	"net/mail"
	"strings"

	"github.com/emersion/go-message/charset"
)

// addrParser decodes RFC 2047 display names in any charset go-message knows.
var addrParser = mail.AddressParser{WordDecoder: &stdmime.WordDecoder{CharsetReader: charset.Reader}}

// AddressList returns the addresses in all fields called name (From, To,
// Cc, Reply-To, Sender, …), in order, as "local@domain" with the domain
// lower-cased and the local part kept as written. Groups are flattened.
// Entries that are not addresses are skipped.
func AddressList(h *Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, item := range splitAddressList(v) {
			if addr, _, ok := parseAddress(item); ok {
				out = append(out, addr)
			}
		}
	}
	return out
}

// FirstAddress returns the first address in the fields called name, with
// its display name decoded to UTF-8, or ok false if there is none.
func FirstAddress(h *Header, name string) (addr, displayName string, ok bool) {
	for _, v := range h.Values(name) {
		for _, item := range splitAddressList(v) {
			if addr, displayName, ok = parseAddress(item); ok {
				return addr, displayName, true
			}
		}
	}
	return "", "", false
}

// splitAddressList splits an address-list at top-level commas and
// semicolons, dropping group names ("name:") and respecting quoted
// strings, comments and angle brackets (RFC 5322 §3.4).
func splitAddressList(v string) []string {
	var items []string
	var cur strings.Builder
	depth, quoted, angle := 0, false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && (quoted || depth > 0) && i+1 < len(v):
			cur.WriteByte(c)
			i++
			c = v[i]
		case quoted:
			quoted = c != '"'
		case c == '"':
			quoted = true
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case angle:
		case c == ',' || c == ';':
			items = append(items, cur.String())
			cur.Reset()
			continue
		case c == ':':
			cur.Reset() // group display name
			continue
		}
		cur.WriteByte(c)
	}
	return append(items, cur.String())
}

// parseAddress parses one mailbox. What net/mail rejects (unknown charset in
// the name, raw 8-bit bytes, dots in odd places) gets a lenient second try.
func parseAddress(item string) (addr, name string, ok bool) {
	item = strings.TrimSpace(item)
	if item == "" {
		return "", "", false
	}
	if a, err := addrParser.Parse(item); err == nil {
		return normalizeAddr(a.Address), a.Name, true
	}
	spec := item
	if lt := strings.LastIndexByte(item, '<'); lt >= 0 {
		gt := strings.IndexByte(item[lt:], '>')
		if gt < 0 {
			return "", "", false
		}
		spec = item[lt+1 : lt+gt]
		name = strings.TrimSpace(item[:lt])
		if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
			name = strings.ReplaceAll(name[1:len(name)-1], `\`, "")
		}
		name = toUTF8(DecodeWords(name))
	}
	spec = strings.TrimSpace(spec)
	at := strings.LastIndexByte(spec, '@')
	if at <= 0 || at == len(spec)-1 || strings.ContainsAny(spec, " \t\r\n<>()[],;:\\\"") {
		return "", "", false
	}
	return normalizeAddr(spec), name, true
}

// normalizeAddr lower-cases the domain part; the local part is kept.
func normalizeAddr(a string) string {
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return a
	}
	return a[:at+1] + strings.ToLower(a[at+1:])
}
