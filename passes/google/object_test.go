package google

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"google.golang.org/api/walletobjects/v1"

	"github.com/loyalpass/loyalpass/passes"
)

func TestLoyaltyObjectFields(t *testing.T) {
	c := testCard()
	c.BackFields = []passes.Field{{Key: "expiring.soon", Label: "Сгорят 1 апреля", Value: "40"}}
	o, err := testIssuer().LoyaltyObject(testProgram(), c)
	if err != nil {
		t.Fatal(err)
	}
	m := wire(t, o)
	for path, v := range map[string]any{
		"id":                           testIssuerID + "." + testSerial,
		"classId":                      testIssuerID + ".prg_d4k2j7",
		"state":                        "ACTIVE",
		"accountId":                    "2000123456789",
		"accountName":                  "Анна",
		"loyaltyPoints.label":          "баллы",
		"loyaltyPoints.balance.int":    float64(120),
		"secondaryLoyaltyPoints.label": "Уровень",
		"secondaryLoyaltyPoints.localizedLabel.translatedValues.0.value": "Tier",
		"secondaryLoyaltyPoints.balance.string":                          "Gold",
		"barcode.type":                                                   "QR_CODE",
		"barcode.value":                                                  "2000123456789",
		"barcode.alternateText":                                          "2000123456789",
		"barcode.renderEncoding":                                         "UTF_8",
		"textModulesData.0.id":                                           "number",
		"textModulesData.0.header":                                       "Номер карты",
		"textModulesData.0.localizedHeader.translatedValues.0.value":     "Card number",
		"textModulesData.0.body":                                         "2000123456789",
		"textModulesData.1.id":                                           "expiring_soon", // no dots in module IDs
		"textModulesData.1.header":                                       "Сгорят 1 апреля",
	} {
		if got := at(t, m, path); got != v {
			t.Errorf("%s = %#v, want %#v", path, got, v)
		}
	}
	if _, ok := m["notifyPreference"]; ok {
		t.Error("the builder must leave notifyPreference to the sender")
	}
}

// TestZeroBalanceIsSent pins the omitempty gotcha: the client drops Int 0
// unless it is forced, and then the card keeps showing the old balance.
func TestZeroBalanceIsSent(t *testing.T) {
	c := testCard()
	c.Balance = 0
	o, err := testIssuer().LoyaltyObject(testProgram(), c)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(o.LoyaltyPoints)
	if !strings.Contains(string(b), `"balance":{"int":0}`) {
		t.Errorf("zero balance on the wire: %s", b)
	}
	naive, _ := json.Marshal(&walletobjects.LoyaltyPoints{Balance: &walletobjects.LoyaltyPointsBalance{Int: 0}})
	if !strings.Contains(string(naive), `"balance":{}`) {
		t.Errorf("the gotcha no longer holds (%s): ForceSendFields may be dropped", naive)
	}
}

func TestBalanceOutsideInt32GoesAsString(t *testing.T) {
	c := testCard()
	c.Balance = 5_000_000_000
	o, _ := testIssuer().LoyaltyObject(testProgram(), c)
	if got := at(t, wire(t, o), "loyaltyPoints.balance"); got.(map[string]any)["string"] != "5000000000" {
		t.Errorf("balance = %v", got)
	}
}

func TestLoyaltyObjectBarcodes(t *testing.T) {
	tests := []struct {
		format, wantType, wantEncoding string
	}{
		{passes.BarcodeQR, "QR_CODE", "UTF_8"},
		{"", "QR_CODE", "UTF_8"},
		{passes.BarcodePDF417, "PDF_417", "UTF_8"},
		{passes.BarcodeAztec, "AZTEC", "UTF_8"},
		{passes.BarcodeCode128, "CODE_128", ""},
	}
	for _, tt := range tests {
		t.Run(tt.wantType+"/"+tt.format, func(t *testing.T) {
			p := testProgram()
			p.BarcodeFormat = tt.format
			o, err := testIssuer().LoyaltyObject(p, testCard())
			if err != nil {
				t.Fatal(err)
			}
			bc := o.Barcode
			if bc.Type != tt.wantType || bc.Value != "2000123456789" || bc.AlternateText != "2000123456789" || bc.RenderEncoding != tt.wantEncoding {
				t.Errorf("barcode = %+v", bc)
			}
		})
	}
}

