package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/phone"
	"github.com/loyalpass/loyalpass/internal/store"
)

// customerStore is what the customer routes need of the database: the
// customers (store.CustomerStore), the merchant's country to read local
// phone numbers in, and the cards' referral codes.
type customerStore interface {
	Find(ctx context.Context, merchantID string, q store.CustomerFilter, after store.Cursor, limit int) ([]loyalty.Customer, error)
	Customer(ctx context.Context, merchantID, id string) (store.CustomerDetail, error)
	Update(ctx context.Context, merchantID, id string, ch store.CustomerChange) (store.CustomerDetail, error)
	Export(ctx context.Context, merchantID, id string) (store.CustomerExport, error)
	Erase(ctx context.Context, merchantID, id string) error
	Merchant(ctx context.Context, id string) (store.Merchant, error)
	Code(ctx context.Context, serial string) (string, error)
}

// referralCodes gives a card's referral code.
type referralCodes interface {
	Code(ctx context.Context, serial string) (string, error)
}

// customerHandlers serve a merchant's customers: search, the customer with
// cards, consents and referrals, changes, consent history, and the
// customer's rights (export and erasure).
type customerHandlers struct {
	base
	store customerStore
	urls  cardURLs
}

func (h *customerHandlers) routes(v1 gin.IRouter) {
	v1.GET("/customers", h.wrap(h.search))
	v1.GET("/customers/:id", h.wrap(h.get))
	v1.PATCH("/customers/:id", h.wrap(h.update))
	v1.DELETE("/customers/:id", h.wrap(h.erase))
	v1.GET("/customers/:id/consents", h.wrap(h.consents))
	v1.GET("/customers/:id/export", h.wrap(h.export))
}

type customerSummaryJSON struct {
	ID        string     `json:"id"`
	Phone     string     `json:"phone"`
	Name      string     `json:"name"`
	Email     string     `json:"email"`
	Birthday  string     `json:"birthday"`
	CreatedAt time.Time  `json:"created_at"`
	ErasedAt  *time.Time `json:"erased_at"`
}

type consentJSON struct {
	ID          int64     `json:"id"`
	Channel     string    `json:"channel"`
	Granted     bool      `json:"granted"`
	Source      string    `json:"source"`
	IP          string    `json:"ip"`
	UserAgent   string    `json:"user_agent"`
	TextVersion string    `json:"text_version"`
	Evidence    string    `json:"evidence"`
	CreatedAt   time.Time `json:"created_at"`
}

type customerCardJSON struct {
	SerialNumber string `json:"serial_number"`
	Number       string `json:"number"`
	ProgramID    string `json:"program_id"`
	Balance      int64  `json:"balance"`
	Tier         string `json:"tier"`
	Status       string `json:"status"`
	ShortURL     string `json:"short_url"`
	ReferralURL  string `json:"referral_url"`
}

type referralJSON struct {
	ID                   string     `json:"id"`
	ProgramID            string     `json:"program_id"`
	Role                 string     `json:"role"` // referrer or friend
	ReferrerSerialNumber string     `json:"referrer_serial_number"`
	FriendSerialNumber   string     `json:"friend_serial_number"`
	Status               string     `json:"status"`
	ReferrerPoints       int64      `json:"referrer_points"`
	FriendPoints         int64      `json:"friend_points"`
	CreatedAt            time.Time  `json:"created_at"`
	QualifiedAt          *time.Time `json:"qualified_at"`
}

type lastPurchaseJSON struct {
	TransactionID  string    `json:"transaction_id"`
	SerialNumber   string    `json:"serial_number"`
	PurchaseAmount int64     `json:"purchase_amount"`
	Points         int64     `json:"points"`
	CreatedAt      time.Time `json:"created_at"`
}

type customerDetailJSON struct {
	customerSummaryJSON
	// MaySendAds is what campaigns go by: the latest SMS/ads record is a grant.
	MaySendAds   bool                    `json:"may_send_ads"`
	Consents     map[string]*consentJSON `json:"consents"` // latest record per channel
	Cards        []customerCardJSON      `json:"cards"`
	Referrals    []referralJSON          `json:"referrals"`
	LastPurchase *lastPurchaseJSON       `json:"last_purchase"`
}

