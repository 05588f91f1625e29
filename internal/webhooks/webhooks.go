// Package webhooks delivers merchants' webhook events: it claims queued
// deliveries, POSTs each to its endpoint signed with HMAC-SHA256 over a
// timestamp and the body (header "Loyalpass-Signature: t=…,v1=…"), and
// retries failures with back-off for a day. Deliveries run concurrently
// with a timeout each, so a slow or failing receiver holds up nobody else.
// Every connection passes a netguard.Guard, so an endpoint that is, or
// resolves to, an internal address is refused and never called.
package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/loyalpass/loyalpass/internal/drain"
	"github.com/loyalpass/loyalpass/internal/netguard"
	"github.com/loyalpass/loyalpass/internal/retry"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push"
)

// SignatureHeader carries the signature of a delivery.
const SignatureHeader = "Loyalpass-Signature"

// Store is what the sender needs of the database.
type Store interface {
	ClaimWebhooks(ctx context.Context, limit int, lease time.Duration) ([]store.WebhookDelivery, error)
	FinishWebhook(ctx context.Context, id int64, status string, httpStatus int, lastErr string, retryAt time.Time) error
	WebhooksQueued() <-chan struct{}
}

// Options configures a Sender.
type Options struct {
	Store Store
	// Outbound guards every connection: a merchant names the URL, so it
	// must not reach internal addresses (default: a guard that refuses
	// them all). Its client follows no redirect.
	Outbound *netguard.Guard
	// Development is set when the server runs in development mode; only
	// then may an endpoint use plain http.
	Development bool
	Timeout     time.Duration // per delivery (default 10 s)
	Concurrency int           // deliveries in flight (default 16)
	GiveUpAfter time.Duration // retry for this long after the event (default 24 h)
	Poll        time.Duration // idle poll (default 1 s)
	Log         *slog.Logger
	Now         func() time.Time
	// Grace is how long, once Run's context ends, the posts in flight get
	// to finish (default 20 s).
	Grace time.Duration
}

// Sender delivers webhooks until its context ends.
type Sender struct {
	opts   Options
	client *http.Client
	log    *slog.Logger
	policy retry.Policy
	slots  chan struct{} // one per delivery in flight
	wg     sync.WaitGroup
}

// New returns a Sender with defaults filled in.
func New(o Options) *Sender {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Outbound == nil {
		o.Outbound = netguard.New(netguard.Options{})
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = 24 * time.Hour
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 20 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	// Back-off: 30 s, 1 min, 2 min … at most an hour, for GiveUpAfter.
	policy := retry.Policy{First: 30 * time.Second, Max: time.Hour, GiveUpAfter: o.GiveUpAfter}
	return &Sender{opts: o, client: o.Outbound.Client(o.Timeout), log: o.Log.With("component", "webhooks"), policy: policy,
		slots: make(chan struct{}, o.Concurrency)}
}

// Sign returns the signature header value for body at time t:
// "t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>." + body)>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature header as a receiver should: the HMAC in
// constant time, and the timestamp within tolerance of now.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return false
	}
	t := time.Unix(sec, 0)
	if now.Sub(t) > tolerance || t.Sub(now) > tolerance {
		return false
	}
	want := Sign(secret, t, body)
	return hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig))
}

