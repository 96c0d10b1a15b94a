package membership

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"net/url"
	"strings"

	"herald/internal/store"
)

// TokenLen is the length of a confirmation token: 160 bits in base32.
const TokenLen = 32

var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewToken returns a fresh confirmation token: 20 bytes from crypto/rand
// in lower-case base32, safe in a local part whose case an MTA may fold.
func NewToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return tokenEncoding.EncodeToString(b)
}

// ValidToken reports whether s looks like a token (any case).
func ValidToken(s string) bool {
	if len(s) != TokenLen {
		return false
	}
	for _, r := range strings.ToLower(s) {
		if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}

// HashToken is what the store keeps of a token: SHA-256 in hex of its
// lower-case form.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(token)))
	return hex.EncodeToString(sum[:])
}

// OneClickURL is a member's RFC 8058 unsubscribe URL: POST to it
// unsubscribes, GET shows a page with a button. Token is store.Member.Token.
func OneClickURL(baseURL, token string) string {
	return strings.TrimRight(baseURL, "/") + "/u/" + url.PathEscape(token)
}

// UnsubscribePageURL is the list's generic unsubscribe page, for posts
// that are not personalized: a member enters an address and gets a
// confirmation mail.
func UnsubscribePageURL(baseURL string, l *store.List) string {
	return strings.TrimRight(baseURL, "/") + "/lists/" + url.PathEscape(l.Address()) + "/unsubscribe"
}

// ConfirmURL is the web page that confirms a pending request.
func ConfirmURL(baseURL, token string) string {
	return strings.TrimRight(baseURL, "/") + "/confirm/" + url.PathEscape(token)
}
