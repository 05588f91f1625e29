package sms_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/sms/smstest"
)

var (
	_ sms.Provider = (*sms.Twilio)(nil)
	_ sms.Provider = (*sms.SMSRu)(nil)
	_ sms.Provider = (*sms.SMSC)(nil)
	_ sms.Provider = (*sms.Log)(nil)
)

const (
	ruPhone = "+79123456789"
	ruText  = "Кофейня: скучаем! Дарим 300 баллов на карту: ex.ru/c/Ab3dE9"
	sid     = "AC00000000000000000000000000000001"
	token   = "twilio-auth-token"
)

func newTwilio(t *testing.T, mod func(*sms.TwilioConfig)) (*sms.Twilio, *smstest.Twilio) {
	t.Helper()
	fake := smstest.NewTwilio(t, sid, token)
	cfg := sms.TwilioConfig{BaseURL: fake.URL, AccountSID: sid, AuthToken: token, From: "Kofeinya", Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	p, err := sms.NewTwilio(cfg)
	if err != nil {
		t.Fatalf("NewTwilio: %v", err)
	}
	return p, fake
}

// wantKind fails unless err carries an *sms.Error of the given kind and code.
func wantKind(t *testing.T, err error, kind sms.ErrorKind, code string) {
	t.Helper()
	var e *sms.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want an *sms.Error", err)
	}
	if e.Kind != kind || (code != "" && e.Code != code) {
		t.Errorf("err = %v, want kind %s code %q", err, kind, code)
	}
	if sms.KindOf(err) != kind {
		t.Errorf("KindOf = %s, want %s", sms.KindOf(err), kind)
	}
}

func TestTwilioSend(t *testing.T) {
	p, fake := newTwilio(t, nil)
	res, err := p.Send(context.Background(), sms.Message{ID: "out-1", To: ruPhone, Text: ruText,
		StatusCallback: "https://loyalpass.example/sms/twilio/status"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("fake got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.To != ruPhone || m.From != "Kofeinya" || m.Text != ruText ||
		m.StatusCallback != "https://loyalpass.example/sms/twilio/status" {
		t.Errorf("on the wire: %+v", m)
	}
	if res.ProviderID != m.ProviderID || res.Status != sms.Queued || res.Segments != 1 {
		t.Errorf("result = %+v, want %s queued 1 segment", res, m.ProviderID)
	}
}

func TestTwilioMessagingService(t *testing.T) {
	p, fake := newTwilio(t, func(c *sms.TwilioConfig) { c.From, c.MessagingServiceSID = "", "MG0001" })
	res, err := p.Send(context.Background(), sms.Message{ID: "out-2", To: "+447700900123", Text: "We miss you! ex.ru/c/Ab3dE9"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := fake.Messages()[0]
	if m.Form.Get("MessagingServiceSid") != "MG0001" || m.Form.Has("From") || m.Form.Has("StatusCallback") {
		t.Errorf("form = %v, want MessagingServiceSid only", m.Form)
	}
	if res.Status != sms.Queued { // Twilio says "accepted" with a service
		t.Errorf("status = %s, want queued", res.Status)
	}
}

func TestTwilioErrors(t *testing.T) {
	tests := []struct {
		fail smstest.Failure
		kind sms.ErrorKind
		code string
	}{
		{smstest.InvalidNumber, sms.InvalidNumber, "21211"},
		{smstest.NotMobile, sms.NotMobile, "21614"},
		{"21635", sms.NotMobile, "21635"},
		{smstest.OptedOut, sms.OptedOut, "21610"},
		{smstest.RateLimited, sms.Transient, "20429"},
		{smstest.ServerError, sms.Transient, "HTTP 500"},
		{"21408", sms.Config, "21408"},
		{"21606", sms.Config, "21606"},
		{"30007", sms.Permanent, "30007"},
		{"29999", sms.Permanent, "29999"}, // unknown code on a 400
	}
	for _, tt := range tests {
		t.Run(string(tt.fail), func(t *testing.T) {
			p, fake := newTwilio(t, nil)
			fake.FailNumber(ruPhone, tt.fail)
			_, err := p.Send(context.Background(), sms.Message{ID: "x", To: ruPhone, Text: ruText})
			wantKind(t, err, tt.kind, tt.code)
		})
	}
}

func TestTwilioWrongToken(t *testing.T) {
	p, fake := newTwilio(t, func(c *sms.TwilioConfig) { c.AuthToken = "stale" })
	_, err := p.Send(context.Background(), sms.Message{ID: "x", To: ruPhone, Text: ruText})
	wantKind(t, err, sms.Config, "20003")
	if n := len(fake.Messages()); n != 0 {
		t.Errorf("fake recorded %d messages without auth", n)
	}
}

func TestTwilioTimeout(t *testing.T) {
	p, fake := newTwilio(t, func(c *sms.TwilioConfig) { c.Timeout = 100 * time.Millisecond })
	fake.FailNumber(ruPhone, smstest.Hang)
	_, err := p.Send(context.Background(), sms.Message{ID: "x", To: ruPhone, Text: ruText})
	wantKind(t, err, sms.Transient, "transport")
}

func TestTwilioCanceled(t *testing.T) {
	p, fake := newTwilio(t, nil)
	fake.FailNumber(ruPhone, smstest.Hang)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := p.Send(ctx, sms.Message{ID: "x", To: ruPhone, Text: ruText})
	wantKind(t, err, sms.Transient, "transport")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to wrap the context's error", err)
	}
}

func TestRefusedBeforeSending(t *testing.T) {
	p, fake := newTwilio(t, nil)
	for _, m := range []sms.Message{
		{ID: "a", To: "89123456789", Text: ruText},
		{ID: "b", To: "+7912", Text: ruText},
		{ID: "c", To: ruPhone, Text: ""},
	} {
		if _, err := p.Send(context.Background(), m); err == nil {
			t.Errorf("Send(%+v) succeeded", m)
		}
	}
	if n := len(fake.Messages()); n != 0 {
		t.Errorf("fake got %d requests, want none", n)
	}
}

func TestNewTwilioConfig(t *testing.T) {
	for name, cfg := range map[string]sms.TwilioConfig{
		"no token":       {AccountSID: sid, From: "x"},
		"no sender":      {AccountSID: sid, AuthToken: token},
		"both senders":   {AccountSID: sid, AuthToken: token, From: "x", MessagingServiceSID: "MG1"},
		"bad base URL":   {BaseURL: "ftp://x", AccountSID: sid, AuthToken: token, From: "x"},
		"relative base":  {BaseURL: "/api", AccountSID: sid, AuthToken: token, From: "x"},
		"empty base URL": {BaseURL: "https://", AccountSID: sid, AuthToken: token, From: "x"},
	} {
		if _, err := sms.NewTwilio(cfg); err == nil {
			t.Errorf("%s: NewTwilio succeeded", name)
		}
	}
}
