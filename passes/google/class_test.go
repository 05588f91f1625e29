package google

import (
	"errors"
	"testing"

	"github.com/loyalpass/loyalpass/passes"
)

func TestLoyaltyClassFields(t *testing.T) {
	c, err := testIssuer().LoyaltyClass(testProgram())
	if err != nil {
		t.Fatal(err)
	}
	m := wire(t, c)
	want := map[string]any{
		"id":                        testIssuerID + ".prg_d4k2j7",
		"issuerName":                "Кофейня «Зерно»",
		"programName":               "Зерно+",
		"reviewStatus":              "UNDER_REVIEW",
		"hexBackgroundColor":        "#3b2a1f",
		"programLogo.sourceUri.uri": "https://cards.example.com/assets/programs/prg_d4k2j7/logo.png",
		"callbackOptions.url":       "https://cards.example.com/google/callback",
		"accountIdLabel":            "Номер карты",
		"localizedAccountIdLabel.defaultValue.language":              "ru",
		"localizedAccountIdLabel.defaultValue.value":                 "Номер карты",
		"localizedAccountIdLabel.translatedValues.0.language":        "en",
		"localizedAccountIdLabel.translatedValues.0.value":           "Card number",
		"localizedAccountNameLabel.translatedValues.0.value":         "Member",
		"textModulesData.0.id":                                       "terms",
		"textModulesData.0.header":                                   "Условия программы",
		"textModulesData.0.body":                                     "Баллы сгорают через год.",
		"textModulesData.0.localizedHeader.translatedValues.0.value": "Program terms",
		"textModulesData.1.id":                                       "earn",
		"textModulesData.1.body":                                     "2,5% от суммы каждой покупки",
		"textModulesData.1.localizedBody.translatedValues.0.value":   "2.5% of every purchase",
	}
	for path, v := range want {
		if got := at(t, m, path); got != v {
			t.Errorf("%s = %v, want %v", path, got, v)
		}
	}
}

func TestLoyaltyClassEnglishDefault(t *testing.T) {
	p := testProgram()
	p.Locale = passes.LocaleEN
	p.Name = ""
	c, err := testIssuer().LoyaltyClass(p)
	if err != nil {
		t.Fatal(err)
	}
	m := wire(t, c)
	for path, v := range map[string]any{
		"programName":    p.OrganizationName, // required: falls back to the merchant's name
		"accountIdLabel": "Card number",
		"localizedAccountIdLabel.defaultValue.language":       "en",
		"localizedAccountIdLabel.translatedValues.0.language": "ru",
		"localizedAccountIdLabel.translatedValues.0.value":    "Номер карты",
	} {
		if got := at(t, m, path); got != v {
			t.Errorf("%s = %v, want %v", path, got, v)
		}
	}
	if _, ok := m["callbackOptions"]; !ok {
		t.Error("callbackOptions missing")
	}
	noCallback := testIssuer()
	noCallback.CallbackURL = ""
	p.Terms, p.EarnRateBP, p.Design.BackgroundColor = "", 0, ""
	c, _ = noCallback.LoyaltyClass(p)
	m = wire(t, c)
	// Sent as null, so a PATCH clears what the program no longer has.
	for _, f := range []string{"callbackOptions", "textModulesData", "hexBackgroundColor"} {
		if v, ok := m[f]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", f, v, ok)
		}
	}
}

func TestLoyaltyClassRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Issuer, *passes.Program)
		isID   bool
	}{
		{"non-numeric issuer", func(is *Issuer, _ *passes.Program) { is.ID = "issuer1" }, true},
		{"slash in program id", func(_ *Issuer, p *passes.Program) { p.ID = "prg/1" }, true},
		{"cyrillic in program id", func(_ *Issuer, p *passes.Program) { p.ID = "программа" }, true},
		{"empty program id", func(_ *Issuer, p *passes.Program) { p.ID = "" }, true},
		{"no organization", func(_ *Issuer, p *passes.Program) { p.OrganizationName = "" }, false},
		{"bad colour", func(_ *Issuer, p *passes.Program) { p.Design.BackgroundColor = "brown" }, false},
		{"bad locale", func(_ *Issuer, p *passes.Program) { p.Locale = "de" }, false},
		{"relative public URL", func(is *Issuer, _ *passes.Program) { is.PublicURL = "/cards" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is, p := testIssuer(), testProgram()
			tt.change(&is, &p)
			_, err := is.LoyaltyClass(p)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrInvalidID) != tt.isID {
				t.Errorf("errors.Is(%v, ErrInvalidID) = %v", err, !tt.isID)
			}
		})
	}
}

func TestIDs(t *testing.T) {
	is := testIssuer()
	if id, err := is.ObjectID("a.B_c-9"); err != nil || id != testIssuerID+".a.B_c-9" {
		t.Errorf("ObjectID = %q, %v", id, err)
	}
	for _, bad := range []string{"", "a b", "a/b", "a+b", "ключ", "a:b"} {
		if _, err := is.ObjectID(bad); !errors.Is(err, ErrInvalidID) {
			t.Errorf("ObjectID(%q) err = %v, want ErrInvalidID", bad, err)
		}
	}
}
