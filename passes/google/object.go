package google

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"google.golang.org/api/walletobjects/v1"

	"github.com/loyalpass/loyalpass/passes"
)

// barcodeTypes maps our barcode formats to the API's Barcode.type.
var barcodeTypes = map[string]string{
	passes.BarcodeQR:      "QR_CODE",
	passes.BarcodePDF417:  "PDF_417",
	passes.BarcodeAztec:   "AZTEC",
	passes.BarcodeCode128: "CODE_128",
}

// LoyaltyObject builds the object of card c of program p: the holder's
// balance, tier, card number and barcode, and ACTIVE or INACTIVE. A stamp
// card shows its stamps and rewards instead of points, with its stamp
// picture as hero image; a discount card its discount (see kindPoints).
//
// The result is complete, fit for Insert, for a save link's object and
// for Patch alike. It never sets NotifyPreference: whether an update
// notifies is the sender's call, made per request (push/gwallet).
func (is Issuer) LoyaltyObject(p passes.Program, c passes.Card) (*walletobjects.LoyaltyObject, error) {
	if c.SerialNumber == "" {
		return nil, errors.New("card has no serial number")
	}
	id, err := is.ObjectID(c.SerialNumber)
	if err != nil {
		return nil, fmt.Errorf("object of card %s: %w", c.SerialNumber, err)
	}
	classID, err := is.ClassID(p.ID)
	if err != nil {
		return nil, fmt.Errorf("class of program %s: %w", p.ID, err)
	}
	l, err := is.localizer(p)
	if err != nil {
		return nil, err
	}
	bc, err := barcode(p, c)
	if err != nil {
		return nil, err
	}

	o := &walletobjects.LoyaltyObject{
		Id:          id,
		ClassId:     classID,
		State:       StateActive,
		AccountId:   c.Number,
		AccountName: c.HolderName,
		Barcode:     bc,
		LoyaltyPoints: &walletobjects.LoyaltyPoints{
			Balance: pointsBalance(c.Balance),
		},
		TextModulesData: []*walletobjects.TextModuleData{{
			Id:              moduleNumber,
			Header:          l.in(textCardNumber),
			LocalizedHeader: l.localized(textCardNumber),
			Body:            c.Number,
		}},
	}
	if c.Voided {
		o.State = StateInactive
	}
	// The currency label is the merchant's own word and goes out as
	// written; without one the label is our fixed "Balance", translated.
	if p.CurrencyLabel != "" {
		o.LoyaltyPoints.Label = p.CurrencyLabel
	} else {
		o.LoyaltyPoints.Label = l.in(textBalance)
		o.LoyaltyPoints.LocalizedLabel = l.localized(textBalance)
	}
	secondary := is.kindPoints(o, p, c, l)
	// The tier sits on the front next to the balance. LoyaltyObject has no
	// rewardsTier of its own (that field is per class), so a per-card tier
	// is a string "balance" of the secondary points.
	if c.Tier != "" && !secondary {
		o.SecondaryLoyaltyPoints = &walletobjects.LoyaltyPoints{
			Label:          l.in(textTier),
			LocalizedLabel: l.localized(textTier),
			Balance:        &walletobjects.LoyaltyPointsBalance{String: c.Tier},
		}
	}
	// A PATCH leaves omitted fields alone, so a field the card no longer
	// has goes out as null; a lost tier would otherwise stay on the card.
	if c.Tier == "" && !secondary {
		o.NullFields = append(o.NullFields, "SecondaryLoyaltyPoints")
	}
	if c.HolderName == "" {
		o.NullFields = append(o.NullFields, "AccountName")
	}

	for _, f := range c.BackFields {
		o.TextModulesData = append(o.TextModulesData, &walletobjects.TextModuleData{
			Id: moduleID(f.Key), Header: f.Label, Body: f.Value,
		})
		if f.URL != "" {
			if o.LinksModuleData == nil {
				o.LinksModuleData = &walletobjects.LinksModuleData{}
			}
			o.LinksModuleData.Uris = append(o.LinksModuleData.Uris, &walletobjects.Uri{
				Id: moduleID(f.Key), Uri: f.URL, Description: f.Label,
			})
		}
	}
	if o.LinksModuleData == nil {
		o.NullFields = append(o.NullFields, "LinksModuleData")
	}
	return o, nil
}

// pointsBalance returns n as the API's balance.
//
// Zero balance: the generated structs tag every field omitempty, so
// LoyaltyPointsBalance{Int: 0} marshals as "balance":{} and the API sees no
// balance at all: an insert shows an empty balance and a PATCH leaves the
// old number on the card. Naming Int in ForceSendFields makes the client
// send "balance":{"int":0}, which is what a customer who spent everything
// must see. The field is always forced, so the rule holds for every value.
//
// The discovery document declares int as int32 (the Go struct is wider):
// a balance outside that range goes out as a string instead.
func pointsBalance(n int64) *walletobjects.LoyaltyPointsBalance {
	if n < math.MinInt32 || n > math.MaxInt32 {
		return &walletobjects.LoyaltyPointsBalance{String: strconv.FormatInt(n, 10)}
	}
	return &walletobjects.LoyaltyPointsBalance{Int: n, ForceSendFields: []string{"Int"}}
}

// barcode returns the card's barcode in the program's format, carrying the
// card number and showing it underneath.
func barcode(p passes.Program, c passes.Card) (*walletobjects.Barcode, error) {
	format := p.BarcodeFormat
	if format == "" {
		format = passes.BarcodeQR
	}
	typ, ok := barcodeTypes[format]
	if !ok {
		return nil, fmt.Errorf("program %s: unknown barcode format %q", p.ID, p.BarcodeFormat)
	}
	if c.Number == "" {
		return nil, fmt.Errorf("card %s has no number", c.SerialNumber)
	}
	// Code 128 holds ASCII only; printable ASCII is safe in every format
	// and keeps the Google card scanning like the Apple one.
	for i := 0; i < len(c.Number); i++ {
		if b := c.Number[i]; b < 0x20 || b > 0x7e {
			return nil, fmt.Errorf("card %s: number %q has a character a barcode cannot carry", c.SerialNumber, c.Number)
		}
	}
	bc := &walletobjects.Barcode{Type: typ, Value: c.Number, AlternateText: c.Number}
	if typ != "CODE_128" {
		bc.RenderEncoding = "UTF_8" // defined for the 2D codes only
	}
	return bc, nil
}

// moduleID turns a back-field key into a text module ID, which may hold
// letters, digits, '_' and '-' only (dots separate template field paths).
func moduleID(key string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || !idChar(r) {
			return '_'
		}
		return r
	}, key)
}
