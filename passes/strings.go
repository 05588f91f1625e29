package passes

import (
	"fmt"
	"sort"
	"strings"

	"github.com/loyalpass/loyalpass/internal/locale"
)

// The pass's fixed texts. Merchant texts (names, terms) never go through
// here: they are shown as the merchant wrote them.
var (
	textBalance       = locale.Msg("balance")
	textBalanceChange = locale.Msg("balance_change") // %@ is the new value
	textHolder        = locale.Msg("holder")
	textTier          = locale.Msg("tier")
	textMessage       = locale.Msg("message")
	textCardNumber    = locale.Msg("card_number")
	textTerms         = locale.Msg("terms")
	textEarn          = locale.Msg("earn_label")
	textExpiring      = locale.Msg("expiring_label")

	textStamps            = locale.Msg("stamps")
	textStampsChange      = locale.Msg("stamps_change")
	textRewards           = locale.Msg("rewards")
	textRewardsChange     = locale.Msg("rewards_change")
	textReward            = locale.Msg("reward_label")
	textDiscount          = locale.Msg("discount")
	textDiscountChange    = locale.Msg("discount_change")
	textTierChange        = locale.Msg("tier_change")
	textOffer             = locale.Msg("offer")
	textValidUntil        = locale.Msg("valid_until")
	textGiftBalance       = locale.Msg("gift_balance")
	textGiftBalanceChange = locale.Msg("gift_balance_change")
)

// localizer collects the fixed texts a pass uses. A text's key is its
// wording in the program's own language, so pass.json reads right even
// where the device's language has no .lproj (Wallet then shows the keys
// as they are) and in Android pkpass readers that ignore pass.strings.
type localizer struct {
	cat   *locale.Catalogue
	own   *locale.Lang
	texts map[string]locale.Text // by key
}

func newLocalizer(cat *locale.Catalogue, tag string) *localizer {
	return &localizer{cat: cat, own: cat.Lang(tag), texts: make(map[string]locale.Text, 10)}
}

// key returns the pass.json key of t and records t for pass.strings.
func (l *localizer) key(t locale.Text) string {
	k := t(l.own)
	l.texts[k] = t
	return k
}

// stringsFile renders the pass.strings file of language tag.
//
// The file is UTF-8 without a byte-order mark. Apple's pass guide asks for
// UTF-16 when a strings file holds non-ASCII text, but Foundation's strings
// parser tells UTF-16 by its BOM and reads other files as UTF-8 (Xcode can
// ship app strings as UTF-8 too), and the most used pass generator,
// passkit-generator, has always written pass.strings as plain UTF-8
// (StringsUtils.ts builds it with Buffer.from). Android pkpass readers
// read UTF-8 first; some learned UTF-16 only later (ueman/passkit). UTF-8
// is what every reader we target understands. Not yet seen on a device.
func (l *localizer) stringsFile(tag string) []byte {
	lang := l.cat.Lang(tag)
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
		writeStringsEscaped(&b, l.texts[k](lang))
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
