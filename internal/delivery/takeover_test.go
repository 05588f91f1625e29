package delivery_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/push/apns/apnstest"
	"github.com/loyalpass/loyalpass/push/relay"
)

// TestRegisteringAnotherCardDoesNotTakeOverTheDevice registers one device
// library identifier for card A (Apple Wallet, token T1) and then, with
// card B's authentication and another wallet's scheme, for card B (token
// T2). A's pushes must still reach T1 over APNs, B's reach T2 over its
// relay, and a dead T2 must not end A's registration.
func TestRegisteringAnotherCardDoesNotTakeOverTheDevice(t *testing.T) {
	w := newWorld(t, 5*time.Second)
	serialA, authA := w.issue("+79123456789")
	serialB, authB := w.issue("+79123456780")
	t1 := strings.Repeat("a1", 32)
	t2 := "walletpasses-token-of-b"
	onA := &phone{w: w, device: "shared-device", scheme: "ApplePass", regPath: "registrations", token: t1}
	onB := &phone{w: w, device: "shared-device", scheme: "AndroidPass", regPath: "registrations", token: t2}

	if code := onA.register(serialA, authA); code != http.StatusCreated {
		t.Fatalf("register D for A = %d", code)
	}
	if code := onB.register(serialB, authB); code != http.StatusCreated {
		t.Fatalf("register D for B = %d", code)
	}
	// B's token cannot be used to register D for A, or to change A's row.
	if code := onB.register(serialA, authB); code != http.StatusUnauthorized {
		t.Fatalf("register D for A with B's token = %d", code)
	}

	type row struct{ token, channel string }
	rows := map[string]row{}
	q, err := w.db.Query(`SELECT serial_number, push_token, channel FROM registrations WHERE device_id = 'shared-device'`)
	if err != nil {
		t.Fatal(err)
	}
	for q.Next() {
		var serial string
		var r row
		if err := q.Scan(&serial, &r.token, &r.channel); err != nil {
			t.Fatal(err)
		}
		rows[serial] = r
	}
	q.Close()
	if rows[serialA] != (row{t1, string(relay.Apple)}) || rows[serialB] != (row{t2, string(relay.WalletPasses)}) || len(rows) != 2 {
		t.Fatalf("registrations of the device = %+v", rows)
	}

	w.earn(serialA, "a1", "10000")
	w.drain()
	reqs := w.apns.Requests()
	if len(reqs) != 1 || reqs[0].Token != t1 || reqs[0].Topic != w.typeID {
		t.Fatalf("APNs got %+v for a change of A, want one push to T1", reqs)
	}
	if got := w.relays.Tokens(relay.WalletPasses); len(got) != 0 {
		t.Fatalf("WalletPasses got %v for a change of A", got)
	}

	w.earn(serialB, "b1", "10000")
	w.drain()
	if got := w.relays.Tokens(relay.WalletPasses); len(got) != 1 || got[0] != t2 {
		t.Fatalf("WalletPasses got %v for a change of B, want [T2]", got)
	}
	if n := len(w.apns.Requests()); n != 1 {
		t.Fatalf("APNs got %d pushes after a change of B, want still 1", n)
	}

	// Re-registering D for B with a new token changes B's row only.
	onB.token = "walletpasses-token-of-b-2"
	if code := onB.register(serialB, authB); code != http.StatusOK {
		t.Fatalf("second register D for B = %d", code)
	}
	w.earn(serialA, "a2", "10000")
	w.drain()
	reqs = w.apns.Requests()
	if len(reqs) != 2 || reqs[1].Token != t1 {
		t.Fatalf("APNs got %+v after B's token changed, want a second push to T1", reqs)
	}

	// APNs says T1 is gone: A's registration ends, B's stays.
	w.apns.Respond(t1, apnstest.Response{Status: 410, Reason: "Unregistered", Timestamp: w.clock.Now().Add(time.Second)})
	w.earn(serialA, "a3", "10000")
	w.drain()
	var activeA, activeB int
	w.db.QueryRow(`SELECT COUNT(*) FROM registrations WHERE device_id = 'shared-device' AND serial_number = ? AND unregistered_at IS NULL`, serialA).Scan(&activeA)
	w.db.QueryRow(`SELECT COUNT(*) FROM registrations WHERE device_id = 'shared-device' AND serial_number = ? AND unregistered_at IS NULL`, serialB).Scan(&activeB)
	if activeA != 0 || activeB != 1 {
		t.Fatalf("after T1 went: A active %d, B active %d; want 0 and 1", activeA, activeB)
	}
}
