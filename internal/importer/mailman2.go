package importer

import (
	"bufio"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"herald/internal/store"
)

// FromMailman2 reads a list's configuration as GNU Mailman 2.1's
// `config_list -o FILE LIST` writes it, and optionally its members as
// `list_members -r -f LIST` (regular) and `list_members -d -f LIST`
// (digest) print them, one "Name <addr>" or address per line. Settings
// are converted the way Mailman 3's import21 does (numbers to names,
// %(name)s templates to $name); whatever has no herald counterpart is
// named in the notes. list overrides the address made of real_name and
// host_name ("" to use it).
func FromMailman2(config, members, digest io.Reader, list string) (*Plan, error) {
	src, err := io.ReadAll(config)
	if err != nil {
		return nil, fmt.Errorf("import: Mailman 2 configuration: %w", err)
	}
	cfg, order, err := parsePyAssignments(string(src))
	if err != nil {
		return nil, fmt.Errorf("import: Mailman 2 configuration: %w", err)
	}
	p := &Plan{List: strings.ToLower(list)}
	if p.List == "" {
		name, _ := cfg["real_name"].(string)
		host, _ := cfg["host_name"].(string)
		if name == "" || host == "" {
			return nil, fmt.Errorf("import: the Mailman 2 configuration has no real_name and host_name; name the list (LIST@DOMAIN)")
		}
		p.List = strings.ToLower(name + "@" + host)
	}
	m := mm2{cfg: cfg, p: p, used: map[string]bool{}}
	if err := m.convert(); err != nil {
		return nil, fmt.Errorf("import: Mailman 2 configuration: %w", err)
	}
	var unknown []string
	for _, k := range order {
		if !m.used[k] && !mm2Ignored[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		p.note("Mailman 2 settings herald does not have (not imported): %s", strings.Join(unknown, ", "))
	}
	for _, r := range []struct {
		in    io.Reader
		prefs []Setting
		what  string
	}{{members, nil, "members"}, {digest, []Setting{{"delivery_mode", store.ModeMIMEDigest}}, "digest members"}} {
		if r.in == nil {
			continue
		}
		ms, err := readAddressLines(r.in, r.prefs)
		if err != nil {
			return nil, fmt.Errorf("import: Mailman 2 %s: %w", r.what, err)
		}
		p.Members = append(p.Members, ms...)
	}
	return p, nil
}

// mm2Ignored are Mailman 2 settings that need no counterpart: they
// describe the old server, or herald does the job without a setting.
var mm2Ignored = map[string]bool{
	"host_name": true, "web_page_url": true, "preferred_language": true, "available_languages": true,
	"encode_ascii_prefixes": true, "obscure_addresses": true, "admin_member_chunksize": true,
	"mime_is_default_digest": true, "scrub_nondigest": true, "umbrella_list": true,
	"umbrella_member_suffix": true, "send_reminders": true, "nondigestable": true,
}

// mm2 converts one configuration.
type mm2 struct {
	cfg  map[string]any
	p    *Plan
	used map[string]bool
}

// get returns a setting's value and marks it used.
func (m *mm2) get(k string) (any, bool) {
	v, ok := m.cfg[k]
	if ok {
		m.used[k] = true
	}
	return v, ok
}

func (m *mm2) str(k string) (string, bool, error) {
	v, ok := m.get(k)
	if !ok || v == nil {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", false, fmt.Errorf("%s: %v is not a string", k, v)
	}
	return s, true, nil
}

// num returns a numeric or boolean setting as an integer (Mailman 2
// writes flags as 0/1 and some counts as floats).
func (m *mm2) num(k string) (int64, bool, error) {
	v, ok := m.get(k)
	if !ok {
		return 0, false, nil
	}
	switch x := v.(type) {
	case int64:
		return x, true, nil
	case float64:
		return int64(x), true, nil
	case bool:
		if x {
			return 1, true, nil
		}
		return 0, true, nil
	}
	return 0, false, fmt.Errorf("%s: %v is not a number", k, v)
}

func (m *mm2) strList(k string) ([]string, error) {
	v, ok := m.get(k)
	if !ok || v == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case string: // a text area: one item per line, # lines are comments
		var out []string
		for _, l := range splitLines(x) {
			if !strings.HasPrefix(l, "#") {
				out = append(out, l)
			}
		}
		return out, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, it := range x {
			s, ok := it.(string)
			if !ok {
				return nil, fmt.Errorf("%s: %v is not a string", k, it)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: %v is not a list", k, v)
}

// mm2Same are settings with the same name and meaning in herald (flags
// and counts; Mailman 2 writes flags as 0/1).
var mm2Same = map[string]string{
	"anonymous_list": "bool", "first_strip_reply_to": "bool", "send_welcome_msg": "bool:send_welcome_message",
	"send_goodbye_msg": "bool:send_goodbye_message", "admin_immed_notify": "bool", "admin_notify_mchanges": "bool",
	"respond_to_post_requests": "bool", "emergency": "bool", "include_rfc2369_headers": "bool",
	"include_list_post_header": "bool:allow_list_posts", "require_explicit_destination": "bool",
	"administrivia": "bool", "digestable": "bool:digests_enabled", "bounce_processing": "bool:process_bounces",
	"bounce_notify_owner_on_disable": "bool", "bounce_notify_owner_on_removal": "bool",
	"filter_content": "bool", "collapse_alternatives": "bool", "convert_html_to_plaintext": "bool",
	"max_message_size": "int", "max_num_recipients": "int", "max_days_to_hold": "int",
	"bounce_score_threshold": "int", "bounce_info_stale_after": "int",
	"bounce_you_are_disabled_warnings": "int", "bounce_you_are_disabled_warnings_interval": "int",
	"autoresponse_graceperiod": "int:autoresponse_grace_period",
	"digest_size_threshhold":   "int:digest_size_threshold", // sic: Mailman 2's spelling
	"digest_send_periodic":     "bool",
}

// mm2Strings are text settings carried over as they are.
var mm2Strings = map[string]string{
	"real_name": "display_name", "description": "description", "info": "info",
	"subject_prefix": "subject_prefix", "reply_to_address": "reply_to_address",
	"autoresponse_postings_text": "autoresponse_postings_text",
}

// mm2Lists are list settings (text areas or Python lists).
var mm2Lists = map[string]string{
	"acceptable_aliases": "acceptable_aliases", "filter_mime_types": "filter_types",
	"pass_mime_types": "pass_types", "filter_filename_extensions": "filter_extensions",
	"pass_filename_extensions": "pass_extensions", "bounce_matching_headers": "bounce_matching_headers",
}

// mm2Choices map Mailman 2's numbered choices to herald's names.
var mm2Choices = map[string]struct {
	setting string
	names   []string
}{
	"generic_nonmember_action": {"default_nonmember_action", []string{"accept", "hold", "reject", "discard"}},
	"reply_goes_to_list":       {"reply_goes_to_list", []string{"no_munging", "point_to_list", "explicit_header"}},
	"subscribe_policy":         {"subscription_policy", []string{"open", "confirm", "moderate", "confirm_then_moderate"}},
	"unsubscribe_policy":       {"unsubscription_policy", []string{"confirm", "moderate"}},
	"private_roster":           {"member_roster_visibility", []string{"public", "members", "moderators"}},
	"personalize":              {"personalize", []string{"none", "individual", "full"}},
	"filter_action":            {"filter_action", []string{"discard", "reject", "forward", "preserve"}},
	"dmarc_moderation_action":  {"dmarc_mitigate_action", []string{"no_mitigation", "munge_from", "wrap_message", "reject", "discard"}},
	"digest_volume_frequency":  {"digest_volume_frequency", []string{"yearly", "monthly", "quarterly", "weekly", "daily"}},
}

func (m *mm2) convert() error {
	keys := make([]string, 0, len(mm2Same))
	for k := range mm2Same {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kind, name, _ := strings.Cut(mm2Same[k], ":")
		if name == "" {
			name = k
		}
		n, ok, err := m.num(k)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if kind == "bool" {
			m.p.set(name, strconv.FormatBool(n != 0))
		} else {
			m.p.set(name, strconv.FormatInt(max(n, 0), 10))
		}
	}
	for _, k := range sortedKeys(mm2Strings) {
		s, ok, err := m.str(k)
		if err != nil {
			return err
		}
		if ok {
			m.p.set(mm2Strings[k], s)
		}
	}
	for _, k := range sortedKeys(mm2Lists) {
		items, err := m.strList(k)
		if err != nil {
			return err
		}
		if _, present := m.cfg[k]; present {
			m.p.set(mm2Lists[k], store.JoinListSetting(mm2Lists[k], items))
		}
	}
	for _, k := range sortedKeys(mm2Choices) {
		c := mm2Choices[k]
		n, ok, err := m.num(k)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if n < 0 || int(n) >= len(c.names) {
			return fmt.Errorf("%s: %d is not one of Mailman's choices 0-%d", k, n, len(c.names)-1)
		}
		m.p.set(c.setting, c.names[n])
	}
	for _, step := range []func() error{m.memberModeration, m.archive, m.fromIsList, m.autorespond,
		m.templates, m.roster, m.nonmembers, m.bans, m.headerFilters} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](mp map[string]V) []string {
	out := make([]string, 0, len(mp))
	for k := range mp {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// memberModeration: new members moderated (default_member_moderation)
// get member_moderation_action (0 hold, 1 reject, 2 discard); else their
// posts are accepted.
func (m *mm2) memberModeration() error {
	on, ok, err := m.num("default_member_moderation")
	if err != nil || !ok {
		return err
	}
	action, _, err := m.num("member_moderation_action")
	if err != nil {
		return err
	}
	if on == 0 {
		m.p.set("default_member_action", "accept")
		return nil
	}
	names := []string{"hold", "reject", "discard"}
	if action < 0 || int(action) >= len(names) {
		return fmt.Errorf("member_moderation_action: %d is not one of Mailman's choices 0-2", action)
	}
	m.p.set("default_member_action", names[action])
	m.p.note("default_member_moderation: new members are moderated (%s); members imported here get the list default, not their own moderation flags", names[action])
	return nil
}

func (m *mm2) archive() error {
	on, ok, err := m.num("archive")
	if err != nil || !ok {
		return err
	}
	private, _, err := m.num("archive_private")
	switch {
	case err != nil:
		return err
	case on == 0:
		m.p.set("archive_policy", "never")
	case private != 0:
		m.p.set("archive_policy", "private")
	default:
		m.p.set("archive_policy", "public")
	}
	return nil
}

// fromIsList (0 none, 1 munge, 2 wrap) applies DMARC mitigation to every
// post, which herald says with dmarc_mitigate_unconditionally.
func (m *mm2) fromIsList() error {
	n, ok, err := m.num("from_is_list")
	if err != nil || !ok || n == 0 {
		return err
	}
	actions := map[int64]string{1: "munge_from", 2: "wrap_message"}
	a, known := actions[n]
	if !known {
		return fmt.Errorf("from_is_list: %d is not one of Mailman's choices 0-2", n)
	}
	m.p.set("dmarc_mitigate_action", a)
	m.p.set("dmarc_mitigate_unconditionally", "true")
	return nil
}

func (m *mm2) autorespond() error {
	n, ok, err := m.num("autorespond_postings")
	if err != nil || !ok {
		return err
	}
	if n != 0 {
		m.p.set("autorespond_postings", "respond_and_continue")
	} else {
		m.p.set("autorespond_postings", "none")
	}
	return nil
}

// mm2Vars are Mailman 2's template names and herald's for them.
var mm2Vars = map[string]string{
	"real_name": "$display_name", "list_name": "$display_name", "_internal_name": "$list_name",
	"host_name": "$domain", "description": "$description", "info": "$info", "cgiext": "",
	"user_address": "$user_address", "user_delivered_to": "$user_delivered_to",
	"user_name": "$user_name", "user_optionsurl": "$user_optionsurl",
}

var mm2VarRE = regexp.MustCompile(`%\(([A-Za-z_][A-Za-z0-9_]*)\)s|%%`)

// templates converts msg_header, msg_footer and the digest's from Python %(name)s to
// $name; a name herald has no variable for stays as written, noted.
func (m *mm2) templates() error {
	for _, t := range []struct{ from, to string }{{"msg_header", "header"}, {"msg_footer", "footer"},
		{"digest_header", "digest_header"}, {"digest_footer", "digest_footer"}} {
		s, ok, err := m.str(t.from)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		var unknown []string
		s = strings.ReplaceAll(s, "$", "$$")
		s = mm2VarRE.ReplaceAllStringFunc(s, func(v string) string {
			if v == "%%" {
				return "%"
			}
			name := v[2 : len(v)-2]
			if h, ok := mm2Vars[name]; ok {
				return h
			}
			unknown = append(unknown, v)
			return v
		})
		if len(unknown) > 0 {
			m.p.note("%s: %s has no herald variable and stays as written; edit it with herald lists set %s %s=...",
				t.from, strings.Join(unknown, ", "), m.p.List, t.to)
		}
		m.p.set(t.to, s)
	}
	return nil
}

func (m *mm2) roster() error {
	owners, err := m.strList("owner")
	if err != nil {
		return err
	}
	moderators, err := m.strList("moderator")
	if err != nil {
		return err
	}
	m.p.addRole(store.RoleOwner, owners)
	m.p.addRole(store.RoleModerator, moderators)
	return nil
}

// nonmembers: the *_these_nonmembers lists become nonmembers with that
// action; a regexp (^…) or another list (@list) has no herald form.
func (m *mm2) nonmembers() error {
	for _, k := range sortedKeys(mailman3Nonmembers) {
		items, err := m.strList(k)
		if err != nil {
			return err
		}
		for _, it := range items {
			if strings.HasPrefix(it, "^") || strings.HasPrefix(it, "@") {
				m.p.note("%s: %q has no herald equivalent; not imported", k, it)
				continue
			}
			m.p.Members = append(m.p.Members, Member{Email: it, Role: store.RoleNonmember,
				Prefs: []Setting{{"moderation_action", mailman3Nonmembers[k]}}})
		}
	}
	return nil
}

func (m *mm2) bans() error {
	items, err := m.strList("ban_list")
	if err != nil {
		return err
	}
	m.p.Bans = append(m.p.Bans, items...)
	return nil
}

// mm2FilterActions are Mailman 2's actions for header_filter_rules.
var mm2FilterActions = map[int64]string{0: "defer", 1: "accept", 2: "reject", 3: "discard", 6: "accept", 7: "hold"}

var headerNameRE = regexp.MustCompile(`^[!-9;-~]+$`)

// headerFilters converts header_filter_rules, a list of (patterns,
// action, empty) where each pattern line is a regexp over a whole header
// line ("^Subject: .*offer"), into header_matches ("Subject: .*offer ->
// discard"), as Mailman 3's import21 does.
func (m *mm2) headerFilters() error {
	v, ok := m.get("header_filter_rules")
	if !ok || v == nil {
		return nil
	}
	rules, isList := v.([]any)
	if !isList {
		return fmt.Errorf("header_filter_rules: %v is not a list", v)
	}
	var lines []string
	for _, r := range rules {
		rule, ok := r.([]any)
		if !ok || len(rule) < 2 {
			return fmt.Errorf("header_filter_rules: %v is not (patterns, action, ...)", r)
		}
		patterns, ok1 := rule[0].(string)
		code, ok2 := rule[1].(int64)
		action, ok3 := mm2FilterActions[code]
		if !ok1 || !ok2 || !ok3 {
			return fmt.Errorf("header_filter_rules: %v is not (patterns, action, ...) with a known action", r)
		}
		for _, pat := range splitLines(patterns) {
			name, re, found := strings.Cut(strings.TrimPrefix(pat, "^"), ":")
			if !found || !headerNameRE.MatchString(name) {
				m.p.note("header_filter_rules: %q does not start with a header name; not imported", pat)
				continue
			}
			lines = append(lines, name+": "+strings.TrimSpace(re)+" -> "+action)
		}
	}
	if len(lines) > 0 {
		m.p.set("header_matches", store.JoinListSetting("header_matches", lines))
	}
	return nil
}

// readAddressLines reads "Name <addr>" or bare addresses, one per line
// (blank lines and # comments skipped), as members with prefs.
func readAddressLines(r io.Reader, prefs []Setting) ([]Member, error) {
	var out []Member
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := Member{Email: line, Role: store.RoleMember, Prefs: prefs}
		if strings.Contains(line, "<") {
			a, err := mail.ParseAddress(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: %q is not an address", n, line)
			}
			m.Email, m.DisplayName = a.Address, a.Name
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
