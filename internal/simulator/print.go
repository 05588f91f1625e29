package simulator

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/outreach"
)

// Print writes what the simulation did: each automation's report (as
// GET /api/v1/automations/{id}/report gives it) and the checks every run
// must pass.
func (r *Result) Print(w io.Writer) {
	cfg := r.Config
	effects, other := cfg.effects()
	fmt.Fprintf(w, "Simulated %d customers over %d days (seed %d) on the real engine.\n", cfg.Customers, cfg.Days, cfg.Seed)
	fmt.Fprintf(w, "Planted response: the repurchase reminder's variants %v points, every other automation +%g.\n",
		effects, other)
	fmt.Fprintf(w, "The seed makes the customers and their answers; the holdout and the variants are drawn by hashing\n"+
		"the store's random ids, as in production, so two runs differ by that draw.\n\n")
	for _, a := range r.Automations {
		r.printAutomation(w, a)
	}
	freq, held := r.FrequencyViolations(), r.HoldoutMessaged()
	checked, timing := r.RepurchaseTiming()
	fmt.Fprintln(w, "Checks")
	fmt.Fprintf(w, "  messages inside a %d-day frequency window:      %d\n", CapDays, len(freq))
	fmt.Fprintf(w, "  messages to customers in a holdout:              %d\n", len(held))
	fmt.Fprintf(w, "  repurchase reminders off the customer's own gap: %d of %d fixed-rhythm reminders checked (within one day)\n",
		len(timing), checked)
}

func (r *Result) printAutomation(w io.Writer, a Report) {
	fmt.Fprintf(w, "%s (%s)\n", a.Name, a.Trigger)
	var messages, skipped, waiting, cost, bonus int64
	for _, g := range a.Groups {
		messages += g.Messages
		skipped += g.Skipped
		waiting += g.Waiting
		cost += g.Cost
		bonus += g.Bonus
	}
	sent := map[string]int64{}
	for _, c := range a.Channels {
		sent[c.Channel] = c.Sent
	}
	var channels []string
	for _, ch := range loyalty.Channels {
		channels = append(channels, fmt.Sprintf("%s %d", ch, sent[ch]))
	}
	fmt.Fprintf(w, "  messages %d (customers %d, held out %d); sent %s; skipped %d, waiting %d\n", messages,
		a.Messaged.Assigned+a.Holdout.Assigned, a.Holdout.Assigned, strings.Join(channels, ", "), skipped, waiting)
	fmt.Fprintf(w, "  SMS cost %s, bonus points %d\n", money(cost), bonus)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  group\tcustomers\tbought\tconversion\tlift, points\t95 % interval\tp\trevenue\t")
	row := func(name string, g outreach.Group, c *outreach.Comparison) {
		lift, ci, p := "", "", ""
		if c != nil && c.Valid {
			lift, ci, p = fmt.Sprintf("%+.2f", c.LiftPP), fmt.Sprintf("%+.2f … %+.2f", c.LowPP, c.HighPP), fmt.Sprintf("%.4f", c.P)
			if c.Significant {
				p += " *"
			}
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%.2f %%\t%s\t%s\t%s\t%s\t\n", name, g.Assigned, g.Purchasers, g.Conversion()*100, lift, ci, p,
			money(g.Revenue))
	}
	row("holdout", a.Holdout, nil)
	row("messaged", a.Messaged, &a.Overall)
	if len(a.PerVariant) > 1 {
		for i, g := range a.PerVariant {
			row(fmt.Sprintf("variant %c", 'A'+i), g, &a.VariantTests[i])
		}
	}
	tw.Flush()
	if len(a.PerVariant) == 2 {
		if c := outreach.Compare(a.PerVariant[1], a.PerVariant[0]); c.Valid {
			fmt.Fprintf(w, "  variant B against A: %+.2f points, 95 %% interval %+.2f … %+.2f, p %.4f\n", c.LiftPP, c.LowPP,
				c.HighPP, c.P)
		}
	}
	if a.Overall.Valid && a.Messaged.Sent > 0 {
		fmt.Fprintf(w, "  incremental revenue %s, %s per message sent\n", money(int64(a.Overall.IncrementalRevenue)),
			money(int64(a.Overall.PerMessage)))
	}
	fmt.Fprintln(w)
}

// money writes minor units as roubles.
func money(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "−", -minor
	}
	return fmt.Sprintf("%s%d.%02d ₽", sign, minor/100, minor%100)
}
