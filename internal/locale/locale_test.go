package locale_test

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/loyalpass/loyalpass/assets"
	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/locale/localetest"
)

func TestShippedLanguagesHaveEveryKey(t *testing.T) {
	c := locale.Shipped()
	if got := c.Tags(); !reflect.DeepEqual(got, []string{"en", "ru"}) {
		t.Fatalf("Tags = %v, want [en ru]", got)
	}
	// The list comes from the files: one file, one language.
	files, err := fs.Glob(assets.Locales, "locales/*.json")
	if err != nil || len(files) != len(c.Tags()) {
		t.Fatalf("%d message files, %d languages (%v)", len(files), len(c.Tags()), err)
	}
	want := c.Lang(locale.Fallback).Keys()
	for _, tag := range c.Tags() {
		if got := c.Lang(tag).Keys(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s keys differ from English:\n got %v\nwant %v", tag, got, want)
		}
		for key, text := range c.Lang(tag).Texts() {
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s: %q is empty", tag, key)
			}
		}
	}
}

func TestPlural(t *testing.T) {
	ru, en := locale.Shipped().Lang("ru"), locale.Shipped().Lang("en")
	tests := []struct {
		l    *locale.Lang
		n    int64
		want string
	}{
		{ru, 0, "0\u00a0баллов"},
		{ru, 1, "1\u00a0балл"},
		{ru, 2, "2\u00a0балла"},
		{ru, 5, "5\u00a0баллов"},
		{ru, 11, "11\u00a0баллов"},
		{ru, 12, "12\u00a0баллов"},
		{ru, 14, "14\u00a0баллов"},
		{ru, 21, "21\u00a0балл"},
		{ru, 22, "22\u00a0балла"},
		{ru, 111, "111\u00a0баллов"},
		{ru, 1234567, "1\u00a0234\u00a0567\u00a0баллов"},
		{ru, -3, "-3\u00a0балла"},
		{en, 0, "0\u00a0points"},
		{en, 1, "1\u00a0point"},
		{en, 1250, "1,250\u00a0points"},
		{en, -1000, "-1,000\u00a0points"},
	}
	for _, tt := range tests {
		if got := tt.l.Points(tt.n); got != tt.want {
			t.Errorf("%s Points(%d) = %q, want %q", tt.l.Tag(), tt.n, got, tt.want)
		}
	}
}

