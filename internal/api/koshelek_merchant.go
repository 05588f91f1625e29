package api

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/credential"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/password"
	"github.com/loyalpass/loyalpass/internal/store"
)

// What a merchant sees and sets of «Кошелёк»: a program's channel, as
// PATCH /api/v1/programs/{id} sets it and every program answer shows it,
// and a card's life in Кошелёк (GET /api/v1/cards/{serial}/koshelek).
// The password Кошелёк calls us with
// is kept as an argon2id hash (we only check it); the Push API password is sealed
// with the server's key (we send it). Neither is ever returned. The password Кошелёк calls us with
// is kept as a hash (we only check it); the Push API password is sealed
// with the server's key (we send it). Neither is ever returned.

// programKoshelekStore is what the program routes need of the
// integration's store (store.KoshelekStore).
type programKoshelekStore interface {
	Settings(ctx context.Context, merchantID string, programIDs ...string) (map[string]store.KoshelekSettings, error)
	UpdateProgram(ctx context.Context, merchantID, programID string, program func(*loyalty.Program) error,
		koshelek func(*store.KoshelekSettings) error) (loyalty.Program, store.KoshelekSettings, error)
}

// programKoshelek is what the program routes hold of the integration:
// its store, the key that seals Push API passwords, and where the
// partner API is served.
type programKoshelek struct {
	store  programKoshelekStore // nil: the integration is not wired (handler tests)
	box    *credential.Box      // nil: Push API passwords cannot be taken
	public string               // the public URL, without a trailing slash
}

// programUpdateInput is the body of PATCH: the program's fields and its
// «Кошелёк» channel.
type programUpdateInput struct {
	programInput
	Koshelek *koshelekInput `json:"koshelek"`
}

// koshelekInput changes a program's «Кошелёк» channel; absent fields stay.
type koshelekInput struct {
	Enabled      *bool   `json:"enabled"`
	Login        *string `json:"login"`
	Password     *string `json:"password"`
	PushLogin    *string `json:"push_login"`
	PushPassword *string `json:"push_password"`
}

// koshelekJSON is a program's «Кошелёк» channel in answers.
type koshelekJSON struct {
	Enabled         bool   `json:"enabled"`
	Login           string `json:"login"`
	PushLogin       string `json:"push_login"`
	PushConfigured  bool   `json:"push_configured"`
	BaseURL         string `json:"base_url,omitempty"`
	PushCallbackURL string `json:"push_callback_url,omitempty"`
}

// Limits of the credentials. The login is handed to Cardsmobile and sent
// in HTTP Basic, where a colon would end it; the password must resist
// guessing, since the partner API is on the open internet.
const (
	koshelekLoginMax    = 64
	koshelekPasswordMin = 12
	koshelekPasswordMax = 128
	koshelekPushMax     = 256
)

var (
	koshelekLoginRE = regexp.MustCompile(`^[A-Za-z0-9._@+-]+$`)
	errNoKoshelek   = &Error{Status: http.StatusConflict, Code: "koshelek_unavailable",
		Message: "the «Кошелёк» integration is not available on this server"}
)

// koshelekBaseURL is the base URL a program's partner API is served at,
// the one the merchant gives Cardsmobile.
func (k programKoshelek) baseURL(programID string) string {
	return k.public + "/koshelek/" + programID
}

func (k programKoshelek) json(programID string, ks store.KoshelekSettings) *koshelekJSON {
	out := &koshelekJSON{Enabled: ks.Enabled, Login: ks.Login, PushLogin: ks.PushLogin, PushConfigured: ks.PushConfigured()}
	if ks.Enabled {
		out.BaseURL = k.baseURL(programID)
		out.PushCallbackURL = out.BaseURL + koshelekCallbackPath
	}
	return out
}

// withKoshelek adds each program's channel to its answer.
func (k programKoshelek) withKoshelek(ctx context.Context, merchantID string, out []programJSON) error {
	if k.store == nil || len(out) == 0 {
		return nil
	}
	ids := make([]string, len(out))
	for i, p := range out {
		ids[i] = p.ID
	}
	settings, err := k.store.Settings(ctx, merchantID, ids...)
	if err != nil {
		return err
	}
	for i := range out {
		out[i].setKoshelek(k, settings[out[i].ID])
	}
	return nil
}

func (p *programJSON) setKoshelek(k programKoshelek, ks store.KoshelekSettings) {
	p.Koshelek = k.json(p.ID, ks)
	p.KoshelekBaseURL = p.Koshelek.BaseURL
}

