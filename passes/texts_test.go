package passes

import (
	"reflect"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/locale/localetest"
	"github.com/loyalpass/loyalpass/passes/passcheck"
)

// TestEarnTextShowsTheCardsRate: a card on a tier with its own rate is
// told that rate, not the program's.
func TestEarnTextShowsTheCardsRate(t *testing.T) {
	tests := []struct {
		name     string
		cardRate int
		ru, en   string
	}{
		{"gold tier", 500, "5% от суммы каждой покупки", "5% of every purchase"},
		{"tier without its own rate", 0, "2,5% от суммы каждой покупки", "2.5% of every purchase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := testProgram(), testCard() // the program earns 2.5%
			c.EarnRateBP = tt.cardRate
			files := unpack(t, mustRender(t, newTestRenderer(t), p, c))
			earn := passFieldsOf(t, decodePass(t, files), "backFields")["earn"]
			value, _ := earn["value"].(string)
			if value != tt.ru {
				t.Errorf("earn value = %q, want %q", value, tt.ru)
			}
			if got := parseStrings(t, files["en.lproj/pass.strings"])[value]; got != tt.en {
				t.Errorf("en.lproj translates %q as %q, want %q", value, got, tt.en)
			}
		})
	}
}

// TestEveryPassTextIsTranslated walks a generated pass: every label and
// change message, and every value loyalpass words itself (earn rate,
// expiring points), is a key of every language's pass.strings.
func TestEveryPassTextIsTranslated(t *testing.T) {
	catalogues := map[string]*locale.Catalogue{"shipped": locale.Shipped(), "with xx": localetest.Pseudo(t)}
	for name, cat := range catalogues {
		for _, tag := range cat.Tags() {
			t.Run(name+"/"+tag, func(t *testing.T) {
				p, c := testProgram(), testCard()
				p.Locale = tag
				c.BackFields = nil // merchant fields are shown as written
				c.Message = "Скидка 20% до воскресенья"
				c.EarnRateBP = 500
				c.Expiring = Expiry{Points: 120, At: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
				r := NewRenderer(testChain.material, testWebService, WithTexts(cat))
				pkpass := mustRender(t, r, p, c)
				files := unpack(t, pkpass)
				pass := decodePass(t, files)

				var keys []string // texts that must be translated
				for _, group := range []string{"primaryFields", "secondaryFields", "auxiliaryFields", "backFields"} {
					for _, f := range passFieldsOf(t, pass, group) {
						for _, attr := range []string{"label", "changeMessage"} {
							if s, ok := f[attr].(string); ok && s != "" && s != "%@" {
								keys = append(keys, s)
							}
						}
					}
				}
				back := passFieldsOf(t, pass, "backFields")
				for _, k := range []string{"earn", "expiring"} {
					v, ok := back[k]["value"].(string)
					if !ok {
						t.Fatalf("no %s back field", k)
					}
					keys = append(keys, v)
				}
				own := cat.Lang(tag)
				if got, want := back["expiring"]["value"], own.Expiring(120, c.Expiring.At); got != want {
					t.Errorf("expiring value = %q, want %q", got, want)
				}
				for _, lang := range cat.Tags() {
					strs := parseStrings(t, files[lang+".lproj/pass.strings"])
					for _, k := range keys {
						if _, ok := strs[k]; !ok {
							t.Errorf("%s.lproj/pass.strings has no translation of %q", lang, k)
						}
					}
				}
				if rep := passcheck.Check(pkpass, passcheck.Options{Roots: testChain.root}); !rep.OK() {
					t.Errorf("passcheck: %v", rep.Problems)
				}
			})
		}
	}
}

// TestAddedLanguageReachesThePass: a language added as one message file
// gets its own .lproj, speaks its words there, and English where it has
// none; a program may take it as its default language.
func TestAddedLanguageReachesThePass(t *testing.T) {
	r := NewRenderer(testChain.material, testWebService, WithTexts(localetest.Pseudo(t)))
	p, c := testProgram(), testCard()
	files := unpack(t, mustRender(t, r, p, c))
	xx := parseStrings(t, files["xx.lproj/pass.strings"])
	ru := parseStrings(t, files["ru.lproj/pass.strings"])
	if !reflect.DeepEqual(sortedKeys(xx), sortedKeys(ru)) {
		t.Fatalf("xx.lproj keys %v, ru.lproj keys %v", sortedKeys(xx), sortedKeys(ru))
	}
	for key, want := range map[string]string{
		"Баланс": "[Bálánce]",
		"2,5% от суммы каждой покупки": "[2·5 pér cént]",
		"Владелец": "Member", // not in xx.json: English
	} {
		if xx[key] != want {
			t.Errorf("xx[%q] = %q, want %q", key, xx[key], want)
		}
	}

	p.Locale = localetest.PseudoTag
	pass := decodePass(t, unpack(t, mustRender(t, r, p, c)))
	if got := passFieldsOf(t, pass, "primaryFields")["balance"]["label"]; got != "[Bálánce]" {
		t.Errorf("balance label of an xx program = %q, want [Bálánce]", got)
	}
	// The shipped renderer does not know xx.
	if _, err := newTestRenderer(t).Render(p, c); err == nil {
		t.Error("the shipped catalogue accepted locale xx")
	}
}

func mustRender(t *testing.T, r *Renderer, p Program, c Card) []byte {
	t.Helper()
	pkpass, err := r.Render(p, c)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return pkpass
}
