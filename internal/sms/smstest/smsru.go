package smstest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// SMSRu is a fake of sms.ru's /sms/send (json=1).
type SMSRu struct {
	*recorder
	// URL is the base URL to configure the adapter with.
	URL   string
	APIID string
}

// NewSMSRu starts a fake SMS.ru accepting apiID; it stops when the test
// ends.
func NewSMSRu(t TB, apiID string) *SMSRu {
	f := &SMSRu{recorder: newRecorder(t), APIID: apiID}
	mux := http.NewServeMux()
	mux.HandleFunc("/sms/send", f.send)
	f.URL = f.start(mux)
	return f
}

// smsruFailures translates scripted failures into SMS.ru status codes.
var smsruFailures = map[Failure]string{
	InvalidNumber: "202",
	NotMobile:     "207",
	OptedOut:      "209",
	RateLimited:   "230",
}

func (f *SMSRu) send(w http.ResponseWriter, r *http.Request) {
	form, ok := f.readForm(w, r)
	if !ok {
		return
	}
	if form.Get("api_id") != f.APIID {
		smsruAnswer(w, map[string]any{"status": "ERROR", "status_code": 200, "status_text": "Неправильный api_id"})
		return
	}
	if form.Get("json") != "1" {
		f.t.Errorf("smsru: json=%q, want 1", form.Get("json"))
	}
	m := Message{To: form.Get("to"), From: form.Get("from"), Text: form.Get("msg"), Form: form}
	switch {
	case !bareE164.MatchString(m.To):
		f.t.Errorf("smsru: to %q, want digits without +", m.To)
		m.Failure = InvalidNumber
	case m.Text == "":
		f.t.Errorf("smsru: empty msg")
		m.Failure = "203"
	default:
		m.Failure = f.failureFor(m.To)
	}
	m = f.record(m, func(seq int) string { return fmt.Sprintf("000000-%08d", 10000000+seq) })
	var number map[string]any
	switch fail := m.Failure; {
	case fail == "":
		number = map[string]any{"status": "OK", "status_code": 100, "sms_id": m.ProviderID}
	case fail == Hang:
		f.hang(r)
		return
	case fail == ServerError:
		http.Error(w, "<html>502 Bad Gateway</html>", http.StatusInternalServerError)
		return
	default:
		code, ok := smsruFailures[fail]
		if !ok {
			code = string(fail)
		}
		number = map[string]any{"status": "ERROR", "status_code": json.Number(code), "status_text": "scripted failure"}
	}
	smsruAnswer(w, map[string]any{"status": "OK", "status_code": 100,
		"sms": map[string]any{m.To: number}, "balance": 4122.56})
}

func smsruAnswer(w http.ResponseWriter, body map[string]any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(body)
}

// SMSRuStatus is one record of an SMS.ru callback.
type SMSRuStatus struct {
	SMSID string
	Code  string // 103 delivered, 104 expired, …
}

// SendCallback posts statuses to target as SMS.ru's callback does: form
// fields data[0], data[1], … each "sms_status\n<sms_id>\n<code>". It
// returns the handler's status and body (SMS.ru wants "100").
func (f *SMSRu) SendCallback(ctx context.Context, target string, statuses ...SMSRuStatus) (int, string, error) {
	form := url.Values{}
	for i, s := range statuses {
		form.Set(fmt.Sprintf("data[%d]", i), "sms_status\n"+s.SMSID+"\n"+s.Code)
	}
	return postCallback(ctx, target, form, nil)
}
