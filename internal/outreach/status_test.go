package outreach

import (
	"errors"
	"fmt"
	"testing"

	"github.com/loyalpass/loyalpass/internal/sms"
)

func TestSendStatus(t *testing.T) {
	kind := func(k sms.ErrorKind) error { return fmt.Errorf("send: %w", &sms.Error{Kind: k, Code: "x"}) }
	tests := []struct {
		name     string
		err      error
		canRetry bool
		want     string
	}{
		{"accepted", nil, true, "sent"},
		{"invalid number", kind(sms.InvalidNumber), true, "invalid_number"},
		{"landline", kind(sms.NotMobile), true, "invalid_number"},
		{"opted out", kind(sms.OptedOut), true, "opted_out"},
		{"transient, tries left", kind(sms.Transient), true, "retry"},
		{"transient, no tries left", kind(sms.Transient), false, "failed"},
		{"unknown error is transient", errors.New("connection reset"), true, "retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sendStatus(tt.err, tt.canRetry); got != tt.want {
				t.Errorf("sendStatus = %q, want %q", got, tt.want)
			}
		})
	}
}