// Run delivers until ctx ends, then claims nothing more and waits for
// the deliveries in flight, which get Grace to finish.
func (s *Sender) Run(ctx context.Context) {
	work, cancel := drain.Context(ctx, s.opts.Grace)
	defer cancel()
	defer s.wg.Wait()
	for {
		n, err := s.round(ctx, work)
		if err != nil && ctx.Err() == nil {
			s.log.Error("webhook round failed", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-s.opts.Store.WebhooksQueued():
		case <-time.After(s.opts.Poll):
		}
	}
}

// RunOnce claims as many due deliveries as there are free slots and
// starts them without waiting: a receiver that hangs holds one slot for
// at most Timeout and delays no other delivery. It returns how many it
// started.
func (s *Sender) RunOnce(ctx context.Context) (int, error) {
	return s.round(ctx, ctx)
}

// round claims under claim and delivers under work, which outlives claim
// so that a stop lets posts in flight finish.
func (s *Sender) round(claim, ctx context.Context) (int, error) {
	free := cap(s.slots) - len(s.slots)
	if free == 0 {
		return 0, nil
	}
	ds, err := s.opts.Store.ClaimWebhooks(claim, free, 2*s.opts.Timeout+time.Minute)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	for _, d := range ds {
		s.slots <- struct{}{}
		s.wg.Go(func() {
			defer func() { <-s.slots }()
			s.deliver(ctx, d)
		})
	}
	return len(ds), nil
}

// Wait waits for the deliveries in flight.
func (s *Sender) Wait() { s.wg.Wait() }

// deliver posts d and records the outcome in words the merchant reads in
// the delivery list ("HTTP 500", "timed out", "refused: private
// address"), never the raw transport error: its addresses and socket
// messages would let a merchant scan the network behind the server.
func (s *Sender) deliver(ctx context.Context, d store.WebhookDelivery) {
	now := s.opts.Now()
	if reason := s.refuseURL(d.URL); reason != "" {
		s.log.Warn("webhook endpoint refused", "endpoint", d.EndpointID, "reason", reason)
		s.finish(ctx, d, "failed", 0, reason, now)
		return
	}
	body := []byte(d.Payload)
	status, retryAfter, err := s.post(ctx, d, body, now)
	if err == nil && status >= 200 && status < 300 {
		s.finish(ctx, d, "delivered", status, "", now)
		return
	}
	reason := fmt.Sprintf("HTTP %d", status)
	if err != nil {
		reason = netguard.Describe(err)
		var refused *netguard.RefusedError
		if errors.As(err, &refused) {
			// The name resolved to an internal address: a policy, not a
			// passing fault, so there is nothing to retry.
			s.log.Warn("webhook endpoint refused", "endpoint", d.EndpointID, "reason", reason, "addr", refused.Addr)
			s.finish(ctx, d, "failed", 0, reason, now)
			return
		}
		s.log.Debug("webhook delivery failed", "endpoint", d.EndpointID, "reason", reason, "err", err)
	}
	due, dead := s.policy.Next(d.Attempts, d.CreatedAt, now, retryAfter)
	if dead {
		s.log.Warn("webhook given up", "endpoint", d.EndpointID, "event", d.Event, "reason", reason)
		s.finish(ctx, d, "failed", status, reason, now)
		return
	}
	s.finish(ctx, d, "pending", status, reason, due)
}

// refuseURL says why an endpoint's stored URL may not be called (it was
// stored before the rules, or in development mode), or "".
func (s *Sender) refuseURL(raw string) string {
	err := s.opts.Outbound.CheckURL(raw)
	var refused *netguard.RefusedError
	switch {
	case errors.As(err, &refused):
		return refused.Error()
	case errors.Is(err, netguard.ErrCredentials):
		return "refused: credentials in URL"
	case err != nil:
		return "refused: not an http(s) URL"
	case !s.opts.Development && !strings.HasPrefix(strings.ToLower(raw), "https://"):
		return "refused: https required"
	}
	return ""
}

// post sends a delivery and returns the receiver's status and, when it
// asked for one, its wait (a 429 or 503 with Retry-After).
func (s *Sender) post(ctx context.Context, d store.WebhookDelivery, body []byte, now time.Time) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "loyalpass-webhooks/1")
	req.Header.Set("Loyalpass-Event", d.Event)
	req.Header.Set("Loyalpass-Delivery", strconv.FormatInt(d.ID, 10))
	req.Header.Set(SignatureHeader, Sign(d.Secret, now, body))
	res, err := s.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, push.RetryAfter(res.Header.Get("Retry-After"), now), nil
}

func (s *Sender) finish(ctx context.Context, d store.WebhookDelivery, status string, code int, reason string, retryAt time.Time) {
	// The outcome must be recorded even if the sender is stopping.
	if err := s.opts.Store.FinishWebhook(context.WithoutCancel(ctx), d.ID, status, code, reason, retryAt); err != nil {
		s.log.Error("recording a webhook delivery failed", "id", d.ID, "err", err)
	}
}
