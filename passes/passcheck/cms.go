package passcheck

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The CMS is decoded by hand rather than with github.com/smallstep/pkcs7:
// that library ignores decoding errors in SignedData, cannot identify a
// signer by subject key identifier (which iOS accepts), re-encodes the
// signed attributes instead of checking the bytes that were signed, and
// does not expose whether eContent is present. cryptobyte accepts DER only,
// which is exactly what the checklist demands.

// Object identifiers of RFC 5652 and PKCS #9.
var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
)

// Context-specific tags used by SignedData and SignerInfo.
var (
	tagCons0 = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagPrim0 = cbasn1.Tag(0).ContextSpecific()
	tagCons1 = cbasn1.Tag(1).Constructed().ContextSpecific()
)

// signedData is the part of a CMS SignedData that Check looks at.
type signedData struct {
	eContentType    asn1.ObjectIdentifier
	eContentPresent bool
	certs           [][]byte // DER of each embedded certificate
	otherCertForms  int      // certificate choices other than X.509
	signers         []signerInfo
}

// signerInfo is one decoded SignerInfo.
type signerInfo struct {
	// Exactly one of issuer+serial or ski identifies the signer.
	issuer []byte // DER of the issuer Name
	serial *big.Int
	ski    []byte

	digestAlg asn1.ObjectIdentifier
	// signedAttrs is the content of the [0] signedAttrs field, nil when
	// the field is absent.
	signedAttrs []byte
	sigAlg      asn1.ObjectIdentifier
	signature   []byte
}

// attribute is one CMS attribute with its raw DER values.
type attribute struct {
	oid    asn1.ObjectIdentifier
	values []cryptobyte.String // each value's full element, tag included
}

// parseSignedData decodes a DER ContentInfo holding SignedData.
func parseSignedData(der []byte) (*signedData, error) {
	in := cryptobyte.String(der)
	var ci, explicit, sd cryptobyte.String
	var ctype asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("not a single DER SEQUENCE (BER with indefinite lengths, PEM or base64 are not accepted)")
	}
	if !ci.ReadASN1ObjectIdentifier(&ctype) {
		return nil, errors.New("ContentInfo has no content type")
	}
	if !ctype.Equal(oidSignedData) {
		return nil, fmt.Errorf("content type is %v, not signedData", ctype)
	}
	if !ci.ReadASN1(&explicit, tagCons0) || !explicit.ReadASN1(&sd, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed SignedData")
	}
	var version int64
	var digestAlgs, encap cryptobyte.String
	if !sd.ReadASN1Integer(&version) || !sd.ReadASN1(&digestAlgs, cbasn1.SET) || !sd.ReadASN1(&encap, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed SignedData header")
	}
	out := &signedData{}
	if !encap.ReadASN1ObjectIdentifier(&out.eContentType) {
		return nil, errors.New("malformed encapsulated content info")
	}
	out.eContentPresent = encap.PeekASN1Tag(tagCons0)

	var certs cryptobyte.String
	var hasCerts bool
	if !sd.ReadOptionalASN1(&certs, &hasCerts, tagCons0) {
		return nil, errors.New("malformed certificate set")
	}
	for !certs.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !certs.ReadAnyASN1Element(&el, &tag) {
			return nil, errors.New("malformed certificate set")
		}
		if tag != cbasn1.SEQUENCE {
			out.otherCertForms++
			continue
		}
		out.certs = append(out.certs, el)
	}
	var signers cryptobyte.String
	if !sd.SkipOptionalASN1(tagCons1) || !sd.ReadASN1(&signers, cbasn1.SET) {
		return nil, errors.New("malformed SignerInfos")
	}
	for !signers.Empty() {
		var si cryptobyte.String
		if !signers.ReadASN1(&si, cbasn1.SEQUENCE) {
			return nil, errors.New("malformed SignerInfo")
		}
		info, err := parseSignerInfo(si)
		if err != nil {
			return nil, err
		}
		out.signers = append(out.signers, info)
	}
	return out, nil
}