func summaryJSON(c loyalty.Customer) customerSummaryJSON {
	return customerSummaryJSON{ID: c.ID, Phone: c.Phone, Name: c.Name, Email: c.Email, Birthday: c.Birthday,
		CreatedAt: c.CreatedAt, ErasedAt: c.ErasedAt}
}

func toConsentJSON(r loyalty.ConsentRecord) consentJSON {
	return consentJSON{ID: r.ID, Channel: r.Channel, Granted: r.Granted, Source: r.Source, IP: r.IP,
		UserAgent: r.UserAgent, TextVersion: r.TextVersion, Evidence: r.Evidence, CreatedAt: r.CreatedAt}
}

func (h *customerHandlers) detailJSON(ctx context.Context, d store.CustomerDetail) (customerDetailJSON, error) {
	out := customerDetailJSON{customerSummaryJSON: summaryJSON(d.Customer), MaySendAds: loyalty.MaySendAds(d.Consents),
		Consents: map[string]*consentJSON{}, Cards: []customerCardJSON{}, Referrals: []referralJSON{}}
	for _, ch := range loyalty.ConsentChannels {
		out.Consents[ch] = nil
		if r, ok := loyalty.Latest(d.Consents, ch); ok {
			j := toConsentJSON(r)
			out.Consents[ch] = &j
		}
	}
	for _, c := range d.Cards {
		cj := customerCardJSON{SerialNumber: c.SerialNumber, Number: c.Number, ProgramID: c.ProgramID,
			Balance: c.Balance, Tier: c.Tier, Status: c.Status, ShortURL: h.urls.shortLink(c.LinkToken)}
		if c.Status == loyalty.CardActive {
			code, err := h.store.Code(ctx, c.SerialNumber)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return out, err
			}
			cj.ReferralURL = h.urls.referralLink(code)
		}
		out.Cards = append(out.Cards, cj)
	}
	for _, r := range d.Referrals {
		role := "friend"
		if r.ReferrerCustomer == d.Customer.ID {
			role = "referrer"
		}
		out.Referrals = append(out.Referrals, referralJSON{ID: r.ID, ProgramID: r.ProgramID, Role: role,
			ReferrerSerialNumber: r.ReferrerSerial, FriendSerialNumber: r.FriendSerial, Status: r.Status,
			ReferrerPoints: r.ReferrerPoints, FriendPoints: r.FriendPoints, CreatedAt: r.CreatedAt, QualifiedAt: r.QualifiedAt})
	}
	if t := d.LastPurchase; t != nil {
		out.LastPurchase = &lastPurchaseJSON{TransactionID: t.ID, SerialNumber: t.SerialNumber,
			PurchaseAmount: t.PurchaseAmount, Points: t.Points, CreatedAt: t.CreatedAt}
	}
	return out, nil
}

// maxSearch bounds ?q=.
const maxSearch = 100

func (h *customerHandlers) search(c *gin.Context) error {
	after, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	q := store.CustomerFilter{Q: strings.TrimSpace(c.Query("q"))}
	if len([]rune(q.Q)) > maxSearch {
		return badRequest("invalid_query", "q", "q must be at most %d characters", maxSearch)
	}
	if raw := c.Query("phone"); raw != "" {
		m, err := h.store.Merchant(c.Request.Context(), merchantID(c))
		if err != nil {
			return internal(err)
		}
		if q.Phone, err = phone.Normalize(raw, m.Country); err != nil {
			return badRequest("invalid_query", "phone", "phone is not a valid phone number")
		}
	}
	cs, err := h.store.Find(c.Request.Context(), merchantID(c), q, after, limit)
	if err != nil {
		return internal(err)
	}
	out := make([]customerSummaryJSON, len(cs))
	for i, cu := range cs {
		out[i] = summaryJSON(cu)
	}
	next := ""
	if len(cs) == limit {
		last := cs[len(cs)-1]
		next = store.Cursor{Time: last.CreatedAt, ID: last.ID}.String()
	}
	c.JSON(http.StatusOK, gin.H{"customers": out, "next_cursor": next})
	return nil
}

