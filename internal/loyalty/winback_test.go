package loyalty

import (
	"errors"
	"testing"
)

func TestWinBackBonus(t *testing.T) {
	texted := CampaignRecipient{CampaignID: "cmp_1", CampaignName: "Spring", CustomerID: "cus_1", MerchantID: "mer_1",
		Serial: "S1", BonusPoints: 50, BonusOn: "open", Sent: true}
	tests := []struct {
		name   string
		change func(*CampaignRecipient)
		refuse BonusRefusal
		offer  int64
	}{
		{"texted recipient", func(*CampaignRecipient) {}, "", 50},
		{"holdout", func(r *CampaignRecipient) { r.Holdout = true }, BonusHoldout, 0},
		{"holdout never texted", func(r *CampaignRecipient) { r.Holdout, r.Sent = true, false }, BonusHoldout, 0},
		{"no bonus", func(r *CampaignRecipient) { r.BonusPoints = 0 }, BonusNone, 0},
		{"not sent yet", func(r *CampaignRecipient) { r.Sent = false }, BonusNotSent, 50},
		{"credited already", func(r *CampaignRecipient) { r.Credited = true }, BonusCredited, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := texted
			tt.change(&r)
			if got := BonusOffer(r); got != tt.offer {
				t.Errorf("BonusOffer = %d, want %d", got, tt.offer)
			}
			p, err := WinBackBonus(r)
			if tt.refuse != "" {
				var refused *BonusRefusedError
				if !errors.As(err, &refused) || refused.Reason != tt.refuse || !errors.Is(err, ErrNoBonus) {
					t.Fatalf("WinBackBonus = %+v, %v; want refused: %s", p, err, tt.refuse)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Posting{MerchantID: "mer_1", Serial: "S1", Kind: Adjust, Points: 50, Reason: "win-back bonus: Spring",
				IdempotencyKey: "campaign-bonus:cmp_1:cus_1"}
			if p.MerchantID != want.MerchantID || p.Serial != want.Serial || p.Kind != want.Kind || p.Points != want.Points ||
				p.Reason != want.Reason || p.IdempotencyKey != want.IdempotencyKey || string(p.RequestHash) != want.IdempotencyKey {
				t.Errorf("posting = %+v, want %+v", p, want)
			}
		})
	}
}
