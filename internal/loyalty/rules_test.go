package loyalty

import (
	"math"
	"testing"
)

func TestEarnPointsRoundsDown(t *testing.T) {
	r := Rules{EarnRateBP: 500, Tiers: []Tier{{Code: "silver", Name: "Silver", EarnRateBP: 500}, {Code: "gold", Name: "Gold", Threshold: 1000, EarnRateBP: 1000}}}
	tests := []struct {
		amount int64
		tier   string
		want   int64
	}{
		{125000, "silver", 62}, // 1,250.00 at 5% = 62.5
		{125000, "gold", 125},
		{1999, "silver", 0}, // 19.99 at 5% = 0.9995
		{2000, "silver", 1},
		{0, "gold", 0},
		{-500, "gold", 0},
		{math.MaxInt64 / 2, "gold", (math.MaxInt64 / 2) / 1000},
		{125000, "unknown", 62}, // falls back to the program's rate
	}
	for _, tt := range tests {
		if got := r.EarnPoints(tt.amount, tt.tier); got != tt.want {
			t.Errorf("EarnPoints(%d, %s) = %d, want %d", tt.amount, tt.tier, got, tt.want)
		}
	}
}

func TestTierFor(t *testing.T) {
	tiers := []Tier{{Code: "a", Name: "A"}, {Code: "b", Name: "B", Threshold: 100}, {Code: "c", Name: "C", Threshold: 500}}
	keep := Rules{Tiers: tiers, TierBasis: BasisPoints}
	down := Rules{Tiers: tiers, TierBasis: BasisPoints, Downgrade: true}
	spend := Rules{Tiers: tiers, TierBasis: BasisSpend}
	tests := []struct {
		r              Rules
		current        string
		points, spend_ int64
		want           string
	}{
		{keep, "a", 99, 0, "a"},
		{keep, "a", 100, 0, "b"},
		{keep, "a", 10000, 0, "c"},
		{keep, "c", 0, 0, "c"}, // no downgrade
		{down, "c", 120, 0, "b"},
		{spend, "a", 0, 600, "c"},
		{spend, "a", 600, 0, "a"},
		{Rules{}, "", 5, 5, BaseTier},
	}
	for _, tt := range tests {
		if got := tt.r.TierFor(tt.current, tt.points, tt.spend_); got != tt.want {
			t.Errorf("TierFor(%s, %d, %d) = %s, want %s", tt.current, tt.points, tt.spend_, got, tt.want)
		}
	}
}

func TestRefundsNeverReverseMoreThanEarned(t *testing.T) {
	// 62 points for 1,250.00, refunded in three uneven parts.
	earned, purchase := int64(62), int64(125000)
	var total, refunded int64
	for _, part := range []int64{33333, 33333, 58334} {
		total += RefundPoints(earned, purchase, refunded, part)
		refunded += part
	}
	if total != earned {
		t.Fatalf("three partial refunds reversed %d points, want %d", total, earned)
	}
	if got := RefundPoints(earned, purchase, 0, purchase/2); got != 31 {
		t.Fatalf("half refund = %d, want 31", got)
	}
}

func TestValidateTiers(t *testing.T) {
	ok := []Tier{{Code: "a", Name: "A"}, {Code: "b", Name: "B", Threshold: 10}}
	if err := ValidateTiers(ok, BasisPoints); err != nil {
		t.Fatal(err)
	}
	bad := map[string][]Tier{
		"first not zero": {{Code: "a", Name: "A", Threshold: 5}},
		"not ascending":  {{Code: "a", Name: "A"}, {Code: "b", Name: "B", Threshold: 0}},
		"duplicate code": {{Code: "a", Name: "A"}, {Code: "a", Name: "B", Threshold: 3}},
		"no name":        {{Code: "a"}},
		"rate too high":  {{Code: "a", Name: "A", EarnRateBP: 20000}},
	}
	for name, tiers := range bad {
		if ValidateTiers(tiers, BasisPoints) == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if ValidateTiers(ok, "visits") == nil {
		t.Error("unknown basis accepted")
	}
}

func TestEarnRateInheritsTheProgramsRate(t *testing.T) {
	r := Program{EarnRateBP: 300, Tiers: []Tier{{Code: "base", Name: "Base"},
		{Code: "silver", Name: "Silver", Threshold: 100, EarnRateBP: 0},
		{Code: "gold", Name: "Gold", Threshold: 500, EarnRateBP: 700}}}.Rules()
	tests := []struct {
		tier string
		want int
	}{
		{"base", 300},   // no rate of its own
		{"silver", 300}, // 0 reads as none
		{"gold", 700},
		{"gone", 300}, // a tier the program no longer has
		{"", 300},
	}
	for _, tt := range tests {
		if got := r.EarnRate(tt.tier); got != tt.want {
			t.Errorf("EarnRate(%q) = %d, want %d", tt.tier, got, tt.want)
		}
	}
	if got := r.EarnPoints(100000, "silver"); got != 30 {
		t.Errorf("1,000.00 in silver earns %d, want 30", got)
	}
}
