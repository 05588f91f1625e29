package passcheck

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// styleKeys are the pass styles; a pass has exactly one.
var styleKeys = []string{"boardingPass", "coupon", "eventTicket", "generic", "storeCard"}

// barcodeFormats are the formats Wallet renders.
var barcodeFormats = map[string]bool{
	"PKBarcodeFormatQR":      true,
	"PKBarcodeFormatPDF417":  true,
	"PKBarcodeFormatAztec":   true,
	"PKBarcodeFormatCode128": true,
}

// rgbColor is the only colour syntax pass.json accepts.
var rgbColor = regexp.MustCompile(`^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$`)

// minTokenLength is the shortest authenticationToken Wallet accepts.
const minTokenLength = 16

// checkPassJSON checks the JSON rules on pass.json.
func (c *checker) checkPassJSON() {
	if c.pass == nil {
		c.note("pass.json rules (JSON-01..10) skipped: pass.json is missing or invalid")
		return
	}
	c.checkRequiredKeys()
	seen := make(map[string]string) // field key → where it was first used
	styles := c.checkStyle()
	for _, style := range styles {
		c.checkFields(style, c.pass[style].(map[string]any), seen)
	}
	c.checkStyleRules(styles)
	c.checkWebService()
	c.checkBarcodes()
	c.checkColors()
	c.checkDates()
	c.checkAppLaunch()
	c.checkNFC()
	c.checkPersonalization()
}

// checkRequiredKeys checks JSON-01: the required keys are present and
// formatVersion is the number 1.
func (c *checker) checkRequiredKeys() {
	for _, k := range []string{"description", "organizationName", "passTypeIdentifier", "serialNumber", "teamIdentifier"} {
		v, ok := c.pass[k]
		if !ok {
			c.problem("JSON-01", passFile, "pass.json lacks the required key %s", k)
			continue
		}
		if s, ok := v.(string); !ok || s == "" {
			c.problem("JSON-01", passFile, "pass.json: %s must be a non-empty string", k)
		}
	}
	c.rep.PassTypeID, _ = c.pass["passTypeIdentifier"].(string)
	c.rep.SerialNumber, _ = c.pass["serialNumber"].(string)

	v, ok := c.pass["formatVersion"]
	if !ok {
		c.problem("JSON-01", passFile, "pass.json lacks the required key formatVersion")
		return
	}
	switch v := v.(type) {
	case json.Number:
		if f, err := v.Float64(); err != nil || f != 1 {
			c.problem("JSON-01", passFile, "pass.json: formatVersion must be 1, not %s", v)
		}
	case string:
		c.problem("JSON-01", passFile, "pass.json: formatVersion must be the number 1, not the string %q", v)
	default:
		c.problem("JSON-01", passFile, "pass.json: formatVersion must be the number 1")
	}
}

// checkStyle checks JSON-02: exactly one style key, holding an object. It
// returns the style keys whose fields can be checked.
func (c *checker) checkStyle() []string {
	var present, usable []string
	for _, k := range styleKeys {
		v, ok := c.pass[k]
		if !ok {
			continue
		}
		present = append(present, k)
		dict, ok := v.(map[string]any)
		if !ok {
			c.problem("JSON-02", passFile, "pass.json: %s must be an object", k)
			continue
		}
		usable = append(usable, k)
		if _, ok := dict["transitType"].(string); k == "boardingPass" && !ok {
			c.problem("JSON-02", passFile, "pass.json: boardingPass needs a transitType")
		}
	}
	switch len(present) {
	case 0:
		c.problem("JSON-02", passFile, "pass.json has no style key; a loyalty card needs storeCard (a coupon, coupon)")
	case 1:
	default:
		c.problem("JSON-02", passFile, "pass.json has %d style keys (%s); exactly one is allowed", len(present), strings.Join(present, ", "))
	}
	return usable
}

