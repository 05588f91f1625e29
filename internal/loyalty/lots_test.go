package loyalty

import "testing"

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
