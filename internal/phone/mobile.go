package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// NormalizeMobile is Normalize for numbers a text must reach: it also
// refuses numbers that are certainly not mobile (landlines, toll-free,
// premium), keeping those that may be either.
func NormalizeMobile(raw, defaultRegion string) (string, error) {
	e164, err := Normalize(raw, defaultRegion)
	if err != nil {
		return "", err
	}
	n, err := phonenumbers.Parse(strings.TrimSpace(raw), defaultRegion)
	if err != nil {
		return "", ErrInvalid
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return e164, nil
	}
	return "", ErrInvalid
}
