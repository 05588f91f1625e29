package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/clientlimit"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/netguard"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push/relay"
)

// walletStore is what Apple's pass web service needs of the database.
type walletStore interface {
	CardBySerial(ctx context.Context, serial string) (loyalty.Card, error)
	Register(ctx context.Context, r store.Registration) (bool, error)
	Unregister(ctx context.Context, deviceID, serial string) (bool, error)
	UpdatedSerials(ctx context.Context, deviceID, passTypeID string, since int64) ([]string, int64, error)
	AddDeviceLogs(ctx context.Context, userAgent string, messages []string) error
	// RecordInstall attributes a new installation to the campaigns that
	// texted the card.
	RecordInstall(ctx context.Context, serial string, respond store.Respond) error
}

// walletHandlers are Apple's pass web service: wallets register and
// unregister devices, ask what changed, fetch passes and send logs.
type walletHandlers struct {
	base
	store      walletStore
	passes     PassSource
	passTypeID string
	// outbound checks a PassWallet pushServiceUrl before it is stored.
	outbound *netguard.Guard
	// maxDevices caps the devices per card; logLimiter rate-limits the
	// unauthenticated log endpoint per client.
	maxDevices int
	logLimiter *clientlimit.Limiter
}

// authSchemes are the Authorization schemes wallets use on the web
// service: Apple Wallet's and those of the Android pkpass apps.
var authSchemes = []string{"ApplePass", "AndroidPass", "AttidoPass", "WalletUnionPass", "WalletUnionHMSPass", "TelegramPass"}

// routes mounts the web service (webServiceURL = public URL + /wallet) as
// Apple's "Wallet Passes web service" reference describes it.
func (h *walletHandlers) routes(r gin.IRouter) {
	w := r.Group("/wallet/v1")
	w.POST("/devices/:device/registrations/:passType/:serial", h.wrap(h.registerDevice))
	w.DELETE("/devices/:device/registrations/:passType/:serial", h.wrap(h.unregisterDevice))
	// PassWallet registers on its own path and names its push relay.
	w.POST("/devices/:device/registrations_attido/:passType/:serial", h.wrap(h.registerDevice))
	w.DELETE("/devices/:device/registrations_attido/:passType/:serial", h.wrap(h.unregisterDevice))
	w.GET("/devices/:device/registrations/:passType", h.wrap(h.updatedPasses))
	w.GET("/passes/:passType/:serial", h.wrap(h.latestPass))
	w.HEAD("/passes/:passType/:serial", h.wrap(h.latestPass))
	w.POST("/log", h.wrap(h.deviceLog))
}

// Defaults of WalletOptions.
const (
	DefaultMaxDevicesPerCard = 10
	DefaultLogPerMinute      = 60
)

// maxLogBody caps a log request, whatever Options.MaxBody says: the log
// endpoint takes no authentication (Apple's design).
const maxLogBody = 64 << 10

// WalletOptions limits what the pass web service accepts.
type WalletOptions struct {
	// MaxDevicesPerCard refuses the registration of a card on one more
	// device once this many follow it; 0 means DefaultMaxDevicesPerCard.
	MaxDevicesPerCard int
	// LogPerMinute is how many log requests one client address may send
	// a minute (in bursts of as many); 0 means DefaultLogPerMinute.
	LogPerMinute int
	// Now is the rate limiter's clock; nil means time.Now.
	Now func() time.Time
}

// limits sets the wallet's limits from o, defaults where o leaves them out.
func (h *walletHandlers) limits(o WalletOptions) {
	if o.MaxDevicesPerCard <= 0 {
		o.MaxDevicesPerCard = DefaultMaxDevicesPerCard
	}
	if o.LogPerMinute <= 0 {
		o.LogPerMinute = DefaultLogPerMinute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h.maxDevices = o.MaxDevicesPerCard
	h.logLimiter = clientlimit.New(o.LogPerMinute, o.Now)
}

var errWalletUnauthorized = &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "unauthorized"}

