package gwallet

import (
	"context"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/push"
)

func TestNotifyQuotaDecide(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	q := NotifyQuota{Now: func() time.Time { return now }}
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	for _, tt := range []struct {
		name string
		sent []time.Time
		want Notification
	}{
		{"none yet", nil, Visible},
		{"two today", []time.Time{ago(5 * time.Hour), ago(time.Hour)}, Visible},
		{"three today", []time.Time{ago(23 * time.Hour), ago(5 * time.Hour), ago(time.Minute)}, Silent},
		{"oldest just left the window", []time.Time{ago(24 * time.Hour), ago(5 * time.Hour), ago(time.Minute)}, Visible},
		{"many, all old", []time.Time{ago(72 * time.Hour), ago(50 * time.Hour), ago(30 * time.Hour), ago(25 * time.Hour)}, Visible},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := q.Decide(tt.sent); got != tt.want {
				t.Errorf("Decide = %v, want %v", got, tt.want)
			}
		})
	}
	if got := q.Recent([]time.Time{ago(30 * time.Hour), ago(2 * time.Hour)}); len(got) != 1 || !got[0].Equal(ago(2*time.Hour)) {
		t.Errorf("Recent = %v", got)
	}
	if got := (NotifyQuota{Limit: 1, Window: time.Hour, Now: q.Now}).Decide([]time.Time{ago(30 * time.Minute)}); got != Silent {
		t.Errorf("custom limit: Decide = %v", got)
	}
}

// TestFourthNotificationGoesSilent drives balance changes an hour apart
// through the quota and the client, as the outbox worker will: the first
// three PATCHes ask for a notification, the fourth does not, and a day
// after the first the budget is back.
func TestFourthNotificationGoesSilent(t *testing.T) {
	c, srv := newTestClient(t)
	_, seen := insertBoth(t, c, srv)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	q := NotifyQuota{Now: func() time.Time { return now }}
	var sent []time.Time
	update := func(balance int64) Notification {
		n := q.Decide(sent)
		r := c.PatchObject(context.Background(), object(t, balance), n)
		if r.Outcome != push.Delivered {
			t.Fatalf("PatchObject: %+v", r)
		}
		if n == Visible {
			sent = append(q.Recent(sent), now)
		}
		return n
	}
	var got []Notification
	for i := range 4 {
		got = append(got, update(int64(100+i)))
		now = now.Add(time.Hour)
	}
	now = time.Date(2026, 3, 2, 9, 0, 1, 0, time.UTC) // 24 h after the first
	got = append(got, update(200))

	want := []Notification{Visible, Visible, Visible, Silent, Visible}
	reqs := srv.Requests()[seen:]
	for i, n := range want {
		if got[i] != n {
			t.Errorf("update %d decided %v, want %v", i+1, got[i], n)
		}
		np, has := reqs[i].JSON()["notifyPreference"]
		if (n == Visible) != (has && np == "NOTIFY_ON_UPDATE") {
			t.Errorf("update %d sent notifyPreference %v (present %v)", i+1, np, has)
		}
	}
}
