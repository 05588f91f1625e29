// Package apnstest runs a fake APNs provider API for tests: real HTTP/2 over
// TLS on loopback, the /3/device/<token> path, APNs's header checks and its
// JSON error bodies. It can require a client certificate or a provider JWT,
// records what it received, and answers each token as the test scripts it.
package apnstest

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one push the server received.
type Request struct {
	Token    string
	Topic    string // apns-topic
	PushType string // apns-push-type
	Priority string // apns-priority
	// Authorization is the raw header (token authentication only).
	Authorization string
	Body          []byte
	Proto         string
	// ClientCert is the leaf the client presented, if any.
	ClientCert *x509.Certificate
}

// Response scripts the answer for one token. The zero value is 200 OK.
type Response struct {
	Status int
	Reason string // APNs reason, sent as {"reason": …}
	// Timestamp goes with a 410 (Unregistered, ExpiredToken).
	Timestamp time.Time
	// Hang blocks until the request's context ends (client timeout or
	// cancellation) or the server closes, and answers nothing.
	Hang bool
	// Arrived, if set, receives the token when a request for it reaches
	// the handler, so a test can act while it is in flight.
	Arrived chan<- string
}

// Option configures a Server.
type Option func(*Server)

// WithClientCAs makes the server require a client certificate issued by a
// CA in pool, as certificate authentication does.
func WithClientCAs(pool *x509.CertPool) Option {
	return func(s *Server) { s.clientCAs = pool }
}

// WithProviderToken makes the server require `authorization: bearer <JWT>`
// signed with the private half of pub (ES256), with header kid = keyID and
// claim iss = teamID, as token authentication does.
func WithProviderToken(pub *ecdsa.PublicKey, keyID, teamID string) Option {
	return func(s *Server) { s.jwt = &jwtCheck{pub: pub, keyID: keyID, teamID: teamID} }
}

// WithLatency delays every answer by d, standing in for the round trip to
// the real APNs, which is what bounds throughput in production.
func WithLatency(d time.Duration) Option {
	return func(s *Server) { s.latency = d }
}

// WithMaxStreams sets the HTTP/2 concurrent stream limit the server
// advertises (default 1000, in the range APNs has been seen to use).
func WithMaxStreams(n int) Option {
	return func(s *Server) { s.maxStreams = n }
}

// WithoutRecording keeps only the counter, for benchmarks.
func WithoutRecording() Option {
	return func(s *Server) { s.noRecord = true }
}

// Server is a fake APNs. Its zero answers are 200 OK with an apns-id.
type Server struct {
	// URL is the base URL to give apns.Options.Host.
	URL string

	srv        *httptest.Server
	clientCAs  *x509.CertPool
	jwt        *jwtCheck
	noRecord   bool
	latency    time.Duration
	maxStreams int
	conns      atomic.Int64
	done       chan struct{}
	count      atomic.Int64
	ids        atomic.Uint64

	mu       sync.Mutex
	script   map[string]Response
	requests []Request
}

// TB is the part of testing.TB a Server needs: a *testing.T, or a
// benchmark's own owner that runs the cleanups when it is done.
type TB interface {
	Helper()
	Cleanup(func())
}

// NewServer starts a fake APNs for the life of tb.
func NewServer(tb TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{done: make(chan struct{}), script: make(map[string]Response), maxStreams: 1000}
	for _, opt := range opts {
		opt(s)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.EnableHTTP2 = true
	s.srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: s.maxStreams}
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.srv.Config.ErrorLog = discardLog() // refused client certificates are expected in tests
	if s.clientCAs != nil {
		s.srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: s.clientCAs}
	}
	s.srv.StartTLS()
	s.URL = s.srv.URL
	// Cleanups run last-in first-out: release hanging handlers first, so
	// Close does not wait for them.
	tb.Cleanup(s.srv.Close)
	tb.Cleanup(func() { close(s.done) })
	return s
}

// CertPool returns a pool holding the server's certificate, for
// apns.Options.RootCAs.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	return pool
}

// Client returns an HTTP/2-capable client that trusts the server (and
// presents no client certificate), for raw protocol tests.
func (s *Server) Client() *http.Client {
	return s.srv.Client()
}

// Respond scripts the answer for every later push to token.
func (s *Server) Respond(token string, r Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script[token] = r
}

// Requests returns a copy of what the server has received, in arrival
// order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Conns returns how many connections clients have opened.
func (s *Server) Conns() int64 {
	return s.conns.Load()
}

// Count returns how many requests reached the handler, recorded or not.
func (s *Server) Count() int64 {
	return s.count.Load()
}

func (s *Server) record(r Request) Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.noRecord {
		s.requests = append(s.requests, r)
	}
	return s.script[r.Token]
}

// Certificate returns the server's TLS certificate, for clients that read
// their trusted roots from a file.
func (s *Server) Certificate() *x509.Certificate {
	return s.srv.Certificate()
}
