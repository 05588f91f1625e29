// Package push names what every delivery channel reports back. The
// channels live in sub-packages, one per outside service (apns, relay,
// fcm, gwallet); the outbox worker in internal/ decides what to do with
// each Result.
package push

import "time"

// Outcome is what became of one push to one token.
type Outcome int

const (
	// Delivered: the service accepted the push.
	Delivered Outcome = iota
	// Gone: the token is dead (APNs 410 or BadDeviceToken, FCM
	// UNREGISTERED, a relay's expired list); remove the registration.
	Gone
	// Retry: a transient failure (429, 5xx, timeout, connection error);
	// try again after RetryAfter if set, else after the caller's back-off.
	Retry
	// Failed: a permanent failure that is not the token's fault (bad
	// credentials, wrong topic, malformed request); keep as a dead letter
	// and alert, never delete the registration.
	Failed
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Gone:
		return "gone"
	case Retry:
		return "retry"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// Result is the outcome of one push to one token.
type Result struct {
	Token   string
	Outcome Outcome
	// Reason is the service's own word for it ("BadDeviceToken",
	// "UNREGISTERED", "HTTP 503"), for logs and dead letters.
	Reason string
	// RetryAfter is the service's requested wait, when it gave one.
	RetryAfter time.Duration
	// At is the service's timestamp for a Gone token (APNs 410), when given:
	// a registration renewed after it must be kept.
	At time.Time
}
