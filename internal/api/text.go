package api

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// textRule is what a free-text field may hold: a length in characters
// (after trimming spaces) and, for texts shown over several lines, line
// breaks and tabs. No field takes other control characters (NUL, ESC,
// BEL…): wallets and SMS gateways render them as garbage or cut the text.
type textRule struct {
	field     string
	min, max  int
	multiline bool
}

// textValue is a value with the rule it must fit.
type textValue struct {
	rule  textRule
	value string
}

// checkTexts returns the refusal of the first value that does not fit.
func checkTexts(texts ...textValue) error {
	for _, t := range texts {
		if err := t.rule.check(t.value); err != nil {
			return err
		}
	}
	return nil
}

// check returns the refusal of value, nil when it fits the rule.
func (r textRule) check(value string) error {
	if i := strings.IndexFunc(value, func(c rune) bool { return isControl(c, r.multiline) }); i >= 0 {
		if r.multiline {
			return invalid(r.field, "%s must not contain control characters other than line breaks and tabs (found U+%04X)", r.field, []rune(value[i:])[0])
		}
		return invalid(r.field, "%s must not contain control characters or line breaks (found U+%04X)", r.field, []rune(value[i:])[0])
	}
	n := utf8.RuneCountInString(value)
	switch {
	case n == 0 && r.min > 0:
		return invalid(r.field, "%s is required", r.field)
	case n < r.min:
		return invalid(r.field, "%s must be at least %d characters", r.field, r.min)
	case n > r.max:
		return invalid(r.field, "%s must be at most %d characters", r.field, r.max)
	}
	return nil
}

// isControl reports the C0 and C1 control characters and DEL; multiline
// texts keep tab, line feed and carriage return.
func isControl(c rune, multiline bool) bool {
	if multiline && (c == '\t' || c == '\n' || c == '\r') {
		return false
	}
	return unicode.IsControl(c)
}
