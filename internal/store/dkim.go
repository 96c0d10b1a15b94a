package store

import (
	"context"
	"time"
)

// DKIMKey is the signing key of one mail domain: outgoing list mail of
// the domain is signed with d=Domain, s=Selector.
type DKIMKey struct {
	Domain   string
	Selector string
	// Algorithm is "rsa" or "ed25519".
	Algorithm string
	// PrivateKey is the PKCS #8 key, PEM encoded.
	PrivateKey string
	Created    time.Time
}

// DKIMKeys stores DKIM signing keys, one per domain.
type DKIMKeys interface {
	// PutDKIMKey stores k as the domain's key, replacing an older one (key
	// rotation); a zero k.Created becomes now. ErrNotFound if the domain
	// does not exist.
	PutDKIMKey(ctx context.Context, k *DKIMKey) error
	// GetDKIMKey returns the domain's key; ErrNotFound if it has none.
	GetDKIMKey(ctx context.Context, domain string) (*DKIMKey, error)
	// DeleteDKIMKey removes the domain's key; ErrNotFound if it has none.
	DeleteDKIMKey(ctx context.Context, domain string) error
}
