package dkim

import (
	"bytes"
	"strings"
	"testing"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"herald/internal/mime"
)

func TestGenerateRecordSignVerify(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, alg := range []string{RSA, Ed25519} {
		t.Run(alg, func(t *testing.T) {
			k, err := Generate("lists.example.org", "", alg, 1024, now)
			if err != nil {
				t.Fatal(err)
			}
			if k.Selector != "herald202606" || RecordName(k) != "herald202606._domainkey.lists.example.org" {
				t.Errorf("selector %q, name %q", k.Selector, RecordName(k))
			}
			val, err := RecordValue(k)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(val, "v=DKIM1; k="+alg+"; p=") {
				t.Errorf("record value %q", val)
			}
			rec, _ := Record(k)
			for _, part := range strings.Split(rec, `"`)[1:] {
				if len(part) > 255 {
					t.Errorf("TXT string of %d bytes", len(part))
				}
			}
			s, err := NewSigner(k)
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("From: a@example.com\nSubject: hi\nList-Id: <dev.lists.example.org>\n\nbody\n")
			sig, err := s.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			signed := append(sig, mime.CRLF(msg)...)
			vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(signed), &msgdkim.VerifyOptions{
				LookupTXT: func(name string) ([]string, error) {
					if name != RecordName(k) {
						t.Errorf("looked up %s", name)
					}
					return []string{val}, nil
				}})
			if err != nil || len(vs) != 1 || vs[0].Err != nil {
				t.Fatalf("verify: %v %+v", err, vs)
			}
		})
	}
}

func TestGenerateRejects(t *testing.T) {
	if _, err := Generate("x.example", "", "dsa", 0, time.Now()); err == nil {
		t.Error("unknown algorithm accepted")
	}
	if _, err := Generate("x.example", "", RSA, 512, time.Now()); err == nil {
		t.Error("512-bit RSA accepted")
	}
}
