package apns_test

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/apns"
	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

func TestNewValidates(t *testing.T) {
	m, _ := newIdentity(t)
	cert := m.TLSCertificate()
	p8, _ := newP8(t)
	tests := []struct {
		name string
		opts apns.Options
	}{
		{"no credential", apns.Options{Topic: testTopic}},
		{"both credentials", apns.Options{Topic: testTopic, Certificate: &cert, AuthKeyP8: p8, KeyID: testKeyID, TeamID: testTeamID}},
		{"empty certificate", apns.Options{Topic: testTopic, Certificate: &tls.Certificate{}}},
		{"token without key id", apns.Options{Topic: testTopic, AuthKeyP8: p8, TeamID: testTeamID}},
		{"token without team id", apns.Options{Topic: testTopic, AuthKeyP8: p8, KeyID: testKeyID}},
		{"p8 not PEM", apns.Options{Topic: testTopic, AuthKeyP8: []byte("nope"), KeyID: testKeyID, TeamID: testTeamID}},
		{"no topic", apns.Options{Certificate: &cert}},
		{"unknown push type", apns.Options{Topic: testTopic, Certificate: &cert, PushType: "voip"}},
		{"bad priority", apns.Options{Topic: testTopic, Certificate: &cert, Priority: 7}},
		{"background at 10", apns.Options{Topic: testTopic, Certificate: &cert, Priority: 10}},
		{"negative concurrency", apns.Options{Topic: testTopic, Certificate: &cert, Concurrency: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := apns.New(tt.opts)
			if !errors.Is(err, apns.ErrInvalidOptions) {
				t.Fatalf("New: err = %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestNewDefaultsToProduction(t *testing.T) {
	m, _ := newIdentity(t)
	cert := m.TLSCertificate()
	c, err := apns.New(apns.Options{Topic: testTopic, Certificate: &cert})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer c.Close()
	if got := c.Host(); got != "https://api.push.apple.com" {
		t.Errorf("Host() = %q, want the production host (apns2 defaults to the sandbox)", got)
	}
}

func TestCertificateAuth(t *testing.T) {
	c, srv, m := newCertServer(t, apns.Options{})
	tok := hexToken(0)
	got := c.Push(t.Context(), []string{tok})
	if want := (push.Result{Token: tok, Outcome: push.Delivered}); got[0] != want {
		t.Fatalf("Push = %+v, want %+v", got[0], want)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.ClientCert == nil || !r.ClientCert.Equal(m.Leaf) {
		t.Errorf("client certificate = %v, want the pass type leaf", r.ClientCert)
	}
	if r.Authorization != "" {
		t.Errorf("authorization = %q, want none with certificate auth", r.Authorization)
	}
}

func TestCertificateFromOtherCARejected(t *testing.T) {
	_, trusted := newIdentity(t)
	other, _ := newIdentity(t)
	srv := apnstest.NewServer(t, apnstest.WithClientCAs(trusted))
	cert := other.TLSCertificate()
	c := newClient(t, srv, apns.Options{Certificate: &cert})
	got := c.Push(t.Context(), []string{hexToken(0)})[0]
	if got.Outcome != push.Failed || !strings.Contains(got.Reason, "BadCertificate") {
		t.Fatalf("Push = %+v, want Failed with BadCertificate", got)
	}
	if n := srv.Count(); n != 0 {
		t.Errorf("server handled %d requests, want 0", n)
	}
}

func TestTokenAuth(t *testing.T) {
	p8, key := newP8(t)
	srv := apnstest.NewServer(t, apnstest.WithProviderToken(&key.PublicKey, testKeyID, testTeamID))
	c := newClient(t, srv, apns.Options{AuthKeyP8: p8, KeyID: testKeyID, TeamID: testTeamID})
	tokens := hexTokens(3)
	for i, r := range c.Push(t.Context(), tokens) {
		if r.Outcome != push.Delivered {
			t.Errorf("token %d: %+v, want Delivered", i, r)
		}
	}
	for _, r := range srv.Requests() {
		if !strings.HasPrefix(r.Authorization, "bearer ") || r.ClientCert != nil {
			t.Errorf("request auth = %q, cert %v; want a bearer JWT and no certificate", r.Authorization, r.ClientCert)
		}
	}

	t.Run("wrong team", func(t *testing.T) {
		c := newClient(t, srv, apns.Options{AuthKeyP8: p8, KeyID: testKeyID, TeamID: "OTHERTEAM1"})
		got := c.Push(t.Context(), []string{tokens[0]})[0]
		if got.Outcome != push.Failed || got.Reason != "InvalidProviderToken" {
			t.Fatalf("Push = %+v, want Failed InvalidProviderToken", got)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		otherP8, _ := newP8(t)
		c := newClient(t, srv, apns.Options{AuthKeyP8: otherP8, KeyID: testKeyID, TeamID: testTeamID})
		got := c.Push(t.Context(), []string{tokens[0]})[0]
		if got.Outcome != push.Failed || got.Reason != "InvalidProviderToken" {
			t.Fatalf("Push = %+v, want Failed InvalidProviderToken", got)
		}
	})
}

func TestRequestOnTheWire(t *testing.T) {
	tests := []struct {
		name               string
		opts               apns.Options
		pushType, priority string
	}{
		{"defaults", apns.Options{}, "background", "5"},
		{"alert at 10", apns.Options{PushType: "alert", Priority: 10}, "alert", "10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv, _ := newCertServer(t, tt.opts)
			tok := hexToken(7)
			c.Push(t.Context(), []string{tok})
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			want := apnstest.Request{Token: tok, Topic: testTopic, PushType: tt.pushType, Priority: tt.priority, Proto: "HTTP/2.0"}
			if r.Token != want.Token || r.Topic != want.Topic || r.PushType != want.PushType ||
				r.Priority != want.Priority || r.Proto != want.Proto || string(r.Body) != "{}" {
				t.Errorf("request = token %s topic %q type %q priority %q proto %s body %q; want %s %q %q %q %s \"{}\"",
					r.Token, r.Topic, r.PushType, r.Priority, r.Proto, r.Body,
					want.Token, want.Topic, want.PushType, want.Priority, want.Proto)
			}
		})
	}
}

func TestNonHexTokenNeverSent(t *testing.T) {
	c, srv, _ := newCertServer(t, apns.Options{})
	got := c.Push(t.Context(), []string{"../../x", ""})
	for _, r := range got {
		if r.Outcome != push.Gone {
			t.Errorf("token %q: %+v, want Gone", r.Token, r)
		}
	}
	if n := srv.Count(); n != 0 {
		t.Errorf("server handled %d requests, want 0", n)
	}
}
