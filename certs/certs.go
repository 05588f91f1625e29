// Package certs creates, loads and checks the material that signs Apple Wallet
// passes: the Pass Type ID certificate and key, and the WWDR intermediate that
// issued it.
package certs

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"time"
)

// Material is a checked signing identity: a Pass Type ID leaf certificate,
// its private key and the intermediate (Apple WWDR G4 in production) that
// issued the leaf. PassTypeID and TeamID are read from the leaf's subject
// (UID and OU), the way Apple issues them.
type Material struct {
	Leaf         *x509.Certificate
	Key          crypto.Signer
	Intermediate *x509.Certificate
	PassTypeID   string
	TeamID       string
}

// ExpiresWithin reports whether the leaf certificate expires within d of now.
func (m *Material) ExpiresWithin(now time.Time, d time.Duration) bool {
	return m.Leaf.NotAfter.Before(now.Add(d))
}

// TLSCertificate returns the leaf, the intermediate and the key as a TLS
// client certificate, which is how certificate-based APNs authentication
// presents the Pass Type ID identity.
func (m *Material) TLSCertificate() tls.Certificate {
	chain := [][]byte{m.Leaf.Raw}
	if m.Intermediate != nil {
		chain = append(chain, m.Intermediate.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: m.Key, Leaf: m.Leaf}
}

// IsDevelopment reports whether the leaf was issued by the development
// intermediate GenerateDev creates. Passes signed with such material install
// on no device, so the server should say so loudly.
func (m *Material) IsDevelopment() bool {
	return m.Intermediate != nil &&
		m.Intermediate.Subject.CommonName == devIntermediateCN &&
		bytes.Equal(m.Leaf.RawIssuer, m.Intermediate.RawSubject)
}
