// Package credential keeps the credentials merchants hand loyalpass for
// outside services. A password loyalpass only checks (the login a partner
// uses to call us) is stored as an argon2id hash (internal/password) and
// checked with its login by CheckLogin; a password loyalpass must send
// (the login it uses to call a partner) is sealed with AES-256-GCM under
// the server's key, bound to what it belongs to, and opened only when it
// is sent. Neither is ever returned by the API.
package credential

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/loyalpass/loyalpass/internal/password"
)

// KeySize is the length of a sealing key: AES-256.
const KeySize = 32

// Box seals and opens secrets with one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// NewBox returns a Box for a KeySize-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("credential key must be %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// sealedPrefix starts every sealed value, so a later key or cipher can be
// told apart.
const sealedPrefix = "v1:"

// ErrOpen is returned when a sealed value does not open: another key, a
// value sealed for something else, or damage.
var ErrOpen = errors.New("the sealed credential does not open with this server's key")

// Seal encrypts secret for owner (a program id, say): the value opens
// only with the same key and the same owner, so a sealed password copied
// to another row does not open there.
func (b *Box) Seal(secret, owner string) string {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("credential: no randomness: " + err.Error()) // crypto/rand never fails on supported systems
	}
	sealed := b.aead.Seal(nonce, nonce, []byte(secret), []byte(owner))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(sealed)
}

// Open decrypts a value Seal made for owner.
func (b *Box) Open(sealed, owner string) (string, error) {
	raw, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", ErrOpen
	}
	data, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(data) < b.aead.NonceSize() {
		return "", ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, data[:n], data[n:], []byte(owner))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

// Derive returns a key of its own for one purpose, made from the server's
// key (HMAC-SHA256 of the purpose), so one key file serves several uses
// without one use's output revealing another's.
func Derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("loyalpass " + purpose))
	return m.Sum(nil)
}

// LoadKey reads a key file: KeySize raw bytes, or their base64 or hex on
// one line. If the file does not exist and create is set, a new random
// key is written there (mode 0600) and created is true.
func LoadKey(path string, create bool) (key []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		key = make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, false, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, fmt.Errorf("create key directory: %w", err)
		}
		text := base64.StdEncoding.EncodeToString(key) + "\n"
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("create key file: %w", err)
		}
		if _, err := f.WriteString(text); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("write key file: %w", err)
		}
		return key, true, f.Close()
	}
	if err != nil {
		return nil, false, fmt.Errorf("read key file: %w", err)
	}
	if len(b) == KeySize {
		return b, false, nil
	}
	text := strings.TrimSpace(string(b))
	if k, err := base64.StdEncoding.DecodeString(text); err == nil && len(k) == KeySize {
		return k, false, nil
	}
	if k, err := hexDecode(text); err == nil && len(k) == KeySize {
		return k, false, nil
	}
	return nil, false, fmt.Errorf("key file %s must hold %d bytes, raw, base64 or hex", path, KeySize)
}

func hexDecode(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, errors.New("odd length")
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		out[i] = byte(v)
	}
	return out, nil
}

// dummyHash is checked against when there is no stored hash, so an
// unknown login costs as much time as a wrong password.
var dummyHash, _ = password.Hash("loyalpass: no such login", password.DefaultParams())

// CheckLogin compares a presented login and password with the stored
// login and password hash (internal/password) in constant time; with
// nothing stored it still spends the time of one check and reports false.
func CheckLogin(storedLogin, storedHash, login, pw string) bool {
	loginOK := subtle.ConstantTimeCompare([]byte(storedLogin), []byte(login)) == 1 && storedLogin != ""
	hash := storedHash
	if hash == "" {
		hash = dummyHash
	}
	passOK, err := password.Verify(hash, pw)
	return loginOK && passOK && err == nil && storedHash != ""
}
