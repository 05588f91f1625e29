package passcheck

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestPassJSONRules(t *testing.T) {
	// set returns a case body that sets pass.json key k to v.
	set := func(k string, v any) func(*testing.T, *build, *Options) {
		return func(t *testing.T, b *build, o *Options) { b.pass[k] = v }
	}
	del := func(k string) func(*testing.T, *build, *Options) {
		return func(t *testing.T, b *build, o *Options) { delete(b.pass, k) }
	}
	// field returns a case body that edits the first field of a list.
	field := func(list string, edit func(f map[string]any)) func(*testing.T, *build, *Options) {
		return func(t *testing.T, b *build, o *Options) {
			edit(b.storeCard()[list].([]any)[0].(map[string]any))
		}
	}
	barcode := func(edit func(bc map[string]any)) func(*testing.T, *build, *Options) {
		return func(t *testing.T, b *build, o *Options) { edit(b.pass["barcodes"].([]any)[0].(map[string]any)) }
	}
	runRuleCases(t, []ruleCase{
		{name: "JSON-01 serialNumber missing", want: []string{"JSON-01"}, break_: del("serialNumber")},
		{name: "JSON-01 description empty", want: []string{"JSON-01"}, break_: set("description", "")},
		{name: "JSON-01 formatVersion a string", want: []string{"JSON-01"}, break_: set("formatVersion", "1")},
		{name: "JSON-01 formatVersion 2", want: []string{"JSON-01"}, break_: set("formatVersion", 2)},
		{name: "JSON-01 formatVersion missing", want: []string{"JSON-01"}, break_: del("formatVersion")},

		{name: "JSON-02 no style", want: []string{"JSON-02"}, break_: del("storeCard")},
		{name: "JSON-02 two styles", want: []string{"JSON-02"}, break_: set("generic", map[string]any{})},
		{name: "JSON-02 style not an object", want: []string{"JSON-02"}, break_: set("storeCard", []any{})},

		{name: "JSON-03 token without URL", want: []string{"JSON-03"}, break_: del("webServiceURL")},
		{name: "JSON-03 URL without token", want: []string{"JSON-03"}, break_: del("authenticationToken")},
		{name: "JSON-03 plain http", want: []string{"JSON-03"}, break_: set("webServiceURL", "http://localhost:8080/wallet")},
		{name: "JSON-03 relative URL", want: []string{"JSON-03"}, break_: set("webServiceURL", "/wallet")},
		{name: "JSON-03 short token", want: []string{"JSON-03"}, break_: set("authenticationToken", "0123456789abcde")},
		{name: "JSON-03 neither URL nor token is fine", want: nil,
			break_: func(t *testing.T, b *build, o *Options) {
				delete(b.pass, "webServiceURL")
				delete(b.pass, "authenticationToken")
			}},

		{name: "JSON-04 barcodes an object", want: []string{"JSON-04"},
			break_: func(t *testing.T, b *build, o *Options) { b.pass["barcodes"] = b.pass["barcodes"].([]any)[0] }},
		{name: "JSON-04 unknown format", want: []string{"JSON-04"}, break_: barcode(func(bc map[string]any) { bc["format"] = "QR" })},
		{name: "JSON-04 no message", want: []string{"JSON-04"}, break_: barcode(func(bc map[string]any) { delete(bc, "message") })},
		{name: "JSON-04 no messageEncoding", want: []string{"JSON-04"}, break_: barcode(func(bc map[string]any) { delete(bc, "messageEncoding") })},
		{name: "JSON-04 Cyrillic in ISO-8859-1", want: []string{"JSON-04"}, break_: barcode(func(bc map[string]any) { bc["message"] = "Карта 42" })},
		{name: "JSON-04 Cyrillic in UTF-8 is fine", want: nil,
			break_: barcode(func(bc map[string]any) { bc["message"], bc["messageEncoding"] = "Карта 42", "utf-8" })},
		{name: "JSON-04 bad deprecated barcode", want: []string{"JSON-04"}, break_: set("barcode", map[string]any{"format": "PKBarcodeFormatQR"})},

		{name: "JSON-05 hex colour", want: []string{"JSON-05"}, break_: set("backgroundColor", "#3c414c")},
		{name: "JSON-05 channel over 255", want: []string{"JSON-05"}, break_: set("foregroundColor", "rgb(256, 0, 0)")},
		{name: "JSON-05 rgba", want: []string{"JSON-05"}, break_: set("labelColor", "rgba(1, 2, 3, 0.5)")},

		{name: "JSON-06 duplicate key", want: []string{"JSON-06"},
			break_: field("backFields", func(f map[string]any) { f["key"] = "balance" })},
		{name: "JSON-06 value an object", want: []string{"JSON-06"},
			break_: field("secondaryFields", func(f map[string]any) { f["value"] = map[string]any{"x": 1} })},
		{name: "JSON-06 value missing", want: []string{"JSON-06"},
			break_: field("headerFields", func(f map[string]any) { delete(f, "value") })},
		{name: "JSON-06 date without time zone", want: []string{"JSON-06"},
			break_: field("auxiliaryFields", func(f map[string]any) { f["value"] = "2026-01-31T18:00:00" })},
		{name: "JSON-06 textAlignment on a primary field", want: []string{"JSON-06"},
			break_: field("primaryFields", func(f map[string]any) { f["textAlignment"] = "PKTextAlignmentLeft" })},
		{name: "JSON-06 textAlignment on a back field", want: []string{"JSON-06"},
			break_: field("backFields", func(f map[string]any) { f["textAlignment"] = "PKTextAlignmentNatural" })},
		{name: "JSON-06 changeMessage without %@", want: []string{"JSON-06"},
			break_: field("primaryFields", func(f map[string]any) { f["changeMessage"] = "Your balance changed" })},
		{name: "JSON-06 numberStyle on a string", want: []string{"JSON-06"},
			break_: field("secondaryFields", func(f map[string]any) { f["numberStyle"] = "PKNumberStyleDecimal" })},
		{name: "JSON-06 fields not an array", want: []string{"JSON-06"},
			break_: func(t *testing.T, b *build, o *Options) { b.storeCard()["backFields"] = map[string]any{} }},

		{name: "JSON-07 relevantDate without time", want: []string{"JSON-07", "JSON-10"}, break_: set("relevantDate", "2026-01-31")},
		{name: "JSON-07 expirationDate without time zone", want: []string{"JSON-07"}, break_: set("expirationDate", "2030-01-31T18:00")},
		{name: "JSON-07 impossible date", want: []string{"JSON-07"}, break_: set("expirationDate", "2030-02-31T18:00Z")},
		{name: "JSON-07 relevantDates entry", want: []string{"JSON-07", "JSON-10"},
			break_: set("relevantDates", []any{map[string]any{"startDate": "2026-01-31T10:00Z", "endDate": "tomorrow"}})},

		{name: "JSON-10 two primary fields on a store card", want: []string{"JSON-10"},
			break_: func(t *testing.T, b *build, o *Options) {
				sc := b.storeCard()
				sc["primaryFields"] = append(sc["primaryFields"].([]any), map[string]any{"key": "stamps", "value": 3})
			}},
		{name: "JSON-10 four header fields", want: []string{"JSON-10"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.storeCard()["headerFields"] = []any{map[string]any{"key": "h1", "value": 1}, map[string]any{"key": "h2", "value": 2},
					map[string]any{"key": "h3", "value": 3}, map[string]any{"key": "h4", "value": 4}}
			}},
		{name: "JSON-10 five fields beside a QR code", want: []string{"JSON-10"}, break_: fiveSmallFields},
		{name: "JSON-10 five fields beside a PDF417 code are fine", want: nil,
			break_: func(t *testing.T, b *build, o *Options) {
				fiveSmallFields(t, b, o)
				b.pass["barcodes"].([]any)[0].(map[string]any)["format"] = "PKBarcodeFormatPDF417"
			}},
		{name: "JSON-10 relevantDate on a store card", want: []string{"JSON-10"}, break_: set("relevantDate", "2026-01-31T18:00+03:00")},
		{name: "JSON-10 relevantDate on a generic pass is fine", want: nil,
			break_: func(t *testing.T, b *build, o *Options) {
				asStyle(b, "generic")
				b.pass["relevantDate"] = "2026-01-31T18:00+03:00"
			}},
		{name: "JSON-10 relevantDate on a coupon", want: []string{"JSON-10"},
			break_: func(t *testing.T, b *build, o *Options) {
				asStyle(b, "coupon")
				b.pass["relevantDate"] = "2026-01-31T18:00+03:00"
			}},
		{name: "JSON-10 a voided coupon is fine", want: nil,
			break_: func(t *testing.T, b *build, o *Options) {
				asStyle(b, "coupon")
				b.pass["voided"] = true
			}},
		{name: "JSON-10 voided a string", want: []string{"JSON-10"}, break_: set("voided", "yes")},

		{name: "JSON-08 appLaunchURL alone", want: []string{"JSON-08"}, break_: set("appLaunchURL", "coffee://card")},
		{name: "JSON-08 appLaunchURL with store IDs is fine", want: nil,
			break_: func(t *testing.T, b *build, o *Options) {
				b.pass["appLaunchURL"] = "coffee://card"
				b.pass["associatedStoreIdentifiers"] = []any{284882215}
			}},
		{name: "JSON-08 store ID not a number", want: []string{"JSON-08"}, break_: set("associatedStoreIdentifiers", []any{"284882215"})},

		{name: "JSON-09 nfc and personalization are fine", want: nil,
			break_: func(t *testing.T, b *build, o *Options) { addPersonalization(t, b) }},
		{name: "JSON-09 nfc key not P-256", want: []string{"JSON-09"},
			break_: set("nfc", map[string]any{"message": "1234", "encryptionPublicKey": base64.StdEncoding.EncodeToString([]byte("junk"))})},
		{name: "JSON-09 nfc message too long", want: []string{"JSON-09"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.pass["nfc"] = map[string]any{"message": strings.Repeat("x", 65), "encryptionPublicKey": nfcKey(t)}
			}},
		{name: "JSON-09 personalization without nfc", want: []string{"JSON-09"},
			break_: func(t *testing.T, b *build, o *Options) {
				addPersonalization(t, b)
				delete(b.pass, "nfc")
			}},
		{name: "JSON-09 personalization without logo", want: []string{"JSON-09"},
			break_: func(t *testing.T, b *build, o *Options) {
				addPersonalization(t, b)
				delete(b.files, "personalizationLogo@2x.png")
			}},
		{name: "JSON-09 bad personalization.json", want: []string{"JSON-09"},
			break_: func(t *testing.T, b *build, o *Options) {
				addPersonalization(t, b)
				b.files[personalizationFile] = []byte(`{"requiredPersonalizationFields": ["PKPassPersonalizationFieldAge"]}`)
			}},
	})
}

