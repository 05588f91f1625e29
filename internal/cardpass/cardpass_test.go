package cardpass

import (
	"testing"
	"time"
)

func TestExpiryFieldSpeaksRussianPlurals(t *testing.T) {
	at := time.Date(2026, 12, 31, 10, 0, 0, 0, time.UTC)
	for n, want := range map[int64]string{
		1: "1 балл сгорит 31.12.2026", 21: "21 балл сгорит 31.12.2026", 3: "3 балла сгорят 31.12.2026",
		11: "11 баллов сгорят 31.12.2026", 112: "112 баллов сгорят 31.12.2026", 120: "120 баллов сгорят 31.12.2026",
	} {
		if got := expiryField("ru", n, at).Value; got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
	if got := expiryField("en", 5, at).Value; got != "5 points expire on 31 December 2026" {
		t.Errorf("en: %q", got)
	}
}