// walletCard checks the pass type and the Authorization token against the
// card's own token, in constant time. Any failure is a 401, so a probe
// cannot tell an unknown serial from a wrong token.
func (h *walletHandlers) walletCard(c *gin.Context) (loyalty.Card, string, error) {
	scheme, token, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	if !ok || !validScheme(scheme) || c.Param("passType") != h.passTypeID {
		return loyalty.Card{}, "", errWalletUnauthorized
	}
	card, err := h.store.CardBySerial(c.Request.Context(), c.Param("serial"))
	if errors.Is(err, store.ErrNotFound) {
		return loyalty.Card{}, "", errWalletUnauthorized
	}
	if err != nil {
		return loyalty.Card{}, "", internal(err)
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(card.AuthToken)) != 1 {
		return loyalty.Card{}, "", errWalletUnauthorized
	}
	return card, scheme, nil
}

func validScheme(scheme string) bool {
	for _, s := range authSchemes {
		if strings.EqualFold(s, scheme) {
			return true
		}
	}
	return false
}

type registerBody struct {
	PushToken      string `json:"pushToken"`
	PushServiceURL string `json:"pushServiceUrl"`
}

func (h *walletHandlers) registerDevice(c *gin.Context) error {
	card, scheme, err := h.walletCard(c)
	if err != nil {
		return err
	}
	var body registerBody
	if err := h.decodeJSON(c, &body); err != nil {
		return err
	}
	device := c.Param("device")
	if device == "" || len(device) > 128 {
		return badRequest("invalid_device", "deviceLibraryIdentifier", "bad device library identifier")
	}
	if body.PushToken == "" || len(body.PushToken) > 4096 {
		return invalid("pushToken", "pushToken is required")
	}
	channel := relay.Classify(scheme, c.GetHeader("X-Pass-Client"), c.GetHeader("User-Agent"))
	if channel == relay.Unknown {
		channel = relay.Apple
	}
	attido := strings.Contains(c.FullPath(), "registrations_attido")
	if attido {
		channel = relay.PassWallet
		if !strings.HasPrefix(body.PushServiceURL, "https://") && !strings.HasPrefix(body.PushServiceURL, "http://") {
			return invalid("pushServiceUrl", "PassWallet registrations need a pushServiceUrl")
		}
	}
	// Any path may bring one (AttidoPass on the plain path is PassWallet
	// too). The relay client checks again when dialling; this answers the
	// obvious cases (credentials, 127.0.0.1, localhost) at once.
	if body.PushServiceURL != "" {
		if len(body.PushServiceURL) > 2000 {
			return invalid("pushServiceUrl", "pushServiceUrl is too long")
		}
		if err := h.outbound.CheckURL(body.PushServiceURL); err != nil {
			return invalid("pushServiceUrl", "pushServiceUrl %v", err)
		}
	}
	created, err := h.store.Register(c.Request.Context(), store.Registration{DeviceID: device, PassTypeID: h.passTypeID,
		SerialNumber: card.SerialNumber, PushToken: body.PushToken, Channel: string(channel),
		PushServiceURL: body.PushServiceURL, UserAgent: truncate(c.GetHeader("User-Agent"), 256),
		MaxDevices: h.maxDevices})
	if errors.Is(err, store.ErrTooManyDevices) {
		// Apple's protocol knows 201 and 200; any refusal is a 4xx, which
		// Wallet retries with back-off and then gives up on.
		return &Error{Status: http.StatusForbidden, Code: "too_many_devices",
			Message: fmt.Sprintf("this card is already registered on %d devices; unregister one first", h.maxDevices)}
	}
	if err != nil {
		return internal(err)
	}
	if created {
		h.log.InfoContext(c.Request.Context(), "card installed", "serial", card.SerialNumber, "channel", channel)
		// An install is attributed to the campaigns that texted the card,
		// and pays the bonus of those that pay on install.
		if err := h.store.RecordInstall(c.Request.Context(), card.SerialNumber, bonusAnswer); err != nil {
			return internal(err)
		}
		c.Status(http.StatusCreated)
	} else {
		c.Status(http.StatusOK)
	}
	return nil
}

