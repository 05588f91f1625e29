package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignInAndOut(t *testing.T) {
	r := newRig(t)
	c := r.client()
	// Anonymous: to the sign-in, with the way back.
	if p := c.get("/console/customers?q=1"); p.status != http.StatusSeeOther ||
		p.location != "/console/login?next="+url.QueryEscape("/console/customers?q=1") {
		t.Fatalf("anonymous: %d → %q", p.status, p.location)
	}
	c.get("/console/login?next=" + url.QueryEscape("/console/customers?q=1"))
	p := c.postForm("/console/login", url.Values{"email": {" MANAGER@coffee.example "}, "password": {r.passwords[Manager]},
		"next": {"/console/customers?q=1"}})
	if p.status != http.StatusSeeOther || p.location != "/console/customers?q=1" {
		t.Fatalf("sign-in: %d → %q", p.status, p.location)
	}
	if p := c.get("/console/customers"); p.status != http.StatusOK || !strings.Contains(p.body, r.emails[Manager]) {
		t.Fatalf("signed in: %d", p.status)
	}
	// Elsewhere is never a way back.
	for _, next := range []string{"https://evil.example/", "//evil.example/console", "/console\\@evil", "/api/v1/programs"} {
		if got := safeNext(next); got != "/console" {
			t.Errorf("safeNext(%q) = %q", next, got)
		}
	}
	// Sign out needs the session's token; then the session is gone.
	if p := c.post("/console/logout", url.Values{}); p.status != http.StatusForbidden {
		t.Fatalf("sign-out without a token: %d", p.status)
	}
	c.get("/console/cashier")
	if p := c.postForm("/console/logout", url.Values{}); p.status != http.StatusSeeOther || p.location != "/console/login" {
		t.Fatalf("sign-out: %d → %q", p.status, p.location)
	}
	if p := c.get("/console/customers"); p.status != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d, want the sign-in", p.status)
	}
}

// TestWrongPasswordsLockTheAccount: five wrong passwords in a row lock
// the account for 15 minutes, during which even the right one is refused
// with the same words as a wrong one; then it opens again.
func TestWrongPasswordsLockTheAccount(t *testing.T) {
	r := newRig(t, func(o *Options) { o.LoginPerMinute = 100 })
	c := r.client()
	wrong := c.tryLogin(r.emails[Owner], "not-it")
	if wrong.status != http.StatusUnauthorized || !strings.Contains(wrong.body, `id="login-error"`) {
		t.Fatalf("wrong password: %d", wrong.status)
	}
	unknown := c.tryLogin("nobody@coffee.example", "not-it")
	if unknown.status != http.StatusUnauthorized || errorText(unknown.body) != errorText(wrong.body) {
		t.Fatalf("unknown email answers differently: %d %q vs %q", unknown.status, errorText(unknown.body), errorText(wrong.body))
	}
	for range 4 {
		c.tryLogin(r.emails[Owner], "not-it")
	}
	locked := c.tryLogin(r.emails[Owner], r.passwords[Owner])
	if locked.status != http.StatusUnauthorized || errorText(locked.body) != errorText(wrong.body) {
		t.Fatalf("right password on a locked account: %d", locked.status)
	}
	r.clock.advance(14 * time.Minute)
	if p := c.tryLogin(r.emails[Owner], r.passwords[Owner]); p.status != http.StatusUnauthorized {
		t.Fatalf("after 14 minutes: %d, want still locked", p.status)
	}
	r.clock.advance(time.Minute)
	c.login(r.emails[Owner], r.passwords[Owner])
	// Another user was never locked.
	r.as(Manager)
}

func errorText(body string) string {
	i := strings.Index(body, `id="login-error">`)
	if i < 0 {
		return ""
	}
	rest := body[i+len(`id="login-error">`):]
	return rest[:strings.Index(rest, "<")]
}

// TestSignInIsRateLimited: past the per-address budget the form answers
// 429 without looking at the password.
func TestSignInIsRateLimited(t *testing.T) {
	r := newRig(t, func(o *Options) { o.LoginPerMinute = 3 })
	c := r.client()
	for i := range 3 {
		if p := c.tryLogin("nobody@coffee.example", "x"); p.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, p.status)
		}
	}
	if p := c.tryLogin(r.emails[Owner], r.passwords[Owner]); p.status != http.StatusTooManyRequests {
		t.Fatalf("fourth attempt in a minute: %d, want 429", p.status)
	}
	r.clock.advance(time.Minute)
	c.login(r.emails[Owner], r.passwords[Owner])
}

