package google

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/passes"
)

const testIssuerID = "3388000000022141777"

// testSerial has the shape of the store's serials (lower-case rand.Text).
const testSerial = "k7q2m4xw9zt5r3ybn6vc8dh2aj"

func testIssuer() Issuer {
	return Issuer{ID: testIssuerID, PublicURL: "https://cards.example.com", CallbackURL: "https://cards.example.com/google/callback"}
}

func testProgram() passes.Program {
	return passes.Program{
		ID:               "prg_d4k2j7",
		OrganizationName: "Кофейня «Зерно»",
		Name:             "Зерно+",
		CurrencyLabel:    "баллы",
		EarnRateBP:       250,
		Terms:            "Баллы сгорают через год.",
		BarcodeFormat:    passes.BarcodeQR,
		Locale:           passes.LocaleRU,
		Design:           passes.Design{BackgroundColor: "#3b2a1f"},
	}
}

func testCard() passes.Card {
	return passes.Card{
		SerialNumber: testSerial,
		Number:       "2000123456789",
		HolderName:   "Анна",
		Balance:      120,
		Tier:         "Gold",
		UpdatedAt:    time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
	}
}

// wire marshals v as the Go client would send it and decodes it back into
// a generic map, so tests assert the JSON on the wire, not Go fields.
func wire(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return m
}

// at walks a path of map keys and slice indexes ("textModulesData.0.id").
func at(t *testing.T, m map[string]any, path string) any {
	t.Helper()
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[part]
		case []any:
			i := int(part[0] - '0')
			if len(part) != 1 || i >= len(c) {
				t.Fatalf("%s: no element %s", path, part)
			}
			cur = c[i]
		default:
			t.Fatalf("%s: %s is not a container", path, part)
		}
	}
	return cur
}
