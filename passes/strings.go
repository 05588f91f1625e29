package passes

import (
	"fmt"
	"sort"
	"strings"
)

// passLocales are the languages every pass carries a pass.strings file for,
// in package order.
var passLocales = []string{LocaleEN, LocaleRU}

// text is a fixed text of a pass in each language it ships in.
type text struct{ ru, en string }

func (t text) in(locale string) string {
	if locale == LocaleRU {
		return t.ru
	}
	return t.en
}

// The pass's fixed texts. Merchant texts (names, terms) never go through
// here: they are shown as the merchant wrote them.
var (
	textBalance       = text{ru: "Баланс", en: "Balance"}
	textBalanceChange = text{ru: "Баланс: %@", en: "Balance: %@"} // %@ is the new value
	textHolder        = text{ru: "Владелец", en: "Member"}
	textTier          = text{ru: "Уровень", en: "Tier"}
	textMessage       = text{ru: "Сообщение", en: "Message"}
	textCardNumber    = text{ru: "Номер карты", en: "Card number"}
	textTerms         = text{ru: "Условия программы", en: "Program terms"}
	textEarn          = text{ru: "Как начисляются баллы", en: "How you earn points"}
)

// earnText describes an earn rate given in basis points of the purchase.
func earnText(bp int) text {
	return text{
		ru: formatPercent(bp, ',') + "% от суммы каждой покупки",
		en: formatPercent(bp, '.') + "% of every purchase",
	}
}

// formatPercent writes bp basis points as a percentage without trailing
// zeros: 500 → "5", 250 → "2.5", 5 → "0.05".
func formatPercent(bp int, decimalSep byte) string {
	sign := ""
	if bp < 0 {
		sign, bp = "-", -bp
	}
	whole, frac := bp/100, bp%100
	switch {
	case frac == 0:
		return fmt.Sprintf("%s%d", sign, whole)
	case frac%10 == 0:
		return fmt.Sprintf("%s%d%c%d", sign, whole, decimalSep, frac/10)
	default:
		return fmt.Sprintf("%s%d%c%02d", sign, whole, decimalSep, frac)
	}
}

// localizer collects the fixed texts a pass uses. A text's key is its
// wording in the program's own language, so pass.json reads right even
// where the device's language has no .lproj (Wallet then shows the keys
// as they are) and in Android pkpass readers that ignore pass.strings.
type localizer struct {
	locale string
	texts  map[string]text // by key
}

func newLocalizer(locale string) *localizer {
	return &localizer{locale: locale, texts: make(map[string]text, 8)}
}

// key returns the pass.json key of t and records t for pass.strings.
func (l *localizer) key(t text) string {
	k := t.in(l.locale)
	l.texts[k] = t
	return k
}

// stringsFile renders the pass.strings file of locale.
//
// The file is UTF-8 without a byte-order mark. Apple's pass guide asks for
// UTF-16 when a strings file holds non-ASCII text, but Foundation's strings
// parser tells UTF-16 by its BOM and reads other files as UTF-8 (Xcode can
// ship app strings as UTF-8 too), and the most used pass generator,
// passkit-generator, has always written pass.strings as plain UTF-8
// (StringsUtils.ts builds it with Buffer.from). Android pkpass readers
// read UTF-8 first; some learned UTF-16 only later (ueman/passkit). UTF-8
// is what every reader we target understands. Not yet seen on a device.
func (l *localizer) stringsFile(locale string) []byte {
	keys := make([]string, 0, len(l.texts))
	for k := range l.texts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteByte('"')
		writeStringsEscaped(&b, k)
		b.WriteString(`" = "`)
		writeStringsEscaped(&b, l.texts[k].in(locale))
		b.WriteString("\";\n")
	}
	return []byte(b.String())
}

// writeStringsEscaped writes s for the inside of a quoted .strings token:
// backslash, double quote and control characters are escaped.
func writeStringsEscaped(b *strings.Builder, s string) {
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(b, `\U%04x`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
}
