package ingress

import (
	"context"
	"testing"
	"time"

	"herald/internal/address"
	"herald/internal/status"
	"herald/internal/store"
	"herald/internal/testutil/fixture"

	_ "herald/internal/store/sqlite" // registers sqlite:
)

// TestResolveRemembersLists: a found list is trusted for ListCacheTTL (a
// changed size limit or a deleted list shows after it), a list created
// after a miss is found at once.
func TestResolveRemembersLists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := fixture.Store(t, dir)
	set := store.DefaultSettings("dev")
	set.HardMaxMessageSize = 10 // KiB
	l := fixture.List(t, st, "dev", "lists.example.org", &set)
	in := New(st, fixture.Spool(t, dir), 1<<20, nil)
	now := time.Unix(1_000_000, 0)
	in.now = func() time.Time { return now }

	const found = status.Kind(-1)
	resolve := func(rcpt string) (address.Recipient, int64, status.Kind) {
		t.Helper()
		r, lim, err := in.Resolve(ctx, rcpt)
		if err == nil {
			return r, lim, found
		}
		return r, lim, status.KindOf(err)
	}
	if r, lim, k := resolve("dev-request@lists.example.org"); k != found || r.List != "dev" || r.Alias != address.Request || lim != 10<<10 {
		t.Fatalf("dev-request: %+v limit %d kind %v", r, lim, k)
	}
	if _, _, k := resolve("new@lists.example.org"); k != status.KindUnknownRecipient {
		t.Fatalf("new before it exists: kind %v", k)
	}
	fixture.List(t, st, "new", "lists.example.org", nil)
	if _, _, k := resolve("new@lists.example.org"); k != found {
		t.Fatalf("new right after it was created: kind %v, want found", k)
	}

	set.HardMaxMessageSize = 20
	if err := st.UpdateSettings(ctx, l.ID, set); err != nil {
		t.Fatal(err)
	}
	nl, err := st.GetList(ctx, "new", "lists.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteList(ctx, nl.ID); err != nil {
		t.Fatal(err)
	}
	now = now.Add(ListCacheTTL / 2)
	if _, lim, k := resolve("dev@lists.example.org"); k != found || lim != 10<<10 {
		t.Errorf("dev within the TTL: limit %d kind %v, want the remembered 10 KiB", lim, k)
	}
	if _, _, k := resolve("new@lists.example.org"); k != found {
		t.Errorf("deleted list within the TTL: kind %v, want still accepted", k)
	}
	now = now.Add(ListCacheTTL)
	if _, lim, k := resolve("dev@lists.example.org"); k != found || lim != 20<<10 {
		t.Errorf("dev after the TTL: limit %d kind %v, want 20 KiB", lim, k)
	}
	if _, _, k := resolve("new@lists.example.org"); k != status.KindUnknownRecipient {
		t.Errorf("deleted list after the TTL: kind %v, want unknown", k)
	}
}
