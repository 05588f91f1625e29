package credential

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/password"
)

func TestSealOpensOnlyForItsOwnerAndKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	box, err := NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed := box.Seal("s3cret-пароль", "prg_a")
	if strings.Contains(sealed, "s3cret") || !strings.HasPrefix(sealed, "v1:") {
		t.Fatalf("sealed value %q shows the secret or lacks its version", sealed)
	}
	if got, err := box.Open(sealed, "prg_a"); err != nil || got != "s3cret-пароль" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if sealed == box.Seal("s3cret-пароль", "prg_a") {
		t.Error("two seals of one secret are equal: the nonce is not random")
	}
	if _, err := box.Open(sealed, "prg_b"); err != ErrOpen {
		t.Errorf("opened for another owner: %v", err)
	}
	other, _ := NewBox(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(sealed, "prg_a"); err != ErrOpen {
		t.Errorf("opened with another key: %v", err)
	}
	for _, bad := range []string{"", "v1:", "v1:!!!", "v2:" + sealed[3:], sealed[:len(sealed)-2]} {
		if _, err := box.Open(bad, "prg_a"); err != ErrOpen {
			t.Errorf("Open(%q) = %v, want ErrOpen", bad, err)
		}
	}
	if _, err := NewBox(key[:16]); err == nil {
		t.Error("a 16-byte key was taken")
	}
}

func TestCheckLogin(t *testing.T) {
	h, err := password.Hash("correct horse battery", password.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if !CheckLogin("shop", h, "shop", "correct horse battery") {
		t.Error("the right login was refused")
	}
	for _, c := range [][2]string{{"shop2", "correct horse battery"}, {"shop", "wrong"}, {"", "correct horse battery"},
		{"shop", ""}} {
		if CheckLogin("shop", h, c[0], c[1]) {
			t.Errorf("CheckLogin took %q/%q", c[0], c[1])
		}
	}
	if CheckLogin("", "", "", "") || CheckLogin("shop", "", "shop", "loyalpass: no such login") {
		t.Error("nothing stored matched")
	}
	if CheckLogin("shop", "argon2id$broken", "shop", "x") {
		t.Error("a malformed hash matched")
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "koshelek.key")
	if _, _, err := LoadKey(path, false); err == nil {
		t.Fatal("a missing key file was not an error without create")
	}
	key, created, err := LoadKey(path, true)
	if err != nil || !created || len(key) != KeySize {
		t.Fatalf("LoadKey create = %d bytes, %v, %v", len(key), created, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	again, created, err := LoadKey(path, true)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Fatalf("second LoadKey = %v, %v; want the same key", created, err)
	}
	raw := filepath.Join(dir, "raw.key")
	os.WriteFile(raw, key, 0o600)
	hexFile := filepath.Join(dir, "hex.key")
	os.WriteFile(hexFile, []byte(strings.ToUpper(hexString(key))+"\n"), 0o600)
	for _, p := range []string{raw, hexFile} {
		if got, _, err := LoadKey(p, false); err != nil || !bytes.Equal(got, key) {
			t.Errorf("LoadKey(%s) = %v", filepath.Base(p), err)
		}
	}
	short := filepath.Join(dir, "short.key")
	os.WriteFile(short, []byte(base64.StdEncoding.EncodeToString(key[:20])), 0o600)
	if _, _, err := LoadKey(short, false); err == nil {
		t.Error("a 20-byte key was taken")
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
