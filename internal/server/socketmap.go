package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"herald/internal/config"
	"herald/internal/ingress"
	"herald/internal/mta"
	"herald/internal/mta/postfix"
	"herald/internal/mta/socketmap"
	"herald/internal/store"
)

// liveMaps is the socketmap server of [mta] socketmap, or nil when off;
// its methods are no-ops on nil.
type liveMaps struct {
	srv *socketmap.Server
	ln  net.Listener
}

// openSocketmap listens on cfg.MTA.Socketmap (nil when unset).
func openSocketmap(cfg *config.Config, in *ingress.Ingress, st store.Store, log *slog.Logger) (*liveMaps, error) {
	if cfg.MTA.Socketmap == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.MTA.Socketmap)
	if err != nil {
		return nil, fmt.Errorf("socketmap listen %s: %w", cfg.MTA.Socketmap, err)
	}
	transport := postfix.NextHop(mta.TargetFor(cfg, "postfix"))
	return &liveMaps{srv: socketmap.New(in, st, transport, log), ln: ln}, nil
}

// Serve answers lookups until ctx ends.
func (m *liveMaps) Serve(ctx context.Context) error {
	if m == nil {
		return nil
	}
	stop := context.AfterFunc(ctx, func() {
		_ = m.srv.Close() // shutting down; Serve reports the real errors
	})
	defer stop()
	return m.srv.Serve(m.ln)
}

// Close stops the server (for start-up failures and shutdown).
func (m *liveMaps) Close() {
	if m == nil {
		return
	}
	_ = m.ln.Close()  // may already be closed by Serve's shutdown
	_ = m.srv.Close() // same
}
