package push

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter bounds the wait a service may ask for: a Retry-After of a
// week, or a date far ahead, must not park a card's update for that long.
const MaxRetryAfter = 24 * time.Hour

// RetryAfter reads a Retry-After header value, delay-seconds or an
// HTTP-date (RFC 9110 §10.2.3), as a wait from now, at most MaxRetryAfter.
// An absent, unreadable or past value is 0: the caller's back-off decides.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(min(secs, int(MaxRetryAfter/time.Second))) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}
