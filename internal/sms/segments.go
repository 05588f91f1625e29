package sms

import "unicode/utf16"

// Encoding names.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// Segments is how a text travels: its encoding, its length in that
// encoding's units, and how many billed parts it takes.
type Segments struct {
	// Encoding is GSM7 when every character is in the GSM 03.38 default
	// alphabet or its extension table, else UCS2.
	Encoding string
	// Units is septets for GSM-7 (an extension character costs 2) or UTF-16
	// code units for UCS-2 (a character outside the BMP, such as an emoji,
	// costs 2).
	Units int
	// Parts is the number of SMS billed: 1 up to 160 septets or 70 units,
	// else parts of 153 or 67 (the rest of 140 bytes is the concatenation
	// header). 0 for an empty text.
	Parts int
	// PerPart is the capacity of one part: 160, 153, 70 or 67.
	PerPart int
}

// Single and concatenated part capacities.
const (
	gsmSingle  = 160
	gsmMulti   = 153
	ucs2Single = 70
	ucs2Multi  = 67
)

// gsmBasic is the GSM 03.38 default alphabet, one septet each.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the extension table: an escape septet plus one, two each.
const gsmExtension = "\f^{}\\[~]|€"

var gsmCost = func() map[rune]int {
	m := make(map[rune]int, 140)
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// Count works out the encoding and the number of parts of text. One
// character outside GSM-7 (Cyrillic, «», —, an emoji) makes the whole text
// UCS-2. Parts are filled the way phones split them: an escape pair or a
// surrogate pair is never cut, so a part may carry one unit less.
func Count(text string) Segments {
	costs, enc := unitCosts(text)
	s := Segments{Encoding: enc, PerPart: gsmSingle}
	single, multi := gsmSingle, gsmMulti
	if enc == UCS2 {
		single, multi = ucs2Single, ucs2Multi
		s.PerPart = ucs2Single
	}
	for _, c := range costs {
		s.Units += c
	}
	switch {
	case s.Units == 0:
		return s
	case s.Units <= single:
		s.Parts = 1
		return s
	}
	s.PerPart = multi
	s.Parts = 1
	used := 0
	for _, c := range costs {
		if used+c > multi {
			s.Parts++
			used = 0
		}
		used += c
	}
	return s
}

// unitCosts returns the cost of each character in the encoding text needs.
func unitCosts(text string) ([]int, string) {
	costs := make([]int, 0, len(text))
	for _, r := range text {
		c, ok := gsmCost[r]
		if !ok {
			return ucs2Costs(text), UCS2
		}
		costs = append(costs, c)
	}
	return costs, GSM7
}

func ucs2Costs(text string) []int {
	costs := make([]int, 0, len(text))
	for _, r := range text {
		if utf16.RuneLen(r) == 2 {
			costs = append(costs, 2)
		} else {
			// Invalid UTF-8 decodes to U+FFFD, one unit, as a phone would show it.
			costs = append(costs, 1)
		}
	}
	return costs
}
