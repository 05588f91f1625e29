package loyalty

import (
	"slices"
	"time"
)

// Rhythm estimation: how often a customer buys, from their own history.
const (
	// RhythmMinPurchases is how many purchases make a customer's own gap
	// trustworthy; with fewer the program's typical gap stands in.
	RhythmMinPurchases = 3
	// RhythmGaps is how many of the latest gaps the median is taken over:
	// enough to ignore one holiday, few enough to follow a changed habit.
	RhythmGaps = 6
	// DefaultProgramGap stands in for a program none of whose customers
	// has bought RhythmMinPurchases times yet.
	DefaultProgramGap = 30 * 24 * time.Hour
	// sameVisit joins purchases closer than this: two receipts of one
	// visit are not a gap.
	sameVisit = time.Hour
)

// Rhythm is a customer's estimated purchase rhythm.
type Rhythm struct {
	// Purchases counts the visits the estimate looked at.
	Purchases int
	// Gap is the usual time between purchases: the median of the latest
	// gaps when Own, else the program's typical gap.
	Gap  time.Duration
	Own  bool
	Last time.Time // the latest purchase; zero when there is none
}

// EstimateRhythm estimates the rhythm of a customer who bought at the
// given times (any order): the median of the last RhythmGaps gaps with at
// least RhythmMinPurchases purchases, otherwise programGap.
func EstimateRhythm(purchases []time.Time, programGap time.Duration) Rhythm {
	ts := slices.Clone(purchases)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	var visits []time.Time
	for _, t := range ts {
		if n := len(visits); n > 0 && t.Sub(visits[n-1]) < sameVisit {
			continue // a visit counts from its first receipt
		}
		visits = append(visits, t)
	}
	r := Rhythm{Purchases: len(visits), Gap: programGap}
	if len(visits) == 0 {
		return r
	}
	r.Last = visits[len(visits)-1]
	if len(visits) < RhythmMinPurchases {
		return r
	}
	var gaps []time.Duration
	for i := len(visits) - 1; i > 0 && len(gaps) < RhythmGaps; i-- {
		gaps = append(gaps, visits[i].Sub(visits[i-1]))
	}
	r.Gap, r.Own = Median(gaps), true
	return r
}

// DueAt is when a customer on this rhythm is percent of their gap past
// it: the moment a repurchase_due automation fires. Zero without a
// purchase or a gap.
func (r Rhythm) DueAt(percent int) time.Time {
	if r.Last.IsZero() || r.Gap <= 0 {
		return time.Time{}
	}
	return r.Last.Add(r.Gap * time.Duration(100+percent) / 100)
}

// Median is the median of ds (the mean of the middle two for an even
// count); 0 for none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}
