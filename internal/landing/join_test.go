package landing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/net/html"
)

var _ JoinSource = (*fakeJoin)(nil)

// fakeJoin is an in-memory JoinSource that records what it was asked.
type fakeJoin struct {
	mu       sync.Mutex
	program  JoinProgram
	requests []JoinRequest
	sendErr  error
	verify   func(phone, code string) (string, error)
}

func (f *fakeJoin) JoinProgram(ctx context.Context, code string) (JoinProgram, error) {
	if code != f.program.Code {
		return JoinProgram{}, ErrNotFound
	}
	return f.program, nil
}

func (f *fakeJoin) ReferralProgram(ctx context.Context, referral string) (JoinProgram, error) {
	if referral != "friend1" {
		return JoinProgram{}, ErrNotFound
	}
	p := f.program
	p.Referral, p.FriendPoints = referral, 50
	return p, nil
}

func (f *fakeJoin) SendCode(ctx context.Context, code string, r JoinRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	if f.sendErr != nil {
		return "", f.sendErr
	}
	return "+79123456789", nil
}

func (f *fakeJoin) Verify(ctx context.Context, code, phone, smsCode string) (string, error) {
	return f.verify(phone, smsCode)
}

func (f *fakeJoin) sent() []JoinRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]JoinRequest(nil), f.requests...)
}

func newJoinServer(t *testing.T) (*fakeJoin, http.Handler) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	src := &fakeJoin{program: JoinProgram{Code: "abc23def45", ProgramName: "Кофейные баллы", OrganizationName: "Кофейня «Зерно»",
		Locale: "ru", BackgroundColor: "#6b3e26", ForegroundColor: "#ffffff", WelcomeBonus: 100, AskName: true, AskBirthday: true}}
	src.verify = func(phone, code string) (string, error) {
		switch code {
		case "123456":
			return "https://cards.example.com/c/Tok3n", nil
		case "000000":
			return "", ErrCodeGone
		}
		return "", &WrongCodeError{Left: 2}
	}
	r := gin.New()
	j := NewJoin(src, nil)
	j.now = func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }
	j.Register(r)
	return src, r
}

