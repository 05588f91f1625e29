// Package relay wakes passes held in Android pkpass wallet apps. Those apps
// speak Apple's web-service protocol but register a token of their own push
// system, so the server does not push through APNs or its own FCM project:
// it asks the app vendor's HTTP relay to do it (android-and-fcm.md §1-2).
//
// Each relay has its own path, auth header, body shape and batch limit; Push
// hides them behind one call and maps every answer onto push.Outcome.
// Classify tells from a registration request which app (and so which
// relay) a token belongs to.
package relay

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/loyalpass/loyalpass/internal/netguard"
	"github.com/loyalpass/loyalpass/push"
)

// Vendor names a push channel for a registration: one of the relays, or
// Apple (APNs, package apns), or Unknown.
type Vendor string

// The channels Classify can return. Every one but Apple and Unknown is a
// relay Push knows.
const (
	Unknown        Vendor = ""
	Apple          Vendor = "apple"
	WalletPasses   Vendor = "walletpasses"
	PassWallet     Vendor = "passwallet"
	Pass2U         Vendor = "pass2u"
	WalletUnion    Vendor = "walletunion"
	WalletUnionHMS Vendor = "walletunion_hms"
	Passworks      Vendor = "passworks"
	PassHub        Vendor = "passhub"
)

// Config is one relay's endpoint and credential.
type Config struct {
	// BaseURL replaces the vendor's documented production base URL. For
	// WalletUnion it is the full push endpoint URL and has no default:
	// the vendor hands it out with the API key and our sources do not
	// confirm it. WalletUnionHMS falls back to WalletUnion's Config.
	// PassWallet ignores it: each registration brings its own
	// pushServiceUrl.
	BaseURL string
	// APIKey is required for Pass2U, WalletUnion, Passworks and PassHub,
	// and optional (but recommended against rate limits) for
	// WalletPasses.
	APIKey string
}

// Options configures Relays.
type Options struct {
	// Vendors holds per-relay settings; a relay without an entry uses its
	// defaults and works only if it needs no API key.
	Vendors map[Vendor]Config
	// Timeout bounds one HTTP call to a relay (default 15s).
	Timeout time.Duration
	// Concurrency bounds calls in flight per Push (default 4).
	Concurrency int
	// Now is the clock for Retry-After dates (default time.Now).
	Now func() time.Time
	// Outbound guards every connection to a relay: PassWallet's relay is
	// whatever URL a device registered, so it must not reach internal
	// addresses. Default: a guard that refuses them all.
	Outbound *netguard.Guard
}

const (
	defaultTimeout     = 15 * time.Second
	defaultConcurrency = 4
)

// Relays sends pushes to the vendor relays. It is safe for concurrent use.
type Relays struct {
	client      *http.Client
	guard       *netguard.Guard
	vendors     map[Vendor]Config
	concurrency int
	now         func() time.Time
}

// New checks opts and returns Relays sharing one HTTP client.
func New(opts Options) (*Relays, error) {
	r := &Relays{
		vendors:     make(map[Vendor]Config, len(opts.Vendors)),
		concurrency: opts.Concurrency,
		now:         opts.Now,
	}
	for v, c := range opts.Vendors {
		if _, ok := specs[v]; !ok {
			return nil, fmt.Errorf("relay: config for unknown vendor %q", v)
		}
		if c.BaseURL != "" {
			if err := checkURL(c.BaseURL); err != nil {
				return nil, fmt.Errorf("relay: %s base URL: %w", v, err)
			}
		}
		r.vendors[v] = c
	}
	if opts.Timeout < 0 || opts.Concurrency < 0 {
		return nil, fmt.Errorf("relay: timeout and concurrency must not be negative")
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	if r.concurrency == 0 {
		r.concurrency = defaultConcurrency
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.guard = opts.Outbound
	if r.guard == nil {
		r.guard = netguard.New(netguard.Options{})
	}
	// The guarded client follows no redirect: one would carry custom key
	// headers (x-api-key) to whatever host it names, and relays have no
	// reason to redirect.
	r.client = r.guard.Client(timeout)
	return r, nil
}

// Push asks vendor's relay to wake every token's pass of type passTypeID,
// in batches of the relay's limit, and returns one Result per token in
// input order. serviceURL is the registration's pushServiceUrl and is used
// by PassWallet only. After a 429 the batches not yet sent come back as
// Retry with the relay's Retry-After, and when ctx ends so do the rest. A
// vendor that is not configured, a bad serviceURL, or a relay on an
// internal address (refused by Options.Outbound) makes every result
// Failed.
func (r *Relays) Push(ctx context.Context, vendor Vendor, passTypeID, serviceURL string, tokens []string) []push.Result {
	results := make([]push.Result, len(tokens))
	ep, err := r.endpoint(vendor, serviceURL)
	if err == nil && passTypeID == "" {
		err = fmt.Errorf("relay: empty pass type identifier")
	}
	if err != nil {
		fill(results, tokens, push.Result{Outcome: push.Failed, Reason: err.Error()})
		return results
	}
	job := &pushJob{relays: r, ep: ep, passTypeID: passTypeID, tokens: tokens, results: results}
	slots := make(chan struct{}, r.concurrency)
	var wg sync.WaitGroup
	for lo := 0; lo < len(tokens); lo += ep.limit {
		hi := min(lo+ep.limit, len(tokens))
		if ctx.Err() == nil {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
			}
		}
		if err := ctx.Err(); err != nil {
			fill(results[lo:], tokens[lo:], push.Result{Outcome: push.Retry, Reason: "canceled: " + err.Error()})
			break
		}
		if wait, ok := job.throttledFor(); ok {
			<-slots
			fill(results[lo:hi], tokens[lo:hi], push.Result{Outcome: push.Retry, Reason: "HTTP 429 (not sent)", RetryAfter: wait})
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			job.send(ctx, lo, hi)
		})
	}
	wg.Wait()
	return results
}

// fill sets every result to r for its token.
func fill(results []push.Result, tokens []string, r push.Result) {
	for i := range results {
		r.Token = tokens[i]
		results[i] = r
	}
}
