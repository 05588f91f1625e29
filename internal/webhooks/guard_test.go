package webhooks_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/netguard"
	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/webhooks"
)

// hookWorld is a store with one merchant whose endpoints test a sender.
type hookWorld struct {
	t        *testing.T
	st       *store.Store
	merchant string
	program  string
	ids      map[string]string // URL → endpoint id
	phones   int
}

func newHookWorld(t *testing.T) *hookWorld {
	t.Helper()
	st, err := store.Open(t.Context(), store.Options{URL: "sqlite:" + filepath.Join(t.TempDir(), "w.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, _, _ := st.Merchants().EnsureMerchant(t.Context(), "shop", "RU")
	p := loyalty.Program{MerchantID: m.ID, Name: "Кофе", CurrencyLabel: "баллы", EarnRateBP: 1000, BarcodeFormat: "qr", Locale: "ru"}
	if err := st.Programs().CreateProgram(t.Context(), &p); err != nil {
		t.Fatal(err)
	}
	return &hookWorld{t: t, st: st, merchant: m.ID, program: p.ID, ids: map[string]string{}}
}

// endpoints stores endpoints straight in the store, as one created before
// the URL rules (or whose name later resolves inward) would be.
func (w *hookWorld) endpoints(urls ...string) {
	for _, u := range urls {
		ep := store.WebhookEndpoint{MerchantID: w.merchant, URL: u, Events: []string{store.EventCardIssued}}
		if err := w.st.Webhooks().CreateWebhookEndpoint(w.t.Context(), &ep); err != nil {
			w.t.Fatal(err)
		}
		w.ids[u] = ep.ID
	}
}

// issue issues a card, which queues a card.issued delivery per endpoint,
// and runs s until nothing is due.
func (w *hookWorld) issue(s *webhooks.Sender) {
	w.t.Helper()
	w.phones++
	phone := fmt.Sprintf("+7912345%04d", w.phones)
	if _, _, err := w.st.Cards().IssueCard(w.t.Context(), store.IssueCard{MerchantID: w.merchant, ProgramID: w.program, Phone: phone}); err != nil {
		w.t.Fatal(err)
	}
	for {
		n, err := s.RunOnce(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		s.Wait()
		if n == 0 {
			return
		}
	}
}

// last returns the newest delivery of the endpoint at u.
func (w *hookWorld) last(u string) store.WebhookDelivery {
	w.t.Helper()
	ds, err := w.st.Webhooks().WebhookDeliveries(w.t.Context(), w.merchant, w.ids[u], 0, 1)
	if err != nil || len(ds) != 1 {
		w.t.Fatalf("deliveries of %s: %v %v", u, ds, err)
	}
	return ds[0]
}

// TestWebhookToLoopbackIsNeverCalled: endpoints on 127.0.0.1, localhost
// and [::1] get no connection; their deliveries fail at once saying why in
// words. With the operator's allow-list naming loopback they are called.
func TestWebhookToLoopbackIsNeverCalled(t *testing.T) {
	v4 := netguardtest.Listen(t, "127.0.0.1:0")
	v6 := netguardtest.Listen(t, "[::1]:0")
	w := newHookWorld(t)
	urls := []string{
		"http://127.0.0.1:" + v4.Port + "/hook",
		"http://localhost:" + v4.Port + "/hook",
		"http://[::1]:" + v6.Port + "/hook",
	}
	w.endpoints(urls...)

	strict := webhooks.New(webhooks.Options{Store: w.st.Webhooks(), Timeout: 5 * time.Second, Development: true})
	w.issue(strict)
	for _, u := range urls {
		if d := w.last(u); d.Status != "failed" || d.LastError != "refused: loopback address" {
			t.Errorf("%s: status %q, last error %q; want failed, refused: loopback address", u, d.Status, d.LastError)
		}
	}
	if v4.Conns() != 0 || v6.Conns() != 0 {
		t.Fatalf("refused endpoints saw connections: 127.0.0.1 %d, ::1 %d", v4.Conns(), v6.Conns())
	}

	open := webhooks.New(webhooks.Options{Store: w.st.Webhooks(), Timeout: 5 * time.Second, Development: true,
		Outbound: netguard.New(netguard.Options{Allow: netguardtest.LoopbackPrefixes()})})
	w.issue(open)
	for _, u := range urls {
		if d := w.last(u); d.Status != "delivered" {
			t.Errorf("%s with loopback allowed: status %q, last error %q", u, d.Status, d.LastError)
		}
	}
	if v4.Requests() != 2 || v6.Requests() != 1 {
		t.Errorf("requests with loopback allowed: 127.0.0.1 %d, ::1 %d; want 2 and 1", v4.Requests(), v6.Requests())
	}
}

// TestWebhookErrorsInWords: what a merchant reads in the delivery list
// says what happened without the raw error (no address, no "connection
// refused" that would tell an open port from a closed one).
func TestWebhookErrorsInWords(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()
	v4 := netguardtest.Listen(t, "127.0.0.1:0")

	w := newHookWorld(t)
	closed := "http://" + closedAddr + "/hook"
	withCreds := "https://user:pw@" + "127.0.0.1:" + v4.Port + "/hook"
	plain := "http://127.0.0.1:" + v4.Port + "/plain"
	metadata := "http://169.254.169.254/latest/meta-data/"
	w.endpoints(closed, withCreds, plain, metadata)

	// Production mode: loopback is allowed (as for an operator's own
	// receiver), but http is not.
	s := webhooks.New(webhooks.Options{Store: w.st.Webhooks(), Timeout: 5 * time.Second, Outbound: netguardtest.Loopback()})
	w.issue(s)
	want := map[string]struct{ status, lastError string }{
		closed:    {"failed", "refused: https required"},
		withCreds: {"failed", "refused: credentials in URL"},
		plain:     {"failed", "refused: https required"},
		metadata:  {"failed", "refused: cloud metadata address"},
	}
	for u, wt := range want {
		if d := w.last(u); d.Status != wt.status || d.LastError != wt.lastError {
			t.Errorf("%s: %q %q, want %q %q", u, d.Status, d.LastError, wt.status, wt.lastError)
		}
	}

	// Development mode: http is fine, and a closed port is only
	// "connection failed", retried later.
	dev := webhooks.New(webhooks.Options{Store: w.st.Webhooks(), Timeout: 5 * time.Second, Outbound: netguardtest.Loopback(), Development: true})
	w.issue(dev)
	if d := w.last(closed); d.Status != "pending" || d.LastError != "connection failed" || strings.Contains(d.LastError, closedAddr) {
		t.Errorf("closed port: %q %q, want pending, connection failed", d.Status, d.LastError)
	}
	if d := w.last(plain); d.Status != "delivered" {
		t.Errorf("http in development mode: %q %q", d.Status, d.LastError)
	}
	if v4.Requests() != 1 {
		t.Errorf("the listener got %d requests, want only the development-mode one", v4.Requests())
	}
}

// TestWebhookNameResolvingInwardIsRefused: a name that passes every check
// without DNS but resolves to loopback is refused when dialled. It uses
// the machine's own host name where that resolves to loopback only (as in
// most containers), and is skipped elsewhere.
func TestWebhookNameResolvingInwardIsRefused(t *testing.T) {
	host, err := os.Hostname()
	if err != nil || strings.Contains(host, "localhost") {
		t.Skipf("host name %q: %v", host, err)
	}
	addrs, err := net.LookupHost(host)
	if err != nil || len(addrs) == 0 {
		t.Skipf("host name %q does not resolve: %v", host, err)
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip == nil || !ip.IsLoopback() {
			t.Skipf("host name %q resolves to %v, not only to loopback", host, addrs)
		}
	}
	v4 := netguardtest.Listen(t, "127.0.0.1:0")
	w := newHookWorld(t)
	u := "http://" + net.JoinHostPort(host, v4.Port) + "/hook"
	w.endpoints(u)
	w.issue(webhooks.New(webhooks.Options{Store: w.st.Webhooks(), Timeout: 5 * time.Second, Development: true}))
	if d := w.last(u); d.Status != "failed" || d.LastError != "refused: loopback address" {
		t.Errorf("%s: %q %q, want failed, refused: loopback address", u, d.Status, d.LastError)
	}
	if v4.Conns() != 0 {
		t.Errorf("the listener saw %d connections", v4.Conns())
	}
}
