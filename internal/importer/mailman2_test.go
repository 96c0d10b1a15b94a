package importer

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func openTestdata(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestFromMailman2(t *testing.T) {
	p, err := FromMailman2(openTestdata(t, "mailman2/config.py"), openTestdata(t, "mailman2/members.txt"),
		openTestdata(t, "mailman2/digest.txt"), "")
	if err != nil {
		t.Fatal(err)
	}
	if p.List != "users@lists.example.org" {
		t.Errorf("list %q", p.List)
	}
	wantSettings(t, "mailman2", p, map[string]string{
		"display_name":             "Users",
		"subject_prefix":           "[Users %d] ",
		"info":                     "Questions and answers about Widget.\nPlease search the archive first: it's likely been asked.",
		"reply_goes_to_list":       "explicit_header",
		"reply_to_address":         "answers@example.org",
		"subscription_policy":      "confirm_then_moderate",
		"unsubscription_policy":    "confirm",
		"default_nonmember_action": "hold",
		"default_member_action":    "accept",
		"member_roster_visibility": "members",
		"dmarc_mitigate_action":    "munge_from",
		"archive_policy":           "public",
		"administrivia":            "true", // written as True
		"send_goodbye_message":     "false",
		"bounce_score_threshold":   "5", // written as 5.0
		"max_message_size":         "512",
		"acceptable_aliases":       `users@example.org,^users-.*@lists\.example\.org$`,
		"filter_types":             "image/*,application/x-msdownload",
		"filter_extensions":        "exe,bat,cmd,com,pif,scr,vbs,cpl",
		"bounce_matching_headers":  "to: friend@public.com\nmessage-id: relay.comanche.denmark.eu",
		"header_matches":           "Subject: .*viagra -> discard",
		"digest_size_threshold":    "30",
		"digest_send_periodic":     "true",
		"digest_volume_frequency":  "weekly",
		"digest_footer":            "$display_name digest footer",
		"footer": "_______________________________________________\n" +
			"$display_name mailing list -- 50% off nothing, costs $$0\n" +
			"$display_name@$domain\n" +
			"%(web_page_url)slistinfo/$list_name\n" +
			"Unsubscribe or change options: $user_optionsurl",
	})
	want := []string{
		"ann@example.com member name=Ann Example",
		"bo@example.net member",
		"carl@example.org member name=Smith, Carl",
		"cron@build.example.org nonmember moderation_action=accept",
		"dee@example.com member name=Dee Digest delivery_mode=mime_digests",
		"lucia@example.org owner",
		"mod@example.org moderator",
		"root@example.org owner",
	}
	wantMembers(t, "mailman2", p, want)
	if !slices.Equal(p.Bans, []string{"spammer@bad.example.com", `^.*@junk\.example\.net$`}) {
		t.Errorf("bans %q", p.Bans)
	}
	for _, n := range []string{"%(web_page_url)s has no herald variable", `"@announce" has no herald equivalent`,
		"not imported): welcome_msg, goodbye_msg, new_member_options"} {
		if !hasNote(p, n) {
			t.Errorf("no note about %q in %q", n, p.Notes)
		}
	}
	for _, n := range p.Notes {
		if strings.Contains(n, "host_name") || strings.Contains(n, "real_name") || strings.Contains(n, "obscure_addresses") {
			t.Errorf("note names a setting that was used or needs no counterpart: %s", n)
		}
	}
}

func TestMailman2Choices(t *testing.T) {
	for _, tc := range []struct {
		cfg  string
		want map[string]string
	}{
		{"default_member_moderation = 1\nmember_moderation_action = 2\n", map[string]string{"default_member_action": "discard"}},
		{"archive = 1\narchive_private = 1\n", map[string]string{"archive_policy": "private"}},
		{"archive = 0\narchive_private = 1\n", map[string]string{"archive_policy": "never"}},
		{"from_is_list = 2\n", map[string]string{"dmarc_mitigate_action": "wrap_message", "dmarc_mitigate_unconditionally": "true"}},
		{"subscribe_policy = 0\nunsubscribe_policy = 1\nprivate_roster = 2\n", map[string]string{
			"subscription_policy": "open", "unsubscription_policy": "moderate", "member_roster_visibility": "moderators"}},
		{"autorespond_postings = 1\n", map[string]string{"autorespond_postings": "respond_and_continue"}},
	} {
		p, err := FromMailman2(strings.NewReader(tc.cfg), nil, nil, "l@example.org")
		if err != nil {
			t.Fatalf("%q: %v", tc.cfg, err)
		}
		wantSettings(t, tc.cfg, p, tc.want)
	}
	for _, tc := range []struct{ cfg, want string }{
		{"generic_nonmember_action = 7\n", "generic_nonmember_action: 7"},
		{"subject_prefix = 3\n", "subject_prefix: 3 is not a string"},
		{"owner = 'x'\nowner = [1]\n", "owner: 1 is not a string"},
		{"header_filter_rules = [('^Subject: x', 5, False)]\n", "known action"},
		{"real_name = 'x'\n", "no real_name and host_name"},
		{"x = open('/etc/passwd')\n", `line 1: "open" is not a literal`},
	} {
		list := "l@example.org"
		if strings.Contains(tc.want, "real_name") {
			list = ""
		}
		if _, err := FromMailman2(strings.NewReader(tc.cfg), nil, nil, list); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestPyLiterals(t *testing.T) {
	src := `# comment
a = 'it\'s'  # trailing comment
b = "tab\there" 'and' "more"
c = u'caf\xe9'
d = '\xc3\xa9t\xc3\xa9'
e = r'^x\.y$'
f = """three
lines ''' inside"""
g = [1, -2, 3.5, True, False, None,
     ('t', 5L), {'k': ['v']},]
h = '\u00e9\101\n'
i = \
    42
j = 0x1F
`
	got, order, err := parsePyAssignments(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": "it's", "b": "tab\thereandmore", "c": "café", "d": "été", "e": `^x\.y$`,
		"f": "three\nlines ''' inside",
		"g": []any{int64(1), int64(-2), 3.5, true, false, nil, []any{"t", int64(5)}, map[string]any{"k": []any{"v"}}},
		"h": "éA\n", "i": int64(42), "j": int64(31),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	if !slices.Equal(order, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}) {
		t.Errorf("order %q", order)
	}
	for _, bad := range []string{"a = 'open", "a = \"\"\"open", "a = [1, 2", "a = {1 2}", "= 1", "a 1", "a = 1 +", "a = '\\x4'"} {
		if _, _, err := parsePyAssignments(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// FuzzPyAssignments: any input is parsed or refused, never a panic.
func FuzzPyAssignments(f *testing.F) {
	b, err := os.ReadFile("testdata/mailman2/config.py")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("a = [1, (2, {'x': u'\\xe9'})]\n")
	f.Add("a = '''x\n")
	f.Fuzz(func(t *testing.T, src string) {
		_, _, _ = parsePyAssignments(src)
	})
}

func TestCheckBans(t *testing.T) {
	if err := checkBans([]string{"a@example.org", " ^.*@x\\.example$", "B@Example.org"}); err != nil {
		t.Errorf("good bans: %v", err)
	}
	for _, bad := range []string{"^(", "not an address", ""} {
		if err := checkBans([]string{bad}); err == nil || !strings.Contains(err.Error(), "nothing was written") {
			t.Errorf("ban %q: %v", bad, err)
		}
	}
}
