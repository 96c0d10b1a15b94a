package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/internal/membership"
	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/store/sqlite"
)

type rig struct {
	t   *testing.T
	st  store.Store
	sp  *spool.Spool
	srv *httptest.Server
	l   *store.List
}

func newRig(t *testing.T, perMinute int) *rig {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sp, err := spool.Open(ctx, spool.Options{Dir: filepath.Join(dir, "spool"), HashDepth: 1, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	if err := st.CreateDomain(ctx, store.Domain{Name: "example.org"}); err != nil {
		t.Fatal(err)
	}
	l := &store.List{Name: "dev", Domain: "example.org", Settings: store.DefaultSettings("dev")}
	l.Settings.UnsubscriptionPolicy = "moderate" // one-click ignores it
	if err := st.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	svc := membership.New(st, membership.Options{BaseURL: "http://herald.test"})
	mux := http.NewServeMux()
	New(Options{Membership: svc, Lists: st, Spool: sp, RequestsPerMinute: perMinute}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &rig{t: t, st: st, sp: sp, srv: srv, l: l}
}

func (r *rig) add(email string) *store.Member {
	r.t.Helper()
	m := store.DefaultMember(r.l.ID, email, store.RoleMember)
	if err := r.st.AddMember(r.t.Context(), &m); err != nil {
		r.t.Fatal(err)
	}
	return &m
}

func (r *rig) isMember(email string) bool {
	_, err := r.st.GetMember(r.t.Context(), r.l.ID, email, store.RoleMember)
	return err == nil
}

// do sends a request and returns the status and body.
func (r *rig) do(method, path string, form url.Values, header ...string) (int, string, http.Header) {
	r.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, r.srv.URL+path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func (r *rig) outCount() int { return r.sp.Counts()[spool.Out] }

func TestOneClick(t *testing.T) {
	r := newRig(t, 30)
	m := r.add("alice@example.com")
	oneClick := url.Values{"List-Unsubscribe": {"One-Click"}}

	code, body, hd := r.do("GET", "/u/"+m.Token, nil)
	if code != 200 || !strings.Contains(body, `<form method="post">`) || !strings.Contains(body, "alice@example.com") {
		t.Fatalf("GET: %d\n%s", code, body)
	}
	if !r.isMember("alice@example.com") {
		t.Fatal("GET unsubscribed")
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "Cache-Control"} {
		if hd.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	// A mailbox provider's POST: no browser headers, or even cross-site ones.
	code, body, _ = r.do("POST", "/u/"+m.Token, oneClick, "Sec-Fetch-Site", "cross-site", "Origin", "https://mail.example")
	if code != 200 || r.isMember("alice@example.com") {
		t.Fatalf("POST: %d, still member %v\n%s", code, r.isMember("alice@example.com"), body)
	}
	if n := r.outCount(); n != 1 {
		t.Errorf("%d mails queued, want the goodbye", n)
	}
	code, body, _ = r.do("POST", "/u/"+m.Token, oneClick)
	if code != 200 || !strings.Contains(body, "Not subscribed") {
		t.Errorf("second POST: %d %s", code, body)
	}
	if code, _, _ = r.do("GET", "/u/"+m.Token, nil); code != 404 {
		t.Errorf("GET after leaving: %d, want 404", code)
	}
}

func TestGenericUnsubscribe(t *testing.T) {
	r := newRig(t, 30)
	r.add("bob@example.net")
	path := "/lists/" + url.PathEscape("dev@example.org") + "/unsubscribe"
	if code, body, _ := r.do("GET", path, nil); code != 200 || !strings.Contains(body, `type="email"`) {
		t.Fatalf("GET form: %d %s", code, body)
	}
	if code, _, _ := r.do("GET", "/lists/nope@example.org/unsubscribe", nil); code != 404 {
		t.Errorf("unknown list: %d", code)
	}
	code, member, _ := r.do("POST", path, url.Values{"email": {"Bob@Example.NET"}})
	if code != 200 || !r.isMember("bob@example.net") || r.outCount() != 1 {
		t.Fatalf("POST member: %d, member %v, %d mails", code, r.isMember("bob@example.net"), r.outCount())
	}
	code, stranger, _ := r.do("POST", path, url.Values{"email": {"carol@example.net"}})
	if code != 200 || r.outCount() != 1 {
		t.Errorf("POST non-member: %d, %d mails", code, r.outCount())
	}
	norm := strings.NewReplacer("bob@example.net", "X", "carol@example.net", "X")
	if norm.Replace(member) != norm.Replace(stranger) {
		t.Error("the page tells members from non-members")
	}
	if code, _, _ := r.do("POST", path, url.Values{"email": {"not an address"}}); code != 400 {
		t.Errorf("bad address: %d", code)
	}
	// Cross-site form posts are refused (CSRF).
	if code, _, _ := r.do("POST", path, url.Values{"email": {"bob@example.net"}}, "Sec-Fetch-Site", "cross-site"); code != 403 {
		t.Errorf("cross-site POST: %d, want 403", code)
	}

	// The confirmation's link: GET asks, POST confirms; the moderate
	// policy then holds the request for the moderators.
	c, ok, err := r.sp.TryClaim(spool.Out)
	if err != nil || !ok {
		t.Fatal("no confirmation queued", err)
	}
	msg := string(c.Message)
	i := strings.Index(msg, "http://herald.test/confirm/")
	if i < 0 {
		t.Fatalf("no confirm link in\n%s", msg)
	}
	link := strings.Fields(msg[i:])[0]
	confirmPath := strings.TrimPrefix(link, "http://herald.test")
	if code, body, _ := r.do("GET", confirmPath, nil); code != 200 || !strings.Contains(body, "Unsubscribe") {
		t.Fatalf("GET confirm: %d %s", code, body)
	}
	if code, body, _ := r.do("POST", confirmPath, nil); code != 200 || !strings.Contains(body, "moderators") {
		t.Fatalf("POST confirm: %d %s", code, body)
	}
	if code, _, _ := r.do("POST", confirmPath, nil); code != 404 {
		t.Errorf("reused confirm link: %d, want 404", code)
	}
}

func TestRateLimit(t *testing.T) {
	r := newRig(t, 5)
	path := "/lists/dev@example.org/unsubscribe"
	codes := map[int]int{}
	for range 8 {
		code, _, _ := r.do("GET", path, nil)
		codes[code]++
	}
	if codes[200] != 5 || codes[429] != 3 {
		t.Errorf("status counts %v, want 5×200 and 3×429", codes)
	}
	// Guessing one-click tokens costs; valid tokens never do.
	r2 := newRig(t, 3)
	var members []*store.Member
	for i := range 6 {
		members = append(members, r2.add(string(rune('a'+i))+"@example.com"))
	}
	for _, m := range members[:4] {
		if code, _, _ := r2.do("POST", "/u/"+m.Token, nil); code != 200 {
			t.Fatalf("valid token: %d", code)
		}
	}
	codes = map[int]int{}
	for i := range 5 {
		code, _, _ := r2.do("POST", "/u/"+strings.Repeat("0", 31)+string(rune('a'+i)), nil)
		codes[code]++
	}
	if codes[200] != 3 || codes[429] != 2 {
		t.Errorf("bad tokens: %v, want 3×200 and 2×429", codes)
	}
}

func TestSource(t *testing.T) {
	cases := map[string]string{
		"192.0.2.1:1234":               "192.0.2.1/32",
		"[2001:db8:1:2:3:4:5:6]:443":   "2001:db8:1:2::/64",
		"[::ffff:192.0.2.9]:80":        "192.0.2.9/32",
		"garbage":                      "invalid Prefix",
		"[2001:db8:1:2:ffff::1]:65535": "2001:db8:1:2::/64",
	}
	for in, want := range cases {
		if got := source(in).String(); got != want {
			t.Errorf("source(%q) = %s, want %s", in, got, want)
		}
	}
	l := newLimiter(60, func() time.Time { return time.Unix(0, 0) })
	for range 60 {
		if !l.allow("192.0.2.1:1") {
			t.Fatal("refused within the limit")
		}
	}
	if l.allow("192.0.2.1:2") || !l.allow("192.0.2.2:1") {
		t.Error("limit not per source")
	}
}

func TestEscaping(t *testing.T) {
	r := newRig(t, 30)
	m := r.add("o'brien&co@example.com")
	_, body, _ := r.do("GET", "/u/"+m.Token, nil)
	if !strings.Contains(body, "o&#39;brien&amp;co@example.com") {
		t.Errorf("address not escaped:\n%s", body)
	}
}
