// Package mta is herald's MTA integration interface: it takes a snapshot
// of every domain and list in the store and has each MTA's generator
// (internal/mta/{postfix,exim,sendmail,qmail,opensmtpd}) turn it into map
// files under <data_dir>/mta/<mta>/ and a config snippet. It holds no
// delivery code.
//
// Invariants:
//   - Regenerate is called after every change to the set of domains or
//     lists (the CLI commands, the API). It writes every generator's files
//     under an exclusive lock, so concurrent callers cannot leave an older
//     snapshot on disk after a newer one.
//   - A file is rewritten only when its content changed, atomically (temp
//     file, fsync, rename, directory fsync): an MTA never reads a partial
//     map, and an unchanged map keeps its mtime, so the MTA does not
//     restart daemons for nothing.
//   - Generators are pure; side effects after a write (postmap, reload)
//     happen in model.AfterWriter hooks, only for changed files.
package mta

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"herald/internal/config"
	"herald/internal/mta/exim"
	"herald/internal/mta/model"
	"herald/internal/mta/opensmtpd"
	"herald/internal/mta/postfix"
	"herald/internal/mta/qmail"
	"herald/internal/mta/sendmail"
	"herald/internal/store"
)

// Source is what the integration reads from the store.
type Source interface {
	ListDomains(ctx context.Context) ([]store.Domain, error)
	ListLists(ctx context.Context, domain string) ([]store.List, error)
}

// Generators returns every MTA generator, in command-line order.
func Generators() []model.Generator {
	return []model.Generator{postfix.Generator{}, exim.Generator{}, sendmail.Generator{}, qmail.Generator{}, opensmtpd.Generator{}}
}

// Lookup returns the generator called name.
func Lookup(name string) (model.Generator, bool) {
	for _, g := range Generators() {
		if g.Name() == name {
			return g, true
		}
	}
	return nil, false
}

// Dir is where herald keeps the MTA files: <data_dir>/mta.
func Dir(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "mta") }

// Load reads the current snapshot from the store.
func Load(ctx context.Context, src Source) (*model.Snapshot, error) {
	ds, err := src.ListDomains(ctx)
	if err != nil {
		return nil, fmt.Errorf("mta snapshot: list domains: %w", err)
	}
	ls, err := src.ListLists(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("mta snapshot: list lists: %w", err)
	}
	s := &model.Snapshot{}
	for _, d := range ds {
		s.Domains = append(s.Domains, d.Name)
	}
	for _, l := range ls {
		s.Lists = append(s.Lists, model.List{Name: l.Name, Domain: l.Domain})
	}
	s.Sort()
	return s, nil
}

// TargetFor builds generator name's Target from the configuration.
func TargetFor(cfg *config.Config, name string) *model.Target {
	t := &model.Target{
		Transport:   cfg.MTA.Transport,
		LMTPAddr:    cfg.LMTP.Listen,
		LMTPSocket:  cfg.LMTP.Socket,
		MaildirRoot: cfg.Maildir.Root,
		HeraldPath:  cfg.MTA.HeraldPath,
		Socketmap:   cfg.MTA.Socketmap,
		ConfigFile:  cfg.File,
		Dir:         filepath.Join(Dir(cfg), name),
		Postfix: model.PostfixOptions{
			Postmap: cfg.MTA.PostfixPostmap, MapType: cfg.MTA.PostfixMapType,
			ConfigDir: cfg.MTA.PostfixConfigDir, Reload: cfg.MTA.PostfixReload,
		},
	}
	if t.ConfigFile != "" {
		if abs, err := filepath.Abs(t.ConfigFile); err == nil {
			t.ConfigFile = abs
		}
	}
	if t.HeraldPath == "" {
		if exe, err := os.Executable(); err == nil {
			t.HeraldPath = exe
		} else {
			t.HeraldPath = "herald"
		}
	}
	t.MaildirUID, t.MaildirGID = maildirOwner(cfg.Maildir.Root)
	return t
}

// maildirOwner is the uid/gid the MTA should write Maildir files as: the
// owner of the root when it is not root, else this process's user when
// that is not root, else nobody (65534): Postfix's virtual agent refuses
// uid 0.
func maildirOwner(root string) (int, int) {
	if root != "" {
		if fi, err := os.Stat(root); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
				return int(st.Uid), int(st.Gid)
			}
		}
	}
	if uid := os.Getuid(); uid != 0 {
		return uid, os.Getgid()
	}
	return 65534, 65534
}

// Regenerate rewrites every MTA's files for the current store contents
// and runs the post-write hooks (postmap, reload) for what changed.
func Regenerate(ctx context.Context, cfg *config.Config, src Source) error {
	unlock, err := lock(Dir(cfg))
	if err != nil {
		return err
	}
	defer unlock()
	snap, err := Load(ctx, src)
	if err != nil {
		return err
	}
	for _, g := range Generators() {
		if err := WriteFiles(ctx, g, snap, TargetFor(cfg, g.Name())); err != nil {
			return err
		}
	}
	return nil
}

// WriteFiles writes g's files for snap into t.Dir and runs g's AfterWrite
// hook, if any, with the names of the files that changed.
func WriteFiles(ctx context.Context, g model.Generator, snap *model.Snapshot, t *model.Target) error {
	if err := os.MkdirAll(t.Dir, 0o755); err != nil {
		return fmt.Errorf("mta %s: %w", g.Name(), err)
	}
	var changed []string
	for _, f := range g.Files(snap, t) {
		ok, err := writeIfChanged(filepath.Join(t.Dir, f.Name), f.Data)
		if err != nil {
			return fmt.Errorf("mta %s: %w", g.Name(), err)
		}
		if ok {
			changed = append(changed, f.Name)
		}
	}
	if aw, ok := g.(model.AfterWriter); ok {
		if err := aw.AfterWrite(ctx, t, changed); err != nil {
			return fmt.Errorf("mta %s: %w", g.Name(), err)
		}
	}
	return nil
}

// Stale returns the names of g's files whose content on disk differs from
// what snap makes (missing files included).
func Stale(g model.Generator, snap *model.Snapshot, t *model.Target) []string {
	var out []string
	for _, f := range g.Files(snap, t) {
		b, err := os.ReadFile(filepath.Join(t.Dir, f.Name))
		if err != nil || string(b) != string(f.Data) {
			out = append(out, f.Name)
		}
	}
	return out
}
