package loyalty

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestValidateTrigger(t *testing.T) {
	plain := Program{ID: "p1"}
	expiring := Program{ID: "p2", PointsLifetimeDays: 90}
	tiered := Program{ID: "p3", Tiers: []Tier{{Code: "base"}, {Code: "gold", Threshold: 1000}}}
	tests := []struct {
		name  string
		t     Trigger
		p     Program
		field string // "" = valid
	}{
		{"birthday a week before", Trigger{Type: TriggerBirthday, Days: 7}, plain, ""},
		{"birthday too early", Trigger{Type: TriggerBirthday, Days: 61}, plain, "trigger.days_before"},
		{"inactive 30 days", Trigger{Type: TriggerInactive, Days: 30}, plain, ""},
		{"inactive 0 days", Trigger{Type: TriggerInactive}, plain, "trigger.days"},
		{"repurchase at the gap", Trigger{Type: TriggerRepurchaseDue}, plain, ""},
		{"repurchase far past", Trigger{Type: TriggerRepurchaseDue, DuePercent: 301}, plain, "trigger.due_percent"},
		{"expiring without expiry", Trigger{Type: TriggerPointsExpiring, Days: 7}, plain, "trigger.type"},
		{"expiring a week before", Trigger{Type: TriggerPointsExpiring, Days: 7}, expiring, ""},
		{"expiring before the points exist", Trigger{Type: TriggerPointsExpiring, Days: 90}, expiring, "trigger.days_before"},
		{"tier change without tiers", Trigger{Type: TriggerTierChanged}, plain, "trigger.type"},
		{"tier change to gold", Trigger{Type: TriggerTierChanged, Tier: "gold"}, tiered, ""},
		{"tier change to a missing tier", Trigger{Type: TriggerTierChanged, Tier: "platinum"}, tiered, "trigger.tier"},
		{"welcome step", Trigger{Type: TriggerEnrolled, Days: 3}, plain, ""},
		{"welcome too late", Trigger{Type: TriggerEnrolled, Days: 366}, plain, "trigger.days_after"},
		{"installed", Trigger{Type: TriggerCardInstalled}, plain, ""},
		{"unknown", Trigger{Type: "moon_phase"}, plain, "trigger.type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateTrigger(tt.t, tt.p)
			var fe *FieldError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.field != "" && !errors.As(err, &fe):
				t.Fatalf("err = %v, want a field error on %s", err, tt.field)
			case tt.field != "" && fe.Field != tt.field:
				t.Fatalf("field = %q, want %q (%s)", fe.Field, tt.field, fe.Message)
			}
		})
	}
}

