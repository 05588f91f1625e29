package passes

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/loyalpass/loyalpass/assets"
	"github.com/loyalpass/loyalpass/internal/locale"
)

// Layout is what Wallet shows of a pass, read back from the pass.json
// that Render would sign: its style, colours, texts and fields, with the
// labels in the program's language. The console's card designer draws
// its preview from it, so the preview shows what the pass carries.
type Layout struct {
	// Style is the pass style: "storeCard", or "coupon" for a coupon.
	Style                                        string
	OrganizationName, Description, LogoText      string
	ForegroundColor, BackgroundColor, LabelColor string // "rgb(r, g, b)"
	Header, Primary, Secondary, Auxiliary, Back  []LayoutField
	Barcode                                      LayoutBarcode
	Voided                                       bool
}

// LayoutField is a field of a pass: its label and its value as text.
// Wallet writes a date (DateStyle set; Value is RFC 3339) and an amount
// (CurrencyCode set; Value in major units) the device's way, so the one
// who draws the field formats them.
type LayoutField struct{ Key, Label, Value, DateStyle, CurrencyCode string }

// LayoutBarcode is the pass's barcode: Wallet's format name
// ("PKBarcodeFormatQR", …), what it encodes and the text under it.
type LayoutBarcode struct{ Format, Message, AltText string }

// previewJSON reads the parts of pass.json a Layout shows; the field
// groups sit under the pass style's key.
type previewJSON struct {
	OrganizationName string         `json:"organizationName"`
	Description      string         `json:"description"`
	LogoText         string         `json:"logoText"`
	ForegroundColor  string         `json:"foregroundColor"`
	BackgroundColor  string         `json:"backgroundColor"`
	LabelColor       string         `json:"labelColor"`
	Voided           bool           `json:"voided"`
	Barcodes         []barcode      `json:"barcodes"`
	StoreCard        *previewFields `json:"storeCard"`
	Coupon           *previewFields `json:"coupon"`
}

type previewFields struct {
	HeaderFields    []previewField `json:"headerFields"`
	PrimaryFields   []previewField `json:"primaryFields"`
	SecondaryFields []previewField `json:"secondaryFields"`
	AuxiliaryFields []previewField `json:"auxiliaryFields"`
	BackFields      []previewField `json:"backFields"`
}

type previewField struct {
	Key          string          `json:"key"`
	Label        string          `json:"label"`
	Value        json.RawMessage `json:"value"`
	DateStyle    string          `json:"dateStyle"`
	CurrencyCode string          `json:"currencyCode"`
}

// PassLayout builds pass.json for card c of program p, as Render does,
// and returns what it shows. Texts words the fixed labels (nil: the
// shipped catalogue).
func PassLayout(p Program, c Card, texts *locale.Catalogue) (Layout, error) {
	if texts == nil {
		texts = locale.Shipped()
	}
	tag := p.Locale
	if tag == "" {
		tag = LocaleEN
	}
	raw, err := buildPassJSON(passContent{passTypeID: "pass.preview", teamID: "PREVIEW"}, p, c, newLocalizer(texts, tag))
	if err != nil {
		return Layout{}, fmt.Errorf("pass layout: %w", err)
	}
	var pj previewJSON
	if err := json.Unmarshal(raw, &pj); err != nil {
		return Layout{}, fmt.Errorf("pass layout: %w", err)
	}
	l := Layout{OrganizationName: pj.OrganizationName, Description: pj.Description, LogoText: pj.LogoText,
		ForegroundColor: pj.ForegroundColor, BackgroundColor: pj.BackgroundColor, LabelColor: pj.LabelColor,
		Voided: pj.Voided}
	fields := pj.StoreCard
	l.Style = "storeCard"
	if pj.Coupon != nil {
		fields, l.Style = pj.Coupon, "coupon"
	}
	if fields == nil {
		return Layout{}, fmt.Errorf("pass layout: pass.json has no fields")
	}
	for _, g := range []struct {
		from []previewField
		to   *[]LayoutField
	}{{fields.HeaderFields, &l.Header}, {fields.PrimaryFields, &l.Primary}, {fields.SecondaryFields, &l.Secondary},
		{fields.AuxiliaryFields, &l.Auxiliary}, {fields.BackFields, &l.Back}} {
		for _, f := range g.from {
			*g.to = append(*g.to, LayoutField{Key: f.Key, Label: f.Label, Value: fieldText(f.Value), DateStyle: f.DateStyle,
				CurrencyCode: f.CurrencyCode})
		}
	}
	if len(pj.Barcodes) > 0 {
		b := pj.Barcodes[0]
		l.Barcode = LayoutBarcode{Format: b.Format, Message: b.Message, AltText: b.AltText}
	}
	return l, nil
}

// fieldText writes a field's value, a string or a number, as text.
func fieldText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			return strconv.FormatInt(i, 10)
		}
		return n.String()
	}
	return string(raw)
}

// PreviewImage returns the image file name ("logo@2x.png", …) that a
// pass of p carries: the program's own, else the default one. ok is
// false for a name no pass carries.
func PreviewImage(p Program, name string) (data []byte, ok bool) {
	if data, ok := p.Design.Images[name]; ok {
		return data, true
	}
	return assets.DefaultImage(name)
}

// PreviewStrip returns the strip a pass of card c in program p shows, at
// twice the size of a point: a stamp card's is drawn for its stamps, as
// Render draws it; any other is the program's own or the default.
func PreviewStrip(p Program, c Card) ([]byte, error) {
	if p.kind() != KindStamps {
		data, _ := PreviewImage(p, imageFileName(ImageStrip, 2))
		return data, nil
	}
	total := p.StampsRequired
	files, err := stampStripFiles(p, int(max(0, min(c.Balance, int64(total)))), total)
	if err != nil {
		return nil, fmt.Errorf("preview strip: %w", err)
	}
	for _, f := range files {
		if f.name == imageFileName(ImageStrip, 2) {
			return f.data, nil
		}
	}
	return nil, fmt.Errorf("preview strip: no @2x file")
}