func joinValues(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestJoinFormShowsWhatTheProgramAsks(t *testing.T) {
	_, h := newJoinServer(t)
	rec := do(t, h, request{path: "/j/abc23def45", lang: "ru"})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	for _, name := range []string{"phone", "name", "birthday", "consent_personal_data", "consent_ads", "website"} {
		if byID(doc, name) == nil {
			t.Errorf("#%s missing", name)
		}
	}
	for _, id := range []string{"consent_personal_data", "consent_ads"} {
		if n := byID(doc, id); hasAttr(n, "checked") {
			t.Errorf("#%s is pre-ticked", id)
		}
	}
	if got := attr(byID(doc, "join-form"), "action"); got != "/j/abc23def45" {
		t.Errorf("form action %q", got)
	}
	if got := textOf(byID(doc, "welcome")); got != "Бонус за регистрацию: 100 баллов" {
		t.Errorf("welcome = %q", got)
	}
	if got := textOf(byID(doc, "consent-pd-text")); !strings.Contains(got, "«Кофейня «Зерно»» согласие на обработку") {
		t.Errorf("consent text = %q", got)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") || !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("CSP %q", csp)
	}
	// English by Accept-Language; a program that asks no name shows none.
	rec = do(t, h, request{path: "/j/abc23def45", lang: "en-GB,en"})
	if got := textOf(byID(parseHTML(t, rec.Body.String()), "join-submit")); got != "Get a code" {
		t.Errorf("English button %q", got)
	}
	if rec := do(t, h, request{path: "/j/nope"}); rec.Code != http.StatusNotFound {
		t.Errorf("unknown join code: %d", rec.Code)
	}
}

func hasAttr(n *html.Node, key string) bool {
	if n == nil {
		return false
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func TestJoinFormRefusesAndKeepsWhatWasTyped(t *testing.T) {
	src, h := newJoinServer(t)
	tests := []struct {
		form  url.Values
		field string
		msg   string
	}{
		{joinValues("phone", "", "consent_personal_data", "yes"), "phone-error", "Укажите номер телефона."},
		{joinValues("phone", "+7 912 abc", "consent_personal_data", "yes"), "phone-error", "Это не похоже на номер мобильного телефона."},
		{joinValues("phone", "+79123456789"), "consent-error", "Без согласия на обработку персональных данных карту выдать нельзя."},
		{joinValues("phone", "+79123456789", "consent_personal_data", "yes", "birthday", "2090-01-01"), "birthday-error", "Укажите дату рождения в виде ГГГГ-ММ-ДД."},
		{joinValues("phone", "+79123456789", "consent_personal_data", "yes", "pd_version", "sha256:old"), "consent-error", "Текст согласия изменился. Прочитайте его и отметьте ещё раз."},
	}
	for _, tt := range tests {
		tt.form.Set("name", "Анна")
		rec := do(t, h, request{method: "POST", path: "/j/abc23def45", form: tt.form, lang: "ru"})
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%v: status %d, want 422", tt.form, rec.Code)
			continue
		}
		doc := parseHTML(t, rec.Body.String())
		if got := textOf(byID(doc, tt.field)); got != tt.msg {
			t.Errorf("%v: #%s = %q, want %q", tt.form, tt.field, got, tt.msg)
		}
		if got := attr(byID(doc, "name"), "value"); got != "Анна" {
			t.Errorf("%v: the name typed was lost: %q", tt.form, got)
		}
	}
	if n := len(src.sent()); n != 0 {
		t.Errorf("%d codes asked for by refused forms", n)
	}
}

func TestJoinFormSendsACodeAndShowsTheCodePage(t *testing.T) {
	src, h := newJoinServer(t)
	form := joinValues("phone", "8 912 345-67-89", "name", " Анна ", "birthday", "17.05.1990", "consent_personal_data", "yes",
		"consent_ads", "yes")
	rec := do(t, h, request{method: "POST", path: "/j/abc23def45", form: form, lang: "ru", ua: uaIPhoneSafari})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	sent := src.sent()
	if len(sent) != 1 {
		t.Fatalf("%d codes asked for", len(sent))
	}
	r := sent[0]
	if r.Phone != "8 912 345-67-89" || r.Name != "Анна" || r.Birthday != "1990-05-17" || r.Lang != "ru" ||
		!strings.Contains(r.PersonalDataText, "согласие на обработку") || !strings.Contains(r.AdsText, "рекламные") ||
		r.UserAgent != uaIPhoneSafari || r.IP == "" {
		t.Errorf("request = %+v", r)
	}
	doc := parseHTML(t, rec.Body.String())
	if got := attr(byID(doc, "code-form"), "action"); got != "/j/abc23def45/verify" {
		t.Errorf("code form posts to %q", got)
	}
	if got := attr(byID(doc, "code"), "autocomplete"); got != "one-time-code" {
		t.Errorf("code field autocomplete %q", got)
	}
	phone := find(byID(doc, "code-form"), func(n *html.Node) bool { return attr(n, "name") == "phone" })
	if got := attr(phone, "value"); got != "+79123456789" {
		t.Errorf("the code page carries the phone %q", got)
	}
	// Unticked ads consent is sent as no consent.
	form.Del("consent_ads")
	do(t, h, request{method: "POST", path: "/j/abc23def45", form: form})
	if got := src.sent()[1].AdsText; got != "" {
		t.Errorf("ads consent without the box: %q", got)
	}
}

func TestJoinHoneypotSendsNothing(t *testing.T) {
	src, h := newJoinServer(t)
	form := joinValues("phone", "+79123456789", "consent_personal_data", "yes", "website", "http://spam.example")
	rec := do(t, h, request{method: "POST", path: "/j/abc23def45", form: form})
	if rec.Code != http.StatusOK || byID(parseHTML(t, rec.Body.String()), "code-form") == nil {
		t.Errorf("a bot should see the code page: %d", rec.Code)
	}
	if n := len(src.sent()); n != 0 {
		t.Errorf("the honeypot let %d codes through", n)
	}
}

func TestJoinRateLimitAnswers429WithWhenToRetry(t *testing.T) {
	src, h := newJoinServer(t)
	src.sendErr = &RetryError{At: time.Date(2026, 3, 2, 10, 1, 30, 0, time.UTC)}
	form := joinValues("phone", "+79123456789", "consent_personal_data", "yes")
	rec := do(t, h, request{method: "POST", path: "/j/abc23def45", form: form, lang: "ru"})
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", rec.Code)
	}
	if got := rec.Header().Get("Retry-After"); got != "90" {
		t.Errorf("Retry-After %q, want 90", got)
	}
	doc := parseHTML(t, rec.Body.String())
	if got := textOf(byID(doc, "heading")); got != "Слишком много попыток" {
		t.Errorf("heading %q", got)
	}
	if !strings.Contains(rec.Body.String(), "Попробуйте ещё раз через 2 минуты.") {
		t.Errorf("the page does not say when: %s", rec.Body)
	}
	src.sendErr = &RetryError{At: time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC), Budget: true}
	rec = do(t, h, request{method: "POST", path: "/j/abc23def45", form: form, lang: "en"})
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "unavailable for today") {
		t.Errorf("budget spent: %d %s", rec.Code, rec.Body)
	}
	src.sendErr = ErrBadPhone
	rec = do(t, h, request{method: "POST", path: "/j/abc23def45", form: form, lang: "en"})
	if rec.Code != http.StatusUnprocessableEntity || textOf(byID(parseHTML(t, rec.Body.String()), "phone-error")) == "" {
		t.Errorf("a number the provider refuses: %d", rec.Code)
	}
}

