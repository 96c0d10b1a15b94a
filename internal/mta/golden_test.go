package mta_test

import (
	"herald/internal/testutil/golden"

	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"herald/internal/mta"
	"herald/internal/mta/model"
)

// goldenSnapshot has two domains with a list of the same name each.
func goldenSnapshot() *model.Snapshot {
	s := &model.Snapshot{
		Domains: []string{"lists.example.org", "lists.example.net"},
		Lists:   []model.List{{Name: "dev", Domain: "lists.example.org"}, {Name: "dev", Domain: "lists.example.net"}, {Name: "announce.all", Domain: "lists.example.org"}},
	}
	s.Sort()
	return s
}

func goldenTarget(name, transport string) *model.Target {
	return &model.Target{
		Transport: transport, LMTPAddr: "127.0.0.1:8024", LMTPSocket: "/srv/herald/data/lmtp.sock",
		MaildirRoot: "/srv/herald/maildir", MaildirUID: 998, MaildirGID: 997,
		HeraldPath: "/usr/bin/herald", ConfigFile: "/etc/herald/herald.toml",
		Dir:     "/srv/herald/data/mta/" + name,
		Postfix: model.PostfixOptions{MapType: "hash"},
	}
}

// render writes everything a generator produces into one text.
func render(g model.Generator, s *model.Snapshot, t *model.Target) []byte {
	var b bytes.Buffer
	for _, f := range g.Files(s, t) {
		fmt.Fprintf(&b, "==> file %s\n%s", f.Name, f.Data)
	}
	sn := g.Snippet(s, t)
	b.WriteString("==> settings\n")
	for _, kv := range sn.Settings {
		fmt.Fprintf(&b, "%s = %s\n", kv.Key, kv.Value)
	}
	fmt.Fprintf(&b, "==> text\n%s==> notes\n", sn.Text)
	for _, n := range sn.Notes {
		fmt.Fprintf(&b, "# %s\n", n)
	}
	return b.Bytes()
}

// TestGoldenSocketmap: Postfix with herald's live socketmap tables.
func TestGoldenSocketmap(t *testing.T) {
	g, _ := mta.Lookup("postfix")
	tg := goldenTarget("postfix", "tcp")
	tg.Socketmap = "127.0.0.1:8025"
	golden.Check(t, filepath.Join("testdata", "postfix-socketmap.golden"), render(g, goldenSnapshot(), tg))
}

func TestGolden(t *testing.T) {
	for _, g := range mta.Generators() {
		for _, tr := range []string{"tcp", "socket", "pipe", "maildir"} {
			t.Run(g.Name()+"-"+tr, func(t *testing.T) {
				got := render(g, goldenSnapshot(), goldenTarget(g.Name(), tr))
				golden.Check(t, filepath.Join("testdata", g.Name()+"-"+tr+".golden"), got)
			})
		}
	}
}