func TestLoyaltyObjectStateAndLabels(t *testing.T) {
	p, c := testProgram(), testCard()
	p.Locale, p.CurrencyLabel = passes.LocaleEN, ""
	c.Voided, c.Tier = true, ""
	o, err := testIssuer().LoyaltyObject(p, c)
	if err != nil {
		t.Fatal(err)
	}
	m := wire(t, o)
	for path, v := range map[string]any{
		"state":               "INACTIVE",
		"loyaltyPoints.label": "Balance",
		"loyaltyPoints.localizedLabel.defaultValue.language":       "en",
		"loyaltyPoints.localizedLabel.translatedValues.0.language": "ru",
		"loyaltyPoints.localizedLabel.translatedValues.0.value":    "Баланс",
	} {
		if got := at(t, m, path); got != v {
			t.Errorf("%s = %#v, want %#v", path, got, v)
		}
	}
	// null, so a PATCH clears a tier the card lost.
	if v, ok := m["secondaryLoyaltyPoints"]; !ok || v != nil {
		t.Errorf("secondaryLoyaltyPoints = %v (present %v), want null", v, ok)
	}
}

func TestLoyaltyObjectRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(*passes.Program, *passes.Card)
	}{
		{"no serial", func(_ *passes.Program, c *passes.Card) { c.SerialNumber = "" }},
		{"serial with slash", func(_ *passes.Program, c *passes.Card) { c.SerialNumber = "a/b" }},
		{"no number", func(_ *passes.Program, c *passes.Card) { c.Number = "" }},
		{"non-ASCII number", func(_ *passes.Program, c *passes.Card) { c.Number = "№123" }},
		{"unknown barcode", func(p *passes.Program, _ *passes.Card) { p.BarcodeFormat = "ean13" }},
		{"bad program id", func(p *passes.Program, _ *passes.Card) { p.ID = "a b" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := testProgram(), testCard()
			tt.change(&p, &c)
			if _, err := testIssuer().LoyaltyObject(p, c); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// TestBackFieldLinkIsALinksModule: a back field that carries a link (the
// referral link) is also a links module, which Google Wallet shows as a
// tappable row; a card without one nulls the module, so a PATCH removes
// a link the card no longer has.
func TestBackFieldLinkIsALinksModule(t *testing.T) {
	c := testCard()
	c.BackFields = []passes.Field{{Key: "referral", Label: "Пригласите друга",
		Value: "Друг получит 50 баллов.\nhttps://k.example.ru/r/Fr1end", URL: "https://k.example.ru/r/Fr1end"}}
	o, err := testIssuer().LoyaltyObject(testProgram(), c)
	if err != nil {
		t.Fatal(err)
	}
	m := wire(t, o)
	for path, want := range map[string]any{
		"linksModuleData.uris.0.uri":         "https://k.example.ru/r/Fr1end",
		"linksModuleData.uris.0.description": "Пригласите друга",
	} {
		if got := at(t, m, path); got != want {
			t.Errorf("%s = %#v, want %#v", path, got, want)
		}
	}
	if slices.Contains(o.NullFields, "LinksModuleData") {
		t.Error("a card with a link nulls its links module")
	}
	c.BackFields = nil
	o, err = testIssuer().LoyaltyObject(testProgram(), c)
	if err != nil {
		t.Fatal(err)
	}
	if o.LinksModuleData != nil || !slices.Contains(o.NullFields, "LinksModuleData") {
		t.Errorf("a card without a link: links %+v, null fields %v", o.LinksModuleData, o.NullFields)
	}
}
