package loyalty

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Automation trigger types: what makes an automation message a customer.
const (
	TriggerBirthday       = "birthday"        // Days before the customer's birthday
	TriggerInactive       = "inactive"        // Days after the last purchase
	TriggerRepurchaseDue  = "repurchase_due"  // DuePercent past the customer's usual gap
	TriggerPointsExpiring = "points_expiring" // Days before points lapse
	TriggerTierChanged    = "tier_changed"    // the card moved to another tier (Tier: only to that one)
	TriggerEnrolled       = "enrolled"        // Days after the card was issued: a welcome series step
	TriggerCardInstalled  = "card_installed"  // the card was added to a wallet for the first time
)

// Triggers lists every trigger type.
var Triggers = []string{TriggerBirthday, TriggerInactive, TriggerRepurchaseDue, TriggerPointsExpiring,
	TriggerTierChanged, TriggerEnrolled, TriggerCardInstalled}

// Trigger is when an automation fires. Days is the trigger's one number of
// days: before the birthday, since the last purchase, before points
// expire, or after enrolment; the others take none.
type Trigger struct {
	Type       string
	Days       int
	DuePercent int    // repurchase_due: how far past the usual gap, in percent of it
	Tier       string // tier_changed: "" for any tier
}

// DaysField is the API's name of the trigger's number of days, "" for a
// type that takes none.
func (t Trigger) DaysField() string {
	switch t.Type {
	case TriggerBirthday, TriggerPointsExpiring:
		return "days_before"
	case TriggerInactive:
		return "days"
	case TriggerEnrolled:
		return "days_after"
	}
	return ""
}

// ValidateTrigger checks a trigger against the program it runs in: an
// unknown type, a number of days out of range, or a schedule the program
// makes impossible (points that never expire, a tier it does not have) is
// a *FieldError naming the field as the API spells it ("trigger.days").
func ValidateTrigger(t Trigger, p Program) error {
	days := "trigger." + t.DaysField()
	inRange := func(lo, hi int, what string) error {
		if t.Days < lo || t.Days > hi {
			return fieldErrorf(days, "%s must be %d to %d (%s)", days, lo, hi, what)
		}
		return nil
	}
	switch t.Type {
	case TriggerBirthday:
		return inRange(0, 60, "days before the birthday")
	case TriggerInactive:
		return inRange(1, 3650, "days since the last purchase")
	case TriggerEnrolled:
		return inRange(0, 365, "days after the card was issued")
	case TriggerPointsExpiring:
		if err := inRange(0, 365, "days before points expire"); err != nil {
			return err
		}
		if p.PointsLifetimeDays <= 0 {
			return fieldErrorf("trigger.type", "points_expiring never fires: points of program %s never expire", p.ID)
		}
		if t.Days >= p.PointsLifetimeDays {
			return fieldErrorf(days, "%s must be below the program's points lifetime (%d days): points are never that far from expiring",
				days, p.PointsLifetimeDays)
		}
		return nil
	case TriggerRepurchaseDue:
		if t.DuePercent < 0 || t.DuePercent > 300 {
			return fieldErrorf("trigger.due_percent", "trigger.due_percent must be 0 to 300 (how far past the usual gap, in percent of it)")
		}
		return nil
	case TriggerTierChanged:
		if len(p.Tiers) == 0 {
			return fieldErrorf("trigger.type", "tier_changed never fires: program %s has no tiers", p.ID)
		}
		if t.Tier != "" && !slices.ContainsFunc(p.Tiers, func(x Tier) bool { return x.Code == t.Tier }) {
			return fieldErrorf("trigger.tier", "trigger.tier %q is not a tier of program %s", t.Tier, p.ID)
		}
		return nil
	case TriggerCardInstalled:
		return nil
	}
	return fieldErrorf("trigger.type", "trigger.type must be one of %s", strings.Join(Triggers, ", "))
}

