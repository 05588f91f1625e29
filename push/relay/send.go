package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/loyalpass/loyalpass/internal/netguard"
	"github.com/loyalpass/loyalpass/push"
)

const (
	// maxAnswer caps how much of a relay's answer is read.
	maxAnswer = 64 << 10
	userAgent = "loyalpass"
)

// pushJob is one Push call: its batches write disjoint ranges of results.
type pushJob struct {
	relays     *Relays
	ep         endpoint
	passTypeID string
	tokens     []string
	results    []push.Result

	mu        sync.Mutex
	throttled bool
	wait      time.Duration
}

// answer is what one HTTP call to a relay came back with.
type answer struct {
	status     int
	retryAfter time.Duration
	body       []byte
	err        error
}

// send pushes tokens[lo:hi] in one call, splitting on 413 and, for
// PassWallet, falling back to one call per token when the batch endpoint
// is refused.
func (j *pushJob) send(ctx context.Context, lo, hi int) {
	toks := j.tokens[lo:hi]
	a := j.relays.post(ctx, j.ep.base+j.ep.path(j.passTypeID), j.ep, j.ep.body(j.passTypeID, toks))
	switch {
	case a.err == nil && a.status == http.StatusRequestEntityTooLarge && len(toks) > 1:
		mid := lo + len(toks)/2
		j.send(ctx, lo, mid)
		j.send(ctx, mid, hi)
		return
	case a.err == nil && j.ep.vendor == PassWallet && batchRefused(a.status):
		for i := lo; i < hi; i++ {
			body := passWalletSingleBody{PassTypeID: j.passTypeID, PushToken: j.tokens[i]}
			j.set(i, i+1, j.relays.post(ctx, j.ep.base+"/v1/pushUpdate", j.ep, body))
		}
		return
	}
	j.set(lo, hi, a)
}

// set maps a onto results[lo:hi].
func (j *pushJob) set(lo, hi int, a answer) {
	r := outcome(a)
	if a.status == http.StatusTooManyRequests {
		j.mu.Lock()
		j.throttled, j.wait = true, max(j.wait, a.retryAfter)
		j.mu.Unlock()
	}
	var gone map[string]string
	if j.ep.vendor == WalletUnion || j.ep.vendor == WalletUnionHMS {
		r, gone = walletUnionOutcome(r, a)
	}
	fill(j.results[lo:hi], j.tokens[lo:hi], r)
	for i := lo; i < hi; i++ {
		if reason, ok := gone[j.tokens[i]]; ok {
			j.results[i] = push.Result{Token: j.tokens[i], Outcome: push.Gone, Reason: reason}
		}
	}
}

// throttledFor reports whether the relay has answered 429 during this Push,
// and the longest wait it asked for.
func (j *pushJob) throttledFor() (time.Duration, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.wait, j.throttled
}

// outcome maps an HTTP answer: 2xx Delivered; 408, 429 and 5xx Retry
// (after Retry-After when given); any other answer Failed.
func outcome(a answer) push.Result {
	var refused *netguard.RefusedError
	if errors.As(a.err, &refused) {
		// The relay's address is internal: asking again will not help.
		return push.Result{Outcome: push.Failed, Reason: refused.Error()}
	}
	if a.err != nil {
		return push.Result{Outcome: push.Retry, Reason: describe(a.err)}
	}
	r := push.Result{Reason: fmt.Sprintf("HTTP %d", a.status), RetryAfter: a.retryAfter}
	switch {
	case a.status >= 200 && a.status < 300:
		r.Outcome, r.Reason, r.RetryAfter = push.Delivered, "", 0
	case a.status == http.StatusRequestTimeout, a.status == http.StatusTooManyRequests, a.status >= 500:
		r.Outcome = push.Retry
	default:
		r.Outcome, r.RetryAfter = push.Failed, 0
	}
	return r
}

// walletUnionAnswer is WalletUnion's documented response body.
type walletUnionAnswer struct {
	Status  string   `json:"status"`
	Unknown []string `json:"unknown_push_tokens"`
	Expired []string `json:"expired_push_tokens"`
}

// walletUnionOutcome refines r with WalletUnion's body: listed tokens are
// Gone whatever the status; for the rest, a 2xx with status FCM_FAILED or
// ERROR is Retry (the vendor does not say what reached devices, and a
// repeated wake-up is harmless; the Gone tokens are out of the next try).
func walletUnionOutcome(r push.Result, a answer) (push.Result, map[string]string) {
	var body walletUnionAnswer
	if a.err != nil || json.Unmarshal(a.body, &body) != nil {
		return r, nil
	}
	gone := make(map[string]string, len(body.Unknown)+len(body.Expired))
	for _, t := range body.Unknown {
		gone[t] = "unknown_push_tokens"
	}
	for _, t := range body.Expired {
		gone[t] = "expired_push_tokens"
	}
	if r.Outcome == push.Delivered && body.Status != "" && body.Status != "OK" {
		r = push.Result{Outcome: push.Retry, Reason: body.Status}
	}
	return r, gone
}

// batchRefused reports answers after which PassWallet's batch endpoint is
// taken as unsupported by that relay.
func batchRefused(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return false
}

// post sends body as JSON to target with ep's credential.
func (r *Relays) post(ctx context.Context, target string, ep endpoint, body any) answer {
	buf, err := json.Marshal(body)
	if err != nil {
		return answer{err: fmt.Errorf("encode body: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(buf))
	if err != nil {
		return answer{err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	ep.auth(req.Header, ep.key)
	resp, err := r.client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer)) // a short body still has its status
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	return answer{
		status:     resp.StatusCode,
		retryAfter: push.RetryAfter(resp.Header.Get("Retry-After"), r.now()),
		body:       data,
	}
}

// describe names a transport error in words (netguard.Describe): the
// reason is stored where the merchant reads it, and a raw dial error
// would tell a device that registered pushServiceUrl which internal ports
// answer.
func describe(err error) string {
	switch d := netguard.Describe(err); d {
	case "canceled":
		return "canceled: " + context.Canceled.Error()
	case "timed out":
		return "timeout"
	default:
		return "network: " + d
	}
}
