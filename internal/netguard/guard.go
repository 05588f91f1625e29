// Package netguard keeps the server's outbound HTTP calls away from
// internal addresses. Some of those calls go where someone outside says:
// a PassWallet device names its push relay (pushServiceUrl), a merchant
// names its webhook URLs. Without a guard either could make the server
// reach 127.0.0.1, the cloud metadata service or the office network.
//
// The check runs when a connection is dialled, on the address DNS
// resolved to (a net.Dialer Control hook), so a name that resolves inward,
// a DNS answer that changes between checks and a redirect are all caught.
// An operator opens specific ranges with an allow-list (config key
// outbound_allow). Describe turns a failed call into words fit to store
// where a merchant reads them, without the raw dial error.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// RefusedError is returned (wrapped in the dial and URL errors) when a
// connection would reach an address the guard refuses.
type RefusedError struct {
	// Addr is the refused address; it is for logs, not for merchants.
	Addr  netip.Addr
	Class Class
}

func (e *RefusedError) Error() string { return "refused: " + string(e.Class) }

// ErrCredentials is returned by CheckURL for a URL that carries a user
// name or password.
var ErrCredentials = errors.New("must not carry a user name or password")

// Options configures a Guard.
type Options struct {
	// Allow lists the ranges that stay reachable although Classify would
	// refuse them (an operator's own relay on the private network; a test's
	// loopback fake).
	Allow []netip.Prefix
}

// Guard refuses connections to internal addresses. Its clients share one
// transport. It is safe for concurrent use.
type Guard struct {
	allow     []netip.Prefix
	transport *http.Transport
}

// New returns a Guard with its transport. A nil Guard is not usable; a
// Guard from New with no Allow refuses every internal address.
func New(opts Options) *Guard {
	g := &Guard{allow: make([]netip.Prefix, len(opts.Allow))}
	for i, p := range opts.Allow {
		// Check compares unmapped addresses, so ::ffff:10.0.0.0/104
		// must read as 10.0.0.0/8.
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		g.allow[i] = p.Masked()
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
	t := http.DefaultTransport.(*http.Transport).Clone()
	// Through a proxy the guard would see only the proxy's address, never
	// the destination, so guarded calls always connect directly.
	t.Proxy = nil
	t.DialContext = dialer.DialContext
	g.transport = t
	return g
}

// ParseAllow reads a comma-separated list of CIDR prefixes or single
// addresses ("127.0.0.0/8, ::1") as outbound_allow holds it.
func ParseAllow(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix", s)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix like 10.1.0.0/16", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Check returns a *RefusedError unless ip is public or allowed.
func (g *Guard) Check(ip netip.Addr) error {
	ip = ip.WithZone("").Unmap()
	c := Classify(ip)
	if c == Public {
		return nil
	}
	for _, p := range g.allow {
		if p.Contains(ip) {
			return nil
		}
	}
	return &RefusedError{Addr: ip, Class: c}
}

// control is the dialer's hook: address is the resolved "ip:port" about
// to be connected, whatever name or redirect led there.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Class: Reserved}
	}
	return g.Check(ap.Addr())
}

// CheckURL does the checks that need no DNS, for a URL given at
// registration or creation time: an absolute http or https URL, without
// a user name or password, whose host is not an internal address literal
// or a localhost name. The dial-time check still decides; this one lets
// the caller answer 4xx at once.
func (g *Guard) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("is not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("must be an absolute http(s) URL")
	case u.Host == "" || u.Hostname() == "":
		return errors.New("has no host")
	case u.User != nil:
		return ErrCredentials
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		// RFC 6761: these names are loopback whatever DNS says.
		if g.Check(netip.IPv6Loopback()) == nil || g.Check(netip.AddrFrom4([4]byte{127, 0, 0, 1})) == nil {
			return nil
		}
		return &RefusedError{Addr: netip.AddrFrom4([4]byte{127, 0, 0, 1}), Class: Loopback}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return g.Check(ip)
	}
	return nil
}

// Client returns an HTTP client with timeout whose connections pass the
// guard. It does not follow redirects: a redirect would carry the
// caller's headers (API keys, signatures) to a host the caller did not
// choose.
func (g *Guard) Client(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport:     g.transport,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
