package sms_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/sms"
)

func TestIsStopKeyword(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"STOP", true},
		{"stop", true},
		{" Stop \n", true},
		{"STOP.", true},
		{"StopAll", true},
		{"unsubscribe", true},
		{"CANCEL", true},
		{"end", true},
		{"Quit!", true},
		{"СТОП", true},
		{"стоп", true},
		{"Стоп!", true},
		{"  отписка ", true},
		{"Отписаться", true},
		{"ОТПИСАТЬСЯ.", true},
		{"", false},
		{"please stop", false},
		{"stop it", false},
		{"STOPP", false},
		{"стопка", false},
		{"START", false},
		{"HELP", false},
		{"отписка от рассылки", false},
	}
	for _, tt := range tests {
		if got := sms.IsStopKeyword(tt.text); got != tt.want {
			t.Errorf("IsStopKeyword(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestLogProvider(t *testing.T) {
	var buf bytes.Buffer
	p := sms.NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	res, err := p.Send(context.Background(), sms.Message{ID: "out-1", To: ruPhone, Text: ruText})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Status != sms.Sent || res.Segments != 1 || res.ProviderID != "log-out-1" {
		t.Errorf("result = %+v", res)
	}
	out := buf.String()
	if strings.Contains(out, "9123456789") {
		t.Errorf("log shows the phone number: %s", out)
	}
	for _, want := range []string{"to=********6789", "component=sms", "provider=log", "segments=1", "UCS-2", "Кофейня"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q: %s", want, out)
		}
	}
	if _, err := p.Send(context.Background(), sms.Message{ID: "out-2", To: "12345", Text: "x"}); sms.KindOf(err) != sms.InvalidNumber {
		t.Errorf("Send to 12345: err = %v, want invalid number", err)
	}
}

func TestErrorWrapping(t *testing.T) {
	cause := errors.New("connection reset")
	err := fmt.Errorf("send out-1: %w", &sms.Error{Kind: sms.Transient, Code: "transport", Message: "no answer", Err: cause})
	if sms.KindOf(err) != sms.Transient || !errors.Is(err, cause) {
		t.Errorf("err = %v: kind %s, wraps cause %v", err, sms.KindOf(err), errors.Is(err, cause))
	}
	if got := err.Error(); got != "send out-1: sms: transient (transport): no answer: connection reset" {
		t.Errorf("Error() = %q", got)
	}
	if sms.KindOf(errors.New("plain")) != sms.Transient {
		t.Error("a plain error should count as transient")
	}
}
