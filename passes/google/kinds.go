package google

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/api/walletobjects/v1"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/passes"
)

// Verticals: the Google Wallet pass types loyalpass uses, named as their
// REST resources are (loyaltyClass, offerObject, giftCardObject, …). A
// points, stamps or discount program is a loyalty card; a coupon is an
// offer; a gift program a gift card.
const (
	VerticalLoyalty  = "loyalty"
	VerticalOffer    = "offer"
	VerticalGiftCard = "giftCard"
)

// Object states beyond StateActive and StateInactive: a redeemed offer is
// COMPLETED (Google names no state for "used"; COMPLETED ends the
// object's life), one past its date EXPIRED. Both move the pass to
// "Expired passes".
const (
	StateCompleted = "COMPLETED"
	StateExpired   = "EXPIRED"
)

// Vertical is the pass type of program p's cards.
func Vertical(p passes.Program) string {
	switch p.Kind {
	case passes.KindCoupon:
		return VerticalOffer
	case passes.KindGift:
		return VerticalGiftCard
	}
	return VerticalLoyalty
}

// Class is a program's class, of whichever vertical the program is:
// exactly one field is set.
type Class struct {
	Loyalty  *walletobjects.LoyaltyClass
	Offer    *walletobjects.OfferClass
	GiftCard *walletobjects.GiftCardClass
}

// ID is the class's resource ID.
func (c Class) ID() string {
	switch {
	case c.Offer != nil:
		return c.Offer.Id
	case c.GiftCard != nil:
		return c.GiftCard.Id
	case c.Loyalty != nil:
		return c.Loyalty.Id
	}
	return ""
}

// Object is a card's object, of whichever vertical its program is:
// exactly one field is set.
type Object struct {
	Loyalty  *walletobjects.LoyaltyObject
	Offer    *walletobjects.OfferObject
	GiftCard *walletobjects.GiftCardObject
}

// Ref names the object for a save link.
func (o Object) Ref() ObjectRef {
	switch {
	case o.Offer != nil:
		return ObjectRef{Vertical: VerticalOffer, ID: o.Offer.Id}
	case o.GiftCard != nil:
		return ObjectRef{Vertical: VerticalGiftCard, ID: o.GiftCard.Id}
	case o.Loyalty != nil:
		return ObjectRef{Vertical: VerticalLoyalty, ID: o.Loyalty.Id}
	}
	return ObjectRef{}
}

// AddNullFields names fields a PATCH must clear.
func (o Object) AddNullFields(fields ...string) {
	switch {
	case o.Offer != nil:
		o.Offer.NullFields = append(o.Offer.NullFields, fields...)
	case o.GiftCard != nil:
		o.GiftCard.NullFields = append(o.GiftCard.NullFields, fields...)
	case o.Loyalty != nil:
		o.Loyalty.NullFields = append(o.Loyalty.NullFields, fields...)
	}
}

// SetMessages sets the object's messages (an insert's first message).
func (o Object) SetMessages(m []*walletobjects.Message) {
	switch {
	case o.Offer != nil:
		o.Offer.Messages = m
	case o.GiftCard != nil:
		o.GiftCard.Messages = m
	case o.Loyalty != nil:
		o.Loyalty.Messages = m
	}
}

// Class builds the class of program p in its vertical.
func (is Issuer) Class(p passes.Program) (Class, error) {
	switch Vertical(p) {
	case VerticalOffer:
		c, err := is.OfferClass(p)
		return Class{Offer: c}, err
	case VerticalGiftCard:
		c, err := is.GiftCardClass(p)
		return Class{GiftCard: c}, err
	}
	c, err := is.LoyaltyClass(p)
	return Class{Loyalty: c}, err
}

// Object builds the object of card c of program p in its vertical.
func (is Issuer) Object(p passes.Program, c passes.Card) (Object, error) {
	switch Vertical(p) {
	case VerticalOffer:
		o, err := is.OfferObject(p, c)
		return Object{Offer: o}, err
	case VerticalGiftCard:
		o, err := is.GiftCardObject(p, c)
		return Object{GiftCard: o}, err
	}
	o, err := is.LoyaltyObject(p, c)
	return Object{Loyalty: o}, err
}

// StampHeroURL is where Google fetches the hero image of a stamp card of
// p with filled stamps. Google caches images by URL, so the URL names
// everything the picture depends on: the program's version and the count.
func (is Issuer) StampHeroURL(p passes.Program, filled int64) string {
	filled = max(0, min(filled, int64(p.StampsRequired)))
	return strings.TrimRight(is.PublicURL, "/") + "/assets/programs/" + p.ID + "/stamps/" +
		strconv.FormatInt(p.Version, 10) + "/" + strconv.FormatInt(filled, 10) + "-of-" + strconv.Itoa(p.StampsRequired) + ".png"
}

// The kinds' fixed texts, worded as on the Apple pass.
var (
	textStamps    = locale.Msg("stamps")
	textRewards   = locale.Msg("rewards")
	textDiscount  = locale.Msg("discount")
	textReward    = locale.Msg("reward_label")
	errNoCurrency = errors.New("gift card without a currency")
)

