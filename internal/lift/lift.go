// Package lift measures whether a message made people buy: the stable
// random split of customers into a holdout and variants, the
// two-proportion z-test with its 95 % confidence interval, and the rules
// that pick a winning variant or call an automation useless. It is pure:
// numbers in, numbers out, no clock, no store.
package lift

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
)

// Buckets is the resolution of an assignment: shares are in basis points
// (1/100 of a percent), so a bucket is one of 10 000.
const Buckets = 10000

// Bucket returns the customer's bucket in [0, Buckets) for the named split
// of the named experiment (an automation, a campaign). It is a hash, not a
// draw: the same inputs give the same bucket on every instance and after
// every restart, and different splits of one experiment are independent.
func Bucket(experiment, split, customer string) int {
	h := sha256.New()
	h.Write([]byte(experiment))
	h.Write([]byte{0})
	h.Write([]byte(split))
	h.Write([]byte{0})
	h.Write([]byte(customer))
	var sum [sha256.Size]byte
	return int(binary.BigEndian.Uint64(h.Sum(sum[:0])[:8]) % Buckets)
}

// Assignment is where a customer falls in an experiment.
type Assignment struct {
	Holdout bool
	// Variant is the variant's index; -1 in the holdout.
	Variant int
}

// Split says how an experiment's customers are divided.
type Split struct {
	// HoldoutBP is the holdout's share in basis points (0–10000).
	HoldoutBP int
	// Variants is how many variants share the rest equally (at least 1).
	Variants int
	// Winner, when ≥ 0, takes every customer outside the holdout: the
	// variant that won the test. The holdout keeps its customers.
	Winner int
}

// Assign places a customer: in the holdout when their holdout bucket is
// below the share, else in a variant chosen by a second, independent hash.
// A customer keeps their place for the life of the experiment.
func Assign(experiment, customer string, s Split) Assignment {
	if Bucket(experiment, "holdout", customer) < s.HoldoutBP {
		return Assignment{Holdout: true, Variant: -1}
	}
	if s.Winner >= 0 && s.Winner < max(s.Variants, 1) {
		return Assignment{Variant: s.Winner}
	}
	return Assignment{Variant: Bucket(experiment, "variant", customer) * max(s.Variants, 1) / Buckets}
}

// Count is one group's outcome: how many were in it and how many bought.
type Count struct {
	N, Converted int64
}

// Rate is the group's conversion; 0 for an empty group.
func (c Count) Rate() float64 {
	if c.N == 0 {
		return 0
	}
	return float64(c.Converted) / float64(c.N)
}

// z95 is the normal quantile of a two-sided 95 % interval.
const z95 = 1.959963984540054

// Test is the comparison of a treated group with a control group.
type Test struct {
	// Valid is false while either group is empty: nothing can be said.
	Valid bool
	// Diff is the treated rate minus the control rate (a share, not
	// percentage points); Low and High bound its 95 % confidence interval
	// (Wald, unpooled).
	Diff, Low, High float64
	// Z is the two-proportion z statistic (pooled) and P its two-sided
	// p-value: how often a difference this large arises with no effect.
	Z, P float64
}

// Significant reports whether the difference is real at the 5 % level.
func (t Test) Significant() bool { return t.Valid && t.P < 0.05 }

// Compare runs the two-proportion z-test of treated against control.
func Compare(treated, control Count) Test {
	if treated.N <= 0 || control.N <= 0 {
		return Test{}
	}
	p1, p2 := treated.Rate(), control.Rate()
	n1, n2 := float64(treated.N), float64(control.N)
	t := Test{Valid: true, Diff: p1 - p2, P: 1}
	se := math.Sqrt(p1*(1-p1)/n1 + p2*(1-p2)/n2)
	t.Low, t.High = t.Diff-z95*se, t.Diff+z95*se
	pooled := float64(treated.Converted+control.Converted) / (n1 + n2)
	se0 := math.Sqrt(pooled * (1 - pooled) * (1/n1 + 1/n2))
	if se0 > 0 {
		t.Z = t.Diff / se0
		t.P = math.Erfc(math.Abs(t.Z) / math.Sqrt2)
	}
	return t
}

// NoLift reports whether, with at least minSample customers in each
// group, the interval fails to show a lift (its lower bound is at or
// below zero): the rule that pauses an automation that does not pay.
func NoLift(treated, control Count, minSample int64) bool {
	if minSample <= 0 || treated.N < minSample || control.N < minSample {
		return false
	}
	return Compare(treated, control).Low <= 0
}

// Winner returns the variant whose conversion is significantly above
// every other variant's, once each has at least minSample customers; ok
// is false while there is none.
func Winner(variants []Count, minSample int64) (best int, ok bool) {
	if len(variants) < 2 || minSample <= 0 {
		return -1, false
	}
	best = 0
	for i, v := range variants {
		if v.N < minSample {
			return -1, false
		}
		if v.Rate() > variants[best].Rate() {
			best = i
		}
	}
	for i, v := range variants {
		if i != best && !Compare(variants[best], v).Significant() {
			return -1, false
		}
	}
	return best, true
}
