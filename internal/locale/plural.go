package locale

import "sort"

// pluralRule is a CLDR cardinal plural rule for whole numbers: it names
// the category ("one", "few", "many", "other") a count falls in. Fractions
// never reach it: loyalpass counts whole points.
type pluralRule struct {
	categories []string // the forms a message must give
	category   func(n int64) string
}

// pluralRules are the rules a message file may name in "plural". Each is
// the CLDR rule (https://www.unicode.org/cldr/charts/latest/supplemental/language_plural_rules.html)
// of the languages listed, for integers.
var pluralRules = map[string]pluralRule{
	// en, de, nl, sv, it, es, …: 1 → one, else other.
	"one-other": {[]string{"one", "other"}, func(n int64) string {
		if abs(n) == 1 {
			return "one"
		}
		return "other"
	}},
	// fr, pt: 0 and 1 → one.
	"zero-one-other": {[]string{"one", "other"}, func(n int64) string {
		if abs(n) <= 1 {
			return "one"
		}
		return "other"
	}},
	// ru, uk, be: 1, 21, 101 → one; 2–4, 22–24 → few; 0, 5–20, 11–14 → many.
	"east-slavic": {[]string{"one", "few", "many"}, func(n int64) string {
		n = abs(n)
		mod10, mod100 := n%10, n%100
		switch {
		case mod10 == 1 && mod100 != 11:
			return "one"
		case mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14):
			return "few"
		}
		return "many"
	}},
	// pl: 1 → one; 2–4, 22–24 → few; the rest many.
	"polish": {[]string{"one", "few", "many"}, func(n int64) string {
		n = abs(n)
		mod10, mod100 := n%10, n%100
		switch {
		case n == 1:
			return "one"
		case mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14):
			return "few"
		}
		return "many"
	}},
	// cs, sk: 1 → one; 2–4 → few; else other.
	"west-slavic": {[]string{"one", "few", "other"}, func(n int64) string {
		switch n = abs(n); {
		case n == 1:
			return "one"
		case n >= 2 && n <= 4:
			return "few"
		}
		return "other"
	}},
	// ja, zh, ko, vi: one form.
	"none": {[]string{"other"}, func(int64) string { return "other" }},
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func ruleNames() []string {
	names := make([]string, 0, len(pluralRules))
	for name := range pluralRules {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
