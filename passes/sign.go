package passes

import (
	"errors"
	"fmt"

	"github.com/smallstep/pkcs7"

	"github.com/loyalpass/loyalpass/certs"
)

// Signer makes the detached PKCS #7 signatures Wallet checks: the
// `signature` file of a pass, over its manifest.json, and the signed token a
// personalization request returns. It is safe for concurrent use.
type Signer struct {
	m *certs.Material
}

// NewSigner returns a Signer for the Pass Type ID identity in m.
func NewSigner(m *certs.Material) *Signer {
	return &Signer{m: m}
}

// Sign returns a DER CMS SignedData over content: detached (eContent
// absent), SHA-256, signed attributes contentType, messageDigest and
// signingTime (Wallet refuses a signature without a signing date), and the
// leaf and its intermediate embedded, so the device can chain the leaf to
// Apple's root.
func (s *Signer) Sign(content []byte) ([]byte, error) {
	m := s.m
	if m == nil || m.Leaf == nil || m.Key == nil || m.Intermediate == nil {
		return nil, errors.New("sign: incomplete signing material: need leaf, key and intermediate")
	}
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	// Not AddSignerChain: it checks that the intermediate issued the leaf,
	// an RSA verification on every pass (3.6% of rendering), which
	// certs.Load has done once already. The DER is the same: the signer is
	// named by the leaf's issuer, which Load requires to be the
	// intermediate's subject, and the certificates are leaf, intermediate.
	if err := sd.AddSigner(m.Leaf, m.Key, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	sd.AddCertificate(m.Intermediate)
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return der, nil
}
