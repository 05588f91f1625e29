package loyalty

import (
	"testing"
	"time"
)

func TestRoute(t *testing.T) {
	sms := Reach{Phone: true, AdsConsent: true, Budget: true, Provider: true}
	with := func(r Reach, f func(*Reach)) Reach { f(&r); return r }
	tests := []struct {
		name    string
		r       Reach
		channel string
	}{
		{"installed Apple card: the lock screen, even with SMS", with(sms, func(r *Reach) { r.Wallet = true }), ChannelWallet},
		{"Google Wallet with notifications left", with(sms, func(r *Reach) { r.Google, r.GoogleQuota = true, 3 }), ChannelGoogle},
		{"Google Wallet used up: the app", Reach{Google: true, GoogleNotified: 3, GoogleQuota: 3, App: true}, ChannelApp},
		{"Google Wallet used up: SMS", with(sms, func(r *Reach) { r.Google, r.GoogleNotified, r.GoogleQuota = true, 3, 3 }), ChannelSMS},
		{"the app before SMS", with(sms, func(r *Reach) { r.App = true }), ChannelApp},
		{"SMS with consent", sms, ChannelSMS},
		{"no consent: nothing", with(sms, func(r *Reach) { r.AdsConsent = false }), ""},
		{"no number: nothing", with(sms, func(r *Reach) { r.Phone = false }), ""},
		{"budget spent: nothing", with(sms, func(r *Reach) { r.Budget = false }), ""},
		{"no provider: nothing", with(sms, func(r *Reach) { r.Provider = false }), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, why := Route(tt.r)
			if ch != tt.channel {
				t.Fatalf("channel = %q (%s), want %q", ch, why, tt.channel)
			}
			if (ch == "") != (why != "") {
				t.Fatalf("channel %q with reason %q", ch, why)
			}
		})
	}
}

func TestQuietHours(t *testing.T) {
	msk, _ := time.LoadLocation("Europe/Moscow")
	at := func(h, m int) time.Time { return time.Date(2026, 3, 10, h, m, 0, 0, msk) }
	night := QuietHours{Start: 21, End: 9, Zone: msk}
	tests := []struct {
		q     QuietHours
		now   time.Time
		quiet bool
		ends  time.Time
	}{
		{night, at(12, 0), false, at(12, 0)},
		{night, at(21, 0), true, time.Date(2026, 3, 11, 9, 0, 0, 0, msk)},
		{night, at(3, 30), true, at(9, 0)},
		{night, at(9, 0), false, at(9, 0)},
		{QuietHours{Start: 13, End: 14, Zone: msk}, at(13, 59), true, at(14, 0)},
		{QuietHours{Start: 5, End: 5, Zone: msk}, at(5, 0), false, at(5, 0)},
	}
	for _, tt := range tests {
		if got := tt.q.Quiet(tt.now); got != tt.quiet {
			t.Errorf("%d–%d at %s: quiet = %v", tt.q.Start, tt.q.End, tt.now.Format("15:04"), got)
		}
		if got := tt.q.Ends(tt.now); !got.Equal(tt.ends) {
			t.Errorf("%d–%d at %s: ends %v, want %v", tt.q.Start, tt.q.End, tt.now.Format("15:04"), got, tt.ends)
		}
	}
}

func TestCapped(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	day := 24 * time.Hour
	tests := []struct {
		last   *time.Time
		days   int
		capped bool
	}{
		{nil, 14, false},
		{ago(13 * day), 14, true},
		{ago(14 * day), 14, false},
		{ago(time.Minute), 0, false},
	}
	for _, tt := range tests {
		if got := Capped(tt.last, now, tt.days); got != tt.capped {
			t.Errorf("last %v, cap %d: capped = %v", tt.last, tt.days, got)
		}
	}
}
