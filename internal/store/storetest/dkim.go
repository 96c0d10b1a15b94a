package storetest

import (
	"testing"
	"time"

	"herald/internal/store"
)

func testDKIM(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	must(t, s.CreateDomain(c, store.Domain{Name: "example.org"}), "create domain")

	_, err := s.GetDKIMKey(c, "example.org")
	wantErr(t, err, store.ErrNotFound, "GetDKIMKey before any key")
	wantErr(t, s.PutDKIMKey(c, &store.DKIMKey{Domain: "nowhere.example", Selector: "s", Algorithm: "rsa",
		PrivateKey: "k"}), store.ErrNotFound, "PutDKIMKey unknown domain")
	if err := s.PutDKIMKey(c, &store.DKIMKey{Domain: "example.org", Algorithm: "rsa", PrivateKey: "k"}); err == nil {
		t.Error("PutDKIMKey without selector succeeded")
	}

	k1 := &store.DKIMKey{Domain: "Example.ORG", Selector: "herald1", Algorithm: "rsa", PrivateKey: "-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----\n"}
	must(t, s.PutDKIMKey(c, k1), "PutDKIMKey")
	recent(t, k1.Created, "Created")
	got, err := s.GetDKIMKey(c, "EXAMPLE.org")
	must(t, err, "GetDKIMKey")
	if got.Domain != "example.org" || got.Selector != k1.Selector || got.Algorithm != "rsa" ||
		got.PrivateKey != k1.PrivateKey || !sameTime(got.Created, k1.Created) {
		t.Errorf("GetDKIMKey = %+v, want %+v", got, k1)
	}

	// Rotation replaces the key.
	k2 := &store.DKIMKey{Domain: "example.org", Selector: "herald2", Algorithm: "ed25519", PrivateKey: "other",
		Created: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	must(t, s.PutDKIMKey(c, k2), "PutDKIMKey again")
	got, err = s.GetDKIMKey(c, "example.org")
	must(t, err, "GetDKIMKey after rotation")
	if got.Selector != "herald2" || got.Algorithm != "ed25519" || got.PrivateKey != "other" || !sameTime(got.Created, k2.Created) {
		t.Errorf("after rotation GetDKIMKey = %+v", got)
	}

	must(t, s.DeleteDKIMKey(c, "example.org"), "DeleteDKIMKey")
	wantErr(t, s.DeleteDKIMKey(c, "example.org"), store.ErrNotFound, "DeleteDKIMKey twice")
	_, err = s.GetDKIMKey(c, "example.org")
	wantErr(t, err, store.ErrNotFound, "GetDKIMKey after delete")
}