func (h *walletHandlers) unregisterDevice(c *gin.Context) error {
	card, _, err := h.walletCard(c)
	if err != nil {
		return err
	}
	removed, err := h.store.Unregister(c.Request.Context(), c.Param("device"), card.SerialNumber)
	if err != nil {
		return internal(err)
	}
	if removed {
		h.log.InfoContext(c.Request.Context(), "card uninstalled", "serial", card.SerialNumber)
	}
	c.Status(http.StatusOK)
	return nil
}

// updatedPasses answers "what changed?". The device library identifier is
// the shared secret here (no token is sent); an unknown device gets 204,
// which reveals nothing.
func (h *walletHandlers) updatedPasses(c *gin.Context) error {
	if c.Param("passType") != h.passTypeID {
		c.Status(http.StatusNoContent)
		return nil
	}
	since := int64(-1) // no tag: every registered pass
	if tag := c.Query("passesUpdatedSince"); tag != "" {
		if t, err := strconv.ParseInt(tag, 10, 64); err == nil && t >= 0 {
			since = t
		} // a tag we did not issue is answered as no tag
	}
	serials, last, err := h.store.UpdatedSerials(c.Request.Context(), c.Param("device"), h.passTypeID, since)
	if err != nil {
		return internal(err)
	}
	if len(serials) == 0 {
		c.Status(http.StatusNoContent)
		return nil
	}
	c.JSON(http.StatusOK, gin.H{"serialNumbers": serials, "lastUpdated": strconv.FormatInt(last, 10)})
	return nil
}

// latestPass serves the current signed pass, or 304 when the device's copy
// (If-Modified-Since) is current. HEAD gets the headers only.
func (h *walletHandlers) latestPass(c *gin.Context) error {
	card, _, err := h.walletCard(c)
	if err != nil {
		return err
	}
	pass, err := h.passes.Pass(c.Request.Context(), card)
	if err != nil {
		return internal(err)
	}
	modified := pass.Modified.UTC().Truncate(time.Second)
	c.Header("Last-Modified", modified.Format(http.TimeFormat))
	c.Header("Cache-Control", "no-cache")
	if ims, err := http.ParseTime(c.GetHeader("If-Modified-Since")); err == nil && !modified.After(ims) {
		c.Status(http.StatusNotModified)
		return nil
	}
	c.Header("Content-Length", strconv.Itoa(len(pass.Data)))
	if c.Request.Method == http.MethodHead {
		c.Header("Content-Type", "application/vnd.apple.pkpass")
		c.Status(http.StatusOK)
		return nil
	}
	c.Data(http.StatusOK, "application/vnd.apple.pkpass", pass.Data)
	return nil
}

type logBody struct {
	Logs []string `json:"logs"`
}

// Log lines the server writes per log request, and their length: the
// endpoint takes no authentication, so what reaches the server log is cut
// short (the store keeps more, within its own limits).
const (
	logLinesPerRequest = 3
	logLineLength      = 200
)

// deviceLog stores what wallets report: their only remote diagnostics. It
// takes no authentication (Apple's design), so a client's requests are
// rate-limited (429), bodies capped (413) and the store prunes old rows.
func (h *walletHandlers) deviceLog(c *gin.Context) error {
	if ok, wait := h.logLimiter.Allow(c.ClientIP()); !ok {
		c.Header("Retry-After", strconv.Itoa(int(max(wait.Round(time.Second), time.Second)/time.Second)))
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: "too many log requests from this address; try again later"}
	}
	var body logBody
	if err := decodeJSONLimit(c, &body, min(h.maxBody, maxLogBody)); err != nil {
		return err
	}
	if len(body.Logs) > 100 {
		body.Logs = body.Logs[:100]
	}
	if err := h.store.AddDeviceLogs(c.Request.Context(), truncate(c.GetHeader("User-Agent"), 256), body.Logs); err != nil {
		return internal(err)
	}
	for i, m := range body.Logs {
		if i == logLinesPerRequest {
			h.log.InfoContext(c.Request.Context(), "device log", "more", len(body.Logs)-i)
			break
		}
		h.log.InfoContext(c.Request.Context(), "device log", "message", truncate(m, logLineLength))
	}
	c.Status(http.StatusOK)
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
