package passcheck

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

func TestSignatureRules(t *testing.T) {
	a, b := chains(t)
	withCraft := func(cr craft) func(*testing.T, *build, *Options) {
		return func(t *testing.T, bl *build, o *Options) {
			if cr.chain == nil {
				cr.chain = a
			}
			bl.sign = func(m []byte) []byte { return cr.sign(t, m) }
		}
	}
	runRuleCases(t, []ruleCase{
		{name: "hand-made signature is valid", want: nil, break_: withCraft(craft{})},
		{name: "SHA-1 digest is valid", want: nil, break_: withCraft(craft{hash: crypto.SHA1})},
		{name: "subject key identifier signer is valid", want: nil, break_: withCraft(craft{ski: true})},
		{name: "roots given and chain verifies", want: nil,
			break_: func(t *testing.T, bl *build, o *Options) { o.Roots = a.roots }},

		{name: "SIG-01 garbage signature", want: []string{"SIG-01"},
			break_: func(t *testing.T, bl *build, o *Options) { bl.sign = func([]byte) []byte { return []byte("not CMS") } }},
		{name: "SIG-01 PEM instead of DER", want: []string{"SIG-01"},
			break_: func(t *testing.T, bl *build, o *Options) {
				bl.sign = func(m []byte) []byte {
					return pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: smallstepSign(t, a, m, true)})
				}
			}},
		{name: "SIG-01 signs other bytes", want: []string{"SIG-01"},
			break_: func(t *testing.T, bl *build, o *Options) {
				bl.sign = func(m []byte) []byte { return smallstepSign(t, a, append(m, '\n'), true) }
			}},
		{name: "SIG-01 content embedded, not detached", want: []string{"SIG-01"}, break_: withCraft(craft{attached: true})},
		{name: "SIG-01 signature value corrupted", want: []string{"SIG-01"}, break_: withCraft(craft{corrupt: true})},

		{name: "SIG-02 intermediate dropped", want: []string{"SIG-02"},
			break_: func(t *testing.T, bl *build, o *Options) {
				bl.sign = func(m []byte) []byte { return smallstepSign(t, a, m, false) }
			}},
		{name: "SIG-02 wrong intermediate embedded", want: []string{"SIG-02"},
			break_: withCraft(craft{certs: []*x509.Certificate{a.leaf, b.inter}})},
		{name: "SIG-02 chain not under the given roots", want: []string{"SIG-02"},
			break_: func(t *testing.T, bl *build, o *Options) {
				bl.sign = func(m []byte) []byte { return smallstepSign(t, b, m, true) }
				o.Roots = a.roots
			}},
		{name: "SIG-02 signer certificate not embedded", want: []string{"SIG-02"},
			break_: withCraft(craft{certs: []*x509.Certificate{a.inter}})},

		{name: "SIG-03 no signingTime", want: []string{"SIG-03"}, break_: withCraft(craft{omit: map[string]bool{"signingTime": true}})},
		{name: "SIG-03 no contentType", want: []string{"SIG-03"}, break_: withCraft(craft{omit: map[string]bool{"contentType": true}})},
		{name: "SIG-03 no messageDigest", want: []string{"SIG-03"}, break_: withCraft(craft{omit: map[string]bool{"messageDigest": true}})},
		{name: "SIG-03 no signed attributes", want: []string{"SIG-03"}, break_: withCraft(craft{noAttrs: true})},
		{name: "SIG-03 attributes not DER-sorted", want: []string{"SIG-03"}, break_: withCraft(craft{unsorted: true})},
		{name: "SIG-03 signingTime as GeneralizedTime", want: []string{"SIG-03"}, break_: withCraft(craft{generalizedTime: true})},

		{name: "SIG-04 pass type ID differs from the certificate", want: []string{"SIG-04"},
			break_: func(t *testing.T, bl *build, o *Options) { bl.pass["passTypeIdentifier"] = "pass.com.example.other" }},
		{name: "SIG-04 team ID differs from the certificate", want: []string{"SIG-04"},
			break_: func(t *testing.T, bl *build, o *Options) { bl.pass["teamIdentifier"] = "OTHERTEAM1" }},
		{name: "SIG-04 unexpected pass type ID", want: []string{"SIG-04"},
			break_: func(t *testing.T, bl *build, o *Options) { o.PassTypeID = "pass.com.example.expected" }},
		{name: "SIG-04 unexpected team ID", want: []string{"SIG-04"},
			break_: func(t *testing.T, bl *build, o *Options) { o.TeamID = "EXPECTED01" }},

		{name: "SIG-05 certificate expired", want: []string{"SIG-05"},
			break_: func(t *testing.T, bl *build, o *Options) { o.Now = a.leaf.NotAfter.Add(time.Hour) }},
		{name: "SIG-05 signed outside the certificate's validity", want: []string{"SIG-05"},
			break_: withCraft(craft{signingTime: a.leaf.NotBefore.Add(-24 * time.Hour)})},
	})
}

