package relay_test

import (
	"net"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/relay"
)

// TestPassWalletRelayOnLoopbackIsRefused: a device registers a
// pushServiceUrl on 127.0.0.1, localhost or [::1]. Without the operator's
// allow-list the push fails with a reason in words and the listener there
// sees no connection; with loopback allowed the same push arrives.
func TestPassWalletRelayOnLoopbackIsRefused(t *testing.T) {
	v4 := netguardtest.Listen(t, "127.0.0.1:0")
	v6 := netguardtest.Listen(t, "[::1]:0")
	targets := []struct {
		url      string
		listener *netguardtest.Listener
	}{
		{"http://127.0.0.1:" + v4.Port + "/PassWallet", v4},
		{"http://localhost:" + v4.Port + "/PassWallet", v4},
		{"http://[::1]:" + v6.Port + "/PassWallet", v6},
		{"http://[::ffff:127.0.0.1]:" + v4.Port + "/PassWallet", v4},
	}
	strict, err := relay.New(relay.Options{}) // the default guard
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range targets {
		got := strict.Push(t.Context(), relay.PassWallet, passType, tt.url, []string{"t1", "t2"})
		for _, r := range got {
			if r.Outcome != push.Failed || r.Reason != "refused: loopback address" {
				t.Errorf("push to %s: %+v, want Failed \"refused: loopback address\"", tt.url, r)
			}
		}
	}
	// Push waits for the relay's answer, so a call that had connected
	// would be counted by now.
	if v4.Conns() != 0 || v6.Conns() != 0 {
		t.Fatalf("refused pushes connected: 127.0.0.1 %d, ::1 %d", v4.Conns(), v6.Conns())
	}

	open := newRelays(t, nil, relay.Options{Vendors: map[relay.Vendor]relay.Config{}}) // loopback allowed
	for _, tt := range targets {
		before := tt.listener.Requests()
		wantAll(t, open.Push(t.Context(), relay.PassWallet, passType, tt.url, []string{"t1"}), []string{"t1"}, push.Delivered)
		if tt.listener.Requests() != before+1 {
			t.Errorf("allowed push to %s did not arrive", tt.url)
		}
	}
	// Every request the listeners saw came from the allowed pushes (3 to
	// 127.0.0.1, 1 to ::1).
	if v4.Requests() != 3 || v6.Requests() != 1 || v4.Conns() > 3 || v6.Conns() != 1 {
		t.Errorf("127.0.0.1: %d conns %d requests; ::1: %d conns %d requests; want only the allowed pushes",
			v4.Conns(), v4.Requests(), v6.Conns(), v6.Requests())
	}
}

// TestRelayRefusedAfterDNS: a configured relay base URL gets no URL
// check, only the dial-time one, which refuses the address the name
// resolves to.
func TestRelayRefusedAfterDNS(t *testing.T) {
	v4 := netguardtest.Listen(t, "127.0.0.1:0")
	r, err := relay.New(relay.Options{Vendors: map[relay.Vendor]relay.Config{
		relay.Passworks: {BaseURL: "http://localhost:" + v4.Port, APIKey: "k"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := r.Push(t.Context(), relay.Passworks, passType, "", []string{"t1"})[0]
	if got.Outcome != push.Failed || got.Reason != "refused: loopback address" {
		t.Errorf("Push = %+v", got)
	}
	if v4.Conns() != 0 {
		t.Errorf("the listener saw %d connections", v4.Conns())
	}
}

// TestRelayErrorsHideTheNetwork: a closed port's reason says neither the
// address nor "connection refused", so a device cannot scan ports with
// the pushServiceUrl it registers.
func TestRelayErrorsHideTheNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := newRelays(t, nil, relay.Options{Vendors: map[relay.Vendor]relay.Config{}}) // loopback allowed
	got := r.Push(t.Context(), relay.PassWallet, passType, "http://"+addr+"/PassWallet", []string{"t1"})[0]
	if got.Outcome != push.Retry || got.Reason != "network: connection failed" || strings.Contains(got.Reason, addr) {
		t.Errorf("Push = %+v, want Retry \"network: connection failed\"", got)
	}
}
