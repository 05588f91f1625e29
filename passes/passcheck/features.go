package passcheck

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
)

// maxNFCMessage is the longest NFC payload, in bytes, Wallet sends.
const maxNFCMessage = 64

// personalizationLogo matches the enrollment sheet's logo files.
var personalizationLogo = regexp.MustCompile(`^personalizationLogo(@[23]x)?\.png$`)

// personalizationFields are the values requiredPersonalizationFields allows.
var personalizationFields = map[string]bool{
	"PKPassPersonalizationFieldName":         true,
	"PKPassPersonalizationFieldPostalCode":   true,
	"PKPassPersonalizationFieldEmailAddress": true,
	"PKPassPersonalizationFieldPhoneNumber":  true,
}

// checkAppLaunch checks JSON-08: appLaunchURL needs
// associatedStoreIdentifiers, which are App Store IDs (integers).
func (c *checker) checkAppLaunch() {
	ids, hasIDs := c.pass["associatedStoreIdentifiers"]
	if hasIDs {
		list, ok := ids.([]any)
		if !ok {
			c.problem("JSON-08", passFile, "pass.json: associatedStoreIdentifiers must be an array of App Store IDs")
		}
		for i, id := range list {
			if n, ok := id.(json.Number); !ok || !isInteger(n) {
				c.problem("JSON-08", passFile, "pass.json: associatedStoreIdentifiers[%d] %s is not an integer App Store ID", i, jsonText(id))
			}
		}
		hasIDs = len(list) > 0
	}
	u, ok := c.pass["appLaunchURL"]
	if !ok {
		return
	}
	if _, isString := u.(string); !isString {
		c.problem("JSON-08", passFile, "pass.json: appLaunchURL must be a string")
	}
	if !hasIDs {
		c.problem("JSON-08", passFile, "pass.json has appLaunchURL but no associatedStoreIdentifiers; Wallet ignores the URL without the app's App Store ID")
	}
}

// isInteger reports whether n is a whole number.
func isInteger(n json.Number) bool {
	_, err := n.Int64()
	return err == nil
}

// checkNFC checks the nfc half of JSON-09: a message of at most 64 bytes and
// a P-256 encryption public key. Whether the certificate carries the NFC
// entitlement is Apple's record, not the certificate's, so it is noted.
func (c *checker) checkNFC() {
	v, ok := c.pass["nfc"]
	if !ok {
		return
	}
	c.note("pass.json has nfc: it installs only when signed with a Pass Type ID certificate that has the NFC entitlement, which this check cannot see")
	nfc, ok := v.(map[string]any)
	if !ok {
		c.problem("JSON-09", passFile, "pass.json: nfc must be an object")
		return
	}
	switch msg, ok := nfc["message"].(string); {
	case !ok || msg == "":
		c.problem("JSON-09", passFile, "pass.json: nfc.message must be a non-empty string")
	case len(msg) > maxNFCMessage:
		c.problem("JSON-09", passFile, "pass.json: nfc.message has %d bytes; at most %d are allowed", len(msg), maxNFCMessage)
	}
	key, _ := nfc["encryptionPublicKey"].(string)
	if err := checkNFCKey(key); err != "" {
		c.problem("JSON-09", passFile, "pass.json: nfc.encryptionPublicKey %s", err)
	}
	if r, ok := nfc["requiresAuthentication"]; ok {
		if _, isBool := r.(bool); !isBool {
			c.problem("JSON-09", passFile, "pass.json: nfc.requiresAuthentication must be true or false")
		}
	}
}

// checkNFCKey says what is wrong with an nfc encryptionPublicKey, or ""
// when it is a base64 SubjectPublicKeyInfo of a P-256 key.
func checkNFCKey(key string) string {
	if key == "" {
		return "is missing"
	}
	der, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return "is not base64"
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return fmt.Sprintf("is not an X.509 SubjectPublicKeyInfo: %v", err)
	}
	if ec, ok := pub.(*ecdsa.PublicKey); !ok || ec.Curve != elliptic.P256() {
		return "is not a P-256 (ECDH) public key"
	}
	return ""
}

// checkPersonalization checks the personalization half of JSON-09:
// rewards enrollment needs nfc in pass.json, personalization.json and a
// personalizationLogo, and personalization.json must be well formed.
func (c *checker) checkPersonalization() {
	_, hasJSON := c.files[personalizationFile]
	var logo string
	for _, name := range c.order {
		if personalizationLogo.MatchString(path.Base(name)) {
			logo = name
			break
		}
	}
	if !hasJSON && logo == "" {
		return
	}
	if _, ok := c.pass["nfc"]; !ok {
		c.problem("JSON-09", personalizationFile, "the package has personalization files but pass.json has no nfc; rewards enrollment works only for NFC passes")
	}
	if !hasJSON {
		c.problem("JSON-09", logo, "the package has %s but no personalization.json", logo)
	}
	if logo == "" {
		c.problem("JSON-09", personalizationFile, "the package has personalization.json but no personalizationLogo.png")
	}
	c.note("a personalized pass (the one served after /personalize) must not carry personalization.json again; this check cannot tell which kind this is")
	p := c.personalization
	if p == nil {
		return // missing (reported above) or invalid (PKG-04)
	}
	if d, _ := p["description"].(string); d == "" {
		c.problem("JSON-09", personalizationFile, "personalization.json: description must be a non-empty string")
	}
	fields, _ := p["requiredPersonalizationFields"].([]any)
	if len(fields) == 0 {
		c.problem("JSON-09", personalizationFile, "personalization.json: requiredPersonalizationFields must be a non-empty array")
	}
	for i, f := range fields {
		if name, _ := f.(string); !personalizationFields[name] {
			c.problem("JSON-09", personalizationFile, "personalization.json: requiredPersonalizationFields[%d] %s is not a PKPassPersonalizationField value", i, jsonText(f))
		}
	}
	if t, ok := p["termsAndConditions"]; ok {
		if _, isString := t.(string); !isString {
			c.problem("JSON-09", personalizationFile, "personalization.json: termsAndConditions must be a string")
		}
	}
}
