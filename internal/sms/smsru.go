package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// SMSRuConfig configures the SMS.ru adapter.
type SMSRuConfig struct {
	// BaseURL defaults to https://sms.ru; tests point it at a fake.
	BaseURL string
	// APIID is the account's api_id, its only credential.
	APIID string
	// From is an approved sender name; empty uses the account default.
	From string
	// Timeout bounds each request; 10 s when zero.
	Timeout time.Duration
}

// SMSRu sends through sms.ru's HTTP API (/sms/send, json=1). It POSTs a
// form, which keeps the api_id out of URLs and access logs.
type SMSRu struct {
	cfg      SMSRuConfig
	endpoint string
	client   *http.Client
}

// NewSMSRu checks cfg and returns the adapter.
func NewSMSRu(cfg SMSRuConfig) (*SMSRu, error) {
	base, err := baseURL(cfg.BaseURL, "https://sms.ru")
	if err != nil {
		return nil, fmt.Errorf("smsru: %w", err)
	}
	if cfg.APIID == "" {
		return nil, errors.New("smsru: api_id is required")
	}
	return &SMSRu{cfg: cfg, endpoint: base + "/sms/send", client: newClient(cfg.Timeout)}, nil
}

// Name returns "smsru".
func (*SMSRu) Name() string { return "smsru" }

// smsruAnswer is the json=1 answer of /sms/send. The top level reports the
// request (auth, sender); each number has its own status under "sms".
type smsruAnswer struct {
	Status     string                 `json:"status"`
	StatusCode flexString             `json:"status_code"`
	StatusText string                 `json:"status_text"`
	SMS        map[string]smsruNumber `json:"sms"`
}

type smsruNumber struct {
	Status     string     `json:"status"`
	StatusCode flexString `json:"status_code"`
	StatusText string     `json:"status_text"`
	SMSID      string     `json:"sms_id"`
}

// Send sends m to one number.
func (s *SMSRu) Send(ctx context.Context, m Message) (SendResult, error) {
	if err := check(m); err != nil {
		return SendResult{}, err
	}
	to := digits(m.To)
	form := url.Values{"api_id": {s.cfg.APIID}, "to": {to}, "msg": {m.Text}, "json": {"1"}}
	if s.cfg.From != "" {
		form.Set("from", s.cfg.From)
	}
	var a smsruAnswer
	body, err := postJSON(ctx, s.client, s.endpoint, form, &a)
	if err != nil {
		return SendResult{}, fmt.Errorf("smsru send %s: %w", m.ID, err)
	}
	if a.Status != "OK" {
		return SendResult{}, fmt.Errorf("smsru send %s: %w", m.ID, smsruError(string(a.StatusCode), a.StatusText))
	}
	n, ok := a.SMS[to]
	if !ok && len(a.SMS) == 1 {
		for _, only := range a.SMS { // sms.ru may echo the number rewritten
			n, ok = only, true
		}
	}
	if !ok {
		return SendResult{}, fmt.Errorf("smsru send %s: %w", m.ID,
			&Error{Kind: Transient, Code: "decode", Message: "no status for the number: " + snippet(body)})
	}
	if n.Status != "OK" || n.SMSID == "" {
		return SendResult{}, fmt.Errorf("smsru send %s: %w", m.ID, smsruError(string(n.StatusCode), n.StatusText))
	}
	return SendResult{ProviderID: n.SMSID, Status: Queued, Segments: Count(m.Text).Parts}, nil
}

// smsruKinds maps SMS.ru request and per-number codes (2xx, 3xx, 5xx) to
// kinds. Only 100 (accepted) and 207 are confirmed by the reference; the
// rest follow sms.ru's published list and should be rechecked there.
var smsruKinds = map[string]ErrorKind{
	"200": Config,        // wrong api_id
	"201": Config,        // balance too low
	"202": InvalidNumber, // wrong recipient number, or no route to it
	"203": Permanent,     // no text
	"204": Config,        // sender name not approved
	"205": Permanent,     // text too long (over 8 parts)
	"206": Transient,     // daily sending limit reached
	"207": NotMobile,     // cannot send to this number (no route)
	"208": Permanent,     // bad time parameter
	"209": OptedOut,      // number on our own stop list
	"210": Permanent,     // GET used where POST is required
	"211": Permanent,     // method not found
	"212": Permanent,     // text not in UTF-8
	"213": Permanent,     // more than 100 numbers
	"214": Config,        // foreign number while "Russian numbers only" is on
	"220": Transient,     // service temporarily unavailable
	"230": Transient,     // daily limit of messages to this number
	"231": Permanent,     // same text to this number within a minute: a duplicate
	"232": Permanent,     // same text to this number within a day: a duplicate
	"300": Config,        // wrong token
	"301": Config,        // wrong api_id or login/password
	"302": Config,        // account not confirmed
	"500": Transient,     // server error, repeat later
}

// smsruError classifies an SMS.ru status code.
func smsruError(code, text string) *Error {
	if kind, ok := smsruKinds[code]; ok {
		return &Error{Kind: kind, Code: code, Message: text}
	}
	if n, err := strconv.Atoi(code); err == nil && n >= 500 {
		return &Error{Kind: Transient, Code: code, Message: text}
	}
	return &Error{Kind: Permanent, Code: code, Message: text}
}

// smsruDelivery maps a message status code (from /sms/status or the
// callback) to a status and, for a failure, its error. 103 (delivered) and
// 104 (expired) are confirmed by the reference; the others follow sms.ru's
// published list.
func smsruDelivery(code string) (Status, *Error, bool) {
	undelivered := func(kind ErrorKind, text string) (Status, *Error, bool) {
		return Undelivered, &Error{Kind: kind, Code: code, Message: text}, true
	}
	switch code {
	case "100", "101":
		return Queued, nil, true // in sms.ru's queue; being handed to the carrier
	case "102":
		return Sent, nil, true // on its way
	case "103", "110":
		return Delivered, nil, true // delivered; 110 is "read" (Viber)
	case "104":
		return undelivered(Transient, "lifetime expired")
	case "105":
		return undelivered(Permanent, "deleted by the carrier")
	case "106":
		return undelivered(Transient, "handset failure")
	case "107":
		return undelivered(Transient, "unknown reason")
	case "108":
		return undelivered(Permanent, "rejected")
	case "150":
		return Failed, &Error{Kind: NotMobile, Code: code, Message: "no route to this number"}, true
	}
	return "", nil, false
}
