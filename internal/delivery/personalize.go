package delivery

import (
	"fmt"
	"os"
	"strings"

	"herald/internal/delivery/smtpclient"
	"herald/internal/dkim"
	"herald/internal/mime"
	"herald/internal/status"
)

// Envelope Meta keys of per-member decoration, set by the pipeline's
// decorate handler for personalized lists (handlers.OutMetaDecorate and
// friends; delivery must not import the pipeline): the header and footer
// texts with the list variables expanded and the member ones kept.
const (
	metaDecorate       = "decorate"
	metaDecorateHeader = "decorate_header"
	metaDecorateFooter = "decorate_footer"
)

// personalizer returns the function that renders one member's copy of a
// personalized post: To: rewritten to the member (personalize=full); the
// member's RFC 8058 one-click unsubscribe URL in List-Unsubscribe, with
// List-Unsubscribe-Post; the header and footer texts the pipeline left in
// the envelope, with the member's variables expanded ($user_address,
// $user_delivered_to, $user_email, $user_name, $user_language,
// $user_optionsurl, $user_unsubscribe_url); and, last, the DKIM signature.
func (d *Deliverer) personalizer(j *job, msg []byte, sg *dkim.Signer) (func(*rcpt) ([]byte, error), error) {
	base, err := mime.Parse(msg)
	if err != nil {
		return nil, status.Malformed(fmt.Errorf("parse post for personalizing: %w", err))
	}
	l := j.list
	s := l.Settings
	baseURL := strings.TrimRight(d.opts.BaseURL, "/")
	decorate := j.env.Meta[metaDecorate] == "per-member"
	header, footer := j.env.Meta[metaDecorateHeader], j.env.Meta[metaDecorateFooter]
	return func(r *rcpt) ([]byte, error) {
		var who member
		if r.who != nil {
			who = *r.who
		}
		m := base.Clone()
		h := m.Header
		if s.Personalize == "full" {
			h.Set("To", formatAddress(who.name, r.addr))
		}
		unsub := ""
		if who.token != "" && baseURL != "" {
			unsub = baseURL + "/u/" + who.token
			if s.IncludeRFC2369Headers || h.Has("List-Unsubscribe") {
				h.Set("List-Unsubscribe", "<"+unsub+">, <mailto:"+l.SubAddress("leave")+">")
				h.Set("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
			}
		}
		if decorate && (header != "" || footer != "") {
			vars := map[string]string{"user_address": r.addr, "user_delivered_to": r.addr, "user_email": r.addr,
				"user_name": who.name, "user_language": who.lang, "user_optionsurl": unsub, "user_unsubscribe_url": unsub}
			if err := mime.Decorate(m, Expand(header, vars), Expand(footer, vars)); err != nil {
				return nil, err
			}
		}
		out := m.Bytes()
		var sig []byte
		if sg != nil {
			var err error
			if sig, err = sg.Sign(out); err != nil {
				return nil, err
			}
			d.Stats.Signed.Add(1)
		}
		return smtpclient.Wire(sig, out), nil
	}, nil
}

// Expand substitutes $name and ${name}; unknown names stay as written.
func Expand(tmpl string, vars map[string]string) string {
	if tmpl == "" {
		return ""
	}
	return os.Expand(tmpl, func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return "$" + k
	})
}

// formatAddress renders "Name <addr>", quoting or RFC 2047-encoding the
// name as needed.
func formatAddress(name, addr string) string {
	name = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, name)
	if name == "" {
		return addr
	}
	for _, c := range []byte(name) {
		if c >= 0x80 {
			return mime.EncodeWords(name) + " <" + addr + ">"
		}
	}
	if strings.ContainsAny(name, "()<>[]:;@\\,.\"") {
		name = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	}
	return name + " <" + addr + ">"
}
