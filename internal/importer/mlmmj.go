package importer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"herald/internal/store"
)

// mlmmjDir reads one mlmmj list directory.
type mlmmjDir struct{ root string }

func (d mlmmjDir) path(name string) string { return filepath.Join(d.root, "control", name) }

// flag reports whether the control file exists (mlmmj's boolean tunables).
func (d mlmmjDir) flag(name string) (bool, error) {
	_, err := os.Stat(d.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mlmmj control %s: %w", name, err)
	}
	return true, nil
}

// text returns the control file's content ("" if it does not exist).
func (d mlmmjDir) text(name string) (string, error) {
	b, err := os.ReadFile(d.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("mlmmj control %s: %w", name, err)
	}
	return string(b), nil
}

// lines returns the control file's non-empty lines, trimmed.
func (d mlmmjDir) lines(name string) ([]string, error) {
	t, err := d.text(name)
	return splitLines(t), err
}

func splitLines(t string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(t, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// subscribers reads a subscriber directory (subscribers.d, digesters.d,
// nomailsubs.d): files of addresses, one per line, sorted for a stable
// order.
func (d mlmmjDir) subscribers(dir string) ([]string, error) {
	des, err := os.ReadDir(filepath.Join(d.root, dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mlmmj %s: %w", dir, err)
	}
	var out []string
	for _, de := range des {
		if de.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d.root, dir, de.Name()))
		if err != nil {
			return nil, fmt.Errorf("mlmmj %s: %w", dir, err)
		}
		out = append(out, splitLines(string(b))...)
	}
	sort.Strings(out)
	return out, nil
}

// mlmmjIgnored are tunables with no herald setting: they are named in
// the plan's notes when present.
var mlmmjIgnored = []string{
	"access", "delheaders", "noget", "subonlyget", "nolistsubsemail", "verp", "maxverprecips",
	"relayhost", "smtpport", "delimiter", "staticbounceaddr", "bouncelife",
	"digestmaxmails", "addtohdr", "memorymailsize", "nodigesttext", "ifmodsendonlymodmoderate",
}

// FromMlmmj reads the mlmmj list directory dir (the one holding control/
// and subscribers.d/). list overrides the address in control/listaddress
// ("" to use it).
func FromMlmmj(dir, list string) (*Plan, error) {
	d := mlmmjDir{root: dir}
	if fi, err := os.Stat(filepath.Join(dir, "control")); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("import: %s is not an mlmmj list directory (no control/ in it)", dir)
	}
	addrs, err := d.lines("listaddress")
	if err != nil {
		return nil, err
	}
	p := &Plan{List: strings.ToLower(list)}
	if p.List == "" {
		if len(addrs) == 0 {
			return nil, fmt.Errorf("import: %s has no control/listaddress; name the list (LIST@DOMAIN)", dir)
		}
		p.List = strings.ToLower(addrs[0])
	}
	var aliases []string
	for _, a := range addrs {
		if !strings.EqualFold(a, p.List) {
			aliases = append(aliases, strings.ToLower(a))
		}
	}
	if len(aliases) > 0 {
		p.set("acceptable_aliases", strings.Join(aliases, ","))
	}
	if err := mlmmjSettings(d, p); err != nil {
		return nil, err
	}
	if err := mlmmjRoster(d, p); err != nil {
		return nil, err
	}
	for _, name := range mlmmjIgnored {
		on, err := d.flag(name)
		if err != nil {
			return nil, err
		}
		if on {
			p.note("control/%s: no herald setting; not imported", name)
		}
	}
	return p, nil
}

// mlmmjSettings maps mlmmj's tunables to herald's (Mailman's) settings.
func mlmmjSettings(d mlmmjDir, p *Plan) error {
	flags := map[string]bool{}
	for _, name := range []string{"moderated", "subonlypost", "modnonsubposts", "nosubonlydenymails",
		"closedlist", "closedlistsub", "submod", "nosubconfirm", "tocc", "notifysub", "notifymod",
		"noarchive", "nodigestsub", "notmetoo"} {
		on, err := d.flag(name)
		if err != nil {
			return err
		}
		flags[name] = on
	}
	prefix, err := d.text("prefix")
	if err != nil {
		return err
	}
	if prefix = strings.TrimSpace(prefix); prefix != "" {
		p.set("subject_prefix", prefix+" ") // mlmmj puts a space after it
	} else {
		p.set("subject_prefix", "")
	}
	footer, err := d.text("footer_text") // mlmmj 1.4
	if err == nil && footer == "" {
		footer, err = d.text("footer")
	}
	if err != nil {
		return err
	}
	p.set("footer", strings.TrimRight(footer, "\n"))
	if html, err := d.text("footer_html"); err != nil {
		return err
	} else if html != "" {
		p.note("control/footer_html: herald adds the text footer to HTML parts itself; not imported")
	}
	mlmmjPosting(flags, p)
	mlmmjSubscription(flags, d, p)
	p.set("require_explicit_destination", strconv.FormatBool(!flags["tocc"]))
	p.set("admin_notify_mchanges", strconv.FormatBool(flags["notifysub"]))
	p.set("respond_to_post_requests", strconv.FormatBool(flags["notifymod"]))
	p.set("digests_enabled", strconv.FormatBool(!flags["nodigestsub"]))
	if flags["noarchive"] {
		p.set("archive_policy", "never")
	}
	if err := mlmmjSize(d, p); err != nil {
		return err
	}
	return mlmmjHeaders(d, p)
}

