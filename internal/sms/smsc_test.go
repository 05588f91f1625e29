package sms_test

import (
	"context"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/sms/smstest"
)

func newSMSC(t *testing.T, mod func(*sms.SMSCConfig)) (*sms.SMSC, *smstest.SMSC) {
	t.Helper()
	fake := smstest.NewSMSC(t, "kofe", "s3cret")
	fake.APIKey = "smsc-api-key"
	cfg := sms.SMSCConfig{BaseURL: fake.URL, Login: "kofe", Password: "s3cret", Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	p, err := sms.NewSMSC(cfg)
	if err != nil {
		t.Fatalf("NewSMSC: %v", err)
	}
	return p, fake
}

func TestSMSCSend(t *testing.T) {
	p, fake := newSMSC(t, func(c *sms.SMSCConfig) { c.Sender = "Kofeinya" })
	res, err := p.Send(context.Background(), sms.Message{ID: "out-0001", To: ruPhone, Text: ruText})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := fake.Messages()[0]
	if m.To != "79123456789" || m.Text != ruText || m.From != "Kofeinya" || m.ClientID != "out-0001" {
		t.Errorf("on the wire: %+v", m)
	}
	if f := m.Form; f.Get("fmt") != "3" || f.Get("charset") != "utf-8" || f.Get("login") != "kofe" || f.Get("psw") != "s3cret" {
		t.Errorf("form = %v", f)
	}
	if res.ProviderID != "out-0001" || res.Status != sms.Queued || res.Segments != 1 {
		t.Errorf("result = %+v, want our id, queued, 1 segment", res)
	}
}

func TestSMSCAPIKeyAndNumericID(t *testing.T) {
	p, fake := newSMSC(t, func(c *sms.SMSCConfig) { c.Login, c.Password, c.APIKey = "", "", "smsc-api-key" })
	// An id SMSC would refuse (a space) is left out; SMSC numbers the message.
	res, err := p.Send(context.Background(), sms.Message{ID: "out 1", To: ruPhone, Text: "Hi!"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := fake.Messages()[0]
	if m.Form.Get("apikey") != "smsc-api-key" || m.Form.Has("login") || m.Form.Has("psw") || m.Form.Has("id") {
		t.Errorf("form = %v", m.Form)
	}
	if res.ProviderID != "1" {
		t.Errorf("ProviderID = %q, want SMSC's numeric id \"1\"", res.ProviderID)
	}
}

func TestSMSCErrors(t *testing.T) {
	tests := []struct {
		fail smstest.Failure
		kind sms.ErrorKind
		code string
	}{
		{smstest.InvalidNumber, sms.InvalidNumber, "7"},
		{smstest.NotMobile, sms.Permanent, "8"},
		{smstest.RateLimited, sms.Transient, "4"},
		{smstest.ServerError, sms.Transient, "HTTP 500"},
		{"1", sms.Permanent, "1"},
		{"2", sms.Config, "2"},
		{"3", sms.Config, "3"},
		{"5", sms.Permanent, "5"},
		{"6", sms.Permanent, "6"},
		{"9", sms.Permanent, "9"},
		{"10", sms.Permanent, "10"}, // unknown
	}
	for _, tt := range tests {
		t.Run(string(tt.fail), func(t *testing.T) {
			p, fake := newSMSC(t, nil)
			fake.FailNumber(ruPhone, tt.fail)
			_, err := p.Send(context.Background(), sms.Message{ID: "x", To: ruPhone, Text: ruText})
			wantKind(t, err, tt.kind, tt.code)
		})
	}
}

func TestSMSCWrongPassword(t *testing.T) {
	p, fake := newSMSC(t, func(c *sms.SMSCConfig) { c.Password = "old" })
	_, err := p.Send(context.Background(), sms.Message{ID: "x", To: ruPhone, Text: ruText})
	wantKind(t, err, sms.Config, "2")
	if n := len(fake.Messages()); n != 0 {
		t.Errorf("fake recorded %d messages without auth", n)
	}
}

func TestSMSCTimeout(t *testing.T) {
	p, fake := newSMSC(t, func(c *sms.SMSCConfig) { c.Timeout = 100 * time.Millisecond })
	fake.FailNumber(ruPhone, smstest.Hang)
	_, err := p.Send(context.Background(), sms.Message{ID: "x", To: ruPhone, Text: ruText})
	wantKind(t, err, sms.Transient, "transport")
}

func TestNewSMSCConfig(t *testing.T) {
	for name, cfg := range map[string]sms.SMSCConfig{
		"nothing":     {},
		"no password": {Login: "kofe"},
		"bad URL":     {BaseURL: "://", APIKey: "k"},
	} {
		if _, err := sms.NewSMSC(cfg); err == nil {
			t.Errorf("%s: NewSMSC succeeded", name)
		}
	}
}
