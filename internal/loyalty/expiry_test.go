package loyalty

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestExpiresAt(t *testing.T) {
	if got := ExpiresAt(Program{}.Rules(), now); got != nil {
		t.Errorf("points of a program without a lifetime expire at %v", got)
	}
	if got := ExpiresAt(Program{PointsLifetimeDays: 30}.Rules(), now); got == nil || !got.Equal(*at(30)) {
		t.Errorf("30-day points expire at %v, want %v", got, at(30))
	}
}

func TestExpireLapsed(t *testing.T) {
	tests := []struct {
		name   string
		card   Card
		lots   []Lot
		ok     bool
		points int64
		uses   []LotUse
	}{
		{"nothing lapsed", card(30, "silver"), []Lot{{ID: "a", Remaining: 30, ExpiresAt: at(1)}}, false, 0, nil},
		{"never expiring points stay", card(30, "silver"), []Lot{{ID: "a", Remaining: 30}}, false, 0, nil},
		{"a lot lapses at its instant", card(30, "silver"),
			[]Lot{{ID: "a", Remaining: 10, ExpiresAt: at(0), Seq: 2}, {ID: "b", Remaining: 20, ExpiresAt: at(1), Seq: 1}},
			true, 10, []LotUse{{"a", 10}}},
		{"every lapsed lot whole, a used-up one not", card(35, "silver"), []Lot{
			{ID: "old", Remaining: 5, ExpiresAt: at(-40), Seq: 1}, {ID: "used", Remaining: 0, ExpiresAt: at(-30), Seq: 2},
			{ID: "mid", Remaining: 10, ExpiresAt: at(-1), Seq: 3}, {ID: "keep", Remaining: 20, Seq: 4}},
			true, 15, []LotUse{{"old", 5}, {"mid", 10}}},
		{"a voided card's points expire too", Card{SerialNumber: "s1", Status: CardVoided, Balance: 5, Version: 3},
			[]Lot{{ID: "a", Remaining: 5, ExpiresAt: at(-1)}}, true, 5, []LotUse{{"a", 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, ok, err := ExpireLapsed(State{Card: tt.card, Program: club, Lots: tt.lots}, now)
			if err != nil || ok != tt.ok {
				t.Fatalf("ExpireLapsed = %v, %v", ok, err)
			}
			if !ok {
				return
			}
			l := out.Line
			if l.Kind != Expire || l.Points != -tt.points || l.BalanceAfter != tt.card.Balance-tt.points ||
				l.ExpiresAt != nil || out.Lot != 0 || out.Card.Version != tt.card.Version+1 {
				t.Errorf("expire line %+v, lot %d", l, out.Lot)
			}
			if !reflect.DeepEqual(out.Uses, tt.uses) {
				t.Errorf("uses %v, want %v", out.Uses, tt.uses)
			}
		})
	}
}

func TestExpireLapsedRefusesLotsBeyondTheBalance(t *testing.T) {
	_, _, err := ExpireLapsed(State{Card: card(5, "silver"), Program: club,
		Lots: []Lot{{ID: "a", Remaining: 10, ExpiresAt: at(-1)}}}, now)
	if !errors.Is(err, ErrInsufficientPoints) {
		t.Fatalf("an expiry beyond the balance: %v", err)
	}
}

func TestNextExpiry(t *testing.T) {
	tests := []struct {
		name   string
		lots   []Lot
		points int64
		at     time.Time
	}{
		{"no lots", nil, 0, time.Time{}},
		{"points that never expire", []Lot{{ID: "a", Remaining: 10}}, 0, time.Time{}},
		{"lots within a day of the first together", []Lot{
			{ID: "later", Remaining: 7, ExpiresAt: at(3)},
			{ID: "first", Remaining: 5, ExpiresAt: at(2)},
			{ID: "same day", Remaining: 4, ExpiresAt: new(at(2).Add(23 * time.Hour))},
			{ID: "a day on", Remaining: 100, ExpiresAt: new(at(2).Add(24 * time.Hour))},
			{ID: "used up", Remaining: 0, ExpiresAt: at(1)},
			{ID: "never", Remaining: 50},
		}, 9, *at(2)},
		{"a lapsed lot not yet expired counts", []Lot{{ID: "a", Remaining: 3, ExpiresAt: at(-1)}}, 3, *at(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			points, when := NextExpiry(tt.lots)
			if points != tt.points || !when.Equal(tt.at) {
				t.Errorf("NextExpiry = %d at %v, want %d at %v", points, when, tt.points, tt.at)
			}
		})
	}
}
