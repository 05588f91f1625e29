package delivery_test

import (
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/push/apns"
	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

// TestObserveCountsPushOutcomes checks that the worker reports each
// device push's channel and outcome, as the metrics count them.
func TestObserveCountsPushOutcomes(t *testing.T) {
	w := newWorld(t, 300*time.Millisecond)
	_, material := devChain(t)
	cert := material.TLSCertificate()
	client, err := apns.New(apns.Options{Certificate: &cert, Topic: material.PassTypeID, Host: w.apns.URL,
		RootCAs: w.apns.CertPool(), Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]int{}
	w.worker = delivery.New(delivery.Options{Store: delivery.StoreOf(w.store), Apple: client, PassTypeID: w.typeID, MaxAttempts: 2,
		Backoff: func(int) time.Duration { return time.Minute }, Now: w.clock.Now,
		Observe: func(channel, outcome string) {
			mu.Lock()
			defer mu.Unlock()
			got[channel+"/"+outcome]++
		}})
	answers := map[string]apnstest.Response{
		"ok":     {},
		"gone":   {Status: 410, Reason: "Unregistered", Timestamp: time.Now().Add(time.Hour)},
		"broken": {Status: 500, Reason: "InternalServerError"},
	}
	i := 0
	for name, answer := range answers {
		serial, authToken := w.issue(fmt.Sprintf("+7912345671%d", i))
		i++
		token := fmt.Sprintf("%x", name+"-observed-token-padding")
		p := &phone{w: w, device: "dev-" + name, scheme: "ApplePass", regPath: "registrations", token: token}
		if code := p.register(serial, authToken); code != 201 {
			t.Fatalf("register %s = %d", name, code)
		}
		w.apns.Respond(token, answer)
		w.earn(serial, "earn-"+name, "10000")
	}
	w.drain()
	w.clock.Advance(2 * time.Minute)
	w.drain() // the broken one's second and last attempt
	want := map[string]int{"apple/delivered": 1, "apple/gone": 1, "apple/retry": 1, "apple/dead": 1}
	mu.Lock()
	defer mu.Unlock()
	if !maps.Equal(got, want) {
		t.Fatalf("observed %v, want %v", got, want)
	}
}
