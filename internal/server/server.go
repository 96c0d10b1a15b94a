// Package server wires `herald serve`: it is the only package that knows
// every component. It opens the store and the spool, starts the LMTP
// listeners, the runners and the HTTP listener in one errgroup, and shuts
// them down in the documented order:
//
//  1. stop accepting (close the LMTP and HTTP listeners);
//  2. let LMTP sessions finish, up to ShutdownGrace;
//  3. let every runner finish the entry it holds;
//  4. close the spool (flushes the pending group commit);
//  5. close the store.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"herald/internal/config"
	"herald/internal/digest"
	"herald/internal/ingress"
	"herald/internal/lmtp"
	"herald/internal/maildir"
	"herald/internal/metrics"
	"herald/internal/moderation"
	"herald/internal/owner"
	"herald/internal/runner"
	"herald/internal/spool"
	"herald/internal/store"

	// The store implementations register themselves.
	_ "herald/internal/store/sqlite"

	"golang.org/x/sync/errgroup"
)

// ShutdownGrace is how long LMTP sessions get to finish at shutdown.
const ShutdownGrace = 10 * time.Second

// ReadMemo is how long serve may reuse what a post reads from the store
// (its list, the sender's roles, the bans, a small list's recipients) for
// the next posts. A change made by serve itself or announced by the CLI
// (SQLite) applies at once; one from any other writer, to posts processed
// that long after it commits. See store/sqlstore/memo.go for why.
const ReadMemo = 5 * time.Millisecond

// memoizer is a store with a read memo (sqlstore.DB.Memoize).
type memoizer interface{ Memoize(ttl time.Duration) }

// OpenStore opens the configured store, running migrations.
func OpenStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	st, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return st, nil
}

// OpenSpool opens the spool under the data dir. Serve passes journal
// true; one-shot commands pass false, so what they enqueue is committed
// and announced to serve at once rather than at a checkpoint (and is not
// left in a journal only a later Open would replay, should they die).
func OpenSpool(ctx context.Context, cfg *config.Config, log *slog.Logger, journal bool) (*spool.Spool, error) {
	minFree := cfg.Spool.MinFreeMB << 20
	if cfg.Spool.MinFreeMB == 0 {
		minFree = -1
	}
	sp, err := spool.Open(ctx, spool.Options{
		Dir: cfg.SpoolDir(), MaxAttempts: cfg.Spool.MaxAttempts, MinFreeBytes: minFree, Logger: log,
		NoJournal: !journal, MemoryBytes: budget(cfg.Spool.MemoryMB), JournalBytes: budget(cfg.Spool.JournalMB),
	})
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	return sp, nil
}

// budget is a size in MiB from the config as spool.Options takes it: 0
// there means none (-1 here).
func budget(mb int64) int64 {
	if mb == 0 {
		return -1
	}
	return mb << 20
}

