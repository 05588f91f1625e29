// Package localetest builds catalogues for tests: the shipped languages
// plus a test-only one, added the way a new language is added, as one
// message file.
package localetest

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/loyalpass/loyalpass/assets"
	"github.com/loyalpass/loyalpass/internal/locale"
)

// PseudoTag is the test-only language of Pseudo: "xx" is reserved for
// private use and never a real language.
const PseudoTag = "xx"

// PseudoFile is the message file of the pseudo-locale. It translates a
// handful of keys, each marked with brackets so a test can tell them from
// English, and leaves the rest to the English fallback.
const PseudoFile = `{
  "name": "Pseudo",
  "plural": "one-other",
  "decimal": "·",
  "group": "_",
  "date": "2006/01/02",
  "messages": {
    "balance": "[Bálánce]",
    "card_number": "[Cárd number]",
    "earn_label": "[Hów yóu éárn]",
    "earn_rate": "[{rate} pér cént]",
    "expiring_label": "[Póints éxpiring]",
    "expiring": {"one": "[{n} póint lápsés {date}]", "other": "[{n} póints lápsé {date}]"},
    "points": {"one": "[{n} póint]", "other": "[{n} póints]"},
    "add_apple": "[Ádd tó Ápplé Wállét]"
  }
}`

// Pseudo returns the shipped catalogue with the pseudo-locale added as
// the file xx.json next to ru.json and en.json.
func Pseudo(t testing.TB) *locale.Catalogue {
	t.Helper()
	return WithFile(t, PseudoTag, PseudoFile)
}

// WithFile returns the shipped catalogue with one more message file,
// <tag>.json holding data.
func WithFile(t testing.TB, tag, data string) *locale.Catalogue {
	t.Helper()
	files := fstest.MapFS{tag + ".json": {Data: []byte(data)}}
	shipped, err := fs.Glob(assets.Locales, "locales/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range shipped {
		b, err := fs.ReadFile(assets.Locales, name)
		if err != nil {
			t.Fatal(err)
		}
		files[name[len("locales/"):]] = &fstest.MapFile{Data: b}
	}
	c, err := locale.Load(files)
	if err != nil {
		t.Fatalf("load catalogue with %s.json: %v", tag, err)
	}
	return c
}
