package passcheck

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// craft makes a CMS signature by hand, for the shapes smallstep/pkcs7 will
// not produce: no signingTime (it always adds one), attached content, a
// subject-key-identifier signer, unsorted attributes and so on. It is
// written independently of the checker's decoder so the two check each
// other.
type craft struct {
	chain           *testChain
	certs           []*x509.Certificate // nil: leaf and intermediate
	hash            crypto.Hash         // zero: SHA-256
	ski             bool                // identify the signer by subject key identifier
	attached        bool                // embed the content (not detached)
	noAttrs         bool                // sign the content directly, no signed attributes
	omit            map[string]bool     // "contentType", "messageDigest", "signingTime"
	unsorted        bool                // put the attributes in descending order
	signingTime     time.Time           // zero: now
	generalizedTime bool                // encode signingTime as GeneralizedTime
	corrupt         bool                // flip a bit of the signature value
	ecdsa           bool                // name the signature algorithm ecdsa-with-SHA256 (the key must be ECDSA)
}

var craftDigestOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA1:   {1, 3, 14, 3, 2, 26},
	crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
}

// sign returns the DER signature over content.
func (cr craft) sign(tb testing.TB, content []byte) []byte {
	tb.Helper()
	if cr.hash == 0 {
		cr.hash = crypto.SHA256
	}
	if cr.certs == nil {
		cr.certs = []*x509.Certificate{cr.chain.leaf, cr.chain.inter}
	}
	if cr.signingTime.IsZero() {
		cr.signingTime = time.Now()
	}
	digest := func(data []byte) []byte {
		h := cr.hash.New()
		h.Write(data)
		return h.Sum(nil)
	}
	var attrs [][]byte
	addAttr := func(name string, oid asn1.ObjectIdentifier, value cryptobyte.BuilderContinuation) {
		if cr.omit[name] {
			return
		}
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		attrs = append(attrs, mustBytes(tb, &b))
	}
	addAttr("contentType", oidContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
	addAttr("messageDigest", oidMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest(content)) })
	addAttr("signingTime", oidSigningTime, func(b *cryptobyte.Builder) {
		if cr.generalizedTime {
			b.AddASN1GeneralizedTime(cr.signingTime.UTC())
		} else {
			b.AddASN1UTCTime(cr.signingTime.UTC())
		}
	})
	slices.SortFunc(attrs, bytes.Compare)
	if cr.unsorted {
		slices.Reverse(attrs)
	}
	attrContent := bytes.Join(attrs, nil)
	toSign := content
	if !cr.noAttrs {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(attrContent) })
		toSign = mustBytes(tb, &b)
	}
	sig, err := cr.chain.key.Sign(rand.Reader, digest(toSign), cr.hash)
	if err != nil {
		tb.Fatal(err)
	}
	if cr.corrupt {
		sig[len(sig)-1] ^= 1
	}

	leaf := cr.chain.leaf
	version := int64(1)
	if cr.ski {
		version = 3
	}
	algID := func(b *cryptobyte.Builder, oid asn1.ObjectIdentifier) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1NULL()
		})
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(tagCons0, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(version)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { algID(b, craftDigestOIDs[cr.hash]) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidData)
					if cr.attached {
						b.AddASN1(tagCons0, func(b *cryptobyte.Builder) { b.AddASN1OctetString(content) })
					}
				})
				b.AddASN1(tagCons0, func(b *cryptobyte.Builder) {
					for _, cert := range cr.certs {
						b.AddBytes(cert.Raw)
					}
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(version)
						if cr.ski {
							b.AddASN1(tagPrim0, func(b *cryptobyte.Builder) { b.AddBytes(leaf.SubjectKeyId) })
						} else {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddBytes(leaf.RawIssuer)
								b.AddASN1BigInt(leaf.SerialNumber)
							})
						}
						algID(b, craftDigestOIDs[cr.hash])
						if !cr.noAttrs {
							b.AddASN1(tagCons0, func(b *cryptobyte.Builder) { b.AddBytes(attrContent) })
						}
						if cr.ecdsa {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2})
							})
						} else {
							algID(b, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1})
						}
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	return mustBytes(tb, &b)
}

func mustBytes(tb testing.TB, b *cryptobyte.Builder) []byte {
	tb.Helper()
	out, err := b.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
