package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"herald/internal/store"
)

// settingsOf returns the plan's settings as a map (last value wins).
func settingsOf(p *Plan) map[string]string {
	m := map[string]string{}
	for _, s := range p.Settings {
		m[s.Name] = s.Value
	}
	return m
}

// memberLines renders the plan's members as "email role pref=value...".
func memberLines(p *Plan) []string {
	var out []string
	for _, m := range p.Members {
		line := strings.ToLower(m.Email) + " " + string(m.Role)
		if m.DisplayName != "" {
			line += " name=" + m.DisplayName
		}
		for _, kv := range m.Prefs {
			line += " " + kv.Name + "=" + kv.Value
		}
		out = append(out, line)
	}
	slices.Sort(out)
	return out
}

// wantSettings checks that the plan sets each setting in want to its value.
func wantSettings(t *testing.T, what string, p *Plan, want map[string]string) {
	t.Helper()
	got := settingsOf(p)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q; want %q", what, k, got[k], v)
		}
	}
}

// wantMembers checks the plan's members, as memberLines renders them.
func wantMembers(t *testing.T, what string, p *Plan, want []string) {
	t.Helper()
	if m := memberLines(p); !slices.Equal(m, want) {
		t.Errorf("%s: members:\n%s\nwant:\n%s", what, strings.Join(m, "\n"), strings.Join(want, "\n"))
	}
}

func hasNote(p *Plan, part string) bool {
	return slices.ContainsFunc(p.Notes, func(n string) bool { return strings.Contains(n, part) })
}

