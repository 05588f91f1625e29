// Package netguardtest helps tests whose fakes listen on loopback: a
// Guard that lets them through, and a listener that counts every
// connection it is offered, so a test can show a refused call never
// reached it.
package netguardtest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/loyalpass/loyalpass/internal/netguard"
)

// LoopbackPrefixes returns 127.0.0.0/8 and ::1/128, where tests' fakes
// listen.
func LoopbackPrefixes() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// Loopback returns a Guard that allows loopback, as an operator's
// outbound_allow = "127.0.0.0/8, ::1" would, for tests with local fakes.
func Loopback() *netguard.Guard {
	return netguard.New(netguard.Options{Allow: LoopbackPrefixes()})
}

// Listener is an HTTP server on one loopback address that answers 200 to
// everything and counts connections and requests.
type Listener struct {
	// URL is the server's base URL, e.g. http://[::1]:41234.
	URL string
	// Port is the port it listens on.
	Port string

	conns, requests atomic.Int64
}

// Listen starts a Listener on addr ("127.0.0.1:0" or "[::1]:0") for the
// life of tb; it skips tb if the address family is not available.
func Listen(tb testing.TB, addr string) *Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Skipf("cannot listen on %s: %v", addr, err)
	}
	l := &Listener{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		l.requests.Add(1)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			l.conns.Add(1)
		}
	}
	srv.Start()
	tb.Cleanup(srv.Close)
	l.URL = srv.URL
	_, l.Port, _ = net.SplitHostPort(ln.Addr().String())
	return l
}

// Conns returns how many connections the listener accepted so far.
// Connections are accepted in order, so once a later request has been
// answered every earlier connection is counted.
func (l *Listener) Conns() int64 { return l.conns.Load() }

// Requests returns how many requests it answered.
func (l *Listener) Requests() int64 { return l.requests.Load() }
