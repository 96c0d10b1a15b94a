// Package storetest is the conformance suite every store.Store
// implementation must pass. An implementation's test calls Run with a
// function that opens a fresh, empty, migrated store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { … })
//	}
//
// Each subtest opens its own store and closes it at the end, so the
// suite makes no assumption about ids, ordering of creation or leftovers.
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"herald/internal/store"
)

// Opener returns a fresh, empty store; it is called once per subtest.
type Opener func(t *testing.T) store.Store

// Run runs the whole suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	groups := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"Domains", testDomains},
		{"Lists", testLists},
		{"Settings", testSettings},
		{"Members", testMembers},
		{"EachMember", testEachMember},
		{"Held", testHeld},
		{"Bounces", testBounces},
		{"DKIM", testDKIM},
		{"Bans", testBans},
		{"Posting", testPosting},
		{"Cascade", testCascade},
		{"Concurrency", testConcurrency},
		{"Requests", testRequests}, {"MemberLookup", testMemberLookup}, {"Quotas", testQuotas},
		{"BounceScores", testBounceScores},     // bounce processing (bouncescores.go)
		{"Recipients", testRecipients},         // delivery (recipients.go)
		{"MemberVersions", testMemberVersions}, // delivery (memberversions.go)
		{"MemberBatches", testMemberBatches},   // bulk adds (memberbatch.go)
		{"Digests", testDigests},               // digests (digests.go)
		{"Archive", testArchive},               // the archive (archive.go)
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.fn(t, open) })
	}
}

// fresh opens a store that is closed when t ends.
func fresh(t *testing.T, open Opener) store.Store {
	t.Helper()
	s := open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// ctx returns a context that ends with the test.
func ctx(t *testing.T) context.Context { return t.Context() }

// must fails the test on err.
func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr checks that err is (wraps) want; want nil means success.
func wantErr(t *testing.T, err, want error, what string) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

// recent checks that a store-set timestamp is close to now and in UTC.
func recent(t *testing.T, got time.Time, what string) {
	t.Helper()
	if d := time.Since(got); d < -time.Minute || d > time.Minute {
		t.Errorf("%s = %v, want about now", what, got)
	}
}

// sameTime compares at the microsecond precision every store keeps.
func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

// setup creates domain example.org and list dev@example.org.
func setup(t *testing.T, s store.Store) *store.List {
	t.Helper()
	must(t, s.CreateDomain(ctx(t), store.Domain{Name: "example.org", Description: "Example"}), "create domain")
	l := &store.List{Name: "dev", Domain: "example.org", Settings: store.DefaultSettings("dev")}
	must(t, s.CreateList(ctx(t), l), "create list")
	return l
}