func TestExpiring(t *testing.T) {
	at := time.Date(2026, 12, 31, 10, 0, 0, 0, time.UTC)
	ru := locale.Shipped().Lang("ru")
	for n, want := range map[int64]string{
		1: "1 балл сгорит 31.12.2026", 21: "21 балл сгорит 31.12.2026", 3: "3 балла сгорят 31.12.2026",
		11: "11 баллов сгорят 31.12.2026", 112: "112 баллов сгорят 31.12.2026", 120: "120 баллов сгорят 31.12.2026",
	} {
		if got := ru.Expiring(n, at); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
	en := locale.Shipped().Lang("en")
	if got := en.Expiring(5, at); got != "5 points expire on 31 December 2026" {
		t.Errorf("en: %q", got)
	}
	if got := en.Expiring(1, at); got != "1 point expires on 31 December 2026" {
		t.Errorf("en one: %q", got)
	}
}

func TestEarnRate(t *testing.T) {
	c := locale.Shipped()
	tests := []struct {
		tag  string
		bp   int
		want string
	}{
		{"en", 500, "5% of every purchase"},
		{"en", 250, "2.5% of every purchase"},
		{"ru", 250, "2,5% от суммы каждой покупки"},
		{"en", 1, "0.01% of every purchase"},
		{"en", 1005, "10.05% of every purchase"},
		{"en", 10000, "100% of every purchase"},
		{"en", -150, "-1.5% of every purchase"},
	}
	for _, tt := range tests {
		if got := c.Lang(tt.tag).EarnRate(tt.bp); got != tt.want {
			t.Errorf("%s EarnRate(%d) = %q, want %q", tt.tag, tt.bp, got, tt.want)
		}
	}
}

// TestAddedLanguage adds a language as one file: it is listed, speaks
// its own words where it has them, and English where it has not.
func TestAddedLanguage(t *testing.T) {
	c := localetest.Pseudo(t)
	if got := c.Tags(); !reflect.DeepEqual(got, []string{"en", "ru", "xx"}) {
		t.Fatalf("Tags = %v", got)
	}
	xx := c.Lang("xx")
	at := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	for got, want := range map[string]string{
		xx.Text("balance"):                    "[Bálánce]",
		xx.Text("holder"):                     "Member", // not translated: English
		xx.EarnRate(250):                      "[2·5 pér cént]",
		xx.Points(1250):                       "[1_250 póints]",
		xx.Expiring(1, at):                    "[1 póint lápsés 2026/12/31]",
		xx.Text("optout_body", "org", "Shop"): "You will no longer receive SMS from “Shop”. You keep your card and your points.",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if got := xx.Texts()["terms"]; got != "Program terms" {
		t.Errorf("Texts()[terms] = %q, want the English fallback", got)
	}
	// An unknown language is the fallback.
	if got := c.Lang("de").Tag(); got != "en" {
		t.Errorf("Lang(de) = %s, want en", got)
	}
}

func TestLoadRejects(t *testing.T) {
	en := `{"plural":"one-other","decimal":".","date":"2006-01-02","messages":{"points":{"one":"{n} point","other":"{n} points"}}}`
	tests := map[string]fstest.MapFS{
		"no fallback":   {"ru.json": {Data: []byte(en)}},
		"unknown rule":  {"en.json": {Data: []byte(strings.Replace(en, "one-other", "klingon", 1))}},
		"missing form":  {"en.json": {Data: []byte(en)}, "ru.json": {Data: []byte(strings.Replace(en, "one-other", "east-slavic", 1))}},
		"bad tag":       {"en.json": {Data: []byte(en)}, "Ru.json": {Data: []byte(en)}},
		"unknown field": {"en.json": {Data: []byte(strings.Replace(en, `"date"`, `"dates"`, 1))}},
		"not a message": {"en.json": {Data: []byte(strings.Replace(en, `{"one":"{n} point","other":"{n} points"}`, `3`, 1))}},
	}
	for name, fsys := range tests {
		if _, err := locale.Load(fsys); err == nil {
			t.Errorf("%s: Load succeeded", name)
		}
	}
	if _, err := locale.Load(fstest.MapFS{"en.json": {Data: []byte(en)}}); err != nil {
		t.Errorf("minimal catalogue: %v", err)
	}
}

func TestMoney(t *testing.T) {
	c := locale.Shipped()
	for _, tt := range []struct {
		lang  string
		minor int64
		want  string
	}{
		{"ru", 125050, "1\u00a0250,50"},
		{"en", 125050, "1,250.50"},
		{"en", 5, "0.05"},
		{"en", -1999, "-19.99"},
	} {
		if got := c.Lang(tt.lang).Money(tt.minor); got != tt.want {
			t.Errorf("%s Money(%d) = %q, want %q", tt.lang, tt.minor, got, tt.want)
		}
	}
}

func TestMoneyIn(t *testing.T) {
	cat := locale.Shipped()
	tests := []struct {
		tag      string
		minor    int64
		currency string
		digits   int
		want     string
	}{
		{"ru", 300000, "RUB", 2, "3\u00a0000,00\u00a0₽"},
		{"en", 300050, "RUB", 2, "₽\u00a03,000.50"},
		{"ru", 5, "USD", 2, "0,05\u00a0$"},
		{"en", 1500, "JPY", 0, "¥\u00a01,500"},
		{"en", 1234, "CHF", 2, "CHF\u00a012.34"},
		{"ru", -150, "EUR", 2, "-1,50\u00a0€"},
	}
	for _, tt := range tests {
		if got := cat.Lang(tt.tag).MoneyIn(tt.minor, tt.currency, tt.digits); got != tt.want {
			t.Errorf("%s MoneyIn(%d, %s) = %q, want %q", tt.tag, tt.minor, tt.currency, got, tt.want)
		}
	}
}
