// Package koshelektest plays «Кошелёк» for tests, on loopback, on both
// sides of the integration:
//
//   - Server is a fake Push API (POST /push/delivery). It checks every
//     request against the documented contract (Basic auth of a known
//     account, UTF-8 JSON, pushType, an integer msisdn, the payload's
//     limits and deep link, nothing else), enforces an account's limit of
//     messages a minute, answers ENQUEUED or MSISDN_NOT_REGISTERED, fails
//     on demand, and posts DELIVERED and OPENED to the account's Callback
//     API when asked.
//   - Client (client.go) is the Кошелёк platform calling a partner's
//     Loyalty Online API, checking each answer against the contract.
package koshelektest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/loyalpass/loyalpass/push/koshelek"
)

// Account is a Push API account, as Кошелёк sets one up for a partner.
type Account struct {
	Login, Password string
	// MustReset is a v1.1 account whose initial password was not changed:
	// every send is answered 401.
	MustReset bool
	// CallbackURL is the partner's Callback API base URL, and
	// CallbackLogin and CallbackPassword what Кошелёк sends it.
	CallbackURL                     string
	CallbackLogin, CallbackPassword string
}

// Fault is how the fake answers the next send instead of taking it.
type Fault struct {
	Status     int
	Body       string
	RetryAfter string
}

// Received is a message the fake took.
type Received struct {
	Login           string
	MessageID       string
	State           string
	PushType        string
	MSISDN          string
	Title, Text     string
	Image           string
	Target          string
	CampaignID      string
	StatusCallbacks bool
}

// Server is a fake Push API.
type Server struct {
	*httptest.Server
	t testing.TB

	mu         sync.Mutex
	accounts   map[string]Account
	registered map[string]bool // phones that are Кошелёк users
	perMinute  int
	now        func() time.Time
	sent       map[string][]time.Time // login → times of limited messages
	faults     []Fault
	received   []Received
	attempts   int
}

