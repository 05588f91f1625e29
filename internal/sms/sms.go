// Package sms sends the short texts of the win-back campaign and reads what
// the providers report back. Each provider (Twilio, SMS.ru, SMSC.ru, and Log
// for development) is a plain net/http adapter behind Provider; failures come
// back as *Error whose Kind tells the caller what to do with the phone number
// (mark it invalid, not mobile, opted out; retry later; alert an operator).
// Delivery callbacks, Twilio's request signature and inbound STOP words live
// in callbacks.go; segment counting (GSM-7 / UCS-2) in segments.go.
package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/loyalpass/loyalpass/internal/phone"
)

// Message is one text to one recipient.
type Message struct {
	// ID is ours, unique per message: the outbox row id. SMSC carries it as
	// its own message id, so its callbacks name it; the others ignore it.
	ID string
	// To is the recipient in E.164 ("+79123456789"). Adapters reformat it
	// as their provider wants (Twilio "+E.164", SMS.ru and SMSC digits only).
	To   string
	Text string
	// StatusCallback is the URL Twilio posts delivery reports to. SMS.ru
	// and SMSC take their callback URL from the account settings instead.
	StatusCallback string
}

// Status is where a message stands, in Twilio's words narrowed to five.
type Status string

// The statuses every provider's report is mapped onto.
const (
	// Queued: accepted by the provider, not yet handed to a carrier.
	Queued Status = "queued"
	// Sent: handed to the carrier; no delivery report yet.
	Sent Status = "sent"
	// Delivered: the handset has it.
	Delivered Status = "delivered"
	// Failed: never left the provider (bad number, opted out, refused).
	Failed Status = "failed"
	// Undelivered: the carrier gave up (unreachable, expired, filtered).
	Undelivered Status = "undelivered"
)

// SendResult is what a provider said when it accepted a message.
type SendResult struct {
	// ProviderID names the message in the provider's callbacks: Twilio's
	// SM… sid, SMS.ru's sms_id, SMSC's id (our Message.ID when it fits).
	ProviderID string
	Status     Status
	// Segments is the billed part count: the provider's when it reports
	// one (Twilio, SMSC), else Count(Text).Parts.
	Segments int
}

// ErrorKind says what a failure means for the number and for the sender.
type ErrorKind string

// The kinds of failure. Only Transient is worth retrying.
const (
	// InvalidNumber: the number does not exist; mark the phone invalid.
	InvalidNumber ErrorKind = "invalid_number"
	// NotMobile: a landline or a number that cannot take SMS.
	NotMobile ErrorKind = "not_mobile"
	// OptedOut: the recipient said STOP; never text them again.
	OptedOut ErrorKind = "opted_out"
	// Transient: timeouts, 429, 5xx, unreachable handsets; retry with back-off.
	Transient ErrorKind = "transient"
	// Permanent: this message will never go (content filtered, malformed,
	// duplicate); do not retry it, do not blame the number.
	Permanent ErrorKind = "permanent"
	// Config: our account is wrong (credentials, sender, balance, region);
	// stop sending and alert, do not blame the number.
	Config ErrorKind = "config"
)

// Error is a failed send or a failed delivery, in provider-neutral terms.
type Error struct {
	Kind ErrorKind
	// Code is the provider's own code ("21610", "207", "8"), or "HTTP 503".
	Code string
	// Message is the provider's text, for logs and dead letters.
	Message string
	// Err is the underlying cause for transport failures (timeouts).
	Err error
}

func (e *Error) Error() string {
	s := "sms: " + string(e.Kind)
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the *Error in err's chain; errors that are not
// *Error count as Transient, since nothing says the number is at fault.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Transient
}

// Provider sends one message. Every failure is returned as an error that
// wraps *Error; a nil error means the provider accepted the message.
type Provider interface {
	Name() string
	Send(ctx context.Context, m Message) (SendResult, error)
}

// defaultTimeout bounds each provider request when the config sets none.
const defaultTimeout = 10 * time.Second

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// check refuses what no provider should be asked to send, without a request.
func check(m Message) error {
	if !e164.MatchString(m.To) {
		return &Error{Kind: InvalidNumber, Code: "e164", Message: "recipient is not in E.164 form"}
	}
	if m.Text == "" {
		return &Error{Kind: Permanent, Code: "empty", Message: "empty text"}
	}
	return nil
}

// digits is the E.164 number without its "+", as SMS.ru and SMSC want it.
func digits(e164 string) string { return e164[1:] }

// Log is the default Provider: it writes each message to a logger instead of
// sending it, so development and tests need no account. The phone number is
// masked to its last four digits.
type Log struct {
	logger *slog.Logger
}

// NewLog returns a Log provider writing to logger.
func NewLog(logger *slog.Logger) *Log {
	return &Log{logger: logger.With("component", "sms", "provider", "log")}
}

// Name returns "log".
func (*Log) Name() string { return "log" }

// Send logs m and reports it sent.
func (l *Log) Send(ctx context.Context, m Message) (SendResult, error) {
	if err := check(m); err != nil {
		return SendResult{}, err
	}
	seg := Count(m.Text)
	l.logger.InfoContext(ctx, "sms not sent (log provider)", "id", m.ID, "to", phone.Mask(m.To),
		"encoding", seg.Encoding, "segments", seg.Parts, "text", m.Text)
	return SendResult{ProviderID: fmt.Sprintf("log-%s", m.ID), Status: Sent, Segments: seg.Parts}, nil
}
