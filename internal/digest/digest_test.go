package digest

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"herald/internal/mime"
	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/store/sqlite"
)

func TestDue(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	l := &store.List{Settings: store.DefaultSettings("dev")} // 30 KiB, periodic
	for _, tc := range []struct {
		name      string
		threshold int
		periodic  bool
		p         store.DigestPending
		want      bool
	}{
		{"small and new", 30, true, store.DigestPending{Bytes: 1000, Oldest: now.Add(-time.Hour)}, false},
		{"threshold reached", 30, true, store.DigestPending{Bytes: 30 * 1024, Oldest: now}, true},
		{"threshold off", 0, false, store.DigestPending{Bytes: 1 << 20, Oldest: now.Add(-48 * time.Hour)}, false},
		{"first post a day old", 30, true, store.DigestPending{Bytes: 10, Oldest: now.Add(-Period)}, true},
		{"last digest a day ago", 30, true, store.DigestPending{Bytes: 10, Oldest: now.Add(-time.Minute),
			State: store.DigestState{Volume: 1, Issue: 3, LastSent: now.Add(-25 * time.Hour)}}, true},
		{"last digest an hour ago", 30, true, store.DigestPending{Bytes: 10, Oldest: now.Add(-48 * time.Hour),
			State: store.DigestState{Volume: 1, Issue: 3, LastSent: now.Add(-time.Hour)}}, false},
		{"not periodic", 30, false, store.DigestPending{Bytes: 10, Oldest: now.Add(-48 * time.Hour)}, false},
	} {
		l.Settings.DigestSizeThreshold, l.Settings.DigestSendPeriodic = tc.threshold, tc.periodic
		if got := due(l, tc.p, now); got != tc.want {
			t.Errorf("%s: due = %v", tc.name, got)
		}
	}
}

func TestNextNumber(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		last, now, freq string
		newVolume       bool
	}{
		{"2026-03-01", "2026-03-31", "monthly", false},
		{"2026-03-31", "2026-04-01", "monthly", true},
		{"2025-03-31", "2026-03-01", "monthly", true},
		{"2026-01-05", "2026-12-31", "yearly", false},
		{"2026-12-31", "2027-01-01", "yearly", true},
		{"2026-03-31", "2026-04-01", "quarterly", true},
		{"2026-04-01", "2026-06-30", "quarterly", false},
		{"2026-03-09", "2026-03-15", "weekly", false}, // Monday to Sunday
		{"2026-03-15", "2026-03-16", "weekly", true},
		{"2026-03-15", "2026-03-15", "daily", false},
		{"2026-03-15", "2026-03-16", "daily", true},
	} {
		v, i := next(store.DigestState{Volume: 2, Issue: 7, LastSent: at(tc.last)}, tc.freq, at(tc.now))
		want := [2]int{2, 8}
		if tc.newVolume {
			want = [2]int{3, 1}
		}
		if [2]int{v, i} != want {
			t.Errorf("%s %s -> %s: vol %d issue %d, want %v", tc.freq, tc.last, tc.now, v, i, want)
		}
	}
	if v, i := next(store.DigestState{}, "monthly", at("2026-01-01")); v != 1 || i != 1 {
		t.Errorf("first digest: vol %d issue %d", v, i)
	}
}

// testIssue is a digest of three posts, one of them not a readable
// message, on a list with a header and a footer.
func testIssue() *Issue {
	l := &store.List{Name: "dev", Domain: "lists.example.org", Settings: store.DefaultSettings("dev")}
	l.Settings.DisplayName = "Dev"
	l.Settings.DigestHeader = "Welcome to $display_name."
	l.Settings.DigestFooter = "Manage: $request_email"
	posts := []string{
		"From: Ann Example <ann@example.com>\r\nTo: dev@lists.example.org\r\nSubject: [Dev] =?utf-8?q?caf=C3=A9?=\r\n" +
			"Date: Tue, 10 Mar 2026 09:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nHello.\r\n------------------------------\r\nstill Ann\r\n",
		"From: bob@example.net\r\nSubject: html only\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hi <b>there</b></p>\r\n",
		"not a message at all",
	}
	d := &Issue{List: l, Volume: 2, Issue: 5, Date: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	for i, p := range posts {
		d.Posts = append(d.Posts, store.DigestMessage{ID: int64(i + 1), PostID: int64(i + 10), Message: []byte(p)})
	}
	return d
}

func TestMIMEDigest(t *testing.T) {
	d := testIssue()
	raw := d.MIME()
	m, err := mime.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Header.Get("Subject"); s != "Dev Digest, Vol 2, Issue 5" {
		t.Errorf("Subject %q", s)
	}
	for _, h := range []string{"From", "To", "Date", "Message-ID", "List-Id", "List-Unsubscribe"} {
		if m.Header.Get(h) == "" {
			t.Errorf("no %s", h)
		}
	}
	if n := bytes.Count(raw, []byte("Content-Type: message/rfc822\r\n")); n != 3 {
		t.Errorf("%d message/rfc822 parts, want 3", n)
	}
	for _, want := range []string{"Welcome to Dev.", "Send Dev mailing list submissions to\r\n\tdev@lists.example.org",
		"Today's Topics:", "   1. [Dev] café (Ann Example)", "   2. html only (bob@example.net)", "   3. (no subject)\r\n",
		"Manage: dev-request@lists.example.org", "End of Dev Digest, Vol 2, Issue 5\r\n*********************************",
		"\r\nnot a message at all\r\n"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("MIME digest lacks %q", want)
		}
	}
	if bytes.Contains(raw, []byte("\n\n")) || bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("MIME digest has bare LF line ends")
	}
}