// mlmmjPosting maps who may post: mlmmj lets anyone post unless
// subonlypost is set; moderated holds every post.
func mlmmjPosting(flags map[string]bool, p *Plan) {
	nonmember := "accept"
	switch {
	case flags["modnonsubposts"]:
		nonmember = "hold"
	case flags["subonlypost"] && flags["nosubonlydenymails"]:
		nonmember = "discard" // refused without a notice
	case flags["subonlypost"]:
		nonmember = "reject"
	}
	member := "accept"
	if flags["moderated"] {
		member = "hold"
		if nonmember == "accept" {
			nonmember = "hold"
		}
	}
	p.set("default_member_action", member)
	p.set("default_nonmember_action", nonmember)
}

// mlmmjSubscription maps how people join and leave. A closed list takes
// no requests by mail at all; herald's nearest is moderation of every
// request.
func mlmmjSubscription(flags map[string]bool, d mlmmjDir, p *Plan) {
	sub, unsub := "confirm", "confirm"
	switch {
	case flags["closedlist"]:
		sub, unsub = "moderate", "moderate"
		p.note("control/closedlist: joining and leaving by mail need a moderator's approval in herald (it has no closed setting)")
	case flags["closedlistsub"]:
		sub = "moderate"
		p.note("control/closedlistsub: joining by mail needs a moderator's approval in herald")
	case flags["submod"] && flags["nosubconfirm"]:
		sub = "moderate"
	case flags["submod"]:
		sub = "confirm_then_moderate"
	case flags["nosubconfirm"]:
		sub = "open"
	}
	if flags["submod"] {
		if mods, _ := d.lines("submod"); len(mods) > 0 {
			p.note("control/submod names %d subscription moderator(s); herald asks the list's moderators and owners", len(mods))
		}
	}
	p.set("subscription_policy", sub)
	p.set("unsubscription_policy", unsub)
}

// mlmmjSize converts maxmailsize (bytes) to max_message_size (KiB).
func mlmmjSize(d mlmmjDir, p *Plan) error {
	s, err := d.text("maxmailsize")
	if err != nil || strings.TrimSpace(s) == "" {
		return err
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return fmt.Errorf("import: control/maxmailsize: %q is not a size in bytes", strings.TrimSpace(s))
	}
	p.set("max_message_size", strconv.Itoa((n+1023)/1024))
	return nil
}

// mlmmjHeaders carries a Reply-To from customheaders over as Mailman's
// reply_goes_to_list; other custom headers have no setting.
func mlmmjHeaders(d mlmmjDir, p *Plan) error {
	hs, err := d.lines("customheaders")
	if err != nil {
		return err
	}
	for _, h := range hs {
		name, value, _ := strings.Cut(h, ":")
		value = strings.TrimSpace(value)
		switch {
		case !strings.EqualFold(strings.TrimSpace(name), "Reply-To"):
			p.note("control/customheaders: %q has no herald setting; not imported", h)
		case strings.EqualFold(strings.Trim(value, "<>"), p.List):
			p.set("reply_goes_to_list", "point_to_list")
		default:
			p.set("reply_goes_to_list", "explicit_header")
			p.set("reply_to_address", strings.Trim(value, "<>"))
		}
	}
	return nil
}

// mlmmjRoster reads owners, moderators and subscribers. mlmmj keeps
// digest and no-mail subscribers apart; in herald they are members with
// digest delivery, or with delivery turned off by the member. An address
// in more than one of them becomes one member (normal beats digest beats
// no-mail).
func mlmmjRoster(d mlmmjDir, p *Plan) error {
	owners, err := d.lines("owner")
	if err != nil {
		return err
	}
	moderators, err := d.lines("moderators")
	if err != nil {
		return err
	}
	p.addRole(store.RoleOwner, owners)
	p.addRole(store.RoleModerator, moderators)
	notMeToo, err := d.flag("notmetoo")
	if err != nil {
		return err
	}
	// Digest members of a list whose digests are off stay members, with
	// regular delivery: a delivery mode the list refuses cannot be set.
	digestPrefs := []Setting{{"delivery_mode", store.ModeMIMEDigest}}
	if noDigests(p) {
		digestPrefs = nil
	}
	seen := map[string]bool{}
	counts := map[string]int{}
	for _, sd := range []struct {
		dir   string
		prefs []Setting
	}{
		{"subscribers.d", nil},
		{"digesters.d", digestPrefs},
		{"nomailsubs.d", []Setting{{"delivery_status", store.DeliveryByUser}}},
	} {
		addrs, err := d.subscribers(sd.dir)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			key := strings.ToLower(a)
			if seen[key] {
				p.note("%s: %s is also in an earlier subscriber directory; imported once", sd.dir, a)
				continue
			}
			seen[key] = true
			prefs := append([]Setting(nil), sd.prefs...)
			if notMeToo {
				prefs = append(prefs, Setting{"receive_own_postings", "false"})
			}
			p.Members = append(p.Members, Member{Email: a, Role: store.RoleMember, Prefs: prefs})
			counts[sd.dir]++
		}
	}
	if n := counts["digesters.d"]; n > 0 && digestPrefs == nil {
		p.note("digesters.d: %d digest member(s) imported with regular delivery: control/nodigestsub turns digests off", n)
	}
	if on, err := d.flag("digestinterval"); err != nil {
		return err
	} else if on {
		p.note("control/digestinterval: herald sends a digest daily (digest_send_periodic) or at digest_size_threshold KiB, not at mlmmj's interval")
	}
	return nil
}

// noDigests reports whether the plan turns digests off.
func noDigests(p *Plan) bool {
	for _, s := range p.Settings {
		if s.Name == "digests_enabled" {
			return s.Value == "false"
		}
	}
	return false
}
