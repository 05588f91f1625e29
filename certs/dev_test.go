package certs

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s: no CERTIFICATE block", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

func TestGenerateDev(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	files, err := GenerateDev(dir, DevOptions{PassTypeID: testPassTypeID, TeamID: testTeamID, Organization: "Test Org"})
	if err != nil {
		t.Fatalf("GenerateDev: %v", err)
	}
	if files != DevFilesIn(dir) {
		t.Fatalf("files = %+v, want %+v", files, DevFilesIn(dir))
	}
	root, inter, leaf := readCert(t, files.Root), readCert(t, files.Intermediate), readCert(t, files.Cert)

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"x509 verify", func(t *testing.T) {
			roots, inters := x509.NewCertPool(), x509.NewCertPool()
			roots.AddCert(root)
			inters.AddCert(inter)
			chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got := chains[0]; len(got) != 3 || !got[1].Equal(inter) || !got[2].Equal(root) {
				t.Fatalf("chain = %d certificates, want leaf, wwdr, root", len(got))
			}
		}},
		{"openssl verify", func(t *testing.T) {
			out := runOpenSSL(t, "verify", "-CAfile", files.Root, "-untrusted", files.Intermediate, files.Cert)
			if !strings.Contains(out, files.Cert+": OK") {
				t.Fatalf("openssl verify: %s", out)
			}
		}},
		{"openssl subject in Apple order", func(t *testing.T) {
			out := runOpenSSL(t, "x509", "-in", files.Cert, "-noout", "-subject", "-issuer")
			want := fmt.Sprintf("subject=UID = %s, CN = Pass Type ID: %s, OU = %s, O = Test Org, C = RU", testPassTypeID, testPassTypeID, testTeamID)
			if !strings.Contains(out, want) || !strings.Contains(out, "OU = G4") {
				t.Fatalf("openssl subject/issuer:\n%s\nwant %q and OU = G4 in the issuer", out, want)
			}
		}},
		{"openssl sees Apple extensions", func(t *testing.T) {
			out := runOpenSSL(t, "x509", "-in", files.Cert, "-noout", "-text")
			for _, want := range []string{"1.2.840.113635.100.6.1.16", "1.2.840.113635.100.4.14", "Digital Signature", "TLS Web Client Authentication"} {
				if !strings.Contains(out, want) {
					t.Errorf("openssl -text lacks %q", want)
				}
			}
		}},
		{"leaf extensions", func(t *testing.T) {
			var marker string
			for _, ext := range leaf.Extensions {
				if ext.Id.Equal(oidApplePassTypeExt) {
					if _, err := asn1.UnmarshalWithParams(ext.Value, &marker, "utf8"); err != nil {
						t.Fatalf("pass type extension: %v", err)
					}
				}
			}
			if marker != testPassTypeID {
				t.Errorf("pass type extension = %q, want %q", marker, testPassTypeID)
			}
			if !slices.ContainsFunc(leaf.UnknownExtKeyUsage, oidApplePassbookEKU.Equal) {
				t.Errorf("EKU %v lacks %v", leaf.UnknownExtKeyUsage, oidApplePassbookEKU)
			}
			if leaf.KeyUsage != x509.KeyUsageDigitalSignature || leaf.IsCA {
				t.Errorf("key usage %v, CA %v; want digitalSignature only, not a CA", leaf.KeyUsage, leaf.IsCA)
			}
			if !bytes.Equal(leaf.AuthorityKeyId, inter.SubjectKeyId) || !bytes.Equal(inter.AuthorityKeyId, root.SubjectKeyId) || len(leaf.SubjectKeyId) == 0 {
				t.Errorf("AKI/SKI do not link leaf → wwdr → root")
			}
			if k, ok := leaf.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 {
				t.Errorf("leaf key %s, want RSA-2048", describeKey(leaf.PublicKey))
			}
		}},
		{"validity", func(t *testing.T) {
			if d := leaf.NotAfter.Sub(start); d < year-time.Minute || d > year+time.Minute {
				t.Errorf("leaf lives %v, want one year", d)
			}
			if !inter.NotAfter.After(leaf.NotAfter) || !root.NotAfter.After(inter.NotAfter) {
				t.Errorf("CA lifetimes must exceed the leaf's: root %v, wwdr %v, leaf %v", root.NotAfter, inter.NotAfter, leaf.NotAfter)
			}
		}},
		{"key file private", func(t *testing.T) {
			if runtime.GOOS == "windows" {
				t.Skip("no Unix modes")
			}
			fi, err := os.Stat(files.Key)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("pass.key mode %v, want 0600", fi.Mode().Perm())
			}
		}},
		{"loads as development material", func(t *testing.T) {
			m, err := Load(LoadOptions{CertFile: files.Cert, KeyFile: files.Key, IntermediateFile: files.Intermediate,
				PassTypeID: testPassTypeID, TeamID: testTeamID})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if m.PassTypeID != testPassTypeID || m.TeamID != testTeamID || !m.IsDevelopment() {
				t.Errorf("got %q/%q development=%v", m.PassTypeID, m.TeamID, m.IsDevelopment())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}
}

func TestGenerateDevNeedsIdentity(t *testing.T) {
	tests := []struct {
		name string
		opts DevOptions
	}{
		{"no pass type ID", DevOptions{TeamID: testTeamID}},
		{"no team ID", DevOptions{PassTypeID: testPassTypeID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := GenerateDev(dir, tt.opts); err == nil || !strings.Contains(err.Error(), "team ID") {
				t.Fatalf("err = %v, want a message naming the missing IDs", err)
			}
			if _, err := os.Stat(filepath.Join(dir, DevCertFile)); err == nil {
				t.Fatal("pass.pem written despite the error")
			}
		})
	}
}

// snapshot reads every file of a chain.
func snapshot(t *testing.T, files DevFiles) [4][]byte {
	t.Helper()
	var out [4][]byte
	for i, p := range []string{files.Root, files.Intermediate, files.Cert, files.Key} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = data
	}
	return out
}

// loadDev loads a dev chain and fails the test unless it is consistent.
func loadDev(t *testing.T, files DevFiles) *Material {
	t.Helper()
	m, err := Load(LoadOptions{CertFile: files.Cert, KeyFile: files.Key, IntermediateFile: files.Intermediate,
		PassTypeID: testPassTypeID, TeamID: testTeamID})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return m
}
