package certs

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// LoadOptions says where the signing material is and what it must be. Give
// either CertFile and KeyFile, or P12File.
type LoadOptions struct {
	// CertFile is the Pass Type ID certificate, PEM or DER. Certificates
	// after the first in a PEM file are taken as intermediate candidates.
	CertFile string
	// KeyFile is the unencrypted private key, PEM: PKCS#8, PKCS#1 or SEC 1.
	KeyFile string
	// P12File is a PKCS#12 export (from Keychain) holding key and
	// certificate, and possibly the intermediate. P12Password unlocks it.
	P12File     string
	P12Password string
	// IntermediateFile is the WWDR G4 intermediate, PEM or DER. It is
	// required unless the PKCS#12 file or the PEM CertFile carries it, and
	// overrides what they carry.
	IntermediateFile string
	// PassTypeID and TeamID are what the configuration expects; empty means
	// accept what the certificate says.
	PassTypeID string
	TeamID     string
	// Now is the time validity is checked at; zero means time.Now().
	Now time.Time
}

// identitySource is a leaf and its key as read from disk, before checks.
type identitySource struct {
	leaf     *x509.Certificate
	key      crypto.Signer
	bundled  []*x509.Certificate // other certificates found alongside the leaf
	certName string              // "pass certificate /path" for messages
	keyName  string
}

// Load reads the signing identity described by opts and checks that it can
// sign Apple Wallet passes: the leaf is currently valid, the key is its key,
// its subject names the expected pass type ID and team, and the
// intermediate is a CA that issued it. Each refusal wraps one of the Err*
// sentinels and says which file and which values are at fault.
func Load(opts LoadOptions) (*Material, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	src, err := readIdentity(opts)
	if err != nil {
		return nil, err
	}
	candidates, interName := src.bundled, src.certName+" (bundled intermediate)"
	if opts.IntermediateFile != "" {
		interName = "intermediate " + opts.IntermediateFile
		data, err := readFile(opts.IntermediateFile, "intermediate")
		if err != nil {
			return nil, err
		}
		if candidates, err = parseCertificates(data, interName); err != nil {
			return nil, err
		}
	}

	if err := checkValidity(src.certName, src.leaf, now); err != nil {
		return nil, err
	}
	if err := checkKeyMatch(src); err != nil {
		return nil, err
	}
	passTypeID, teamID, err := leafIdentity(src.certName, src.leaf)
	if err != nil {
		return nil, err
	}
	if err := checkExpected(src.certName, passTypeID, teamID, opts); err != nil {
		return nil, err
	}
	if len(candidates) == 0 {
		return nil, fmt.Errorf("certs: %w for %s: set the intermediate file; %s", ErrNoIntermediate, src.certName, wwdrHint)
	}
	inter, err := pickIntermediate(src.certName, src.leaf, interName, candidates)
	if err != nil {
		return nil, err
	}
	if err := checkValidity(interName, inter, now); err != nil {
		return nil, err
	}
	return &Material{
		Leaf:         src.leaf,
		Key:          src.key,
		Intermediate: inter,
		PassTypeID:   passTypeID,
		TeamID:       teamID,
	}, nil
}

// readIdentity reads the leaf and key from PEM files or a PKCS#12 file.
func readIdentity(opts LoadOptions) (*identitySource, error) {
	switch {
	case opts.P12File != "" && (opts.CertFile != "" || opts.KeyFile != ""):
		return nil, fmt.Errorf("certs: %w: give either a PKCS#12 file or a certificate and key file, not both", ErrOptions)
	case opts.P12File != "":
		return readP12(opts.P12File, opts.P12Password)
	case opts.CertFile == "" || opts.KeyFile == "":
		return nil, fmt.Errorf("certs: %w: both a certificate file and a key file are needed (got certificate %q, key %q), or a PKCS#12 file",
			ErrOptions, opts.CertFile, opts.KeyFile)
	}
	src := &identitySource{certName: "pass certificate " + opts.CertFile, keyName: "pass key " + opts.KeyFile}
	data, err := readFile(opts.CertFile, "pass certificate")
	if err != nil {
		return nil, err
	}
	chain, err := parseCertificates(data, src.certName)
	if err != nil {
		return nil, err
	}
	src.leaf, src.bundled = chain[0], chain[1:]
	if data, err = readFile(opts.KeyFile, "pass key"); err != nil {
		return nil, err
	}
	if src.key, err = parseKey(data, src.keyName); err != nil {
		return nil, err
	}
	return src, nil
}

// readP12 decodes a PKCS#12 file; go-pkcs12 handles both the legacy
// (RC2/3DES) and modern (AES/PBES2) encryption Keychain produces.
func readP12(path, password string) (*identitySource, error) {
	name := "PKCS#12 file " + path
	data, err := readFile(path, "PKCS#12 file")
	if err != nil {
		return nil, err
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword):
		return nil, fmt.Errorf("certs: %s: %w", name, ErrP12Password)
	case err != nil:
		return nil, fmt.Errorf("certs: %s: %w: %w", name, ErrMalformed, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("certs: %s: %w: private key of type %T cannot sign", name, ErrMalformed, key)
	}
	return &identitySource{leaf: leaf, key: signer, bundled: cas, certName: name, keyName: name}, nil
}

// readFile reads path, naming the file and its role on failure.
func readFile(path, what string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certs: %s %s: %w: %w", what, path, ErrUnreadable, err)
	}
	return data, nil
}
