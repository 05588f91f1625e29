package passcheck

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"slices"
	"strings"
	"time"
)

// oidUID is the userId attribute in which Apple puts the pass type ID of a
// Pass Type ID certificate.
var oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}

// expiryWarning is how long before the pass certificate expires the report
// starts warning about it.
const expiryWarning = 30 * 24 * time.Hour

// checkChain checks SIG-02: the signature embeds the intermediate that
// issued the pass certificate and, given roots, the chain reaches one.
func (c *checker) checkChain(signer *x509.Certificate, certs []*x509.Certificate) {
	var issuer *x509.Certificate
	var sameName []*x509.Certificate
	for _, cert := range certs {
		if bytes.Equal(cert.Raw, signer.Raw) || !bytes.Equal(cert.RawSubject, signer.RawIssuer) {
			continue
		}
		sameName = append(sameName, cert)
		if signer.CheckSignatureFrom(cert) == nil {
			issuer = cert
			break
		}
	}
	switch {
	case bytes.Equal(signer.RawIssuer, signer.RawSubject) && signer.CheckSignatureFrom(signer) == nil:
		c.problem("SIG-02", signatureFile, "the pass certificate is self-signed; it must be issued by Apple WWDR")
	case issuer == nil && len(sameName) > 0:
		c.problem("SIG-02", signatureFile, "the embedded %q has the issuer's name but did not sign the pass certificate: embed the intermediate that issued it (WWDR G4 for certificates issued since 2022-01-27)", sameName[0].Subject.CommonName)
	case issuer == nil:
		c.problem("SIG-02", signatureFile, "the intermediate that issued the pass certificate (%s) is not embedded; the signature must carry the pass certificate and the WWDR intermediate", signer.Issuer.CommonName)
	}
	if issuer != nil {
		c.checkIssuer(signer, issuer)
	}
	if issuer != nil && len(certs) > 2 {
		c.note("the signature embeds %d certificate(s) besides the pass certificate and its issuer; Wallet does not need them", len(certs)-2)
	}
	if c.opts.Roots == nil {
		c.note("chain to a trusted root not checked: no root certificates given (Apple Root CA for production passes)")
		return
	}
	intermediates := x509.NewCertPool()
	for _, cert := range certs {
		if !bytes.Equal(cert.Raw, signer.Raw) {
			intermediates.AddCert(withoutAppleCritical(cert))
		}
	}
	// The leaf's own dates are SIG-05's business; verify the chain at a
	// time the leaf is valid so an expired leaf is not reported twice.
	at := c.opts.Now
	if at.Before(signer.NotBefore) {
		at = signer.NotBefore
	}
	if at.After(signer.NotAfter) {
		at = signer.NotAfter
	}
	_, err := withoutAppleCritical(signer).Verify(x509.VerifyOptions{
		Roots:         c.opts.Roots,
		Intermediates: intermediates,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		c.problem("SIG-02", signatureFile, "the certificate chain does not lead to a trusted root: %v", err)
	}
}

// oidApple is the arc under which Apple defines its private certificate
// extensions.
var oidApple = asn1.ObjectIdentifier{1, 2, 840, 113635}

// withoutAppleCritical returns cert, or a copy of it that no longer lists
// Apple's private extensions as unhandled critical ones. iOS understands
// them; Go's verifier would reject the chain over them ("unhandled critical
// extension", as it does for some Apple developer certificates).
func withoutAppleCritical(cert *x509.Certificate) *x509.Certificate {
	keep := slices.DeleteFunc(slices.Clone(cert.UnhandledCriticalExtensions), func(oid asn1.ObjectIdentifier) bool {
		return len(oid) > len(oidApple) && slices.Equal(oid[:len(oidApple)], oidApple)
	})
	if len(keep) == len(cert.UnhandledCriticalExtensions) {
		return cert
	}
	clone := *cert
	clone.UnhandledCriticalExtensions = keep
	return &clone
}

// checkIssuer checks the intermediate that signed the pass certificate.
func (c *checker) checkIssuer(signer, issuer *x509.Certificate) {
	if len(signer.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 && !bytes.Equal(signer.AuthorityKeyId, issuer.SubjectKeyId) {
		c.problem("SIG-02", signatureFile, "the pass certificate's authority key identifier does not match the intermediate's subject key identifier")
	}
	switch now := c.opts.Now; {
	case now.After(issuer.NotAfter):
		c.problem("SIG-02", signatureFile, "the intermediate %q expired on %s", issuer.Subject.CommonName, day(issuer.NotAfter))
	case now.Before(issuer.NotBefore):
		c.problem("SIG-02", signatureFile, "the intermediate %q is not valid until %s", issuer.Subject.CommonName, day(issuer.NotBefore))
	}
	if strings.Contains(issuer.Subject.CommonName, "Worldwide Developer Relations") && !slices.Contains(issuer.Subject.OrganizationalUnit, "G4") {
		c.note("the intermediate is not WWDR G4 (OU %v); Pass Type ID certificates issued since 2022-01-27 chain to G4", issuer.Subject.OrganizationalUnit)
	}
}

// checkIdentity checks SIG-04: the certificate's UID (or "Pass Type ID: …"
// common name) is the pass type ID and its OU the team ID of pass.json, and
// both are the ones Options expect.
func (c *checker) checkIdentity(signer *x509.Certificate) {
	certID := ""
	for _, atv := range signer.Subject.Names {
		if s, ok := atv.Value.(string); ok && atv.Type.Equal(oidUID) {
			certID = s
		}
	}
	if cn, ok := strings.CutPrefix(signer.Subject.CommonName, "Pass Type ID: "); ok && certID == "" {
		certID = cn
	}
	passID, _ := c.pass["passTypeIdentifier"].(string)
	teamID, _ := c.pass["teamIdentifier"].(string)
	switch {
	case certID == "":
		c.problem("SIG-04", signatureFile, "the signing certificate names no pass type ID (no UID, and its common name is not \"Pass Type ID: …\"); sign with a Pass Type ID certificate")
	case passID != "" && certID != passID:
		c.problem("SIG-04", signatureFile, "the signing certificate is for pass type ID %q, but pass.json's passTypeIdentifier is %q", certID, passID)
	}
	ou := signer.Subject.OrganizationalUnit
	switch {
	case len(ou) == 0:
		c.problem("SIG-04", signatureFile, "the signing certificate has no OU (team ID)")
	case teamID != "" && !slices.Contains(ou, teamID):
		c.problem("SIG-04", signatureFile, "the signing certificate is for team %q, but pass.json's teamIdentifier is %q", strings.Join(ou, ","), teamID)
	}
	if passID == "" {
		passID = certID
	}
	if want := c.opts.PassTypeID; want != "" && passID != want {
		c.problem("SIG-04", passFile, "the pass type ID is %q, expected %q", passID, want)
	}
	if teamID == "" && len(ou) > 0 {
		teamID = ou[0]
	}
	if want := c.opts.TeamID; want != "" && teamID != want {
		c.problem("SIG-04", passFile, "the team ID is %q, expected %q", teamID, want)
	}
}

// checkValidity checks SIG-05: the pass certificate is valid now and was
// valid when the pass was signed. Revocation needs Apple's OCSP responder,
// which an offline check cannot ask.
func (c *checker) checkValidity(signer *x509.Certificate, signingTime time.Time, hasTime bool) {
	now := c.opts.Now
	switch {
	case now.Before(signer.NotBefore):
		c.problem("SIG-05", signatureFile, "the pass certificate is not valid until %s", day(signer.NotBefore))
	case now.After(signer.NotAfter):
		c.problem("SIG-05", signatureFile, "the pass certificate expired on %s", day(signer.NotAfter))
	case signer.NotAfter.Sub(now) < expiryWarning:
		c.note("the pass certificate expires on %s, within 30 days: renew it", day(signer.NotAfter))
	}
	if hasTime && (signingTime.Before(signer.NotBefore) || signingTime.After(signer.NotAfter)) {
		c.problem("SIG-05", signatureFile, "the pass was signed at %s, outside the certificate's validity (%s to %s)",
			signingTime.UTC().Format(time.RFC3339), day(signer.NotBefore), day(signer.NotAfter))
	}
	c.note("certificate revocation not checked: it needs Apple's OCSP responder")
}

// day formats a certificate date for a message.
func day(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
