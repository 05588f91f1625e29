package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/assets"
	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/googlewallet"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes"
	"github.com/loyalpass/loyalpass/passes/google"
)

// GoogleWallet makes "Add to Google Wallet" links
// (internal/googlewallet.Service): it inserts the card's class and object
// at Google when needed and signs a link naming the object.
type GoogleWallet interface {
	SaveURL(ctx context.Context, card loyalty.Card) (string, error)
}

// CallbackVerifier checks that a save/delete callback comes from Google
// (passes/google.CallbackVerifier).
type CallbackVerifier interface {
	Verify(body []byte) (google.Callback, error)
}

// googleStore is what Google's save links, callbacks and logo need of
// the database.
type googleStore interface {
	CardBySerial(ctx context.Context, serial string) (loyalty.Card, error)
	RecordGoogleCallback(ctx context.Context, cb store.GoogleCallback) (bool, error)
	RecordInstall(ctx context.Context, serial string, respond store.Respond) error
	ProgramImages(ctx context.Context, programID string) (map[string][]byte, error)
	ProgramByID(ctx context.Context, id string) (loyalty.Program, error)
}

// googleHandlers serve the Google Wallet side: save links, Google's
// save/delete callbacks and the logo Google fetches. With Google Wallet
// off (google or callbacks nil) their routes answer 404.
type googleHandlers struct {
	base
	store     googleStore
	google    GoogleWallet
	callbacks CallbackVerifier
}

// maxCallbackBody caps a callback body: Google's are about 1.5 KB.
const maxCallbackBody = 16 << 10

// GoogleSavePath is where a card's save link starts: GET
// /google/save/{serial}?t={card auth token} redirects to Google.
const GoogleSavePath = "/google/save/"

func (h *googleHandlers) routes(r gin.IRouter) {
	r.GET(GoogleSavePath+":serial", h.wrap(h.save))
	r.POST(googlewallet.CallbackPath, h.wrap(h.callback))
	r.GET("/assets/programs/:id/logo.png", h.wrap(h.logo))
	r.GET("/assets/programs/:id/stamps/:version/:file", h.wrap(h.stampHero))
}

// stampHeroFile is the file name of a stamp hero: "{filled}-of-{goal}.png".
var stampHeroFile = regexp.MustCompile(`^([0-9]{1,2})-of-([0-9]{1,2})\.png$`)

// stampHero serves the hero image Google fetches for a stamp card
// (google.Issuer.StampHeroURL): the card's stamps drawn in the program's
// colours and stamp icon. The URL names the program version and the
// count, so each picture has its own and Google's cache never shows an
// old one; a version other than the program's is not served.
func (h *googleHandlers) stampHero(c *gin.Context) error {
	if h.google == nil {
		return errGoogleOff
	}
	ctx := c.Request.Context()
	m := stampHeroFile.FindStringSubmatch(c.Param("file"))
	if m == nil {
		return notFound("image")
	}
	prog, err := h.store.ProgramByID(ctx, c.Param("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("image")
	case err != nil:
		return internal(err)
	}
	filled, _ := strconv.Atoi(m[1])
	goal, _ := strconv.Atoi(m[2])
	if prog.KindOf() != loyalty.KindStamps || goal != prog.StampsRequired || filled > goal ||
		c.Param("version") != strconv.FormatInt(prog.Version, 10) {
		return notFound("image")
	}
	images, err := h.store.ProgramImages(ctx, prog.ID)
	if err != nil {
		return internal(err)
	}
	png, err := passes.StampHero(cardpass.ProgramFor(store.Merchant{}, prog, images), filled)
	if err != nil {
		return internal(err)
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, "image/png", png)
	return nil
}

// logo serves the program logo Google fetches for the class
// (google.Issuer.LogoURL): the pass's square icon, largest first, since
// Google crops the logo to a circle; the default icon without an upload.
func (h *googleHandlers) logo(c *gin.Context) error {
	if h.google == nil {
		return errGoogleOff
	}
	images, err := h.store.ProgramImages(c.Request.Context(), c.Param("id"))
	if err != nil {
		return internal(err)
	}
	for _, name := range []string{"icon@3x.png", "icon@2x.png", "icon.png"} {
		if b, ok := images[name]; ok {
			c.Header("Cache-Control", "public, max-age=3600")
			c.Data(http.StatusOK, "image/png", b)
			return nil
		}
	}
	b, _ := assets.DefaultImage("icon@3x.png")
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, "image/png", b)
	return nil
}

// GoogleSaveLink returns the card's "Add to Google Wallet" link on this
// server, "" when Google Wallet is off. It is cheap: the object is
// inserted and the JWT signed only when the link is opened, so the link
// is short enough for an SMS or a page and never goes stale.
func (s *Server) GoogleSaveLink(card loyalty.Card) string { return s.urls.googleSaveLink(card) }

