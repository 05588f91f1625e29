package certs

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // RFC 5280 §4.2.1.2 key identifiers are SHA-1 by convention, not for security.
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"
)

// Names of the development CAs. IsDevelopment recognises a dev chain by the
// intermediate's common name, so keep these stable.
const (
	devRootCN         = "loyalpass Development Root CA"
	devIntermediateCN = "loyalpass Development Worldwide Developer Relations Certification Authority"
	devCAOrganization = "loyalpass Development"
	devCountry        = "RU"
	devOrganization   = "loyalpass development"
)

// Object identifiers of the subject attributes and Apple extensions that
// Pass Type ID certificates carry.
var (
	oidUID              = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidCommonName       = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidOrganizationUnit = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidOrganization     = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidCountry          = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidApplePassTypeExt = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 16}
	oidApplePassbookEKU = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 4, 14}
)

const (
	defaultLeafValidity  = 365 * 24 * time.Hour
	caValidityMultiplier = 5               // intermediate lives 5×, root 10× the leaf
	backdate             = 5 * time.Minute // tolerate clocks slightly behind ours
)

// devKeys are the RSA keys of a development chain; nil entries are generated.
type devKeys struct {
	root, intermediate, leaf *rsa.PrivateKey
}

// devChain is a complete development chain held in memory.
type devChain struct {
	root, intermediate, leaf *x509.Certificate
	keys                     devKeys
}

// buildDevChain creates root, intermediate and leaf certificates for opts,
// reusing any keys given in keys.
func buildDevChain(opts DevOptions, keys devKeys) (*devChain, error) {
	opts = opts.withDefaults()
	if opts.PassTypeID == "" || opts.TeamID == "" {
		return nil, fmt.Errorf("certs: development chain needs a pass type ID and a team ID (got %q, %q)", opts.PassTypeID, opts.TeamID)
	}
	for _, k := range []**rsa.PrivateKey{&keys.root, &keys.intermediate, &keys.leaf} {
		if *k != nil {
			continue
		}
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("certs: generate RSA key: %w", err)
		}
		*k = key
	}
	c := &devChain{keys: keys}
	start := opts.Now.Add(-backdate)
	caLife := opts.Validity * caValidityMultiplier

	rootTmpl := caTemplate(pkix.Name{CommonName: devRootCN, Organization: []string{devCAOrganization}, Country: []string{devCountry}},
		start, start.Add(2*caLife), 1)
	var err error
	if c.root, err = signCert(rootTmpl, nil, keys.root.Public(), keys.root); err != nil {
		return nil, fmt.Errorf("certs: create development root: %w", err)
	}
	interTmpl := caTemplate(pkix.Name{
		CommonName:         devIntermediateCN,
		OrganizationalUnit: []string{"G4"},
		Organization:       []string{devCAOrganization},
		Country:            []string{devCountry},
	}, start, start.Add(caLife), 0)
	if c.intermediate, err = signCert(interTmpl, c.root, keys.intermediate.Public(), keys.root); err != nil {
		return nil, fmt.Errorf("certs: create development intermediate: %w", err)
	}
	leafTmpl, err := passTemplate(opts, start, opts.Now.Add(opts.Validity))
	if err != nil {
		return nil, err
	}
	if c.leaf, err = signCert(leafTmpl, c.intermediate, keys.leaf.Public(), keys.intermediate); err != nil {
		return nil, fmt.Errorf("certs: create development pass certificate: %w", err)
	}
	return c, nil
}

// caTemplate describes a CA certificate; maxPathLen 0 means it may issue
// only leaves.
func caTemplate(subject pkix.Name, notBefore, notAfter time.Time, maxPathLen int) *x509.Certificate {
	return &x509.Certificate{
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            maxPathLen,
		MaxPathLenZero:        maxPathLen == 0,
	}
}

// passTemplate describes a leaf shaped like Apple's Pass Type ID
// certificates: the subject in Apple's order (UID, CN, OU, O, C), the pass
// type marker extension holding the ID as a UTF8String, and the Passbook
// signing EKU. Client auth is added too because the same certificate
// authenticates to APNs.
func passTemplate(opts DevOptions, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	subject, err := asn1.Marshal(pkix.RDNSequence{
		{{Type: oidUID, Value: opts.PassTypeID}},
		{{Type: oidCommonName, Value: "Pass Type ID: " + opts.PassTypeID}},
		{{Type: oidOrganizationUnit, Value: opts.TeamID}},
		{{Type: oidOrganization, Value: opts.Organization}},
		{{Type: oidCountry, Value: devCountry}},
	})
	if err != nil {
		return nil, fmt.Errorf("certs: encode pass certificate subject: %w", err)
	}
	marker, err := asn1.MarshalWithParams(opts.PassTypeID, "utf8")
	if err != nil {
		return nil, fmt.Errorf("certs: encode pass type extension: %w", err)
	}
	return &x509.Certificate{
		RawSubject:            subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{oidApplePassbookEKU},
		BasicConstraintsValid: true,
		ExtraExtensions:       []pkix.Extension{{Id: oidApplePassTypeExt, Value: marker}},
	}, nil
}

// signCert fills in serial number and subject key identifier, then signs
// tmpl with parentKey. A nil parent makes the certificate self-signed. The
// authority key identifier is copied from the parent by x509.
func signCert(tmpl, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	tmpl.SerialNumber = serial.Add(serial, big.NewInt(1))
	if tmpl.SubjectKeyId, err = keyID(pub); err != nil {
		return nil, err
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse signed certificate: %w", err)
	}
	return cert, nil
}

// keyID is the RFC 5280 method-1 key identifier: SHA-1 of the public key bits.
func keyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	sum := sha1.Sum(spki.PublicKey.Bytes) //nolint:gosec // identifier, not a security hash
	return sum[:], nil
}
