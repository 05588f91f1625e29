package store

import (
	"context"
	"testing"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// TestLedgerSavesWhatTheDomainDecides checks the seam end to end: a
// program read back is a points program, and an earn in a tier that sets
// no rate of its own is saved at the program's rate.
func TestLedgerSavesWhatTheDomainDecides(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, p := newTestProgram(t, s, "shop")
		p, err := s.Programs().UpdateProgram(ctx, m.ID, p.ID, func(p *loyalty.Program) error {
			p.Tiers = []loyalty.Tier{{Code: "silver", Name: "Silver"}, {Code: "gold", Name: "Gold", Threshold: 1000, EarnRateBP: 1000}}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Programs().Program(ctx, m.ID, p.ID); got.Kind != loyalty.KindPoints {
			t.Errorf("program kind %q, want %q", got.Kind, loyalty.KindPoints)
		}
		serial := issueCards(t, s, m, p, 1)[0]
		earn(t, s, m, serial, "k1", 125000)
		card, err := s.Cards().Card(ctx, m.ID, serial)
		if err != nil {
			t.Fatal(err)
		}
		if card.Tier != "silver" || card.Balance != 62 || card.LifetimePoints != 62 || card.LifetimeSpend != 125000 {
			t.Errorf("after 1,250.00 at 5%%: tier %s, balance %d, lifetime %d points %d spend",
				card.Tier, card.Balance, card.LifetimePoints, card.LifetimeSpend)
		}
	})
}