func TestPlainDigest(t *testing.T) {
	raw := testIssue().Plain()
	m, err := mime.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if ct := m.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	body := strings.ReplaceAll(string(m.Body), "\r\n", "\n")
	// RFC 1153: 70 dashes end the topics, 30 end each message.
	parts := strings.Split(body, "\n------------------------------\n")
	if len(parts) != 4 {
		t.Fatalf("%d sections split on the 30-dash separator, want 4 (3 posts, then the footer):\n%s", len(parts), body)
	}
	for i, want := range []string{"Message: 1\nDate: Tue, 10 Mar 2026 09:00:00 +0000\nFrom: Ann Example <ann@example.com>",
		"Message: 2\nFrom: bob@example.net\nSubject: html only\n\nHi there", "Message: 3\nSubject: (no subject)\n\n[this message could not be read]",
		"Subject: Digest Footer\n\nManage: dev-request@lists.example.org\n\nEnd of Dev Digest, Vol 2, Issue 5"} {
		if !strings.Contains(parts[i], want) {
			t.Errorf("section %d lacks %q:\n%s", i+1, want, parts[i])
		}
	}
	if !strings.Contains(parts[0], " ------------------------------\nstill Ann") {
		t.Errorf("a separator line in a post was not escaped:\n%s", parts[0])
	}
	if !strings.Contains(body, "Today's Topics:\n\n   1. [Dev] café (Ann Example)") || !strings.Contains(body, strings.Repeat("-", 70)) {
		t.Errorf("topics:\n%s", body)
	}
}

// rig is a real SQLite store and spool with list dev@lists.example.org.
type rig struct {
	st  *sqlite.DB
	sp  *spool.Spool
	l   *store.List
	s   *Sender
	now time.Time
}

func newRig(t *testing.T) *rig {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sp, err := spool.Open(t.Context(), spool.Options{Dir: filepath.Join(dir, "spool"), HashDepth: 1, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	r := &rig{st: st, sp: sp, now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	if err := st.CreateDomain(t.Context(), store.Domain{Name: "lists.example.org"}); err != nil {
		t.Fatal(err)
	}
	r.l = &store.List{Name: "dev", Domain: "lists.example.org", Settings: store.DefaultSettings("dev")}
	if err := st.CreateList(t.Context(), r.l); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ email, mode string }{{"reg@example.net", store.ModeRegular},
		{"m1@example.net", store.ModeMIMEDigest}, {"m2@example.net", store.ModeMIMEDigest}, {"p@example.net", store.ModePlaintextDigest}} {
		mem := store.DefaultMember(r.l.ID, m.email, store.RoleMember)
		mem.DeliveryMode = m.mode
		if err := st.AddMember(t.Context(), &mem); err != nil {
			t.Fatal(err)
		}
	}
	r.s = New(st, sp, slog.New(slog.DiscardHandler))
	r.s.now = func() time.Time { return r.now }
	return r
}

func (r *rig) post(t *testing.T, n int, size int) {
	t.Helper()
	msg := "Subject: post\r\n\r\n" + strings.Repeat("x", size) + "\r\n"
	if err := r.st.AddDigestMessage(t.Context(), &store.DigestMessage{ListID: r.l.ID, PostID: int64(n), Message: []byte(msg)}); err != nil {
		t.Fatal(err)
	}
}

// outRecipients returns the recipients of each out entry, sorted.
func (r *rig) outRecipients(t *testing.T) []string {
	t.Helper()
	es, err := r.sp.List(spool.Out)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, strings.Join(e.Envelope.Recipients, ","))
	}
	slices.Sort(out)
	return out
}

