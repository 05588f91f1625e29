// Package api is the HTTP surface of loyalpass: the merchant REST API under
// /api/v1 and the health endpoints. Handlers return *Error values that one
// renderer turns into the JSON error shape.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/landing"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/metrics"
	"github.com/loyalpass/loyalpass/internal/netguard"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes"
)

// Store is what the API needs of the database.
type Store interface {
	APIKey(ctx context.Context, id string) (store.APIKey, error)
	Merchant(ctx context.Context, id string) (store.Merchant, error)
	programStore
	cardStore
	ledgerStore
	walletStore
	deadLetterStore
	messageStore
	googleStore
	fcmStore
	linkStore
	campaignStore
	smsHookStore
	webhookStore
}

// PassSource hands out the signed package of a card.
type PassSource interface {
	Pass(ctx context.Context, card loyalty.Card) (cardpass.Pass, error)
}

// Options configures a Server.
type Options struct {
	Store  Store
	Passes PassSource
	Log    *slog.Logger
	// PublicURL is where customers and wallets reach this server, without a
	// trailing slash, e.g. "https://cards.example.com".
	PublicURL string
	// MaxBody caps JSON request bodies; images have their own cap.
	MaxBody int64
	// Ready reports whether start-up has finished; nil means always ready.
	Ready func() bool
	// PassTypeID is the pass type the web service serves.
	PassTypeID string
	// ShortURL is the base of short links (/c/{token}); "" means PublicURL.
	ShortURL string
	// GoogleSaveURL, when Google Wallet is configured, returns the URL
	// of a card's "Save to Google Wallet" button.
	GoogleSaveURL func(loyalty.Card) string
	// SMS is the campaign and SMS-callback configuration.
	SMS SMSOptions
	// Google serves save links (GoogleSavePath) and GoogleCallbacks checks
	// Google's save/delete callbacks; nil turns either off (404).
	Google          GoogleWallet
	GoogleCallbacks CallbackVerifier
	// Metrics, when set, is counted into and served at /metrics.
	Metrics *metrics.Metrics
	// Readiness is what /readyz checks (readyz.go).
	Readiness Readiness
	// Wallet limits the pass web service (wallet.go).
	Wallet WalletOptions
	// TrustedProxies are the addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For names the client; by default no proxy is trusted and
	// the client is the connection's peer (the per-client rate limits key
	// on it, so a client must not be able to name itself).
	TrustedProxies []string
	// Outbound checks the URLs devices and merchants hand in (a PassWallet
	// pushServiceUrl, a webhook url) before they are stored; nil refuses
	// every internal address. The senders check again when dialling.
	Outbound *netguard.Guard
	// Development is set when the server runs in development mode (the
	// generated signing chain): webhook URLs may then use plain http.
	Development bool
	// FCM reports whether FCM data messages are configured; while they are
	// not, registering an app's FCM token answers 409.
	FCM bool
	// ImageDecodeBudget bounds the memory uploaded images hold while they
	// decode, all together; 0 means passes.DefaultDecodeBudget.
	ImageDecodeBudget int64
}

// Server holds the API's dependencies; Handler builds its routes.
type Server struct {
	store      Store
	passes     PassSource
	log        *slog.Logger
	publicURL  string
	maxBody    int64
	ready      func() bool
	wallet     walletStore
	passTypeID string
	// shortURL is the base of short links; googleSaveURL is nil when
	// Google Wallet is off.
	shortURL      string
	googleSaveURL func(loyalty.Card) string
	sms           SMSOptions
	// google and googleCallbacks are nil when Google Wallet is off.
	google          GoogleWallet
	googleCallbacks CallbackVerifier
	metrics         *metrics.Metrics // nil: no metrics
	readiness       Readiness
	// maxDevices caps the devices per card; logLimiter rate-limits the
	// unauthenticated log endpoint per client.
	maxDevices     int
	logLimiter     *clientLimiter
	trustedProxies []string
	outbound       *netguard.Guard
	development    bool
	images         *passes.ImageScaler
	fcm            bool // FCM is configured
}

