package google

import (
	"fmt"
	"net/url"
	"strconv"

	"google.golang.org/api/walletobjects/v1"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/passes"
)

// Text module IDs. The API allows letters, digits, '_' and '-', no dots.
const (
	moduleTerms  = "terms"
	moduleEarn   = "earn"
	moduleNumber = "number"
)

// LoyaltyClass builds the class of program p: what every card of the
// program shares (issuer and program name, logo, colour, labels, terms).
//
// The result is complete, fit for Insert and for Patch alike; its
// ReviewStatus is always UNDER_REVIEW (see ReviewStatusUnderReview).
func (is Issuer) LoyaltyClass(p passes.Program) (*walletobjects.LoyaltyClass, error) {
	id, err := is.ClassID(p.ID)
	if err != nil {
		return nil, fmt.Errorf("class of program %s: %w", p.ID, err)
	}
	l, err := is.localizer(p)
	if err != nil {
		return nil, err
	}
	if p.OrganizationName == "" {
		return nil, fmt.Errorf("program %s has no organization name (the class's required issuerName)", p.ID)
	}
	if err := checkPublicURL(is.PublicURL); err != nil {
		return nil, fmt.Errorf("class of program %s: %w", p.ID, err)
	}
	color, err := hexColor(p.Design.BackgroundColor)
	if err != nil {
		return nil, fmt.Errorf("program %s design: %w", p.ID, err)
	}
	name := p.Name
	if name == "" {
		name = p.OrganizationName // programName is required too
	}

	c := &walletobjects.LoyaltyClass{
		Id:           id,
		IssuerName:   p.OrganizationName,
		ProgramName:  name,
		ReviewStatus: ReviewStatusUnderReview,
		ProgramLogo: &walletobjects.Image{
			SourceUri: &walletobjects.ImageUri{Uri: is.LogoURL(p.ID)},
			ContentDescription: &walletobjects.LocalizedString{
				DefaultValue: &walletobjects.TranslatedString{Language: l.own.Tag(), Value: p.OrganizationName},
			},
		},
		HexBackgroundColor:        color,
		AccountIdLabel:            l.in(textCardNumber),
		LocalizedAccountIdLabel:   l.localized(textCardNumber),
		AccountNameLabel:          l.in(textHolder),
		LocalizedAccountNameLabel: l.localized(textHolder),
	}
	if p.Terms != "" {
		c.TextModulesData = append(c.TextModulesData, &walletobjects.TextModuleData{
			Id:              moduleTerms,
			Header:          l.in(textTerms),
			LocalizedHeader: l.localized(textTerms),
			Body:            p.Terms,
		})
	}
	if p.EarnRateBP > 0 {
		earn := locale.EarnRateText(p.EarnRateBP)
		c.TextModulesData = append(c.TextModulesData, &walletobjects.TextModuleData{
			Id:              moduleEarn,
			Header:          l.in(textEarn),
			LocalizedHeader: l.localized(textEarn),
			Body:            l.in(earn),
			LocalizedBody:   l.localized(earn),
		})
	}
	if is.CallbackURL != "" {
		c.CallbackOptions = &walletobjects.CallbackOptions{Url: is.CallbackURL}
	}
	// A PATCH leaves omitted fields alone: what the program no longer has
	// goes out as null, or removed terms would stay on every card.
	if len(c.TextModulesData) == 0 {
		c.NullFields = append(c.NullFields, "TextModulesData")
	}
	if c.CallbackOptions == nil {
		c.NullFields = append(c.NullFields, "CallbackOptions")
	}
	if c.HexBackgroundColor == "" {
		c.NullFields = append(c.NullFields, "HexBackgroundColor")
	}
	return c, nil
}

// checkPublicURL accepts an absolute http(s) URL. Google fetches the logo
// from it, so in production it must be public HTTPS; plain http is let
// through for local development, where nothing is fetched.
func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("public URL %q is not an absolute http(s) URL", s)
	}
	return nil
}

// hexColor checks a "#rrggbb" colour, the form the API takes as is;
// "" stays "" (Wallet then takes the logo's dominant colour).
func hexColor(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) != 7 || s[0] != '#' {
		return "", fmt.Errorf("colour %q is not #rrggbb", s)
	}
	if _, err := strconv.ParseUint(s[1:], 16, 32); err != nil {
		return "", fmt.Errorf("colour %q is not #rrggbb", s)
	}
	return s, nil
}
