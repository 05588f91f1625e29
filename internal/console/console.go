// Package console is the merchant console under /console: people at a
// merchant (owners, managers, cashiers) sign in with an email and a
// password and work the program from the browser. Pages are rendered on the
// server from embedded templates in the languages of the text catalogue,
// under a strict Content-Security-Policy; the only script is the cashier
// page's scanner, embedded too.
//
// The console decides nothing about points: every change it makes to a
// program, a card or the ledger is a request to the merchant API's own
// handlers, made in-process under api.AsMerchant (apiclient.go), so the
// validation, idempotency, ledger and webhooks are the API's. What only
// the console has (its users, sessions and audit log) is its own.
//
// Every route names the roles that may use it (routes.go); the check runs
// on the server before the handler, and the navigation shows only what the
// signed-in role may open.
package console

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/clientlimit"
	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/password"
	"github.com/loyalpass/loyalpass/internal/store"
)

// Users is what signing in and the Users screen need of the users'
// store: each change is written with its audit entry.
type Users interface {
	ByEmail(ctx context.Context, email string) (store.User, error)
	LoginFailed(ctx context.Context, id string, limit int, lockFor time.Duration) error
	LoginSucceeded(ctx context.Context, id string) error
	List(ctx context.Context, merchantID string) ([]store.User, error)
	Create(ctx context.Context, u *store.User, audit store.AuditEntry) error
	Disable(ctx context.Context, merchantID, id string, audit store.AuditEntry) error
	SetPassword(ctx context.Context, id, old, hash, keepToken string, audit store.AuditEntry) error
}

// Settings keeps a merchant's console settings: its time zone, which
// cuts the dashboard's days and weeks.
type Settings interface {
	Timezone(ctx context.Context, merchantID string) (string, error)
	SetTimezone(ctx context.Context, merchantID, tz string, audit store.AuditEntry) error
}

// CouponIssues lists a coupon program's issue jobs, newest first; their
// progress comes from the API.
type CouponIssues interface {
	RecentCouponIssues(ctx context.Context, merchantID, programID string, limit int) ([]string, error)
}

// Sessions keeps the signed-in sessions.
type Sessions interface {
	Create(ctx context.Context, token string, sess store.Session, ttl time.Duration) (store.Session, error)
	Get(ctx context.Context, token string) (store.Session, store.User, error)
	Delete(ctx context.Context, token string) error
}

// Audit is the audit log.
type Audit interface {
	Record(ctx context.Context, e store.AuditEntry) error
	List(ctx context.Context, merchantID string, beforeID int64, limit int) ([]store.AuditEntry, error)
	// ByRef finds what a form sent twice made the first time.
	ByRef(ctx context.Context, merchantID, ref string) (store.AuditEntry, error)
}

// Keys lists, creates and revokes API keys, each with its audit entry.
type Keys interface {
	List(ctx context.Context, merchantID string) ([]store.APIKeyInfo, error)
	Create(ctx context.Context, k store.APIKey, audit store.AuditEntry) error
	Revoke(ctx context.Context, merchantID, id string, audit store.AuditEntry) error
}

// Customers finds customers and their cards.
type Customers interface {
	Search(ctx context.Context, merchantID string, q store.CustomerQuery, limit int) ([]loyalty.Card, error)
	CustomerCards(ctx context.Context, merchantID, customerID string) ([]loyalty.Card, error)
}

// Merchants reads a merchant (its name, and its country for phone numbers).
type Merchants interface {
	Merchant(ctx context.Context, id string) (store.Merchant, error)
}