func (h *customerHandlers) get(c *gin.Context) error {
	d, err := h.store.Customer(c.Request.Context(), merchantID(c), c.Param("id"))
	if err != nil {
		return storeError(err, "customer")
	}
	out, err := h.detailJSON(c.Request.Context(), d)
	if err != nil {
		return internal(err)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// customerInput is a PATCH of a customer.
type customerInput struct {
	Name     *string         `json:"name"`
	Email    *string         `json:"email"`
	Birthday *string         `json:"birthday"`
	Consents *[]consentInput `json:"consents"`
}

// consentInput is a consent record a merchant adds: it must say where the
// customer gave or withdrew it and what proves it.
type consentInput struct {
	Channel     *string `json:"channel"`
	Granted     *bool   `json:"granted"`
	Source      *string `json:"source"`
	Evidence    *string `json:"evidence"`
	TextVersion *string `json:"text_version"`
}

var emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// maxConsents bounds the records one PATCH adds.
const maxConsents = 10

func (in customerInput) change() (store.CustomerChange, error) {
	ch := store.CustomerChange{Name: in.Name, Email: in.Email, Birthday: in.Birthday}
	var texts []textValue
	if in.Name != nil {
		*in.Name = strings.TrimSpace(*in.Name)
		texts = append(texts, textValue{textRule{field: "name", max: 100}, *in.Name})
	}
	if in.Email != nil {
		*in.Email = strings.TrimSpace(*in.Email)
		texts = append(texts, textValue{textRule{field: "email", max: 254}, *in.Email})
	}
	if err := checkTexts(texts...); err != nil {
		return ch, err
	}
	if in.Email != nil && *in.Email != "" && !emailRE.MatchString(*in.Email) {
		return ch, invalid("email", "email must be an address like anna@example.com, or empty")
	}
	if in.Birthday != nil && *in.Birthday != "" {
		d, err := time.Parse(time.DateOnly, *in.Birthday)
		if err != nil || d.Year() < 1900 || d.After(time.Now()) {
			return ch, invalid("birthday", "birthday must be a date YYYY-MM-DD between 1900 and today, or empty")
		}
	}
	if in.Consents == nil {
		return ch, nil
	}
	if len(*in.Consents) > maxConsents {
		return ch, invalid("consents", "consents takes at most %d records at a time", maxConsents)
	}
	for i, k := range *in.Consents {
		field := func(name string) string { return "consents[" + itoa(i) + "]." + name }
		switch {
		case k.Channel == nil || !slices.Contains(loyalty.ConsentChannels, *k.Channel):
			return ch, invalid(field("channel"), "%s must be one of %s", field("channel"), strings.Join(loyalty.ConsentChannels, ", "))
		case k.Granted == nil:
			return ch, invalid(field("granted"), "%s is required: true for a grant, false for a withdrawal", field("granted"))
		case k.Source == nil || !slices.Contains(loyalty.APIConsentSources, *k.Source):
			return ch, invalid(field("source"), "%s is required, one of %s", field("source"), strings.Join(loyalty.APIConsentSources, ", "))
		case k.Evidence == nil || strings.TrimSpace(*k.Evidence) == "":
			return ch, invalid(field("evidence"), "%s is required: what proves the customer's answer", field("evidence"))
		}
		rec := loyalty.ConsentRecord{Channel: *k.Channel, Granted: *k.Granted, Source: *k.Source,
			Evidence: strings.TrimSpace(*k.Evidence)}
		if k.TextVersion != nil {
			rec.TextVersion = strings.TrimSpace(*k.TextVersion)
		}
		err := checkTexts(textValue{textRule{field: field("evidence"), min: 1, max: 500}, rec.Evidence},
			textValue{textRule{field: field("text_version"), max: 100}, rec.TextVersion})
		if err != nil {
			return ch, err
		}
		ch.Consents = append(ch.Consents, rec)
	}
	return ch, nil
}

func (h *customerHandlers) update(c *gin.Context) error {
	var in customerInput
	if err := h.decodeJSON(c, &in); err != nil {
		return err
	}
	ch, err := in.change()
	if err != nil {
		return err
	}
	d, err := h.store.Update(c.Request.Context(), merchantID(c), c.Param("id"), ch)
	if errors.Is(err, store.ErrErased) {
		return &Error{Status: http.StatusConflict, Code: "customer_erased",
			Message: "the customer's personal data was erased; nothing more can be recorded about them"}
	}
	if err != nil {
		return storeError(err, "customer")
	}
	out, err := h.detailJSON(c.Request.Context(), d)
	if err != nil {
		return internal(err)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

func (h *customerHandlers) consents(c *gin.Context) error {
	d, err := h.store.Customer(c.Request.Context(), merchantID(c), c.Param("id"))
	if err != nil {
		return storeError(err, "customer")
	}
	out := make([]consentJSON, len(d.Consents))
	for i, r := range d.Consents {
		out[i] = toConsentJSON(r)
	}
	c.JSON(http.StatusOK, gin.H{"consents": out})
	return nil
}

func (h *customerHandlers) erase(c *gin.Context) error {
	if err := h.store.Erase(c.Request.Context(), merchantID(c), c.Param("id")); err != nil {
		return storeError(err, "customer")
	}
	c.Status(http.StatusNoContent)
	return nil
}

type transactionExportJSON struct {
	ID             string     `json:"id"`
	Kind           string     `json:"kind"`
	Points         int64      `json:"points"`
	PurchaseAmount int64      `json:"purchase_amount"`
	Reason         string     `json:"reason"`
	BalanceAfter   int64      `json:"balance_after"`
	ExpiresAt      *time.Time `json:"expires_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

type deviceExportJSON struct {
	SerialNumber   string     `json:"serial_number"`
	Channel        string     `json:"channel"`
	CreatedAt      time.Time  `json:"created_at"`
	RegisteredAt   time.Time  `json:"registered_at"`
	UnregisteredAt *time.Time `json:"unregistered_at"`
}

type messageExportJSON struct {
	CampaignID   string     `json:"campaign_id"`
	CampaignName string     `json:"campaign_name"`
	Status       string     `json:"status"`
	SentAt       *time.Time `json:"sent_at"`
	DeliveredAt  *time.Time `json:"delivered_at"`
	ClickedAt    *time.Time `json:"clicked_at"`
}

// export answers with everything held about the customer, as a download.
func (h *customerHandlers) export(c *gin.Context) error {
	e, err := h.store.Export(c.Request.Context(), merchantID(c), c.Param("id"))
	if err != nil {
		return storeError(err, "customer")
	}
	detail, err := h.detailJSON(c.Request.Context(), e.CustomerDetail)
	if err != nil {
		return internal(err)
	}
	consents := make([]consentJSON, len(e.Consents))
	for i, r := range e.Consents {
		consents[i] = toConsentJSON(r)
	}
	lines := map[string][]transactionExportJSON{}
	for serial, ts := range e.Transactions {
		out := make([]transactionExportJSON, len(ts))
		for i, t := range ts {
			out[i] = transactionExportJSON{ID: t.ID, Kind: t.Kind, Points: t.Points, PurchaseAmount: t.PurchaseAmount,
				Reason: t.Reason, BalanceAfter: t.BalanceAfter, ExpiresAt: t.ExpiresAt, CreatedAt: t.CreatedAt}
		}
		lines[serial] = out
	}
	devices := make([]deviceExportJSON, len(e.Devices))
	for i, d := range e.Devices {
		devices[i] = deviceExportJSON(d)
	}
	messages := make([]messageExportJSON, len(e.Messages))
	for i, m := range e.Messages {
		messages[i] = messageExportJSON(m)
	}
	c.Header("Content-Disposition", `attachment; filename="customer-`+e.Customer.ID+`.json"`)
	c.JSON(http.StatusOK, gin.H{"customer": detail, "consent_history": consents, "consent_texts": e.Texts,
		"transactions": lines, "devices": devices, "messages": messages, "exported_at": time.Now().UTC()})
	return nil
}