func TestTriggerWindow(t *testing.T) {
	from := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	day := 24 * time.Hour
	tests := []struct {
		t      Trigger
		lo, hi time.Time
	}{
		{Trigger{Type: TriggerInactive, Days: 30}, from.Add(-30 * day), to.Add(-30 * day)},
		{Trigger{Type: TriggerEnrolled, Days: 2}, from.Add(-2 * day), to.Add(-2 * day)},
		{Trigger{Type: TriggerPointsExpiring, Days: 7}, from.Add(7 * day), to.Add(7 * day)},
		{Trigger{Type: TriggerCardInstalled}, from, to},
		{Trigger{Type: TriggerRepurchaseDue, DuePercent: 20}, from, to},
	}
	for _, tt := range tests {
		lo, hi := tt.t.Window(from, to)
		if !lo.Equal(tt.lo) || !hi.Equal(tt.hi) {
			t.Errorf("%s: window %v – %v, want %v – %v", tt.t.Type, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestBirthdays(t *testing.T) {
	msk, _ := time.LoadLocation("Europe/Moscow")
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, msk) }
	tests := []struct {
		name     string
		days     int
		from, to time.Time
		want     []Birthday
	}{
		{"same day: nothing new", 0, at(2026, 3, 10, 1), at(2026, 3, 10, 23), nil},
		{"midnight passes", 0, at(2026, 3, 10, 23), at(2026, 3, 11, 0), []Birthday{{"03-11", 2026}}},
		{"a week ahead", 7, at(2026, 3, 10, 23), at(2026, 3, 11, 1), []Birthday{{"03-18", 2026}}},
		{"three days at once", 0, at(2026, 3, 10, 12), at(2026, 3, 13, 12),
			[]Birthday{{"03-11", 2026}, {"03-12", 2026}, {"03-13", 2026}}},
		{"29 February in a common year", 0, at(2027, 2, 27, 12), at(2027, 2, 28, 12),
			[]Birthday{{"02-28", 2027}, {"02-29", 2027}}},
		{"29 February in a leap year", 0, at(2028, 2, 28, 12), at(2028, 2, 29, 12), []Birthday{{"02-29", 2028}}},
		{"a week ahead across the new year", 7, at(2026, 12, 27, 12), at(2026, 12, 28, 12), []Birthday{{"01-04", 2027}}},
		// 21:30 UTC is already the next day in Moscow.
		{"the local date decides", 0, time.Date(2026, 3, 10, 20, 0, 0, 0, time.UTC),
			time.Date(2026, 3, 10, 21, 30, 0, 0, time.UTC), []Birthday{{"03-11", 2026}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Trigger{Type: TriggerBirthday, Days: tt.days}.Birthdays(tt.from, tt.to, msk)
			if !slices.Equal(got, tt.want) {
				t.Errorf("birthdays = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidateBonus(t *testing.T) {
	points := Program{ID: "p", Kind: KindPoints}
	tests := []struct {
		b       Bonus
		p       Program
		wantErr error
		bad     bool
	}{
		{Bonus{Kind: BonusPoints, Amount: 50}, points, nil, false},
		{Bonus{Kind: BonusPoints, Amount: -1}, points, nil, true},
		{Bonus{Kind: BonusStamps, Amount: 1}, points, ErrBonusKind, true},
		{Bonus{Kind: BonusCoupon, Amount: 1}, points, ErrBonusKind, true},
		{Bonus{Kind: BonusPoints, Amount: 5}, Program{ID: "s", Kind: "stamps"}, nil, true},
		{Bonus{Kind: "cash", Amount: 5}, points, nil, true},
	}
	for _, tt := range tests {
		err := ValidateBonus(tt.b, tt.p, "variants[0].bonus_points")
		var fe *FieldError
		if tt.bad != (err != nil) || (err != nil && (!errors.As(err, &fe) || fe.Field != "variants[0].bonus_points")) {
			t.Errorf("%+v in %s: err = %v", tt.b, tt.p.Kind, err)
		}
		if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("%+v: err = %v, want %v", tt.b, err, tt.wantErr)
		}
	}
}

func TestAutomationBonus(t *testing.T) {
	m := AutomationMessage{ID: 7, AutomationID: "aut_1", AutomationName: "Birthday", MerchantID: "m", Serial: "s",
		Bonus: Bonus{Kind: BonusPoints, Amount: 50}}
	p, ok, err := AutomationBonus(m)
	if err != nil || !ok || p.Points != 50 || p.Kind != Adjust || p.IdempotencyKey != "automation-bonus:aut_1:7" ||
		p.Serial != "s" || p.MerchantID != "m" {
		t.Fatalf("posting = %+v %v %v", p, ok, err)
	}
	m.Holdout = true
	if _, ok, _ := AutomationBonus(m); ok {
		t.Error("a holdout message credited a bonus")
	}
	m.Holdout, m.Bonus.Amount = false, 0
	if _, ok, _ := AutomationBonus(m); ok {
		t.Error("no bonus credited something")
	}
	m.Bonus = Bonus{Kind: BonusStamps, Amount: 1}
	if _, _, err := AutomationBonus(m); !errors.Is(err, ErrBonusKind) {
		t.Errorf("stamps bonus: err = %v", err)
	}
}
