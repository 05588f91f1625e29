package fcm

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"

	"github.com/loyalpass/loyalpass/push"
)

// classify maps the error FCM gave for one token onto push.Outcome.
//
//   - UNREGISTERED (404): the app was uninstalled or the token expired.
//     Gone: delete the registration.
//   - INVALID_ARGUMENT naming message.token: the token is malformed and
//     will never work. Gone. INVALID_ARGUMENT about anything else is our
//     payload's fault: Failed, and the token stays.
//   - SENDER_ID_MISMATCH: the token belongs to another Firebase project,
//     typically a pkpass app vendor's token, or our credentials are for
//     the wrong project. The token may be alive for its own sender, so
//     deleting the registration would be wrong; it is a configuration
//     mistake to alert on. Failed.
//   - QUOTA_EXCEEDED (429), UNAVAILABLE (503), INTERNAL (500): FCM asks
//     to back off. Retry, after Retry-After when given.
//   - THIRD_PARTY_AUTH_ERROR, 401, 403 and other 4xx: our credentials or
//     request are wrong. Failed.
//   - no HTTP answer (timeout, connection error): Retry.
func classify(token string, err error) push.Result {
	r := push.Result{Token: token}
	resp := errorutils.HTTPResponse(err)
	code := ""
	switch {
	case messaging.IsUnregistered(err):
		r.Outcome, code = push.Gone, "UNREGISTERED"
	case messaging.IsInvalidArgument(err) && blamesToken(resp):
		r.Outcome, code = push.Gone, "INVALID_ARGUMENT (token)"
	case messaging.IsSenderIDMismatch(err):
		r.Outcome, code = push.Failed, "SENDER_ID_MISMATCH"
	case messaging.IsQuotaExceeded(err):
		r.Outcome, code = push.Retry, "QUOTA_EXCEEDED"
	case messaging.IsUnavailable(err):
		r.Outcome, code = push.Retry, "UNAVAILABLE"
	case messaging.IsInternal(err):
		r.Outcome, code = push.Retry, "INTERNAL"
	case messaging.IsThirdPartyAuthError(err):
		r.Outcome, code = push.Failed, "THIRD_PARTY_AUTH_ERROR"
	case resp == nil:
		r.Outcome = push.Retry
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		r.Outcome, code = push.Retry, "HTTP "+strconv.Itoa(resp.StatusCode)
	default:
		r.Outcome, code = push.Failed, "HTTP "+strconv.Itoa(resp.StatusCode)
	}
	r.Reason = err.Error()
	if code != "" {
		r.Reason = code + ": " + r.Reason
	}
	if r.Outcome == push.Retry && resp != nil {
		r.RetryAfter = push.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return r
}

// blamesToken reports whether an INVALID_ARGUMENT answer is about the
// token: a google.rpc.BadRequest detail with a fieldViolation on
// "message.token", or, when FCM leaves the details out, a message about
// the registration token.
func blamesToken(resp *http.Response) bool {
	if resp == nil || resp.Body == nil {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return false
	}
	var body struct {
		Error struct {
			Message string `json:"message"`
			Details []struct {
				FieldViolations []struct {
					Field string `json:"field"`
				} `json:"fieldViolations"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &body) != nil {
		return false
	}
	for _, d := range body.Error.Details {
		for _, v := range d.FieldViolations {
			if v.Field == "message.token" {
				return true
			}
		}
	}
	return strings.Contains(strings.ToLower(body.Error.Message), "registration token")
}