func TestExpiringSoonIsNoted(t *testing.T) {
	a, _ := chains(t)
	rep := Check(newBuild(t).bytes(t), Options{Roots: a.roots, Now: a.leaf.NotAfter.Add(-10 * 24 * time.Hour)})
	assertRules(t, rep)
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "within 30 days") }) {
		t.Errorf("no expiry warning:\n%s", dump(rep))
	}
}

// TestAgreesWithSmallstep cross-checks the hand-written CMS verification
// against smallstep/pkcs7 (Parse, Content = manifest, Verify) on signatures
// both can read.
func TestAgreesWithSmallstep(t *testing.T) {
	a, b := chains(t)
	manifest := []byte(`{"pass.json":"0000000000000000000000000000000000000000"}`)
	cases := map[string]struct {
		sig   []byte
		roots *x509.CertPool
		ok    bool
	}{
		"valid":              {smallstepSign(t, a, manifest, true), nil, true},
		"valid with roots":   {smallstepSign(t, a, manifest, true), a.roots, true},
		"hand-made":          {craft{chain: a}.sign(t, manifest), a.roots, true},
		"other bytes":        {smallstepSign(t, a, append(manifest, ' '), true), nil, false},
		"corrupted":          {craft{chain: a, corrupt: true}.sign(t, manifest), nil, false},
		"chain not in roots": {smallstepSign(t, b, manifest, true), a.roots, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p7, err := pkcs7.Parse(tc.sig)
			if err != nil {
				t.Fatal(err)
			}
			p7.Content = manifest
			libErr := p7.VerifyWithChain(tc.roots)
			if (libErr == nil) != tc.ok {
				t.Errorf("smallstep Verify = %v, want ok=%v", libErr, tc.ok)
			}
			c := &checker{opts: Options{Roots: tc.roots, Now: time.Now()}, files: map[string][]byte{
				manifestFile: manifest, signatureFile: tc.sig,
			}}
			c.checkSignature()
			if c.rep.OK() != tc.ok {
				t.Errorf("passcheck OK = %v, want %v\n%s", c.rep.OK(), tc.ok, dump(c.rep))
			}
		})
	}
}

// TestAgreesWithOpenSSL runs the §7 openssl commands on fixture packages,
// when openssl is installed, and expects the same verdict as Check.
func TestAgreesWithOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	a, b := chains(t)
	dir := t.TempDir()
	root := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.root.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	manifest := []byte(`{"icon.png":"0123456789abcdef0123456789abcdef01234567"}`)
	cases := map[string]struct {
		sig []byte
		ok  bool
	}{
		"smallstep":     {smallstepSign(t, a, manifest, true), true},
		"hand-made SKI": {craft{chain: a, ski: true}.sign(t, manifest), true},
		"other bytes":   {smallstepSign(t, a, append(manifest, ' '), true), false},
		"other chain":   {smallstepSign(t, b, manifest, true), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sigPath, manPath := filepath.Join(dir, name+".sig"), filepath.Join(dir, name+".json")
			if err := os.WriteFile(sigPath, tc.sig, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(manPath, manifest, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigPath,
				"-content", manPath, "-CAfile", root, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
			if (err == nil) != tc.ok {
				t.Errorf("openssl verify ok=%v, want %v: %s", err == nil, tc.ok, out)
			}
			c := &checker{opts: Options{Roots: a.roots, Now: time.Now()}, files: map[string][]byte{
				manifestFile: manifest, signatureFile: tc.sig,
			}}
			c.checkSignature()
			if c.rep.OK() != tc.ok {
				t.Errorf("passcheck OK = %v, want %v\n%s", c.rep.OK(), tc.ok, dump(c.rep))
			}
		})
	}
}
