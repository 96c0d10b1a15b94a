package mta_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/internal/config"
	"herald/internal/mta"
	"herald/internal/mta/postfix"
	"herald/internal/store"

	_ "herald/internal/store/sqlite"
)

func newStore(t *testing.T) (*config.Config, store.Store) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load("", []string{"HERALD_DATA_DIR=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return cfg, st
}

func addList(t *testing.T, st store.Store, name, domain string) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.GetDomain(ctx, domain); err != nil {
		if err := st.CreateDomain(ctx, store.Domain{Name: domain}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateList(ctx, &store.List{Name: name, Domain: domain, Settings: store.DefaultSettings(name)}); err != nil {
		t.Fatal(err)
	}
}

func mtime(t *testing.T, path string) time.Time {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

// Adding a list rewrites the recipient map but never the transport map:
// routing stays domain-wide (the tools README's 31-second misrouting).
func TestRegenerateAddListKeepsTransport(t *testing.T) {
	ctx := context.Background()
	cfg, st := newStore(t)
	addList(t, st, "dev", "lists.example.org")
	if err := mta.Regenerate(ctx, cfg, st); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cfg.DataDir, "mta", "postfix")
	tr, rc := filepath.Join(dir, postfix.Transport), filepath.Join(dir, postfix.Recipients)
	trTime, rcTime := mtime(t, tr), mtime(t, rc)
	time.Sleep(20 * time.Millisecond)
	addList(t, st, "ops", "lists.example.org")
	if err := mta.Regenerate(ctx, cfg, st); err != nil {
		t.Fatal(err)
	}
	if !mtime(t, tr).Equal(trTime) {
		t.Error("transport map rewritten although only a list was added")
	}
	if mtime(t, rc).Equal(rcTime) {
		t.Error("recipient map not rewritten after a list was added")
	}
	b, err := os.ReadFile(rc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ops@lists.example.org\t", "ops-bounces@lists.example.org\t", "dev-request@lists.example.org\t"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("recipients lacks %q", want)
		}
	}
	for _, g := range mta.Generators() {
		snap, err := mta.Load(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		if stale := mta.Stale(g, snap, mta.TargetFor(cfg, g.Name())); len(stale) > 0 {
			t.Errorf("%s: stale after Regenerate: %v", g.Name(), stale)
		}
	}
}

// Concurrent regenerations (two CLI commands at once) serialize on the
// lock and leave the newest state.
func TestRegenerateConcurrent(t *testing.T) {
	ctx := context.Background()
	cfg, st := newStore(t)
	if err := st.CreateDomain(ctx, store.Domain{Name: "lists.example.org"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "l" + string(rune('a'+i))
			if err := st.CreateList(ctx, &store.List{Name: name, Domain: "lists.example.org", Settings: store.DefaultSettings(name)}); err != nil {
				t.Error(err)
				return
			}
			if err := mta.Regenerate(ctx, cfg, st); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	b, err := os.ReadFile(filepath.Join(cfg.DataDir, "mta", "exim", "recipients"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if !strings.Contains(string(b), "l"+string(rune('a'+i))+"@lists.example.org\n") {
			t.Errorf("list l%c missing from the final map", 'a'+i)
		}
	}
}

// With postfix_postmap, the databases are built (with the real postmap) and
// answer lookups.
func TestRegeneratePostmap(t *testing.T) {
	pm, err := postfix.Binary("postmap")
	if err != nil {
		t.Skip("SKIP: postfix is not installed (apt-get install postfix): ", err)
	}
	ctx := context.Background()
	cfg, st := newStore(t)
	etc := t.TempDir()
	if err := os.WriteFile(filepath.Join(etc, "main.cf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.MTA.PostfixPostmap, cfg.MTA.PostfixConfigDir = true, etc
	addList(t, st, "dev", "lists.example.org")
	addList(t, st, "dev", "lists.example.net")
	if err := mta.Regenerate(ctx, cfg, st); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cfg.DataDir, "mta", "postfix")
	for _, q := range []struct{ key, m, want string }{
		{"dev-bounces@lists.example.net", postfix.Recipients, "herald"},
		{"lists.example.org", postfix.Transport, "lmtp:[127.0.0.1]:8024"},
		{"dev@lists.example.org", postfix.VMailbox, "lists.example.org/dev/post/"},
	} {
		out, err := exec.Command(pm, "-c", etc, "-q", q.key, "hash:"+filepath.Join(dir, q.m)).Output()
		if err != nil || strings.TrimSpace(string(out)) != q.want {
			t.Errorf("postmap -q %s %s = %q %v, want %q", q.key, q.m, out, err, q.want)
		}
	}
	if stale := postfix.StaleDatabases(mta.TargetFor(cfg, "postfix")); len(stale) > 0 {
		t.Errorf("stale databases: %v", stale)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*postmap*"))
	if len(leftovers) > 0 {
		t.Errorf("scratch files left: %v", leftovers)
	}
}
