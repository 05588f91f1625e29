package apns_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/apns"
	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

func TestOutcomes(t *testing.T) {
	goneAt := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	tests := []struct {
		name   string
		answer apnstest.Response
		want   push.Result
	}{
		{"200", apnstest.Response{}, push.Result{Outcome: push.Delivered}},
		{"410 Unregistered", apnstest.Response{Status: 410, Reason: "Unregistered", Timestamp: goneAt},
			push.Result{Outcome: push.Gone, Reason: "Unregistered", At: goneAt}},
		{"410 ExpiredToken", apnstest.Response{Status: 410, Reason: "ExpiredToken", Timestamp: goneAt},
			push.Result{Outcome: push.Gone, Reason: "ExpiredToken", At: goneAt}},
		{"400 BadDeviceToken", apnstest.Response{Status: 400, Reason: "BadDeviceToken"},
			push.Result{Outcome: push.Gone, Reason: "BadDeviceToken"}},
		{"400 DeviceTokenNotForTopic", apnstest.Response{Status: 400, Reason: "DeviceTokenNotForTopic"},
			push.Result{Outcome: push.Failed, Reason: "DeviceTokenNotForTopic"}},
		{"400 TopicDisallowed", apnstest.Response{Status: 400, Reason: "TopicDisallowed"},
			push.Result{Outcome: push.Failed, Reason: "TopicDisallowed"}},
		{"400 IdleTimeout", apnstest.Response{Status: 400, Reason: "IdleTimeout"},
			push.Result{Outcome: push.Retry, Reason: "IdleTimeout"}},
		{"403 BadCertificate", apnstest.Response{Status: 403, Reason: "BadCertificate"},
			push.Result{Outcome: push.Failed, Reason: "BadCertificate"}},
		{"403 BadCertificateEnvironment", apnstest.Response{Status: 403, Reason: "BadCertificateEnvironment"},
			push.Result{Outcome: push.Failed, Reason: "BadCertificateEnvironment"}},
		{"403 InvalidProviderToken", apnstest.Response{Status: 403, Reason: "InvalidProviderToken"},
			push.Result{Outcome: push.Failed, Reason: "InvalidProviderToken"}},
		{"403 ExpiredProviderToken", apnstest.Response{Status: 403, Reason: "ExpiredProviderToken"},
			push.Result{Outcome: push.Failed, Reason: "ExpiredProviderToken"}},
		{"404 BadPath", apnstest.Response{Status: 404, Reason: "BadPath"},
			push.Result{Outcome: push.Failed, Reason: "BadPath"}},
		{"413 PayloadTooLarge", apnstest.Response{Status: 413, Reason: "PayloadTooLarge"},
			push.Result{Outcome: push.Failed, Reason: "PayloadTooLarge"}},
		{"429 TooManyRequests", apnstest.Response{Status: 429, Reason: "TooManyRequests"},
			push.Result{Outcome: push.Retry, Reason: "TooManyRequests"}},
		{"500 InternalServerError", apnstest.Response{Status: 500, Reason: "InternalServerError"},
			push.Result{Outcome: push.Retry, Reason: "InternalServerError"}},
		{"503 ServiceUnavailable", apnstest.Response{Status: 503, Reason: "ServiceUnavailable"},
			push.Result{Outcome: push.Retry, Reason: "ServiceUnavailable"}},
		{"503 Shutdown", apnstest.Response{Status: 503, Reason: "Shutdown"},
			push.Result{Outcome: push.Retry, Reason: "Shutdown"}},
		{"502 without reason", apnstest.Response{Status: 502},
			push.Result{Outcome: push.Retry, Reason: "HTTP 502"}},
	}
	c, srv, _ := newCertServer(t, apns.Options{})
	tokens := make([]string, len(tests))
	for i, tt := range tests {
		tokens[i] = hexToken(i)
		srv.Respond(tokens[i], tt.answer)
	}
	// One Push for all of them: the answers must land on their own tokens.
	got := c.Push(t.Context(), tokens)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			want.Token = tokens[i]
			if got[i].At.Equal(want.At) {
				got[i].At = want.At // compare instants, not locations
			}
			if got[i] != want {
				t.Errorf("result = %+v, want %+v", got[i], want)
			}
		})
	}
}

func TestHangIsRetriedWithinTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	c, srv, _ := newCertServer(t, apns.Options{Timeout: timeout})
	hung, ok := hexToken(0), hexToken(1)
	srv.Respond(hung, apnstest.Response{Hang: true})
	start := time.Now()
	got := c.Push(t.Context(), []string{hung, ok})
	elapsed := time.Since(start)
	if got[0].Outcome != push.Retry || got[0].Reason != "timeout" {
		t.Errorf("hung token: %+v, want Retry timeout", got[0])
	}
	if got[1].Outcome != push.Delivered {
		t.Errorf("other token: %+v, want Delivered despite the hang", got[1])
	}
	if elapsed < timeout || elapsed > timeout+5*time.Second {
		t.Errorf("Push took %v, want about the %v timeout", elapsed, timeout)
	}
}

func TestCancelStopsPush(t *testing.T) {
	t.Run("in flight", func(t *testing.T) {
		c, srv, _ := newCertServer(t, apns.Options{})
		arrived := make(chan string, 1)
		hung := hexToken(0)
		srv.Respond(hung, apnstest.Response{Hang: true, Arrived: arrived})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			<-arrived
			cancel()
		}()
		got := c.Push(ctx, []string{hung})[0]
		<-done
		if got.Outcome != push.Retry || !strings.HasPrefix(got.Reason, "canceled") {
			t.Errorf("Push = %+v, want Retry canceled", got)
		}
	})
	t.Run("before start", func(t *testing.T) {
		c, srv, _ := newCertServer(t, apns.Options{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for _, r := range c.Push(ctx, hexTokens(50)) {
			if r.Outcome != push.Retry {
				t.Fatalf("Push = %+v, want Retry", r)
			}
		}
		if n := srv.Count(); n != 0 {
			t.Errorf("server handled %d requests after cancel, want 0", n)
		}
	})
}

func TestUnreachableIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	m, _ := newIdentity(t)
	cert := m.TLSCertificate()
	c, err := apns.New(apns.Options{Certificate: &cert, Topic: testTopic, Host: "https://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tok := hexToken(0)
	got := c.Push(t.Context(), []string{tok})[0]
	if got.Outcome != push.Retry || !strings.HasPrefix(got.Reason, "network: ") || strings.Contains(got.Reason, tok) {
		t.Errorf("Push = %+v, want Retry with a network reason that hides the token", got)
	}
}

func TestManyTokensKeepOrder(t *testing.T) {
	goneAt := func(i int) time.Time { return time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC) }
	c, srv, _ := newCertServer(t, apns.Options{Concurrency: 50})
	tokens := hexTokens(2000)
	for i := 0; i < len(tokens); i += 97 {
		srv.Respond(tokens[i], apnstest.Response{Status: 410, Reason: "Unregistered", Timestamp: goneAt(i)})
	}
	got := c.Push(t.Context(), tokens)
	if len(got) != len(tokens) {
		t.Fatalf("got %d results, want %d", len(got), len(tokens))
	}
	for i, r := range got {
		want := push.Delivered
		if i%97 == 0 {
			want = push.Gone
			if !r.At.Equal(goneAt(i)) {
				t.Errorf("result %d: At = %v, want the server's timestamp %v", i, r.At, goneAt(i))
			}
		}
		if r.Token != tokens[i] || r.Outcome != want {
			t.Fatalf("result %d = %+v, want token %s %v", i, r, tokens[i], want)
		}
	}
	if n := srv.Count(); n != int64(len(tokens)) {
		t.Errorf("server handled %d requests, want %d", n, len(tokens))
	}
}

// TestStaysOnOneConnection pushes with fewer requests in flight than the
// server allows streams: one connection must carry them all (APNs treats
// connection bursts as abuse). The margin is half the limit: x/net's
// transport forgets a stream in a goroutine of its own after the caller
// has its response, so on a loaded machine it counted 100 streams with
// 80 callers (1 run in 14 at load 3 opened a second connection; with 50
// callers, none in 60 at load 15).
func TestStaysOnOneConnection(t *testing.T) {
	c, srv, _ := newCertServer(t, apns.Options{Concurrency: 50}, apnstest.WithMaxStreams(100))
	tokens := hexTokens(3000)
	for i, r := range c.Push(t.Context(), tokens) {
		if r.Outcome != push.Delivered {
			t.Fatalf("result %d = %+v, want Delivered", i, r)
		}
	}
	if n := srv.Conns(); n != 1 {
		t.Errorf("client opened %d connections, want 1", n)
	}
}