func (u cardURLs) googleSaveLink(card loyalty.Card) string {
	if !u.google {
		return ""
	}
	return u.public + GoogleSavePath + url.PathEscape(card.SerialNumber) + "?t=" + url.QueryEscape(card.AuthToken)
}

// GoogleSaveURL returns Google's own save URL for the card
// (https://pay.google.com/gp/v/save/<jwt>), inserting the class and the
// object first if Google does not hold them yet.
func (s *Server) GoogleSaveURL(ctx context.Context, card loyalty.Card) (string, error) {
	if s.google == nil {
		return "", errors.New("google wallet is not configured")
	}
	return s.google.SaveURL(ctx, card)
}

// activeGoogleSaveLink is GoogleSaveLink for an active card, "" otherwise.
func (u cardURLs) activeGoogleSaveLink(card loyalty.Card) string {
	if card.Status != loyalty.CardActive {
		return ""
	}
	return u.googleSaveLink(card)
}

var errGoogleOff = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "Google Wallet is not configured"}

// save answers a save link with a 302 to Google. The card's
// authentication token (the one in its Apple pass) is the link's secret;
// a wrong token or an unknown card are the same 404.
func (h *googleHandlers) save(c *gin.Context) error {
	if h.google == nil {
		return errGoogleOff
	}
	card, err := h.store.CardBySerial(c.Request.Context(), c.Param("serial"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("card")
	}
	if err != nil {
		return internal(err)
	}
	if subtle.ConstantTimeCompare([]byte(c.Query("t")), []byte(card.AuthToken)) != 1 {
		return notFound("card")
	}
	if card.Status != loyalty.CardActive {
		return &Error{Status: http.StatusGone, Code: "card_voided", Message: "this card is no longer valid"}
	}
	u, err := h.google.SaveURL(c.Request.Context(), card)
	switch {
	case errors.Is(err, googlewallet.ErrUnavailable):
		c.Header("Retry-After", "30")
		return &Error{Status: http.StatusServiceUnavailable, Code: "google_unavailable",
			Message: "Google Wallet is not answering; try again in a minute", Err: err}
	case errors.Is(err, googlewallet.ErrRefused):
		return &Error{Status: http.StatusBadGateway, Code: "google_refused",
			Message: "Google Wallet refused the card", Err: err}
	case err != nil:
		return internal(err)
	}
	// Signed now: a cached redirect would outlive nothing useful.
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	c.Redirect(http.StatusFound, u)
	return nil
}

// callback counts Google's save and delete callbacks as installs
// and uninstalls (registrations on channel "google"). A body that does
// not verify as Google's is refused with 401; a repeated nonce is
// answered 200 and changes nothing.
func (h *googleHandlers) callback(c *gin.Context) error {
	if h.callbacks == nil {
		return errGoogleOff
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxCallbackBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "callback body too large"}
		}
		return badRequest("bad_body", "", "unreadable body")
	}
	cb, err := h.callbacks.Verify(body)
	if err != nil {
		h.log.WarnContext(c.Request.Context(), "google callback refused", "err", err)
		return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "callback signature does not verify"}
	}
	// The object ID is "<issuer>.<serial>"; Verify checked the issuer.
	_, serial, _ := strings.Cut(cb.ObjectID, ".")
	changed, err := h.store.RecordGoogleCallback(c.Request.Context(), store.GoogleCallback{Nonce: cb.Nonce,
		ObjectID: cb.ObjectID, ClassID: cb.ClassID, Serial: serial, Save: cb.EventType == google.EventSave})
	if errors.Is(err, store.ErrNotFound) {
		// Not ours to retry: answering 200 stops Google's redeliveries.
		h.log.WarnContext(c.Request.Context(), "google callback for an unknown card", "object", cb.ObjectID)
		c.Status(http.StatusOK)
		return nil
	}
	if err != nil {
		return internal(err)
	}
	switch {
	case changed && cb.EventType == google.EventSave:
		h.log.InfoContext(c.Request.Context(), "card installed", "serial", serial, "channel", store.ChannelGoogle)
	case changed:
		h.log.InfoContext(c.Request.Context(), "card uninstalled", "serial", serial, "channel", store.ChannelGoogle)
	}
	// Also for a redelivery: if this failed the first time, Google's retry
	// must still credit the campaigns (RecordInstall is idempotent).
	if cb.EventType == google.EventSave {
		if err := h.store.RecordInstall(c.Request.Context(), serial, bonusAnswer); err != nil {
			return internal(err)
		}
	}
	c.Status(http.StatusOK)
	return nil
}
