package delivery

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"herald/internal/spool"
	"herald/internal/store"
)

// countedWalks is the real store, counting its walks and version reads.
type countedWalks struct {
	Store
	rosterStore
	walks, versions atomic.Int32
}

// countedEnv is newEnv with rosters of lists of rosterMin recipients or more,
// over a countedWalks store.
func countedEnv(t *testing.T, rosterMin int) (*env, *countedWalks) {
	t.Helper()
	var cw *countedWalks
	e := newEnv(t, func(o *Options) {
		o.RosterBytes, o.RosterMin = 1<<20, rosterMin
		cw = &countedWalks{Store: o.Store, rosterStore: o.Store.(rosterStore)}
		o.Store = cw
	})
	return e, cw
}

func (c *countedWalks) MembersVersion(ctx context.Context, listID int64) (int64, bool, error) {
	c.versions.Add(1)
	return c.rosterStore.MembersVersion(ctx, listID)
}

func (c *countedWalks) EachRecipient(ctx context.Context, listID int64, personal bool, fn func(*store.Recipient) error) error {
	c.walks.Add(1)
	return c.Store.EachRecipient(ctx, listID, personal, fn)
}

// TestRosterFollowsMembership: a list's posts use the roster built at
// start (WarmRosters) with no walk, leaving out the opted-out poster and
// explicit recipient; every membership change makes the next post walk
// again (building the roster anew) and shows in who gets it.
func TestRosterFollowsMembership(t *testing.T) {
	e, cw := countedEnv(t, 1)
	emails := e.addMembers(60, 7, nil)
	poster, explicit := emails[3], emails[10]
	for _, m := range []struct {
		email string
		tweak func(*store.Member)
	}{
		{poster, func(m *store.Member) { m.ReceiveOwnPostings = false }},
		{explicit, func(m *store.Member) { m.ReceiveListCopy = false }},
	} {
		mem, err := e.st.GetMember(context.Background(), e.list.ID, m.email, store.RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		m.tweak(mem)
		if err := e.st.UpdateMember(context.Background(), mem); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.d.WarmRosters(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := cw.walks.Load(); got != 1 {
		t.Fatalf("warming walked %d times, want 1", got)
	}
	want := map[string]int{}
	post := func(step string, walks int32) {
		t.Helper()
		e.enqueue(spool.Envelope{Meta: MemberEnvelope(1, poster, []string{explicit, "outsider@example.net"})})
		e.process()
		if got := cw.walks.Load(); got != walks {
			t.Errorf("%s: %d walks of the store, want %d", step, got, walks)
		}
		got := e.sink.Recipients()
		for a, n := range want {
			if got[a] != n {
				t.Errorf("%s: %s has %d copies, want %d", step, a, got[a], n)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d recipients at the sink, want %d", step, len(got), len(want))
		}
	}
	round := func() {
		for _, a := range emails {
			if a != poster && a != explicit {
				want[a]++
			}
		}
	}
	round()
	post("first post (warmed roster)", 1)
	round()
	post("second post (roster)", 1)

	m := store.DefaultMember(e.list.ID, "late@d00.example", store.RoleMember)
	if err := e.st.AddMember(context.Background(), &m); err != nil {
		t.Fatal(err)
	}
	emails = append(emails, m.Email)
	round()
	post("after a subscription", 2)

	if err := e.st.RemoveMember(context.Background(), e.list.ID, emails[0], store.RoleMember); err != nil {
		t.Fatal(err)
	}
	emails = emails[1:]
	round()
	post("after an unsubscription", 3)
	round()
	post("roster again", 3)
	if got := e.d.Stats.Delivered.Load(); got != 58+58+59+58+58 {
		t.Errorf("delivered %d in all, want 291", got)
	}
}

func TestWithout(t *testing.T) {
	rs := func(addrs ...string) []*rcpt {
		var out []*rcpt
		for _, a := range addrs {
			out = append(out, &rcpt{addr: a})
		}
		return out
	}
	for _, tc := range []struct {
		in, out, want []string
	}{
		{[]string{"a", "b", "c"}, nil, []string{"a", "b", "c"}},
		{[]string{"a", "b", "c"}, []string{"a"}, []string{"b", "c"}},
		{[]string{"a", "b", "c"}, []string{"b"}, []string{"a", "c"}},
		{[]string{"a", "b", "c"}, []string{"c", "x"}, []string{"a", "b"}},
		{[]string{"a", "b", "c"}, []string{"a", "c"}, []string{"b"}},
		{[]string{"a"}, []string{"a"}, nil},
	} {
		in := rs(tc.in...)
		out := map[string]bool{}
		for _, a := range tc.out {
			out[a] = true
		}
		var got []string
		for _, r := range without(in, out) {
			got = append(got, r.addr)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("without(%v, %v) = %v, want %v", tc.in, tc.out, got, tc.want)
		}
		for i, r := range in { // the roster's slice is never changed
			if r.addr != tc.in[i] {
				t.Errorf("without changed its input: %v", in)
			}
		}
	}
}

// TestNoRosterForSmallLists: a list below RosterMin walks for every post.
func TestNoRosterForSmallLists(t *testing.T) {
	e, cw := countedEnv(t, 100)
	e.addMembers(60, 7, nil)
	for i := range 2 {
		e.enqueue(spool.Envelope{Meta: MemberEnvelope(1, "", nil)})
		e.process()
		if got := cw.walks.Load(); got != int32(i+1) {
			t.Errorf("post %d: %d walks, want %d", i+1, got, i+1)
		}
	}
	if got := e.d.Stats.Delivered.Load(); got != 120 {
		t.Errorf("delivered %d, want 120", got)
	}
}

// A small list's posts walk its members without asking for the
// membership version (no roster would be kept); once a walk finds it has
// grown past the minimum, the next post asks, builds the roster, and the
// one after uses it.
func TestSmallListWalksWithoutVersion(t *testing.T) {
	e, cw := countedEnv(t, 10)
	post := func(wantWalks, wantVersions int32) {
		t.Helper()
		e.enqueue(spool.Envelope{Meta: MemberEnvelope(1, "", nil)})
		e.process()
		if w, v := cw.walks.Load(), cw.versions.Load(); w != wantWalks || v != wantVersions {
			t.Fatalf("%d walks, %d version reads; want %d, %d", w, v, wantWalks, wantVersions)
		}
	}
	e.addMembers(5, 2, nil)
	post(1, 1)
	post(2, 1)
	post(3, 1)
	e.addMembers(10, 2, func(m *store.Member) { m.Email = "grown-" + m.Email })
	post(4, 1) // still taken for small: the walk finds 15
	post(5, 2) // asks, walks, builds the roster
	post(5, 3) // the roster
	if got := e.d.Stats.Delivered.Load(); got != 3*5+3*15 {
		t.Errorf("delivered %d, want %d", got, 3*5+3*15)
	}
}
