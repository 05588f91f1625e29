package simulator

import (
	"fmt"
	"slices"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// The properties every simulation must show, checked on what it did.

// FrequencyViolations lists customers who got two messages within the
// frequency cap.
func (r *Result) FrequencyViolations() []string {
	per := map[int][]time.Time{}
	for _, s := range r.Sent {
		per[s.Customer] = append(per[s.Customer], s.At)
	}
	var out []string
	for c, times := range per {
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); gap < CapDays*24*time.Hour {
				out = append(out, fmt.Sprintf("customer %d: messages %s and %s, %v apart", c,
					times[i-1].Format(time.DateTime), times[i].Format(time.DateTime), gap))
			}
		}
	}
	return out
}

// HoldoutMessaged lists messages sent to a customer in that automation's
// holdout.
func (r *Result) HoldoutMessaged() []string {
	var out []string
	for _, s := range r.Sent {
		if r.Assign(s.Automation, s.Customer).Holdout {
			out = append(out, fmt.Sprintf("customer %d, held out of %s, got a message at %s", s.Customer, s.Automation, s.At))
		}
	}
	for _, f := range r.Fired {
		if f.Holdout != r.Assign(f.Automation, f.Customer).Holdout {
			out = append(out, fmt.Sprintf("customer %d: the stored holdout of %s is not the hash's", f.Customer, f.Automation))
		}
	}
	return out
}

// RepurchaseTiming checks repurchase_due against each fixed-rhythm
// customer's own gap: whenever such a customer has bought at least 3
// times and their recent gaps are their own rhythm, the reminder fires
// within one day of their last purchase plus that gap if they have not
// bought by then, and not before. It returns the reminders checked and
// what is wrong.
func (r *Result) RepurchaseTiming() (checked int, problems []string) {
	fired := map[int][]time.Time{}
	for _, f := range r.Fired {
		if f.Trigger == loyalty.TriggerRepurchaseDue {
			fired[f.Customer] = append(fired[f.Customer], f.At)
		}
	}
	end := r.Config.End()
	day := 24 * time.Hour
	for _, c := range r.Customers {
		if !c.Fixed {
			continue
		}
		bought := r.Bought[c.Index]
		for k := loyalty.RhythmMinPurchases - 1; k < len(bought); k++ {
			history := bought[max(0, k-loyalty.RhythmGaps) : k+1]
			if own := loyalty.EstimateRhythm(history, 0); !own.Own || own.Gap != c.Gap {
				continue // the rhythm is not visible in the history (a break, an answer)
			}
			due := bought[k].Add(c.Gap)
			next := end
			if k+1 < len(bought) {
				next = bought[k+1]
			}
			if !next.After(due) || due.Add(day).After(end) {
				continue // bought on time, or the run ends first
			}
			checked++
			ok := slices.ContainsFunc(fired[c.Index], func(t time.Time) bool { return !t.Before(due) && t.Sub(due) <= day })
			if !ok {
				problems = append(problems, fmt.Sprintf("customer %d (every %v): due %s, reminders at %v", c.Index, c.Gap,
					due.Format(time.DateTime), fired[c.Index]))
			}
		}
		for _, t := range fired[c.Index] {
			k := lastBefore(bought, t)
			if k < 0 {
				continue
			}
			history := bought[max(0, k-loyalty.RhythmGaps) : k+1]
			if own := loyalty.EstimateRhythm(history, 0); !own.Own || own.Gap != c.Gap {
				continue
			}
			if due := bought[k].Add(c.Gap); t.Before(due) || t.Sub(due) > day {
				problems = append(problems, fmt.Sprintf("customer %d (every %v): reminded at %s, due %s",
					c.Index, c.Gap, t.Format(time.DateTime), due.Format(time.DateTime)))
			}
		}
	}
	return checked, problems
}

// lastBefore is the index of the last purchase before t, -1 for none.
func lastBefore(bought []time.Time, t time.Time) int {
	i := -1
	for j, b := range bought {
		if b.Before(t) {
			i = j
		}
	}
	return i
}
