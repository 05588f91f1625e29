// Package apikey makes and checks merchant API keys.
//
// A key reads "lp_<id>_<secret>". The id finds the stored row; the secret is
// kept only as a SHA-256 hash (it is 128 random bits, so a slow hash adds
// nothing) and compared in constant time.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strings"
)

const prefix = "lp_"

// ErrMalformed is returned by Parse for a string that is not a key.
var ErrMalformed = errors.New("malformed API key")

// Key is a freshly made API key.
type Key struct {
	ID     string
	Secret string
}

// New returns a random key.
func New() Key {
	return Key{ID: strings.ToLower(rand.Text()[:10]), Secret: rand.Text()}
}

// String is the key as handed to the merchant.
func (k Key) String() string { return prefix + k.ID + "_" + k.Secret }

// Hash is what the store keeps of the secret.
func (k Key) Hash() []byte {
	h := sha256.Sum256([]byte(k.Secret))
	return h[:]
}

// Parse splits a presented key into id and secret.
func Parse(s string) (Key, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	id, secret, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || len(id) != 10 || len(secret) < 16 || len(secret) > 64 {
		return Key{}, ErrMalformed
	}
	return Key{ID: id, Secret: secret}, nil
}

// Matches reports, in constant time, whether k's secret hashes to hash.
func (k Key) Matches(hash []byte) bool {
	return subtle.ConstantTimeCompare(k.Hash(), hash) == 1
}