func TestJoinVerify(t *testing.T) {
	_, h := newJoinServer(t)
	post := func(code string) *httptest.ResponseRecorder {
		return do(t, h, request{method: "POST", path: "/j/abc23def45/verify", lang: "en",
			form: joinValues("phone", "+79123456789", "code", code, "consent_personal_data", "yes")})
	}
	rec := post("123456")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "https://cards.example.com/c/Tok3n" {
		t.Errorf("a good code: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = post("654321")
	if rec.Code != http.StatusUnprocessableEntity || textOf(byID(parseHTML(t, rec.Body.String()), "code-error")) != "Wrong code. 2 tries left." {
		t.Errorf("a wrong code: %d %s", rec.Code, rec.Body)
	}
	rec = post("000000")
	if rec.Code != http.StatusGone || !strings.Contains(rec.Body.String(), "Ask for a new one") {
		t.Errorf("a dead code: %d", rec.Code)
	}
	rec = post("12ab")
	if rec.Code != http.StatusUnprocessableEntity || textOf(byID(parseHTML(t, rec.Body.String()), "code-error")) != "Enter the 6 digits from the SMS." {
		t.Errorf("not a code: %d", rec.Code)
	}
	// Another site's page cannot post the forms.
	rec = do(t, h, request{method: "POST", path: "/j/abc23def45/verify", header: map[string]string{"Sec-Fetch-Site": "cross-site"},
		form: joinValues("phone", "+79123456789", "code", "123456")})
	if rec.Code != http.StatusForbidden {
		t.Errorf("cross-site verify: %d", rec.Code)
	}
}

func TestReferralLinkOpensTheJoinFormWithTheReferral(t *testing.T) {
	src, h := newJoinServer(t)
	rec := do(t, h, request{path: "/r/friend1", lang: "ru"})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	if !strings.Contains(body, `name="ref" value="friend1"`) {
		t.Error("the form does not carry the referral")
	}
	if got := textOf(byID(parseHTML(t, body), "referral")); got != "Вас пригласил друг: после первой покупки вы получите 50 баллов." {
		t.Errorf("referral banner %q", got)
	}
	form := joinValues("phone", "+79123456789", "consent_personal_data", "yes", "ref", "friend1")
	do(t, h, request{method: "POST", path: "/j/abc23def45", form: form})
	if got := src.sent(); len(got) != 1 || got[0].Referral != "friend1" {
		t.Errorf("sent %+v", got)
	}
	if rec := do(t, h, request{path: "/r/unknown"}); rec.Code != http.StatusNotFound {
		t.Errorf("unknown referral: %d", rec.Code)
	}
}
