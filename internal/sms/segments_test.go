package sms_test

import (
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/sms"
)

func TestCount(t *testing.T) {
	cyr := func(n int) string { return strings.Repeat("ж", n) }
	tests := []struct {
		name    string
		text    string
		enc     string
		units   int
		parts   int
		perPart int
	}{
		// The four examples of sms-and-winback.md §5.
		{"ru short link", "Кофейня: скучаем! Дарим 300 баллов на карту: ex.ru/c/Ab3dE9", sms.UCS2, 59, 1, 70},
		{"ru with «» — and unsubscribe link",
			"Кофейня «Зерно»: скучаем! Дарим 300 баллов — добавьте карту: https://ex.ru/c/Ab3dE9 Отписка: ex.ru/u",
			sms.UCS2, 100, 2, 67},
		{"transliterated", "Kofeinya: skuchaem! Darim 300 ballov: https://ex.ru/c/Ab3dE9 Otkaz: STOP", sms.GSM7, 72, 1, 160},
		{"ru with emoji", "Кофейня: дарим 300 баллов 🎁 ex.ru/c/Ab3dE9", sms.UCS2, 43, 1, 70},

		{"empty", "", sms.GSM7, 0, 0, 160},
		{"70 Cyrillic is one part", cyr(70), sms.UCS2, 70, 1, 70},
		{"71 Cyrillic is two parts", cyr(71), sms.UCS2, 71, 2, 67},
		{"134 Cyrillic is two parts", cyr(134), sms.UCS2, 134, 2, 67},
		{"135 Cyrillic is three parts", cyr(135), sms.UCS2, 135, 3, 67},
		{"160 Latin is one part", strings.Repeat("a", 160), sms.GSM7, 160, 1, 160},
		{"161 Latin is two parts", strings.Repeat("a", 161), sms.GSM7, 161, 2, 153},
		{"306 Latin is two parts", strings.Repeat("a", 306), sms.GSM7, 306, 2, 153},
		{"307 Latin is three parts", strings.Repeat("a", 307), sms.GSM7, 307, 3, 153},
		{"euro costs two septets", "Price: 5€", sms.GSM7, 10, 1, 160},
		{"bracket costs two septets", "[x]", sms.GSM7, 5, 1, 160},
		{"every extension character", "\f^{}\\[~]|€", sms.GSM7, 20, 1, 160},
		{"159 plus euro overflows", strings.Repeat("a", 159) + "€", sms.GSM7, 161, 2, 153},
		{"80 euros fill one part", strings.Repeat("€", 80), sms.GSM7, 160, 1, 160},
		// 152 septets then "€": the escape pair may not straddle the
		// boundary, so part 1 carries 152 and the pair opens part 2.
		{"escape pair not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 150), sms.GSM7, 304, 2, 153},
		{"escape pair moved to a third part", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), sms.GSM7, 306, 3, 153},
		{"GSM accented letters", "Café Ñoño ÄÖÜ äöü à è é ù ì ò Ç ¿¡ £¥§", sms.GSM7, 38, 1, 160},
		{"Greek capitals are GSM", "ΔΦΓΛΩΠΨΣΘΞ", sms.GSM7, 10, 1, 160},
		{"one ç makes it UCS-2", "Garçon", sms.UCS2, 6, 1, 70},
		{"one ú makes it UCS-2", "Ñandú", sms.UCS2, 5, 1, 70},
		{"curly quote makes it UCS-2", "Don’t", sms.UCS2, 5, 1, 70},
		{"emoji is two units", "🎁", sms.UCS2, 2, 1, 70},
		{"35 emoji are one part", strings.Repeat("🎁", 35), sms.UCS2, 70, 1, 70},
		// 66 units then an emoji: the surrogate pair may not straddle the
		// boundary, so part 1 carries 66 and the pair opens part 2.
		{"surrogate pair not split", cyr(66) + "🎁" + cyr(64), sms.UCS2, 132, 2, 67},
		{"surrogate pair moved to a third part", cyr(66) + "🎁" + cyr(66), sms.UCS2, 134, 3, 67},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sms.Count(tt.text)
			want := sms.Segments{Encoding: tt.enc, Units: tt.units, Parts: tt.parts, PerPart: tt.perPart}
			if got != want {
				t.Errorf("Count(%q) = %+v, want %+v", tt.text, got, want)
			}
		})
	}
}

// TestWinBackBudget pins the reference's budget: a Russian win-back text
// with a short own-domain link fits one UCS-2 part.
func TestWinBackBudget(t *testing.T) {
	text := "Кофейня «Зерно»: скучаем! 300 баллов ждут вас: ex.ru/c/Ab3dE9"
	if s := sms.Count(text); s.Parts != 1 || s.Units > 70 {
		t.Errorf("Count = %+v, want one part of at most 70 units", s)
	}
}
