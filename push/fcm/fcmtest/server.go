// Package fcmtest is a fake FCM HTTP v1 endpoint for tests. It serves
// POST /v1/projects/{project}/messages:send, records each message, and
// answers per token with success or with FCM's real error bodies (Fault).
// Point the SDK at it with option.WithEndpoint(srv.Endpoint()).
//
// With RequireServiceAccount it also plays Google's OAuth token endpoint,
// so a test can run the service-account key path end to end.
package fcmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/loyalpass/loyalpass/push/internal/oauthfake"
)

// Fault is how the fake answers one token: a status and an error body.
type Fault struct {
	Status     int
	Body       string
	RetryAfter string // Retry-After header, when set
}

const fcmError = `"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError"`

// FCM's error answers, as the v1 API sends them.
var (
	Unregistered = Fault{Status: 404, Body: `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND",` +
		`"details":[{` + fcmError + `,"errorCode":"UNREGISTERED"}]}}`}
	InvalidToken = Fault{Status: 400, Body: `{"error":{"code":400,"message":"The registration token is not a valid FCM registration token",` +
		`"status":"INVALID_ARGUMENT","details":[{` + fcmError + `,"errorCode":"INVALID_ARGUMENT"},` +
		`{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token",` +
		`"description":"The registration token is not a valid FCM registration token"}]}]}}`}
	InvalidPayload = Fault{Status: 400, Body: `{"error":{"code":400,"message":"Request contains an invalid argument.",` +
		`"status":"INVALID_ARGUMENT","details":[{` + fcmError + `,"errorCode":"INVALID_ARGUMENT"},` +
		`{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.data[0].key",` +
		`"description":"Invalid data message key: from"}]}]}}`}
	SenderIDMismatch = Fault{Status: 403, Body: `{"error":{"code":403,"message":"SenderId mismatch","status":"PERMISSION_DENIED",` +
		`"details":[{` + fcmError + `,"errorCode":"SENDER_ID_MISMATCH"}]}}`}
	QuotaExceeded = Fault{Status: 429, RetryAfter: "30", Body: `{"error":{"code":429,"message":"Quota exceeded for quota metric.",` +
		`"status":"RESOURCE_EXHAUSTED","details":[{` + fcmError + `,"errorCode":"QUOTA_EXCEEDED"}]}}`}
	// Unavailable carries Retry-After: 300. The SDK itself retries a 503
	// after 0, 1, 2 and 4 s, but not when Retry-After exceeds 2 minutes.
	Unavailable = Fault{Status: 503, RetryAfter: "300", Body: `{"error":{"code":503,"message":"The service is currently unavailable.",` +
		`"status":"UNAVAILABLE","details":[{` + fcmError + `,"errorCode":"UNAVAILABLE"}]}}`}
	Internal = Fault{Status: 500, Body: `{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL",` +
		`"details":[{` + fcmError + `,"errorCode":"INTERNAL"}]}}`}
)

// Request is one message the fake received.
type Request struct {
	Project string
	Header  http.Header
	Body    []byte
	// Message is the decoded "message" member of the body.
	Message struct {
		Token   string            `json:"token"`
		Data    map[string]string `json:"data"`
		Android struct {
			Priority string `json:"priority"`
		} `json:"android"`
	}
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	URL string

	mu       sync.Mutex
	requests []Request
	faults   map[string]Fault
	sent     int
	auth     *oauthfake.Issuer
}

// NewServer starts a fake closed when the test ends.
func NewServer(tb testing.TB) *Server {
	s := &Server{faults: map[string]Fault{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", s.send)
	mux.HandleFunc("POST /token", s.token)
	hs := httptest.NewServer(mux)
	tb.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Endpoint is what to pass to option.WithEndpoint.
func (s *Server) Endpoint() string { return s.URL + "/v1" }

// Fail makes every message to token answer f.
func (s *Server) Fail(token string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[token] = f
}

// Requests returns the messages received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	req := Request{Project: r.PathValue("project"), Header: r.Header.Clone()}
	req.Body, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var body struct {
		Message json.RawMessage `json:"message"`
	}
	err := json.Unmarshal(req.Body, &body)
	if err == nil {
		err = json.Unmarshal(body.Message, &req.Message) // data values must be strings
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	f, fail := s.faults[req.Message.Token]
	s.sent++
	n := s.sent
	authorized := s.authorized(r)
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	switch {
	case !authorized:
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`)
	case err != nil || req.Message.Token == "":
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, InvalidPayload.Body)
	case fail:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.WriteHeader(f.Status)
		io.WriteString(w, f.Body)
	default:
		fmt.Fprintf(w, `{"name":"projects/%s/messages/0:%d%%fake"}`, req.Project, n)
	}
}

// authorized checks the bearer token when RequireServiceAccount is on.
// The caller holds s.mu.
func (s *Server) authorized(r *http.Request) bool {
	return s.auth == nil || s.auth.Authorized(r)
}