// Run serves until ctx is cancelled, then shuts down in order.
func Run(ctx context.Context, cfg *config.Config, log *slog.Logger) (err error) {
	if err := cfg.CheckDataDir(); err != nil {
		return err
	}
	tuneProcs(log)
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	if m, ok := st.(memoizer); ok {
		m.Memoize(ReadMemo)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
	}()
	sp, err := OpenSpool(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := sp.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close spool: %w", cerr)
		}
	}()

	in := ingress.New(st, sp, cfg.LMTP.MaxMessageSize, log)
	lsrv := lmtp.New(in, lmtp.Options{Hostname: cfg.LMTP.Hostname, MaxMessageBytes: cfg.LMTP.MaxMessageSize,
		MaxRecipients: cfg.LMTP.MaxRecipients, Logger: log})
	members := NewMembership(cfg, st, log)
	hsrv, err := newHTTP(cfg, st, sp, members, log) // membership.go; hsrv.Mux takes more handlers
	if err != nil {
		return err
	}
	defer hsrv.Close()
	smap, err := openSocketmap(cfg, in, st, log) // socketmap.go; nil when off
	if err != nil {
		return err
	}
	defer smap.Close()
	listeners, err := listen(cfg)
	if err != nil {
		return err
	}

	mod := moderation.New(st, sp, log)
	deliverer, err := newDeliverer(cfg, st, log)
	if err != nil {
		return err
	}
	defer deliverer.Close()
	runners := []*runner.Runner{
		runner.New("post", spool.In, sp, newPostProcessor(cfg, st, mod, log),
			runner.Options{Workers: PostWorkers, Logger: log}),
		runner.New("owner", spool.Owner, sp, owner.New(st, log), runner.Options{Logger: log}),
		runner.New("out", spool.Out, sp, deliverer, runner.Options{Workers: cfg.Delivery.Connections, Logger: log}),
		runner.New("retry", spool.Retry, sp, runner.ProcessorFunc(runner.Requeue), runner.Options{Logger: log}),
		commandRunner(st, sp, members, mod, log),
		bounceRunner(cfg, st, sp, log),
	}
	hsrv.Mux.Handle("GET /metrics", metrics.Handler(metrics.Sources{Spool: sp, Runners: runners, Delivery: deliverer}))

	// Runners get their own context: they must keep going until the LMTP
	// sessions that feed them are done, then finish their entries.
	runCtx, stopRunners := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRunners()
	g, gctx := errgroup.WithContext(runCtx)
	for _, r := range runners {
		g.Go(func() error { return r.Run(gctx) })
	}
	for _, ln := range listeners {
		g.Go(func() error { return lsrv.Serve(ln) })
	}
	g.Go(func() error { return mod.RunExpiry(gctx, HeldExpiryInterval) })
	g.Go(func() error { return digest.New(st, sp, log).Run(gctx, DigestInterval) })
	g.Go(hsrv.Serve)
	g.Go(func() error { return members.RunMaintenance(gctx, MaintenanceInterval) })
	startBouncePolicy(gctx, g, cfg, st, sp, log)
	if cfg.Maildir.Root != "" {
		md := maildir.New(cfg.Maildir.Root, in, sp, maildir.Options{Logger: log})
		g.Go(func() error { return md.Run(gctx) })
	}
	g.Go(func() error { return smap.Serve(gctx) })
	warmRosters(gctx, g, deliverer, log)
	log.Info("herald serving", "lmtp", cfg.LMTP.Listen, "socket", cfg.LMTP.Socket, "smtp", cfg.SMTPAddr(), "data_dir", cfg.DataDir)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case <-gctx.Done():
		log.Error("a component failed; shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	httpDone := hsrv.ShutdownAsync(sctx)
	if err := lsrv.Shutdown(sctx); err != nil {
		log.Warn("lmtp shutdown", "err", err)
	}
	<-httpDone // requests in flight may still enqueue mail: before the runners stop
	stopRunners()
	deliverer.Stop() // entries in delivery requeue what they have not sent
	werr := g.Wait()
	if cfg.LMTP.Socket != "" {
		if err := os.Remove(cfg.LMTP.Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("remove lmtp socket", "err", err)
		}
	}
	log.Info("herald stopped")
	return werr
}

// listen opens the LMTP TCP listener and unix socket.
func listen(cfg *config.Config) ([]net.Listener, error) {
	var out []net.Listener
	closeAll := func() {
		for _, l := range out {
			_ = l.Close() // start-up failed; the listen error is what matters
		}
	}
	if cfg.LMTP.Listen != "" {
		ln, err := net.Listen("tcp", cfg.LMTP.Listen)
		if err != nil {
			return nil, fmt.Errorf("lmtp listen %s: %w", cfg.LMTP.Listen, err)
		}
		out = append(out, ln)
	}
	if cfg.LMTP.Socket != "" {
		ln, err := listenUnix(cfg.LMTP.Socket)
		if err != nil {
			closeAll()
			return nil, err
		}
		out = append(out, ln)
	}
	return out, nil
}

// listenUnix listens on a unix socket, replacing a stale socket file left
// by a crash but never one a live server answers on.
func listenUnix(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("lmtp socket %s: exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			_ = c.Close() // only probing
			return nil, fmt.Errorf("lmtp socket %s: another server is listening", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("lmtp socket %s: remove stale: %w", path, err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("lmtp listen %s: %w", path, err)
	}
	// The MTA's delivery agent runs as another user (postfix): let it connect.
	if err := os.Chmod(path, 0o666); err != nil {
		_ = ln.Close() // the chmod error is what matters
		return nil, fmt.Errorf("lmtp socket %s: %w", path, err)
	}
	return ln, nil
}
