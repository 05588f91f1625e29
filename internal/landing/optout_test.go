package landing

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

var confirmForm = url.Values{"confirm": {"yes"}}

func TestOptOutGetDoesNotOptOut(t *testing.T) {
	src := newFakeSource(testPage())
	h, _ := newTestServer(t, src)
	// A link previewer, a prefetcher and a curious customer all GET.
	for _, ua := range []string{uaWhatsAppPreview, uaIPhoneSafari, "TelegramBot (like TwitterBot)"} {
		rec := do(t, h, request{path: "/c/" + testToken + "/optout", ua: ua, lang: "ru"})
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		doc := parseHTML(t, rec.Body.String())
		form := byTag(doc, "form")
		if attr(form, "method") != "post" || attr(form, "action") != "/c/"+testToken+"/optout" {
			t.Errorf("form method %q action %q", attr(form, "method"), attr(form, "action"))
		}
		if got := textOf(byID(doc, "optout-confirm")); got != "Отписаться" {
			t.Errorf("confirm button %q", got)
		}
		if !strings.Contains(textOf(doc), "Кофейня «Зерно»") {
			t.Error("the form does not say whose SMS stop")
		}
	}
	if n := src.optOutCount(testToken); n != 0 {
		t.Fatalf("GET opted out %d times", n)
	}
}

func TestOptOutPost(t *testing.T) {
	src := newFakeSource(testPage())
	h, logs := newTestServer(t, src)
	rec := do(t, h, request{method: http.MethodPost, path: "/c/" + testToken + "/optout", lang: "en", form: confirmForm,
		header: map[string]string{"Sec-Fetch-Site": "same-origin"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if n := src.optOutCount(testToken); n != 1 {
		t.Fatalf("OptOut called %d times, want 1", n)
	}
	if body := textOf(parseHTML(t, rec.Body.String())); !strings.Contains(body, "You will not receive SMS from “Кофейня «Зерно»” any more") {
		t.Errorf("confirmation text missing: %s", body)
	}
	// Now the card page and the form both say so.
	doc := parseHTML(t, do(t, h, request{path: "/c/" + testToken, lang: "ru"}).Body.String())
	if byID(doc, "opted-out") == nil || byID(doc, "optout") != nil {
		t.Error("the card page still offers the opt-out")
	}
	doc = parseHTML(t, do(t, h, request{path: "/c/" + testToken + "/optout", lang: "ru"}).Body.String())
	if byTag(doc, "form") != nil || !strings.Contains(textOf(doc), "Вы больше не будете получать SMS") {
		t.Error("the opt-out page of an opted-out customer should confirm, not ask")
	}
	// Posting again changes nothing.
	do(t, h, request{method: http.MethodPost, path: "/c/" + testToken + "/optout", form: confirmForm})
	if n := src.optOutCount(testToken); n != 1 {
		t.Errorf("a second POST called OptOut again (%d)", n)
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the token reached the log: %s", logs)
	}
}

func TestOptOutPostRefused(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		form   url.Values
		header map[string]string
		want   int
	}{
		{"no confirmation", "/c/" + testToken + "/optout", url.Values{}, nil, http.StatusBadRequest},
		{"cross-site form", "/c/" + testToken + "/optout", confirmForm, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"unknown token", "/c/nope/optout", confirmForm, nil, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFakeSource(testPage())
			h, _ := newTestServer(t, src)
			rec := do(t, h, request{method: http.MethodPost, path: tt.path, form: tt.form, header: tt.header})
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d", rec.Code, tt.want)
			}
			if n := src.optOutCount(testToken); n != 0 {
				t.Errorf("opted out %d times", n)
			}
		})
	}
}
