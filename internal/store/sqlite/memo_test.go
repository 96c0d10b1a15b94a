package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"herald/internal/store"
)

// openMemo opens path with the read memo on for ttl (0: off).
func openMemo(t *testing.T, path string, ttl time.Duration) *DB {
	t.Helper()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Memoize(ttl)
	return db
}

// memoPair seeds a database and opens it twice: db with the read memo on
// for ttl, and other, a handle of another process for the memo. A silent
// other announces none of its writes (as a writer other than herald).
func memoPair(t *testing.T, ttl time.Duration, silent bool) (db, other *DB, listID int64) {
	t.Helper()
	path, listID := seed(t)
	db, other = openMemo(t, path, ttl), openMemo(t, path, 0)
	if silent {
		other.SetChangeSignal(nil)
	}
	return db, other, listID
}

// memoView is what the memo answers about dev@example.org and its poster.
type memoView struct {
	prefix string
	roles  []store.Role
	banned bool
	found  bool
	// recipients are the list's recipients, from the plain and the
	// personal walk.
	recipients, personal []string
}

const poster = "poster@example.net"

func viewOf(t *testing.T, s store.Store, listID int64) memoView {
	t.Helper()
	c := t.Context()
	l, err := s.GetList(c, "dev", "example.org")
	if errors.Is(err, store.ErrNotFound) {
		return memoView{}
	}
	if err != nil {
		t.Fatal(err)
	}
	byID, err := s.GetListByID(c, listID)
	if err != nil {
		t.Fatal(err)
	}
	if byID.Settings.SubjectPrefix != l.Settings.SubjectPrefix {
		t.Fatalf("GetList says prefix %q, GetListByID %q", l.Settings.SubjectPrefix, byID.Settings.SubjectPrefix)
	}
	ms, err := s.MemberRoles(c, listID, poster)
	if err != nil {
		t.Fatal(err)
	}
	v := memoView{prefix: l.Settings.SubjectPrefix, found: true}
	for _, m := range ms {
		v.roles = append(v.roles, m.Role)
	}
	if v.banned, err = s.IsBanned(c, listID, poster); err != nil {
		t.Fatal(err)
	}
	v.recipients, v.personal = recipientsOf(t, s, listID, false), recipientsOf(t, s, listID, true)
	return v
}

