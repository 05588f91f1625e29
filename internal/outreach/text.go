// Package outreach is the one way loyalpass sends a marketing message and
// measures it, shared by win-back campaigns and automations: the text
// with its placeholders filled, one SMS handed to a provider with the
// answer judged (sent, bad number, opted out, retry, failed), what a text
// costs by provider, and the comparison of a messaged group with its
// holdout (conversion, lift with its 95 % interval, revenue).
package outreach

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/loyalpass/loyalpass/internal/locale"
)

// Fill is what a template's placeholders are filled with.
type Fill struct {
	Name  string // {name}
	Bonus int64  // {bonus}, the bare number, and {points}
	Link  string // {link}
	// Lang words {points}: the bonus with the word for points in the form
	// the number needs ("21 балл", "50 баллов", "1 point"). nil means
	// Russian, loyalpass's default program language.
	Lang *locale.Lang
}

// Placeholders are the names a template may use.
var Placeholders = []string{"{name}", "{bonus}", "{points}", "{link}"}

// Render is RenderText with {points} in Russian: for previews that know
// no program.
func Render(template, name string, bonus int64, link string) string {
	return RenderText(template, Fill{Name: name, Bonus: bonus, Link: link})
}

// RenderText fills a template's {name}, {bonus}, {points} and {link}.
// Without a name, "{name}, " and similar lead-ins are dropped rather than
// left dangling.
func RenderText(template string, f Fill) string {
	if strings.TrimSpace(f.Name) == "" {
		for _, lead := range []string{"{name}, ", "{name},", "{name}! ", "{name}!", " {name}"} {
			template = strings.ReplaceAll(template, lead, "")
		}
	}
	pairs := []string{"{name}", f.Name, "{bonus}", strconv.FormatInt(f.Bonus, 10), "{link}", f.Link}
	if strings.Contains(template, "{points}") {
		lang := f.Lang
		if lang == nil {
			lang = locale.Shipped().Lang(DefaultLang)
		}
		// A no-break space is outside GSM-7: one would make a Latin text
		// UCS-2 and double its price. Cyrillic is UCS-2 anyway.
		pairs = append(pairs, "{points}", strings.ReplaceAll(lang.Points(f.Bonus), "\u00a0", " "))
	}
	return strings.NewReplacer(pairs...).Replace(template)
}

// DefaultLang words {points} when no program language is known.
const DefaultLang = "ru"

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// UnknownPlaceholder returns the first {…} in template that is not one of
// Placeholders, "" when there is none: a typo that would reach the
// customer as it stands.
func UnknownPlaceholder(template string) string {
	for _, p := range placeholder.FindAllString(template, -1) {
		known := false
		for _, k := range Placeholders {
			known = known || p == k
		}
		if !known {
			return p
		}
	}
	return ""
}

// CheckPlaceholders is UnknownPlaceholder as an error.
func CheckPlaceholders(template string) error {
	if p := UnknownPlaceholder(template); p != "" {
		return fmt.Errorf("unknown placeholder %s; a text may use %s", p, strings.Join(Placeholders, ", "))
	}
	return nil
}
