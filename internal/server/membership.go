package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"herald/internal/commands"
	"herald/internal/config"
	"herald/internal/membership"
	"herald/internal/moderation"
	"herald/internal/runner"
	"herald/internal/spool"
	"herald/internal/store"
	"herald/internal/web"
)

// MaintenanceInterval is how often lapsed subscription requests and old
// quota counts are removed.
const MaintenanceInterval = 10 * time.Minute

// NewMembership returns the membership service configured by cfg; the CLI
// uses it too.
func NewMembership(cfg *config.Config, st store.Store, log *slog.Logger) *membership.Service {
	m := cfg.Membership
	return membership.New(st, membership.Options{
		PendingLife: m.PendingRequestLife.Duration, ResendAfter: m.ConfirmResendAfter.Duration,
		SiteConfirmationsPerHour: m.MaxConfirmationsPerHour, AutoresponsesPerDay: m.MaxAutoresponsesPerDay,
		BaseURL: cfg.HTTP.BaseURL, Logger: log,
	})
}

// commandRunner is the runner of the command queue. Four workers let the
// spool batch their claims' syncs into one group commit.
func commandRunner(st store.Store, sp *spool.Spool, svc *membership.Service, mod *moderation.Service, log *slog.Logger) *runner.Runner {
	return runner.New("command", spool.Command, sp, commands.New(st, svc, commands.Options{Logger: log, Moderator: mod}),
		runner.Options{Workers: 4, Logger: log})
}

// httpServer is the HTTP listener and its mux: the member pages, /metrics,
// and where the REST API and the web UI will go.
type httpServer struct {
	Mux *http.ServeMux
	srv *http.Server
	ln  net.Listener // nil when [http] listen is ""
	log *slog.Logger
}

// newHTTP listens on [http] listen and registers the member pages.
func newHTTP(cfg *config.Config, st store.Store, sp *spool.Spool, svc *membership.Service, log *slog.Logger) (*httpServer, error) {
	mux := http.NewServeMux()
	web.New(web.Options{Membership: svc, Lists: st, Spool: sp,
		RequestsPerMinute: cfg.Membership.HTTPRequestsPerMinute, Logger: log}).Register(mux)
	h := &httpServer{Mux: mux, log: log, srv: &http.Server{
		Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	if cfg.HTTP.Listen == "" {
		return h, nil
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return nil, fmt.Errorf("http listen %s: %w", cfg.HTTP.Listen, err)
	}
	h.ln = ln
	log.Info("http listening", "listen", cfg.HTTP.Listen, "base_url", cfg.HTTP.BaseURL)
	return h, nil
}

// Serve serves until Shutdown; it returns nil then.
func (h *httpServer) Serve() error {
	if h.ln == nil {
		return nil
	}
	if err := h.srv.Serve(h.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http serve: %w", err)
	}
	return nil
}

// ShutdownAsync stops accepting at once and lets requests in flight
// finish until ctx ends, in the background; the channel closes when done.
func (h *httpServer) ShutdownAsync(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := h.srv.Shutdown(ctx); err != nil {
			h.log.Warn("http shutdown", "err", err)
		}
	}()
	return done
}

// Close closes the listener if Serve never ran (a start-up failure).
func (h *httpServer) Close() {
	if h.ln != nil {
		_ = h.srv.Close() // closes the listener too; nothing to report at start-up failure
		_ = h.ln.Close()  // idempotent when Serve ran
	}
}
