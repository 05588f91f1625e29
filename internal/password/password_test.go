package password

import (
	"strings"
	"testing"
)

// cheap keeps the tests fast; the format is the same at any cost.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashAndVerify(t *testing.T) {
	h, err := Hash("correct horse", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not an argon2id PHC string with its parameters", h)
	}
	for pw, want := range map[string]bool{"correct horse": true, "correct horsE": false, "": false,
		strings.Repeat("x", 300): false} {
		ok, err := Verify(h, pw)
		if err != nil || ok != want {
			t.Errorf("Verify(%.10q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	h2, _ := Hash("correct horse", cheap)
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

// TestDefaultParamsInTheHash: the stored string carries the parameters it
// was made with, and verifying reads them from there.
func TestDefaultParamsInTheHash(t *testing.T) {
	h, err := Hash("pw", DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h, "$m=19456,t=2,p=1$") {
		t.Errorf("hash %q does not carry the default parameters", h)
	}
	if ok, _ := Verify(h, "pw"); !ok {
		t.Error("default-cost hash does not verify")
	}
}

func TestMalformed(t *testing.T) {
	good, _ := Hash("pw", cheap)
	parts := strings.Split(good, "$")
	for name, s := range map[string]string{
		"empty":       "",
		"bcrypt":      "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":     strings.Replace(good, "argon2id", "argon2i", 1),
		"version":     strings.Replace(good, "v=19", "v=16", 1),
		"huge memory": strings.Replace(good, "m=64", "m=99999999", 1),
		"zero time":   strings.Replace(good, "t=1", "t=0", 1),
		"bad salt":    strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
	} {
		if ok, err := Verify(s, "pw"); ok || err != ErrMalformed {
			t.Errorf("%s: Verify = %v, %v; want false, ErrMalformed", name, ok, err)
		}
	}
	if _, err := Hash(strings.Repeat("x", 257), cheap); err != ErrTooLong {
		t.Errorf("Hash of 257 bytes: %v, want ErrTooLong", err)
	}
}

func TestGenerate(t *testing.T) {
	a, b := Generate(), Generate()
	if len(a) != 20 || a == b || strings.Trim(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Errorf("Generate gave %q and %q", a, b)
	}
}
