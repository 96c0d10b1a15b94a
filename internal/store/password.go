package store

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// MinPasswordLength is the shortest moderator password Set accepts.
const MinPasswordLength = 8

// argon2id parameters for new hashes (OWASP's recommendation: 19 MiB,
// two passes, one lane); verification reads them from the hash.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

var b64 = base64.RawStdEncoding

// HashPassword returns pw's argon2id hash in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go ≥ 1.24)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// IsPasswordHash reports whether s looks like a hash HashPassword made.
func IsPasswordHash(s string) bool {
	_, _, _, ok := parsePHC(s)
	return ok
}

type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
}

// parsePHC splits an argon2id PHC string; parameters beyond sane bounds
// (a hostile stored value could ask for terabytes) are refused.
func parsePHC(s string) (argonParams, []byte, []byte, bool) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return argonParams{}, nil, nil, false
	}
	var p argonParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return argonParams{}, nil, nil, false
	}
	if p.memory < 8 || p.memory > 1<<20 || p.time < 1 || p.time > 10 || p.threads < 1 || p.threads > 16 {
		return argonParams{}, nil, nil, false
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return argonParams{}, nil, nil, false
	}
	return p, salt, key, true
}

// CheckPassword reports whether pw matches hash (from HashPassword), in
// time independent of where they differ. A malformed hash matches nothing.
func CheckPassword(hash, pw string) bool {
	p, salt, key, ok := parsePHC(hash)
	if !ok || pw == "" {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}
