// Package simulator lets a merchant see what automations would do before
// turning them on: it generates a program's customers with purchase
// rhythms of their own and a known response to messages, runs the
// automations on a simulated clock against the real engine (store,
// scheduler, sender), and reports what they sent and what they earned.
// A small in-memory core (Quick) runs the same customers and the same
// decisions without a database, for the statistics that need hundreds of
// runs.
package simulator

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Config is one simulation.
type Config struct {
	Customers int
	Days      int
	Seed      uint64
	// EffectPoints is the planted response to the repurchase reminder's
	// variants, in percentage points of the chance to buy within the
	// purchase window (one number per variant): [0, 5] makes variant B
	// work and A not. Nil means the default [0, 5]; a null run passes
	// [0, 0].
	EffectPoints []float64
	// OtherEffectPoints is the planted response to every other
	// automation's message (default 3).
	OtherEffectPoints *float64
	// Step is how often the simulated scheduler and sender run (default
	// an hour, as the server's automation_interval_seconds would have it
	// or sooner).
	Step time.Duration
	// Base is the share of customers who buy within a reminder's window
	// with no message at all, which the planted response is calibrated
	// on; 0 means measure it with a null run of Quick first.
	Base float64
}

func (c Config) effects() ([]float64, float64) {
	e := c.EffectPoints
	if e == nil {
		e = []float64{0, 5}
	}
	other := 3.0
	if c.OtherEffectPoints != nil {
		other = *c.OtherEffectPoints
	}
	return e, other
}

// Window, Cap and Holdout are the simulated automations' settings: a
// purchase within 14 days counts, nobody gets two messages within 14
// days, 10 % are held out.
const (
	Window     = 14 * 24 * time.Hour
	CapDays    = 14
	HoldoutBP  = 1000
	ProgramGap = 21 * 24 * time.Hour // the typical gap the core assumes
)

// Start is the simulated clock's first moment: a Monday, 00:00 UTC.
var Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// Customer is a synthetic customer: who they are, how they can be
// reached, and how they buy.
type Customer struct {
	Index    int
	Phone    string
	Name     string
	Birthday string // YYYY-MM-DD
	Consent  bool   // agreed to advertising texts
	// Apple, Google, App and Koshelek say where the card is installed (at
	// most one).
	Apple, Google, App, Koshelek bool
	Joined                       time.Time
	// Fixed customers buy exactly every Gap, at noon, in runs of a few
	// purchases with a break between; the others buy at random, Gap apart
	// on average.
	Fixed  bool
	Gap    time.Duration
	Amount int64 // minor units per purchase
	// Purchases is the base schedule: when the customer buys with no
	// message at all.
	Purchases []time.Time
	rng       *rand.Rand
}

// End is the simulated clock's last moment.
func (c Config) End() time.Time { return Start.Add(time.Duration(c.Days) * 24 * time.Hour) }

// Population makes cfg's customers. The same seed makes the same people.
func Population(cfg Config) []*Customer {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	end := cfg.End()
	out := make([]*Customer, cfg.Customers)
	for i := range out {
		c := &Customer{Index: i, Phone: fmt.Sprintf("+7900%07d", i), Name: names[i%len(names)],
			rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1))}
		c.Birthday = time.Date(1960+rng.IntN(45), time.January, 1, 0, 0, 0, 0, time.UTC).
			AddDate(0, 0, rng.IntN(365)).Format(time.DateOnly)
		c.Consent = rng.Float64() < 0.7
		switch r := rng.Float64(); {
		case r < 0.30:
			c.Apple = true
		case r < 0.40:
			c.Google = true
		case r < 0.45:
			c.App = true
		case r < 0.50:
			c.Koshelek = true
		}
		// Customers join over the first third of the run, in the daytime.
		c.Joined = Start.Add(time.Duration(rng.Int64N(int64(end.Sub(Start)/3/time.Hour))+1) * time.Hour)
		c.Amount = int64(150+rng.IntN(1350)) * 100
		c.Fixed = rng.Float64() < 0.6
		if c.Fixed {
			c.Gap = time.Duration(7+rng.IntN(29)) * 24 * time.Hour
		} else {
			c.Gap = time.Duration(10+rng.IntN(51)) * 24 * time.Hour
		}
		c.Purchases = c.schedule(rng, end)
		out[i] = c
	}
	return out
}

var names = []string{"Анна", "Иван", "Мария", "Пётр", "Ольга", "Сергей", "Елена", "Дмитрий", ""}

// schedule draws the base purchases from the day after joining to end.
func (c *Customer) schedule(rng *rand.Rand, end time.Time) []time.Time {
	noon := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 9, 0, 0, 0, time.UTC) } // 12:00 in Moscow
	var out []time.Time
	t := noon(c.Joined.Add(24 * time.Hour))
	if !c.Fixed {
		for {
			// Exponential gaps: a purchase is as likely any day.
			t = t.Add(time.Duration(rng.ExpFloat64() * float64(c.Gap)))
			if !t.Before(end) {
				return out
			}
			out = append(out, t)
		}
	}
	for !t.Before(Start) && t.Before(end) {
		run := 3 + rng.IntN(4)
		for k := 0; k < run && t.Before(end); k++ {
			out = append(out, t)
			t = t.Add(c.Gap)
		}
		// A break of 1.5 to 3 gaps: the reminder's moment.
		t = noon(t.Add(time.Duration((0.5 + 1.5*rng.Float64()) * float64(c.Gap))))
	}
	return out
}

// Answer decides how the customer answers a message sent at sent: the
// time of the purchase it brings, if any. windowBuys says whether they
// would buy within the window anyway; first whether it is the first
// message of that automation they get.
//
// The planted response is the customer's, drawn once per automation at
// the first message: with chance p they answer it by buying within its
// window. Measured as a report measures (a customer who bought within
// any of their windows is one purchaser), that raises the group's
// conversion by p × (1 − base), base being the share who buy anyway; so
// p = points / 100 / (1 − base) plants exactly `points` more purchasers
// in a hundred. Draws are the customer's own: the same seed answers the
// same.
func (c *Customer) Answer(points, base float64, sent time.Time, windowBuys, first bool) (time.Time, bool) {
	if !first {
		return time.Time{}, false
	}
	draw, at := c.rng.Float64(), c.rng.Float64()
	if points <= 0 || windowBuys || draw >= points/100/(1-min(base, 0.99)) {
		return time.Time{}, false
	}
	return sent.Add(time.Duration(at * float64(Window) / 2)).Add(time.Hour), true
}

// buysWithin reports whether a sorted schedule has a purchase in [from, to).
func buysWithin(purchases []time.Time, from, to time.Time) bool {
	i, _ := slices.BinarySearchFunc(purchases, from, func(a, b time.Time) int { return a.Compare(b) })
	return i < len(purchases) && purchases[i].Before(to)
}
