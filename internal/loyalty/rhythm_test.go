package loyalty

import (
	"testing"
	"time"
)

func TestEstimateRhythm(t *testing.T) {
	day := 24 * time.Hour
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	days := func(ds ...int) []time.Time {
		out := make([]time.Time, len(ds))
		for i, d := range ds {
			out[i] = t0.Add(time.Duration(d) * day)
		}
		return out
	}
	tests := []struct {
		name      string
		purchases []time.Time
		gap       time.Duration
		own       bool
		count     int
	}{
		{"none: the program's gap", nil, 30 * day, false, 0},
		{"two: the program's gap", days(0, 10), 30 * day, false, 2},
		{"weekly", days(0, 7, 14, 21), 7 * day, true, 4},
		{"any order", days(21, 0, 14, 7), 7 * day, true, 4},
		{"one long holiday does not move the median", days(0, 10, 20, 30, 100, 110, 120), 10 * day, true, 7},
		{"only the last six gaps count", days(0, 50, 100, 110, 120, 130, 140, 150, 160), 10 * day, true, 9},
		{"an even count averages the middle", days(0, 10, 30), 15 * day, true, 3},
		{"two receipts of one visit are one purchase", append(days(0, 10, 20), t0.Add(20*day+time.Minute)), 10 * day, true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := EstimateRhythm(tt.purchases, 30*day)
			if r.Gap != tt.gap || r.Own != tt.own || r.Purchases != tt.count {
				t.Fatalf("rhythm = %+v, want gap %v own %v purchases %d", r, tt.gap, tt.own, tt.count)
			}
		})
	}
	r := EstimateRhythm(days(0, 10, 20), 30*day)
	if due := r.DueAt(0); !due.Equal(t0.Add(30 * day)) {
		t.Errorf("due at the gap = %v", due)
	}
	if due := r.DueAt(50); !due.Equal(t0.Add(35 * day)) {
		t.Errorf("due 50 %% past = %v", due)
	}
	if due := EstimateRhythm(nil, 30*day).DueAt(0); !due.IsZero() {
		t.Errorf("no purchase, due %v", due)
	}
}
