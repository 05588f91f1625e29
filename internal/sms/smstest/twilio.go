package smstest

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
)

// Twilio is a fake of Twilio's Messages API
// (POST /2010-04-01/Accounts/{AccountSid}/Messages.json).
type Twilio struct {
	*recorder
	// URL is the base URL to configure the adapter with.
	URL        string
	AccountSID string
	AuthToken  string
}

// NewTwilio starts a fake Twilio accepting accountSID:authToken; it stops
// when the test ends.
func NewTwilio(t TB, accountSID, authToken string) *Twilio {
	f := &Twilio{recorder: newRecorder(t), AccountSID: accountSID, AuthToken: authToken}
	mux := http.NewServeMux()
	mux.HandleFunc("/2010-04-01/Accounts/{sid}/Messages.json", f.create)
	f.URL = f.start(mux)
	return f
}

// twilioFailures translates scripted failures into Twilio's answers.
var twilioFailures = map[Failure]struct {
	status int
	code   string
}{
	InvalidNumber: {http.StatusBadRequest, "21211"},
	NotMobile:     {http.StatusBadRequest, "21614"},
	OptedOut:      {http.StatusBadRequest, "21610"},
	RateLimited:   {http.StatusTooManyRequests, "20429"},
}

func (f *Twilio) create(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != f.AccountSID || pass != f.AuthToken {
		twilioAnswer(w, http.StatusUnauthorized, map[string]any{"code": 20003, "message": "Authenticate", "status": 401})
		return
	}
	if r.PathValue("sid") != f.AccountSID {
		twilioAnswer(w, http.StatusNotFound, map[string]any{"code": 20404, "message": "The requested resource was not found", "status": 404})
		return
	}
	form, ok := f.readForm(w, r)
	if !ok {
		return
	}
	m := Message{To: form.Get("To"), From: form.Get("From"), Text: form.Get("Body"),
		StatusCallback: form.Get("StatusCallback"), Form: form}
	service := form.Get("MessagingServiceSid")
	switch {
	case !plusE164.MatchString(m.To):
		f.t.Errorf("twilio: To %q, want +E.164", m.To)
		m.Failure = InvalidNumber
	case (m.From == "") == (service == ""):
		f.t.Errorf("twilio: want exactly one of From and MessagingServiceSid, got %q and %q", m.From, service)
		m.Failure = "21603"
	case m.Text == "":
		f.t.Errorf("twilio: empty Body")
		m.Failure = "21602"
	default:
		m.Failure = f.failureFor(m.To)
	}
	m = f.record(m, func(seq int) string { return fmt.Sprintf("SM%032x", seq) })
	switch fail := m.Failure; {
	case fail == "":
		status := "queued"
		if service != "" {
			status = "accepted"
		}
		twilioAnswer(w, http.StatusCreated, map[string]any{
			"sid": m.ProviderID, "account_sid": f.AccountSID, "to": m.To, "from": nilIfEmpty(m.From),
			"messaging_service_sid": nilIfEmpty(service), "body": m.Text, "status": status,
			"num_segments": fmt.Sprint(roughSegments(m.Text)), "error_code": nil, "error_message": nil,
		})
	case fail == Hang:
		f.hang(r)
	case fail == ServerError:
		http.Error(w, "upstream connect error", http.StatusInternalServerError)
	default:
		ans, ok := twilioFailures[fail]
		if !ok {
			ans.status, ans.code = http.StatusBadRequest, string(fail)
		}
		twilioAnswer(w, ans.status, map[string]any{"code": json.Number(ans.code),
			"message": "scripted failure", "more_info": "https://www.twilio.com/docs/errors/" + ans.code, "status": ans.status})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func twilioAnswer(w http.ResponseWriter, status int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// SendStatus posts a status callback for an accepted message to its
// StatusCallback URL, as Twilio does: a form with MessageSid,
// MessageStatus and (when set) ErrorCode, signed with X-Twilio-Signature.
// It returns the handler's HTTP status.
func (f *Twilio) SendStatus(ctx context.Context, sid, status, errorCode string) (int, error) {
	m, ok := f.find(sid)
	if !ok || m.StatusCallback == "" {
		return 0, fmt.Errorf("twilio fake: no message %s with a StatusCallback", sid)
	}
	form := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {f.AccountSID}, "To": {m.To}, "ApiVersion": {"2010-04-01"},
	}
	if m.From != "" {
		form.Set("From", m.From)
	}
	if errorCode != "" {
		form.Set("ErrorCode", errorCode)
	}
	header := http.Header{"X-Twilio-Signature": {Sign(f.AuthToken, m.StatusCallback, form)}}
	code, _, err := postCallback(ctx, m.StatusCallback, form, header)
	return code, err
}

// Sign computes X-Twilio-Signature for a form POST to fullURL, written
// from Twilio's webhook-security page: HMAC-SHA1 keyed with the auth
// token over the URL followed by each name and value, names sorted,
// Base64-encoded. Callbacks carry one value per name.
func Sign(authToken, fullURL string, form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	data := fullURL
	for _, k := range names {
		data += k + form.Get(k)
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
