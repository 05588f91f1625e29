// Package gwallettest is a fake Google Wallet REST server for tests. It
// serves the paths of walletobjects/v1 that push/gwallet uses (get,
// insert, patch, addMessage) for the loyalty, offer and gift card
// verticals (loyaltyClass, loyaltyObject, offerClass, offerObject,
// giftCardClass, giftCardObject) from memory, answers with Google's JSON
// bodies and error shapes, records every request, and can fail on demand.
// Point the real client at it with option.WithEndpoint(srv.URL+"/").
//
// What it models of the real API: IDs must be "<digits>.<allowed chars>";
// a second insert is 409; a class sent as APPROVED is rejected and an
// UNDER_REVIEW class is approved at once; an object needs its class of its
// own vertical; each resource's required fields (an offer class's
// provider, title and redemptionChannel, a gift card object's cardNumber);
// a state is one of ACTIVE, INACTIVE, COMPLETED, EXPIRED; a balance
// carries its value (a loyalty balance that went out as {} or a Money
// without micros is refused: that is how a zero is lost); notifyPreference
// is ephemeral (recorded, never stored); a fourth TEXT_AND_NOTIFY message
// to an object is 403 quotaExceeded. PATCH merges top-level fields and a
// null clears one. Anything else of the API is not modelled.
package gwallettest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"

	"github.com/loyalpass/loyalpass/push/internal/oauthfake"
)

// NotifyLimit is how many TEXT_AND_NOTIFY messages an object accepts.
const NotifyLimit = 3

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map (nil when it is not a JSON object).
func (r Request) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	URL string

	mu        sync.Mutex
	resources map[string]map[string]map[string]any // kind → id → fields
	notified  map[string]int
	requests  []Request
	failN     int
	failCode  int
	auth      *oauthfake.Issuer
}

var resourceID = regexp.MustCompile(`^[0-9]+\.[A-Za-z0-9._-]+$`)

// TB is the part of testing.TB a Server needs: a *testing.T, or a
// benchmark's own owner that runs the cleanups when it is done.
type TB interface {
	Cleanup(func())
}

// NewServer starts a fake closed when the test (or tb) ends.
func NewServer(tb TB) *Server {
	s := &Server{resources: map[string]map[string]map[string]any{}, notified: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.token)
	for _, kind := range Kinds {
		s.resources[kind] = map[string]map[string]any{}
		base := "/walletobjects/v1/" + kind
		mux.HandleFunc("GET "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) { s.get(w, kind, r.PathValue("id")) })
		mux.HandleFunc("POST "+base, func(w http.ResponseWriter, r *http.Request) { s.insert(w, kind, decode(r)) })
		mux.HandleFunc("PATCH "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) { s.patch(w, kind, r.PathValue("id"), decode(r)) })
		mux.HandleFunc("POST "+base+"/{id}/addMessage", func(w http.ResponseWriter, r *http.Request) { s.addMessage(w, kind, r.PathValue("id"), decode(r)) })
	}
	hs := httptest.NewServer(s.front(mux))
	tb.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// FailNext makes the next n API requests fail with HTTP status code and
// Google's error body (503 backendError, 429 rateLimitExceeded, …).
func (s *Server) FailNext(n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failCode = n, code
}

// Requests returns the API requests received so far (not /token).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Kinds are the resource kinds the fake serves, as the API's paths name
// them.
var Kinds = []string{"loyaltyClass", "loyaltyObject", "offerClass", "offerObject", "giftCardClass", "giftCardObject"}

// Class returns the stored loyalty class as JSON fields.
func (s *Server) Class(id string) (map[string]any, bool) { return s.stored("loyaltyClass", id) }

// Object returns the stored loyalty object as JSON fields.
func (s *Server) Object(id string) (map[string]any, bool) { return s.stored("loyaltyObject", id) }

// Resource returns the stored resource of kind ("offerObject", …) as JSON
// fields.
func (s *Server) Resource(kind, id string) (map[string]any, bool) { return s.stored(kind, id) }

// Notified returns how many TEXT_AND_NOTIFY messages the object accepted.
func (s *Server) Notified(objectID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notified[objectID]
}

func (s *Server) stored(kind, id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.store(kind)[id]
	if !ok {
		return nil, false
	}
	b, _ := json.Marshal(v) // a deep copy the caller may keep
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out, true
}

// front records a request, then fails it on demand or for missing auth.
func (s *Server) front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		if r.URL.Path == "/token" {
			next.ServeHTTP(w, r)
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
		fail := s.failN > 0
		code := s.failCode
		if fail {
			s.failN--
		}
		s.mu.Unlock()
		switch {
		case fail:
			writeError(w, code, reasonFor(code), http.StatusText(code))
		case !s.authorized(r):
			writeError(w, http.StatusUnauthorized, "authError", "Request had invalid authentication credentials.")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func reasonFor(code int) string {
	switch code {
	case http.StatusTooManyRequests:
		return "rateLimitExceeded"
	case http.StatusServiceUnavailable:
		return "backendError"
	case http.StatusNotFound:
		return "resourceNotFound"
	}
	return "failed"
}

// writeError writes Google's error body:
// {"error":{"code":404,"message":…,"errors":[{"domain":"global","reason":…,"message":…}],"status":…}}.
func writeError(w http.ResponseWriter, code int, reason, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{
		"code": code, "message": msg, "status": statusName(code),
		"errors": []map[string]any{{"domain": "global", "reason": reason, "message": msg}},
	}})
}

func statusName(code int) string {
	return map[int]string{400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
		409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}[code]
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func decode(r *http.Request) map[string]any {
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		return nil
	}
	return m
}

func notFound(w http.ResponseWriter, kind, id string) {
	writeError(w, http.StatusNotFound, "resourceNotFound", fmt.Sprintf("No %s with id %s.", kind, id))
}

// authorized checks the bearer token when RequireServiceAccount is on.
func (s *Server) authorized(r *http.Request) bool {
	s.mu.Lock()
	a := s.auth
	s.mu.Unlock()
	return a == nil || a.Authorized(r)
}
