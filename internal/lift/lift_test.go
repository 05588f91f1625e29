package lift

import (
	"fmt"
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestCompare(t *testing.T) {
	tests := []struct {
		name             string
		treated, control Count
		diff, low, high  float64
		z, p             float64
		valid            bool
	}{
		// Textbook: 60/100 against 40/100. Pooled 0.5, se0 = 0.070711,
		// z = 2.828427, p = 0.004678; unpooled se = 0.069282.
		{"textbook", Count{100, 60}, Count{100, 40}, 0.2, 0.064210, 0.335790, 2.828427, 0.004678, true},
		{"no difference", Count{500, 50}, Count{500, 50}, 0, -0.037188, 0.037188, 0, 1, true},
		// 12 % against 10 % over 2000 each: z = 2.0213, p = 0.04325.
		{"just significant", Count{2000, 240}, Count{2000, 200}, 0.02, 0.000617, 0.039383, 2.021337, 0.043245, true},
		{"negative", Count{1000, 80}, Count{1000, 100}, -0.02, -0.045069, 0.005069, -1.562691, 0.118125, true},
		{"nobody bought", Count{10, 0}, Count{10, 0}, 0, 0, 0, 0, 1, true},
		{"empty control", Count{10, 3}, Count{0, 0}, 0, 0, 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.treated, tt.control)
			if got.Valid != tt.valid {
				t.Fatalf("valid = %v", got.Valid)
			}
			if !tt.valid {
				return
			}
			for _, c := range []struct {
				what      string
				got, want float64
			}{{"diff", got.Diff, tt.diff}, {"low", got.Low, tt.low}, {"high", got.High, tt.high},
				{"z", got.Z, tt.z}, {"p", got.P, tt.p}} {
				if !near(c.got, c.want, 1e-5) {
					t.Errorf("%s = %.6f, want %.6f", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestSignificant(t *testing.T) {
	if !Compare(Count{2000, 240}, Count{2000, 200}).Significant() {
		t.Error("p = 0.043 is significant at 5 %")
	}
	if Compare(Count{1000, 80}, Count{1000, 100}).Significant() {
		t.Error("p = 0.118 is not significant")
	}
	if (Test{}).Significant() {
		t.Error("an invalid test is never significant")
	}
}

func TestBucketIsStableAndSpread(t *testing.T) {
	if Bucket("aut_1", "holdout", "cus_1") != Bucket("aut_1", "holdout", "cus_1") {
		t.Fatal("the same inputs gave two buckets")
	}
	const n = 100000
	var counts [10]int
	same := 0
	for i := range n {
		c := fmt.Sprint("cus_", i)
		b := Bucket("aut_1", "holdout", c)
		if b < 0 || b >= Buckets {
			t.Fatalf("bucket %d out of range", b)
		}
		counts[b*10/Buckets]++
		if b == Bucket("aut_2", "holdout", c) {
			same++
		}
	}
	// Each tenth holds 10 000 ± 4 standard deviations (95).
	for i, c := range counts {
		if c < 9620 || c > 10380 {
			t.Errorf("tenth %d holds %d of %d", i, c, n)
		}
	}
	// Another experiment splits independently: about 1 in 10 000 coincide.
	if same > 40 {
		t.Errorf("%d customers share a bucket across experiments", same)
	}
}

func TestAssign(t *testing.T) {
	tests := []struct {
		name         string
		split        Split
		holdoutShare float64
		variants     []float64 // share of all customers per variant
	}{
		{"10 % holdout, one variant", Split{HoldoutBP: 1000, Variants: 1, Winner: -1}, 0.10, []float64{0.90}},
		{"no holdout, two variants", Split{HoldoutBP: 0, Variants: 2, Winner: -1}, 0, []float64{0.5, 0.5}},
		{"20 % holdout, four variants", Split{HoldoutBP: 2000, Variants: 4, Winner: -1}, 0.20, []float64{0.2, 0.2, 0.2, 0.2}},
		{"a winner takes the rest", Split{HoldoutBP: 1000, Variants: 3, Winner: 2}, 0.10, []float64{0, 0, 0.9}},
	}
	const n = 40000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			holdout := 0
			per := make([]int, len(tt.variants))
			for i := range n {
				c := fmt.Sprint("cus_", i)
				a := Assign("aut_x", c, tt.split)
				if a != Assign("aut_x", c, tt.split) {
					t.Fatal("assignment is not stable")
				}
				if a.Holdout {
					holdout++
					if a.Variant != -1 {
						t.Fatal("a holdout customer has a variant")
					}
					continue
				}
				per[a.Variant]++
			}
			if got := float64(holdout) / n; !near(got, tt.holdoutShare, 0.01) {
				t.Errorf("holdout share %.4f, want %.2f", got, tt.holdoutShare)
			}
			for i, want := range tt.variants {
				if got := float64(per[i]) / n; !near(got, want, 0.015) {
					t.Errorf("variant %d share %.4f, want %.2f", i, got, want)
				}
			}
		})
	}
	// A winner does not move anyone into or out of the holdout.
	for i := range 2000 {
		c := fmt.Sprint("cus_", i)
		if Assign("aut_y", c, Split{HoldoutBP: 1500, Variants: 2, Winner: -1}).Holdout !=
			Assign("aut_y", c, Split{HoldoutBP: 1500, Variants: 2, Winner: 1}).Holdout {
			t.Fatal("declaring a winner changed the holdout")
		}
	}
}

func TestNoLift(t *testing.T) {
	tests := []struct {
		name             string
		treated, control Count
		min              int64
		want             bool
	}{
		{"clear lift", Count{2000, 300}, Count{2000, 200}, 1000, false},
		{"no lift after the sample", Count{2000, 205}, Count{2000, 200}, 1000, true},
		{"harm", Count{2000, 150}, Count{2000, 200}, 1000, true},
		{"sample too small", Count{500, 50}, Count{500, 50}, 1000, false},
		{"rule off", Count{5000, 500}, Count{5000, 500}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NoLift(tt.treated, tt.control, tt.min); got != tt.want {
				t.Errorf("NoLift = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWinner(t *testing.T) {
	tests := []struct {
		name     string
		variants []Count
		min      int64
		best     int
		ok       bool
	}{
		{"clear winner", []Count{{2000, 200}, {2000, 300}}, 1000, 1, true},
		{"too close", []Count{{2000, 200}, {2000, 215}}, 1000, -1, false},
		{"sample too small", []Count{{500, 10}, {500, 100}}, 1000, -1, false},
		{"best of three must beat both", []Count{{3000, 300}, {3000, 420}, {3000, 400}}, 1000, -1, false},
		{"best of three beats both", []Count{{3000, 300}, {3000, 480}, {3000, 330}}, 1000, 1, true},
		{"one variant", []Count{{3000, 300}}, 1000, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			best, ok := Winner(tt.variants, tt.min)
			if best != tt.best || ok != tt.ok {
				t.Errorf("Winner = %d %v, want %d %v", best, ok, tt.best, tt.ok)
			}
		})
	}
}