// Window is the span of the trigger's own column (last purchase, issue
// date, lot expiry, the event) that falls due when the scheduler moves
// from `from` to `to`: a row fires once, in the run whose window holds it.
func (t Trigger) Window(from, to time.Time) (lo, hi time.Time) {
	d := time.Duration(t.Days) * 24 * time.Hour
	switch t.Type {
	case TriggerInactive, TriggerEnrolled:
		return from.Add(-d), to.Add(-d)
	case TriggerPointsExpiring:
		return from.Add(d), to.Add(d)
	}
	return from, to
}

// Birthday is a birthday that falls due: its "MM-DD" and the year it is
// celebrated in (the occurrence of a birthday message).
type Birthday struct {
	MonthDay string
	Year     int
}

// Birthdays are the birthdays that fall due when the local date in loc
// moves from that of `from` to that of `to`: the days after from's date
// up to to's, each Days ahead. A 29 February birthday is kept on 28
// February in a year without one.
func (t Trigger) Birthdays(from, to time.Time, loc *time.Location) []Birthday {
	var out []Birthday
	day := civil(from.In(loc)).AddDate(0, 0, 1)
	last := civil(to.In(loc))
	for n := 0; !day.After(last) && n < 400; n++ {
		target := day.AddDate(0, 0, t.Days)
		out = append(out, Birthday{target.Format("01-02"), target.Year()})
		if target.Month() == time.February && target.Day() == 28 && !isLeap(target.Year()) {
			out = append(out, Birthday{"02-29", target.Year()})
		}
		day = day.AddDate(0, 0, 1)
	}
	return out
}

func civil(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// Bonus kinds. Only points exist so far; stamps and a coupon of a coupon
// program are what the card kinds will add, and BonusPosting is where
// they turn into their ledger line.
const (
	BonusPoints = "points"
	BonusStamps = "stamps"
	BonusCoupon = "coupon"
)

// ErrBonusKind refuses a bonus the program's kind cannot credit.
var ErrBonusKind = errors.New("bonus kind not available")

// Bonus is what a message gives with it: Amount of Kind (points now;
// stamps or a coupon once programs of those kinds exist).
type Bonus struct {
	Kind   string
	Amount int64
}

// ValidateBonus checks a bonus against the program that credits it. field
// is the API's name of the bonus ("variants[1].bonus_points").
func ValidateBonus(b Bonus, p Program, field string) error {
	switch b.Kind {
	case BonusPoints, "":
		if b.Amount < 0 || b.Amount > 1_000_000 {
			return fieldErrorf(field, "%s must be 0 to 1000000", field)
		}
		if p.Kind != "" && p.Kind != KindPoints && b.Amount > 0 {
			return fieldErrorf(field, "program %s is a %s program: it credits no points", p.ID, p.Kind)
		}
		return nil
	case BonusStamps, BonusCoupon:
		return &FieldError{Field: field, Cause: ErrBonusKind,
			Message: fmt.Sprintf("a %s bonus needs a %s program, which this server does not offer yet", b.Kind, b.Kind)}
	}
	return fieldErrorf(field, "unknown bonus kind %q", b.Kind)
}

// AutomationMessage is what the bonus decision knows of one message.
type AutomationMessage struct {
	ID             int64
	AutomationID   string
	AutomationName string
	MerchantID     string
	Serial         string
	Holdout        bool
	Bonus          Bonus
}

// AutomationBonus is the posting that credits a sent message's bonus, and
// false when there is nothing to credit (no bonus, or a holdout message,
// which is never sent). The key is the message: a retry replays.
func AutomationBonus(m AutomationMessage) (Posting, bool, error) {
	if m.Holdout || m.Bonus.Amount <= 0 {
		return Posting{}, false, nil
	}
	if m.Bonus.Kind != BonusPoints && m.Bonus.Kind != "" {
		return Posting{}, false, fmt.Errorf("%w: %s", ErrBonusKind, m.Bonus.Kind)
	}
	key := fmt.Sprintf("automation-bonus:%s:%d", m.AutomationID, m.ID)
	return Posting{MerchantID: m.MerchantID, Serial: m.Serial, Kind: Adjust, Points: m.Bonus.Amount,
		Reason: "bonus: " + m.AutomationName, IdempotencyKey: key, RequestHash: []byte(key)}, true, nil
}