func TestFromMlmmj(t *testing.T) {
	p, err := FromMlmmj("testdata/mlmmj/dev", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.List != "dev@lists.example.org" {
		t.Errorf("list %q", p.List)
	}
	want := map[string]string{
		"acceptable_aliases":           "developers@lists.example.org",
		"subject_prefix":               "[dev] ",
		"footer":                       "-- \nThe dev list: https://lists.example.org/dev",
		"default_member_action":        "accept",
		"default_nonmember_action":     "hold", // modnonsubposts beats subonlypost
		"subscription_policy":          "confirm_then_moderate",
		"unsubscription_policy":        "confirm",
		"require_explicit_destination": "false", // tocc
		"admin_notify_mchanges":        "true",
		"respond_to_post_requests":     "false",
		"digests_enabled":              "true",
		"max_message_size":             "51200",
		"reply_goes_to_list":           "point_to_list",
	}
	wantSettings(t, "mlmmj", p, want)
	if v, ok := settingsOf(p)["archive_policy"]; ok {
		t.Errorf("archive_policy set without noarchive: %q", v)
	}
	members := []string{
		"alice@example.org owner",
		"bob@example.net moderator",
		"carol@example.com moderator",
		"dan@example.org member receive_own_postings=false",
		"dave@example.org member receive_own_postings=false",
		"erin@example.com member receive_own_postings=false",
		"frank@example.net member delivery_mode=mime_digests receive_own_postings=false",
		"grace@example.org member delivery_status=by_user receive_own_postings=false",
	}
	wantMembers(t, "mlmmj", p, members)
	for _, n := range []string{"X-Mailing-List-Flavour", "control/noget", "dave@example.org is also"} {
		if !hasNote(p, n) {
			t.Errorf("no note about %q in %q", n, p.Notes)
		}
	}
	if p2, err := FromMlmmj("testdata/mlmmj/dev", "Other@Lists.Example.org"); err != nil || p2.List != "other@lists.example.org" ||
		settingsOf(p2)["acceptable_aliases"] != "dev@lists.example.org,developers@lists.example.org" {
		t.Errorf("named list: %v %+v", err, p2)
	}
}

// mlmmjList writes a list directory with the given control files (name
// -> content) and returns its path.
func mlmmjList(t *testing.T, control map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "control"), 0o755); err != nil {
		t.Fatal(err)
	}
	control["listaddress"] = "l@example.org\n"
	for name, content := range control {
		if err := os.WriteFile(filepath.Join(dir, "control", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestMlmmjPolicies(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		want  map[string]string
	}{
		{nil, map[string]string{"default_member_action": "accept", "default_nonmember_action": "accept",
			"subscription_policy": "confirm", "require_explicit_destination": "true", "digests_enabled": "true"}},
		{[]string{"subonlypost"}, map[string]string{"default_nonmember_action": "reject"}},
		{[]string{"subonlypost", "nosubonlydenymails"}, map[string]string{"default_nonmember_action": "discard"}},
		{[]string{"moderated"}, map[string]string{"default_member_action": "hold", "default_nonmember_action": "hold"}},
		{[]string{"moderated", "subonlypost"}, map[string]string{"default_member_action": "hold", "default_nonmember_action": "reject"}},
		{[]string{"closedlist"}, map[string]string{"subscription_policy": "moderate", "unsubscription_policy": "moderate"}},
		{[]string{"closedlistsub"}, map[string]string{"subscription_policy": "moderate", "unsubscription_policy": "confirm"}},
		{[]string{"nosubconfirm"}, map[string]string{"subscription_policy": "open"}},
		{[]string{"submod", "nosubconfirm"}, map[string]string{"subscription_policy": "moderate"}},
		{[]string{"noarchive", "nodigestsub", "notifymod"}, map[string]string{"archive_policy": "never",
			"digests_enabled": "false", "respond_to_post_requests": "true"}},
	} {
		control := map[string]string{}
		for _, f := range tc.flags {
			control[f] = ""
		}
		p, err := FromMlmmj(mlmmjList(t, control), "")
		if err != nil {
			t.Fatal(err)
		}
		wantSettings(t, fmt.Sprint(tc.flags), p, tc.want)
	}
}

func TestMlmmjDigestsOff(t *testing.T) {
	dir := mlmmjList(t, map[string]string{"nodigestsub": "", "footer_text": "new footer\n", "footer": "old footer\n"})
	if err := os.MkdirAll(filepath.Join(dir, "digesters.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "digesters.d", "x"), []byte("x@example.org\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := FromMlmmj(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	wantMembers(t, "digests off", p, []string{"x@example.org member"})
	if !hasNote(p, "imported with regular delivery") {
		t.Errorf("notes %q", p.Notes)
	}
	if f := settingsOf(p)["footer"]; f != "new footer" {
		t.Errorf("footer %q; want footer_text's", f)
	}
}

func TestMlmmjErrors(t *testing.T) {
	if _, err := FromMlmmj(t.TempDir(), ""); err == nil || !strings.Contains(err.Error(), "not an mlmmj list directory") {
		t.Errorf("empty dir: %v", err)
	}
	dir := mlmmjList(t, map[string]string{"maxmailsize": "lots\n"})
	if _, err := FromMlmmj(dir, ""); err == nil || !strings.Contains(err.Error(), "maxmailsize") {
		t.Errorf("bad maxmailsize: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "control", "listaddress")); err != nil {
		t.Fatal(err)
	}
	if _, err := FromMlmmj(dir, ""); err == nil || !strings.Contains(err.Error(), "listaddress") {
		t.Errorf("no listaddress: %v", err)
	}
}

func TestFromMailman3(t *testing.T) {
	cfg, err := os.Open("testdata/mailman3/config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	roster, err := os.Open("testdata/mailman3/roster.json")
	if err != nil {
		t.Fatal(err)
	}
	defer roster.Close()
	p, err := FromMailman3(cfg, roster, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.List != "ant@example.com" {
		t.Errorf("list %q", p.List)
	}
	wantSettings(t, "mailman3", p, map[string]string{
		"subject_prefix":               "[Ant] ",
		"max_message_size":             "60",
		"bounce_info_stale_after":      "7",
		"autoresponse_grace_period":    "90",
		"acceptable_aliases":           `announce@example.com,^ann-.*@example\.com$`,
		"default_member_action":        "defer",
		"dmarc_mitigate_action":        "munge_from",
		"member_roster_visibility":     "moderators",
		"require_explicit_destination": "true",
		"digest_size_threshold":        "30",
		"digest_volume_frequency":      "monthly",
	})
	got := settingsOf(p)
	for _, k := range []string{"moderator_password", "http_etag", "post_id", "fqdn_listname", "posting_pipeline"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s was carried over", k)
		}
	}
	want := []string{
		"anne@example.com owner name=Anne Person delivery_mode=regular moderation_action=defer",
		"bart@example.com member delivery_mode=mime_digests",
		"cris@example.com member name=Cris Q. Person delivery_mode=regular moderation_action=hold",
		"dana@example.org moderator delivery_mode=regular",
		"release-bot@ci.example.com nonmember moderation_action=accept",
		"spam@junk.example.net nonmember moderation_action=discard",
	}
	wantMembers(t, "mailman3", p, want)
	for _, n := range []string{"moderator_password", "posting_pipeline", `pattern "^.*@build`} {
		if !hasNote(p, n) {
			t.Errorf("no note about %q in %q", n, p.Notes)
		}
	}
}

func TestMailman3Errors(t *testing.T) {
	for _, tc := range []struct{ cfg, roster, want string }{
		{`{"subject_prefix": "x"`, "", "not JSON"},
		{`{"subject_prefix": "x"} {}`, "", "data after it"},
		{`{"subject_prefix": "x"}`, "", "no fqdn_listname"},
		{`{"fqdn_listname": "a@example.org", "acceptable_aliases": [1]}`, "", "acceptable_aliases"},
		{`{"fqdn_listname": "a@example.org", "display_name": {"x": 1}}`, "", "display_name"},
		{`{"fqdn_listname": "a@example.org"}`, `{"entries": [{"role": "member"}]}`, "entry 1 has no email"},
	} {
		var roster *strings.Reader
		if tc.roster != "" {
			roster = strings.NewReader(tc.roster)
		}
		var err error
		if roster != nil {
			_, err = FromMailman3(strings.NewReader(tc.cfg), roster, "")
		} else {
			_, err = FromMailman3(strings.NewReader(tc.cfg), nil, "")
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v; want %q", tc.cfg, tc.roster, err, tc.want)
		}
	}
}

func TestFromCSV(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"plain", "a@example.org\nb@example.org, Bea Example\n\n# a comment\n", []string{
			"a@example.org member", "b@example.org member name=Bea Example"}},
		{"angle", "\"Cy Example <c@example.org>\"\n", []string{"c@example.org member name=Cy Example"}},
		{"header", "Email,Name,Role,delivery_mode,moderation_action\n" +
			"o@example.org,Olive,owner,,\n" +
			"d@example.org,,member,plaintext_digests,hold\n" +
			"n@example.org,,nonmember,,accept\n", []string{
			"d@example.org member delivery_mode=plaintext_digests moderation_action=hold",
			"n@example.org nonmember moderation_action=accept",
			"o@example.org owner name=Olive"}},
	} {
		p, err := FromCSV(strings.NewReader(tc.in), "L@Example.org", store.RoleMember)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if p.List != "l@example.org" {
			t.Errorf("%s: list %q", tc.name, p.List)
		}
		wantMembers(t, tc.name, p, tc.want)
	}
	for _, tc := range []struct{ in, want string }{
		{"email,colour\na@example.org,red\n", `column "colour"`},
		{"email,name\na@example.org,A,extra\n", "row 1: 3 fields"},
		{"email,name\n,Nobody\n", "row 1: no email address"},
		{"\"Broken <x\n", "CSV"},
	} {
		if _, err := FromCSV(strings.NewReader(tc.in), "l@example.org", store.RoleMember); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want %q", tc.in, err, tc.want)
		}
	}
}