// New returns a Server. It does not start listening; see Handler.
func New(opts Options) *Server {
	s := &Server{store: opts.Store, passes: opts.Passes, log: opts.Log,
		publicURL: strings.TrimRight(opts.PublicURL, "/"), maxBody: opts.MaxBody, ready: opts.Ready,
		wallet: opts.Store, passTypeID: opts.PassTypeID, shortURL: strings.TrimRight(opts.ShortURL, "/"),
		googleSaveURL: opts.GoogleSaveURL, sms: opts.SMS, metrics: opts.Metrics, readiness: opts.Readiness,
		outbound: opts.Outbound, development: opts.Development,
		images: passes.NewImageScaler(opts.ImageDecodeBudget), fcm: opts.FCM}
	if s.shortURL == "" {
		s.shortURL = s.publicURL
	}
	s.initGoogle(opts)
	s.initWallet(opts.Wallet)
	s.trustedProxies = opts.TrustedProxies
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.outbound == nil {
		s.outbound = netguard.New(netguard.Options{})
	}
	if s.maxBody <= 0 {
		s.maxBody = 64 << 10
	}
	if s.ready == nil {
		s.ready = func() bool { return true }
	}
	return s
}

// Handler returns the routes of the whole HTTP surface.
func (s *Server) Handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(s.trustedProxies); err != nil {
		// config.Validate refuses bad entries; trust no proxy rather than all.
		s.log.Error("trusted proxies", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(s.recoverer(), s.accessLog(), s.observeRequests())
	r.NoRoute(s.noRoute)
	r.NoMethod(s.noMethod)

	r.GET("/healthz", s.healthz)
	s.opsRoutes(r)
	s.walletRoutes(r)
	landing.New(linkSource{s}, s.log.With("component", "landing")).Register(r)
	r.GET("/c/:token/pass.pkpass", s.wrap(s.linkPass))
	s.smsHookRoutes(r)
	s.googleRoutes(r)

	v1 := r.Group("/api/v1", s.wrap(s.authenticate))
	v1.POST("/programs", s.wrap(s.createProgram))
	v1.GET("/programs", s.wrap(s.listPrograms))
	v1.GET("/programs/:id", s.wrap(s.getProgram))
	v1.PATCH("/programs/:id", s.wrap(s.updateProgram))
	v1.PUT("/programs/:id/images/:kind", s.wrap(s.putProgramImage))
	v1.DELETE("/programs/:id/images/:kind", s.wrap(s.deleteProgramImage))
	v1.POST("/programs/:id/cards", s.wrap(s.issueCard))
	v1.GET("/cards", s.wrap(s.listCards))
	v1.GET("/cards/:serial", s.wrap(s.getCard))
	v1.POST("/cards/:serial/void", s.wrap(s.voidCard))
	v1.GET("/cards/:serial/pass.pkpass", s.wrap(s.cardPass))
	v1.POST("/cards/:serial/transactions", s.wrap(s.postTransaction))
	v1.GET("/cards/:serial/transactions", s.wrap(s.listTransactions))
	v1.GET("/dead-letters", s.wrap(s.listDeadLetters))
	v1.POST("/webhooks", s.wrap(s.createWebhook))
	v1.GET("/webhooks", s.wrap(s.listWebhooks))
	v1.DELETE("/webhooks/:id", s.wrap(s.deleteWebhook))
	v1.GET("/webhooks/:id/deliveries", s.wrap(s.listWebhookDeliveries))
	v1.POST("/cards/:serial/messages", s.wrap(s.cardMessage))
	v1.POST("/programs/:id/messages", s.wrap(s.programMessage))
	v1.POST("/cards/:serial/fcm-tokens", s.wrap(s.addFCMToken))
	v1.DELETE("/cards/:serial/fcm-tokens/:token", s.wrap(s.removeFCMToken))
	v1.POST("/campaigns", s.wrap(s.createCampaign))
	v1.GET("/campaigns", s.wrap(s.listCampaigns))
	v1.GET("/campaigns/:id", s.wrap(s.getCampaign))
	v1.POST("/campaigns/:id/:action", s.wrap(s.campaignAction))
	v1.GET("/campaigns/:id/report", s.wrap(s.campaignReport))
	return r
}

func (s *Server) healthz(c *gin.Context) {
	if !s.ready() {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "starting"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// accessLog writes one line per request. Query strings are left out (they
// may carry phone numbers) and so is every header (tokens).
func (s *Server) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "http",
			slog.String("method", c.Request.Method), slog.String("route", route),
			slog.Int("status", c.Writer.Status()), slog.Duration("duration", time.Since(start)),
			slog.String("merchant", c.GetString(merchantKey)))
	}
}
