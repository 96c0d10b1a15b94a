package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliRig runs commands against a config in a temp dir.
type cliRig struct {
	t   *testing.T
	cfg string
}

func newCLIRig(t *testing.T) *cliRig {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "herald.toml")
	toml := "data_dir = \"data\"\n[lmtp]\nsocket = \"\"\n[http]\nbase_url = \"https://lists.example.org\"\n[spool]\nmin_free_mb = 0\n"
	if err := os.WriteFile(cfg, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &cliRig{t: t, cfg: cfg}
	r.ok("domains", "add", "example.org")
	r.ok("lists", "create", "dev@example.org")
	return r
}

func (r *cliRig) run(args ...string) (string, string, int) {
	r.t.Helper()
	var out, errb bytes.Buffer
	code := run(r.t.Context(), append([]string{"--config", r.cfg}, args...), strings.NewReader(""), &out, &errb, nil)
	return out.String(), errb.String(), code
}

func (r *cliRig) ok(args ...string) string {
	r.t.Helper()
	out, errs, code := r.run(args...)
	if code != 0 {
		r.t.Fatalf("herald %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func TestMembersSetAndInvite(t *testing.T) {
	r := newCLIRig(t)
	if out := r.ok("members", "add", "dev@example.org", "alice@example.com", "alice@example.com"); !strings.Contains(out, "already member (skipped)") ||
		!strings.Contains(out, "added 1 member(s)") {
		t.Errorf("members add: %q", out)
	}
	out := r.ok("members", "set", "dev@example.org", "alice@example.com", "delivery_mode=mime_digests", "hide_address=yes")
	if !strings.Contains(out, "delivery_mode: mime_digests") || !strings.Contains(out, "hide_address: true") {
		t.Errorf("members set: %q", out)
	}
	for _, bad := range [][]string{
		{"members", "set", "dev@example.org", "alice@example.com", "delivery_mode=weekly"},
		{"members", "set", "dev@example.org", "alice@example.com", "colour"},
	} {
		if _, _, code := r.run(bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
	if _, errs, code := r.run("members", "set", "dev@example.org", "nobody@example.com", "hide_address=no"); code != exitFail || !strings.Contains(errs, "not a member") {
		t.Errorf("set for a non-member: exit %d %q", code, errs)
	}

	out = r.ok("members", "invite", "dev@example.org", "bob@example.net", "alice@example.com")
	if !strings.Contains(out, "bob@example.net: invited") || !strings.Contains(out, "alice@example.com: already member") {
		t.Errorf("invite: %q", out)
	}
	out = r.ok("--json", "spool", "ls")
	var counts struct{ Counts map[string]int }
	if err := json.Unmarshal([]byte(out), &counts); err != nil || counts.Counts["out"] != 1 {
		t.Errorf("spool after invite: %s (%v), want one invitation in out", out, err)
	}
}

func TestMembersAddThroughWorkflowAndRequests(t *testing.T) {
	r := newCLIRig(t)
	r.ok("lists", "set", "dev@example.org", "subscription_policy=moderate")
	out := r.ok("members", "add", "--pre-approved=false", "dev@example.org", "carol@example.org")
	if !strings.Contains(out, "carol@example.org: waits for a moderator") || !strings.Contains(out, "added 0 member(s)") {
		t.Fatalf("members add --pre-approved=false: %q", out)
	}
	out = r.ok("--json", "requests", "ls", "dev@example.org")
	var rs []struct {
		ID      int64  `json:"id"`
		Kind    string `json:"kind"`
		State   string `json:"state"`
		Address string `json:"address"`
	}
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 1 || rs[0].State != "moderate" || rs[0].Address != "carol@example.org" {
		t.Fatalf("requests ls: %s %v", out, err)
	}
	if _, _, code := r.run("requests", "approve", "dev@example.org", "x"); code != exitUsage {
		t.Errorf("bad id: exit %d", code)
	}
	out = r.ok("requests", "reject", "--reason", "not now", "dev@example.org", "1")
	if !strings.Contains(out, "rejected") {
		t.Errorf("reject: %q", out)
	}
	if out := r.ok("requests", "ls", "dev@example.org"); out != "" {
		t.Errorf("requests after reject: %q", out)
	}
	if _, _, code := r.run("requests", "approve", "dev@example.org", "1"); code != exitFail {
		t.Errorf("approve a decided request: exit %d", code)
	}
	out = r.ok("members", "add", "--pre-verified=false", "dev@example.org", "dan@example.org")
	if !strings.Contains(out, "dan@example.org: confirmation sent") {
		t.Errorf("members add --pre-verified=false: %q", out)
	}
}
