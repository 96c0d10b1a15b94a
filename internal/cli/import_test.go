package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	mlmmjTestList    = "../importer/testdata/mlmmj/dev"
	mailman3TestData = "../importer/testdata/mailman3/"
)

func TestImportMlmmj(t *testing.T) {
	r := newCLIRig(t)
	if out, errs, code := r.run("import", "mlmmj", mlmmjTestList); code == 0 || !strings.Contains(errs, "herald domains add lists.example.org") {
		t.Fatalf("import into a missing domain: exit %d: %s%s", code, out, errs)
	}
	r.ok("domains", "add", "lists.example.org")
	if out := r.ok("import", "mlmmj", mlmmjTestList, "--dry-run"); !strings.Contains(out, "would import") {
		t.Errorf("dry run: %q", out)
	}
	if _, _, code := r.run("lists", "show", "dev@lists.example.org"); code == 0 {
		t.Fatal("the dry run created the list")
	}
	out := r.ok("import", "mlmmj", mlmmjTestList)
	for _, want := range []string{"imported new list dev@lists.example.org", "member: 5 added, 0 already there",
		"owner: 1 added", "note: control/noget"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	roster := r.ok("members", "ls", "dev@lists.example.org", "--role", "all")
	for _, want := range []string{"alice@example.org owner", "carol@example.com moderator", "grace@example.org member"} {
		if !strings.Contains(roster, want) {
			t.Errorf("roster lacks %q:\n%s", want, roster)
		}
	}
	show := r.ok("lists", "show", "dev@lists.example.org")
	for _, want := range []string{`subject_prefix = "[dev] "`, "default_nonmember_action = hold", "max_message_size = 51200"} {
		if !strings.Contains(show, want) {
			t.Errorf("settings lack %q:\n%s", want, show)
		}
	}
	prefs := r.ok("members", "set", "dev@lists.example.org", "grace@example.org", "language=en")
	if !strings.Contains(prefs, "delivery_status: by_user") || !strings.Contains(prefs, "receive_own_postings: false") {
		t.Errorf("grace's preferences:\n%s", prefs)
	}
	// Again: the list exists and nobody is added twice.
	out = r.ok("--json", "import", "mlmmj", mlmmjTestList)
	var rep importReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v: %s", err, out)
	}
	if rep.Created || rep.Added["member"] != 0 || rep.Existing["member"] != 5 || rep.Existing["owner"] != 1 {
		t.Errorf("second import: %+v", rep)
	}
}

func TestImportMailman3(t *testing.T) {
	r := newCLIRig(t)
	r.ok("domains", "add", "example.com")
	out := r.ok("import", "mailman3", mailman3TestData+"config.json", "--roster", mailman3TestData+"roster.json")
	for _, want := range []string{"imported new list ant@example.com", "member: 2 added", "nonmember: 2 added",
		"note: moderator_password"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	show := r.ok("lists", "show", "ant@example.com")
	for _, want := range []string{"bounce_info_stale_after = 7", "max_message_size = 60", "dmarc_mitigate_action = munge_from"} {
		if !strings.Contains(show, want) {
			t.Errorf("settings lack %q:\n%s", want, show)
		}
	}
	// Into an existing list, under another name.
	out = r.ok("import", "mailman3", mailman3TestData+"config.json", "dev@example.org")
	if !strings.Contains(out, "imported existing list dev@example.org") {
		t.Errorf("into dev: %s", out)
	}
	if show := r.ok("lists", "show", "dev@example.org"); !strings.Contains(show, `subject_prefix = "[Ant] "`) {
		t.Errorf("dev's settings:\n%s", show)
	}
}

// An import that herald cannot take in full changes nothing.
func TestImportBadInputWritesNothing(t *testing.T) {
	r := newCLIRig(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"csv", "dev@example.org", write("bad.csv", "ok@example.org\nnot an address\n")}, `"not an address" is not an email address`},
		{[]string{"csv", "dev@example.org", write("mode.csv", "email,delivery_mode\nok@example.org,weekly\n")}, "delivery_mode"},
		{[]string{"csv", "dev@example.org", write("role.csv", "email,role\nok@example.org,admin\n")}, `role "admin"`},
		{[]string{"mailman3", write("cfg.json", `{"fqdn_listname": "dev@example.org", "subject_prefix": "[x] ", "personalize": "sometimes"}`)}, "personalize"},
		{[]string{"csv", "dev@example.org", filepath.Join(dir, "missing.csv")}, "csv file"},
	} {
		out, errs, code := r.run(append([]string{"import"}, tc.args...)...)
		if code == 0 || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("import %v: exit %d, stdout %q, stderr %q; want one line with %q", tc.args, code, out, errs, tc.want)
		}
	}
	if roster := r.ok("members", "ls", "dev@example.org", "--role", "all"); strings.Contains(roster, "ok@example.org") {
		t.Errorf("a failed import added members:\n%s", roster)
	}
	if show := r.ok("lists", "show", "dev@example.org"); strings.Contains(show, "[x]") {
		t.Errorf("a failed import changed settings:\n%s", show)
	}
}

