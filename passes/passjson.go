package passes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/loyalpass/loyalpass/internal/locale"
)

// minAuthTokenLen is the shortest authenticationToken Wallet accepts.
const minAuthTokenLen = 16

// barcodeFormats maps a program's barcode format to Wallet's name.
var barcodeFormats = map[string]string{
	BarcodeQR:      "PKBarcodeFormatQR",
	BarcodePDF417:  "PKBarcodeFormatPDF417",
	BarcodeAztec:   "PKBarcodeFormatAztec",
	BarcodeCode128: "PKBarcodeFormatCode128",
}

// Field keys the pass itself uses; Card.BackFields may not reuse them.
const (
	keyBalance    = "balance"
	keyHolder     = "holder"
	keyTier       = "tier"
	keyNumber     = "number"
	keyTerms      = "terms"
	keyEarn       = "earn"
	keyBackNumber = "number_back"
	keyMessage    = "message"
	keyExpiring   = "expiring"
	keyStamps     = "stamps"
	keyRewards    = "rewards"
	keyReward     = "reward"
	keyDiscount   = "discount"
	keyOffer      = "offer"
	keyValidUntil = "valid_until"
)

// passJSON is pass.json of a store card or a coupon. Only the keys
// loyalpass sets are here; see Apple's "Pass" object reference for the
// rest.
type passJSON struct {
	FormatVersion       int         `json:"formatVersion"`
	PassTypeIdentifier  string      `json:"passTypeIdentifier"`
	TeamIdentifier      string      `json:"teamIdentifier"`
	SerialNumber        string      `json:"serialNumber"`
	OrganizationName    string      `json:"organizationName"`
	Description         string      `json:"description"`
	LogoText            string      `json:"logoText,omitempty"`
	ForegroundColor     string      `json:"foregroundColor,omitempty"`
	BackgroundColor     string      `json:"backgroundColor,omitempty"`
	LabelColor          string      `json:"labelColor,omitempty"`
	SharingProhibited   bool        `json:"sharingProhibited,omitempty"`
	Voided              bool        `json:"voided,omitempty"`
	ExpirationDate      string      `json:"expirationDate,omitempty"`
	WebServiceURL       string      `json:"webServiceURL,omitempty"`
	AuthenticationToken string      `json:"authenticationToken,omitempty"`
	Barcodes            []barcode   `json:"barcodes"`
	StoreCard           *passFields `json:"storeCard,omitempty"`
	Coupon              *passFields `json:"coupon,omitempty"`
}

type barcode struct {
	Format          string `json:"format"`
	Message         string `json:"message"`
	MessageEncoding string `json:"messageEncoding"`
	AltText         string `json:"altText,omitempty"`
}

type passFields struct {
	HeaderFields    []field `json:"headerFields,omitempty"`
	PrimaryFields   []field `json:"primaryFields,omitempty"`
	SecondaryFields []field `json:"secondaryFields,omitempty"`
	AuxiliaryFields []field `json:"auxiliaryFields,omitempty"`
	BackFields      []field `json:"backFields,omitempty"`
}

// field is a pass field. Value is a string or a number; textAlignment is
// never set, since Wallet rejects it on primary and back fields.
type field struct {
	Key           string `json:"key"`
	Label         string `json:"label,omitempty"`
	Value         any    `json:"value"`
	ChangeMessage string `json:"changeMessage,omitempty"`
	NumberStyle   string `json:"numberStyle,omitempty"`
	CurrencyCode  string `json:"currencyCode,omitempty"`
	DateStyle     string `json:"dateStyle,omitempty"`
	TimeStyle     string `json:"timeStyle,omitempty"`
}

// passContent is what buildPassJSON needs besides the program and card.
type passContent struct {
	passTypeID    string
	teamID        string
	webServiceURL string
}

