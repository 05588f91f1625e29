package console

import (
	"cmp"
	"slices"
	"time"

	"github.com/loyalpass/loyalpass/internal/store"
)

// The dashboard's arithmetic over the store's day figures: weeks, running
// totals and cohort curves. Plain functions over values, so each is
// checked with a table of figures (dashfigures_test.go).

// weekStart is the Monday midnight of t's week, in t's location.
func weekStart(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// weekly is a program's figures by week.
type weekly struct {
	Starts []time.Time
	// Active is the cards issued and not voided at the end of each week;
	// Installed the wallets following a card then, by channel.
	Active    []int64
	Installed map[string][]int64
	// Issued, Redeemed, Expired and Other are the points of each week's
	// ledger lines; Outstanding what the cards held at its end.
	Issued, Redeemed, Expired, Other []int64
	Outstanding                      []int64
	// Channels lists the channels ever installed, the most installed first.
	Channels []string
}

// weeklyFigures buckets f, asked from the Monday from, into weeks weeks.
func weeklyFigures(f store.DashboardFigures, from time.Time, weeks int) weekly {
	w := weekly{Installed: map[string][]int64{}}
	active := f.Before.CardsIssued - f.Before.CardsVoided
	outstanding := f.Before.Net()
	installed := map[string]int64{}
	for ch, n := range f.Before.Installs {
		installed[ch] += n
	}
	for ch, n := range f.Before.Uninstalls {
		installed[ch] -= n
	}
	for _, d := range f.Days { // channels first installed in the window
		for ch := range d.Installs {
			installed[ch] += 0
		}
	}
	for ch := range installed {
		w.Channels = append(w.Channels, ch)
	}
	for i := range weeks {
		start := from.AddDate(0, 0, 7*i)
		var sum store.DayFigures
		for d := range 7 {
			day := f.Days[start.AddDate(0, 0, d).Format(time.DateOnly)]
			sum.CardsIssued += day.CardsIssued
			sum.CardsVoided += day.CardsVoided
			sum.PointsIssued += day.PointsIssued
			sum.PointsRedeemed += day.PointsRedeemed
			sum.PointsExpired += day.PointsExpired
			sum.PointsOther += day.PointsOther
			for ch, n := range day.Installs {
				installed[ch] += n
			}
			for ch, n := range day.Uninstalls {
				installed[ch] -= n
			}
		}
		active += sum.CardsIssued - sum.CardsVoided
		outstanding += sum.Net()
		w.Starts = append(w.Starts, start)
		w.Active = append(w.Active, active)
		w.Issued = append(w.Issued, sum.PointsIssued)
		w.Redeemed = append(w.Redeemed, sum.PointsRedeemed)
		w.Expired = append(w.Expired, sum.PointsExpired)
		w.Other = append(w.Other, sum.PointsOther)
		w.Outstanding = append(w.Outstanding, outstanding)
		for _, ch := range w.Channels {
			w.Installed[ch] = append(w.Installed[ch], installed[ch])
		}
	}
	slices.SortFunc(w.Channels, func(a, b string) int {
		return cmp.Or(cmp.Compare(installed[b], installed[a]), cmp.Compare(a, b))
	})
	return w
}

// cohortCurve is a join cohort's lifetime value: what its customers
// bought by the months since they joined.
type cohortCurve struct {
	Month time.Time
	Cards int64
	// LTV holds, for the cohort's own month (0) and each one since up to
	// now, the revenue per card so far, in minor units.
	LTV []int64
	// Repeat counts the cards that bought twice or more; Revenue and
	// Purchases are the cohort's totals.
	Repeat, Revenue, Purchases int64
}

// RepeatRate is the share of the cohort's cards that bought again, in
// basis points.
func (c cohortCurve) RepeatRate() int {
	if c.Cards == 0 {
		return 0
	}
	return int(c.Repeat * 10000 / c.Cards)
}

// monthsBetween counts whole calendar months from a to b.
func monthsBetween(a, b time.Time) int {
	return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
}

// cohortCurves turns the newest last cohorts (by the month of now) into
// curves.
func cohortCurves(cs []store.Cohort, now time.Time, last int) []cohortCurve {
	if len(cs) > last {
		cs = cs[len(cs)-last:]
	}
	out := make([]cohortCurve, 0, len(cs))
	for _, c := range cs {
		age := max(monthsBetween(c.Month, now), 0)
		cc := cohortCurve{Month: c.Month, Cards: c.Cards, LTV: make([]int64, age+1)}
		revenue := make([]int64, age+1)
		for _, m := range c.Months {
			if k := monthsBetween(c.Month, m.Month); k >= 0 && k <= age {
				revenue[k] += m.Revenue
			}
			cc.Repeat += m.Repeat
			cc.Revenue += m.Revenue
			cc.Purchases += m.Purchases
		}
		var sum int64
		for k := range revenue {
			sum += revenue[k]
			if c.Cards > 0 {
				cc.LTV[k] = sum / c.Cards
			}
		}
		out = append(out, cc)
	}
	return out
}
