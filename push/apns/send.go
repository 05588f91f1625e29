package apns

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/sideshow/apns2"

	"github.com/loyalpass/loyalpass/push"
)

// emptyPayload is the whole body of a pass update: Wallet ignores aps
// content and shows the changed field's changeMessage instead.
var emptyPayload = []byte("{}")

// Push sends a pass update to every token, at most Concurrency at a time
// over the Client's HTTP/2 connection(s), and returns one Result per token
// in input order. When ctx ends, tokens not yet answered come back as
// Retry.
func (c *Client) Push(ctx context.Context, tokens []string) []push.Result {
	results := make([]push.Result, len(tokens))
	c.PushEach(ctx, tokens, func(i int, r push.Result) { results[i] = r })
	return results
}

// PushEach is Push reporting each token's result to done as its answer
// arrives, with the token's index; done is called once per token, from
// several goroutines at once. A goroutine that called done sends nothing
// more until done returns, so a done that waits (to record the result)
// holds back the call's sends: at most Concurrency tokens of one call are
// sent and not yet through done.
func (c *Client) PushEach(ctx context.Context, tokens []string, done func(i int, r push.Result)) {
	first := 0
	if len(c.slots) == 0 && len(tokens) > 1 {
		// Nothing in flight, so the connection may be new: until its
		// SETTINGS arrive the transport assumes 100 streams, and APNs
		// may allow fewer (1 while it checks a provider token). A burst
		// then opens a connection per refused request, which APNs treats
		// as abuse; so one push goes alone first, and the rest follow
		// once the connection and its real limit are known.
		done(0, c.pushOne(ctx, tokens[0]))
		first = 1
	}
	// Once ctx ends, pushOne answers the tokens left at once, so they are
	// still reported from several goroutines, and a done that waits for
	// them is not made to take them one by one.
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(cap(c.slots), len(tokens)-first) {
		wg.Go(func() {
			for i := range next {
				done(i, c.pushOne(ctx, tokens[i]))
			}
		})
	}
	for i := first; i < len(tokens); i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// pushOne sends one notification once it holds one of the Client's slots,
// which bound requests in flight across concurrent Push calls.
func (c *Client) pushOne(ctx context.Context, tok string) push.Result {
	if !isHex(tok) {
		// APNs would answer BadDeviceToken; a token that is not hex could
		// also break the request path, so it never leaves the process.
		return push.Result{Token: tok, Outcome: push.Gone, Reason: apns2.ReasonBadDeviceToken + " (not hex, not sent)"}
	}
	if ctx.Err() != nil {
		return errorResult(ctx, tok, ctx.Err())
	}
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return errorResult(ctx, tok, ctx.Err())
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.apns.PushWithContext(rctx, &apns2.Notification{
		DeviceToken: tok,
		Topic:       c.topic,
		Payload:     emptyPayload,
		PushType:    c.pushType,
		Priority:    c.priority,
	})
	if err != nil {
		return errorResult(ctx, tok, err)
	}
	return responseResult(tok, resp)
}

// responseResult maps an APNs answer onto an Outcome, following
// apple-wallet.md §5.1: dead tokens are Gone, configuration errors Failed
// (never delete registrations for those), throttling and outages Retry.
func responseResult(tok string, resp *apns2.Response) push.Result {
	r := push.Result{Token: tok, Reason: resp.Reason}
	if r.Reason == "" && resp.StatusCode != http.StatusOK {
		r.Reason = fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	switch status := resp.StatusCode; {
	case status == http.StatusOK:
		r.Outcome = push.Delivered
	case status == http.StatusGone:
		r.Outcome = push.Gone
		if !resp.Timestamp.IsZero() {
			r.At = resp.Timestamp.Time
		}
	case status == http.StatusBadRequest && resp.Reason == apns2.ReasonBadDeviceToken:
		r.Outcome = push.Gone
	case status == http.StatusBadRequest && resp.Reason == apns2.ReasonIdleTimeout:
		r.Outcome = push.Retry // the connection idled out, not the request's fault
	case status == http.StatusTooManyRequests || status >= http.StatusInternalServerError:
		r.Outcome = push.Retry
	default:
		r.Outcome = push.Failed
	}
	return r
}

// errorResult maps a transport error. Anything transient is Retry; a TLS
// rejection of our certificate (or of APNs's) is a configuration error that
// retrying will not fix. Reasons never carry the request URL, which holds
// the token.
func errorResult(ctx context.Context, tok string, err error) push.Result {
	r := push.Result{Token: tok, Outcome: push.Retry}
	var (
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		netErr  net.Error
	)
	switch {
	case ctx.Err() != nil:
		r.Reason = "canceled: " + ctx.Err().Error()
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		r.Reason = "timeout"
	case isCertAlert(err):
		r.Outcome = push.Failed
		r.Reason = "BadCertificate (TLS " + innerError(err).Error() + ")"
	case errors.As(err, &verify) || errors.As(err, &unknown):
		r.Outcome = push.Failed
		r.Reason = "untrusted APNs server certificate: " + innerError(err).Error()
	default:
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			r.Reason = "unreadable APNs answer: " + err.Error()
		} else {
			r.Reason = "network: " + innerError(err).Error()
		}
	}
	return r
}

// isCertAlert reports a TLS alert from the server refusing our client
// certificate: bad, unsupported, revoked, expired or unknown certificate,
// unknown CA, certificate required (RFC 8446 §6.2). crypto/tls reports
// received alerts as a *net.OpError "remote error" around an unexported
// type, so the alert's text is all there is to go on.
func isCertAlert(err error) bool {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return false
	}
	msg := op.Err.Error()
	return strings.Contains(msg, "certificate")
}

// innerError drops the *url.Error wrapper, whose text includes the URL and
// so the device token.
func innerError(err error) error {
	var u *url.Error
	if errors.As(err, &u) {
		return u.Err
	}
	return err
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