// buildPassJSON encodes pass.json for card c of program p and records the
// fixed texts it uses in l.
func buildPassJSON(pc passContent, p Program, c Card, l *localizer) ([]byte, error) {
	if err := checkCard(p, c, pc.webServiceURL, l.cat); err != nil {
		return nil, err
	}
	format := barcodeFormats[p.BarcodeFormat]
	if p.BarcodeFormat == "" {
		format = barcodeFormats[BarcodeQR]
	}
	colors := [3]string{p.Design.ForegroundColor, p.Design.BackgroundColor, p.Design.LabelColor}
	for i, hex := range colors {
		rgb, err := cssRGB(hex)
		if err != nil {
			return nil, fmt.Errorf("program %s design: %w", p.ID, err)
		}
		colors[i] = rgb
	}
	description := p.Name
	if description == "" {
		description = p.OrganizationName
	}

	pj := passJSON{
		FormatVersion:      1,
		PassTypeIdentifier: pc.passTypeID,
		TeamIdentifier:     pc.teamID,
		SerialNumber:       c.SerialNumber,
		OrganizationName:   p.OrganizationName,
		Description:        description,
		LogoText:           p.Design.LogoText,
		ForegroundColor:    colors[0],
		BackgroundColor:    colors[1],
		LabelColor:         colors[2],
		// A loyalty card credits its holder's account: nobody else should
		// carry it. This only hides Wallet's Share button.
		SharingProhibited: true,
		Voided:            c.Voided,
		Barcodes: []barcode{{
			Format:          format,
			Message:         c.Number,
			MessageEncoding: "iso-8859-1",
			AltText:         c.Number,
		}},
	}
	if pc.webServiceURL != "" {
		pj.WebServiceURL = pc.webServiceURL
		pj.AuthenticationToken = c.AuthenticationToken
	}

	sf, err := buildFields(p, c, l)
	if err != nil {
		return nil, fmt.Errorf("card %s: %w", c.SerialNumber, err)
	}
	if p.kind() == KindCoupon {
		pj.Coupon = sf
		// Wallet greys a used coupon out and shows one past its date as
		// expired by itself.
		pj.Voided = c.Voided || c.Redeemed
		if c.ValidUntil != nil {
			pj.ExpirationDate = c.ValidUntil.UTC().Format(time.RFC3339)
		}
	} else {
		pj.StoreCard = sf
	}
	if err := checkUniqueKeys(sf); err != nil {
		return nil, fmt.Errorf("card %s: %w", c.SerialNumber, err)
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // merchant terms may hold & and <, and need not be escaped
	if err := enc.Encode(pj); err != nil {
		return nil, fmt.Errorf("encode pass.json of card %s: %w", c.SerialNumber, err)
	}
	return buf.Bytes(), nil
}

// effectiveRate is the rate card c earns at: its own (its tier's) when it
// has one, else the program's.
func effectiveRate(p Program, c Card) int {
	if c.EarnRateBP > 0 {
		return c.EarnRateBP
	}
	return p.EarnRateBP
}

// checkCard rejects a program or card that would make a pass Wallet drops.
func checkCard(p Program, c Card, webServiceURL string, texts *locale.Catalogue) error {
	switch {
	case c.SerialNumber == "":
		return errors.New("card has no serial number")
	case p.OrganizationName == "":
		return fmt.Errorf("program %s has no organization name", p.ID)
	case p.BarcodeFormat != "" && barcodeFormats[p.BarcodeFormat] == "":
		return fmt.Errorf("program %s: unknown barcode format %q", p.ID, p.BarcodeFormat)
	case p.Locale != "" && !texts.Has(p.Locale):
		return fmt.Errorf("program %s: unsupported locale %q", p.ID, p.Locale)
	case webServiceURL != "" && len(c.AuthenticationToken) < minAuthTokenLen:
		return fmt.Errorf("card %s: authentication token shorter than %d characters", c.SerialNumber, minAuthTokenLen)
	}
	if c.Number == "" {
		return fmt.Errorf("card %s has no number", c.SerialNumber)
	}
	// The barcode message is declared iso-8859-1 and Code 128 holds ASCII
	// only: printable ASCII is safe in every format.
	for i := 0; i < len(c.Number); i++ {
		if b := c.Number[i]; b < 0x20 || b > 0x7e {
			return fmt.Errorf("card %s: number %q has a character a barcode cannot carry", c.SerialNumber, c.Number)
		}
	}
	for _, f := range c.BackFields {
		if f.Key == "" {
			return fmt.Errorf("card %s: back field %q has no key", c.SerialNumber, f.Label)
		}
	}
	return nil
}

// checkUniqueKeys reports a field key used twice anywhere on the pass.
func checkUniqueKeys(sf *passFields) error {
	seen := make(map[string]bool, 12)
	for _, group := range [][]field{sf.HeaderFields, sf.PrimaryFields, sf.SecondaryFields, sf.AuxiliaryFields, sf.BackFields} {
		for _, f := range group {
			if seen[f.Key] {
				return fmt.Errorf("field key %q is used twice", f.Key)
			}
			seen[f.Key] = true
		}
	}
	return nil
}

// cssRGB converts "#rrggbb" to Wallet's "rgb(r, g, b)"; "" stays "".
func cssRGB(hex string) (string, error) {
	if hex == "" {
		return "", nil
	}
	if len(hex) != 7 || hex[0] != '#' {
		return "", fmt.Errorf("colour %q is not #rrggbb", hex)
	}
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil {
		return "", fmt.Errorf("colour %q is not #rrggbb", hex)
	}
	return fmt.Sprintf("rgb(%d, %d, %d)", v>>16&0xff, v>>8&0xff, v&0xff), nil
}
