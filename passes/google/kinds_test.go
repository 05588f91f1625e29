package google

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/loyalpass/loyalpass/passes"
)

func kindProgram(kind string) passes.Program {
	p := testProgram()
	p.Kind, p.EarnRateBP, p.Version = kind, 0, 4
	switch kind {
	case passes.KindStamps:
		p.StampsRequired, p.Reward = 6, "Булочка в подарок"
	case passes.KindCoupon:
		p.Offer = "−20% на всё"
	case passes.KindGift:
		p.Currency, p.CurrencyDigits = "RUB", 2
	}
	return p
}

func TestStampsLoyaltyObject(t *testing.T) {
	c := testCard()
	c.Balance, c.Rewards, c.Tier = 3, 0, ""
	o, err := testIssuer().Object(kindProgram(passes.KindStamps), c)
	if err != nil || o.Loyalty == nil {
		t.Fatalf("Object = %+v, %v", o, err)
	}
	m := wire(t, o.Loyalty)
	for path, v := range map[string]any{
		"loyaltyPoints.label":                                   "Штампы",
		"loyaltyPoints.balance.string":                          "3/6",
		"loyaltyPoints.localizedLabel.translatedValues.0.value": "Stamps",
		"secondaryLoyaltyPoints.label":                          "Подарки",
		"secondaryLoyaltyPoints.balance.int":                    float64(0), // zero rewards are sent, not dropped
		"heroImage.sourceUri.uri":                               "https://cards.example.com/assets/programs/prg_d4k2j7/stamps/4/3-of-6.png",
		"textModulesData.1.id":                                  "reward",
		"textModulesData.1.body":                                "Булочка в подарок",
	} {
		if got := at(t, m, path); got != v {
			t.Errorf("%s = %#v, want %#v", path, got, v)
		}
	}
	// Each count is a new URL: Google caches an image by its URL.
	c.Balance = 4
	o2, _ := testIssuer().LoyaltyObject(kindProgram(passes.KindStamps), c)
	if o2.HeroImage.SourceUri.Uri == o.Loyalty.HeroImage.SourceUri.Uri {
		t.Error("the hero image URL did not change with the count")
	}
	if slices.Contains(o.Loyalty.NullFields, "SecondaryLoyaltyPoints") {
		t.Errorf("null fields %v would clear the rewards", o.Loyalty.NullFields)
	}
}

func TestDiscountLoyaltyObject(t *testing.T) {
	c := testCard()
	c.DiscountPercent, c.Tier = 10, "Золотой"
	o, err := testIssuer().LoyaltyObject(kindProgram(passes.KindDiscount), c)
	if err != nil {
		t.Fatal(err)
	}
	m := wire(t, o)
	for path, v := range map[string]any{
		"loyaltyPoints.label":                   "Скидка",
		"loyaltyPoints.balance.string":          "10%",
		"secondaryLoyaltyPoints.balance.string": "Золотой",
	} {
		if got := at(t, m, path); got != v {
			t.Errorf("%s = %#v, want %#v", path, got, v)
		}
	}
}

