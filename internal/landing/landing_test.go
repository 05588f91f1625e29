package landing

import (
	"errors"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/assets"
	"github.com/loyalpass/loyalpass/internal/locale"
)

func TestCardContent(t *testing.T) {
	h, _ := newTestServer(t, newFakeSource(testPage()))
	rec := do(t, h, request{path: "/c/" + testToken, ua: uaIPhoneSafari, lang: "ru-RU,ru;q=0.9"})
	doc := parseHTML(t, rec.Body.String())
	checks := map[string]string{
		"balance":     "1 250 баллов",
		"card-number": "1000 2345",
		"bonus":       "Ваш бонус: +100 баллов",
		"optout":      "Отписаться от SMS",
	}
	for id, want := range checks {
		if got := textOf(byID(doc, id)); got != want {
			t.Errorf("#%s = %q, want %q", id, got, want)
		}
	}
	if got := textOf(byTag(doc, "title")); got != "Кофейные баллы" {
		t.Errorf("title = %q", got)
	}
	if got := attr(byID(doc, "optout"), "href"); got != "/c/"+testToken+"/optout" {
		t.Errorf("opt-out href = %q", got)
	}
	if !strings.Contains(rec.Body.String(), "--bg:#6b3e26;--fg:#ffffff") {
		t.Error("program colours are not in the style sheet")
	}
}

func TestCardShowsTheReferralLink(t *testing.T) {
	p := testPage()
	p.ReferralURL, p.FriendPoints, p.ReferrerPoints = "https://k.example.ru/r/Fr1end", 50, 100
	h, _ := newTestServer(t, newFakeSource(p))
	doc := parseHTML(t, do(t, h, request{path: "/c/" + testToken, ua: uaIPhoneSafari, lang: "ru"}).Body.String())
	if got := attr(byID(doc, "referral-url"), "value"); got != p.ReferralURL {
		t.Errorf("referral link %q", got)
	}
	if got := textOf(byID(doc, "referral")); !strings.Contains(got, "друг получит 50 баллов, а вы — 100 баллов") {
		t.Errorf("referral text %q", got)
	}
}

func TestCardOptionalParts(t *testing.T) {
	p := testPage()
	p.BonusPoints, p.OptOutURL = 0, ""
	src := newFakeSource(p)
	h, _ := newTestServer(t, src)
	doc := parseHTML(t, do(t, h, request{path: "/c/" + testToken}).Body.String())
	for _, id := range []string{"bonus", "optout", "opted-out", "referral"} {
		if byID(doc, id) != nil {
			t.Errorf("#%s shown", id)
		}
	}
	p.OptOutURL, p.OptedOut = "/c/"+testToken+"/optout", true
	src.put(p)
	doc = parseHTML(t, do(t, h, request{path: "/c/" + testToken}).Body.String())
	if byID(doc, "optout") != nil || byID(doc, "opted-out") == nil {
		t.Error("an opted-out customer should see the note, not the link")
	}
}

