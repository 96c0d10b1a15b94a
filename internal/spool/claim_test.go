package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

var errCrash = errors.New("simulated crash")

func TestClaimsExclusiveAcrossInstances(t *testing.T) {
	const n = 200
	dir := t.TempDir()
	a := openTest(t, testOptions(dir))
	var want []string
	for i := range n / 2 {
		want = append(want, mustEnqueue(t, a, newItem(In, fmt.Sprint(i))))
	}
	b := openTest(t, testOptions(dir)) // knows the first half from its scan
	for i := n / 2; i < n; i++ {
		want = append(want, mustEnqueue(t, a, newItem(In, fmt.Sprint(i)))) // b hears by kick
	}
	waitFor(t, func() bool { return b.Counts()[In] == n })
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for _, s := range []*Spool{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, ok, err := s.TryClaim(In)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				got = append(got, c.ID)
				mu.Unlock()
				if err := c.Done(context.Background()); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("claimed %d entries (%d distinct wanted); duplicates or losses", len(got), len(want))
	}
	t.Logf("claim races lost: a=%d b=%d", a.Metrics().ClaimRaces, b.Metrics().ClaimRaces)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCrossInstanceWakeup(t *testing.T) {
	dir := t.TempDir()
	serve := openTest(t, testOptions(dir))
	got := make(chan *Claim, 1)
	go func() {
		c, err := serve.Claim(context.Background(), In)
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	time.Sleep(20 * time.Millisecond) // let the claimer block
	// A short-lived CLI process: open, enqueue, close.
	cli := openTest(t, testOptions(dir))
	start := time.Now()
	id := mustEnqueue(t, cli, newItem(In, "approved"))
	if err := cli.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-got:
		if c == nil || c.ID != id {
			t.Fatalf("woken with %v", c)
		}
		t.Logf("woken %v after the enqueue returned", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("claimer in the other instance not woken")
	}
}

func TestLiveOwnerClaimsKept(t *testing.T) {
	dir := t.TempDir()
	a := openTest(t, testOptions(dir))
	mustEnqueue(t, a, newItem(In, "x"))
	c := mustClaim(t, a, In, time.Second)
	b := openTest(t, testOptions(dir))
	assertEmpty(t, b, In)
	if b.Metrics().Recoveries != 0 {
		t.Fatal("recovered a live owner's claim")
	}
	if err := c.Done(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRecoverDeadOwner(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.MaxAttempts = 2
	s := openTest(t, opts)
	id := mustEnqueue(t, s, newItem(Out, "poison"))
	for round := 1; round <= 3; round++ {
		c := mustClaim(t, s, Out, time.Second)
		if c.ID != id || c.Envelope.Attempts != round-1 {
			t.Fatalf("round %d: claimed %s attempts %d", round, c.ID, c.Envelope.Attempts)
		}
		s.abandon() // the process dies holding the claim
		s = openTest(t, opts)
		if got := s.Metrics().Recoveries; got != 1 {
			t.Fatalf("round %d: %d recoveries", round, got)
		}
	}
	assertEmpty(t, s, Out)
	c := mustClaim(t, s, Shunt, time.Second)
	env := c.Envelope
	if c.ID != id || env.Origin != Out || env.LastError != "too many recoveries" || env.Attempts != 3 {
		t.Fatalf("shunted entry %+v", env)
	}
	if n := countFiles(t, filepath.Join(dir, "active")); n != 1 {
		t.Errorf("active holds %d files, want only the shunt claim", n)
	}
	if n := countFiles(t, filepath.Join(dir, "locks")); n != 1 {
		t.Errorf("locks holds %d files, want 1", n)
	}
}

func TestForwardExactlyOnce(t *testing.T) {
	cases := []struct {
		name        string
		dropChild   bool // the crash came before the family was durable
		wantParent  bool // parent processed again
		wantOutSize int
	}{
		{"family durable", false, false, 2},
		{"family partial", true, true, 0},
	}
	for _, journal := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/journal=%v", tc.name, journal), func(t *testing.T) {
				forwardCrash(t, journal, tc.dropChild, tc.wantParent, tc.wantOutSize)
			})
		}
	}
}

