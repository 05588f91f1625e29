package outreach

import (
	"math"

	"github.com/loyalpass/loyalpass/internal/lift"
)

// Group is one side of a measurement: the customers assigned to it, how
// many of them were sent a message, and how many bought (and for how
// much, in minor units) within the purchase window.
type Group struct {
	Assigned, Sent, Purchasers, Revenue int64
}

// Conversion is the share of the group that bought.
func (g Group) Conversion() float64 {
	return lift.Count{N: g.Assigned, Converted: g.Purchasers}.Rate()
}

// Comparison is a messaged group measured against its holdout. Groups
// are compared as assigned (intention to treat): a customer the message
// could not reach still counts on the messaged side, as the holdout
// holds such customers too.
type Comparison struct {
	// Valid is false while either group is empty.
	Valid bool
	// LiftPP is the conversion difference in percentage points, LowPP and
	// HighPP its 95 % confidence interval, P the two-sided p-value of the
	// two-proportion z-test.
	LiftPP, LowPP, HighPP, P float64
	// Significant: the lift is real at the 5 % level.
	Significant bool
	// IncrementalRevenue is the revenue the messages added (minor units):
	// the difference in revenue per assigned customer times the messaged
	// group's size; PerMessage divides it by the messages sent.
	IncrementalRevenue, PerMessage float64
}

// Compare measures treated against holdout.
func Compare(treated, holdout Group) Comparison {
	t := lift.Compare(lift.Count{N: treated.Assigned, Converted: treated.Purchasers},
		lift.Count{N: holdout.Assigned, Converted: holdout.Purchasers})
	if !t.Valid {
		return Comparison{}
	}
	c := Comparison{Valid: true, LiftPP: round(t.Diff * 100), LowPP: round(t.Low * 100), HighPP: round(t.High * 100),
		P: round(t.P), Significant: t.Significant()}
	perHead := float64(treated.Revenue)/float64(treated.Assigned) - float64(holdout.Revenue)/float64(holdout.Assigned)
	c.IncrementalRevenue = math.Round(perHead * float64(treated.Assigned))
	if treated.Sent > 0 {
		c.PerMessage = math.Round(c.IncrementalRevenue / float64(treated.Sent))
	}
	return c
}

func round(f float64) float64 { return math.Round(f*10000) / 10000 }
