// Package clientlimit is a token bucket per client address, for endpoints
// that take no authentication (the wallet log, the console's sign-in).
package clientlimit

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimiterKeys bounds the clients a Limiter remembers.
const maxLimiterKeys = 10000

// Limiter is a token bucket per client address. Its memory is bounded:
// when it knows maxLimiterKeys clients it forgets those whose bucket has refilled
// (forgetting them loses nothing), and if that frees too little, all.
type Limiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	refill  time.Duration // time for an empty bucket to fill
	now     func() time.Time
	clients map[netip.Addr]*clientBucket
}

type clientBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New allows perMinute requests a minute per client, in bursts of up to
// perMinute; now is the clock (nil: time.Now).
func New(perMinute int, now func() time.Time) *Limiter {
	perMinute = max(perMinute, 1)
	if now == nil {
		now = time.Now
	}
	return &Limiter{limit: rate.Limit(float64(perMinute) / 60), burst: perMinute, refill: time.Minute,
		now: now, clients: make(map[netip.Addr]*clientBucket)}
}

// Allow takes a token from the client's bucket, or says how long until
// one is there. Clients are told apart by IPv4 address or IPv6 /64, since
// one IPv6 host usually holds a whole /64.
func (l *Limiter) Allow(client string) (bool, time.Duration) {
	key := clientKey(client)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.clients[key]
	if b == nil {
		if len(l.clients) >= maxLimiterKeys {
			l.forget(now)
		}
		b = &clientBucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// forget drops the clients whose buckets are full again, and everyone if
// more than nine tenths remain (so a flood of new addresses costs one
// sweep per tenth of the table, not one per request).
func (l *Limiter) forget(now time.Time) {
	for k, b := range l.clients {
		if now.Sub(b.seen) >= l.refill {
			delete(l.clients, k)
		}
	}
	if len(l.clients) > maxLimiterKeys*9/10 {
		clear(l.clients)
	}
}

func clientKey(client string) netip.Addr {
	addr, err := netip.ParseAddr(client)
	if err != nil {
		return netip.Addr{} // unparseable: one shared bucket
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.Addr()
	}
	return addr
}
