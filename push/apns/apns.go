// Package apns wakes Apple Wallet passes through the Apple Push Notification
// service. A pass update is an empty push ({}) to the device token a pass
// registered, with the pass type identifier as the topic; the device then
// asks our web service what changed. Sending goes through
// github.com/sideshow/apns2 over one HTTP/2 connection per Client, and every
// APNs answer is mapped onto the push.Outcome vocabulary.
//
// Pass updates work only against the production host, even for development
// devices, so New defaults to HostProduction (apns2's own default is the
// sandbox).
package apns

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/token"
	"golang.org/x/net/http2"
)

// Defaults used by New for the zero values of Options.
const (
	// HostProduction is the only APNs environment that delivers pass updates.
	HostProduction = apns2.HostProduction
	// DefaultPushType follows VAPOR's PassKit server; Apple specifies none.
	DefaultPushType = "background"
	// DefaultPriority is the one APNs allows for background pushes.
	DefaultPriority = 5
	// DefaultConcurrency bounds requests in flight per Client. Against
	// the real APNs throughput is about in-flight requests / round trip
	// (500 at 50 ms: 10,000 pushes/s), so it is sized for latency, not
	// CPU, and kept within the per-connection stream limit APNs
	// advertises (500 to 1,500 observed), so one connection carries it
	// (x/net forgets a finished stream a moment after its caller returns,
	// so at a 500 limit a second connection may briefly open: harmless).
	DefaultConcurrency = 500
	// DefaultTimeout bounds one push, from dial to reading the answer.
	DefaultTimeout = 15 * time.Second
)

const (
	dialTimeout     = 20 * time.Second
	tcpKeepAlive    = 15 * time.Second
	readIdleTimeout = 15 * time.Second // HTTP/2 ping when the connection is quiet (apns2 PR #209)
)

// ErrInvalidOptions is wrapped by every validation error New returns.
var ErrInvalidOptions = errors.New("apns: invalid options")

// Options configures a Client. Give exactly one credential: Certificate
// (the Pass Type ID identity, from certs.Material.TLSCertificate), or
// AuthKeyP8 with KeyID and TeamID (an APNs auth key of the same team).
type Options struct {
	// Certificate selects certificate authentication.
	Certificate *tls.Certificate
	// AuthKeyP8 is the PEM content of an APNs .p8 key; it selects token
	// authentication together with KeyID and TeamID.
	AuthKeyP8 []byte
	KeyID     string
	TeamID    string
	// Topic is the pass type identifier (apns-topic). Required.
	Topic string
	// Host is the APNs base URL; "" means HostProduction. Tests point it at
	// an apnstest server.
	Host string
	// PushType is "background" (default) or "alert".
	PushType string
	// Priority is 5 (default), 10 (alert only) or 1.
	Priority int
	// Concurrency bounds requests in flight across all Push calls.
	Concurrency int
	// Timeout bounds each single push.
	Timeout time.Duration
	// RootCAs replaces the system roots, for a test server's certificate.
	RootCAs *x509.CertPool
}

// Client sends pass-update pushes for one topic with one credential. It is
// safe for concurrent use; keep one per credential, since APNs treats
// rapid reconnection as abuse.
type Client struct {
	apns      *apns2.Client
	transport *http2.Transport
	topic     string
	pushType  apns2.EPushType
	priority  int
	timeout   time.Duration
	slots     chan struct{}
}

// New checks opts and returns a Client. It does not connect; the first Push
// dials.
func New(opts Options) (*Client, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	tlsConf := &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12}
	var client *apns2.Client
	if opts.Certificate != nil {
		tlsConf.Certificates = []tls.Certificate{*opts.Certificate}
		// Under TLS 1.3 the server checks a client certificate after the
		// client's handshake is done, and x/net/http2 reports a refusal
		// only as "client conn could not be established". Under TLS 1.2
		// (which APNs supports) the refusal is an alert during the
		// handshake, so a revoked or wrong certificate becomes Failed
		// rather than an endless Retry.
		tlsConf.MaxVersion = tls.VersionTLS12
		client = &apns2.Client{Certificate: *opts.Certificate}
	} else {
		key, err := token.AuthKeyFromBytes(opts.AuthKeyP8)
		if err != nil {
			return nil, fmt.Errorf("%w: auth key: %w", ErrInvalidOptions, err)
		}
		tok := &token.Token{AuthKey: key, KeyID: opts.KeyID, TeamID: opts.TeamID}
		if _, err := tok.Generate(); err != nil {
			return nil, fmt.Errorf("%w: sign provider token: %w", ErrInvalidOptions, err)
		}
		client = &apns2.Client{Token: tok}
	}
	// apns2's constructors build the same kind of transport but dial
	// without a context and read the mutable package-level DefaultHost;
	// we set every field ourselves.
	transport := &http2.Transport{
		TLSClientConfig: tlsConf,
		DialTLSContext:  dialTLS,
		ReadIdleTimeout: readIdleTimeout,
		// Not StrictMaxConcurrentStreams: with more callers than the
		// server's stream limit it stalls them until they time out
		// (golang/go#70809). Non-strict, a request over the limit opens
		// another connection instead, so Concurrency should stay within
		// APNs's limit (500 to 1,500 observed), and Push sends its first
		// push alone on an idle client (see Push).
	}
	client.Host = opts.Host
	client.HTTPClient = &http.Client{Transport: transport, Timeout: opts.Timeout}
	return &Client{
		apns:      client,
		transport: transport,
		topic:     opts.Topic,
		pushType:  apns2.EPushType(opts.PushType),
		priority:  opts.Priority,
		timeout:   opts.Timeout,
		slots:     make(chan struct{}, opts.Concurrency),
	}, nil
}

// Close drops idle connections to APNs. Pushes still in flight finish.
func (c *Client) Close() {
	c.transport.CloseIdleConnections()
}

func (o Options) withDefaults() (Options, error) {
	bad := func(format string, args ...any) (Options, error) {
		return o, fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, args...))
	}
	hasCert := o.Certificate != nil
	hasKey := len(o.AuthKeyP8) > 0
	switch {
	case hasCert == hasKey:
		return bad("give exactly one of Certificate and AuthKeyP8")
	case hasCert && len(o.Certificate.Certificate) == 0:
		return bad("certificate has no chain")
	case hasKey && (o.KeyID == "" || o.TeamID == ""):
		return bad("token authentication needs KeyID and TeamID")
	case o.Topic == "":
		return bad("topic (pass type identifier) is empty")
	case o.Concurrency < 0 || o.Timeout < 0:
		return bad("concurrency and timeout must not be negative")
	}
	if o.Host == "" {
		o.Host = HostProduction
	}
	if o.PushType == "" {
		o.PushType = DefaultPushType
	}
	if o.Priority == 0 {
		o.Priority = DefaultPriority
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.PushType != "background" && o.PushType != "alert":
		return bad("push type %q: want background or alert", o.PushType)
	case o.Priority != 1 && o.Priority != 5 && o.Priority != 10:
		return bad("priority %d: want 1, 5 or 10", o.Priority)
	case o.PushType == "background" && o.Priority == 10:
		return bad("priority 10 is not allowed for background pushes")
	}
	return o, nil
}

func dialTLS(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: dialTimeout, KeepAlive: tcpKeepAlive},
		Config:    cfg,
	}
	return d.DialContext(ctx, network, addr)
}

// Host returns the APNs base URL the Client pushes to, for start-up logs.
func (c *Client) Host() string {
	return c.apns.Host
}
