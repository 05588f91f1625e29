package smstest

import (
	"net/url"
	"testing"
)

// TestSign checks the fake's signer against the example of Twilio's
// webhook-security docs, so the fake signs exactly as Twilio does.
func TestSign(t *testing.T) {
	form := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675310"}, "Digits": {"1234"},
		"From": {"+14158675310"}, "To": {"+18005551212"}}
	if got := Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form); got != "GvWf1cFY/Q7PnoempGyD5oXAezc=" {
		t.Errorf("Sign = %q, want Twilio's GvWf1cFY/Q7PnoempGyD5oXAezc=", got)
	}
}

func TestRoughSegments(t *testing.T) {
	for text, want := range map[string]int{"hi": 1, "привет": 1} {
		if got := roughSegments(text); got != want {
			t.Errorf("roughSegments(%q) = %d, want %d", text, got, want)
		}
	}
	long := make([]rune, 71)
	for i := range long {
		long[i] = 'ж'
	}
	if got := roughSegments(string(long)); got != 2 {
		t.Errorf("71 Cyrillic: %d parts, want 2", got)
	}
}

func TestFailNumber(t *testing.T) {
	r := newRecorder(t)
	r.FailNumber("+79123456789", OptedOut)
	if r.failureFor("79123456789") != OptedOut || r.failureFor("+79123456789") != OptedOut {
		t.Error("a failure set in E.164 must match the digits too")
	}
	r.FailNumber("79123456789", "")
	if r.failureFor("+79123456789") != "" {
		t.Error("an empty failure must clear it")
	}
}
