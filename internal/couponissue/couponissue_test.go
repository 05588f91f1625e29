package couponissue_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/loyalpass/loyalpass/internal/couponissue"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

var _ couponissue.Store = (*store.CouponIssueStore)(nil)

// TestIssuerWorksThroughTheSegment issues a coupon to every customer of a
// points program; a second job for the same customers finds their
// coupons and issues none twice.
func TestIssuerWorksThroughTheSegment(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, store.Options{URL: b.URL(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			m, _, _ := st.Merchants().EnsureMerchant(ctx, "Кофейня", "RU")
			points := loyalty.Program{MerchantID: m.ID, Name: "Баллы", CurrencyLabel: "баллы", EarnRateBP: 500, BarcodeFormat: "qr", Locale: "ru"}
			coupon := loyalty.Program{MerchantID: m.ID, Name: "Купон", CurrencyLabel: "баллы", Kind: loyalty.KindCoupon, Offer: "−20%",
				ValidDays: 14, BarcodeFormat: "qr", Locale: "ru"}
			for _, p := range []*loyalty.Program{&points, &coupon} {
				if err := st.Programs().CreateProgram(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			const customers = 12
			for i := range customers {
				if _, _, err := st.Cards().IssueCard(ctx, store.IssueCard{MerchantID: m.ID, ProgramID: points.ID,
					Phone: fmt.Sprintf("+7912%07d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			is := couponissue.New(couponissue.Options{Store: st.CouponIssues(), Cards: st.Cards(), Batch: 5})
			run := func() {
				t.Helper()
				for {
					n, err := is.RunOnce(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if n == 0 {
						return
					}
				}
			}
			seg := store.CouponSegment{SourceProgramID: points.ID}
			first, err := st.CouponIssues().CreateCouponIssue(ctx, m.ID, coupon.ID, seg)
			if err != nil || first.Total != customers {
				t.Fatalf("CreateCouponIssue = %+v, %v", first, err)
			}
			run()
			got, _ := st.CouponIssues().CouponIssue(ctx, m.ID, first.ID)
			if got.Issued != customers || got.Pending != 0 || got.Existing != 0 || got.Failed != 0 {
				t.Fatalf("first job: %+v", got)
			}
			cards, err := st.Cards().Cards(ctx, m.ID, store.CardFilter{ProgramID: coupon.ID}, store.Cursor{}, 100)
			if err != nil || len(cards) != customers {
				t.Fatalf("%d coupon cards, %v", len(cards), err)
			}
			for _, c := range cards {
				if c.Balance != 1 || c.ValidUntil == nil {
					t.Errorf("coupon card %+v", c)
				}
			}
			second, _ := st.CouponIssues().CreateCouponIssue(ctx, m.ID, coupon.ID, seg)
			run()
			got, _ = st.CouponIssues().CouponIssue(ctx, m.ID, second.ID)
			if got.Existing != customers || got.Issued != 0 {
				t.Errorf("second job: %+v", got)
			}
			if cards, _ := st.Cards().Cards(ctx, m.ID, store.CardFilter{ProgramID: coupon.ID}, store.Cursor{}, 100); len(cards) != customers {
				t.Errorf("%d coupon cards after the second job", len(cards))
			}
		})
	}
}
