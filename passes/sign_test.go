package passes

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

func TestRenderSignatureVerifies(t *testing.T) {
	before := time.Now().Add(-time.Second)
	pkpass, err := newTestRenderer(t).Render(testProgram(), testCard())
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	files := unpack(t, pkpass)

	p7, err := pkcs7.Parse(files["signature"])
	if err != nil {
		t.Fatalf("parse signature: %v", err)
	}
	if len(p7.Content) != 0 {
		t.Errorf("signature embeds %d content bytes, want a detached signature", len(p7.Content))
	}
	if len(p7.Certificates) != 2 {
		t.Errorf("signature embeds %d certificates, want leaf and intermediate", len(p7.Certificates))
	}
	var signingTime time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &signingTime); err != nil {
		t.Errorf("signingTime: %v", err)
	} else if signingTime.Before(before.Truncate(time.Second)) || signingTime.After(time.Now()) {
		t.Errorf("signingTime = %v, want about now", signingTime)
	}
	p7.Content = files["manifest.json"]
	if err := p7.VerifyWithChain(testChain.root); err != nil {
		t.Errorf("signature does not verify against the test root: %v", err)
	}
	p7.Content = append([]byte(" "), files["manifest.json"]...)
	if err := p7.Verify(); err == nil {
		t.Errorf("signature verifies over a changed manifest")
	}
}

// TestRenderSignatureOpenSSL checks the signature the way
// reference/apple-wallet.md §7 does, with the openssl command line.
func TestRenderSignatureOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	pkpass, err := newTestRenderer(t).Render(testProgram(), testCard())
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	files := unpack(t, pkpass)
	dir := t.TempDir()
	for _, name := range []string{"signature", "manifest.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := run("cms", "-verify", "-binary", "-inform", "DER", "-in", "signature",
		"-content", "manifest.json", "-CAfile", testChain.rootFile, "-purpose", "any", "-out", os.DevNull)
	if !strings.Contains(out, "Verification successful") {
		t.Errorf("openssl cms -verify: %s", out)
	}
	printed := run("cms", "-cmsout", "-print", "-inform", "DER", "-in", "signature")
	if !strings.Contains(printed, "signingTime") {
		t.Errorf("openssl finds no signingTime attribute")
	}
	if !regexp.MustCompile(`eContent: <ABSENT>`).MatchString(printed) {
		t.Errorf("openssl finds eContent present; the signature must be detached")
	}
	if !strings.Contains(printed, "sha256") {
		t.Errorf("openssl finds no SHA-256 digest algorithm")
	}
}
