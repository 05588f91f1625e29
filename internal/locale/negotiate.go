package locale

import (
	"sort"
	"strconv"
	"strings"
)

// Pick returns a language of the catalogue ("ru", "en", …): the one the
// browser ranks highest in its Accept-Language header (q-values honoured,
// q=0 meaning "not this one"), else the first of prefer the catalogue has
// (a program's own locale, a page's default), else Fallback.
func (cat *Catalogue) Pick(acceptLanguage string, prefer ...string) string {
	type choice struct {
		lang string
		q    float64
		pos  int
	}
	var choices []choice
	for i, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		lang := primarySubtag(tag)
		if !cat.Has(lang) {
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
	for _, p := range prefer {
		if lang := primarySubtag(p); cat.Has(lang) {
			return lang
		}
	}
	return Fallback
}

// primarySubtag turns "ru-RU", "en_GB" or "EN" into "ru", "en", "en".
func primarySubtag(tag string) string {
	tag = strings.TrimSpace(tag)
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return strings.ToLower(tag)
}
