// Package pgtest gives tests a real PostgreSQL server.
//
// If HERALD_TEST_POSTGRES_URL is set, tests use that server. Otherwise the
// first test that asks starts a private one: initdb into a temporary
// directory, postgres listening only on 127.0.0.1 on a free port with its
// unix socket in that directory, fsync off. When run as root (PostgreSQL
// refuses to), the server runs as the "postgres" user. TestMain stops it
// by PID and removes the directory:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Each test gets its own schema (NewSchema), dropped when the test ends,
// so tests of several packages can share one server. When no server can
// be had the test is skipped with a loud message, or fails if
// HERALD_TEST_POSTGRES_REQUIRED=1 (for CI, where a skip would hide a
// missing install).
//
// It is test-only: import it from _test.go files and tests/ only.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is a private PostgreSQL server started by Start.
type Server struct {
	// URL connects as the superuser "postgres" to database "postgres".
	URL  string
	dir  string
	cmd  *exec.Cmd
	done chan error // receives cmd.Wait's result
}

// StartTimeout bounds initdb plus server start-up.
const StartTimeout = 60 * time.Second

// binDir finds the newest /usr/lib/postgresql/*/bin holding initdb.
func binDir() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", errors.New("no initdb under /usr/lib/postgresql/*/bin (apt-get install -y postgresql)")
	}
	slices.SortFunc(matches, func(a, b string) int { return version(a) - version(b) })
	return filepath.Dir(matches[len(matches)-1]), nil
}

// version extracts N from /usr/lib/postgresql/N/bin/initdb.
func version(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// credential returns the user to run PostgreSQL as: "postgres" when we
// are root, nil (ourselves) otherwise.
func credential() (*syscall.Credential, string, error) {
	if os.Geteuid() != 0 {
		return nil, "", nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, "", fmt.Errorf("running as root and no postgres user to run the server as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, u.Username, nil
}

// Start initializes and starts a private server. Stop it with Stop.
func Start(ctx context.Context) (*Server, error) {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, _, err := credential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "herald-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	ok := false
	defer func() {
		if !ok {
			_ = s.Stop() // best effort; the start error is what matters
		}
	}()
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(port), "-k", dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB")
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	s.cmd.Stdout, s.cmd.Stderr, s.cmd.Dir = logf, logf, dir
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.cmd.Wait() }()
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := s.waitReady(ctx, port); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// waitReady waits until the server accepts TCP connections and answers
// (pg_isready semantics, without needing the binary's libpq).
func (s *Server) waitReady(ctx context.Context, port int) error {
	for {
		if err := ping(ctx, s.URL); err == nil {
			return nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("postgres exited during start-up (%v); log:\n%s", err, s.log())
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready on port %d: %w; log:\n%s", port, ctx.Err(), s.log())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// log returns the tail of the server log.
func (s *Server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return strings.TrimSpace(string(b))
}

// Stop shuts the server down by PID (fast shutdown, then SIGKILL after
// 20 s) and removes its directory.
func (s *Server) Stop() error {
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown; it may be gone already
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			// Kill the whole process group: the postmaster and its children.
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
			err = fmt.Errorf("postgres pid %d did not stop in 20 s; killed", s.cmd.Process.Pid)
		}
	}
	if s.dir != "" {
		err = errors.Join(err, os.RemoveAll(s.dir))
	}
	return err
}
