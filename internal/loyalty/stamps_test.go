package loyalty

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// coffee is a stamps program: six stamps make a bun.
var coffee = Program{ID: "cof", Kind: KindStamps, StampsRequired: 6, Reward: "Булочка в подарок", TierBasis: BasisPoints}

func stampCard(stamps, rewards int64) Card {
	c := card(stamps, BaseTier)
	c.Rewards, c.LifetimePoints = rewards, 0
	return c
}

func TestStampGoal(t *testing.T) {
	tests := []struct{ stamps, added, goal, rest, rewards int64 }{
		{0, 1, 6, 1, 0},
		{5, 1, 6, 0, 1},
		{5, 3, 6, 2, 1},
		{0, 13, 6, 1, 2},
		{8, 1, 6, 3, 1}, // the goal was lowered under a card holding more
		{4, 2, 0, 6, 0}, // no goal, no reward
	}
	for _, tt := range tests {
		rest, rewards := StampGoal(tt.stamps, tt.added, tt.goal)
		if rest != tt.rest || rewards != tt.rewards {
			t.Errorf("StampGoal(%d, %d, %d) = %d, %d; want %d, %d", tt.stamps, tt.added, tt.goal, rest, rewards, tt.rest, tt.rewards)
		}
	}
}

func TestPostStamps(t *testing.T) {
	lots := []Lot{{ID: "a", Remaining: 2, Seq: 1}, {ID: "b", Remaining: 3, Seq: 2}}
	minimum := coffee
	minimum.StampMinPurchase = 15000
	expiring := coffee
	expiring.PointsLifetimeDays = 30
	tests := []struct {
		name  string
		st    State
		req   Posting
		want  Outcome // Card is checked apart: Balance, Rewards
		wantR int64   // rewards on the card after
		wantE error
	}{{
		name: "a stamp below the goal is a lot of its own",
		st:   State{Card: stampCard(2, 0), Program: coffee},
		req:  Posting{Kind: Stamp, Points: 1},
		want: Outcome{Line: Transaction{Kind: Stamp, Points: 1, BalanceAfter: 3}, Lot: 1},
	}, {
		name: "the stamp that completes the goal turns the card's stamps into a reward",
		st:   State{Card: stampCard(5, 0), Program: coffee, Lots: lots},
		req:  Posting{Kind: Stamp, Points: 1},
		want: Outcome{Line: Transaction{Kind: Stamp, Points: -5, BalanceAfter: 0, Rewards: 1},
			Uses: []LotUse{{"a", 2}, {"b", 3}}},
		wantR: 1,
	}, {
		name: "stamps past the goal stay as the remainder, the oldest go first",
		st:   State{Card: stampCard(5, 1), Program: coffee, Lots: lots},
		req:  Posting{Kind: Stamp, Points: 3},
		want: Outcome{Line: Transaction{Kind: Stamp, Points: -3, BalanceAfter: 2, Rewards: 1},
			Uses: []LotUse{{"a", 2}, {"b", 3}}, Lot: 2},
		wantR: 2,
	}, {
		name:  "many stamps at once make as many rewards as whole goals",
		st:    State{Card: stampCard(0, 0), Program: coffee},
		req:   Posting{Kind: Stamp, Points: 13},
		want:  Outcome{Line: Transaction{Kind: Stamp, Points: 1, BalanceAfter: 1, Rewards: 2}, Lot: 1},
		wantR: 2,
	}, {
		name: "a goal lowered under the card: the reward takes old stamps only",
		st:   State{Card: stampCard(8, 0), Program: coffee, Lots: []Lot{{ID: "a", Remaining: 8}}},
		req:  Posting{Kind: Stamp, Points: 1},
		want: Outcome{Line: Transaction{Kind: Stamp, Points: -5, BalanceAfter: 3, Rewards: 1},
			Uses: []LotUse{{"a", 6}}, Lot: 1},
		wantR: 1,
	}, {
		name: "stamps of a program whose stamps expire",
		st:   State{Card: stampCard(0, 0), Program: expiring},
		req:  Posting{Kind: Stamp, Points: 2},
		want: Outcome{Line: Transaction{Kind: Stamp, Points: 2, BalanceAfter: 2, ExpiresAt: at(30)}, Lot: 2},
	}, {
		name:  "redeem_reward uses one reward",
		st:    State{Card: stampCard(3, 2), Program: coffee},
		req:   Posting{Kind: RedeemReward, Reason: "bun"},
		want:  Outcome{Line: Transaction{Kind: RedeemReward, Reason: "bun", BalanceAfter: 3, Rewards: -1}},
		wantR: 1,
	}, {
		name:  "redeem_reward without a reward",
		st:    State{Card: stampCard(5, 0), Program: coffee},
		req:   Posting{Kind: RedeemReward},
		wantE: ErrNoReward,
	}, {
		name:  "a purchase below the minimum per stamp",
		st:    State{Card: stampCard(0, 0), Program: minimum},
		req:   Posting{Kind: Stamp, Points: 2, PurchaseAmount: 29999},
		wantE: &PurchaseTooSmallError{Need: 30000, Purchase: 29999},
	}, {
		name: "a purchase at the minimum counts as the card's purchase",
		st:   State{Card: stampCard(0, 0), Program: minimum},
		req:  Posting{Kind: Stamp, Points: 2, PurchaseAmount: 30000},
		want: Outcome{Line: Transaction{Kind: Stamp, Points: 2, PurchaseAmount: 30000, BalanceAfter: 2}, Lot: 2, Purchase: true},
	}, {
		name:  "a negative adjustment beyond the stamps",
		st:    State{Card: stampCard(1, 0), Program: coffee, Lots: []Lot{{ID: "a", Remaining: 1}}},
		req:   Posting{Kind: Adjust, Points: -2, Reason: "typo"},
		wantE: &InsufficientPointsError{Balance: 1, Debit: 2},
	}, {
		name: "a positive adjustment completes a goal like a stamp",
		st:   State{Card: stampCard(4, 0), Program: coffee, Lots: []Lot{{ID: "a", Remaining: 4}}},
		req:  Posting{Kind: Adjust, Points: 2, Reason: "missed"},
		want: Outcome{Line: Transaction{Kind: Adjust, Points: -4, Reason: "missed", BalanceAfter: 0, Rewards: 1},
			Uses: []LotUse{{"a", 4}}},
		wantR: 1,
	}, {
		name:  "an earn on a stamp card",
		st:    State{Card: stampCard(0, 0), Program: coffee},
		req:   Posting{Kind: Earn, PurchaseAmount: 1000},
		wantE: ErrKindMismatch,
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
			if got.Card.Balance != tt.want.Line.BalanceAfter || got.Card.Rewards != tt.wantR {
				t.Errorf("card holds %d stamps and %d rewards, want %d and %d", got.Card.Balance, got.Card.Rewards,
					tt.want.Line.BalanceAfter, tt.wantR)
			}
			tt.want.Line.SerialNumber, tt.want.Line.Seq, tt.want.Line.CreatedAt = "s1", got.Card.Version, now
			tt.want.Card = got.Card
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Post =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// ledgerSim keeps a card and its lots the way the store does, so that a
// run of postings can be checked against the ledger's sums.
type ledgerSim struct {
	t       *testing.T
	st      State
	lines   []Transaction
	nextLot int
}

func (s *ledgerSim) post(req Posting) error {
	s.t.Helper()
	st := s.st
	if !st.NeedsLots(req) {
		st.Lots = nil // the store loads lots only when asked to
	}
	out, err := Post(st, req, now)
	if err != nil {
		return err
	}
	for _, u := range out.Uses {
		i := indexLot(s.st.Lots, u.ID)
		if i < 0 || s.st.Lots[i].Remaining < u.Points {
			s.t.Fatalf("use %+v of lots %+v", u, s.st.Lots)
		}
		s.st.Lots[i].Remaining -= u.Points
	}
	if out.Lot > 0 {
		s.nextLot++
		s.st.Lots = append(s.st.Lots, Lot{ID: fmt.Sprint("l", s.nextLot), Remaining: out.Lot, Seq: out.Line.Seq})
	}
	s.st.Card = out.Card
	s.lines = append(s.lines, out.Line)
	s.check()
	return nil
}

// check asserts balance = ledger sum = lots, rewards = ledger sum.
func (s *ledgerSim) check() {
	s.t.Helper()
	var points, rewards, lots int64
	for _, l := range s.lines {
		points += l.Points
		rewards += l.Rewards
	}
	for _, l := range s.st.Lots {
		lots += l.Remaining
	}
	c := s.st.Card
	if c.Balance != points || c.Balance != lots || c.Rewards != rewards || c.Balance < 0 || c.Rewards < 0 {
		s.t.Fatalf("card balance %d rewards %d; ledger %d and %d; lots %d", c.Balance, c.Rewards, points, rewards, lots)
	}
}

func indexLot(lots []Lot, id string) int {
	for i, l := range lots {
		if l.ID == id {
			return i
		}
	}
	return -1
}

// TestStampsNeverLoseAStamp runs random stamps and redemptions: every
// stamp given is on the card or inside exactly one reward, and no goal
// pays twice.
func TestStampsNeverLoseAStamp(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for run := 0; run < 50; run++ {
		prog := coffee
		prog.StampsRequired = 2 + r.IntN(19)
		sim := &ledgerSim{t: t, st: State{Card: stampCard(0, 0), Program: prog}}
		var given, redeemed int64
		for i := 0; i < 200; i++ {
			if r.IntN(4) == 0 {
				err := sim.post(Posting{Kind: RedeemReward})
				if err == nil {
					redeemed++
				} else if !errors.Is(err, ErrNoReward) {
					t.Fatal(err)
				}
				continue
			}
			n := int64(1 + r.IntN(7))
			if err := sim.post(Posting{Kind: Stamp, Points: n}); err != nil {
				t.Fatal(err)
			}
			given += n
		}
		c, goal := sim.st.Card, int64(prog.StampsRequired)
		if c.Balance+goal*(c.Rewards+redeemed) != given || c.Balance >= goal {
			t.Fatalf("goal %d: %d stamps given, card holds %d and %d rewards, %d used", goal, given, c.Balance, c.Rewards, redeemed)
		}
	}
}
