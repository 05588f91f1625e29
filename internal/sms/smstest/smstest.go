// Package smstest runs fake Twilio, SMS.ru and SMSC.ru servers for tests.
// Each fake speaks its provider's wire protocol: it checks credentials,
// paths and parameters (failing the test on a malformed request), insists
// on UTF-8 so Cyrillic arrives intact, records every message, answers with
// the provider's own error codes for numbers scripted to fail, and can post
// delivery callbacks the way the provider does, Twilio's signed with
// X-Twilio-Signature. The fakes do not import package sms, so they check
// the adapters rather than agree with them by construction.
package smstest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Failure scripts how a fake answers for one recipient. The named values
// are translated into each provider's own answer; any other value is a
// provider error code answered as is ("21408" from Twilio, "204" from
// SMS.ru, "3" from SMSC).
type Failure string

// Scripted failures every fake understands.
const (
	InvalidNumber Failure = "invalid_number" // Twilio 21211, SMS.ru 202, SMSC 7
	NotMobile     Failure = "not_mobile"     // Twilio 21614, SMS.ru 207, SMSC 8
	OptedOut      Failure = "opted_out"      // Twilio 21610, SMS.ru 209, SMSC 8 (no own code)
	RateLimited   Failure = "rate_limited"   // Twilio 429/20429, SMS.ru 230, SMSC 4
	ServerError   Failure = "server_error"   // HTTP 500 with a non-JSON body
	Hang          Failure = "hang"           // no answer until the client gives up
)

// Message is one send request a fake received with valid credentials.
type Message struct {
	// ProviderID is the id the fake gave it; empty when it was refused.
	ProviderID string
	// To is the recipient exactly as it came over the wire.
	To   string
	From string
	Text string
	// StatusCallback is Twilio's per-message callback URL.
	StatusCallback string
	// ClientID is the id we assigned (SMSC's id parameter).
	ClientID string
	// Failure is what the fake answered with; empty when accepted.
	Failure Failure
	// Form is the whole decoded request body.
	Form url.Values
}

// TB is the part of testing.TB a fake needs: a *testing.T, or a
// benchmark's own owner that runs the cleanups when it is done and
// reports malformed requests.
type TB interface {
	Cleanup(func())
	Errorf(format string, args ...any)
}

// recorder is what the three fakes share: the log of messages, the
// scripted failures and the test to report malformed requests to.
type recorder struct {
	t       TB
	closing chan struct{}

	mu       sync.Mutex
	messages []Message
	failures map[string]Failure
	seq      int
}

func newRecorder(t TB) *recorder {
	return &recorder{t: t, closing: make(chan struct{}), failures: map[string]Failure{}}
}

// start serves h and stops it when the test ends, releasing hung handlers
// first so Close does not wait on them.
func (r *recorder) start(h http.Handler) string {
	srv := httptest.NewServer(h)
	r.t.Cleanup(srv.Close)
	r.t.Cleanup(func() { close(r.closing) })
	return srv.URL
}

// FailNumber scripts the answer for a recipient, given in E.164 or as
// digits; an empty Failure clears it.
func (r *recorder) FailNumber(to string, f Failure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	to = strings.TrimPrefix(to, "+")
	if f == "" {
		delete(r.failures, to)
		return
	}
	r.failures[to] = f
}

// Messages returns a copy of every send request received so far.
func (r *recorder) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.messages...)
}

func (r *recorder) failureFor(to string) Failure {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures[strings.TrimPrefix(to, "+")]
}

// record stores m, giving it an id from newID when it was accepted.
func (r *recorder) record(m Message, newID func(seq int) string) Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	if m.Failure == "" {
		m.ProviderID = newID(r.seq)
	}
	r.messages = append(r.messages, m)
	return m
}

// find returns the accepted message with the given provider id.
func (r *recorder) find(providerID string) (Message, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.messages {
		if m.ProviderID == providerID && providerID != "" {
			return m, true
		}
	}
	return Message{}, false
}

// hang holds a request until the client gives up or the test ends.
func (r *recorder) hang(req *http.Request) {
	select {
	case <-req.Context().Done():
	case <-r.closing:
	}
}

// readForm parses a POSTed form and fails the test unless it is
// URL-encoded UTF-8 in the body, where credentials belong.
func (r *recorder) readForm(w http.ResponseWriter, req *http.Request) (url.Values, bool) {
	if req.Method != http.MethodPost {
		r.t.Errorf("%s %s: want POST", req.Method, req.URL.Path)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return nil, false
	}
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		r.t.Errorf("%s: Content-Type %q, want a URL-encoded form", req.URL.Path, ct)
	}
	if req.URL.RawQuery != "" {
		r.t.Errorf("%s: query string %q, want every parameter in the body", req.URL.Path, req.URL.RawQuery)
	}
	if err := req.ParseForm(); err != nil {
		r.t.Errorf("%s: parse form: %v", req.URL.Path, err)
		http.Error(w, "bad form", http.StatusBadRequest)
		return nil, false
	}
	for k, vs := range req.PostForm {
		for _, v := range vs {
			if !utf8.ValidString(v) {
				r.t.Errorf("%s: parameter %s is not UTF-8: %q", req.URL.Path, k, v)
			}
		}
	}
	return req.PostForm, true
}

var (
	plusE164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	bareE164 = regexp.MustCompile(`^[1-9][0-9]{7,14}$`)
)

// roughSegments approximates the part count a provider reports: any
// non-ASCII character is taken to force UCS-2.
func roughSegments(text string) int {
	n := len(utf16.Encode([]rune(text)))
	single, multi := 160, 153
	for _, c := range text {
		if c > 0x7f {
			single, multi = 70, 67
			break
		}
	}
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

// postCallback delivers a callback the way a provider does and returns the
// handler's status and body.
func postCallback(ctx context.Context, target string, form url.Values, header http.Header) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", fmt.Errorf("callback request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("post callback: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return resp.StatusCode, "", fmt.Errorf("read callback answer: %w", err)
	}
	return resp.StatusCode, string(bytes.TrimSpace(body)), nil
}
