package gwallet

import "time"

// Google's notification budget: "Both message and update notifications
// are limited to 3 per pass within a 24-hour period".
const (
	DefaultNotifyLimit  = 3
	DefaultNotifyWindow = 24 * time.Hour
)

// NotifyQuota decides whether the next update of a pass may notify, from
// the times its earlier notifications went out. Google does not say
// whether updates and messages share one budget, so give it both kinds.
//
// The times belong in the store next to the card: the budget outlives a
// restart. The zero value uses Google's limits and the system clock.
type NotifyQuota struct {
	Limit  int              // notifications allowed per Window; 0 means DefaultNotifyLimit
	Window time.Duration    // sliding window; 0 means DefaultNotifyWindow
	Now    func() time.Time // the clock; nil means time.Now
}

// Decide returns Visible when fewer than Limit of sent fall within the
// Window before now, and Silent otherwise. The window slides: Google does
// not say where its 24 hours start, and a sliding window never spends
// more than Google's fixed one could.
func (q NotifyQuota) Decide(sent []time.Time) Notification {
	if len(q.Recent(sent)) < q.limit() {
		return Visible
	}
	return Silent
}

// Recent returns the times of sent that still count against the budget,
// in their order: what is worth keeping in the store.
func (q NotifyQuota) Recent(sent []time.Time) []time.Time {
	now := time.Now()
	if q.Now != nil {
		now = q.Now()
	}
	window := q.Window
	if window <= 0 {
		window = DefaultNotifyWindow
	}
	since := now.Add(-window)
	var recent []time.Time
	for _, t := range sent {
		if t.After(since) {
			recent = append(recent, t)
		}
	}
	return recent
}

func (q NotifyQuota) limit() int {
	if q.Limit <= 0 {
		return DefaultNotifyLimit
	}
	return q.Limit
}