func recipientsOf(t *testing.T, s store.Store, listID int64, personal bool) []string {
	t.Helper()
	var out []string
	err := s.EachRecipient(t.Context(), listID, personal, func(r *store.Recipient) error {
		out = append(out, r.Email)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// memoWrites are the writes a memoized answer must not outlive, each with
// what the view looks like after it.
func memoWrites(listID int64) []struct {
	name  string
	write func(c context.Context, s store.Store) error
	want  func(v *memoView)
} {
	return []struct {
		name  string
		write func(c context.Context, s store.Store) error
		want  func(v *memoView)
	}{
		{"settings", func(c context.Context, s store.Store) error {
			l, err := s.GetListByID(c, listID)
			if err != nil {
				return err
			}
			l.Settings.SubjectPrefix = "[changed] "
			return s.UpdateSettings(c, listID, l.Settings)
		}, func(v *memoView) { v.prefix = "[changed] " }},
		{"add member", func(c context.Context, s store.Store) error {
			m := store.DefaultMember(listID, poster, store.RoleMember)
			return s.AddMember(c, &m)
		}, func(v *memoView) {
			v.roles = []store.Role{store.RoleMember}
			v.recipients, v.personal = []string{poster}, []string{poster}
		}},
		{"disable delivery", func(c context.Context, s store.Store) error {
			m := store.DefaultMember(listID, poster, store.RoleMember)
			m.DeliveryStatus = store.DeliveryByUser
			return s.UpdateMember(c, &m)
		}, func(v *memoView) { v.recipients, v.personal = nil, nil }},
		{"add moderator in a batch", func(c context.Context, s store.Store) error {
			m := store.DefaultMember(listID, poster, store.RoleModerator)
			_, err := s.AddMembers(c, []*store.Member{&m})
			return err
		}, func(v *memoView) { v.roles = []store.Role{store.RoleMember, store.RoleModerator} }},
		{"remove member", func(c context.Context, s store.Store) error {
			return s.RemoveMember(c, listID, poster, store.RoleMember)
		}, func(v *memoView) { v.roles = []store.Role{store.RoleModerator} }},
		{"ban", func(c context.Context, s store.Store) error {
			return s.AddBan(c, &store.Ban{ListID: listID, Pattern: poster})
		}, func(v *memoView) { v.banned = true }},
		{"unban", func(c context.Context, s store.Store) error {
			return s.RemoveBan(c, listID, poster)
		}, func(v *memoView) { v.banned = false }},
		{"delete list", func(c context.Context, s store.Store) error {
			return s.DeleteList(c, listID)
		}, func(v *memoView) { *v = memoView{} }},
	}
}

// TestMemoSeesAnnouncedWrites: a write through the memoizing DB, or one
// another herald process announces (the CLI), applies to the very next
// read, however long the memo would keep the answer.
func TestMemoSeesAnnouncedWrites(t *testing.T) {
	for _, by := range []string{"the memoizing handle", "another process"} {
		t.Run(by, func(t *testing.T) {
			db, writer, listID := memoPair(t, time.Hour, false)
			if by == "the memoizing handle" {
				writer = db
			}
			want := viewOf(t, db, listID)
			for _, w := range memoWrites(listID) {
				viewOf(t, db, listID) // memoized
				if err := w.write(t.Context(), writer); err != nil {
					t.Fatalf("%s: %v", w.name, err)
				}
				w.want(&want)
				if got := viewOf(t, db, listID); !viewEqual(got, want) {
					t.Fatalf("after %s: read %+v, want %+v", w.name, got, want)
				}
			}
		})
	}
}

// TestMemoSilentWriter: a write by a writer that does not announce it is
// seen once the memo's lifetime has passed, not before.
func TestMemoSilentWriter(t *testing.T) {
	db, other, listID := memoPair(t, time.Hour, true)
	for _, w := range memoWrites(listID) {
		before := viewOf(t, db, listID)
		if err := w.write(t.Context(), other); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if got := viewOf(t, db, listID); !viewEqual(got, before) {
			t.Fatalf("after %s by a silent writer: read %+v at once, want the memoized %+v", w.name, got, before)
		}
		db.Memoize(time.Millisecond) // forgets, and memoizes briefly
		after := viewOf(t, db, listID)
		w.want(&before)
		if !viewEqual(after, before) {
			t.Fatalf("after %s by a silent writer: read %+v, want %+v", w.name, after, before)
		}
		db.Memoize(time.Hour)
	}
}

// TestMemoExpires: an answer is read again once its lifetime is over.
func TestMemoExpires(t *testing.T) {
	const ttl = 20 * time.Millisecond
	db, other, _ := memoPair(t, ttl, true)
	l, err := db.GetList(t.Context(), "dev", "example.org")
	if err != nil {
		t.Fatal(err)
	}
	l.Settings.SubjectPrefix = "[later] "
	if err := other.UpdateSettings(t.Context(), l.ID, l.Settings); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * ttl)
	got, err := db.GetList(t.Context(), "dev", "example.org")
	if err != nil {
		t.Fatal(err)
	}
	if got.Settings.SubjectPrefix != "[later] " {
		t.Fatalf("prefix %q %v after the other handle's change, want the change", got.Settings.SubjectPrefix, 2*ttl)
	}
}

// TestMemoKeepsCountersAndErrors: numbering posts leaves the memo (the
// post number it holds lags), a not-found is never memoized, and a
// caller changing what it got changes nothing for the next.
func TestMemoKeepsCountersAndErrors(t *testing.T) {
	db, other, listID := memoPair(t, time.Hour, true)
	c := t.Context()
	l, err := db.GetList(c, "dev", "example.org")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.NumberPost(c, listID, poster, time.Now()); err != nil {
		t.Fatal(err)
	}
	if again, err := db.GetList(c, "dev", "example.org"); err != nil || again.PostID != l.PostID {
		t.Fatalf("after NumberPost: post id %d (%v), want the memoized %d", again.PostID, err, l.PostID)
	}

	l.Settings.SenderHeaders[0] = "changed by the caller"
	l.Settings.SenderHeaders = append(l.Settings.SenderHeaders, "more")
	again, err := db.GetList(c, "dev", "example.org")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(again.Settings.SenderHeaders, "changed by the caller") || slices.Contains(again.Settings.SenderHeaders, "more") {
		t.Fatalf("a caller's change reached the memo: %q", again.Settings.SenderHeaders)
	}

	if _, err := db.GetList(c, "new", "example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetList of a missing list: %v, want ErrNotFound", err)
	}
	if err := other.CreateList(c, &store.List{Name: "new", Domain: "example.org"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetList(c, "new", "example.org"); err != nil {
		t.Fatalf("GetList of a list another handle just created: %v", err)
	}
}

func viewEqual(a, b memoView) bool {
	return a.prefix == b.prefix && slices.Equal(a.roles, b.roles) && a.banned == b.banned && a.found == b.found &&
		slices.Equal(a.recipients, b.recipients) && slices.Equal(a.personal, b.personal)
}

// TestMemoBigWalkNotKept: a walk that finds more than memoRecipientsMax
// recipients is not memoized (delivery keeps big lists' walks itself).
func TestMemoBigWalkNotKept(t *testing.T) {
	db, other, listID := memoPair(t, time.Hour, true)
	for _, n := range []int{1000, 1001} {
		var ms []*store.Member
		for i := range n {
			m := store.DefaultMember(listID, fmt.Sprintf("m%04d@example.net", i), store.RoleMember)
			ms = append(ms, &m)
		}
		if _, err := db.AddMembers(t.Context(), ms); err != nil {
			t.Fatal(err)
		}
		if got := len(recipientsOf(t, db, listID, false)); got != n {
			t.Fatalf("walked %d recipients, want %d", got, n)
		}
		if err := other.RemoveMember(t.Context(), listID, "m0000@example.net", store.RoleMember); err != nil {
			t.Fatal(err)
		}
		got := len(recipientsOf(t, db, listID, false))
		if n <= 1000 && got != n || n > 1000 && got != n-1 {
			t.Fatalf("%d members, one removed by another handle: walked %d", n, got)
		}
	}
}
