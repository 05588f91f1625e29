package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

func TestCouponIssueQueuesTheSegment(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, points := newTestProgram(t, s, "Segments")
		if _, err := s.Programs().UpdateProgram(ctx, m.ID, points.ID, func(p *loyalty.Program) error {
			p.Tiers = []loyalty.Tier{{Code: "silver", Name: "Silver"}, {Code: "gold", Name: "Gold", Threshold: 100}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		serials := issueCards(t, s, m, points, 5)
		earn(t, s, m, serials[0], "e0", 500000) // gold, bought now
		earn(t, s, m, serials[1], "e1", 1000)   // silver, bought now
		if _, err := s.Cards().VoidCard(ctx, m.ID, serials[4]); err != nil {
			t.Fatal(err)
		}
		_, coupon := newKindProgram(t, s, "Segments", loyalty.Program{Kind: loyalty.KindCoupon, Offer: "−20%", ValidDays: 7})
		cis := s.CouponIssues()
		tests := []struct {
			seg  CouponSegment
			want int64
		}{
			{CouponSegment{SourceProgramID: points.ID}, 4}, // the voided card is left out
			{CouponSegment{SourceProgramID: points.ID, Tier: "gold"}, 1},
			{CouponSegment{SourceProgramID: points.ID, InactiveDays: 30}, 2}, // never bought
		}
		for _, tt := range tests {
			ci, err := cis.CreateCouponIssue(ctx, m.ID, coupon.ID, tt.seg)
			if err != nil || ci.Total != tt.want || ci.Pending != tt.want {
				t.Errorf("segment %+v: %+v, %v; want %d", tt.seg, ci, err, tt.want)
			}
			got, err := cis.CouponIssue(ctx, m.ID, ci.ID)
			if err != nil || got.Total != tt.want || got.Pending != tt.want || got.Segment != tt.seg {
				t.Errorf("read back %+v, %v", got, err)
			}
		}
		if _, err := cis.CreateCouponIssue(ctx, m.ID, points.ID, CouponSegment{SourceProgramID: points.ID}); !errors.Is(err, loyalty.ErrNotCoupon) {
			t.Errorf("into a points program: %v", err)
		}
		other, _ := newTestProgram(t, s, "Other")
		if _, err := cis.CreateCouponIssue(ctx, other.ID, coupon.ID, CouponSegment{SourceProgramID: points.ID}); !errors.Is(err, ErrNotFound) {
			t.Errorf("another merchant's program: %v", err)
		}
		if _, err := cis.CreateCouponIssue(ctx, m.ID, coupon.ID, CouponSegment{SourceProgramID: "prg_nosuch"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("an unknown source: %v", err)
		}

		// Claimed rows are leased: a second claim takes none of them.
		items, err := cis.ClaimCouponItems(ctx, 100, time.Minute)
		if err != nil || len(items) != 7 || items[0].MerchantID != m.ID || items[0].ProgramID != coupon.ID || items[0].Phone == "" {
			t.Fatalf("claim = %d items %+v, %v", len(items), items, err)
		}
		if again, _ := cis.ClaimCouponItems(ctx, 100, time.Minute); len(again) != 0 {
			t.Errorf("claimed %d leased rows again", len(again))
		}
		if err := cis.FinishCouponItem(ctx, items[0].ID, IssueIssued, "serial", ""); err != nil {
			t.Fatal(err)
		}
		if err := cis.FinishCouponItem(ctx, items[0].ID, IssueFailed, "", "late"); err != nil {
			t.Fatal(err)
		}
		got, _ := cis.CouponIssue(ctx, m.ID, items[0].IssueID)
		if got.Issued != 1 || got.Failed != 0 {
			t.Errorf("a finished row was finished again: %+v", got)
		}
		if _, err := cis.CouponIssue(ctx, other.ID, items[0].IssueID); !errors.Is(err, ErrNotFound) {
			t.Errorf("another merchant reads the job: %v", err)
		}
	})
}
