package loyalty

import (
	"slices"
	"testing"
)

func TestConsumeIsFIFOAndBounded(t *testing.T) {
	lots := []Lot{{ID: "x", Remaining: 10}, {ID: "y", Remaining: 5}, {ID: "z", Remaining: 20}}
	got := Consume(lots, 12)
	if len(got) != 2 || got[0] != (LotUse{"x", 10}) || got[1] != (LotUse{"y", 2}) {
		t.Fatalf("Consume 12 = %v", got)
	}
	var sum int64
	for _, u := range Consume(lots, 1000) {
		sum += u.Points
	}
	if sum != 35 {
		t.Fatalf("Consume beyond the total took %d", sum)
	}
}

func TestOrderLots(t *testing.T) {
	lots := []Lot{
		{ID: "never-1", Remaining: 1, Seq: 1},
		{ID: "late", Remaining: 1, ExpiresAt: at(20), Seq: 2},
		{ID: "soon-b", Remaining: 1, ExpiresAt: at(5), Seq: 4},
		{ID: "soon-a", Remaining: 1, ExpiresAt: at(5), Seq: 3},
		{ID: "never-0", Remaining: 1, Seq: 0},
		{ID: "refunded", Remaining: 1, Seq: 5},
	}
	tests := []struct {
		first string
		want  []string
	}{
		{"", []string{"soon-a", "soon-b", "late", "never-0", "never-1", "refunded"}},
		{"refunded", []string{"refunded", "soon-a", "soon-b", "late", "never-0", "never-1"}},
		{"late", []string{"late", "soon-a", "soon-b", "never-0", "never-1", "refunded"}},
	}
	for _, tt := range tests {
		var got []string
		for _, l := range OrderLots(lots, tt.first) {
			got = append(got, l.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("OrderLots(first %q) = %v, want %v", tt.first, got, tt.want)
		}
	}
	if lots[0].ID != "never-1" {
		t.Error("OrderLots reordered its argument")
	}
}
