package relay_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/relay"
	"github.com/loyalpass/loyalpass/push/relay/relaytest"
)

func TestHTTPOutcomes(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		fail relaytest.Failure
		want push.Result
	}{
		{"429 seconds", relaytest.Failure{Status: 429, RetryAfter: "30"},
			push.Result{Outcome: push.Retry, Reason: "HTTP 429", RetryAfter: 30 * time.Second}},
		{"429 date", relaytest.Failure{Status: 429, RetryAfter: now.Add(90 * time.Second).Format(http.TimeFormat)},
			push.Result{Outcome: push.Retry, Reason: "HTTP 429", RetryAfter: 90 * time.Second}},
		{"429 without header", relaytest.Failure{Status: 429},
			push.Result{Outcome: push.Retry, Reason: "HTTP 429"}},
		{"500", relaytest.Failure{Status: 500}, push.Result{Outcome: push.Retry, Reason: "HTTP 500"}},
		{"503 with Retry-After", relaytest.Failure{Status: 503, RetryAfter: "5"},
			push.Result{Outcome: push.Retry, Reason: "HTTP 503", RetryAfter: 5 * time.Second}},
		{"408", relaytest.Failure{Status: 408}, push.Result{Outcome: push.Retry, Reason: "HTTP 408"}},
		{"400", relaytest.Failure{Status: 400}, push.Result{Outcome: push.Failed, Reason: "HTTP 400"}},
		{"403", relaytest.Failure{Status: 403, RetryAfter: "30"}, push.Result{Outcome: push.Failed, Reason: "HTTP 403"}},
		{"404", relaytest.Failure{Status: 404}, push.Result{Outcome: push.Failed, Reason: "HTTP 404"}},
		{"301 is not followed", relaytest.Failure{Status: 301}, push.Result{Outcome: push.Failed, Reason: "HTTP 301"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := relaytest.NewServer(t)
			srv.Fail(relay.Pass2U, tt.fail)
			r := newRelays(t, srv, relay.Options{Now: func() time.Time { return now }})
			got := r.Push(t.Context(), relay.Pass2U, passType, "", []string{"t1", "t2"})
			for i, g := range got {
				want := tt.want
				want.Token = []string{"t1", "t2"}[i]
				if g != want {
					t.Errorf("result %d = %+v, want %+v", i, g, want)
				}
			}
		})
	}
}

func TestWrongKeyFails(t *testing.T) {
	srv := relaytest.NewServer(t)
	cfg := srv.Config()
	cfg[relay.PassHub] = relay.Config{BaseURL: srv.URL, APIKey: "wrong"}
	r := newRelays(t, srv, relay.Options{Vendors: cfg})
	got := r.Push(t.Context(), relay.PassHub, passType, "", []string{"t1"})[0]
	if got.Outcome != push.Failed || got.Reason != "HTTP 401" || strings.Contains(got.Reason, "wrong") {
		t.Errorf("Push = %+v, want Failed HTTP 401 without the key", got)
	}
}

func TestThrottleStopsRemainingBatches(t *testing.T) {
	srv := relaytest.NewServer(t)
	srv.Fail(relay.Pass2U, relaytest.Failure{Status: 429, RetryAfter: "30", Times: 1})
	r := newRelays(t, srv, relay.Options{Concurrency: 1})
	tokens := makeTokens("p2u", 3000)
	got := r.Push(t.Context(), relay.Pass2U, passType, "", tokens)
	wantAll(t, got, tokens, push.Retry)
	for _, g := range got {
		if g.RetryAfter != 30*time.Second {
			t.Fatalf("result %+v, want RetryAfter 30s on every batch", g)
		}
	}
	if n := len(srv.Calls(relay.Pass2U)); n != 1 {
		t.Errorf("relay got %d calls, want 1: no more after a 429", n)
	}
}