// moduleReward is the text module with a stamp card's reward.
const moduleReward = "reward"

// kindPoints sets what a stamp or discount card shows on a LoyaltyObject's
// face instead of points: the stamps ("3/6", the label at most 9
// characters, the value 7) with the rewards ready beside them and the
// stamp picture as the object's own hero image, or the discount ("10%")
// with the tier beside it. It reports whether it set the secondary points.
func (is Issuer) kindPoints(o *walletobjects.LoyaltyObject, p passes.Program, c passes.Card, l localizer) bool {
	switch p.Kind {
	case passes.KindStamps:
		filled := max(0, min(c.Balance, int64(p.StampsRequired)))
		o.LoyaltyPoints = &walletobjects.LoyaltyPoints{Label: l.in(textStamps), LocalizedLabel: l.localized(textStamps),
			Balance: &walletobjects.LoyaltyPointsBalance{String: strconv.FormatInt(filled, 10) + "/" + strconv.Itoa(p.StampsRequired)}}
		o.SecondaryLoyaltyPoints = &walletobjects.LoyaltyPoints{Label: l.in(textRewards), LocalizedLabel: l.localized(textRewards),
			Balance: pointsBalance(c.Rewards)}
		o.HeroImage = &walletobjects.Image{SourceUri: &walletobjects.ImageUri{Uri: is.StampHeroURL(p, filled)},
			ContentDescription: l.localized(locale.StampsOfText(filled, int64(p.StampsRequired)))}
		if p.Reward != "" {
			o.TextModulesData = append(o.TextModulesData, &walletobjects.TextModuleData{Id: moduleReward,
				Header: l.in(textReward), LocalizedHeader: l.localized(textReward), Body: p.Reward})
		}
		return true
	case passes.KindDiscount:
		o.LoyaltyPoints = &walletobjects.LoyaltyPoints{Label: l.in(textDiscount), LocalizedLabel: l.localized(textDiscount),
			Balance: &walletobjects.LoyaltyPointsBalance{String: strconv.Itoa(c.DiscountPercent) + "%"}}
	}
	return false
}

// OfferClass builds the class of coupon program p: the offer as its
// title, for use in store (redemptionChannel INSTORE).
func (is Issuer) OfferClass(p passes.Program) (*walletobjects.OfferClass, error) {
	id, err := is.ClassID(p.ID)
	if err != nil {
		return nil, fmt.Errorf("class of program %s: %w", p.ID, err)
	}
	l, err := is.localizer(p)
	if err != nil {
		return nil, err
	}
	color, err := is.checkClass(p)
	if err != nil {
		return nil, err
	}
	if p.Offer == "" {
		return nil, fmt.Errorf("program %s has no offer (the class's required title)", p.ID)
	}
	c := &walletobjects.OfferClass{
		Id:                 id,
		IssuerName:         p.OrganizationName,
		Provider:           p.OrganizationName,
		Title:              p.Offer,
		ShortTitle:         p.Name,
		RedemptionChannel:  "INSTORE",
		ReviewStatus:       ReviewStatusUnderReview,
		TitleImage:         is.logo(p, l),
		HexBackgroundColor: color,
		Details:            p.Terms,
	}
	if is.CallbackURL != "" {
		c.CallbackOptions = &walletobjects.CallbackOptions{Url: is.CallbackURL}
	}
	for field, empty := range map[string]bool{"Details": c.Details == "", "CallbackOptions": c.CallbackOptions == nil,
		"HexBackgroundColor": color == "", "ShortTitle": c.ShortTitle == ""} {
		if empty {
			c.NullFields = append(c.NullFields, field)
		}
	}
	return c, nil
}

// OfferObject builds the object of coupon card c: ACTIVE until used
// (COMPLETED) or lapsed (EXPIRED: the expiry took its one coupon),
// INACTIVE when voided, valid until its date.
func (is Issuer) OfferObject(p passes.Program, c passes.Card) (*walletobjects.OfferObject, error) {
	id, classID, bc, err := is.objectBasics(p, c)
	if err != nil {
		return nil, err
	}
	l, err := is.localizer(p)
	if err != nil {
		return nil, err
	}
	o := &walletobjects.OfferObject{Id: id, ClassId: classID, State: couponState(c), Barcode: bc,
		TextModulesData: []*walletobjects.TextModuleData{numberModule(c, l)}}
	if c.ValidUntil != nil {
		o.ValidTimeInterval = &walletobjects.TimeInterval{End: &walletobjects.DateTime{Date: c.ValidUntil.UTC().Format(time.RFC3339)}}
	}
	return o, nil
}

// couponState is the OfferObject state of coupon card c.
func couponState(c passes.Card) string {
	switch {
	case c.Voided:
		return StateInactive
	case c.Redeemed:
		return StateCompleted
	case c.Balance < 1:
		return StateExpired
	}
	return StateActive
}

