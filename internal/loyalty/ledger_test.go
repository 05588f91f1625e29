package loyalty

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// at is now and some days, as a lot's expiry.
func at(days int) *time.Time { return new(now.AddDate(0, 0, days)) }

// club earns 5 %; silver sets no rate of its own, gold earns 10 % from
// 1,000 lifetime points; points live 30 days.
var club = Program{ID: "prg", EarnRateBP: 500, TierBasis: BasisPoints, PointsLifetimeDays: 30,
	Tiers: []Tier{{Code: "silver", Name: "Silver"}, {Code: "gold", Name: "Gold", Threshold: 1000, EarnRateBP: 1000}}}

func card(balance int64, tier string) Card {
	return Card{SerialNumber: "s1", MerchantID: "m", ProgramID: "prg", CustomerID: "c", Balance: balance,
		Tier: tier, Status: CardActive, Version: 7, LifetimePoints: balance}
}

func TestPost(t *testing.T) {
	earn := &Transaction{ID: "e1", SerialNumber: "s1", Kind: Earn, Points: 62, PurchaseAmount: 125000}
	halfRefunded := &Transaction{ID: "e1", SerialNumber: "s1", Kind: Earn, Points: 62, PurchaseAmount: 125000, RefundedAmount: 62500}
	lots := []Lot{
		{ID: "never", Remaining: 100, Seq: 1},
		{ID: "late", Remaining: 30, ExpiresAt: at(20), Seq: 2},
		{ID: "e1", Remaining: 20, ExpiresAt: at(25), Seq: 3},
		{ID: "soon", Remaining: 10, ExpiresAt: at(5), Seq: 4},
	}
	tests := []struct {
		name  string
		st    State
		req   Posting
		want  Outcome // Line.CreatedAt, Card.UpdatedAt and Card.Version are checked apart
		wantE error
	}{{
		name: "earn rounds down at the program's rate in a tier without its own",
		st:   State{Card: card(0, "silver"), Program: club},
		req:  Posting{Kind: Earn, PurchaseAmount: 125000, Reason: "till 3"},
		want: Outcome{Line: Transaction{Kind: Earn, Points: 62, PurchaseAmount: 125000, Reason: "till 3", BalanceAfter: 62,
			ExpiresAt: at(30)}, Lot: 62, Purchase: true},
	}, {
		name: "earn at the tier's own rate",
		st:   State{Card: card(1000, "gold"), Program: club},
		req:  Posting{Kind: Earn, PurchaseAmount: 125000},
		want: Outcome{Line: Transaction{Kind: Earn, Points: 125, PurchaseAmount: 125000, BalanceAfter: 1125,
			ExpiresAt: at(30)}, Lot: 125, Purchase: true},
	}, {
		name: "earn reaching a threshold moves the card up",
		st:   State{Card: card(990, "silver"), Program: club},
		req:  Posting{Kind: Earn, PurchaseAmount: 20000},
		want: Outcome{Line: Transaction{Kind: Earn, Points: 10, PurchaseAmount: 20000, BalanceAfter: 1000,
			ExpiresAt: at(30)}, Lot: 10, Purchase: true},
	}, {
		name: "redeem takes the soonest to expire first, points that never expire last",
		st:   State{Card: card(160, "silver"), Program: club, Lots: lots},
		req:  Posting{Kind: Redeem, Points: 50},
		want: Outcome{Line: Transaction{Kind: Redeem, Points: -50, BalanceAfter: 110},
			Uses: []LotUse{{"soon", 10}, {"late", 30}, {"e1", 10}}},
	}, {
		name:  "redeem beyond the balance",
		st:    State{Card: card(40, "silver"), Program: club, Lots: lots},
		req:   Posting{Kind: Redeem, Points: 41},
		wantE: &InsufficientPointsError{Balance: 40, Debit: 41},
	}, {
		name:  "negative adjust beyond the balance",
		st:    State{Card: card(40, "silver"), Program: club},
		req:   Posting{Kind: Adjust, Points: -41, Reason: "typo"},
		wantE: &InsufficientPointsError{Balance: 40, Debit: 41},
	}, {
		name: "positive adjust makes a lot",
		st:   State{Card: card(40, "silver"), Program: club},
		req:  Posting{Kind: Adjust, Points: 15, Reason: "sorry"},
		want: Outcome{Line: Transaction{Kind: Adjust, Points: 15, Reason: "sorry", BalanceAfter: 55, ExpiresAt: at(30)}, Lot: 15},
	}, {
		name: "full refund takes from its own purchase's lot first",
		st:   State{Card: card(160, "silver"), Program: club, Lots: lots, Earn: earn},
		req:  Posting{Kind: Refund, RefundOf: "e1"},
		want: Outcome{Line: Transaction{Kind: Refund, Points: -62, PurchaseAmount: -125000, RefundOf: "e1", BalanceAfter: 98},
			Uses: []LotUse{{"e1", 20}, {"soon", 10}, {"late", 30}, {"never", 2}}, Refunded: 125000},
	}, {
		name: "spent points cannot be taken back: the balance stops at zero",
		st:   State{Card: card(20, "silver"), Program: club, Lots: []Lot{{ID: "e1", Remaining: 20, ExpiresAt: at(25)}}, Earn: earn},
		req:  Posting{Kind: Refund, RefundOf: "e1"},
		want: Outcome{Line: Transaction{Kind: Refund, Points: -20, PurchaseAmount: -125000, RefundOf: "e1", BalanceAfter: 0},
			Uses: []LotUse{{"e1", 20}}, Refunded: 125000},
	}, {
		name: "the rest of a half refunded purchase",
		st:   State{Card: card(160, "silver"), Program: club, Lots: lots, Earn: halfRefunded},
		req:  Posting{Kind: Refund, RefundOf: "e1"},
		want: Outcome{Line: Transaction{Kind: Refund, Points: -31, PurchaseAmount: -62500, RefundOf: "e1", BalanceAfter: 129},
			Uses: []LotUse{{"e1", 20}, {"soon", 10}, {"late", 1}}, Refunded: 62500},
	}, {
		name:  "refund of more than is left",
		st:    State{Card: card(160, "silver"), Program: club, Lots: lots, Earn: halfRefunded},
		req:   Posting{Kind: Refund, RefundOf: "e1", PurchaseAmount: 62501},
		wantE: &RefundTooLargeError{Left: 62500, Purchase: 125000},
	}, {
		name:  "refund of an unknown line",
		st:    State{Card: card(160, "silver"), Program: club, Lots: lots},
		req:   Posting{Kind: Refund, RefundOf: "e9"},
		wantE: ErrRefundTarget,
	}, {
		name:  "refund of a line that is no earn",
		st:    State{Card: card(160, "silver"), Program: club, Earn: &Transaction{ID: "a1", SerialNumber: "s1", Kind: Adjust, Points: 5}},
		req:   Posting{Kind: Refund, RefundOf: "a1"},
		wantE: ErrRefundTarget,
	}, {
		name:  "voided card",
		st:    State{Card: Card{Status: CardVoided, Balance: 10}, Program: club},
		req:   Posting{Kind: Earn, PurchaseAmount: 1000},
		wantE: ErrCardVoided,
	}, {
		name:  "lots that do not add up to the balance",
		st:    State{Card: card(50, "silver"), Program: club, Lots: []Lot{{ID: "x", Remaining: 10}}},
		req:   Posting{Kind: Redeem, Points: 20},
		wantE: ErrLotsOutOfBalance,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Post(tt.st, tt.req, now)
			if tt.wantE != nil {
				if !errors.Is(err, tt.wantE) && !reflect.DeepEqual(err, tt.wantE) {
					t.Fatalf("err = %v, want %v", err, tt.wantE)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Card.Version != tt.st.Card.Version+1 || got.Line.Seq != got.Card.Version || !got.Card.UpdatedAt.Equal(now) {
				t.Errorf("version %d, seq %d, updated %v", got.Card.Version, got.Line.Seq, got.Card.UpdatedAt)
			}
			if got.Card.Balance != tt.want.Line.BalanceAfter {
				t.Errorf("card balance %d, line says %d", got.Card.Balance, tt.want.Line.BalanceAfter)
			}
			if got.Purchase != (got.Card.LastPurchaseAt != nil) {
				t.Errorf("purchase %v but last purchase %v", got.Purchase, got.Card.LastPurchaseAt)
			}
			tt.want.Line.SerialNumber, tt.want.Line.Seq, tt.want.Line.CreatedAt = "s1", got.Card.Version, now
			tt.want.Card = got.Card
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Post =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestPostKeepsTierAndTotals(t *testing.T) {
	down := club
	down.TierDowngrade = true
	gold := card(1100, "gold")
	gold.LifetimeSpend = 2_000_000
	earn := &Transaction{ID: "e1", SerialNumber: "s1", Kind: Earn, Points: 200, PurchaseAmount: 400000}
	lots := []Lot{{ID: "e1", Remaining: 1100}}
	tests := []struct {
		name                 string
		program              Program
		req                  Posting
		tier                 string
		lifetimePts, lifeAmt int64
	}{
		{"earn adds to both totals", club, Posting{Kind: Earn, PurchaseAmount: 100000}, "gold", 1200, 2_100_000},
		{"redeem changes no total", club, Posting{Kind: Redeem, Points: 1000}, "gold", 1100, 2_000_000},
		{"refund takes both back, no downgrade", club, Posting{Kind: Refund, RefundOf: "e1"}, "gold", 900, 1_600_000},
		{"refund takes both back, downgrade", down, Posting{Kind: Refund, RefundOf: "e1"}, "silver", 900, 1_600_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Post(State{Card: gold, Program: tt.program, Lots: lots, Earn: earn}, tt.req, now)
			if err != nil {
				t.Fatal(err)
			}
			if c := got.Card; c.Tier != tt.tier || c.LifetimePoints != tt.lifetimePts || c.LifetimeSpend != tt.lifeAmt {
				t.Errorf("tier %s, lifetime %d points %d spend; want %s, %d, %d", c.Tier, c.LifetimePoints,
					c.LifetimeSpend, tt.tier, tt.lifetimePts, tt.lifeAmt)
			}
		})
	}
}

func TestWelcomeBonus(t *testing.T) {
	p := Program{WelcomeBonus: 50}
	if req, ok := WelcomeBonus(p, false); !ok || req.Kind != Welcome || req.Points != 50 {
		t.Fatalf("WelcomeBonus = %+v, %v", req, ok)
	}
	if _, ok := WelcomeBonus(p, true); ok {
		t.Error("a second welcome bonus")
	}
	if _, ok := WelcomeBonus(Program{}, false); ok {
		t.Error("a welcome bonus from a program without one")
	}
	req, _ := WelcomeBonus(p, false)
	out, err := Post(State{Card: card(0, BaseTier), Program: p}, req, now)
	if err != nil || out.Lot != 50 || out.Line.ExpiresAt != nil || out.Card.Balance != 50 {
		t.Fatalf("welcome outcome %+v, %v", out, err)
	}
}