// fiveSmallFields gives the store card three secondary and two auxiliary
// fields.
func fiveSmallFields(t *testing.T, b *build, o *Options) {
	sc := b.storeCard()
	sc["secondaryFields"] = []any{map[string]any{"key": "s1", "value": 1}, map[string]any{"key": "s2", "value": 2},
		map[string]any{"key": "s3", "value": 3}}
	sc["auxiliaryFields"] = []any{map[string]any{"key": "a1", "value": 1}, map[string]any{"key": "a2", "value": 2}}
}

// asStyle moves the store card's fields under another style key.
func asStyle(b *build, style string) {
	b.pass[style] = b.pass["storeCard"]
	delete(b.pass, "storeCard")
}

func TestImagesTheStyleDoesNotShowAreNoted(t *testing.T) {
	b := newBuild(t)
	b.files["thumbnail.png"] = pngImage(t, 90)
	rep := Check(b.bytes(t), Options{})
	assertRules(t, rep)
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "does not show thumbnail") }) {
		t.Errorf("no note about the thumbnail:\n%s", dump(rep))
	}
}

func TestDeprecatedBarcodeIsNoted(t *testing.T) {
	b := newBuild(t)
	b.pass["barcode"] = b.pass["barcodes"].([]any)[0]
	rep := Check(b.bytes(t), Options{})
	assertRules(t, rep)
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "deprecated barcode") }) {
		t.Errorf("no note about the deprecated barcode key:\n%s", dump(rep))
	}
}

