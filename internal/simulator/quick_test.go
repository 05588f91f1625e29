package simulator

import "testing"

// TestPlantedEffectIsDetected: at the size the issue names (10 000
// customers, 180 days, seed 1), the reminder variant that makes 5 points
// more customers buy is told apart from the holdout (p < 0.05), and the
// variant planted with no effect is not.
func TestPlantedEffectIsDetected(t *testing.T) {
	r := Quick(Config{Customers: 10000, Days: 180, Seed: 1, EffectPoints: []float64{0, 5}})
	a, b := r.VariantTests[0], r.VariantTests[1]
	t.Logf("holdout %+v; A %+v %+v; B %+v %+v", r.Holdout, r.PerVariant[0], a, r.PerVariant[1], b)
	if !b.Significant || b.LiftPP <= 0 {
		t.Errorf("variant B (+5 points): lift %.2f points, p = %.4f; want it detected", b.LiftPP, b.P)
	}
	if b.LowPP > 5 || b.HighPP < 5 {
		t.Errorf("variant B's interval [%.2f, %.2f] misses the planted 5 points", b.LowPP, b.HighPP)
	}
	if a.LowPP > 0 || a.HighPP < 0 {
		t.Errorf("variant A (no effect): interval [%.2f, %.2f] excludes 0", a.LowPP, a.HighPP)
	}
}

// TestNullFalsePositiveRate: over 200 seeded simulations where messages
// change nothing, the messaged group beats or trails the holdout at
// p < 0.05 in about 5 % of them, as a test at the 5 % level must.
func TestNullFalsePositiveRate(t *testing.T) {
	const runs = 200
	positives := 0
	for seed := range uint64(runs) {
		r := Quick(Config{Customers: 1500, Days: 180, Seed: seed + 1000, EffectPoints: []float64{0, 0}})
		if r.Overall.Significant {
			positives++
		}
	}
	rate := float64(positives) / runs
	t.Logf("%d of %d null simulations significant: %.1f %%", positives, runs, rate*100)
	// 200 runs at 5 %: 10 expected, 95 % of outcomes between 4 and 16.
	if positives < 4 || positives > 16 {
		t.Errorf("false-positive rate %.1f %%, want about 5 %%", rate*100)
	}
}