// GiftCardClass builds the class of gift program p.
func (is Issuer) GiftCardClass(p passes.Program) (*walletobjects.GiftCardClass, error) {
	id, err := is.ClassID(p.ID)
	if err != nil {
		return nil, fmt.Errorf("class of program %s: %w", p.ID, err)
	}
	l, err := is.localizer(p)
	if err != nil {
		return nil, err
	}
	color, err := is.checkClass(p)
	if err != nil {
		return nil, err
	}
	name := p.Name
	if name == "" {
		name = p.OrganizationName
	}
	c := &walletobjects.GiftCardClass{
		Id:                       id,
		IssuerName:               p.OrganizationName,
		MerchantName:             name,
		ReviewStatus:             ReviewStatusUnderReview,
		ProgramLogo:              is.logo(p, l),
		HexBackgroundColor:       color,
		CardNumberLabel:          l.in(textCardNumber),
		LocalizedCardNumberLabel: l.localized(textCardNumber),
		AllowBarcodeRedemption:   true,
	}
	if p.Terms != "" {
		c.TextModulesData = []*walletobjects.TextModuleData{{Id: moduleTerms, Header: l.in(textTerms),
			LocalizedHeader: l.localized(textTerms), Body: p.Terms}}
	}
	if is.CallbackURL != "" {
		c.CallbackOptions = &walletobjects.CallbackOptions{Url: is.CallbackURL}
	}
	for field, empty := range map[string]bool{"TextModulesData": c.TextModulesData == nil,
		"CallbackOptions": c.CallbackOptions == nil, "HexBackgroundColor": color == ""} {
		if empty {
			c.NullFields = append(c.NullFields, field)
		}
	}
	return c, nil
}

// GiftCardObject builds the object of gift card c: its number and its
// balance as Money in micros of the currency. A zero balance is sent as
// "0", not dropped (the Go client omits a zero micros unless forced, and
// the card would keep showing what was spent).
func (is Issuer) GiftCardObject(p passes.Program, c passes.Card) (*walletobjects.GiftCardObject, error) {
	id, classID, bc, err := is.objectBasics(p, c)
	if err != nil {
		return nil, err
	}
	balance, err := money(c.Balance, p.Currency, p.CurrencyDigits)
	if err != nil {
		return nil, fmt.Errorf("card %s: %w", c.SerialNumber, err)
	}
	o := &walletobjects.GiftCardObject{Id: id, ClassId: classID, State: StateActive, CardNumber: c.Number,
		Balance: balance, Barcode: bc}
	if c.Voided {
		o.State = StateInactive
	}
	return o, nil
}

// money is minor units of currency as the API's Money: micros, a
// millionth of the major unit.
func money(minor int64, currency string, digits int) (*walletobjects.Money, error) {
	if len(currency) != 3 {
		return nil, fmt.Errorf("%w: %q", errNoCurrency, currency)
	}
	if digits < 0 || digits > 6 {
		return nil, fmt.Errorf("currency %s: %d minor digits", currency, digits)
	}
	scale := int64(1)
	for i := digits; i < 6; i++ {
		scale *= 10
	}
	return &walletobjects.Money{Micros: minor * scale, CurrencyCode: currency, ForceSendFields: []string{"Micros"}}, nil
}

// objectBasics are what every object has: its ID, its class's and the
// card's barcode.
func (is Issuer) objectBasics(p passes.Program, c passes.Card) (id, classID string, bc *walletobjects.Barcode, err error) {
	if c.SerialNumber == "" {
		return "", "", nil, errors.New("card has no serial number")
	}
	if id, err = is.ObjectID(c.SerialNumber); err != nil {
		return "", "", nil, fmt.Errorf("object of card %s: %w", c.SerialNumber, err)
	}
	if classID, err = is.ClassID(p.ID); err != nil {
		return "", "", nil, fmt.Errorf("class of program %s: %w", p.ID, err)
	}
	bc, err = barcode(p, c)
	return id, classID, bc, err
}

// checkClass checks what every class needs and returns its colour.
func (is Issuer) checkClass(p passes.Program) (string, error) {
	if p.OrganizationName == "" {
		return "", fmt.Errorf("program %s has no organization name (the class's required issuerName)", p.ID)
	}
	if err := checkPublicURL(is.PublicURL); err != nil {
		return "", fmt.Errorf("class of program %s: %w", p.ID, err)
	}
	color, err := hexColor(p.Design.BackgroundColor)
	if err != nil {
		return "", fmt.Errorf("program %s design: %w", p.ID, err)
	}
	return color, nil
}

// logo is the program's logo image, fetched from our public URL.
func (is Issuer) logo(p passes.Program, l localizer) *walletobjects.Image {
	return &walletobjects.Image{SourceUri: &walletobjects.ImageUri{Uri: is.LogoURL(p.ID)},
		ContentDescription: &walletobjects.LocalizedString{
			DefaultValue: &walletobjects.TranslatedString{Language: l.own.Tag(), Value: p.OrganizationName}}}
}

// numberModule is the text module with the card number.
func numberModule(c passes.Card, l localizer) *walletobjects.TextModuleData {
	return &walletobjects.TextModuleData{Id: moduleNumber, Header: l.in(textCardNumber),
		LocalizedHeader: l.localized(textCardNumber), Body: c.Number}
}
