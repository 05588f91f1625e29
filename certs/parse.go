package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

// parseCertificates returns every certificate in data, which is a PEM file
// (CERTIFICATE blocks; other blocks are skipped) or DER. name labels errors.
func parseCertificates(data []byte, name string) ([]*x509.Certificate, error) {
	var (
		certs  []*x509.Certificate
		others []string
		rest   = data
		block  *pem.Block
	)
	for {
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			others = append(others, block.Type)
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certs: %s: %w: certificate %d: %w", name, ErrMalformed, len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	switch {
	case len(certs) > 0:
		return certs, nil
	case len(others) > 0:
		return nil, fmt.Errorf("certs: %s: %w: found PEM blocks %s but no CERTIFICATE (are the certificate and key files swapped?)",
			name, ErrMalformed, strings.Join(others, ", "))
	}
	certs, err := x509.ParseCertificates(data)
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("certs: %s: %w: neither a PEM nor a DER certificate", name, ErrMalformed)
	}
	return certs, nil
}

// parseKey returns the first private key in a PEM file: PKCS#8
// ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY").
// Other blocks, such as EC PARAMETERS or certificates, are skipped.
func parseKey(data []byte, name string) (crypto.Signer, error) {
	var (
		others []string
		rest   = data
		block  *pem.Block
	)
	for {
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var (
			key any
			err error
		)
		switch {
		case block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] == "4,ENCRYPTED":
			return nil, fmt.Errorf("certs: %s: %w: the key is encrypted; decrypt it "+
				"(openssl pkey -in KEY -out KEY.plain) or use the PKCS#12 file with its password", name, ErrMalformed)
		case block.Type == "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case block.Type == "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case block.Type == "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			others = append(others, block.Type)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("certs: %s: %w: %s block: %w", name, ErrMalformed, block.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("certs: %s: %w: key of type %T cannot sign", name, ErrMalformed, key)
		}
		return signer, nil
	}
	if len(others) > 0 {
		return nil, fmt.Errorf("certs: %s: %w: found PEM blocks %s but no private key (are the certificate and key files swapped?)",
			name, ErrMalformed, strings.Join(others, ", "))
	}
	return nil, fmt.Errorf("certs: %s: %w: no PEM private key found", name, ErrMalformed)
}

// describeKey names a public key's algorithm and size for messages.
func describeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	default:
		return fmt.Sprintf("%T", pub)
	}
}
