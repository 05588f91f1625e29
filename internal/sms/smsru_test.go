package sms_test

import (
	"context"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/sms/smstest"
)

const apiID = "F2D79B58-0000-0000-0000-73D12CE2E102"

func newSMSRu(t *testing.T, mod func(*sms.SMSRuConfig)) (*sms.SMSRu, *smstest.SMSRu) {
	t.Helper()
	fake := smstest.NewSMSRu(t, apiID)
	cfg := sms.SMSRuConfig{BaseURL: fake.URL, APIID: apiID, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	p, err := sms.NewSMSRu(cfg)
	if err != nil {
		t.Fatalf("NewSMSRu: %v", err)
	}
	return p, fake
}

func TestSMSRuSend(t *testing.T) {
	p, fake := newSMSRu(t, func(c *sms.SMSRuConfig) { c.From = "Kofeinya" })
	long := ruText + " Отписка: ex.ru/u — «Зерно»"
	res, err := p.Send(context.Background(), sms.Message{ID: "out-1", To: ruPhone, Text: long})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := fake.Messages()[0]
	if m.To != "79123456789" || m.Text != long || m.From != "Kofeinya" {
		t.Errorf("on the wire: to %q from %q text %q", m.To, m.From, m.Text)
	}
	if m.Form.Get("json") != "1" || m.Form.Get("api_id") != apiID {
		t.Errorf("form = %v", m.Form)
	}
	if res.ProviderID != m.ProviderID || res.Status != sms.Queued || res.Segments != 2 {
		t.Errorf("result = %+v, want %s queued 2 segments", res, m.ProviderID)
	}
}

func TestSMSRuErrors(t *testing.T) {
	tests := []struct {
		fail smstest.Failure
		kind sms.ErrorKind
		code string
	}{
		{smstest.InvalidNumber, sms.InvalidNumber, "202"},
		{smstest.NotMobile, sms.NotMobile, "207"},
		{smstest.OptedOut, sms.OptedOut, "209"},
		{smstest.RateLimited, sms.Transient, "230"},
		{smstest.ServerError, sms.Transient, "HTTP 500"},
		{"201", sms.Config, "201"},
		{"204", sms.Config, "204"},
		{"214", sms.Config, "214"},
		{"203", sms.Permanent, "203"},
		{"231", sms.Permanent, "231"},
		{"220", sms.Transient, "220"},
		{"500", sms.Transient, "500"},
		{"299", sms.Permanent, "299"}, // unknown
	}
	for _, tt := range tests {
		t.Run(string(tt.fail), func(t *testing.T) {
			p, fake := newSMSRu(t, nil)
			fake.FailNumber(ruPhone, tt.fail)
			_, err := p.Send(context.Background(), sms.Message{ID: "x", To: ruPhone, Text: ruText})
			wantKind(t, err, tt.kind, tt.code)
		})
	}
}

func TestSMSRuWrongAPIID(t *testing.T) {
	p, _ := newSMSRu(t, func(c *sms.SMSRuConfig) { c.APIID = "revoked" })
	_, err := p.Send(context.Background(), sms.Message{ID: "x", To: ruPhone, Text: ruText})
	wantKind(t, err, sms.Config, "200")
}

func TestSMSRuTimeout(t *testing.T) {
	p, fake := newSMSRu(t, func(c *sms.SMSRuConfig) { c.Timeout = 100 * time.Millisecond })
	fake.FailNumber(ruPhone, smstest.Hang)
	_, err := p.Send(context.Background(), sms.Message{ID: "x", To: ruPhone, Text: ruText})
	wantKind(t, err, sms.Transient, "transport")
}

func TestNewSMSRuConfig(t *testing.T) {
	if _, err := sms.NewSMSRu(sms.SMSRuConfig{}); err == nil {
		t.Error("NewSMSRu without api_id succeeded")
	}
	if _, err := sms.NewSMSRu(sms.SMSRuConfig{APIID: "x", BaseURL: "sms.ru"}); err == nil {
		t.Error("NewSMSRu with a base URL lacking a scheme succeeded")
	}
}
