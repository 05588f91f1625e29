package outreach_test

import (
	"testing"

	"github.com/loyalpass/loyalpass/internal/locale/localetest"
	"github.com/loyalpass/loyalpass/internal/outreach"
	"github.com/loyalpass/loyalpass/internal/sms"
)

func TestRenderText(t *testing.T) {
	cat := localetest.Pseudo(t)
	tests := []struct {
		template string
		fill     outreach.Fill
		want     string
	}{
		// Templates without {points} read as they always did.
		{"{name}, дарим {bonus} баллов: {link}", outreach.Fill{Name: "Анна", Bonus: 50, Link: "https://k.ru/c/x"},
			"Анна, дарим 50 баллов: https://k.ru/c/x"},
		{"{name}, дарим {bonus}: {link}", outreach.Fill{Bonus: 50, Link: "L"}, "дарим 50: L"},
		{"Дарим {points}: {link}", outreach.Fill{Bonus: 21, Link: "L"}, "Дарим 21 балл: L"},
		{"Дарим {points}: {link}", outreach.Fill{Bonus: 1250, Link: "L", Lang: cat.Lang("ru")}, "Дарим 1 250 баллов: L"},
		{"Here are {points}: {link}", outreach.Fill{Bonus: 1, Link: "L", Lang: cat.Lang("en")}, "Here are 1 point: L"},
		{"Here are {points}: {link}", outreach.Fill{Bonus: 1500, Link: "L", Lang: cat.Lang("en")}, "Here are 1,500 points: L"},
		{"{points} {link}", outreach.Fill{Bonus: 50, Link: "L", Lang: cat.Lang("xx")}, "[50 póints] L"},
	}
	for _, tt := range tests {
		got := outreach.RenderText(tt.template, tt.fill)
		if got != tt.want {
			t.Errorf("RenderText(%q) = %q, want %q", tt.template, got, tt.want)
		}
	}
	// No no-break space: it would make an English text UCS-2.
	if seg := sms.Count(outreach.RenderText("{points} {link}", outreach.Fill{Bonus: 1500, Lang: cat.Lang("en")})); seg.Encoding != "GSM-7" {
		t.Errorf("English {points} is %s, want GSM-7", seg.Encoding)
	}
}

func TestUnknownPlaceholder(t *testing.T) {
	tests := []struct{ template, want string }{
		{"{name}, дарим {points}: {link}", ""},
		{"Дарим {bonus} баллов", ""},
		{"Привет, {nmae}!", "{nmae}"},
		{"{link} {}", "{}"},
		{"no placeholders at all", ""},
	}
	for _, tt := range tests {
		if got := outreach.UnknownPlaceholder(tt.template); got != tt.want {
			t.Errorf("UnknownPlaceholder(%q) = %q, want %q", tt.template, got, tt.want)
		}
	}
	if outreach.CheckPlaceholders("{name} {oops}") == nil {
		t.Error("CheckPlaceholders let {oops} through")
	}
}