// parseSignerInfo decodes the fields of one SignerInfo SEQUENCE.
func parseSignerInfo(si cryptobyte.String) (signerInfo, error) {
	var info signerInfo
	var version int64
	if !si.ReadASN1Integer(&version) {
		return info, errors.New("SignerInfo has no version")
	}
	switch {
	case si.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias, name cryptobyte.String
		info.serial = new(big.Int)
		if !si.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&name, cbasn1.SEQUENCE) || !ias.ReadASN1Integer(info.serial) {
			return info, errors.New("malformed issuerAndSerialNumber")
		}
		info.issuer = name
	case si.PeekASN1Tag(tagPrim0):
		var ski cryptobyte.String
		if !si.ReadASN1(&ski, tagPrim0) {
			return info, errors.New("malformed subjectKeyIdentifier")
		}
		info.ski = ski
	default:
		return info, errors.New("SignerInfo has an unknown signer identifier")
	}
	var alg, attrs, sigAlg cryptobyte.String
	var hasAttrs bool
	if !si.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&info.digestAlg) {
		return info, errors.New("malformed digest algorithm")
	}
	if !si.ReadOptionalASN1(&attrs, &hasAttrs, tagCons0) {
		return info, errors.New("malformed signed attributes")
	}
	if hasAttrs {
		info.signedAttrs = append([]byte{}, attrs...)
	}
	if !si.ReadASN1(&sigAlg, cbasn1.SEQUENCE) || !sigAlg.ReadASN1ObjectIdentifier(&info.sigAlg) {
		return info, errors.New("malformed signature algorithm")
	}
	var sig cryptobyte.String
	if !si.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return info, errors.New("malformed signature value")
	}
	info.signature = sig
	return info, nil
}

// parseAttributes decodes the content of a signedAttrs field. sorted
// reports whether the attributes are in DER SET OF order, which the
// signature depends on for verifiers that re-encode them.
func parseAttributes(content []byte) (attrs []attribute, sorted bool, err error) {
	in := cryptobyte.String(content)
	sorted = true
	var prev []byte
	for !in.Empty() {
		var el, seq, values cryptobyte.String
		var a attribute
		if !in.ReadASN1Element(&el, cbasn1.SEQUENCE) {
			return nil, false, errors.New("malformed attribute")
		}
		if prev != nil && bytes.Compare(prev, el) > 0 {
			sorted = false
		}
		prev = el
		if !el.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.oid) || !seq.ReadASN1(&values, cbasn1.SET) {
			return nil, false, errors.New("malformed attribute")
		}
		for !values.Empty() {
			var v cryptobyte.String
			var tag cbasn1.Tag
			if !values.ReadAnyASN1Element(&v, &tag) {
				return nil, false, fmt.Errorf("malformed value of attribute %v", a.oid)
			}
			a.values = append(a.values, v)
		}
		attrs = append(attrs, a)
	}
	return attrs, sorted, nil
}

// signedAttrsDER re-tags the signedAttrs content as the SET OF that the
// signature covers (RFC 5652 §5.4).
func signedAttrsDER(content []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(content) })
	return b.Bytes()
}

// digestHash maps a digest algorithm OID to its hash function.
func digestHash(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch oid.String() {
	case "1.3.14.3.2.26":
		return crypto.SHA1, true
	case "2.16.840.1.101.3.4.2.1":
		return crypto.SHA256, true
	case "2.16.840.1.101.3.4.2.2":
		return crypto.SHA384, true
	case "2.16.840.1.101.3.4.2.3":
		return crypto.SHA512, true
	}
	return 0, false
}

// signatureAlgorithm maps a SignerInfo's signature algorithm, which may
// name only the key type (rsaEncryption, id-ecPublicKey), and its digest to
// the x509 algorithm that checks it.
func signatureAlgorithm(sigAlg asn1.ObjectIdentifier, h crypto.Hash) (x509.SignatureAlgorithm, bool) {
	byHash := func(sha1, sha256, sha384, sha512 x509.SignatureAlgorithm) (x509.SignatureAlgorithm, bool) {
		switch h {
		case crypto.SHA1:
			return sha1, true
		case crypto.SHA256:
			return sha256, true
		case crypto.SHA384:
			return sha384, true
		case crypto.SHA512:
			return sha512, true
		}
		return x509.UnknownSignatureAlgorithm, false
	}
	switch sigAlg.String() {
	case "1.2.840.113549.1.1.1": // rsaEncryption
		return byHash(x509.SHA1WithRSA, x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA)
	case "1.2.840.10045.2.1": // id-ecPublicKey
		return byHash(x509.ECDSAWithSHA1, x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512)
	case "1.2.840.113549.1.1.5":
		return x509.SHA1WithRSA, true
	case "1.2.840.113549.1.1.11":
		return x509.SHA256WithRSA, true
	case "1.2.840.113549.1.1.12":
		return x509.SHA384WithRSA, true
	case "1.2.840.113549.1.1.13":
		return x509.SHA512WithRSA, true
	case "1.2.840.10045.4.1":
		return x509.ECDSAWithSHA1, true
	case "1.2.840.10045.4.3.2":
		return x509.ECDSAWithSHA256, true
	case "1.2.840.10045.4.3.3":
		return x509.ECDSAWithSHA384, true
	case "1.2.840.10045.4.3.4":
		return x509.ECDSAWithSHA512, true
	}
	return x509.UnknownSignatureAlgorithm, false
}
