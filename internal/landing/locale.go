package landing

import (
	"sort"
	"strconv"
	"strings"
)

// defaultLocale is used when neither the browser nor the program names a
// language we speak: loyalpass is made for Russian retail first.
const defaultLocale = "ru"

// pickLocale returns "ru" or "en": the supported language the browser ranks
// highest in its Accept-Language header (q-values honoured, q=0 meaning
// "not this one"), else the program's own locale, else defaultLocale.
func pickLocale(acceptLanguage, programLocale string) string {
	type choice struct {
		lang string
		q    float64
		pos  int
	}
	var choices []choice
	for i, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		lang := primarySubtag(tag)
		if _, ok := catalogue[lang]; !ok {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || strings.TrimSpace(k) != "q" {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				f = 0 // a malformed weight counts as a refusal, not a preference
			}
			q = f
		}
		if q > 0 {
			choices = append(choices, choice{lang, q, i})
		}
	}
	if len(choices) > 0 {
		sort.SliceStable(choices, func(a, b int) bool { return choices[a].q > choices[b].q })
		return choices[0].lang
	}
	if lang := primarySubtag(programLocale); catalogue[lang] != nil {
		return lang
	}
	return defaultLocale
}

// primarySubtag turns "ru-RU", "en_GB" or "EN" into "ru", "en", "en".
func primarySubtag(tag string) string {
	tag = strings.TrimSpace(tag)
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return strings.ToLower(tag)
}

// formatInt groups the digits of n the way each language writes them:
// "1 250" (with a no-break space, so it never wraps) in Russian, "1,250"
// in English.
func formatInt(lang string, n int64) string {
	sep := ","
	if lang == "ru" {
		sep = "\u00a0"
	}
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if strings.HasPrefix(digits, "-") {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(d)
	}
	return b.String()
}

// points returns "1 250 баллов" or "1,250 points", with the plural form
// the number needs.
func points(lang string, n int64) string {
	return formatInt(lang, n) + "\u00a0" + catalogue[lang][pluralKey(lang, n)]
}

// pluralKey picks the catalogue key of the word "point" for n: Russian has
// three forms (1 балл, 2 балла, 5 баллов; 21 балл, 11 баллов), English two.
func pluralKey(lang string, n int64) string {
	if n < 0 {
		n = -n
	}
	if lang != "ru" {
		if n == 1 {
			return "points_one"
		}
		return "points_many"
	}
	switch mod10, mod100 := n%10, n%100; {
	case mod10 == 1 && mod100 != 11:
		return "points_one"
	case mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14):
		return "points_few"
	default:
		return "points_many"
	}
}
