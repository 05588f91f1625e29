package landing

import (
	"testing"

	"github.com/loyalpass/loyalpass/internal/locale/localetest"
)

// TestAddedLanguageReachesTheLanding: a language added as one message file
// is offered to browsers that ask for it and to programs that choose it,
// with its own words and English for the keys it lacks.
func TestAddedLanguageReachesTheLanding(t *testing.T) {
	tests := []struct{ accept, program string }{
		{"xx, en;q=0.5", "ru"},
		{"", "xx"},
	}
	for _, tt := range tests {
		p := testPage()
		p.Locale = tt.program
		h, _ := newTestServer(t, newFakeSource(p), WithTexts(localetest.Pseudo(t)))
		doc := parseHTML(t, do(t, h, request{path: "/c/" + testToken, ua: uaIPhoneSafari, lang: tt.accept}).Body.String())
		for what, got := range map[string][2]string{
			"lang":    {attr(byTag(doc, "html"), "lang"), "xx"},
			"button":  {textOf(byID(doc, "apple-wallet")), "[Ádd tó Ápplé Wállét]"},
			"balance": {textOf(byID(doc, "balance")), "[1_250 póints]"},
			"hint":    {textOf(byID(doc, "ios-hint")), "Nothing happened? Open this page in Safari."}, // English
		} {
			if got[0] != got[1] {
				t.Errorf("Accept-Language %q, program %q: %s = %q, want %q", tt.accept, tt.program, what, got[0], got[1])
			}
		}
	}
	// The shipped pages do not know xx.
	h, _ := newTestServer(t, newFakeSource(testPage()))
	doc := parseHTML(t, do(t, h, request{path: "/c/" + testToken, ua: uaIPhoneSafari, lang: "xx"}).Body.String())
	if got := attr(byTag(doc, "html"), "lang"); got != "ru" {
		t.Errorf("shipped: lang = %q, want ru", got)
	}
}
