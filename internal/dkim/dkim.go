// Package dkim creates DKIM keys, renders their DNS records and signs
// outgoing list mail (RFC 6376) with github.com/emersion/go-msgauth.
//
// Invariants: signing never changes the message; Sign returns only the
// DKIM-Signature field to put in front of it, so one signed copy can be
// shared by every transaction. The signature always covers the fields of
// SignedFields, present or not: an absent field is signed as empty, so
// nobody can add it later (RFC 6376 §5.4.2) — in particular RFC 8058 §4
// requires List-Unsubscribe and List-Unsubscribe-Post to be covered.
package dkim

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"herald/internal/mime"
	"herald/internal/store"

	msgdkim "github.com/emersion/go-msgauth/dkim"
)

// SignedFields are the header fields every signature covers.
var SignedFields = []string{
	"From", "Subject", "Date", "Message-ID", "To", "Cc", "Reply-To", "In-Reply-To", "References",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Post", "List-Help",
	"List-Subscribe", "List-Archive", "List-Owner", "Sender",
}

// Algorithms.
const (
	RSA     = "rsa"
	Ed25519 = "ed25519"
)

// Generate makes a new key for domain: RSA with bits (default 2048) or
// Ed25519. The selector defaults to "herald" plus the year and month, so
// a rotated key gets a new DNS name.
func Generate(domain, selector, algorithm string, bits int, now time.Time) (*store.DKIMKey, error) {
	if selector == "" {
		selector = "herald" + now.UTC().Format("200601")
	}
	var priv crypto.Signer
	switch algorithm {
	case RSA, "":
		algorithm = RSA
		if bits == 0 {
			bits = 2048
		}
		if bits < 1024 || bits > 8192 {
			return nil, fmt.Errorf("dkim keygen: %d bits: RSA keys must have 1024 to 8192 bits", bits)
		}
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, fmt.Errorf("dkim keygen: %w", err)
		}
		priv = k
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("dkim keygen: %w", err)
		}
		priv = k
	default:
		return nil, fmt.Errorf("dkim keygen: unknown algorithm %q (rsa or ed25519)", algorithm)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("dkim keygen: %w", err)
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return &store.DKIMKey{Domain: domain, Selector: selector, Algorithm: algorithm, PrivateKey: string(p), Created: now}, nil
}

// parse decodes the key's PEM.
func parse(k *store.DKIMKey) (crypto.Signer, error) {
	b, _ := pem.Decode([]byte(k.PrivateKey))
	if b == nil {
		return nil, fmt.Errorf("dkim key of %s: no PEM block", k.Domain)
	}
	key, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("dkim key of %s: %w", k.Domain, err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("dkim key of %s: %T cannot sign", k.Domain, key)
	}
	switch s.Public().(type) {
	case *rsa.PublicKey, ed25519.PublicKey:
		return s, nil
	}
	return nil, fmt.Errorf("dkim key of %s: unsupported key type %T", k.Domain, key)
}

// RecordName is the DNS name of the key's TXT record.
func RecordName(k *store.DKIMKey) string { return k.Selector + "._domainkey." + k.Domain }

// RecordValue is the TXT record's text: "v=DKIM1; k=rsa; p=…".
func RecordValue(k *store.DKIMKey) (string, error) {
	s, err := parse(k)
	if err != nil {
		return "", err
	}
	var pub []byte
	switch p := s.Public().(type) {
	case *rsa.PublicKey:
		if pub, err = x509.MarshalPKIXPublicKey(p); err != nil {
			return "", fmt.Errorf("dkim key of %s: %w", k.Domain, err)
		}
	case ed25519.PublicKey:
		pub = p // RFC 8463 §4.2: the raw 32-byte key
	}
	return "v=DKIM1; k=" + k.Algorithm + "; p=" + base64.StdEncoding.EncodeToString(pub), nil
}

// Record renders the zone-file line, the text split into strings of at
// most 255 bytes as a TXT record needs.
func Record(k *store.DKIMKey) (string, error) {
	v, err := RecordValue(k)
	if err != nil {
		return "", err
	}
	var parts []string
	for len(v) > 255 {
		parts = append(parts, `"`+v[:255]+`"`)
		v = v[255:]
	}
	parts = append(parts, `"`+v+`"`)
	return RecordName(k) + ". IN TXT ( " + strings.Join(parts, " ") + " )", nil
}

// Signer signs messages with one domain's key.
type Signer struct {
	key    *store.DKIMKey
	signer crypto.Signer
}

// NewSigner prepares k for signing.
func NewSigner(k *store.DKIMKey) (*Signer, error) {
	s, err := parse(k)
	if err != nil {
		return nil, err
	}
	return &Signer{key: k, signer: s}, nil
}

// Selector is the key's selector.
func (s *Signer) Selector() string { return s.key.Selector }

// Sign returns the DKIM-Signature field (with its CRLF) for msg, using
// relaxed/relaxed canonicalization and SHA-256. msg may use LF or CRLF
// line ends; it must be sent with CRLF, as the wire form does.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	msg = mime.CRLF(msg)
	sg, err := msgdkim.NewSigner(&msgdkim.SignOptions{
		Domain: s.key.Domain, Selector: s.key.Selector, Signer: s.signer, Hash: crypto.SHA256,
		HeaderCanonicalization: msgdkim.CanonicalizationRelaxed, BodyCanonicalization: msgdkim.CanonicalizationRelaxed,
		HeaderKeys: SignedFields,
	})
	if err != nil {
		return nil, fmt.Errorf("dkim sign for %s: %w", s.key.Domain, err)
	}
	_, werr := sg.Write(msg)
	if err := errors.Join(werr, sg.Close()); err != nil {
		return nil, fmt.Errorf("dkim sign for %s: %w", s.key.Domain, err)
	}
	return []byte(sg.Signature()), nil
}