func TestWalletUnionTokenLists(t *testing.T) {
	tests := []struct {
		name   string
		status string // forced status field; "" = the fake's own
		// rest is the outcome of unlisted tokens in the batches of 50 that
		// hold listed ones (0-99), clean the outcome of the last batch.
		rest, clean push.Outcome
	}{
		{"ERROR where tokens are listed", "", push.Retry, push.Delivered},
		{"OK with lists", "OK", push.Delivered, push.Delivered},
		{"FCM_FAILED", "FCM_FAILED", push.Retry, push.Retry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := relaytest.NewServer(t)
			tokens := makeTokens("wu", 120)
			srv.ExpireTokens(tokens[3], tokens[77])
			srv.UnknownTokens(tokens[60])
			srv.WalletUnionStatus(tt.status)
			r := newRelays(t, srv, relay.Options{})
			got := r.Push(t.Context(), relay.WalletUnion, passType, "", tokens)
			for i, g := range got {
				want := push.Result{Token: tokens[i], Outcome: tt.rest}
				if i >= 100 {
					want.Outcome = tt.clean
				}
				switch i {
				case 3, 77:
					want = push.Result{Token: tokens[i], Outcome: push.Gone, Reason: "expired_push_tokens"}
				case 60:
					want = push.Result{Token: tokens[i], Outcome: push.Gone, Reason: "unknown_push_tokens"}
				}
				if g.Token != want.Token || g.Outcome != want.Outcome || (want.Reason != "" && g.Reason != want.Reason) {
					t.Errorf("result %d = %+v, want %+v", i, g, want)
				}
			}
		})
	}
}

func TestNotConfigured(t *testing.T) {
	r, err := relay.New(relay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		vendor     relay.Vendor
		serviceURL string
		reason     string
	}{
		{relay.Pass2U, "", "no API key"},
		{relay.WalletUnion, "", "no endpoint URL"},
		{relay.WalletUnionHMS, "", "no endpoint URL"},
		{relay.PassWallet, "", "pushServiceUrl"},
		{relay.PassWallet, "javascript:alert(1)", "pushServiceUrl"},
		{relay.Apple, "", "not a relay"},
	}
	for _, tt := range tests {
		t.Run(string(tt.vendor)+tt.serviceURL, func(t *testing.T) {
			got := r.Push(t.Context(), tt.vendor, passType, tt.serviceURL, []string{"t1"})[0]
			if got.Outcome != push.Failed || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("Push = %+v, want Failed mentioning %q", got, tt.reason)
			}
		})
	}
}

func TestTransportErrorsRetry(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + ln.Addr().String()
		ln.Close()
		r, err := relay.New(relay.Options{Vendors: map[relay.Vendor]relay.Config{relay.Passworks: {BaseURL: base, APIKey: "k"}},
			Outbound: netguardtest.Loopback()})
		if err != nil {
			t.Fatal(err)
		}
		got := r.Push(t.Context(), relay.Passworks, passType, "", []string{"t1"})[0]
		if got.Outcome != push.Retry || !strings.HasPrefix(got.Reason, "network: ") {
			t.Errorf("Push = %+v, want Retry network", got)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The server notices the client leave only once the body is read.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}))
		defer hang.Close()
		r, err := relay.New(relay.Options{
			Timeout:  100 * time.Millisecond,
			Vendors:  map[relay.Vendor]relay.Config{relay.PassHub: {BaseURL: hang.URL, APIKey: "k"}},
			Outbound: netguardtest.Loopback(),
		})
		if err != nil {
			t.Fatal(err)
		}
		got := r.Push(t.Context(), relay.PassHub, passType, "", []string{"t1"})[0]
		if got.Outcome != push.Retry || got.Reason != "timeout" {
			t.Errorf("Push = %+v, want Retry timeout", got)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		srv := relaytest.NewServer(t)
		r := newRelays(t, srv, relay.Options{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		tokens := makeTokens("c", 1200)
		wantAll(t, r.Push(ctx, relay.WalletPasses, passType, "", tokens), tokens, push.Retry)
		if n := len(srv.Calls(relay.WalletPasses)); n != 0 {
			t.Errorf("relay got %d calls after cancel, want 0", n)
		}
	})
}
