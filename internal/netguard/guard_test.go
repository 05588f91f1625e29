package netguard_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/netguard"
	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
)

// TestDialRefusesLoopback points a guarded client at loopback listeners by
// address and by name: nothing connects, and the error says why in words.
// With the addresses on the allow-list the same calls get through.
func TestDialRefusesLoopback(t *testing.T) {
	v4 := netguardtest.Listen(t, "127.0.0.1:0")
	v6 := netguardtest.Listen(t, "[::1]:0")
	strict := netguard.New(netguard.Options{}).Client(5 * time.Second)
	urls := []string{
		"http://127.0.0.1:" + v4.Port + "/hook",
		"http://localhost:" + v4.Port + "/hook", // resolved by DNS, refused on the address
		"http://[::1]:" + v6.Port + "/hook",
		"http://[::ffff:127.0.0.1]:" + v4.Port + "/hook",
	}
	for _, u := range urls {
		resp, err := strict.Get(u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s got through: %s", u, resp.Status)
		}
		var refused *netguard.RefusedError
		if !errors.As(err, &refused) || refused.Class != netguard.Loopback {
			t.Errorf("GET %s: %v, want a loopback refusal", u, err)
		}
		if got := netguard.Describe(err); got != "refused: loopback address" {
			t.Errorf("Describe = %q", got)
		}
	}
	if v4.Conns() != 0 || v6.Conns() != 0 {
		t.Fatalf("refused calls connected: 127.0.0.1 %d, ::1 %d", v4.Conns(), v6.Conns())
	}

	// The allow-list lets the same calls through.
	open := netguardtest.Loopback().Client(5 * time.Second)
	for _, u := range []string{v4.URL, "http://localhost:" + v4.Port, v6.URL} {
		resp, err := open.Get(u)
		if err != nil {
			t.Fatalf("allowed GET %s: %v", u, err)
		}
		resp.Body.Close()
	}
	if v4.Requests() != 2 || v6.Requests() != 1 {
		t.Errorf("requests: 127.0.0.1 got %d, ::1 got %d; want only the 2 and 1 allowed ones", v4.Requests(), v6.Requests())
	}
	if v4.Conns() > 2 || v6.Conns() != 1 {
		t.Errorf("connections: 127.0.0.1 got %d, ::1 got %d; refused calls must not connect", v4.Conns(), v6.Conns())
	}
}

// TestAllowListIsNarrow: opening 127.0.0.0/8 does not open ::1.
func TestAllowListIsNarrow(t *testing.T) {
	v6 := netguardtest.Listen(t, "[::1]:0")
	g := netguard.New(netguard.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	_, err := g.Client(5 * time.Second).Get(v6.URL)
	if got := netguard.Describe(err); got != "refused: loopback address" {
		t.Fatalf("GET ::1 with only 127/8 allowed: %q (%v)", got, err)
	}
	if v6.Conns() != 0 {
		t.Errorf("::1 saw %d connections", v6.Conns())
	}
}

// TestClientDoesNotFollowRedirects: a redirect comes back as the answer;
// the caller's headers go nowhere else.
func TestClientDoesNotFollowRedirects(t *testing.T) {
	target := netguardtest.Listen(t, "127.0.0.1:0")
	redirect := httptest.NewServer(http.RedirectHandler(target.URL+"/x", http.StatusFound))
	defer redirect.Close()
	resp, err := netguardtest.Loopback().Client(5 * time.Second).Get(redirect.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || target.Requests() != 0 {
		t.Fatalf("status %d, target requests %d: want the 302 back and no request followed", resp.StatusCode, target.Requests())
	}
}

func TestDescribe(t *testing.T) {
	// A closed port: the raw error names the address and "connection
	// refused"; the description says neither.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	_, err = netguardtest.Loopback().Client(5 * time.Second).Get(closed)
	if err == nil {
		t.Fatal("a closed port answered")
	}
	if got := netguard.Describe(err); got != "connection failed" {
		t.Errorf("closed port: %q", got)
	}

	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer tlsSrv.Close()
	_, err = netguardtest.Loopback().Client(5 * time.Second).Get(tlsSrv.URL) // self-signed
	if got := netguard.Describe(err); got != "TLS handshake failed" {
		t.Errorf("untrusted certificate: %q (%v)", got, err)
	}

	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)
	_, err = netguardtest.Loopback().Client(50 * time.Millisecond).Get(slow.URL)
	if got := netguard.Describe(err); got != "timed out" {
		t.Errorf("slow server: %q (%v)", got, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, slow.URL, nil)
	_, err = netguardtest.Loopback().Client(5 * time.Second).Do(req)
	if got := netguard.Describe(err); got != "canceled" {
		t.Errorf("canceled: %q (%v)", got, err)
	}
	if got := netguard.Describe(nil); got != "" {
		t.Errorf("Describe(nil) = %q", got)
	}
}
