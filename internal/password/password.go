// Package password hashes the passwords of merchant users with argon2id and
// checks them. A hash is stored as a PHC string,
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>", so its parameters travel
// with it: raising them later leaves old hashes checkable.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultParams are OWASP's recommendation for argon2id: 19 MiB, two
// passes, one thread (about 20 ms on one core).
func DefaultParams() Params { return Params{Memory: 19 * 1024, Time: 2, Threads: 1} }

const (
	saltLen = 16
	keyLen  = 32
	// maxLen bounds what is hashed: a form cannot make the server hash a
	// megabyte. 256 bytes is more than any passphrase.
	maxLen = 256
)

// ErrMalformed is returned by Verify for a stored hash it cannot read.
var ErrMalformed = errors.New("password: malformed hash")

// ErrTooLong is returned by Hash for a password over 256 bytes.
var ErrTooLong = errors.New("password: longer than 256 bytes")

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of pw under p with a fresh random salt.
func Hash(pw string, p Params) (string, error) {
	if len(pw) > maxLen {
		return "", ErrTooLong
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pw matches the stored hash, comparing in
// constant time. A password over the length Hash accepts never matches.
func Verify(stored, pw string) (bool, error) {
	p, salt, key, err := parse(stored)
	if err != nil {
		return false, err
	}
	if len(pw) > maxLen {
		return false, nil
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// maxParams bounds what a stored hash may ask for, so a tampered row
// cannot make a login allocate gigabytes.
var maxParams = Params{Memory: 1 << 20, Time: 16, Threads: 16}

func parse(s string) (Params, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformed
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return Params{}, nil, nil, ErrMalformed
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Memory == 0 || p.Time == 0 || p.Threads == 0 ||
		p.Memory > maxParams.Memory || p.Time > maxParams.Time || p.Threads > maxParams.Threads {
		return Params{}, nil, nil, ErrMalformed
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 {
		return Params{}, nil, nil, ErrMalformed
	}
	return p, salt, key, nil
}

// Generate returns a new random password of 20 characters from an
// alphabet without look-alikes (base32: A–Z, 2–7), about 100 bits.
func Generate() string {
	return rand.Text()[:20]
}