// apply changes the stored settings as the input says and checks the
// result as a whole. A program set up for the first time is turned on
// unless the input says otherwise.
func (in koshelekInput) apply(ks *store.KoshelekSettings, box *credential.Box) error {
	texts := []textValue{}
	if in.Login != nil {
		texts = append(texts, textValue{textRule{field: "koshelek.login", min: 1, max: koshelekLoginMax}, *in.Login})
	}
	if in.Password != nil {
		texts = append(texts, textValue{textRule{field: "koshelek.password", min: koshelekPasswordMin, max: koshelekPasswordMax}, *in.Password})
	}
	if in.PushLogin != nil {
		texts = append(texts, textValue{textRule{field: "koshelek.push_login", min: 1, max: koshelekPushMax}, *in.PushLogin})
	}
	if in.PushPassword != nil {
		texts = append(texts, textValue{textRule{field: "koshelek.push_password", min: 1, max: koshelekPushMax}, *in.PushPassword})
	}
	if err := checkTexts(texts...); err != nil {
		return err
	}
	switch {
	case in.Login != nil && !koshelekLoginRE.MatchString(*in.Login):
		return invalid("koshelek.login", "koshelek.login may hold only latin letters, digits and . _ @ + -")
	case in.PushLogin != nil && strings.ContainsRune(*in.PushLogin, ':'):
		return invalid("koshelek.push_login", "koshelek.push_login must not contain a colon (HTTP Basic ends the login there)")
	}
	if !ks.Exists && in.Enabled == nil {
		ks.Enabled = true
	}
	if in.Enabled != nil {
		ks.Enabled = *in.Enabled
	}
	if in.Login != nil {
		ks.Login = *in.Login
	}
	if in.Password != nil {
		hash, err := password.Hash(*in.Password, password.DefaultParams())
		if err != nil {
			return invalid("koshelek.password", "koshelek.password must be at most 256 bytes in UTF-8")
		}
		ks.PasswordHash = hash
	}
	if in.PushLogin != nil {
		ks.PushLogin = *in.PushLogin
	}
	if in.PushPassword != nil {
		if box == nil {
			return errNoKoshelek
		}
		ks.PushPassword = box.Seal(*in.PushPassword, ks.ProgramID)
	}
	switch {
	case ks.Enabled && ks.Login == "":
		return invalid("koshelek.login", "koshelek.login and koshelek.password are required to turn «Кошелёк» on")
	case ks.Enabled && ks.PasswordHash == "":
		return invalid("koshelek.password", "koshelek.login and koshelek.password are required to turn «Кошелёк» on")
	case ks.PushLogin != "" && ks.PushPassword == "":
		return invalid("koshelek.push_password", "koshelek.push_login needs koshelek.push_password")
	case ks.PushLogin == "" && ks.PushPassword != "":
		return invalid("koshelek.push_login", "koshelek.push_password needs koshelek.push_login")
	}
	return nil
}

// update applies a PATCH: the program's fields and its «Кошелёк» channel
// change together or not at all.
func (h *programHandlers) updateWithKoshelek(c *gin.Context, in programUpdateInput) error {
	k := h.koshelek
	if k.store == nil {
		return errNoKoshelek
	}
	var change func(*loyalty.Program) error
	if in.programInput != (programInput{}) {
		change = in.applyAt(time.Now())
	}
	p, ks, err := k.store.UpdateProgram(c.Request.Context(), merchantID(c), c.Param("id"), change,
		func(ks *store.KoshelekSettings) error { return in.Koshelek.apply(ks, k.box) })
	if err != nil {
		return storeError(err, "program")
	}
	out := toProgramJSON(p)
	out.setKoshelek(k, ks)
	c.JSON(http.StatusOK, out)
	return nil
}

// koshelekCardStore is what the card's Кошелёк view needs.
type koshelekCardStore interface {
	CardView(ctx context.Context, merchantID, serial string, limit int) (store.KoshelekCardView, error)
}

// koshelekCardHandlers show a card's life in «Кошелёк»: whether it was
// issued there, the messages sent to its holder with the last status
// Кошелёк reported, and the consents the holder gave there.
type koshelekCardHandlers struct {
	base
	store koshelekCardStore
}

func (h *koshelekCardHandlers) routes(v1 gin.IRouter) {
	v1.GET("/cards/:serial/koshelek", h.wrap(h.get))
}

type koshelekCardJSON struct {
	SerialNumber string                `json:"serial_number"`
	InKoshelek   bool                  `json:"in_koshelek"`
	CardNumber   string                `json:"card_number,omitempty"`
	IssuedAt     *time.Time            `json:"issued_at,omitempty"`
	RemovedAt    *time.Time            `json:"removed_at,omitempty"`
	Messages     []koshelekMessageJSON `json:"messages"`
	Consents     []koshelekConsentJSON `json:"consents"`
}

type koshelekMessageJSON struct {
	MessageID   string     `json:"message_id"`
	Type        string     `json:"type"`
	Title       string     `json:"title"`
	Text        string     `json:"text"`
	State       string     `json:"state"`
	SentAt      time.Time  `json:"sent_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	OpenedAt    *time.Time `json:"opened_at,omitempty"`
}

type koshelekConsentJSON struct {
	Channel string    `json:"channel"`
	Granted bool      `json:"granted"`
	Source  string    `json:"source"`
	At      time.Time `json:"at"`
}

// koshelekViewLimit is how many messages and consent records the view
// shows, the newest.
const koshelekViewLimit = 50

func (h *koshelekCardHandlers) get(c *gin.Context) error {
	if h.store == nil {
		return errNoKoshelek
	}
	v, err := h.store.CardView(c.Request.Context(), merchantID(c), c.Param("serial"), koshelekViewLimit)
	if err != nil {
		return storeError(err, "card")
	}
	out := koshelekCardJSON{SerialNumber: v.Serial, InKoshelek: v.Number != "" && v.RemovedAt == nil,
		CardNumber: v.Number, RemovedAt: v.RemovedAt, Messages: []koshelekMessageJSON{}, Consents: []koshelekConsentJSON{}}
	if v.Number != "" {
		out.IssuedAt = &v.IssuedAt
	}
	for _, m := range v.Messages {
		out.Messages = append(out.Messages, koshelekMessageJSON{MessageID: m.MessageID, Type: m.PushType, Title: m.Title,
			Text: m.Body, State: m.State, SentAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, DeliveredAt: m.DeliveredAt,
			OpenedAt: m.OpenedAt})
	}
	for _, r := range v.Consents {
		out.Consents = append(out.Consents, koshelekConsentJSON(r))
	}
	c.JSON(http.StatusOK, out)
	return nil
}
