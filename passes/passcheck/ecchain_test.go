package passcheck

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"
)

// newECChain builds a P-256 chain by hand, shaped like Apple's: the leaf
// names the pass type in UID and CN and the team in OU, and carries Apple's
// pass type extension, marked critical when appleCritical is set.
func newECChain(t *testing.T, appleCritical bool) *testChain {
	t.Helper()
	now := time.Now()
	keys := make([]*ecdsa.PrivateKey, 3)
	for i := range keys {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	issue := func(serial int64, tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) *x509.Certificate {
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(24*time.Hour)
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}
	ca := func(name pkix.Name) *x509.Certificate {
		return &x509.Certificate{Subject: name, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	marker, err := asn1.MarshalWithParams(testPassTypeID, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	ch := &testChain{roots: x509.NewCertPool(), key: keys[2]}
	ch.root = issue(1, ca(pkix.Name{CommonName: "EC Test Root"}), nil, &keys[0].PublicKey, keys[0])
	ch.inter = issue(2, ca(pkix.Name{CommonName: "EC Test Worldwide Developer Relations", OrganizationalUnit: []string{"G4"}}),
		ch.root, &keys[1].PublicKey, keys[0])
	ch.leaf = issue(3, &x509.Certificate{
		Subject: pkix.Name{
			CommonName:         "Pass Type ID: " + testPassTypeID,
			OrganizationalUnit: []string{testTeamID},
			ExtraNames:         []pkix.AttributeTypeAndValue{{Type: oidUID, Value: testPassTypeID}},
		},
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 16}, Critical: appleCritical, Value: marker}},
	}, ch.inter, &keys[2].PublicKey, keys[1])
	ch.roots.AddCert(ch.root)
	return ch
}

func TestECDSAChainWithCriticalAppleExtension(t *testing.T) {
	ch := newECChain(t, true)
	// Go alone rejects the chain; Check must not.
	pool := x509.NewCertPool()
	pool.AddCert(ch.inter)
	_, err := ch.leaf.Verify(x509.VerifyOptions{Roots: ch.roots, Intermediates: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if !errors.As(err, new(x509.UnhandledCriticalExtension)) {
		t.Fatalf("plain x509 Verify = %v, want UnhandledCriticalExtension", err)
	}
	for name, sign := range map[string]func(t *testing.T, m []byte) []byte{
		"smallstep": func(t *testing.T, m []byte) []byte { return smallstepSign(t, ch, m, true) },
		"hand-made": func(t *testing.T, m []byte) []byte { return craft{chain: ch, ecdsa: true}.sign(t, m) },
	} {
		t.Run(name, func(t *testing.T) {
			b := newBuild(t)
			b.sign = func(m []byte) []byte { return sign(t, m) }
			assertRules(t, Check(b.bytes(t), Options{Roots: ch.roots, PassTypeID: testPassTypeID, TeamID: testTeamID}))
		})
	}
}
