package console

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/password"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// cheap keeps the tests' password hashing fast; the format is the same.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

// rig is a whole console on a real store and the real API handler,
// served over loopback, with a user of each role at one merchant.
type rig struct {
	t        *testing.T
	st       *store.Store
	con      *Console
	srv      *httptest.Server
	merchant store.Merchant
	program  loyalty.Program
	// users by role: email and password.
	emails, passwords map[Role]string
	clock             *clock
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type rigOption func(*Options)

func newRig(t *testing.T, opts ...rigOption) *rig {
	t.Helper()
	return newRigAt(t, storetest.SQLiteURL(t), opts...)
}

// newRigAt is newRig on the database at url.
func newRigAt(t *testing.T, url string, opts ...rigOption) *rig {
	t.Helper()
	ctx := context.Background()
	clk := &clock{now: time.Now().UTC()}
	st, err := store.Open(ctx, store.Options{URL: url, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{t: t, st: st, emails: map[Role]string{}, passwords: map[Role]string{}, clock: clk}
	r.merchant, r.program = r.newMerchant("Кофейня", "coffee")
	srv := httptest.NewUnstartedServer(nil)
	apiHandler := api.New(api.Options{Stores: api.StoresOf(st), PublicURL: "http://" + srv.Listener.Addr().String(),
		SMS: api.SMSOptions{Providers: []string{"log"}, DefaultProvider: "log"}}).Handler()
	o := Options{Users: st.Users(), Sessions: st.Sessions(), Audit: st.Audit(), Keys: st.APIKeys(),
		Customers: st.Customers(), Merchants: st.Merchants(), Dashboard: st.Dashboard(), Images: st.Programs(), Joins: st.JoinFunnel(), Settings: st.ConsoleSettings(), CouponIssues: st.CouponIssues(), API: apiHandler,
		SMSProviders: []string{"log"},
		PublicURL:    "http://" + srv.Listener.Addr().String(), Now: clk.Now, Passwords: cheap}
	for _, f := range opts {
		f(&o)
	}
	r.con = New(o)
	srv.Config.Handler = r.con.Handler(apiHandler)
	srv.Start()
	t.Cleanup(srv.Close)
	r.srv = srv
	for _, role := range Roles {
		r.emails[role] = string(role) + "@coffee.example"
		r.passwords[role] = r.newUser(r.merchant.ID, r.emails[role], role)
	}
	return r
}

// newMerchant makes a merchant with one program.
func (r *rig) newMerchant(name, slug string) (store.Merchant, loyalty.Program) {
	r.t.Helper()
	ctx := context.Background()
	m, _, err := r.st.Merchants().EnsureMerchant(ctx, name, "RU")
	if err != nil {
		r.t.Fatal(err)
	}
	p := loyalty.Program{MerchantID: m.ID, Name: "Баллы " + slug, CurrencyLabel: "баллы", EarnRateBP: 500,
		WelcomeBonus: 100, BarcodeFormat: "qr", Locale: "ru", BackgroundColor: "#3b2416", ForegroundColor: "#ffffff",
		LabelColor: "#f5d7b5", LogoText: slug}
	if err := r.st.Programs().CreateProgram(ctx, &p); err != nil {
		r.t.Fatal(err)
	}
	return m, p
}

func (r *rig) newUser(merchantID, email string, role Role) string {
	r.t.Helper()
	pw, err := CreateUser(context.Background(), r.st.Users(), NewUser{MerchantID: merchantID, Email: email, Role: role,
		By: "test", Params: cheap})
	if err != nil {
		r.t.Fatal(err)
	}
	return pw
}

// issue issues a card through the store, as the API would.
func (r *rig) issue(merchantID, programID, phone, name string) loyalty.Card {
	r.t.Helper()
	c, _, err := r.st.Cards().IssueCard(context.Background(), store.IssueCard{MerchantID: merchantID, ProgramID: programID,
		Phone: phone, Name: name})
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

// ledger returns a card's ledger, newest first.
func (r *rig) ledger(merchantID, serial string) []loyalty.Transaction {
	r.t.Helper()
	ts, err := r.st.Cards().Transactions(context.Background(), merchantID, serial, 0, 1000)
	if err != nil {
		r.t.Fatal(err)
	}
	return ts
}

// client is one browser: a cookie jar, no redirects followed.
type client struct {
	r    *rig
	http *http.Client
	// last is the body of the last page fetched, for its CSRF token.
	last string
}

func (r *rig) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{r: r, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is an answer.
type page struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (c *client) do(req *http.Request) page {
	c.r.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, body: string(b), location: resp.Header.Get("Location"), header: resp.Header}
	if strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		c.last = p.body
	}
	return p
}

func (c *client) get(path string) page {
	req, _ := http.NewRequest(http.MethodGet, c.r.srv.URL+path, nil)
	return c.do(req)
}

// post sends form as it is (add "csrf" yourself, or use postForm).
func (c *client) post(path string, form url.Values, header ...string) page {
	req, _ := http.NewRequest(http.MethodPost, c.r.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

// postForm sends form with the CSRF token of the last page fetched.
func (c *client) postForm(path string, form url.Values) page {
	form.Set("csrf", csrfOf(c.last))
	if form.Get("form") == "" {
		// A create form's one-time token, as the page showed it.
		if t := fieldOf(c.last, "", "form"); t != "" {
			form.Set("form", t)
		}
	}
	return c.post(path, form)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(body string) string {
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// fieldOf returns the value of the first hidden input called name that
// follows marker in body.
func fieldOf(body, marker, name string) string {
	i := strings.Index(body, marker)
	if i < 0 {
		return ""
	}
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body[i:])
	if m == nil {
		return ""
	}
	return m[1]
}

// login signs in and fails the test if that does not work.
func (c *client) login(email, pw string) {
	c.r.t.Helper()
	if p := c.tryLogin(email, pw); p.status != http.StatusSeeOther || p.location != "/console" {
		c.r.t.Fatalf("sign-in as %s: %d → %q\n%s", email, p.status, p.location, p.body)
	}
}

func (c *client) tryLogin(email, pw string) page {
	c.get("/console/login")
	return c.postForm("/console/login", url.Values{"email": {email}, "password": {pw}, "next": {"/console"}})
}

// as returns a signed-in client of role.
func (r *rig) as(role Role) *client {
	c := r.client()
	c.login(r.emails[role], r.passwords[role])
	return c
}

func storeQueryPhone(e164 string) store.CustomerQuery { return store.CustomerQuery{Phone: e164} }
