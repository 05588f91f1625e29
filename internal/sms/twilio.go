package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// TwilioConfig configures the Twilio adapter.
type TwilioConfig struct {
	// BaseURL defaults to https://api.twilio.com; tests point it at a fake.
	BaseURL string
	// AccountSID (AC…) and AuthToken authenticate with HTTP Basic. The same
	// AuthToken signs Twilio's callbacks (VerifyTwilioSignature).
	AccountSID string
	AuthToken  string
	// From is the sender (a number or an alphanumeric ID); or set
	// MessagingServiceSID (MG…) and Twilio picks the sender. One of the two.
	From                string
	MessagingServiceSID string
	// Timeout bounds each request; 10 s when zero.
	Timeout time.Duration
}

// Twilio sends through Twilio's Messages API over plain HTTP.
type Twilio struct {
	cfg      TwilioConfig
	endpoint string
	client   *http.Client
}

// NewTwilio checks cfg and returns the adapter.
func NewTwilio(cfg TwilioConfig) (*Twilio, error) {
	base, err := baseURL(cfg.BaseURL, "https://api.twilio.com")
	if err != nil {
		return nil, fmt.Errorf("twilio: %w", err)
	}
	switch {
	case cfg.AccountSID == "" || cfg.AuthToken == "":
		return nil, errors.New("twilio: account SID and auth token are required")
	case (cfg.From == "") == (cfg.MessagingServiceSID == ""):
		return nil, errors.New("twilio: set exactly one of from and messaging service SID")
	}
	return &Twilio{
		cfg:      cfg,
		endpoint: base + "/2010-04-01/Accounts/" + url.PathEscape(cfg.AccountSID) + "/Messages.json",
		client:   newClient(cfg.Timeout),
	}, nil
}

// Name returns "twilio".
func (*Twilio) Name() string { return "twilio" }

// twilioMessage is the part of a Message resource we read.
type twilioMessage struct {
	SID          string     `json:"sid"`
	Status       string     `json:"status"`
	NumSegments  flexString `json:"num_segments"`
	ErrorCode    flexString `json:"error_code"`
	ErrorMessage string     `json:"error_message"`
}

// twilioRestError is Twilio's error body.
type twilioRestError struct {
	Code    flexString `json:"code"`
	Message string     `json:"message"`
}

// Send creates a Message resource for m.
func (t *Twilio) Send(ctx context.Context, m Message) (SendResult, error) {
	if err := check(m); err != nil {
		return SendResult{}, err
	}
	form := url.Values{"To": {m.To}, "Body": {m.Text}}
	if t.cfg.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", t.cfg.MessagingServiceSID)
	} else {
		form.Set("From", t.cfg.From)
	}
	if m.StatusCallback != "" {
		form.Set("StatusCallback", m.StatusCallback)
	}
	r, err := postForm(ctx, t.client, t.endpoint, form, func(req *http.Request) {
		req.SetBasicAuth(t.cfg.AccountSID, t.cfg.AuthToken)
	})
	if err != nil {
		return SendResult{}, fmt.Errorf("twilio send %s: %w", m.ID, err)
	}
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		var re twilioRestError
		if json.Unmarshal(r.body, &re) == nil && re.Code != "" {
			return SendResult{}, fmt.Errorf("twilio send %s: %w", m.ID, twilioError(r.status, string(re.Code), re.Message))
		}
		return SendResult{}, fmt.Errorf("twilio send %s: %w", m.ID, httpError(r.status, r.body))
	}
	var msg twilioMessage
	if err := json.Unmarshal(r.body, &msg); err != nil || msg.SID == "" {
		return SendResult{}, fmt.Errorf("twilio send %s: %w", m.ID,
			&Error{Kind: Transient, Code: "decode", Message: "unreadable answer: " + snippet(r.body), Err: err})
	}
	status := twilioStatus(msg.Status)
	if status == Failed || status == Undelivered {
		return SendResult{}, fmt.Errorf("twilio send %s: %w", m.ID, twilioError(0, string(msg.ErrorCode), msg.ErrorMessage))
	}
	segments, _ := strconv.Atoi(string(msg.NumSegments))
	if segments == 0 {
		segments = Count(m.Text).Parts
	}
	return SendResult{ProviderID: msg.SID, Status: status, Segments: segments}, nil
}

// twilioStatus narrows Twilio's thirteen message statuses to ours.
func twilioStatus(s string) Status {
	switch s {
	case "sent":
		return Sent
	case "delivered", "read", "partially_delivered":
		return Delivered
	case "failed", "canceled":
		return Failed
	case "undelivered":
		return Undelivered
	default: // queued, accepted, scheduled, sending, receiving, received
		return Queued
	}
}

// twilioKinds maps Twilio error codes to kinds, after the reference table
// (sms-and-winback.md §1.4). Codes not listed fall back on the HTTP status.
var twilioKinds = map[string]ErrorKind{
	"21211": InvalidNumber, // invalid To
	"30005": InvalidNumber, // unknown handset; the reference marks the phone after repeats: key on Code
	"21614": NotMobile,     // To is not a mobile number
	"21635": NotMobile,     // To is a landline
	"30006": NotMobile,     // landline or unreachable carrier
	"21610": OptedOut,      // recipient replied STOP
	"80901": OptedOut,      // STOP word matched
	"20429": Transient,     // too many requests
	"30003": Transient,     // unreachable handset, often transient: small retry limit
	"30008": Transient,     // unknown error: retry once
	"30007": Permanent,     // carrier filtering: do not resend the same content
	"20003": Config,        // authentication failed
	"20404": Config,        // account or resource not found
	"21408": Config,        // region not enabled
	"21601": Config,        // From is not a valid number
	"21606": Config,        // From is not SMS-capable
	"21212": Config,        // invalid From
	"30002": Config,        // account suspended
}

// twilioError classifies a Twilio error code; status is the HTTP status of
// a REST answer, or 0 for a code from a message or a callback.
func twilioError(status int, code, msg string) *Error {
	if kind, ok := twilioKinds[code]; ok {
		return &Error{Kind: kind, Code: code, Message: msg}
	}
	if status != 0 {
		e := httpError(status, nil)
		e.Code, e.Message = code, msg
		return e
	}
	return &Error{Kind: Permanent, Code: code, Message: msg}
}
