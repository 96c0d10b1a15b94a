package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"herald/internal/store"
)

func testDigests(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)
	other := &store.List{Name: "users", Domain: "example.org", Settings: store.DefaultSettings("users")}
	must(t, s.CreateList(c, other), "create users")

	pending, err := s.PendingDigests(c)
	must(t, err, "PendingDigests")
	if len(pending) != 0 {
		t.Errorf("PendingDigests on an empty store = %+v", pending)
	}
	st, err := s.DigestState(c, l.ID)
	must(t, err, "DigestState")
	if st != (store.DigestState{}) {
		t.Errorf("DigestState before any digest = %+v", st)
	}
	msgs := []*store.DigestMessage{
		{ListID: l.ID, PostID: 7, Message: []byte("Subject: one\r\n\r\nbinary \x00\xff\r\n")},
		{ListID: other.ID, PostID: 1, Message: []byte("Subject: elsewhere\r\n\r\nx\r\n")},
		{ListID: l.ID, PostID: 8, Message: []byte("Subject: two\r\n\r\ny\r\n")},
	}
	for _, m := range msgs {
		must(t, s.AddDigestMessage(c, m), "AddDigestMessage")
		if m.ID == 0 {
			t.Error("AddDigestMessage left ID 0")
		}
		recent(t, m.Created, "AddDigestMessage Created")
	}
	wantErr(t, s.AddDigestMessage(c, &store.DigestMessage{ListID: l.ID + 1000, Message: []byte("x")}), store.ErrNotFound,
		"AddDigestMessage unknown list")

	pending, err = s.PendingDigests(c)
	must(t, err, "PendingDigests")
	if len(pending) != 2 || pending[0].ListID != l.ID || pending[0].Count != 2 ||
		pending[0].Bytes != int64(len(msgs[0].Message)+len(msgs[2].Message)) || !sameTime(pending[0].Oldest, msgs[0].Created) ||
		pending[1].ListID != other.ID || pending[1].Count != 1 {
		t.Fatalf("PendingDigests = %+v", pending)
	}
	got, err := s.DigestMessages(c, l.ID)
	must(t, err, "DigestMessages")
	if len(got) != 2 || got[0].ID != msgs[0].ID || got[1].PostID != 8 || !bytes.Equal(got[0].Message, msgs[0].Message) ||
		!sameTime(got[0].Created, msgs[0].Created) {
		t.Fatalf("DigestMessages = %+v", got)
	}

	// A post kept after the digest was read stays for the next one.
	late := &store.DigestMessage{ListID: l.ID, PostID: 9, Message: []byte("Subject: late\r\n\r\nz\r\n")}
	must(t, s.AddDigestMessage(c, late), "AddDigestMessage late")
	sent := store.DigestState{Volume: 1, Issue: 1, LastSent: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	must(t, s.DigestSent(c, l.ID, got[1].ID, sent), "DigestSent")
	st, err = s.DigestState(c, l.ID)
	must(t, err, "DigestState")
	if st.Volume != 1 || st.Issue != 1 || !sameTime(st.LastSent, sent.LastSent) {
		t.Errorf("DigestState = %+v, want %+v", st, sent)
	}
	got, err = s.DigestMessages(c, l.ID)
	must(t, err, "DigestMessages after DigestSent")
	if len(got) != 1 || got[0].ID != late.ID {
		t.Errorf("left after DigestSent: %+v", got)
	}
	pending, err = s.PendingDigests(c)
	must(t, err, "PendingDigests")
	if len(pending) != 2 || pending[0].State.Issue != 1 || !sameTime(pending[0].State.LastSent, sent.LastSent) || pending[0].Count != 1 {
		t.Errorf("PendingDigests after a digest = %+v", pending)
	}
	sent.Issue = 2
	must(t, s.DigestSent(c, l.ID, late.ID, sent), "DigestSent again (an update)")
	if st, _ = s.DigestState(c, l.ID); st.Issue != 2 {
		t.Errorf("DigestState after the second = %+v", st)
	}
	wantErr(t, s.DigestSent(c, l.ID+1000, 0, sent), store.ErrNotFound, "DigestSent unknown list")

	t.Run("lease", func(t *testing.T) {
		at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
		claim := func(at time.Time) bool {
			t.Helper()
			ok, err := s.ClaimDigest(c, other.ID, at, 10*time.Minute)
			must(t, err, "ClaimDigest")
			return ok
		}
		if !claim(at) {
			t.Fatal("first ClaimDigest refused")
		}
		if claim(at.Add(5 * time.Minute)) {
			t.Error("ClaimDigest granted while another lease is young")
		}
		if !claim(at.Add(11 * time.Minute)) {
			t.Error("a stale lease was not taken over")
		}
		must(t, s.ReleaseDigest(c, other.ID), "ReleaseDigest")
		if !claim(at.Add(12 * time.Minute)) {
			t.Error("ClaimDigest refused after ReleaseDigest")
		}
		must(t, s.DigestSent(c, other.ID, 0, store.DigestState{Volume: 1, Issue: 1, LastSent: at}), "DigestSent")
		if !claim(at.Add(13 * time.Minute)) {
			t.Error("ClaimDigest refused after DigestSent")
		}
		if st, _ := s.DigestState(c, other.ID); st.Issue != 1 || !sameTime(st.LastSent, at) {
			t.Errorf("a claim changed the state: %+v", st)
		}
		_, err := s.ClaimDigest(c, l.ID+1000, at, time.Minute)
		wantErr(t, err, store.ErrNotFound, "ClaimDigest unknown list")
		// A list's first claim makes a state that still reads as none.
		third := &store.List{Name: "third", Domain: "example.org", Settings: store.DefaultSettings("third")}
		must(t, s.CreateList(c, third), "create third")
		if ok, err := s.ClaimDigest(c, third.ID, at, time.Minute); err != nil || !ok {
			t.Fatalf("ClaimDigest third: %v %v", ok, err)
		}
		if st, err := s.DigestState(c, third.ID); err != nil || st != (store.DigestState{}) {
			t.Errorf("DigestState after a first claim = %+v, %v", st, err)
		}
	})

	t.Run("recipients", func(t *testing.T) {
		has, err := s.HasDigestMembers(c, l.ID)
		must(t, err, "HasDigestMembers")
		if has {
			t.Error("HasDigestMembers with no members")
		}
		add := func(email, mode, status string) {
			m := store.DefaultMember(l.ID, email, store.RoleMember)
			m.DeliveryMode, m.DeliveryStatus = mode, status
			must(t, s.AddMember(c, &m), "AddMember "+email)
		}
		add("regular@example.net", store.ModeRegular, store.DeliveryEnabled)
		add("off@example.net", store.ModeMIMEDigest, store.DeliveryByUser)
		if has, _ = s.HasDigestMembers(c, l.ID); has {
			t.Error("HasDigestMembers counts regular and disabled members")
		}
		add("b@example.net", store.ModeMIMEDigest, store.DeliveryEnabled)
		add("a@example.net", store.ModeMIMEDigest, store.DeliveryEnabled)
		add("p@example.net", store.ModePlaintextDigest, store.DeliveryEnabled)
		owner := store.DefaultMember(l.ID, "owner@example.net", store.RoleOwner)
		owner.DeliveryMode = store.ModeMIMEDigest
		must(t, s.AddMember(c, &owner), "AddMember owner")
		if has, _ = s.HasDigestMembers(c, l.ID); !has {
			t.Error("HasDigestMembers misses digest members")
		}
		mime, err := s.DigestRecipients(c, l.ID, store.ModeMIMEDigest)
		must(t, err, "DigestRecipients")
		plain, err := s.DigestRecipients(c, l.ID, store.ModePlaintextDigest)
		must(t, err, "DigestRecipients")
		if !slices.Equal(mime, []string{"a@example.net", "b@example.net"}) || !slices.Equal(plain, []string{"p@example.net"}) {
			t.Errorf("DigestRecipients: mime %q, plain %q", mime, plain)
		}
	})

	t.Run("cascade", func(t *testing.T) {
		must(t, s.DeleteList(c, other.ID), "DeleteList")
		pending, err := s.PendingDigests(c)
		must(t, err, "PendingDigests")
		for _, p := range pending {
			if p.ListID == other.ID {
				t.Errorf("a deleted list's digest posts remain: %+v", p)
			}
		}
	})
}