func TestOfferClassAndObject(t *testing.T) {
	p := kindProgram(passes.KindCoupon)
	cl, err := testIssuer().Class(p)
	if err != nil || cl.Offer == nil || cl.ID() != testIssuerID+".prg_d4k2j7" {
		t.Fatalf("Class = %+v, %v", cl, err)
	}
	m := wire(t, cl.Offer)
	for path, v := range map[string]any{
		"issuerName":               "Кофейня «Зерно»",
		"provider":                 "Кофейня «Зерно»",
		"title":                    "−20% на всё",
		"redemptionChannel":        "INSTORE",
		"reviewStatus":             "UNDER_REVIEW",
		"titleImage.sourceUri.uri": "https://cards.example.com/assets/programs/prg_d4k2j7/logo.png",
		"details":                  "Баллы сгорают через год.",
	} {
		if got := at(t, m, path); got != v {
			t.Errorf("class %s = %#v, want %#v", path, got, v)
		}
	}
	until := time.Date(2026, 4, 30, 21, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		edit  func(*passes.Card)
		state string
	}{
		{"a new coupon", func(c *passes.Card) {}, "ACTIVE"},
		{"a redeemed one", func(c *passes.Card) { c.Balance, c.Redeemed = 0, true }, "COMPLETED"},
		{"one that lapsed", func(c *passes.Card) { c.Balance = 0 }, "EXPIRED"},
		{"a voided one", func(c *passes.Card) { c.Voided = true }, "INACTIVE"},
	}
	for _, tt := range tests {
		c := testCard()
		c.Balance, c.ValidUntil = 1, &until
		tt.edit(&c)
		o, err := testIssuer().Object(p, c)
		if err != nil || o.Offer == nil {
			t.Fatalf("%s: Object = %+v, %v", tt.name, o, err)
		}
		m := wire(t, o.Offer)
		if m["state"] != tt.state || at(t, m, "validTimeInterval.end.date") != "2026-04-30T21:00:00Z" ||
			at(t, m, "classId") != cl.ID() || at(t, m, "barcode.value") != "2000123456789" {
			t.Errorf("%s: object %v", tt.name, m)
		}
	}
}

func TestGiftCardClassAndObject(t *testing.T) {
	p := kindProgram(passes.KindGift)
	cl, err := testIssuer().Class(p)
	if err != nil || cl.GiftCard == nil {
		t.Fatalf("Class = %+v, %v", cl, err)
	}
	m := wire(t, cl.GiftCard)
	for path, v := range map[string]any{
		"issuerName": "Кофейня «Зерно»", "merchantName": "Зерно+", "reviewStatus": "UNDER_REVIEW",
		"cardNumberLabel": "Номер карты", "allowBarcodeRedemption": true,
	} {
		if got := at(t, m, path); got != v {
			t.Errorf("class %s = %#v, want %#v", path, got, v)
		}
	}
	for _, tt := range []struct {
		balance int64
		micros  string
	}{{300050, "3000500000"}, {0, "0"}} {
		c := testCard()
		c.Balance = tt.balance
		o, err := testIssuer().Object(p, c)
		if err != nil || o.GiftCard == nil {
			t.Fatalf("Object = %+v, %v", o, err)
		}
		b, _ := json.Marshal(o.GiftCard)
		if !strings.Contains(string(b), `"balance":{"currencyCode":"RUB","micros":"`+tt.micros+`"}`) {
			t.Errorf("balance %d on the wire: %s", tt.balance, b)
		}
		if m := wire(t, o.GiftCard); m["cardNumber"] != "2000123456789" || m["state"] != "ACTIVE" {
			t.Errorf("object %v", m)
		}
	}
	p.Currency = ""
	if _, err := testIssuer().Object(p, testCard()); err == nil {
		t.Error("a gift card without a currency was built")
	}
}

// TestSaveURLNamesEachVertical: the save JWT carries each object under
// its vertical's payload key.
func TestSaveURLNamesEachVertical(t *testing.T) {
	sa, err := LoadServiceAccount(serviceAccountJSON(t, nil), testIssuerID)
	if err != nil {
		t.Fatal(err)
	}
	refs := []ObjectRef{{VerticalOffer, testIssuerID + ".a"}, {VerticalGiftCard, testIssuerID + ".b"}, {VerticalLoyalty, testIssuerID + ".c"}}
	u, err := SaveURL(sa, refs, nil, time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(strings.TrimPrefix(u, SaveURLPrefix), claims,
		func(*jwt.Token) (any, error) { return &testRSAKey().PublicKey, nil }); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(claims["payload"])
	want := `{"giftCardObjects":[{"id":"` + testIssuerID + `.b"}],"loyaltyObjects":[{"id":"` + testIssuerID +
		`.c"}],"offerObjects":[{"id":"` + testIssuerID + `.a"}]}`
	if string(got) != want {
		t.Errorf("payload\n got %s\nwant %s", got, want)
	}
	if _, err := SaveURL(sa, []ObjectRef{{"ticket", testIssuerID + ".a"}}, nil, time.Unix(1, 0)); err == nil {
		t.Error("an unknown vertical was linked")
	}
}