// NewServer starts a fake Push API on loopback for the life of t. Every
// phone is a Кошелёк user until Register names some.
func NewServer(t testing.TB) *Server {
	s := &Server{t: t, accounts: map[string]Account{}, perMinute: koshelek.DefaultPerMinute, now: time.Now,
		sent: map[string][]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.serve)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// AddAccount sets up a Push API account.
func (s *Server) AddAccount(a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[a.Login] = a
}

// Register makes the fake know only these phones (and earlier ones) as
// Кошелёк users; others are MSISDN_NOT_REGISTERED.
func (s *Server) Register(msisdns ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.registered == nil {
		s.registered = map[string]bool{}
	}
	for _, m := range msisdns {
		s.registered[m] = true
	}
}

// Unregister makes phones unknown to Кошелёк (the user left the app).
func (s *Server) Unregister(msisdns ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.registered == nil {
		s.registered = map[string]bool{}
	}
	for _, m := range msisdns {
		s.registered[m] = false
	}
}

// Limit sets the messages an account may send a minute, counted on the
// clock now (the test's).
func (s *Server) Limit(perMinute int, now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perMinute, s.now = perMinute, now
}

// FailNext makes the next sends answer with the faults, in order; a
// zero Fault lets its send through.
func (s *Server) FailNext(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// Received returns the messages the fake took, in order.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// Attempts returns how many sends reached the fake, taken or not.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// errorBody is the fake's error answer.
func (s *Server) fail(w http.ResponseWriter, status int, description string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": fmt.Sprint(status), "description": description})
}

// violation answers a request that breaks the contract with 400 and
// fails the test: loyalpass must never send one.
func (s *Server) violation(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.t.Errorf("koshelektest: the Push API got a request that breaks its contract: %s", msg)
	s.fail(w, http.StatusBadRequest, msg)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != koshelek.DeliveryPath {
		s.violation(w, "%s %s is not a Push API request", r.Method, r.URL.Path)
		return
	}
	s.mu.Lock()
	s.attempts++
	s.mu.Unlock()
	login, password, ok := r.BasicAuth()
	s.mu.Lock()
	acct, known := s.accounts[login]
	s.mu.Unlock()
	if !ok || !known || subtle.ConstantTimeCompare([]byte(password), []byte(acct.Password)) != 1 {
		s.fail(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	if acct.MustReset {
		s.fail(w, http.StatusUnauthorized, "the initial password must be changed")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.violation(w, "Content-Type %q is not JSON", ct)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || !utf8.Valid(body) {
		s.violation(w, "the body is not UTF-8")
		return
	}
	msg, problem := parseDelivery(body)
	if problem != "" {
		s.violation(w, "%s: %s", problem, body)
		return
	}
	s.mu.Lock()
	if len(s.faults) > 0 && s.faults[0].Status == 0 {
		s.faults = s.faults[1:] // a zero Fault lets its send through
	} else if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		s.mu.Unlock()
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(f.Status)
		io.WriteString(w, f.Body)
		return
	}
	if msg.PushType != koshelek.Promo {
		now := s.now()
		recent := s.sent[login][:0]
		for _, at := range s.sent[login] {
			if now.Sub(at) < time.Minute {
				recent = append(recent, at)
			}
		}
		s.sent[login] = recent
		if len(recent) >= s.perMinute {
			s.mu.Unlock()
			w.Header().Set("Retry-After", "60")
			s.fail(w, http.StatusTooManyRequests, "the limit of messages a minute is exceeded")
			return
		}
		s.sent[login] = append(recent, now)
	}
	msg.Login, msg.MessageID, msg.State = login, newUUID(), koshelek.StateEnqueued
	if s.registered != nil && !s.registered[msg.MSISDN] {
		msg.State = koshelek.StateNotRegistered
	}
	if msg.State == koshelek.StateEnqueued {
		s.received = append(s.received, msg)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]string{"messageId": msg.MessageID, "state": msg.State})
}

// parseDelivery reads a send's body strictly, as the documentation
// describes it, and says what is wrong with it.
func parseDelivery(body []byte) (Received, string) {
	var req struct {
		PushType string          `json:"pushType"`
		MSISDN   json.RawMessage `json:"msisdn"`
		Payload  *struct {
			Title    *string `json:"title"`
			Message  *string `json:"message"`
			Image    string  `json:"image"`
			Deeplink *struct {
				Target     string `json:"target"`
				CampaignID string `json:"campaignId"`
			} `json:"deeplink"`
		} `json:"payload"`
		QoS *struct {
			DeliveryStatusNotifications *bool `json:"deliveryStatusNotifications"`
		} `json:"qos"`
		UTM *struct {
			UTMSource   string `json:"utmSource"`
			UTMMiddle   string `json:"utmMiddle"`
			UTMCampaign string `json:"utmCampaign"`
		} `json:"utm"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return Received{}, "not the documented JSON body (" + err.Error() + ")"
	}
	var m Received
	m.PushType = req.PushType
	switch req.PushType {
	case koshelek.Transaction, koshelek.Service, koshelek.Promo:
	default:
		return m, "pushType must be TRANSACTION, SERVICE or PROMO"
	}
	raw := string(req.MSISDN)
	if raw == "" || strings.Trim(raw, "0123456789") != "" || len(raw) > 15 || raw[0] == '0' {
		return m, "msisdn must be an integer of up to 15 digits without +, not " + raw
	}
	m.MSISDN = raw
	p := req.Payload
	switch {
	case p == nil || p.Title == nil || p.Message == nil || p.Deeplink == nil:
		return m, "payload needs title, message and deeplink"
	case *p.Title == "" || utf8.RuneCountInString(*p.Title) > koshelek.MaxTitle:
		return m, fmt.Sprintf("payload.title must be 1 to %d characters", koshelek.MaxTitle)
	case *p.Message == "" || utf8.RuneCountInString(*p.Message) > koshelek.MaxText:
		return m, fmt.Sprintf("payload.message must be 1 to %d characters", koshelek.MaxText)
	}
	switch p.Deeplink.Target {
	case koshelek.TargetCard, koshelek.TargetCampaigns:
	case koshelek.TargetCampaign:
		if p.Deeplink.CampaignID == "" {
			return m, "deeplink.campaignId is required for target campaign"
		}
	default:
		return m, "deeplink.target must be card, campaign or campaigns"
	}
	if p.Image != "" && req.PushType != koshelek.Promo {
		return m, "an image goes with PROMO messages only"
	}
	m.Title, m.Text, m.Image, m.Target, m.CampaignID = *p.Title, *p.Message, p.Image, p.Deeplink.Target, p.Deeplink.CampaignID
	if req.QoS != nil && req.QoS.DeliveryStatusNotifications != nil {
		m.StatusCallbacks = *req.QoS.DeliveryStatusNotifications
	}
	return m, ""
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Deliver posts DELIVERED for a message to its account's Callback API and
// returns the partner's answer status.
func (s *Server) Deliver(ctx context.Context, messageID string) (int, error) {
	return s.callback(ctx, messageID, koshelek.StateDelivered)
}

// Open posts OPENED for a message.
func (s *Server) Open(ctx context.Context, messageID string) (int, error) {
	return s.callback(ctx, messageID, koshelek.StateOpened)
}

func (s *Server) callback(ctx context.Context, messageID, state string) (int, error) {
	s.mu.Lock()
	var msg *Received
	for i := range s.received {
		if s.received[i].MessageID == messageID {
			msg = &s.received[i]
		}
	}
	if msg == nil {
		s.mu.Unlock()
		return 0, fmt.Errorf("koshelektest: no message %s", messageID)
	}
	if !msg.StatusCallbacks {
		s.mu.Unlock()
		return 0, fmt.Errorf("koshelektest: message %s did not ask for status notifications", messageID)
	}
	acct := s.accounts[msg.Login]
	msisdn := msg.MSISDN
	s.mu.Unlock()
	if acct.CallbackURL == "" {
		return 0, fmt.Errorf("koshelektest: account %s has no Callback API URL", acct.Login)
	}
	body, _ := json.Marshal(koshelek.Callback{MessageID: messageID, State: state, MSISDN: json.Number(msisdn),
		Timestamp: s.now().UTC().Format(time.RFC3339)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, acct.CallbackURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(acct.CallbackLogin, acct.CallbackPassword)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
