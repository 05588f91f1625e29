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

	"github.com/loyalpass/loyalpass/internal/locale"
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
	// Texts words the cards and lists their languages; nil means the
	// shipped catalogue.
	Texts *locale.Catalogue
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

// The card's fixed texts, worded as on the Apple pass. Merchant texts
// (names, terms, the currency label) are shown as the merchant wrote them.
var (
	textBalance    = locale.Msg("balance")
	textHolder     = locale.Msg("holder")
	textTier       = locale.Msg("tier")
	textCardNumber = locale.Msg("card_number")
	textTerms      = locale.Msg("terms")
	textEarn       = locale.Msg("earn_label")
)

// texts is the catalogue the issuer words its cards from.
func (is Issuer) texts() *locale.Catalogue {
	if is.Texts != nil {
		return is.Texts
	}
	return locale.Shipped()
}

// localizer puts the card's fixed texts in the program's language, with
// every other language of the catalogue as a translation.
type localizer struct {
	cat *locale.Catalogue
	own *locale.Lang
}

// localizer returns the localizer of p's language, Russian when unset.
func (is Issuer) localizer(p passes.Program) (localizer, error) {
	cat, tag := is.texts(), p.Locale
	if tag == "" {
		tag = passes.LocaleRU
	}
	if !cat.Has(tag) {
		return localizer{}, fmt.Errorf("program %s: unsupported locale %q", p.ID, p.Locale)
	}
	return localizer{cat: cat, own: cat.Lang(tag)}, nil
}

// in returns t in the program's language.
func (l localizer) in(t locale.Text) string { return t(l.own) }

// localized turns t into a LocalizedString whose default is the program's
// language and whose translations are the others. Wallet shows the
// translation matching the device's language, else the default.
func (l localizer) localized(t locale.Text) *walletobjects.LocalizedString {
	ls := &walletobjects.LocalizedString{DefaultValue: &walletobjects.TranslatedString{Language: l.own.Tag(), Value: t(l.own)}}
	for _, tag := range l.cat.Tags() {
		if tag != l.own.Tag() {
			ls.TranslatedValues = append(ls.TranslatedValues,
				&walletobjects.TranslatedString{Language: tag, Value: t(l.cat.Lang(tag))})
		}
	}
	return ls
}
