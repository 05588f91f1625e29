// Package google builds the Google Wallet side of a loyalty card: the
// LoyaltyClass of a program and the LoyaltyObject of a card (as the types
// of google.golang.org/api/walletobjects/v1), the "Add to Google Wallet"
// save link, and the check of Google's signed save/delete callbacks.
//
// It holds no HTTP client: push/gwallet inserts and patches what is built
// here, and the API layer serves the save link and the callback endpoint.
//
// Identifiers are "<issuerId>.<suffix>": the class suffix is the program
// ID and the object suffix the card's serial number, so both can be
// derived again from our own records without a lookup table.
package google

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/api/walletobjects/v1"

	"github.com/loyalpass/loyalpass/passes"
)

// Values of the Wallet API used by this package.
const (
	// ReviewStatusUnderReview is the only status we ever send for a class:
	// a DRAFT class cannot carry objects, and a class sent as APPROVED is
	// rejected, so every insert and every patch says UNDER_REVIEW and the
	// platform approves it by itself.
	ReviewStatusUnderReview = "UNDER_REVIEW"

	StateActive   = "ACTIVE"
	StateInactive = "INACTIVE"
)

// ErrInvalidID is wrapped by every error about an identifier.
var ErrInvalidID = errors.New("google wallet: invalid id")

// Issuer is what the builders need beyond the program and the card.
type Issuer struct {
	// ID is the numeric issuer ID from the Google Pay & Wallet Console.
	ID string
	// PublicURL is our server's public HTTPS base URL, without a trailing
	// slash. Google fetches images from it: the program logo is expected
	// at {PublicURL}/assets/programs/{programID}/logo.png.
	PublicURL string
	// CallbackURL, when set, becomes the class's callbackOptions.url, where
	// Google posts signed save/delete events (see CallbackVerifier).
	CallbackURL string
}

// ClassID returns the class ID of programID.
func (is Issuer) ClassID(programID string) (string, error) {
	return resourceID(is.ID, programID)
}

// ObjectID returns the object ID of the card with the given serial number.
func (is Issuer) ObjectID(serial string) (string, error) {
	return resourceID(is.ID, serial)
}

// LogoURL returns where Google fetches the logo of programID.
func (is Issuer) LogoURL(programID string) string {
	return strings.TrimRight(is.PublicURL, "/") + "/assets/programs/" + programID + "/logo.png"
}

// resourceID joins the issuer ID and a suffix. The API allows only
// alphanumerics, '.', '_' and '-' in the suffix and answers "400 Invalid
// resource ID" when the prefix is not the numeric issuer ID. Nothing is
// rewritten: a mapped suffix could collide with another one.
func resourceID(issuerID, suffix string) (string, error) {
	if issuerID == "" {
		return "", fmt.Errorf("%w: issuer id is empty", ErrInvalidID)
	}
	for _, r := range issuerID {
		if r < '0' || r > '9' {
			return "", fmt.Errorf("%w: issuer id %q is not numeric", ErrInvalidID, issuerID)
		}
	}
	if suffix == "" {
		return "", fmt.Errorf("%w: empty suffix", ErrInvalidID)
	}
	for _, r := range suffix {
		if !idChar(r) {
			return "", fmt.Errorf("%w: %q has %q; only letters, digits, '.', '_' and '-' are allowed", ErrInvalidID, suffix, r)
		}
	}
	return issuerID + "." + suffix, nil
}

func idChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}

// text is a fixed text of the card in both languages we ship.
type text struct{ ru, en string }

// The card's fixed texts, worded as on the Apple pass. Merchant texts
// (names, terms, the currency label) are shown as the merchant wrote them.
var (
	textBalance    = text{ru: "Баланс", en: "Balance"}
	textHolder     = text{ru: "Владелец", en: "Member"}
	textTier       = text{ru: "Уровень", en: "Tier"}
	textCardNumber = text{ru: "Номер карты", en: "Card number"}
	textTerms      = text{ru: "Условия программы", en: "Program terms"}
	textEarn       = text{ru: "Как начисляются баллы", en: "How you earn points"}
)

// localized turns t into a LocalizedString whose default is the program's
// language and whose translation is the other one. Wallet shows the
// translation matching the device's language, else the default.
func localized(t text, locale string) *walletobjects.LocalizedString {
	def := &walletobjects.TranslatedString{Language: passes.LocaleRU, Value: t.ru}
	other := &walletobjects.TranslatedString{Language: passes.LocaleEN, Value: t.en}
	if locale == passes.LocaleEN {
		def, other = other, def
	}
	return &walletobjects.LocalizedString{DefaultValue: def, TranslatedValues: []*walletobjects.TranslatedString{other}}
}

// in returns t in locale, English for anything but Russian.
func (t text) in(locale string) string {
	if locale == passes.LocaleRU {
		return t.ru
	}
	return t.en
}

// programLocale is p's language, Russian when unset (as on the Apple pass).
func programLocale(p passes.Program) (string, error) {
	switch p.Locale {
	case "":
		return passes.LocaleRU, nil
	case passes.LocaleRU, passes.LocaleEN:
		return p.Locale, nil
	}
	return "", fmt.Errorf("program %s: unsupported locale %q", p.ID, p.Locale)
}

// earnText describes an earn rate in basis points of the purchase:
// 500 → "5%", 250 → "2,5%" in Russian and "2.5%" in English.
func earnText(bp int) text {
	whole, frac := bp/100, bp%100
	num := func(sep string) string {
		switch {
		case frac == 0:
			return fmt.Sprintf("%d", whole)
		case frac%10 == 0:
			return fmt.Sprintf("%d%s%d", whole, sep, frac/10)
		}
		return fmt.Sprintf("%d%s%02d", whole, sep, frac)
	}
	return text{ru: num(",") + "% от суммы каждой покупки", en: num(".") + "% of every purchase"}
}
