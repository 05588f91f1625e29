package simulator

import (
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/loyalpass/loyalpass/internal/lift"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/outreach"
)

// Quick runs the repurchase reminder alone over cfg's customers in
// memory, without a database: the same customers, rhythms and answers as
// Run, the same decisions (loyalty.EstimateRhythm and DueAt, lift.Assign,
// loyalty.Route's reach, loyalty.Capped, the quiet hours) and the same
// measurement (a customer buys within the window of any of their
// reminders; outreach.Compare). It is what the statistics need hundreds
// of runs of; Run is what the properties of the engine are checked on.
func Quick(cfg Config) Report {
	effects, _ := cfg.effects()
	base := cfg.base()
	id := "quick-" + strconv.FormatUint(cfg.Seed, 10)
	split := lift.Split{HoldoutBP: HoldoutBP, Variants: len(effects), Winner: -1}
	quiet := loyalty.QuietHours{Start: 21, End: 9, Zone: moscow()}
	end := cfg.End()
	groups := map[int]*outreach.Group{} // by variant, -1 the holdout
	group := func(v int) *outreach.Group {
		if groups[v] == nil {
			groups[v] = &outreach.Group{}
		}
		return groups[v]
	}
	for _, c := range Population(cfg) {
		as := lift.Assign(id, "c"+strconv.Itoa(c.Index), split)
		reach, _ := loyalty.Route(loyalty.Reach{Wallet: c.Apple, Google: c.Google, GoogleQuota: 3, App: c.App, Koshelek: c.Koshelek,
			Phone: true, AdsConsent: c.Consent, Budget: true, Provider: true})
		pending := slices.Clone(c.Purchases)
		var bought, reminders []time.Time
		var lastSent *time.Time
		answered := false
		for len(pending) > 0 || len(bought) > 0 {
			next := end
			if len(pending) > 0 {
				next = pending[0]
			}
			if len(bought) > 0 {
				// The scheduler looks every hour: the reminder is made at the
				// first hour on or after the due time, sent after the quiet hours.
				due := loyalty.EstimateRhythm(bought, ProgramGap).DueAt(0)
				made := due.Truncate(time.Hour)
				if made.Before(due) {
					made = made.Add(time.Hour)
				}
				if made.Before(next) && made.Before(end) {
					reminders = append(reminders, made)
					sent := quiet.Ends(made)
					if !as.Holdout && reach != "" && !loyalty.Capped(lastSent, sent, CapDays) && sent.Before(end) {
						lastSent = &sent
						first := !answered
						answered = true
						if at, ok := c.Answer(effects[as.Variant], base, sent, buysWithin(pending, sent, sent.Add(Window)), first); ok && at.Before(end) {
							i, _ := slices.BinarySearchFunc(pending, at, func(a, b time.Time) int { return a.Compare(b) })
							pending = slices.Insert(pending, i, at)
							if len(pending) > 0 && pending[0].Before(next) {
								next = pending[0]
							}
						}
					}
				}
			}
			if len(pending) == 0 {
				break
			}
			bought = append(bought, pending[0])
			pending = pending[1:]
		}
		if len(reminders) == 0 {
			continue
		}
		g := group(as.Variant)
		g.Assigned++
		if !as.Holdout && reach != "" {
			g.Sent++
		}
		for _, r := range reminders {
			if buysWithin(bought, r.Add(time.Nanosecond), r.Add(Window)) { // after the reminder was made
				g.Purchasers++
				break
			}
		}
	}
	r := Report{ID: id, Name: "repurchase (quick)", Trigger: loyalty.TriggerRepurchaseDue}
	if h := groups[-1]; h != nil {
		r.Holdout = *h
	}
	for v := range effects {
		g := outreach.Group{}
		if groups[v] != nil {
			g = *groups[v]
		}
		r.PerVariant = append(r.PerVariant, g)
		r.Messaged = outreach.Group{Assigned: r.Messaged.Assigned + g.Assigned, Sent: r.Messaged.Sent + g.Sent,
			Purchasers: r.Messaged.Purchasers + g.Purchasers}
		r.VariantTests = append(r.VariantTests, outreach.Compare(g, r.Holdout))
	}
	r.Overall = outreach.Compare(r.Messaged, r.Holdout)
	return r
}

// base is the planted response's calibration: cfg.Base, or the
// conversion of a null run of the same customers.
func (cfg Config) base() float64 {
	effects, _ := cfg.effects()
	if cfg.Base > 0 || !slices.ContainsFunc(effects, func(e float64) bool { return e > 0 }) {
		return cfg.Base
	}
	null := cfg
	null.EffectPoints, null.Base = make([]float64, len(cfg.EffectPoints)), 1e-9
	if len(null.EffectPoints) == 0 {
		null.EffectPoints = []float64{0, 0}
	}
	r := Quick(null)
	all := r.Messaged
	all.Assigned += r.Holdout.Assigned
	all.Purchasers += r.Holdout.Purchasers
	return all.Conversion()
}

// moscow is the simulated shop's time zone, loaded once.
var moscow = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		return time.FixedZone("MSK", 3*60*60)
	}
	return loc
})
