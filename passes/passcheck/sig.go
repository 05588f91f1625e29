package passcheck

import (
	"bytes"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// checkSignature checks SIG-01..05: the signature file is a detached DER
// CMS SignedData over the exact bytes of manifest.json, signed by a Pass
// Type ID certificate for this pass, embedded with the intermediate that
// issued it, and valid now.
func (c *checker) checkSignature() {
	sigDER, haveSig := c.files[signatureFile]
	manifest, haveManifest := c.files[manifestFile]
	if !haveSig || !haveManifest {
		c.note("signature checks skipped: the package lacks signature or manifest.json (see PKG-01)")
		return
	}
	sd, err := parseSignedData(sigDER)
	if err != nil {
		c.problem("SIG-01", signatureFile, "signature is not a DER CMS SignedData: %v", err)
		return
	}
	if !sd.eContentType.Equal(oidData) {
		c.problem("SIG-01", signatureFile, "signature's content type is %v, not id-data", sd.eContentType)
	}
	if sd.eContentPresent {
		c.problem("SIG-01", signatureFile, "signature is not detached: it embeds content (eContent); sign manifest.json detached")
	}
	if len(sd.signers) != 1 {
		c.problem("SIG-01", signatureFile, "signature has %d signers; Wallet expects exactly one", len(sd.signers))
		if len(sd.signers) == 0 {
			return
		}
	}
	si := sd.signers[0]
	certs := c.parseEmbeddedCerts(sd)
	signer := findSigner(certs, si)
	signingTime, hasTime := c.checkSignedAttrs(si, manifest)
	if signer == nil {
		c.problem("SIG-02", signatureFile, "the signer's certificate is not embedded in the signature")
		c.note("signature not verified: its certificate is missing")
		return
	}
	c.verifySignerInfo(si, signer, manifest)
	c.checkChain(signer, certs)
	c.checkIdentity(signer)
	c.checkValidity(signer, signingTime, hasTime)
}

// parseEmbeddedCerts parses the certificates of sd, reporting SIG-02 for
// those that do not parse.
func (c *checker) parseEmbeddedCerts(sd *signedData) []*x509.Certificate {
	if sd.otherCertForms > 0 {
		c.problem("SIG-02", signatureFile, "signature embeds %d certificates that are not X.509 certificates", sd.otherCertForms)
	}
	var certs []*x509.Certificate
	for i, der := range sd.certs {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			c.problem("SIG-02", signatureFile, "embedded certificate #%d does not parse: %v", i+1, err)
			continue
		}
		certs = append(certs, cert)
	}
	return certs
}

// findSigner returns the embedded certificate si names, or nil.
func findSigner(certs []*x509.Certificate, si signerInfo) *x509.Certificate {
	for _, cert := range certs {
		if si.ski != nil && bytes.Equal(cert.SubjectKeyId, si.ski) {
			return cert
		}
		if si.serial != nil && bytes.Equal(cert.RawIssuer, si.issuer) && cert.SerialNumber.Cmp(si.serial) == 0 {
			return cert
		}
	}
	return nil
}

