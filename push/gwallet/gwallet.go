// Package gwallet keeps Google Wallet loyalty cards current over the Wallet
// REST API (google.golang.org/api/walletobjects/v1). Google needs no device
// token: a PATCH of the LoyaltyObject reaches every phone that saved it.
// Classes and objects are built by passes/google; this package inserts,
// patches and messages them, and maps each answer onto push.Outcome.
//
// A visible notification costs one of the pass's 3 per 24 hours: send one
// only when NotifyQuota says so, and keep the times they were sent.
//
// Tests point the client at gwallettest with option.WithEndpoint; the fake
// can also play Google's OAuth token endpoint, so the service-account path
// is exercised end to end (see gwallettest.Server.RequireServiceAccount).
package gwallet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	"google.golang.org/api/walletobjects/v1"

	"github.com/loyalpass/loyalpass/push"
)

// DefaultTimeout bounds one REST call, or two when a call falls back to
// another (insert after a 404, patch after a 409).
const DefaultTimeout = 20 * time.Second

// Notification says whether an update may show a notification on the
// phone. It is a type rather than a bool so calls read as what they do.
type Notification bool

const (
	// Silent updates the card without a notification.
	Silent Notification = false
	// Visible asks for a notification (notifyPreference NOTIFY_ON_UPDATE on
	// a patch, message type TEXT_AND_NOTIFY on a message).
	Visible Notification = true
)

// Client calls the Wallet REST API for one issuer.
type Client struct {
	svc     *walletobjects.Service
	timeout time.Duration
}

// New returns a Client authenticated with a service-account key (the
// JSON key file; its account must be a user of the issuer in the Pay &
// Wallet Console). opts come after the key: option.WithEndpoint points the
// client at a fake. An empty credentialsJSON leaves authentication to
// opts, e.g. option.WithoutAuthentication in tests.
//
// Each call is bounded by DefaultTimeout through its context rather than
// by an http.Client of our own: option.WithHTTPClient would replace the
// client that carries the key's authentication.
func New(ctx context.Context, credentialsJSON []byte, opts ...option.ClientOption) (*Client, error) {
	var o []option.ClientOption
	if len(credentialsJSON) > 0 {
		o = append(o, option.WithAuthCredentialsJSON(option.ServiceAccount, credentialsJSON))
	}
	o = append(o, opts...)
	svc, err := walletobjects.NewService(ctx, o...)
	if err != nil {
		return nil, fmt.Errorf("google wallet client: %w", err)
	}
	return &Client{svc: svc, timeout: DefaultTimeout}, nil
}

// result maps the answer of a call on resource id onto push.Outcome:
// 2xx Delivered; 429, 5xx, rate-limit 403s and transport errors Retry;
// any other 4xx Failed (bad credentials, a rejected field, an unknown
// class), which no retry will fix.
func result(id string, err error) push.Result {
	r := push.Result{Token: id, Outcome: push.Delivered}
	if err == nil {
		return r
	}
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		r.Outcome, r.Reason = push.Retry, err.Error()
		return r
	}
	r.Reason = "HTTP " + strconv.Itoa(gerr.Code)
	if reason := apiReason(gerr); reason != "" {
		r.Reason += " " + reason
	}
	if gerr.Message != "" {
		r.Reason += ": " + gerr.Message
	}
	switch {
	case gerr.Code == http.StatusTooManyRequests || gerr.Code >= 500,
		gerr.Code == http.StatusForbidden && isRateLimit(gerr):
		r.Outcome, r.RetryAfter = push.Retry, push.RetryAfter(gerr.Header.Get("Retry-After"), time.Now())
	default:
		r.Outcome = push.Failed
	}
	return r
}

// apiReason is the first error reason of a Google error ("resourceNotFound").
func apiReason(gerr *googleapi.Error) string {
	for _, e := range gerr.Errors {
		if e.Reason != "" {
			return e.Reason
		}
	}
	return ""
}

func isRateLimit(gerr *googleapi.Error) bool {
	r := apiReason(gerr)
	return r == "rateLimitExceeded" || r == "userRateLimitExceeded"
}

// isStatus reports whether err is a Google error with HTTP status code.
func isStatus(err error, code int) bool {
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && gerr.Code == code
}

// isNotifyQuota reports the 403 Google answers when a pass has used its
// notifications: {"errors":[{"reason":"quotaExceeded"}]}.
func isNotifyQuota(err error) bool {
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && gerr.Code == http.StatusForbidden && apiReason(gerr) == "quotaExceeded"
}

// newMessageID returns a unique message ID; Google keys messages by it.
func newMessageID() string {
	return "m" + rand.Text()
}
