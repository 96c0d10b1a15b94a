package postfix

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"herald/internal/mta/model"
)

// commandTimeout bounds one postmap or postfix run.
const commandTimeout = time.Minute

// dbSuffix is the file postmap makes for a map type.
var dbSuffix = map[string]string{"hash": ".db", "btree": ".db", "cdb": ".cdb", "lmdb": ".lmdb"}

// AfterWrite rebuilds the databases of the changed maps (postfix_postmap)
// and reloads Postfix when a map it does not re-open by itself changed
// (postfix_reload): the transport or domain map, or any texthash map.
func (Generator) AfterWrite(ctx context.Context, t *model.Target, changed []string) error {
	if t.Postfix.Postmap {
		if suffix, ok := dbSuffix[t.Postfix.MapType]; ok {
			// Also rebuild databases left stale by an earlier failed run.
			build := changed
			for _, name := range StaleDatabases(t) {
				if !slices.Contains(build, name) {
					build = append(slices.Clip(build), name)
				}
			}
			for _, name := range build {
				if err := postmap(ctx, t, name, suffix); err != nil {
					return err
				}
			}
		}
	}
	if !t.Postfix.Reload || len(changed) == 0 {
		return nil
	}
	if t.Postfix.MapType == "texthash" || slices.Contains(changed, Transport) || slices.Contains(changed, Domains) {
		return Reload(ctx, t.Postfix.ConfigDir)
	}
	return nil
}

// postmap builds name's database beside a private copy of the text and
// renames it into place, so a reader never sees a half-built table.
func postmap(ctx context.Context, t *model.Target, name, suffix string) error {
	src := filepath.Join(t.Dir, name)
	tmp := filepath.Join(t.Dir, "."+name+".postmap")
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("postmap %s: %w", src, err)
	}
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("postmap %s: %w", src, err)
	}
	defer func() {
		_ = os.Remove(tmp) // scratch copy; a leftover is rewritten next time
	}()
	if err := run(ctx, "postmap", t.Postfix.ConfigDir, t.Postfix.MapType+":"+tmp); err != nil {
		_ = os.Remove(tmp + suffix) // half-built scratch database
		return err
	}
	if err := os.Rename(tmp+suffix, src+suffix); err != nil {
		return fmt.Errorf("postmap %s: install database: %w", src, err)
	}
	return nil
}

// Reload runs `postfix reload` with the given config directory ("" for
// Postfix's default).
func Reload(ctx context.Context, configDir string) error {
	return run(ctx, "postfix", configDir, "reload")
}

// run runs a Postfix command with -c configDir when set.
func run(ctx context.Context, name, configDir string, args ...string) error {
	bin, err := Binary(name)
	if err != nil {
		return err
	}
	if configDir != "" {
		args = append([]string{"-c", configDir}, args...)
	}
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w: %s", name, args, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// Binary finds a Postfix program in $PATH or /usr/sbin.
func Binary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("find %s: %w", name, errors.New("not installed (not in $PATH or /usr/sbin)"))
}

// StaleDatabases returns the maps whose postmap database is missing or
// older than the text file (nil for texthash, which has no database).
func StaleDatabases(t *model.Target) []string {
	suffix, ok := dbSuffix[t.Postfix.MapType]
	if !ok {
		return nil
	}
	var out []string
	for _, name := range []string{Domains, Transport, Recipients, VMailbox} {
		src := filepath.Join(t.Dir, name)
		txt, err := os.Stat(src)
		if err != nil {
			continue
		}
		db, err := os.Stat(src + suffix)
		if err != nil || db.ModTime().Before(txt.ModTime()) {
			out = append(out, name)
		}
	}
	return out
}