// checkSignedAttrs checks SIG-03 (contentType, messageDigest and a UTC
// signingTime among DER-sorted signed attributes) and the messageDigest
// half of SIG-01. It returns the signing time when there is a valid one.
func (c *checker) checkSignedAttrs(si signerInfo, manifest []byte) (signingTime time.Time, ok bool) {
	if si.signedAttrs == nil {
		c.problem("SIG-03", signatureFile, "signature has no signed attributes; Wallet requires signingTime, contentType and messageDigest")
		return time.Time{}, false
	}
	attrs, sorted, err := parseAttributes(si.signedAttrs)
	if err != nil {
		c.problem("SIG-03", signatureFile, "signed attributes do not parse: %v", err)
		return time.Time{}, false
	}
	if !sorted {
		c.problem("SIG-03", signatureFile, "signed attributes are not in DER order (a SET OF must be sorted)")
	}
	find := func(oid asn1.ObjectIdentifier, name, hint string) (cryptobyte.String, bool) {
		for _, a := range attrs {
			if !a.oid.Equal(oid) {
				continue
			}
			if len(a.values) != 1 {
				c.problem("SIG-03", signatureFile, "signed attribute %s has %d values instead of one", name, len(a.values))
				return nil, false
			}
			return a.values[0], true
		}
		c.problem("SIG-03", signatureFile, "signed attribute %s is missing%s", name, hint)
		return nil, false
	}
	if v, found := find(oidContentType, "contentType", ""); found {
		var ct asn1.ObjectIdentifier
		if !v.ReadASN1ObjectIdentifier(&ct) || !ct.Equal(oidData) {
			c.problem("SIG-03", signatureFile, "signed attribute contentType is not id-data")
		}
	}
	if v, found := find(oidMessageDigest, "messageDigest", ""); found {
		var digest cryptobyte.String
		h, known := digestHash(si.digestAlg)
		switch {
		case !v.ReadASN1(&digest, cbasn1.OCTET_STRING):
			c.problem("SIG-03", signatureFile, "signed attribute messageDigest is not an OCTET STRING")
		case !known:
			// verifySignerInfo reports the unsupported algorithm.
		default:
			hh := h.New()
			hh.Write(manifest)
			if !constantTimeEqual(digest, hh.Sum(nil)) {
				c.problem("SIG-01", signatureFile, "the signature's messageDigest does not match manifest.json: it was made over other bytes")
			}
		}
	}
	if v, found := find(oidSigningTime, "signingTime", ` (iOS logs "Signature must contain a signing date")`); found {
		signingTime, ok = c.parseSigningTime(v)
	}
	return signingTime, ok
}

// parseSigningTime decodes a signingTime value, reporting SIG-03 unless it
// is a UTCTime in UTC with seconds, as RFC 5652 requires before 2050.
func (c *checker) parseSigningTime(v cryptobyte.String) (time.Time, bool) {
	var raw cryptobyte.String
	switch {
	case v.PeekASN1Tag(cbasn1.UTCTime):
		v.ReadASN1(&raw, cbasn1.UTCTime)
		t, err := time.Parse("060102150405Z", string(raw))
		if err != nil || len(raw) != len("060102150405Z") {
			c.problem("SIG-03", signatureFile, "signingTime %q is not a UTC time of the form YYMMDDhhmmssZ", string(raw))
			return time.Time{}, false
		}
		if t.Year() >= 2050 { // two-digit years 50-99 mean 1950-1999
			t = t.AddDate(-100, 0, 0)
		}
		return t, true
	case v.PeekASN1Tag(cbasn1.GeneralizedTime):
		v.ReadASN1(&raw, cbasn1.GeneralizedTime)
		t, err := time.Parse("20060102150405Z", string(raw))
		if err != nil || len(raw) != len("20060102150405Z") {
			c.problem("SIG-03", signatureFile, "signingTime %q is not a UTC time of the form YYYYMMDDhhmmssZ", string(raw))
			return time.Time{}, false
		}
		if t.Year() >= 1950 && t.Year() < 2050 {
			c.problem("SIG-03", signatureFile, "signingTime is a GeneralizedTime; dates before 2050 must be UTCTime")
		}
		return t, true
	}
	c.problem("SIG-03", signatureFile, "signingTime is neither a UTCTime nor a GeneralizedTime")
	return time.Time{}, false
}

// verifySignerInfo checks the cryptographic half of SIG-01: the signature
// value verifies with the signer's key over the signed attributes (or, if
// there are none, over manifest.json itself).
func (c *checker) verifySignerInfo(si signerInfo, signer *x509.Certificate, manifest []byte) {
	h, ok := digestHash(si.digestAlg)
	if !ok {
		c.problem("SIG-01", signatureFile, "signature uses digest algorithm %v; use SHA-256 or SHA-1", si.digestAlg)
		return
	}
	alg, ok := signatureAlgorithm(si.sigAlg, h)
	if !ok {
		c.problem("SIG-01", signatureFile, "signature uses unsupported signature algorithm %v", si.sigAlg)
		return
	}
	signed := manifest
	if si.signedAttrs != nil {
		var err error
		if signed, err = signedAttrsDER(si.signedAttrs); err != nil {
			c.problem("SIG-01", signatureFile, "signed attributes cannot be re-encoded: %v", err)
			return
		}
	}
	if err := signer.CheckSignature(alg, signed, si.signature); err != nil {
		c.problem("SIG-01", signatureFile, "signature does not verify with the signer's key: %v", err)
	}
}

// constantTimeEqual compares two digests.
func constantTimeEqual(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}
