package loyalty

import (
	"slices"
	"time"
)

// ExpiresAt is when points a program credits at now lapse, or nil when
// the program's points never expire.
func ExpiresAt(r Rules, now time.Time) *time.Time {
	if r.Lifetime <= 0 {
		return nil
	}
	at := now.Add(r.Lifetime)
	return &at
}

// lapsed reports whether a lot's points have expired by now.
func (l Lot) lapsed(now time.Time) bool {
	return l.Remaining > 0 && l.ExpiresAt != nil && !l.ExpiresAt.After(now)
}

// ExpireLapsed decides the expire line of a card whose lots (st.Lots, any
// order) may have lapsed by now: it takes every lapsed lot whole. false
// means nothing lapsed and nothing is to be written. A voided card's
// points expire too. The same rule lapses a stamps program's stamps and
// a coupon at its date: its one coupon is a lot that lapses then.
func ExpireLapsed(st State, now time.Time) (Outcome, bool, error) {
	var l line
	for _, lot := range OrderLots(st.Lots, "") {
		if lot.lapsed(now) {
			l.uses = append(l.uses, LotUse{ID: lot.ID, Points: lot.Remaining})
			l.Points -= lot.Remaining
		}
	}
	if l.Points == 0 {
		return Outcome{}, false, nil
	}
	l.Kind, l.Reason = Expire, expiredReason[st.Program.KindOf()]
	out, err := apply(st, l, now)
	return out, err == nil, err
}

// expiredReason words an expire line by what lapsed.
var expiredReason = map[string]string{KindPoints: "points expired", KindStamps: "stamps expired",
	KindCoupon: "coupon expired", KindGift: "balance expired", KindDiscount: "expired"}

// NextExpiry returns the points of a card that lapse first and when: the
// points of every open lot that lapses within a day of the earliest one
// (lapsed lots the expiry job has not reached yet included). Zero points
// means nothing is set to expire.
func NextExpiry(lots []Lot) (points int64, at time.Time) {
	open := slices.DeleteFunc(slices.Clone(lots), func(l Lot) bool { return l.Remaining <= 0 || l.ExpiresAt == nil })
	if len(open) == 0 {
		return 0, time.Time{}
	}
	at = *slices.MinFunc(open, func(a, b Lot) int { return a.ExpiresAt.Compare(*b.ExpiresAt) }).ExpiresAt
	for _, l := range open {
		if l.ExpiresAt.Before(at.Add(24 * time.Hour)) {
			points += l.Remaining
		}
	}
	return points, at
}
