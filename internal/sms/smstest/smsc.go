package smstest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
)

// SMSC is a fake of SMSC.ru's /sys/send.php (fmt=3).
type SMSC struct {
	*recorder
	// URL is the base URL to configure the adapter with.
	URL string
	// Login and Password, or APIKey, are the accepted credentials.
	Login    string
	Password string
	APIKey   string
}

// NewSMSC starts a fake SMSC accepting login/password; set APIKey on the
// result to accept an API key too. It stops when the test ends.
func NewSMSC(t TB, login, password string) *SMSC {
	f := &SMSC{recorder: newRecorder(t), Login: login, Password: password}
	mux := http.NewServeMux()
	mux.HandleFunc("/sys/send.php", f.send)
	f.URL = f.start(mux)
	return f
}

// smscFailures translates scripted failures into send.php error codes.
var smscFailures = map[Failure]int{
	InvalidNumber: 7,
	NotMobile:     8,
	OptedOut:      8,
	RateLimited:   4,
}

var smscClientID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,40}$`)

func (f *SMSC) authorised(form url.Values) bool {
	if key := form.Get("apikey"); key != "" {
		return f.APIKey != "" && key == f.APIKey
	}
	return form.Get("login") == f.Login && form.Get("psw") == f.Password
}

func (f *SMSC) send(w http.ResponseWriter, r *http.Request) {
	form, ok := f.readForm(w, r)
	if !ok {
		return
	}
	if !f.authorised(form) {
		smscAnswer(w, map[string]any{"error": "authorise error", "error_code": 2})
		return
	}
	if form.Get("fmt") != "3" || form.Get("charset") != "utf-8" {
		f.t.Errorf("smsc: fmt=%q charset=%q, want 3 and utf-8", form.Get("fmt"), form.Get("charset"))
	}
	m := Message{To: form.Get("phones"), From: form.Get("sender"), Text: form.Get("mes"),
		ClientID: form.Get("id"), Form: form}
	switch {
	case m.ClientID != "" && !smscClientID.MatchString(m.ClientID):
		f.t.Errorf("smsc: id %q, want up to 40 of [A-Za-z0-9._-]", m.ClientID)
		m.Failure = "1"
	case !bareE164.MatchString(m.To):
		f.t.Errorf("smsc: phones %q, want digits without +", m.To)
		m.Failure = InvalidNumber
	case m.Text == "":
		f.t.Errorf("smsc: empty mes")
		m.Failure = "1"
	default:
		m.Failure = f.failureFor(m.To)
	}
	m = f.record(m, func(seq int) string {
		if m.ClientID != "" {
			return m.ClientID
		}
		return strconv.Itoa(seq)
	})
	switch fail := m.Failure; {
	case fail == "":
		var id any = m.ProviderID
		if n, err := strconv.Atoi(m.ProviderID); err == nil {
			id = n // SMSC answers a numeric id as a number
		}
		smscAnswer(w, map[string]any{"id": id, "cnt": roughSegments(m.Text)})
	case fail == Hang:
		f.hang(r)
	case fail == ServerError:
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
	default:
		code, ok := smscFailures[fail]
		if !ok {
			code, _ = strconv.Atoi(string(fail))
		}
		smscAnswer(w, map[string]any{"error": "scripted failure", "error_code": code})
	}
}

func smscAnswer(w http.ResponseWriter, body map[string]any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(body)
}

// SMSCStatus is one status report of an SMSC callback.
type SMSCStatus struct {
	ID     string // the message id (ours, when we set it)
	Phone  string // digits, as SMSC writes numbers
	Status int    // 1 delivered, 3 expired, 20 undeliverable, …
	Err    int    // SMSC's error code, 0 when none
}

// SendStatus posts a status report to target as a form with id, phone,
// status and err, and returns the handler's status and body.
func (f *SMSC) SendStatus(ctx context.Context, target string, s SMSCStatus) (int, string, error) {
	form := url.Values{"id": {s.ID}, "phone": {s.Phone},
		"status": {strconv.Itoa(s.Status)}, "err": {strconv.Itoa(s.Err)}}
	return postCallback(ctx, target, form, nil)
}