// forwardCrash crashes a Forward once its new entries are placed and
// before it is committed (the group commit's durable point, or the
// journal round), then checks what Open makes of it.
func forwardCrash(t *testing.T, journal, dropChild, wantParent bool, wantOutSize int) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.NoJournal = !journal
	s := openTest(t, opts)
	parent := mustEnqueue(t, s, newItem(In, "post"))
	c := mustClaim(t, s, In, time.Second)
	s.testingAfterSync = func(o *op) error {
		if len(o.after) > 0 {
			return errCrash
		}
		return nil
	}
	s.testingBeforeRound = func() error { return errCrash }
	_, err := c.Forward(ctx, newItem(Out, "copy 1"), newItem(Out, "copy 2"))
	if !errors.Is(err, errCrash) {
		t.Fatalf("forward: %v", err)
	}
	s.abandon()
	if dropChild {
		var child string
		_ = filepath.WalkDir(filepath.Join(dir, Out), func(p string, de os.DirEntry, err error) error {
			if err == nil && !de.IsDir() {
				child = p
			}
			return nil
		})
		if err := os.Remove(child); err != nil {
			t.Fatal(err)
		}
	}
	s2 := openTest(t, opts)
	if got := s2.Counts()[Out]; got != wantOutSize {
		t.Fatalf("out holds %d, want %d", got, wantOutSize)
	}
	if m := s2.Metrics(); m.Restored != 0 {
		t.Fatalf("restored %d from the journal", m.Restored)
	}
	if wantParent {
		c := mustClaim(t, s2, In, time.Second)
		if c.ID != parent || c.Envelope.Attempts != 1 {
			t.Fatalf("parent claimed as %s attempts %d", c.ID, c.Envelope.Attempts)
		}
		return
	}
	assertEmpty(t, s2, In)
	if _, err := s2.Get(parent); !errors.Is(err, ErrNotFound) {
		t.Fatalf("parent still there: %v", err)
	}
	for range 2 {
		c := mustClaim(t, s2, Out, time.Second)
		if c.Parent != parent {
			t.Errorf("child %s has parent %q", c.ID, c.Parent)
		}
	}
}

func TestForward(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, testOptions(t.TempDir()))
	mustEnqueue(t, s, newItem(In, "post"))
	c := mustClaim(t, s, In, time.Second)
	ids, err := c.Forward(ctx, newItem(Out, "a"), newItem(Virgin, "b"))
	if err != nil || len(ids) != 2 {
		t.Fatalf("forward: %v %v", ids, err)
	}
	o := mustClaim(t, s, Out, time.Second)
	if o.ID != ids[0] || o.Parent != c.ID || !o.Envelope.Arrived.Equal(c.Envelope.Arrived) {
		t.Fatalf("child %+v", o.Entry)
	}
	if _, err := o.Forward(ctx); err != nil { // to nothing: consumed
		t.Fatal(err)
	}
	if _, err := s.Get(o.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("consumed entry still there: %v", err)
	}
	if s.Counts()[Virgin] != 1 {
		t.Fatal("second child missing")
	}
}