func TestLanguage(t *testing.T) {
	tests := []struct {
		accept, program, want string
	}{
		{"", "ru", "ru"},
		{"", "en", "en"},
		{"", "", "ru"},
		{"en-US,en;q=0.9", "ru", "en"},
		{"ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "en", "ru"},
		{"en;q=0.5, ru;q=0.8", "en", "ru"},
		{"ru;q=0, en", "ru", "en"},
		{"ru;q=0", "ru", "ru"}, // refuses Russian but offers nothing we speak: the program decides
		{"de-DE,de;q=0.9", "en", "en"},
		{"fr, en;q=0.1", "ru", "en"},
		{"*", "en", "en"},
		{"EN_gb", "ru", "en"},
		{"%%%;;q=,", "ru", "ru"},
		{"en;q=abc, ru;q=0.2", "en", "ru"},
	}
	h, _ := newTestServer(t, newFakeSource())
	for _, tt := range tests {
		if got := locale.Shipped().Pick(tt.accept, tt.program, defaultLocale); got != tt.want {
			t.Errorf("Pick(%q, %q) = %q, want %q", tt.accept, tt.program, got, tt.want)
		}
	}
	// Through the handler: the page's lang attribute and its texts.
	for _, tt := range tests {
		p := testPage()
		p.Locale = tt.program
		src := newFakeSource(p)
		h, _ = newTestServer(t, src)
		rec := do(t, h, request{path: "/c/" + testToken, ua: uaIPhoneSafari, lang: tt.accept})
		doc := parseHTML(t, rec.Body.String())
		if got := attr(byTag(doc, "html"), "lang"); got != tt.want {
			t.Errorf("Accept-Language %q, program %q: lang = %q, want %q", tt.accept, tt.program, got, tt.want)
		}
		button := map[string]string{"ru": "Добавить в Apple Wallet", "en": "Add to Apple Wallet"}[tt.want]
		if got := textOf(byID(doc, "apple-wallet")); got != button {
			t.Errorf("Accept-Language %q: button %q, want %q", tt.accept, got, button)
		}
	}
}

func TestNumbersAndPlurals(t *testing.T) {
	tests := []struct {
		lang string
		n    int64
		want string
	}{
		{"ru", 0, "0\u00a0баллов"},
		{"ru", 1, "1\u00a0балл"},
		{"ru", 2, "2\u00a0балла"},
		{"ru", 5, "5\u00a0баллов"},
		{"ru", 11, "11\u00a0баллов"},
		{"ru", 14, "14\u00a0баллов"},
		{"ru", 21, "21\u00a0балл"},
		{"ru", 1234567, "1\u00a0234\u00a0567\u00a0баллов"},
		{"ru", -3, "-3\u00a0балла"},
		{"en", 1, "1\u00a0point"},
		{"en", 1250, "1,250\u00a0points"},
		{"en", -1000, "-1,000\u00a0points"},
	}
	for _, tt := range tests {
		if got := locale.Shipped().Lang(tt.lang).Points(tt.n); got != tt.want {
			t.Errorf("points(%s, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
}

func TestCatalogueComplete(t *testing.T) {
	// Every shipped language has every key: internal/locale
	// TestShippedLanguagesHaveEveryKey.
	texts := locale.Shipped().Lang("ru").Texts()
	// Every key the templates use must exist (missingkey=error also
	// catches it, but only on the paths a test renders).
	for _, name := range []string{"layout", "card", "optout", "message"} {
		data, err := readAsset(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\.T\.(\w+)`).FindAllStringSubmatch(data, -1) {
			if _, ok := texts[m[1]]; !ok {
				t.Errorf("%s.html uses unknown text %q", name, m[1])
			}
		}
	}
}

func TestNotFound(t *testing.T) {
	src := newFakeSource(testPage())
	h, _ := newTestServer(t, src)
	tests := []struct {
		path, lang, want string
	}{
		{"/c/nope", "", "Ссылка не найдена"},
		{"/c/nope", "ru", "Ссылка не найдена"},
		{"/c/nope", "en-GB,en;q=0.9", "Link not found"},
		{"/c/nope/optout", "en", "Link not found"},
		{"/c/" + strings.Repeat("x", maxTokenLen+1), "en", "Link not found"},
	}
	for _, tt := range tests {
		rec := do(t, h, request{path: tt.path, lang: tt.lang})
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", tt.path, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", tt.path, ct)
		}
		if got := textOf(byID(parseHTML(t, rec.Body.String()), "heading")); got != tt.want {
			t.Errorf("%s (%q): heading %q, want %q", tt.path, tt.lang, got, tt.want)
		}
	}
	for _, path := range src.pageCalls() {
		if len(path) > maxTokenLen {
			t.Errorf("an over-long token reached the Source: %s", path)
		}
	}
}

func TestSourceErrorHidesCauseAndToken(t *testing.T) {
	src := newFakeSource(testPage())
	src.err = errors.New("query link " + testToken + ": database is locked")
	h, logs := newTestServer(t, src)
	rec := do(t, h, request{path: "/c/" + testToken, lang: "en"})
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if body := rec.Body.String(); strings.Contains(body, "database") || !strings.Contains(body, "Something went wrong") {
		t.Errorf("error page leaks or lacks its text: %s", body)
	}
	if rec := do(t, h, request{path: "/c/" + testToken + "/qr.png"}); rec.Code != http.StatusInternalServerError {
		t.Errorf("qr.png status %d, want 500", rec.Code)
	}
	log := logs.String()
	if !strings.Contains(log, "database is locked") || !strings.Contains(log, `"component":"landing"`) {
		t.Errorf("the cause was not logged: %s", log)
	}
	if strings.Contains(log, testToken) {
		t.Errorf("the token reached the log: %s", log)
	}
}

func TestEscaping(t *testing.T) {
	p := testPage()
	p.ProgramName = `<script>alert("x")</script>`
	p.OrganizationName = `"><img src=x onerror=alert(1)>`
	p.CardNumber = "<b>1</b>"
	p.PassURL = "javascript:alert(1)"
	p.GoogleSaveURL = `https://pay.google.com/gp/v/save/a"onmouseover="alert(1)`
	p.BackgroundColor = "red;}</style><script>alert(1)</script>"
	p.ForegroundColor = "expression(alert(1))"
	h, _ := newTestServer(t, newFakeSource(p))
	rec := do(t, h, request{path: "/c/" + testToken, ua: uaDesktopChrome})
	body := rec.Body.String()
	for _, bad := range []string{"<script", "<img src=x", "<b>1</b>", `href="javascript:`, `"onmouseover="`, "expression("} {
		if strings.Contains(body, bad) {
			t.Errorf("unescaped %q in the page", bad)
		}
	}
	doc := parseHTML(t, body)
	if got := textOf(byTag(doc, "h1")); got != p.ProgramName {
		t.Errorf("h1 = %q, want the name as text", got)
	}
	if got := attr(byID(doc, "apple-wallet"), "href"); strings.HasPrefix(got, "javascript") {
		t.Errorf("javascript: URL kept: %q", got)
	}
	if !strings.Contains(body, "--bg:"+defaultBG+";--fg:"+defaultFG) {
		t.Error("invalid colours did not fall back to the defaults")
	}
}

func TestSecurityHeaders(t *testing.T) {
	h, _ := newTestServer(t, newFakeSource(testPage()))
	for _, path := range []string{"/c/" + testToken, "/c/" + testToken + "/optout", "/c/nope", "/c/" + testToken + "/qr.png"} {
		rec := do(t, h, request{path: path, ua: uaDesktopChrome})
		hd := rec.Header()
		if got := hd.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", path, got)
		}
		if got := hd.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q", path, got)
		}
		csp := hd.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if !strings.HasSuffix(path, ".png") {
			if got := hd.Get("Cache-Control"); got != "no-store" {
				t.Errorf("%s: Cache-Control %q", path, got)
			}
			// The nonce in the header is the one on the <style> element.
			nonce := attr(byTag(parseHTML(t, rec.Body.String()), "style"), "nonce")
			if nonce == "" || !strings.Contains(csp, "style-src 'nonce-"+nonce+"'") {
				t.Errorf("%s: style nonce %q not in CSP %q", path, nonce, csp)
			}
		}
	}
	a := do(t, h, request{path: "/c/" + testToken}).Header().Get("Content-Security-Policy")
	b := do(t, h, request{path: "/c/" + testToken}).Header().Get("Content-Security-Policy")
	if a == b {
		t.Error("the style nonce is reused across responses")
	}
}

func TestRegisterUnderPrefix(t *testing.T) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	New(newFakeSource(testPage()), nil).Register(r.Group("/s"))
	doc := parseHTML(t, do(t, r, request{path: "/s/c/" + testToken, ua: uaDesktopChrome}).Body.String())
	if got := attr(byID(doc, "qr"), "src"); got != "/s/c/"+testToken+"/qr.png" {
		t.Errorf("qr src under a prefix = %q", got)
	}
	if rec := do(t, r, request{path: "/s/c/" + testToken + "/qr.png"}); rec.Code != http.StatusOK {
		t.Errorf("qr.png under a prefix: %d", rec.Code)
	}
}

func readAsset(name string) (string, error) {
	data, err := fs.ReadFile(assets.Landing, "landing/"+name+".html")
	return string(data), err
}
