package delivery_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

// TestAPNsFaults scripts the fake APNs per token and checks what the
// worker does with each answer: dead tokens unregistered, passing failures
// retried until they succeed or become dead letters, nothing lost.
func TestAPNsFaults(t *testing.T) {
	w := newWorld(t, 300*time.Millisecond)
	answers := map[string]apnstest.Response{
		"gone":      {Status: 410, Reason: "Unregistered", Timestamp: time.Now().Add(time.Hour)},
		"bad":       {Status: 400, Reason: "BadDeviceToken"},
		"throttled": {Status: 429, Reason: "TooManyRequests"},
		"broken":    {Status: 500, Reason: "InternalServerError"},
		"hangs":     {Hang: true},
		"ok":        {},
	}
	serials := map[string]string{}
	for i, name := range []string{"gone", "bad", "throttled", "broken", "hangs", "ok"} {
		serial, authToken := w.issue(fmt.Sprintf("+7912345670%d", i))
		serials[name] = serial
		token := fmt.Sprintf("%x", name+"-token-pad-to-be-long-enough")
		p := &phone{w: w, device: "dev-" + name, scheme: "ApplePass", regPath: "registrations", token: token}
		if code := p.register(serial, authToken); code != 201 {
			t.Fatalf("register %s = %d", name, code)
		}
		w.apns.Respond(token, answers[name])
		w.earn(serial, "earn-"+name, "10000")
	}
	w.drain()

	active := func(name string) bool {
		var n int
		w.db.QueryRow(`SELECT COUNT(*) FROM registrations WHERE serial_number = ? AND unregistered_at IS NULL`, serials[name]).Scan(&n)
		return n == 1
	}
	pending := func(name string) (n int, dead int) {
		w.db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(dead), 0) FROM outbox WHERE topic = 'push.retry' AND serial_number = ? AND done_at IS NULL`, serials[name]).Scan(&n, &dead)
		return n, dead
	}
	for _, name := range []string{"gone", "bad"} {
		if active(name) {
			t.Errorf("%s: registration kept after a dead-token answer", name)
		}
	}
	for _, name := range []string{"throttled", "broken", "hangs", "ok"} {
		if !active(name) {
			t.Errorf("%s: registration removed", name)
		}
	}
	for _, name := range []string{"throttled", "broken", "hangs"} {
		if n, dead := pending(name); n != 1 || dead != 0 {
			t.Errorf("%s: %d retry rows (%d dead), want 1 pending retry", name, n, dead)
		}
	}
	if n, _ := pending("ok"); n != 0 {
		t.Errorf("ok: %d retries", n)
	}

	// APNs recovers for two of them: the retries deliver, nothing is lost.
	w.apns.Respond(fmt.Sprintf("%x", "throttled-token-pad-to-be-long-enough"), apnstest.Response{})
	w.apns.Respond(fmt.Sprintf("%x", "hangs-token-pad-to-be-long-enough"), apnstest.Response{})
	w.clock.Advance(2 * time.Minute) // past the back-off
	w.drain()
	for _, name := range []string{"throttled", "hangs"} {
		if n, _ := pending(name); n != 0 {
			t.Errorf("%s: still %d retries after APNs recovered", name, n)
		}
	}
	// The one that keeps failing becomes a dead letter after MaxAttempts
	// (3), visible through the API.
	for range 3 {
		w.clock.Advance(2 * time.Minute)
		w.drain()
	}
	if n, dead := pending("broken"); n != 1 || dead != 1 {
		t.Fatalf("broken: %d rows, %d dead; want one dead letter", n, dead)
	}
	letters := w.merchant("GET", "/api/v1/dead-letters", "", "")["dead_letters"].([]any)
	if len(letters) != 1 || letters[0].(map[string]any)["serial_number"] != serials["broken"] {
		t.Fatalf("dead letters = %v", letters)
	}
}
