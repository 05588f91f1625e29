package apns_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/push/apns"
	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

const (
	testTopic  = "pass.com.example.loyalty"
	testTeamID = "ABCDE12345"
	testKeyID  = "KEY1234567"
)

// oidUID is the subject attribute Apple puts the pass type identifier in.
var oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}

// newIdentity returns a Pass Type ID identity issued by a fresh test CA, as
// certs.Load would hand it over, and a pool holding that CA for the fake
// APNs to check client certificates against.
func newIdentity(t testing.TB) (*certs.Material, *x509.CertPool) {
	t.Helper()
	now := time.Now()
	caKey := newECKey(t)
	ca := signCert(t, &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Test WWDR"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}, nil, &caKey.PublicKey, caKey)
	leafKey := newECKey(t)
	leaf := signCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject: pkix.Name{
			CommonName:         "Pass Type ID: " + testTopic,
			OrganizationalUnit: []string{testTeamID},
			ExtraNames:         []pkix.AttributeTypeAndValue{{Type: oidUID, Value: testTopic}},
		},
		NotBefore: now.Add(-time.Hour),
		NotAfter:  now.Add(24 * time.Hour),
		KeyUsage:  x509.KeyUsageDigitalSignature,
	}, ca, &leafKey.PublicKey, caKey)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &certs.Material{Leaf: leaf, Key: leafKey, Intermediate: ca, PassTypeID: testTopic, TeamID: testTeamID}, pool
}

func signCert(t testing.TB, tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, key *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	return c
}

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	return key
}

// newP8 returns an APNs auth key in .p8 form (PKCS#8 PEM) and its key.
func newP8(t testing.TB) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key := newECKey(t)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("marshal p8: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), key
}

// newCertServer starts a fake APNs requiring a client certificate and a
// Client authenticating with one; opts adjust the Client.
func newCertServer(t testing.TB, opts apns.Options, srvOpts ...apnstest.Option) (*apns.Client, *apnstest.Server, *certs.Material) {
	t.Helper()
	m, pool := newIdentity(t)
	srv := apnstest.NewServer(t, append([]apnstest.Option{apnstest.WithClientCAs(pool)}, srvOpts...)...)
	cert := m.TLSCertificate()
	opts.Certificate = &cert
	return newClient(t, srv, opts), srv, m
}

// newClient points a Client at srv, trusting its certificate.
func newClient(t testing.TB, srv *apnstest.Server, opts apns.Options) *apns.Client {
	t.Helper()
	if opts.Topic == "" {
		opts.Topic = testTopic
	}
	opts.Host = srv.URL
	opts.RootCAs = srv.CertPool()
	c, err := apns.New(opts)
	if err != nil {
		t.Fatalf("apns.New: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// hexToken returns the i-th test device token: 64 hex digits, like APNs's.
func hexToken(i int) string {
	return fmt.Sprintf("%064x", i+1)
}

func hexTokens(n int) []string {
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = hexToken(i)
	}
	return tokens
}
