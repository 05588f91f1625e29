package passcheck

import (
	"testing"
	"time"
)

// FuzzCheck feeds Check mutations of valid packages: it must never panic,
// and must always explain a failure.
func FuzzCheck(f *testing.F) {
	a, _ := chains(f)
	valid := newBuild(f)
	f.Add(valid.bytes(f))
	crafted := newBuild(f)
	crafted.sign = func(m []byte) []byte { return craft{chain: a, ski: true}.sign(f, m) }
	f.Add(crafted.bytes(f))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	now := time.Now()
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := Check(data, Options{Roots: a.roots, Now: now, PassTypeID: testPassTypeID, TeamID: testTeamID})
		for _, p := range rep.Problems {
			if p.Rule == "" || p.Message == "" {
				t.Fatalf("problem without rule or message: %+v", p)
			}
		}
	})
}

// FuzzSignature aims the fuzzer at the hand-written CMS decoder and the
// signature checks, which a whole-package mutation rarely reaches.
func FuzzSignature(f *testing.F) {
	a, _ := chains(f)
	manifest := []byte(`{"icon.png":"0123456789abcdef0123456789abcdef01234567"}`)
	f.Add(smallstepSign(f, a, manifest, true))
	f.Add(craft{chain: a, ski: true, unsorted: true, generalizedTime: true}.sign(f, manifest))
	f.Add(craft{chain: a, noAttrs: true, attached: true}.sign(f, manifest))
	now := time.Now()
	f.Fuzz(func(t *testing.T, sig []byte) {
		c := &checker{opts: Options{Roots: a.roots, Now: now}, files: map[string][]byte{manifestFile: manifest, signatureFile: sig}}
		c.checkSignature()
	})
}

// FuzzParseStrings checks that the .strings parser ends on any input.
func FuzzParseStrings(f *testing.F) {
	f.Add([]byte("/* c */ \"a\" = \"b\"; // x\nc = \"\\U00e9\\101\\\"\";"))
	f.Add(utf16LE("\"POINTS\" = \"Баллы\";"))
	f.Add(utf16BE("\"k\";"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, _, err := parseStrings(data)
		if err == nil && keys == nil {
			t.Fatal("no error and no keys")
		}
	})
}
