package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

// SMSCConfig configures the SMSC.ru adapter (also smsc.kz, smscentre.com:
// set BaseURL).
type SMSCConfig struct {
	// BaseURL defaults to https://smsc.ru; the backup host is
	// https://www2.smsc.ru. Tests point it at a fake.
	BaseURL string
	// Login and Password, or APIKey instead of both.
	Login    string
	Password string
	APIKey   string
	// Sender is an approved sender name; empty uses the account default.
	Sender string
	// Timeout bounds each request; 10 s when zero.
	Timeout time.Duration
}

// SMSC sends through SMSC.ru's HTTP API (/sys/send.php, fmt=3 for JSON,
// charset=utf-8 since the default is windows-1251).
type SMSC struct {
	cfg      SMSCConfig
	endpoint string
	client   *http.Client
}

// NewSMSC checks cfg and returns the adapter.
func NewSMSC(cfg SMSCConfig) (*SMSC, error) {
	base, err := baseURL(cfg.BaseURL, "https://smsc.ru")
	if err != nil {
		return nil, fmt.Errorf("smsc: %w", err)
	}
	if cfg.APIKey == "" && (cfg.Login == "" || cfg.Password == "") {
		return nil, errors.New("smsc: login and password, or an API key, are required")
	}
	return &SMSC{cfg: cfg, endpoint: base + "/sys/send.php", client: newClient(cfg.Timeout)}, nil
}

// Name returns "smsc".
func (*SMSC) Name() string { return "smsc" }

// smscID is what SMSC accepts as a client-assigned message id.
var smscID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,40}$`)

// smscAnswer is the fmt=3 answer: {"id":…,"cnt":…} or {"error":…,"error_code":…}.
type smscAnswer struct {
	ID        flexString `json:"id"`
	Count     flexString `json:"cnt"`
	Error     string     `json:"error"`
	ErrorCode flexString `json:"error_code"`
}

// Send sends m. Our Message.ID goes along as SMSC's message id when it
// fits SMSC's rules, so status callbacks name our id.
func (s *SMSC) Send(ctx context.Context, m Message) (SendResult, error) {
	if err := check(m); err != nil {
		return SendResult{}, err
	}
	form := url.Values{
		"phones": {digits(m.To)}, "mes": {m.Text},
		"fmt": {"3"}, "charset": {"utf-8"},
	}
	if s.cfg.APIKey != "" {
		form.Set("apikey", s.cfg.APIKey)
	} else {
		form.Set("login", s.cfg.Login)
		form.Set("psw", s.cfg.Password)
	}
	if s.cfg.Sender != "" {
		form.Set("sender", s.cfg.Sender)
	}
	if smscID.MatchString(m.ID) {
		form.Set("id", m.ID)
	}
	var a smscAnswer
	body, err := postJSON(ctx, s.client, s.endpoint, form, &a)
	if err != nil {
		return SendResult{}, fmt.Errorf("smsc send %s: %w", m.ID, err)
	}
	if a.ErrorCode != "" {
		return SendResult{}, fmt.Errorf("smsc send %s: %w", m.ID, smscError(string(a.ErrorCode), a.Error))
	}
	if a.ID == "" {
		return SendResult{}, fmt.Errorf("smsc send %s: %w", m.ID,
			&Error{Kind: Transient, Code: "decode", Message: "no id in answer: " + snippet(body)})
	}
	segments, _ := strconv.Atoi(string(a.Count))
	if segments == 0 {
		segments = Count(m.Text).Parts
	}
	return SendResult{ProviderID: string(a.ID), Status: Queued, Segments: segments}, nil
}

// smscKinds maps send.php error codes 1–9 (confirmed on SMSC's "answer and
// error codes" page) to kinds.
var smscKinds = map[string]ErrorKind{
	"1": Permanent,     // error in the parameters
	"2": Config,        // wrong login or password (or a disallowed IP)
	"3": Config,        // balance too low
	"4": Transient,     // IP blocked for a while after frequent errors
	"5": Permanent,     // bad date format
	"6": Permanent,     // message forbidden by its text or sender name
	"7": InvalidNumber, // bad phone number format
	"8": Permanent,     // cannot be delivered to this number (stop list, no route): not retried
	// 9: the same request twice within a minute. The first one most likely
	// went out, so a retry would text the customer twice.
	"9": Permanent,
}

// smscError classifies a send.php error code.
func smscError(code, text string) *Error {
	if kind, ok := smscKinds[code]; ok {
		return &Error{Kind: kind, Code: code, Message: text}
	}
	return &Error{Kind: Permanent, Code: code, Message: text}
}

// smscDelivery maps an SMSC message status code to a status and, for a
// failure, its error. The codes follow SMSC's status table (-1 waiting,
// 0 handed to the carrier, 1 delivered, 2 read, 3 expired, 4 link clicked,
// 20 undeliverable, 22 wrong number, 23 prohibited, 24 no funds, 25
// unavailable number); they were not confirmed by the reference.
func smscDelivery(code string) (Status, *Error, bool) {
	fail := func(st Status, kind ErrorKind, text string) (Status, *Error, bool) {
		return st, &Error{Kind: kind, Code: code, Message: text}, true
	}
	switch code {
	case "-1":
		return Queued, nil, true
	case "0":
		return Sent, nil, true
	case "1", "2", "4":
		return Delivered, nil, true
	case "3":
		return fail(Undelivered, Transient, "expired")
	case "20":
		return fail(Undelivered, Permanent, "undeliverable")
	case "22":
		return fail(Failed, InvalidNumber, "wrong number")
	case "23":
		return fail(Failed, Permanent, "prohibited")
	case "24":
		return fail(Failed, Config, "balance too low")
	case "25":
		return fail(Failed, NotMobile, "unavailable number")
	}
	return "", nil, false
}
