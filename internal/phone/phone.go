// Package phone turns the ways people write phone numbers into E.164.
package phone

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalid is returned for input that is not a valid phone number.
var ErrInvalid = errors.New("not a valid phone number")

// Normalize parses raw in the context of defaultRegion (an ISO 3166 code
// such as "RU") and returns the number in E.164, e.g. "8 (912) 345-67-89" →
// "+79123456789". The parser accepts garbage such as "12345" without error,
// so validity is checked explicitly.
func Normalize(raw, defaultRegion string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 64 {
		return "", ErrInvalid
	}
	n, err := phonenumbers.Parse(raw, defaultRegion)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", ErrInvalid
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// Mask hides all but the last four digits of an E.164 number, for logs.
func Mask(e164 string) string {
	if len(e164) <= 4 {
		return "****"
	}
	return strings.Repeat("*", len(e164)-4) + e164[len(e164)-4:]
}
