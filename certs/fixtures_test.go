package certs

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testPassTypeID = "pass.ru.loyalpass.test"
	testTeamID     = "ABCDE12345"
	year           = 365 * 24 * time.Hour
)

// chainFixtures are in-memory chains shared by the tests; RSA key
// generation dominates the run time, so each key is made once.
type chainFixtures struct {
	a, b    *devChain // two independent valid chains
	expired *devChain // a's keys, leaf expired a year ago
	future  *devChain // a's keys, leaf valid from tomorrow
}

var (
	fixOnce sync.Once
	fix     chainFixtures
	fixErr  error
)

func fixtures(t *testing.T) chainFixtures {
	t.Helper()
	fixOnce.Do(func() {
		now := time.Now()
		opts := DevOptions{PassTypeID: testPassTypeID, TeamID: testTeamID, Now: now}
		if fix.a, fixErr = buildDevChain(opts, devKeys{}); fixErr != nil {
			return
		}
		if fix.b, fixErr = buildDevChain(opts, devKeys{}); fixErr != nil {
			return
		}
		old := opts
		old.Now, old.Validity = now.Add(-2*year), year
		if fix.expired, fixErr = buildDevChain(old, fix.a.keys); fixErr != nil {
			return
		}
		next := opts
		next.Now = now.Add(24 * time.Hour)
		fix.future, fixErr = buildDevChain(next, fix.a.keys)
	})
	if fixErr != nil {
		t.Fatalf("build fixture chains: %v", fixErr)
	}
	return fix
}

// writeChain writes c into a fresh temporary directory.
func writeChain(t *testing.T, c *devChain) DevFiles {
	t.Helper()
	files := DevFilesIn(t.TempDir())
	if err := writeDevChain(files, c); err != nil {
		t.Fatalf("write chain: %v", err)
	}
	return files
}

// writePEM writes the given blocks to name in dir and returns the path.
func writePEM(t *testing.T, dir, name string, blocks ...*pem.Block) string {
	t.Helper()
	var b strings.Builder
	for _, blk := range blocks {
		b.Write(pem.EncodeToMemory(blk))
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issueLeaf signs a leaf for pub with subject under issuer, for shapes
// GenerateDev never produces.
func issueLeaf(t *testing.T, subject pkix.Name, pub crypto.PublicKey, issuer *x509.Certificate, issuerKey crypto.Signer) *x509.Certificate {
	t.Helper()
	now := time.Now()
	leaf, err := signCert(&x509.Certificate{
		Subject:   subject,
		NotBefore: now.Add(-time.Hour),
		NotAfter:  now.Add(year),
		KeyUsage:  x509.KeyUsageDigitalSignature,
	}, issuer, pub, issuerKey)
	if err != nil {
		t.Fatalf("issue leaf: %v", err)
	}
	return leaf
}

// passSubject is an Apple-shaped subject built from pkix.Name.
func passSubject(uid, cn, ou string) pkix.Name {
	n := pkix.Name{CommonName: cn}
	if ou != "" {
		n.OrganizationalUnit = []string{ou}
	}
	if uid != "" {
		n.ExtraNames = []pkix.AttributeTypeAndValue{{Type: oidUID, Value: uid}}
	}
	return n
}

// runOpenSSL runs /usr/bin/openssl (or the one on PATH), skipping the test
// when there is none.
func runOpenSSL(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
