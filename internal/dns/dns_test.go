package dns_test

import (
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"herald/internal/dns"
	"herald/internal/testutil/dnsstub"
)

func startStub(t *testing.T) *dnsstub.Server {
	t.Helper()
	s, err := dnsstub.Start()
	if err != nil {
		t.Fatalf("dns stub: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestLookupAndCache(t *testing.T) {
	stub := startStub(t)
	stub.SetTXT("_dmarc.example.com", "v=DMARC1; p=reject", "other")
	stub.SetFail("_dmarc.broken.example", true)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := dns.New(dns.Options{Server: stub.Addr(), TTL: time.Minute, NegativeTTL: 30 * time.Second,
		Timeout: 2 * time.Second, Now: func() time.Time { return now }})
	ctx := t.Context()

	for range 3 {
		got, err := c.LookupTXT(ctx, "_dmarc.EXAMPLE.com")
		if err != nil || !slices.Equal(got, []string{"v=DMARC1; p=reject", "other"}) {
			t.Fatalf("LookupTXT = %q, %v", got, err)
		}
	}
	if n := stub.Queries("_dmarc.example.com"); n != 1 {
		t.Errorf("%d queries for a cached name, want 1", n)
	}
	now = now.Add(2 * time.Minute)
	if _, err := c.LookupTXT(ctx, "_dmarc.example.com"); err != nil {
		t.Fatal(err)
	}
	if n := stub.Queries("_dmarc.example.com"); n != 2 {
		t.Errorf("%d queries after the TTL, want 2", n)
	}

	for range 2 {
		_, err := c.LookupTXT(ctx, "_dmarc.nowhere.example")
		var de *net.DNSError
		if !errors.As(err, &de) || !de.IsNotFound {
			t.Fatalf("absent name: %v, want a not-found DNSError", err)
		}
	}
	if n := stub.Queries("_dmarc.nowhere.example"); n != 1 {
		t.Errorf("negative answer not cached: %d queries", n)
	}

	for range 2 {
		_, err := c.LookupTXT(ctx, "_dmarc.broken.example")
		var de *net.DNSError
		if !errors.As(err, &de) || de.IsNotFound {
			t.Fatalf("SERVFAIL: %v, want a DNSError that is not not-found", err)
		}
	}
	if n := stub.Queries("_dmarc.broken.example"); n < 2 {
		t.Errorf("temporary failure cached: %d queries", n)
	}
}

func TestCacheBounded(t *testing.T) {
	stub := startStub(t)
	for _, n := range []string{"a.example", "b.example", "c.example", "d.example"} {
		stub.SetTXT(n, "x")
	}
	c := dns.New(dns.Options{Server: stub.Addr(), MaxEntries: 2})
	for _, n := range []string{"a.example", "b.example", "c.example", "d.example", "a.example"} {
		if _, err := c.LookupTXT(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	if q := stub.Queries("a.example"); q != 2 {
		t.Errorf("a.example asked %d times; a bounded cache must have dropped it", q)
	}
}

func TestServerDown(t *testing.T) {
	ln, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.LocalAddr().String()
	ln.Close() // nothing answers there now
	c := dns.New(dns.Options{Server: addr, Timeout: 500 * time.Millisecond})
	start := time.Now()
	_, err = c.LookupTXT(t.Context(), "_dmarc.example.com")
	var de *net.DNSError
	if !errors.As(err, &de) || de.IsNotFound {
		t.Fatalf("dead server: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("lookup against a dead server took %v", d)
	}
}