func TestRetryTimerOrdering(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, testOptions(t.TempDir()))
	delays := []time.Duration{300 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
	due := map[string]time.Time{}
	// Due times from one base, well ahead: on a loaded disk the loop may
	// take longer than the delays' differences.
	base := time.Now().Add(500 * time.Millisecond)
	for i, d := range delays {
		mustEnqueue(t, s, newItem(Out, fmt.Sprint(i)))
		c := mustClaim(t, s, Out, time.Second)
		at := base.Add(d)
		if err := c.Retry(ctx, at, fmt.Errorf("451 busy %d", i)); err != nil {
			t.Fatal(err)
		}
		due[c.ID] = at
	}
	assertEmpty(t, s, Retry) // none due yet
	var order []string
	for range delays {
		c := mustClaim(t, s, Retry, 2*time.Second)
		if now := time.Now(); now.Before(due[c.ID]) {
			t.Errorf("%s claimed %v early", c.ID, due[c.ID].Sub(now))
		}
		env := c.Envelope
		if env.Origin != Out || env.Attempts != 1 || env.LastError == "" || env.NotBefore.Before(due[c.ID]) {
			t.Errorf("retry envelope %+v", env)
		}
		order = append(order, string(c.Message))
		if err := c.Done(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"1", "2", "0"}; !slices.Equal(order, want) {
		t.Fatalf("retry order %v, want %v", order, want)
	}
}

func TestRetryWakesOnEarlierEntry(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, testOptions(t.TempDir()))
	mustEnqueue(t, s, newItem(Out, "late"))
	c := mustClaim(t, s, Out, time.Second)
	if err := c.Retry(ctx, time.Now().Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		c, err := s.Claim(ctx, Retry)
		if err != nil {
			t.Error(err)
			return
		}
		got <- string(c.Message)
	}()
	time.Sleep(20 * time.Millisecond)
	// Another instance schedules an entry due now.
	other := openTest(t, testOptions(s.dir))
	mustEnqueue(t, other, Item{Queue: Retry, Envelope: Envelope{NotBefore: time.Now()}, Message: []byte("early")})
	select {
	case m := <-got:
		if m != "early" {
			t.Fatalf("claimed %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("retry claimer not woken by an earlier entry")
	}
}

func TestShuntUnshunt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	serve := openTest(t, testOptions(dir))
	id := mustEnqueue(t, serve, newItem(Bounces, "dsn"))
	c := mustClaim(t, serve, Bounces, time.Second)
	if err := c.Shunt(ctx, errors.New("parser panic")); err != nil {
		t.Fatal(err)
	}
	list, err := serve.List(Shunt)
	if err != nil || len(list) != 1 {
		t.Fatalf("shunt list %v %v", list, err)
	}
	if env := list[0].Envelope; env.Origin != Bounces || env.LastError != "parser panic" {
		t.Fatalf("shunted %+v", env)
	}
	got := make(chan *Claim, 1)
	go func() {
		c, err := serve.Claim(ctx, Bounces)
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	cli := openTest(t, testOptions(dir))
	if err := cli.Unshunt(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := cli.Unshunt(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second unshunt: %v", err)
	}
	select {
	case c := <-got:
		if c.ID != id || c.Envelope.Attempts != 0 || c.Envelope.LastError != "" {
			t.Fatalf("unshunted %+v", c.Envelope)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("unshunt in another instance did not wake the claimer")
	}
	if serve.Counts()[Shunt] != 0 {
		t.Errorf("shunt count %d after unshunt", serve.Counts()[Shunt])
	}
}

func TestRetryCrashBetweenMoveAndRemove(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, testOptions(dir))
	id := mustEnqueue(t, s, newItem(Out, "m"))
	c := mustClaim(t, s, Out, time.Second)
	s.testingAfterSync = func(*op) error { return errCrash }
	if err := c.Retry(ctx, time.Now(), errors.New("later")); !errors.Is(err, errCrash) {
		t.Fatal(err)
	}
	s.abandon()
	s2 := openTest(t, testOptions(dir))
	if s2.Metrics().Recoveries != 0 {
		t.Fatal("superseded claim was recovered: the entry would be processed twice")
	}
	r := mustClaim(t, s2, Retry, time.Second)
	if r.ID != id || r.Envelope.Attempts != 1 {
		t.Fatalf("retry entry %s attempts %d", r.ID, r.Envelope.Attempts)
	}
	assertEmpty(t, s2, Out)
}

func TestClaimCancel(t *testing.T) {
	s := openTest(t, testOptions(t.TempDir()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Claim(ctx, In); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("claim: %v", err)
	}
	done := make(chan error)
	go func() {
		_, err := s.Claim(context.Background(), In)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	_ = s.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("claim across Close: %v", err)
	}
}
