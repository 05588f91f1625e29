package passcheck

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// fieldLists are the arrays of fields a style dictionary may hold.
var fieldLists = []string{"headerFields", "primaryFields", "secondaryFields", "auxiliaryFields", "backFields", "additionalInfoFields"}

// Allowed values of the enumerated field keys.
var (
	dateStyles     = map[string]bool{"PKDateStyleNone": true, "PKDateStyleShort": true, "PKDateStyleMedium": true, "PKDateStyleLong": true, "PKDateStyleFull": true}
	numberStyles   = map[string]bool{"PKNumberStyleDecimal": true, "PKNumberStylePercent": true, "PKNumberStyleScientific": true, "PKNumberStyleSpellOut": true}
	textAlignments = map[string]bool{"PKTextAlignmentLeft": true, "PKTextAlignmentCenter": true, "PKTextAlignmentRight": true, "PKTextAlignmentNatural": true}
)

// w3cDate is an ISO 8601 date and time with at least hours and minutes and
// a time zone, the W3C profile Wallet documents for dates.
var w3cDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$`)

// currencyCode is an ISO 4217 code.
var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// checkFields checks JSON-06 for the field arrays of one style dictionary.
// seen carries field keys across styles, since keys are unique per pass.
func (c *checker) checkFields(style string, dict map[string]any, seen map[string]string) {
	for _, list := range fieldLists {
		v, ok := dict[list]
		if !ok {
			continue
		}
		fields, ok := v.([]any)
		if !ok {
			c.problem("JSON-06", passFile, "pass.json: %s.%s must be an array", style, list)
			continue
		}
		for i, f := range fields {
			c.checkField(fmt.Sprintf("%s.%s[%d]", style, list, i), list, f, seen)
		}
	}
}

// checkField checks one field dictionary.
func (c *checker) checkField(where, list string, v any, seen map[string]string) {
	f, ok := v.(map[string]any)
	if !ok {
		c.problem("JSON-06", passFile, "pass.json: %s must be an object", where)
		return
	}
	bad := func(format string, args ...any) {
		c.problem("JSON-06", passFile, "pass.json: "+where+format, args...)
	}
	switch key, _ := f["key"].(string); {
	case key == "":
		bad(" has no key")
	case seen[key] != "":
		bad(": key %q is already used by %s; field keys must be unique across the pass", key, seen[key])
	default:
		seen[key] = where
	}

	value, hasValue := f["value"]
	str, isString := value.(string)
	_, isNumber := value.(json.Number)
	if !hasValue {
		bad(" has no value")
	} else if !isString && !isNumber {
		bad(".value must be a string, a number or an ISO-8601 date, not %s", jsonText(value))
	}

	isDate := false
	for _, k := range []string{"dateStyle", "timeStyle"} {
		if s, present := f[k]; present {
			name, _ := s.(string)
			if !dateStyles[name] {
				bad(".%s %s is not a PKDateStyle value", k, jsonText(s))
			}
			isDate = isDate || name != "PKDateStyleNone"
		}
	}
	if isDate && isString && !isW3CDate(str) {
		bad(".value %q must be an ISO-8601 date and time with a time zone, since the field has a date or time style", str)
	}
	if s, present := f["numberStyle"]; present {
		if name, _ := s.(string); !numberStyles[name] {
			bad(".numberStyle %s is not a PKNumberStyle value", jsonText(s))
		}
		if hasValue && !isNumber {
			bad(".value must be a number, since the field has a numberStyle")
		}
	}
	if s, present := f["currencyCode"]; present {
		if code, _ := s.(string); !currencyCode.MatchString(code) {
			bad(".currencyCode %s is not an ISO 4217 code", jsonText(s))
		}
		if hasValue && !isNumber {
			bad(".value must be a number, since the field has a currencyCode")
		}
	}
	if s, present := f["textAlignment"]; present {
		if name, _ := s.(string); !textAlignments[name] {
			bad(".textAlignment %s is not a PKTextAlignment value", jsonText(s))
		}
		if list == "primaryFields" || list == "backFields" {
			bad(" has textAlignment, which is not allowed on %s", list)
		}
	}
	if s, present := f["changeMessage"]; present {
		if msg, _ := s.(string); !strings.Contains(msg, "%@") {
			bad(".changeMessage %s must contain %%@, which Wallet replaces with the new value", jsonText(s))
		}
	}
	if s, present := f["label"]; present {
		if _, ok := s.(string); !ok {
			bad(".label must be a string")
		}
	}
}

// checkDates checks JSON-07: expirationDate, relevantDate and the dates in
// relevantDates are full dates with hours, minutes and a time zone.
func (c *checker) checkDates() {
	for _, k := range []string{"expirationDate", "relevantDate"} {
		if v, ok := c.pass[k]; ok {
			c.checkDate(k, v)
		}
	}
	v, ok := c.pass["relevantDates"]
	if !ok {
		return
	}
	list, ok := v.([]any)
	if !ok {
		c.problem("JSON-07", passFile, "pass.json: relevantDates must be an array")
		return
	}
	for i, entry := range list {
		m, ok := entry.(map[string]any)
		if !ok {
			c.problem("JSON-07", passFile, "pass.json: relevantDates[%d] must be an object", i)
			continue
		}
		for _, k := range []string{"relevantDate", "startDate", "endDate"} {
			if d, ok := m[k]; ok {
				c.checkDate(fmt.Sprintf("relevantDates[%d].%s", i, k), d)
			}
		}
	}
}

// checkDate reports JSON-07 unless v is a W3C date string.
func (c *checker) checkDate(where string, v any) {
	if s, ok := v.(string); ok && isW3CDate(s) {
		return
	}
	c.problem("JSON-07", passFile, "pass.json: %s %s must be a date with hours, minutes and a time zone, like 2026-01-31T18:00+03:00", where, jsonText(v))
}

// isW3CDate reports whether s is a valid date in the W3C profile of ISO
// 8601 with a time zone.
func isW3CDate(s string) bool {
	if !w3cDate.MatchString(s) {
		return false
	}
	if s[len("2006-01-02T15:04")] != ':' { // no seconds: add them for RFC 3339
		s = s[:len("2006-01-02T15:04")] + ":00" + s[len("2006-01-02T15:04"):]
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}
