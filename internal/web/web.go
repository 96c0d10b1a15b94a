// Package web is herald's public HTTP surface for members: RFC 8058
// one-click unsubscription, the list's generic unsubscribe page and the
// confirmation page. Later the archive and the web UI join it; the REST
// API and /metrics are other packages on the same mux.
//
// Invariants:
//   - GET never changes anything: mail scanners and link previewers fetch
//     every URL in a message. A GET shows a page whose button POSTs.
//   - POST /u/{token} unsubscribes at once and answers 200, with no login,
//     no redirect and no further page (RFC 8058 §3.2); the member's
//     unguessable token is the only credential, so that path bypasses the
//     cross-origin check that protects every other POST
//     (http.CrossOriginProtection).
//   - Every path is rate-limited per source address (an IPv4 address or an
//     IPv6 /64); mail caused by a request is limited further by package
//     membership's quotas.
//   - Pages are html/template with contextual escaping; responses forbid
//     framing, caching and referrers (the URLs carry secrets), and the
//     unsubscribe page never tells whether an address is subscribed.
package web

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"herald/internal/membership"
	"herald/internal/spool"
	"herald/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Option("missingkey=error").ParseFS(templateFS, "templates/*.html"))

// Lists is what the pages need from the store.
type Lists interface {
	GetList(ctx context.Context, name, domain string) (*store.List, error)
}

// Spool takes the mail that requests cause.
type Spool interface {
	EnqueueAll(ctx context.Context, items []spool.Item) ([]string, error)
}

// Options configure the handler.
type Options struct {
	Membership *membership.Service
	Lists      Lists
	Spool      Spool
	// RequestsPerMinute per source address on every page (0: no limit).
	RequestsPerMinute int
	// Logger. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock of the rate limiter. Default time.Now.
	Now func() time.Time
}

// Handler serves the member pages.
type Handler struct {
	opts Options
	log  *slog.Logger
	lim  *limiter
	cop  *http.CrossOriginProtection
}

// New returns the handler.
func New(opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cop := http.NewCrossOriginProtection()
	// RFC 8058: the mailbox provider POSTs from its own servers; the token
	// in the path is the credential.
	cop.AddInsecureBypassPattern("POST /u/{token}")
	return &Handler{opts: opts, log: opts.Logger.With("component", "web"),
		lim: newLimiter(opts.RequestsPerMinute, opts.Now), cop: cop}
}

// Register adds the member pages to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /u/{token}", h.wrapToken(h.oneClickPage))
	mux.Handle("POST /u/{token}", h.wrapToken(h.oneClick))
	mux.Handle("GET /lists/{list}/unsubscribe", h.wrap(h.unsubscribePage))
	mux.Handle("POST /lists/{list}/unsubscribe", h.wrap(h.unsubscribe))
	mux.Handle("GET /confirm/{token}", h.wrap(h.confirmPage))
	mux.Handle("POST /confirm/{token}", h.wrap(h.confirm))
}

// wrap adds the security headers, the rate limit, the cross-origin check
// and a body size limit.
func (h *Handler) wrap(fn http.HandlerFunc) http.Handler {
	return secure(h.lim.limit(h.cop.Handler(limitBody(fn))))
}

// wrapToken is wrap for the one-click paths: only requests with a bad
// token count against the source's rate limit (limiter.limitFailures).
func (h *Handler) wrapToken(fn func(w http.ResponseWriter, r *http.Request, failed func())) http.Handler {
	return secure(h.lim.limitFailures(func(w http.ResponseWriter, r *http.Request, failed func()) {
		h.cop.Handler(limitBody(func(w http.ResponseWriter, r *http.Request) { fn(w, r, failed) })).ServeHTTP(w, r)
	}))
}

func limitBody(fn http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		fn(w, r)
	})
}

// secure sets the headers every page carries: no framing (a hidden
// one-click button), no caching, no referrer (the URLs carry tokens).
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// page is the data of every template.
type page struct {
	Title, Message, Detail string
	Email, List            string
	Action, Prep           string
}

// render writes a template, buffered so an error never sends half a page.
func (h *Handler) render(w http.ResponseWriter, status int, name string, p page) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, p); err != nil {
		h.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes()) // the client went away: nothing to do
}

func (h *Handler) message(w http.ResponseWriter, status int, title, msg, detail string) {
	h.render(w, status, "message.html", page{Title: title, Message: msg, Detail: detail})
}

func (h *Handler) fail(w http.ResponseWriter, what string, err error) {
	h.log.Error(what, "err", err)
	h.message(w, http.StatusServiceUnavailable, "Please try again", "Something went wrong on our side. Please try again in a few minutes.", "")
}

// send makes the mail of an outcome durable. The membership change is
// already done, so a failure only loses the notices; it is logged.
func (h *Handler) send(ctx context.Context, o membership.Outcome) {
	if len(o.Mail) == 0 {
		return
	}
	if _, err := h.opts.Spool.EnqueueAll(ctx, o.Mail); err != nil {
		h.log.Error("queue membership mail", "err", err, "status", o.Status, "address", o.Email)
	}
}