func TestImportCSV(t *testing.T) {
	r := newCLIRig(t)
	csv := "email,name,role\nmod@example.org,Mo,moderator\nann@example.org,Ann,\n"
	p := filepath.Join(t.TempDir(), "m.csv")
	if err := os.WriteFile(p, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	out := r.ok("import", "csv", "dev@example.org", p)
	if !strings.Contains(out, "member: 1 added") || !strings.Contains(out, "moderator: 1 added") {
		t.Errorf("csv import: %s", out)
	}
	if roster := r.ok("members", "ls", "dev@example.org", "--role", "all"); !strings.Contains(roster, "mod@example.org moderator") ||
		!strings.Contains(roster, "ann@example.org member") {
		t.Errorf("roster:\n%s", roster)
	}
}

func TestImportMailman2(t *testing.T) {
	r := newCLIRig(t)
	r.ok("domains", "add", "lists.example.org")
	dir := "../importer/testdata/mailman2/"
	out := r.ok("import", "mailman2", dir+"config.py", "--members", dir+"members.txt", "--digest-members", dir+"digest.txt")
	for _, want := range []string{"imported new list users@lists.example.org", "member: 4 added", "owner: 2 added",
		"bans: 2 added, 0 already there", "note: msg_footer: %(web_page_url)s"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	bans := r.ok("bans", "ls", "users@lists.example.org")
	if !strings.Contains(bans, "spammer@bad.example.com") || !strings.Contains(bans, `^.*@junk\.example\.net$`) {
		t.Errorf("bans:\n%s", bans)
	}
	show := r.ok("lists", "show", "users@lists.example.org")
	for _, want := range []string{"subscription_policy = confirm_then_moderate", "header_matches = Subject: .*viagra -> discard",
		"reply_goes_to_list = explicit_header"} {
		if !strings.Contains(show, want) {
			t.Errorf("settings lack %q:\n%s", want, show)
		}
	}
	if prefs := r.ok("members", "set", "users@lists.example.org", "dee@example.com", "language=en"); !strings.Contains(prefs, "delivery_mode: mime_digests") {
		t.Errorf("dee's preferences:\n%s", prefs)
	}
	out = r.ok("--json", "import", "mailman2", dir+"config.py", "--members", dir+"members.txt")
	var rep importReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v: %s", err, out)
	}
	if rep.Created || rep.Banned != 0 || rep.Existing["member"] != 3 || rep.Existing["owner"] != 2 {
		t.Errorf("second import: %+v", rep)
	}
	if _, errs, code := r.run("import", "mailman2", dir+"config.py", "--members", dir+"missing.txt"); code == 0 || !strings.Contains(errs, "members: open") {
		t.Errorf("missing members file: exit %d, %q", code, errs)
	}
}