// Options configures a Console. Every store and API is required.
type Options struct {
	Users     Users
	Sessions  Sessions
	Audit     Audit
	Keys      Keys
	Customers Customers
	Merchants Merchants
	// Images reads a program's images, for the card designer.
	Images ProgramImages
	// Dashboard reads the dashboard's figures.
	Dashboard Dashboard
	// Joins counts the join page's funnel; nil, and the dashboard says
	// it has no join page data yet.
	Joins JoinFunnel
	// Settings keeps the merchant's time zone; nil means
	// store.DefaultTimezone everywhere and no Settings screen changes.
	Settings Settings
	// CouponIssues lists coupon issue jobs for the Coupons screen.
	CouponIssues CouponIssues
	// SMSProviders are the configured SMS providers a campaign may name
	// (none: the API's default); ShortURL is the base of the links texts
	// carry ("" means PublicURL), for the length of a preview.
	SMSProviders []string
	ShortURL     string
	// API is the merchant API's handler (api.Server.Handler): the console
	// sends it its changes and most of its reads, in-process.
	API http.Handler
	Log *slog.Logger
	// PublicURL is where people reach the server. Cookies are Secure
	// unless it is plain http on a loopback host (local development).
	PublicURL string
	// Texts is the text catalogue; nil means the shipped one.
	Texts *locale.Catalogue
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Passwords are the argon2id costs of new passwords; zero means
	// password.DefaultParams.
	Passwords password.Params
	// LoginPerMinute bounds sign-in attempts per client address (default
	// 10); LockAfter wrong passwords in a row (default 5) lock an account
	// for LockFor (default 15 minutes).
	LoginPerMinute int
	LockAfter      int
	LockFor        time.Duration
	// SessionTTL is how long a sign-in lasts (default 12 hours).
	SessionTTL time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client, for the sign-in rate limit; none by default.
	TrustedProxies []string
}

// Console serves /console. Build it with New; Handler mounts it.
type Console struct {
	opts    Options
	log     *slog.Logger
	texts   *locale.Catalogue
	now     func() time.Time
	pages   pages
	static  staticFiles
	api     apiClient
	secure  bool // cookies carry Secure
	limiter *clientlimit.Limiter
	routes  []route
	reports reportCache // the dashboard's campaign reports (dashboard.go)

	dummyOnce sync.Once // dummyHash (login.go)
	dummy     string
}

// New returns a Console. It panics only if the embedded templates do not
// parse, which the package tests rule out.
func New(opts Options) *Console {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Texts == nil {
		opts.Texts = locale.Shipped()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Passwords == (password.Params{}) {
		opts.Passwords = password.DefaultParams()
	}
	if opts.LoginPerMinute <= 0 {
		opts.LoginPerMinute = 10
	}
	if opts.LockAfter <= 0 {
		opts.LockAfter = 5
	}
	if opts.LockFor <= 0 {
		opts.LockFor = 15 * time.Minute
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	con := &Console{opts: opts, log: opts.Log.With(slog.String("component", "console")), texts: opts.Texts,
		now: opts.Now, pages: mustParsePages(), static: mustLoadStatic(), api: apiClient{h: opts.API},
		secure: !localDevelopment(opts.PublicURL), limiter: clientlimit.New(opts.LoginPerMinute, opts.Now)}
	con.routes = con.table()
	return con
}

// localDevelopment reports whether publicURL is plain http on a loopback
// host: the one case where cookies go without Secure, since a browser
// would never send a Secure cookie back over http.
func localDevelopment(publicURL string) bool {
	u, err := url.Parse(publicURL)
	if err != nil || u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}

// Handler returns next with the console mounted in front of it: requests
// for /console and below go to the console, everything else to next.
func (con *Console) Handler(next http.Handler) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	if err := r.SetTrustedProxies(con.opts.TrustedProxies); err != nil {
		// config.Validate refuses bad entries; trust no proxy rather than all.
		con.log.Error("trusted proxies", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(con.recoverer, con.accessLog, securityHeaders)
	con.register(r)
	r.NoRoute(con.notFound)
	r.NoMethod(con.notFound)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if p := req.URL.Path; p == "/console" || strings.HasPrefix(p, "/console/") {
			r.ServeHTTP(w, req)
			return
		}
		next.ServeHTTP(w, req)
	})
}

// accessLog writes one line per request, without query strings (they
// carry phone numbers and names) or headers (cookies).
func (con *Console) accessLog(c *gin.Context) {
	start := con.now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	attrs := []slog.Attr{slog.String("method", c.Request.Method), slog.String("route", route),
		slog.Int("status", c.Writer.Status()), slog.Duration("duration", con.now().Sub(start))}
	if v, ok := c.Get(viewerKey); ok {
		attrs = append(attrs, slog.String("user", v.(*viewer).user.ID))
	}
	con.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "http", attrs...)
}

// recoverer turns a panic into a logged 500 page.
func (con *Console) recoverer(c *gin.Context) {
	defer func() {
		if rec := recover(); rec != nil {
			con.log.LogAttrs(c.Request.Context(), slog.LevelError, "console panic", slog.Any("panic", rec))
			con.fail(c, nil)
		}
	}()
	c.Next()
}

// securityHeaders go on every console answer; pages add their CSP.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("Cache-Control", "no-store")
	c.Next()
}
