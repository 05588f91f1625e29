package certs

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
	"time"
)

// Apple's leaf common names: "Pass Type ID: <id>" or, for NFC-enabled
// passes, "Pass Type ID with NFC: <id>".
var passCNPrefixes = []string{"Pass Type ID: ", "Pass Type ID with NFC: "}

// checkValidity refuses a certificate outside its validity window at now.
func checkValidity(name string, c *x509.Certificate, now time.Time) error {
	switch {
	case now.Before(c.NotBefore):
		return fmt.Errorf("certs: %s: %w: valid from %s to %s, now is %s (check the system clock)",
			name, ErrNotYetValid, stamp(c.NotBefore), stamp(c.NotAfter), stamp(now))
	case now.After(c.NotAfter):
		return fmt.Errorf("certs: %s: %w: valid from %s to %s, now is %s (renew it in the Apple Developer portal)",
			name, ErrExpired, stamp(c.NotBefore), stamp(c.NotAfter), stamp(now))
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// checkKeyMatch refuses a key whose public half is not the leaf's.
func checkKeyMatch(src *identitySource) error {
	pub, ok := src.leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if ok && pub.Equal(src.key.Public()) {
		return nil
	}
	return fmt.Errorf("certs: %s: %w %s (key is %s, certificate holds %s, serial %X)",
		src.keyName, ErrKeyMismatch, strings.TrimPrefix(src.certName, "pass certificate "),
		describeKey(src.key.Public()), describeKey(src.leaf.PublicKey), src.leaf.SerialNumber)
}

// leafIdentity reads the pass type ID (subject UID, cross-checked with the
// CN) and team ID (subject OU) the way Apple writes them.
func leafIdentity(name string, leaf *x509.Certificate) (passTypeID, teamID string, err error) {
	for _, atv := range leaf.Subject.Names {
		if atv.Type.Equal(oidUID) {
			passTypeID, _ = atv.Value.(string)
		}
	}
	if len(leaf.Subject.OrganizationalUnit) > 0 {
		teamID = leaf.Subject.OrganizationalUnit[0]
	}
	switch {
	case passTypeID == "":
		return "", "", fmt.Errorf("certs: %s: %w: subject %q has no UID (pass type ID)",
			name, ErrMissingIdentity, formatDN(leaf.RawSubject))
	case teamID == "":
		return "", "", fmt.Errorf("certs: %s: %w: subject %q has no OU (team ID)",
			name, ErrMissingIdentity, formatDN(leaf.RawSubject))
	}
	for _, p := range passCNPrefixes {
		if cnID, ok := strings.CutPrefix(leaf.Subject.CommonName, p); ok && cnID != passTypeID {
			return "", "", fmt.Errorf("certs: %s: %w: subject UID says pass type ID %q but CN says %q",
				name, ErrIdentityMismatch, passTypeID, cnID)
		}
	}
	return passTypeID, teamID, nil
}

// checkExpected compares the leaf's identity with the configured one.
func checkExpected(name, passTypeID, teamID string, opts LoadOptions) error {
	if opts.PassTypeID != "" && passTypeID != opts.PassTypeID {
		return fmt.Errorf("certs: %s: %w: certificate is for pass type ID %q, configuration expects %q",
			name, ErrIdentityMismatch, passTypeID, opts.PassTypeID)
	}
	if opts.TeamID != "" && teamID != opts.TeamID {
		return fmt.Errorf("certs: %s: %w: certificate is for team ID %q, configuration expects %q",
			name, ErrIdentityMismatch, teamID, opts.TeamID)
	}
	return nil
}

// pickIntermediate returns the candidate that issued leaf: same name as the
// leaf's issuer, same key identifier as its AKI, a CA, and a signature that
// verifies. A file may hold several certificates (WWDR plus Apple root);
// only the issuer is kept.
func pickIntermediate(leafName string, leaf *x509.Certificate, name string, cands []*x509.Certificate) (*x509.Certificate, error) {
	var issuer *x509.Certificate
	for _, c := range cands {
		if bytes.Equal(c.RawSubject, leaf.RawIssuer) && keyIDsMatch(leaf, c) {
			issuer = c
			break
		}
	}
	if issuer == nil {
		if len(cands) == 1 && !isCA(cands[0]) {
			return nil, fmt.Errorf("certs: %s: %w: %q has no CA basic constraints; %s",
				name, ErrNotCA, formatDN(cands[0].RawSubject), wwdrHint)
		}
		if len(cands) == 1 && bytes.Equal(cands[0].RawSubject, leaf.RawIssuer) {
			return nil, fmt.Errorf("certs: %s: %w: it has the issuer name of %s but another key "+
				"(key ID %X, the pass certificate wants %X), so it belongs to a different chain; %s",
				name, ErrWrongIntermediate, leafName, cands[0].SubjectKeyId, leaf.AuthorityKeyId, wwdrHint)
		}
		subjects := make([]string, 0, len(cands))
		for _, c := range cands {
			subjects = append(subjects, fmt.Sprintf("%q", formatDN(c.RawSubject)))
		}
		return nil, fmt.Errorf("certs: %s: %w: %s was issued by %q but the intermediate is %s; %s",
			name, ErrWrongIntermediate, leafName, formatDN(leaf.RawIssuer), strings.Join(subjects, ", "), wwdrHint)
	}
	if !isCA(issuer) {
		return nil, fmt.Errorf("certs: %s: %w: %q has no CA basic constraints; %s",
			name, ErrNotCA, formatDN(issuer.RawSubject), wwdrHint)
	}
	if err := leaf.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("certs: %s: %w: %q matches the issuer name of %s but its signature does not verify (%v); %s",
			name, ErrWrongIntermediate, formatDN(issuer.RawSubject), leafName, err, wwdrHint)
	}
	return issuer, nil
}

// keyIDsMatch compares the leaf's AKI with the issuer's SKI when both exist.
func keyIDsMatch(leaf, issuer *x509.Certificate) bool {
	if len(leaf.AuthorityKeyId) == 0 || len(issuer.SubjectKeyId) == 0 {
		return true
	}
	return bytes.Equal(leaf.AuthorityKeyId, issuer.SubjectKeyId)
}

func isCA(c *x509.Certificate) bool { return c.BasicConstraintsValid && c.IsCA }

// Short names for the attributes Apple's certificates use, as openssl
// prints them.
var dnNames = map[string]string{
	oidUID.String():              "UID",
	oidCommonName.String():       "CN",
	oidOrganizationUnit.String(): "OU",
	oidOrganization.String():     "O",
	oidCountry.String():          "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"1.2.840.113549.1.9.1":       "emailAddress",
}

// formatDN renders a DER distinguished name in its own order, naming UID
// (which pkix.Name.String shows as a bare OID).
func formatDN(raw []byte) string {
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &rdns); err != nil {
		return fmt.Sprintf("<unparsable name: %v>", err)
	}
	var parts []string
	for _, rdn := range rdns {
		for _, atv := range rdn {
			key, ok := dnNames[atv.Type.String()]
			if !ok {
				key = atv.Type.String()
			}
			parts = append(parts, fmt.Sprintf("%s=%v", key, atv.Value))
		}
	}
	return strings.Join(parts, ", ")
}
