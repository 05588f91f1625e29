package relaytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/loyalpass/loyalpass/push/relay"
)

// maxRequest caps request bodies the fake reads.
const maxRequest = 1 << 20

// parsed is what a vendor's request said.
type parsed struct {
	vendor     relay.Vendor
	passTypeID string
	tokens     []string
}

// route is one vendor endpoint: how it authenticates and what body it
// takes. decode returns an HTTP status and message when it refuses.
type route struct {
	vendor relay.Vendor
	auth   func(s *Server, h http.Header) bool
	decode func(r *http.Request, body []byte) (parsed, error)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/push", s.handler(route{relay.WalletPasses, optionalRawKey(relay.WalletPasses), decodeTypeAndTokens}))
	mux.Handle("POST "+PassWalletPrefix+"/v1/pushUpdates", s.handler(route{relay.PassWallet, noAuth, decodePassWalletBatch}))
	mux.Handle("POST "+PassWalletPrefix+"/v1/pushUpdate", s.handler(route{relay.PassWallet, noAuth, decodePassWalletSingle}))
	mux.Handle("POST /v2/registrations/{passTypeID}/push", s.handler(route{relay.Pass2U, headerKey("x-api-key", "", relay.Pass2U), decodePass2U}))
	mux.Handle("POST "+WalletUnionPath, s.handler(route{relay.WalletUnion, headerKey("Authorization", "", relay.WalletUnion), decodeWalletUnion}))
	mux.Handle("POST /v1/pushUpdate", s.handler(route{relay.Passworks, headerKey("Authorization", "", relay.Passworks), decodeTypeAndTokens}))
	mux.Handle("POST /v1/push", s.handler(route{relay.PassHub, headerKey("Authorization", "Bearer ", relay.PassHub), decodePassHub}))
	return mux
}

func (s *Server) handler(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest))
		if err != nil {
			return
		}
		call := Call{Vendor: rt.vendor, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		status, msg := s.check(rt, r, &call)
		var f Failure
		if status == 0 {
			status, msg, f = s.script(call)
		}
		call.Status = status
		s.mu.Lock()
		s.calls = append(s.calls, call)
		s.mu.Unlock()
		s.answer(w, call, msg, f)
	})
}

// check authenticates and decodes the request into call.
func (s *Server) check(rt route, r *http.Request, call *Call) (int, string) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return http.StatusUnsupportedMediaType, "want application/json"
	}
	if !rt.auth(s, r.Header) {
		return http.StatusUnauthorized, "bad or missing API key"
	}
	p, err := rt.decode(r, call.Body)
	if err != nil {
		return http.StatusBadRequest, err.Error()
	}
	call.Vendor, call.PassTypeID, call.Tokens = p.vendor, p.passTypeID, p.tokens
	if call.PassTypeID == "" || len(call.Tokens) == 0 {
		return http.StatusBadRequest, "pass type and tokens are required"
	}
	return 0, ""
}

// script applies the batch limit and any scripted failure.
func (s *Server) script(call Call) (int, string, Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit := s.limits[call.Vendor]; limit > 0 && len(call.Tokens) > limit {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("Too many pushTokens, max=%d", limit), Failure{}
	}
	if s.noPassWalletBat && call.Path == PassWalletPrefix+"/v1/pushUpdates" {
		return http.StatusNotFound, "no such endpoint", Failure{}
	}
	key := call.Vendor
	if key == relay.WalletUnionHMS && s.failures[key] == nil {
		key = relay.WalletUnion
	}
	f := s.failures[key]
	if f == nil {
		return http.StatusOK, "", Failure{}
	}
	if f.Times > 0 {
		if f.Times--; f.Times == 0 {
			delete(s.failures, key)
		}
	}
	return f.Status, http.StatusText(f.Status), *f
}

func (s *Server) answer(w http.ResponseWriter, call Call, msg string, f Failure) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if call.Status == http.StatusTooManyRequests {
		w.Header().Set("X-Rate-Limit-Limit", "3000")
		w.Header().Set("X-Rate-Limit-Remaining", "0")
	}
	if call.Status >= 300 && call.Status < 400 {
		// Somewhere a client that follows redirects would go, and fail.
		w.Header().Set("Location", "/moved")
	}
	if call.Status != http.StatusOK {
		http.Error(w, msg, call.Status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch call.Vendor {
	case relay.WalletUnion, relay.WalletUnionHMS:
		_ = json.NewEncoder(w).Encode(s.walletUnionAnswer(call.Tokens))
	case relay.PassWallet:
		_, _ = io.WriteString(w, `{"status":"OK"}`)
	default:
		_, _ = io.WriteString(w, `{}`)
	}
}

type walletUnionAnswer struct {
	Status  string   `json:"status"`
	Unknown []string `json:"unknown_push_tokens"`
	Expired []string `json:"expired_push_tokens"`
}

func (s *Server) walletUnionAnswer(tokens []string) walletUnionAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := walletUnionAnswer{Status: "OK", Unknown: []string{}, Expired: []string{}}
	for _, t := range tokens {
		switch s.gone[t] {
		case "unknown_push_tokens":
			a.Unknown = append(a.Unknown, t)
		case "expired_push_tokens":
			a.Expired = append(a.Expired, t)
		}
	}
	if len(a.Unknown)+len(a.Expired) > 0 {
		a.Status = "ERROR"
	}
	if s.walletUnionStat != "" {
		a.Status = s.walletUnionStat
	}
	return a
}

func noAuth(*Server, http.Header) bool { return true }

// headerKey requires header name to be prefix + the vendor's key.
func headerKey(name, prefix string, v relay.Vendor) func(*Server, http.Header) bool {
	return func(s *Server, h http.Header) bool { return h.Get(name) == prefix+s.Key(v) }
}

// optionalRawKey accepts no Authorization (WalletPasses only rate-limits
// such calls) or the right key.
func optionalRawKey(v relay.Vendor) func(*Server, http.Header) bool {
	return func(s *Server, h http.Header) bool {
		got := h.Get("Authorization")
		return got == "" || got == s.Key(v)
	}
}

// decodeStrict decodes exactly one JSON object into the struct v points
// to. Every key must be one of v's json names, spelt exactly:
// encoding/json alone would match "registrationIDs" to "registrationIds".
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if dec.More() {
		return errors.New("body: trailing data")
	}
	known := jsonNames(v)
	for k := range fields {
		if !known[k] {
			return fmt.Errorf("body: unknown field %q", k)
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	return nil
}

// jsonNames returns the json tag names of the struct v points to.
func jsonNames(v any) map[string]bool {
	t := reflect.TypeOf(v).Elem()
	names := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names[name] = true
	}
	return names
}
