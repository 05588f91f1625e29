package delivery_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/fcm/fcmtest"
)

// flakyFCM fails the sends to one token with a passing error a number of
// times before letting them through to the real sender.
type flakyFCM struct {
	next  delivery.FCMSender
	mu    sync.Mutex
	token string
	fails int
}

func (f *flakyFCM) Send(ctx context.Context, tokens []string, data map[string]string) []push.Result {
	results := make([]push.Result, len(tokens))
	var pass []string
	var index []int
	f.mu.Lock()
	for i, tok := range tokens {
		if tok == f.token && f.fails > 0 {
			f.fails--
			results[i] = push.Result{Token: tok, Outcome: push.Retry, Reason: "UNAVAILABLE: test"}
			continue
		}
		pass, index = append(pass, tok), append(index, i)
	}
	f.mu.Unlock()
	if len(pass) > 0 {
		for j, r := range f.next.Send(ctx, pass, data) {
			results[index[j]] = r
		}
	}
	return results
}

var _ delivery.FCMSender = (*flakyFCM)(nil)

// TestFCMThroughTheServer registers a merchant app's tokens through the
// API, earns, and checks the data messages at the fake FCM over the SDK:
// an UNREGISTERED token is removed, a passing failure retried through the
// outbox, and a deleted token gets nothing.
func TestFCMThroughTheServer(t *testing.T) {
	flaky := &flakyFCM{token: "app-flaky:APA91b"}
	w := newGoogleWorld(t, func(s delivery.FCMSender) delivery.FCMSender { flaky.next = s; return flaky })
	serial, _ := w.issue("+79123456789")
	tokens := []string{"app-ok:APA91bHPRgkF", "app-uninstalled:APA91bX", "app-flaky:APA91b"}
	for _, tok := range tokens {
		if res := w.merchant("POST", "/api/v1/cards/"+serial+"/fcm-tokens", `{"token":"`+tok+`"}`, ""); res["token"] != tok {
			t.Fatalf("register %s = %v", tok, res)
		}
	}
	h := map[string]string{"Authorization": "Bearer " + w.key, "Content-Type": "application/json"}
	if rec := w.do("POST", "/api/v1/cards/"+serial+"/fcm-tokens", h, `{"token":"`+tokens[0]+`"}`); rec.Code != http.StatusOK {
		t.Fatalf("registering again = %d, want 200", rec.Code)
	}
	if rec := w.do("POST", "/api/v1/cards/"+serial+"/fcm-tokens", h, `{"token":"bad token/"}`); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad token = %d, want 422", rec.Code)
	}
	w.fcm.Fail(tokens[1], fcmtest.Unregistered)
	flaky.fails = 1

	w.earn(serial, "earn-1", "10000")
	w.drain()
	card := w.merchant("GET", "/api/v1/cards/"+serial, "", "")
	balance, version := strconv.Itoa(int(card["balance"].(float64))), strconv.Itoa(int(card["version"].(float64)))
	reqs := w.fcm.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d messages at FCM, want 2 (the flaky token failed before the wire)", len(reqs))
	}
	for _, r := range reqs {
		m := r.Message
		if r.Project != "loyalpass-test" || m.Android.Priority != "high" || len(m.Data) != 3 ||
			m.Data["serial_number"] != serial || m.Data["balance"] != balance || m.Data["version"] != version {
			t.Errorf("message to %s: project %s, %+v", m.Token, r.Project, m)
		}
	}
	registered := func(tok string) (ok bool) {
		var n int
		w.db.QueryRow(`SELECT COUNT(*) FROM fcm_tokens WHERE serial_number = ? AND token = ?`, serial, tok).Scan(&n)
		return n == 1
	}
	if registered(tokens[1]) {
		t.Error("UNREGISTERED token kept")
	}
	if !registered(tokens[0]) || !registered(tokens[2]) {
		t.Error("a live token was removed")
	}

	// The flaky token's message waits in the outbox and goes out after
	// the back-off, with the card as it is then.
	var pending int
	w.db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE topic = 'push.retry' AND payload LIKE '%"channel":"fcm"%'
		AND done_at IS NULL AND NOT dead`).Scan(&pending)
	if pending != 1 {
		t.Fatalf("%d fcm retries pending, want 1", pending)
	}
	w.clock.Advance(2 * time.Minute)
	w.drain()
	reqs = w.fcm.Requests()
	if len(reqs) != 3 || reqs[2].Message.Token != tokens[2] || reqs[2].Message.Data["version"] != version {
		t.Fatalf("after the retry: %d messages, last %+v", len(reqs), reqs[len(reqs)-1].Message)
	}

	// A deleted token gets nothing; deleting it again is 404.
	h = map[string]string{"Authorization": "Bearer " + w.key}
	if rec := w.do("DELETE", "/api/v1/cards/"+serial+"/fcm-tokens/"+tokens[2], h, ""); rec.Code != http.StatusNoContent {
		t.Fatalf("delete token = %d", rec.Code)
	}
	if rec := w.do("DELETE", "/api/v1/cards/"+serial+"/fcm-tokens/"+tokens[2], h, ""); rec.Code != http.StatusNotFound {
		t.Fatalf("delete again = %d", rec.Code)
	}
	w.earn(serial, "earn-2", "10000")
	w.drain()
	reqs = w.fcm.Requests()
	if len(reqs) != 4 || reqs[3].Message.Token != tokens[0] {
		t.Fatalf("after the second earn: %d messages, last to %s", len(reqs), reqs[len(reqs)-1].Message.Token)
	}
}
