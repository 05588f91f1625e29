package passcheck

import (
	"path"
	"regexp"
	"strings"
)

// styleLimit is how many fields of each list a style shows. Wallet drops
// the fields beyond, silently.
type styleLimit struct {
	header, primary, secondary, auxiliary int
	// squareShared: with a square barcode (QR, Aztec) the secondary and
	// auxiliary fields share four places between them.
	squareShared bool
	// dates: the style supports relevantDate (lock-screen relevance by
	// time); storeCard and coupon do not, and a relevantDate on them has
	// been seen to file the pass under expired ones.
	dates bool
	// images are the image kinds the style shows besides icon and logo.
	images []string
}

// styleLimits follow Apple's PassKit guide (Table 4-1 and 4-2) and the
// secondaryFields reference.
var styleLimits = map[string]styleLimit{
	"boardingPass": {header: 3, primary: 2, secondary: 4, auxiliary: 5, dates: true, images: []string{"footer"}},
	"coupon":       {header: 3, primary: 1, secondary: 4, auxiliary: 4, squareShared: true, images: []string{"strip"}},
	"eventTicket":  {header: 3, primary: 1, secondary: 4, auxiliary: 4, dates: true, images: []string{"strip", "background", "thumbnail"}},
	"generic":      {header: 3, primary: 1, secondary: 4, auxiliary: 4, squareShared: true, dates: true, images: []string{"thumbnail"}},
	"storeCard":    {header: 3, primary: 1, secondary: 4, auxiliary: 4, squareShared: true, images: []string{"strip"}},
}

// passImage matches the pass's image files: kind, optional @2x/@3x.
var passImage = regexp.MustCompile(`^(icon|logo|strip|thumbnail|background|footer)(@[23]x)?\.png$`)

// checkStyleRules checks JSON-10, the layout of the pass's one style:
// no more fields in a list than the style shows, no relevantDate on a
// style without date relevance, voided a boolean. Images the style does
// not show are noted, since Wallet only ignores them.
func (c *checker) checkStyleRules(styles []string) {
	if v, ok := c.pass["voided"]; ok {
		if _, isBool := v.(bool); !isBool {
			c.problem("JSON-10", passFile, "pass.json: voided must be true or false, not %s", jsonText(v))
		}
	}
	if len(styles) != 1 {
		return // JSON-02 reports it; limits of which style would be a guess
	}
	style := styles[0]
	lim := styleLimits[style]
	dict := c.pass[style].(map[string]any)
	count := func(list string) int {
		fields, _ := dict[list].([]any)
		return len(fields)
	}
	for _, l := range []struct {
		list string
		max  int
	}{{"headerFields", lim.header}, {"primaryFields", lim.primary}, {"secondaryFields", lim.secondary}, {"auxiliaryFields", lim.auxiliary}} {
		if n := count(l.list); n > l.max {
			c.problem("JSON-10", passFile, "pass.json: %s has %d %s; the style shows at most %d and drops the rest", style, n, l.list, l.max)
		}
	}
	if n := count("secondaryFields") + count("auxiliaryFields"); lim.squareShared && c.squareBarcode() && n > 4 {
		c.problem("JSON-10", passFile, "pass.json: %s has %d secondary and auxiliary fields; with a square barcode they share 4 places", style, n)
	}
	if !lim.dates {
		for _, k := range []string{"relevantDate", "relevantDates"} {
			if _, ok := c.pass[k]; ok {
				c.problem("JSON-10", passFile, "pass.json: a %s does not support %s (relevance is by location only); Wallet may file the pass as expired", style, k)
			}
		}
	}
	shown := map[string]bool{"icon": true, "logo": true}
	for _, kind := range lim.images {
		shown[kind] = true
	}
	noted := map[string]bool{}
	for _, name := range c.order {
		m := passImage.FindStringSubmatch(path.Base(name))
		if m == nil || shown[m[1]] || noted[m[1]] {
			continue
		}
		noted[m[1]] = true
		c.note("%s: a %s does not show %s images; Wallet ignores them", name, style, m[1])
	}
	if style == "eventTicket" && c.hasImage("strip") && (c.hasImage("background") || c.hasImage("thumbnail")) {
		c.note("an eventTicket with a strip image shows neither background nor thumbnail")
	}
}

// squareBarcode reports whether the pass's first barcode is square.
func (c *checker) squareBarcode() bool {
	list, _ := c.pass["barcodes"].([]any)
	if len(list) == 0 {
		return false
	}
	b, _ := list[0].(map[string]any)
	f, _ := b["format"].(string)
	return f == "PKBarcodeFormatQR" || f == "PKBarcodeFormatAztec"
}

// hasImage reports whether the package has an image of kind at any scale.
func (c *checker) hasImage(kind string) bool {
	for _, name := range c.order {
		if m := passImage.FindStringSubmatch(path.Base(name)); m != nil && strings.EqualFold(m[1], kind) {
			return true
		}
	}
	return false
}
