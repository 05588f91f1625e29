// Package relaytest runs one fake HTTP server that speaks every Android
// wallet push relay package relay knows: each vendor's path, auth header
// and JSON body are checked, the tokens received are recorded per vendor,
// and a test can make a relay throttle (429 + Retry-After), fail (5xx),
// refuse big batches (413) or report WalletUnion tokens as expired or
// unknown.
package relaytest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/loyalpass/loyalpass/push/relay"
)

// Paths of the relays whose URL is not fixed by the vendor.
const (
	// WalletUnionPath is where the fake serves WalletUnion; the real
	// endpoint comes with the API key.
	WalletUnionPath = "/walletunion/push"
	// PassWalletPrefix is the fake's PassWallet pushServiceUrl path.
	PassWalletPrefix = "/passwallet"
)

// Call is one request the server received.
type Call struct {
	Vendor     relay.Vendor
	Path       string
	Header     http.Header
	Body       []byte
	PassTypeID string
	Tokens     []string
	// Status is what the server answered.
	Status int
}

// Failure scripts a relay's next answers.
type Failure struct {
	Status int
	// RetryAfter is sent as the Retry-After header when not empty.
	RetryAfter string
	// Times is how many calls fail; 0 means every call until replaced.
	Times int
}

// Server is the fake relay server.
type Server struct {
	// URL is the server's base URL.
	URL string

	srv *httptest.Server

	mu              sync.Mutex
	calls           []Call
	failures        map[relay.Vendor]*Failure
	limits          map[relay.Vendor]int
	gone            map[string]string // WalletUnion token → list it is reported in
	walletUnionStat string
	noPassWalletBat bool
}

// NewServer starts the fake for the life of tb. Batch limits start at the
// vendors' documented ones (Pass2U 1000, WalletUnion 50 FCM / 1000 HMS).
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		failures: make(map[relay.Vendor]*Failure),
		limits:   map[relay.Vendor]int{relay.Pass2U: 1000, relay.WalletUnion: 50, relay.WalletUnionHMS: 1000},
		gone:     make(map[string]string),
	}
	s.srv = httptest.NewServer(s.routes())
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// Key returns the API key the server expects from vendor.
func (s *Server) Key(v relay.Vendor) string {
	if v == relay.WalletUnionHMS {
		v = relay.WalletUnion
	}
	return "test-key-" + string(v)
}

// Config returns relay settings that point every vendor at the server with
// the keys it expects.
func (s *Server) Config() map[relay.Vendor]relay.Config {
	cfg := make(map[relay.Vendor]relay.Config)
	for _, v := range []relay.Vendor{relay.WalletPasses, relay.Pass2U, relay.Passworks, relay.PassHub} {
		cfg[v] = relay.Config{BaseURL: s.URL, APIKey: s.Key(v)}
	}
	cfg[relay.WalletUnion] = relay.Config{BaseURL: s.URL + WalletUnionPath, APIKey: s.Key(relay.WalletUnion)}
	return cfg
}

// Client returns an HTTP client for raw requests to the server.
func (s *Server) Client() *http.Client {
	return s.srv.Client()
}

// PassWalletURL returns a pushServiceUrl served by the fake.
func (s *Server) PassWalletURL() string {
	return s.URL + PassWalletPrefix
}

// Fail scripts vendor's next answers; a zero Failure clears it.
func (s *Server) Fail(v relay.Vendor, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Status == 0 {
		delete(s.failures, v)
		return
	}
	s.failures[v] = &f
}

// Limit makes vendor answer 413 to calls with more than n tokens; 0 lifts
// the limit.
func (s *Server) Limit(v relay.Vendor, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[v] = n
}

// ExpireTokens makes WalletUnion list tokens under expired_push_tokens.
func (s *Server) ExpireTokens(tokens ...string) { s.markGone("expired_push_tokens", tokens) }

// UnknownTokens makes WalletUnion list tokens under unknown_push_tokens.
func (s *Server) UnknownTokens(tokens ...string) { s.markGone("unknown_push_tokens", tokens) }

// WalletUnionStatus sets the status field of WalletUnion's answers ("OK"
// unless set; "ERROR" whenever tokens are listed).
func (s *Server) WalletUnionStatus(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.walletUnionStat = status
}

// RefusePassWalletBatch makes PassWallet's /v1/pushUpdates answer 404, as
// a relay that only knows the single-token endpoint would.
func (s *Server) RefusePassWalletBatch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noPassWalletBat = true
}

// Calls returns the calls vendor's endpoint received, in arrival order.
func (s *Server) Calls(v relay.Vendor) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Vendor == v {
			out = append(out, c)
		}
	}
	return out
}

// Tokens returns the tokens vendor accepted (answered 2xx), in arrival
// order.
func (s *Server) Tokens(v relay.Vendor) []string {
	var out []string
	for _, c := range s.Calls(v) {
		if c.Status >= 200 && c.Status < 300 {
			out = append(out, c.Tokens...)
		}
	}
	return out
}

func (s *Server) markGone(list string, tokens []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range tokens {
		s.gone[t] = list
	}
}
