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
	"github.com/loyalpass/loyalpass/internal/credential"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/metrics"
	"github.com/loyalpass/loyalpass/internal/netguard"
	"github.com/loyalpass/loyalpass/passes"
)

// PassSource hands out the signed package of a card.
type PassSource interface {
	Pass(ctx context.Context, card loyalty.Card) (cardpass.Pass, error)
}

// Options configures a Server.
type Options struct {
	// Stores are the handler groups' stores (StoresOf builds them from
	// the database).
	Stores Stores
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
	// Join configures the join page's texted codes.
	Join JoinOptions
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
	// Koshelek is the «Кошелёк» integration (koshelek.go).
	Koshelek KoshelekOptions
}

// KoshelekOptions configures the «Кошелёк» integration.
type KoshelekOptions struct {
	// Box seals the programs' Push API passwords; nil refuses them (409).
	Box *credential.Box
	// LoginChecks is how many logins one client address may have checked
	// against a password hash a minute (default 60); a login checked once
	// is remembered for a while and does not count.
	LoginChecks int
}

// Server is the HTTP surface: one handler group per resource, each
// holding the narrow store it uses. Handler mounts them.
type Server struct {
	base
	trustedProxies []string
	metrics        *metrics.Metrics // nil: no metrics
	urls           cardURLs
	google         GoogleWallet // nil: Google Wallet is off
	auth           handler      // resolves the API key of /api/v1

	ops          *opsHandlers
	programs     *programHandlers
	cards        *cardHandlers
	transactions *transactionHandlers
	messages     *messageHandlers
	fcm          *fcmHandlers
	deadLetters  *deadLetterHandlers
	webhooks     *webhookHandlers
	campaigns    *campaignHandlers
	wallet       *walletHandlers
	links        *linkHandlers
	googleWallet *googleHandlers
	smsHooks     *smsHookHandlers
	joins        *joinHandlers
	customers    *customerHandlers
	referrals    *referralHandlers
	posters      *posterHandlers
	koshelek     *koshelekHandlers
	koshelekCB   *koshelekCallbackHandlers
	koshelekCard *koshelekCardHandlers
	automations  *automationHandlers
	rhythms      *rhythmHandlers
	budgets      *budgetHandlers
	liability    *liabilityHandlers
	coupons      *couponIssueHandlers
}

// New returns a Server. It does not start listening; see Handler.
func New(opts Options) *Server {
	b := base{log: opts.Log, maxBody: opts.MaxBody}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.maxBody <= 0 {
		b.maxBody = 64 << 10
	}
	outbound := opts.Outbound
	if outbound == nil {
		outbound = netguard.New(netguard.Options{})
	}
	ready := opts.Ready
	if ready == nil {
		ready = func() bool { return true }
	}
	urls := cardURLs{public: strings.TrimRight(opts.PublicURL, "/"), short: strings.TrimRight(opts.ShortURL, "/"),
		google: opts.Google != nil}
	if urls.short == "" {
		urls.short = urls.public
	}
	// With Google Wallet on, the landing page's button defaults to the
	// card's save link.
	googleSaveURL := opts.GoogleSaveURL
	if googleSaveURL == nil && urls.google {
		googleSaveURL = urls.googleSaveLink
	}
	readiness := opts.Readiness
	if readiness.Store == nil {
		readiness.Store = opts.Stores.Schema
	}
	st := opts.Stores
	kauth := newKoshelekAuth(st.KoshelekPrograms, opts.Koshelek.LoginChecks)
	s := &Server{base: b, trustedProxies: opts.TrustedProxies, metrics: opts.Metrics, urls: urls,
		google: opts.Google, auth: authenticate(st.Keys),
		ops: &opsHandlers{log: b.log, ready: ready, readiness: readiness, metrics: opts.Metrics},
		programs: &programHandlers{base: b, store: st.Programs, images: passes.NewImageScaler(opts.ImageDecodeBudget),
			urls: urls,

			koshelek: programKoshelek{store: st.ProgramKoshelek, box: opts.Koshelek.Box, public: urls.public}},
		cards:        &cardHandlers{base: b, store: st.Cards, programs: st.Programs, urls: urls, passes: opts.Passes},
		transactions: &transactionHandlers{base: b, store: st.Ledger, urls: urls, metrics: opts.Metrics},
		messages:     &messageHandlers{base: b, store: st.Messages, urls: urls},
		fcm:          &fcmHandlers{base: b, store: st.FCM, on: opts.FCM},
		deadLetters:  &deadLetterHandlers{base: b, store: st.DeadLetters},
		webhooks:     &webhookHandlers{base: b, store: st.Webhooks, outbound: outbound, development: opts.Development},
		campaigns:    &campaignHandlers{base: b, store: st.Campaigns, sms: opts.SMS, shortURL: urls.short},
		wallet: &walletHandlers{base: b, store: st.Wallet, passes: opts.Passes, passTypeID: opts.PassTypeID,
			outbound: outbound},
		links: &linkHandlers{base: b, store: st.Links, passes: opts.Passes, shortURL: urls.short,
			googleSaveURL: googleSaveURL, referrals: st.ReferralCodes},
		googleWallet: &googleHandlers{base: b, store: st.Google, google: opts.Google, callbacks: opts.GoogleCallbacks},
		smsHooks:     &smsHookHandlers{base: b, store: st.SMSHooks, sms: opts.SMS, publicURL: urls.public},
		joins:        newJoinHandlers(b, st.Joins, opts.Join, urls.short),
		customers:    &customerHandlers{base: b, store: st.Customers, urls: urls},
		referrals:    &referralHandlers{base: b, store: st.Referrals},
		posters:      &posterHandlers{base: b, store: st.Posters, urls: urls},
		koshelek:     &koshelekHandlers{base: b, auth: kauth, store: st.Koshelek},
		koshelekCB:   &koshelekCallbackHandlers{base: b, auth: kauth, store: st.KoshelekCallbacks},
		koshelekCard: &koshelekCardHandlers{base: b, store: st.KoshelekCards},
		automations:  &automationHandlers{base: b, store: st.Automations, sms: opts.SMS, shortURL: urls.short},
		rhythms:      &rhythmHandlers{base: b, store: st.Rhythms},
		budgets:      &budgetHandlers{base: b, store: st.Budgets},
		liability:    &liabilityHandlers{base: b, store: st.Liability},
		coupons:      &couponIssueHandlers{base: b, store: st.Coupons},
	}
	s.wallet.limits(opts.Wallet)
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

	s.ops.routes(r)
	s.wallet.routes(r)
	s.links.routes(r)
	s.smsHooks.routes(r)
	s.googleWallet.routes(r)
	s.joins.routes(r)
	s.koshelek.routes(r)
	s.koshelekCB.routes(r)

	v1 := r.Group("/api/v1", s.wrap(s.auth))
	s.programs.routes(v1)
	s.cards.routes(v1)
	s.transactions.routes(v1)
	s.deadLetters.routes(v1)
	s.webhooks.routes(v1)
	s.messages.routes(v1)
	s.fcm.routes(v1)
	s.campaigns.routes(v1)
	s.customers.routes(v1)
	s.referrals.routes(v1)
	s.posters.routes(v1)
	s.koshelekCard.routes(v1)
	s.automations.routes(v1)
	s.rhythms.routes(v1)
	s.budgets.routes(v1)
	s.liability.routes(v1)
	s.coupons.routes(v1)
	return r
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