func TestSenderSendsWhenDue(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	r.post(t, 1, 100)
	sent, err := r.s.SendDue(ctx, false, 0)
	if err != nil || len(sent) != 0 {
		t.Fatalf("SendDue with one small new post: %v %+v", err, sent)
	}
	r.post(t, 2, 31*1024) // past the 30 KiB threshold
	sent, err = r.s.SendDue(ctx, false, 0)
	if err != nil || len(sent) != 1 || sent[0].Posts != 2 || sent[0].Recipients != 3 || sent[0].Volume != 1 || sent[0].Issue != 1 {
		t.Fatalf("SendDue past the threshold: %v %+v", err, sent)
	}
	if got := r.outRecipients(t); !slices.Equal(got, []string{"m1@example.net,m2@example.net", "p@example.net"}) {
		t.Errorf("out entries to %q", got)
	}
	if msgs, _ := r.st.DigestMessages(ctx, r.l.ID); len(msgs) != 0 {
		t.Errorf("%d posts left after the digest", len(msgs))
	}
	// Periodic: a small digest goes out a day after the last one.
	r.post(t, 3, 10)
	r.now = r.now.Add(23 * time.Hour)
	if sent, _ = r.s.SendDue(ctx, false, 0); len(sent) != 0 {
		t.Errorf("periodic digest after 23 h: %+v", sent)
	}
	r.now = r.now.Add(time.Hour)
	if sent, err = r.s.SendDue(ctx, false, 0); err != nil || len(sent) != 1 || sent[0].Issue != 2 {
		t.Errorf("periodic digest after 24 h: %v %+v", err, sent)
	}
	// A new month starts a new volume.
	r.post(t, 4, 10)
	r.now = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	if sent, err = r.s.SendDue(ctx, true, r.l.ID); err != nil || len(sent) != 1 || sent[0].Volume != 2 || sent[0].Issue != 1 {
		t.Errorf("forced digest in April: %v %+v", err, sent)
	}
	if sent, _ = r.s.SendDue(ctx, true, 0); len(sent) != 0 {
		t.Errorf("forced digest with no posts: %+v", sent)
	}
}

// With nobody left to get it, the posts are dropped and the number used.
func TestSenderWithoutDigestMembers(t *testing.T) {
	r := newRig(t)
	for _, e := range []string{"m1@example.net", "m2@example.net", "p@example.net"} {
		m, err := r.st.GetMember(t.Context(), r.l.ID, e, store.RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		m.DeliveryStatus = store.DeliveryByUser
		if err := r.st.UpdateMember(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	r.post(t, 1, 10)
	sent, err := r.s.SendDue(t.Context(), true, 0)
	if err != nil || len(sent) != 1 || sent[0].Recipients != 0 {
		t.Fatalf("SendDue: %v %+v", err, sent)
	}
	if got := r.outRecipients(t); len(got) != 0 {
		t.Errorf("out entries %q", got)
	}
	if msgs, _ := r.st.DigestMessages(t.Context(), r.l.ID); len(msgs) != 0 {
		t.Errorf("%d posts left", len(msgs))
	}
}

// A digest another node is sending (its lease is young) is left to it; a
// stale lease is from a node that died and is taken over.
func TestSenderRespectsLease(t *testing.T) {
	r := newRig(t)
	r.post(t, 1, 10)
	if ok, err := r.st.ClaimDigest(t.Context(), r.l.ID, r.now, LeaseStale); err != nil || !ok {
		t.Fatalf("ClaimDigest: %v %v", ok, err)
	}
	if sent, err := r.s.SendDue(t.Context(), true, 0); err != nil || len(sent) != 0 {
		t.Fatalf("SendDue under another node's lease: %v %+v", err, sent)
	}
	r.now = r.now.Add(LeaseStale + time.Second)
	if sent, err := r.s.SendDue(t.Context(), true, 0); err != nil || len(sent) != 1 {
		t.Fatalf("SendDue after the lease went stale: %v %+v", err, sent)
	}
	// And the lease ended with the digest.
	if ok, err := r.st.ClaimDigest(t.Context(), r.l.ID, r.now, LeaseStale); err != nil || !ok {
		t.Errorf("lease still held after the digest: %v %v", ok, err)
	}
}
