package google

import (
	"testing"

	"github.com/loyalpass/loyalpass/internal/locale/localetest"
)

// TestAddedLanguageReachesGoogle: a language added as one message file is
// a translation of every fixed text of the class and the object, and a
// program may take it as its default language.
func TestAddedLanguageReachesGoogle(t *testing.T) {
	is := testIssuer()
	is.Texts = localetest.Pseudo(t)
	c, err := is.LoyaltyClass(testProgram())
	if err != nil {
		t.Fatal(err)
	}
	m := wire(t, c)
	for path, v := range map[string]any{
		"localizedAccountIdLabel.defaultValue.language":            "ru",
		"localizedAccountIdLabel.translatedValues.0.language":      "en",
		"localizedAccountIdLabel.translatedValues.1.language":      "xx",
		"localizedAccountIdLabel.translatedValues.1.value":         "[Cárd number]",
		"localizedAccountNameLabel.translatedValues.1.value":       "Member", // not in xx.json: English
		"textModulesData.1.localizedBody.translatedValues.1.value": "[2·5 pér cént]",
	} {
		if got := at(t, m, path); got != v {
			t.Errorf("%s = %v, want %v", path, got, v)
		}
	}

	p := testProgram()
	p.Locale, p.CurrencyLabel = localetest.PseudoTag, ""
	o, err := is.LoyaltyObject(p, testCard())
	if err != nil {
		t.Fatal(err)
	}
	m = wire(t, o)
	for path, v := range map[string]any{
		"loyaltyPoints.label":                                   "[Bálánce]",
		"loyaltyPoints.localizedLabel.defaultValue.language":    "xx",
		"loyaltyPoints.localizedLabel.translatedValues.1.value": "Баланс",
	} {
		if got := at(t, m, path); got != v {
			t.Errorf("%s = %v, want %v", path, got, v)
		}
	}
	if _, err := testIssuer().LoyaltyObject(p, testCard()); err == nil {
		t.Error("the shipped catalogue accepted locale xx")
	}
}