// checkWebService checks JSON-03: webServiceURL and authenticationToken
// come together, the URL is https and the token long enough. Plain http is
// reported too: a device accepts it only with the developer setting that
// allows HTTP web services, so such a pass never updates for customers.
func (c *checker) checkWebService() {
	u, hasURL := c.pass["webServiceURL"]
	tok, hasTok := c.pass["authenticationToken"]
	switch {
	case hasURL && !hasTok:
		c.problem("JSON-03", passFile, "pass.json has webServiceURL without authenticationToken; give both or neither")
	case hasTok && !hasURL:
		c.problem("JSON-03", passFile, "pass.json has authenticationToken without webServiceURL; give both or neither")
	}
	if hasURL {
		s, ok := u.(string)
		parsed, err := url.Parse(s)
		switch {
		case !ok:
			c.problem("JSON-03", passFile, "pass.json: webServiceURL must be a string")
		case err != nil || parsed.Host == "":
			c.problem("JSON-03", passFile, "pass.json: webServiceURL %q is not an absolute URL", s)
		case parsed.Scheme == "https":
		case parsed.Scheme == "http" && c.opts.AllowHTTP:
			c.note("webServiceURL %q uses http: only devices with the developer setting that allows HTTP web services will update this pass", s)
		case parsed.Scheme == "http":
			c.problem("JSON-03", passFile, "pass.json: webServiceURL %q uses http; devices accept it only with the developer setting that allows HTTP web services, so use https", s)
		default:
			c.problem("JSON-03", passFile, "pass.json: webServiceURL %q must use https", s)
		}
	}
	if hasTok {
		s, ok := tok.(string)
		switch {
		case !ok:
			c.problem("JSON-03", passFile, "pass.json: authenticationToken must be a string")
		case utf8.RuneCountInString(s) < minTokenLength:
			c.problem("JSON-03", passFile, "pass.json: authenticationToken has %d characters; it needs at least %d", utf8.RuneCountInString(s), minTokenLength)
		}
	}
}

// checkBarcodes checks JSON-04: barcodes is an array of valid barcodes.
// The deprecated single barcode key is checked the same way and noted.
func (c *checker) checkBarcodes() {
	if v, ok := c.pass["barcodes"]; ok {
		list, ok := v.([]any)
		if !ok {
			c.problem("JSON-04", passFile, "pass.json: barcodes must be an array")
		}
		for i, b := range list {
			c.checkBarcode(fmt.Sprintf("barcodes[%d]", i), b)
		}
	}
	if v, ok := c.pass["barcode"]; ok {
		c.note("pass.json uses the deprecated barcode key; iOS 9 and later read barcodes (an array)")
		c.checkBarcode("barcode", v)
	}
}

// checkBarcode checks one barcode dictionary.
func (c *checker) checkBarcode(where string, v any) {
	b, ok := v.(map[string]any)
	if !ok {
		c.problem("JSON-04", passFile, "pass.json: %s must be an object", where)
		return
	}
	if f, _ := b["format"].(string); !barcodeFormats[f] {
		c.problem("JSON-04", passFile, "pass.json: %s.format %v is not one of PKBarcodeFormatQR, PKBarcodeFormatPDF417, PKBarcodeFormatAztec, PKBarcodeFormatCode128", where, jsonText(b["format"]))
	}
	msg, ok := b["message"].(string)
	if !ok {
		c.problem("JSON-04", passFile, "pass.json: %s.message must be a string", where)
	}
	enc, _ := b["messageEncoding"].(string)
	switch strings.ToLower(enc) {
	case "":
		c.problem("JSON-04", passFile, "pass.json: %s.messageEncoding must name a character set, such as iso-8859-1", where)
	case "iso-8859-1", "latin1", "iso_8859-1":
		if strings.ContainsFunc(msg, func(r rune) bool { return r > 0xFF }) {
			c.problem("JSON-04", passFile, "pass.json: %s.message has characters that ISO-8859-1 cannot encode; use messageEncoding utf-8", where)
		}
	}
	if alt, ok := b["altText"]; ok {
		if _, isString := alt.(string); !isString {
			c.problem("JSON-04", passFile, "pass.json: %s.altText must be a string", where)
		}
	}
}

// checkColors checks JSON-05: colours are rgb(r, g, b) with values 0-255.
func (c *checker) checkColors() {
	for _, k := range []string{"backgroundColor", "foregroundColor", "labelColor"} {
		v, ok := c.pass[k]
		if !ok {
			continue
		}
		s, _ := v.(string)
		if m := rgbColor.FindStringSubmatch(s); m != nil && inByte(m[1]) && inByte(m[2]) && inByte(m[3]) {
			continue
		}
		hint := ""
		if strings.HasPrefix(s, "#") {
			hint = "; convert #rrggbb to rgb()"
		}
		c.problem("JSON-05", passFile, "pass.json: %s %s is not rgb(r, g, b) with values 0-255%s", k, jsonText(v), hint)
	}
}

// inByte reports whether the decimal s is in 0-255.
func inByte(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n <= 255
}

// jsonText renders a decoded JSON value for a message.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 80 {
		return fmt.Sprintf("%.80v", v)
	}
	return string(b)
}