func TestIsW3CDate(t *testing.T) {
	for s, want := range map[string]bool{
		"2026-01-31T18:00Z":             true,
		"2026-01-31T18:00:05+03:00":     true,
		"2026-01-31T18:00:05.123-05:30": true,
		"2026-01-31T18:00":              false,
		"2026-01-31":                    false,
		"2026-01-31T18:00+0300":         false,
		"2026-13-01T18:00Z":             false,
		"2026-01-31 18:00Z":             false,
	} {
		if got := isW3CDate(s); got != want {
			t.Errorf("isW3CDate(%q) = %v, want %v", s, got, want)
		}
	}
}

// addPersonalization turns the build into a valid rewards-enrollment pass:
// nfc in pass.json, personalization.json and its logo.
func addPersonalization(t *testing.T, b *build) {
	t.Helper()
	b.pass["nfc"] = map[string]any{"message": "card:0001", "encryptionPublicKey": nfcKey(t)}
	b.files[personalizationFile] = jsonBytes(t, map[string]any{
		"description":                   "Join Coffee Co rewards",
		"requiredPersonalizationFields": []string{"PKPassPersonalizationFieldName", "PKPassPersonalizationFieldPhoneNumber"},
		"termsAndConditions":            "You agree to receive our offers.",
	})
	b.files["personalizationLogo@2x.png"] = pngImage(t, 20)
}

// nfcKey returns a base64 SubjectPublicKeyInfo of a fresh P-256 key.
func nfcKey(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func jsonBytes(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