// TestCookies: over https the session cookie is Secure, HttpOnly,
// SameSite=Strict and __Host-; only an http://localhost console relaxes
// Secure.
func TestCookies(t *testing.T) {
	for _, tt := range []struct {
		public string
		secure bool
	}{
		{"https://cards.example.com", true},
		{"http://cards.example.com", true},
		{"http://localhost:8080", false},
		{"http://127.0.0.1:8080", false},
	} {
		t.Run(tt.public, func(t *testing.T) {
			r := newRig(t, func(o *Options) { o.PublicURL = tt.public })
			c := r.client()
			c.get("/console/login")
			p := c.postForm("/console/login", url.Values{"email": {r.emails[Owner]}, "password": {r.passwords[Owner]}})
			var session *http.Cookie
			for _, ck := range (&http.Response{Header: p.header}).Cookies() {
				if strings.Contains(ck.Name, "lp_console") {
					session = ck
				}
			}
			if session == nil {
				t.Fatalf("no session cookie: %v", p.header["Set-Cookie"])
			}
			if session.Secure != tt.secure || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode ||
				session.Path != "/" || strings.HasPrefix(session.Name, "__Host-") != tt.secure || len(session.Value) < 50 {
				t.Errorf("session cookie %s", p.header["Set-Cookie"])
			}
		})
	}
}

// TestCSRF: a form without its token, with another session's token or
// from another site is refused and changes nothing; the same form with
// its token goes through.
func TestCSRF(t *testing.T) {
	r := newRig(t)
	card := r.issue(r.merchant.ID, r.program.ID, "+79123456789", "Анна")
	owner, other := r.as(Owner), r.as(Manager)
	shown := owner.get("/console/cashier?number=" + card.Number)
	form := url.Values{"action": {"earn"}, "serial": {card.SerialNumber}, "number": {card.Number},
		"key": {fieldOf(shown.body, `id="earn-form"`, "key")}, "value": {"100"}}
	other.get("/console/cashier")
	for name, send := range map[string]func() page{
		"no token": func() page { return owner.post("/console/cashier", form) },
		"wrong token": func() page {
			f := clone(form)
			f.Set("csrf", csrfOf(other.last))
			return owner.post("/console/cashier", f)
		},
		"cross-site": func() page {
			f := clone(form)
			f.Set("csrf", csrfOf(shown.body))
			return owner.post("/console/cashier", f, "Sec-Fetch-Site", "cross-site")
		},
		"other origin": func() page {
			f := clone(form)
			f.Set("csrf", csrfOf(shown.body))
			return owner.post("/console/cashier", f, "Origin", "https://evil.example")
		},
	} {
		if p := send(); p.status != http.StatusForbidden || !strings.Contains(p.body, "message-heading") {
			t.Errorf("%s: %d, want the 403 page", name, p.status)
		}
	}
	if n := len(r.ledger(r.merchant.ID, card.SerialNumber)); n != 1 { // the welcome bonus only
		t.Fatalf("%d ledger lines after refused forms, want 1", n)
	}
	f := clone(form)
	f.Set("csrf", csrfOf(shown.body))
	if p := owner.post("/console/cashier", f, "Origin", r.srv.URL); p.status != http.StatusSeeOther {
		t.Fatalf("with its token: %d\n%s", p.status, p.body)
	}
	if n := len(r.ledger(r.merchant.ID, card.SerialNumber)); n != 2 {
		t.Fatalf("%d ledger lines, want 2", n)
	}
	// The sign-in form has its own token, in a cookie and the form.
	anon := r.client()
	if p := anon.post("/console/login", url.Values{"email": {r.emails[Owner]}, "password": {r.passwords[Owner]}}); p.status != http.StatusForbidden {
		t.Fatalf("sign-in without its token: %d", p.status)
	}
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, x := range v {
		out[k] = append([]string(nil), x...)
	}
	return out
}
