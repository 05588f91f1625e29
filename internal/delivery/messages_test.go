package delivery_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestLockScreenMessages sends a message to one card and one to a whole
// program: each pass gets a message field with a changeMessage, and every
// installed device is pushed.
func TestLockScreenMessages(t *testing.T) {
	w := newWorld(t, 5*time.Second)
	serial, authToken := w.issue("+79123456789")
	p := &phone{w: w, device: "dev", scheme: "ApplePass", regPath: "registrations", token: strings.Repeat("cd", 32)}
	if code := p.register(serial, authToken); code != 201 {
		t.Fatal(code)
	}
	w.drain()

	res := w.merchant("POST", "/api/v1/cards/"+serial+"/messages", `{"text":"Двойные баллы до воскресенья!"}`, "")
	if res["warning"] != "" || res["length"] != 29.0 {
		t.Fatalf("message answer = %v", res)
	}
	w.drain()
	if n := len(w.apns.Requests()); n != 1 {
		t.Fatalf("%d pushes after a card message", n)
	}
	_, pkpass := p.fetch(serial, authToken)
	back := passJSON(t, pkpass)["storeCard"].(map[string]any)["backFields"].([]any)
	msg := back[0].(map[string]any)
	if msg["value"] != "Двойные баллы до воскресенья!" || msg["changeMessage"] != "%@" {
		t.Fatalf("first back field = %v", msg)
	}

	// A whole program: the card's program gets a new message.
	prog := w.merchant("GET", "/api/v1/cards/"+serial, "", "")["program_id"].(string)
	res = w.merchant("POST", "/api/v1/programs/"+prog+"/messages", `{"text":"`+strings.Repeat("а", 100)+`"}`, "")
	if res["cards"] != 1.0 || res["warning"] == "" {
		t.Fatalf("program message answer = %v", res)
	}
	w.drain()
	if n := len(w.apns.Requests()); n != 2 {
		t.Fatalf("%d pushes after a program message, want 2 in all", n)
	}
	rec := w.do("POST", "/api/v1/cards/"+serial+"/messages", map[string]string{"Authorization": "Bearer " + w.key,
		"Content-Type": "application/json"}, `{"text":"`+strings.Repeat("x", 261)+`"}`)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `"field":"text"`) {
		t.Fatalf("261 characters = %d %s", rec.Code, rec.Body.String())
	}
}
