package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// newKindProgram creates a program of the merchant's made from p.
func newKindProgram(t *testing.T, s *Store, merchant string, p loyalty.Program) (Merchant, loyalty.Program) {
	t.Helper()
	ctx := context.Background()
	m, _, err := s.Merchants().EnsureMerchant(ctx, merchant, "RU")
	if err != nil {
		t.Fatal(err)
	}
	p.MerchantID, p.Name, p.CurrencyLabel, p.BarcodeFormat, p.Locale = m.ID, "Кофе", "баллы", "qr", "ru"
	if err := loyalty.ValidateProgram(p); err != nil {
		t.Fatal(err)
	}
	if err := s.Programs().CreateProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	return m, p
}

// post posts p on the merchant's card with a key of its own.
func post(s *Store, m Merchant, serial, key string, p loyalty.Posting) error {
	p.MerchantID, p.Serial, p.IdempotencyKey, p.RequestHash = m.ID, serial, key, []byte(key)
	_, _, err := s.Cards().Post(context.Background(), p, created)
	return err
}

// checkLedger asserts what every kind keeps: the card's balance is the
// sum of its ledger's points and of its open lots, its rewards the sum
// of the ledger's rewards.
func checkLedger(t *testing.T, s *Store, m Merchant, serial string) loyalty.Card {
	t.Helper()
	ctx := context.Background()
	c, err := s.Cards().Card(ctx, m.ID, serial)
	if err != nil {
		t.Fatal(err)
	}
	var points, rewards, lots int64
	err = s.read.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT), CAST(COALESCE(SUM(rewards), 0) AS BIGINT),
		CAST(COALESCE(SUM(remaining), 0) AS BIGINT) FROM transactions WHERE serial_number = ?`, serial).Scan(&points, &rewards, &lots)
	if err != nil {
		t.Fatal(err)
	}
	if c.Balance != points || c.Balance != lots || c.Rewards != rewards || c.Balance < 0 || c.Rewards < 0 {
		t.Fatalf("card %s: balance %d, rewards %d; ledger %d points, %d rewards; lots %d", serial, c.Balance, c.Rewards,
			points, rewards, lots)
	}
	return c
}

func TestProgramKindsRoundTrip(t *testing.T) {
	until := time.Date(2031, 1, 31, 21, 0, 0, 0, time.UTC)
	programs := []loyalty.Program{
		{Kind: loyalty.KindStamps, StampsRequired: 6, Reward: "Булочка", StampMinPurchase: 15000, PointsLifetimeDays: 90},
		{Kind: loyalty.KindDiscount, DiscountPercent: 5, TierBasis: loyalty.BasisSpend,
			Tiers: []loyalty.Tier{{Code: "base", Name: "Базовый"}, {Code: "gold", Name: "Золотой", Threshold: 1_000_000, DiscountPercent: 10}}},
		{Kind: loyalty.KindCoupon, Offer: "−20% на всё", ValidUntil: &until},
		{Kind: loyalty.KindGift, Currency: "RUB"},
		{Kind: loyalty.KindPoints, EarnRateBP: 500, PointValue: 50, Currency: "EUR"},
	}
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, want := range programs {
			m, p := newKindProgram(t, s, "Kinds", want)
			got, err := s.Programs().Program(ctx, m.ID, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			got.CreatedAt, got.UpdatedAt = p.CreatedAt, p.UpdatedAt
			if got.ValidUntil != nil {
				got.ValidUntil = new(got.ValidUntil.UTC())
			}
			for _, q := range []*loyalty.Program{&got, &p} {
				if len(q.Tiers) == 0 {
					q.Tiers = nil
				}
				q.CustomImages = nil
			}
			if !reflect.DeepEqual(got, p) {
				t.Errorf("%s program read back\n got %+v\nwant %+v", want.Kind, got, p)
			}
			// An update changes the kind's settings, never the kind.
			upd, err := s.Programs().UpdateProgram(ctx, m.ID, p.ID, func(p *loyalty.Program) error {
				p.Reward, p.Offer = p.Reward+"!", p.Offer+"!"
				p.Kind = loyalty.KindGift
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			again, _ := s.Programs().Program(ctx, m.ID, p.ID)
			if again.Kind != want.Kind || again.Reward != upd.Reward || again.Offer != upd.Offer {
				t.Errorf("after an update: kind %s reward %q offer %q", again.Kind, again.Reward, again.Offer)
			}
		}
	})
}

// TestConcurrentStamps: stamps posted at once on one card are all
// counted, and every completed goal makes exactly one reward; rewards
// redeemed at once are never used twice.
func TestConcurrentStamps(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		m, p := newKindProgram(t, s, "Stamps", loyalty.Program{Kind: loyalty.KindStamps, StampsRequired: 3, Reward: "Кофе"})
		ep := &WebhookEndpoint{MerchantID: m.ID, URL: "https://crm.example.com/hook", Secret: "whsec_x", Events: []string{EventBalanceChanged}}
		if err := s.Webhooks().CreateWebhookEndpoint(context.Background(), ep); err != nil {
			t.Fatal(err)
		}
		serial := issueCards(t, s, m, p, 1)[0]
		const stamps = 31
		errs := race(stamps, func(i int) error {
			return post(s, m, serial, fmt.Sprint("stamp-", i), loyalty.Posting{Kind: loyalty.Stamp, Points: 1})
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		c := checkLedger(t, s, m, serial)
		if c.Balance != 1 || c.Rewards != 10 || c.LifetimePoints != stamps {
			t.Fatalf("after %d stamps of 3: %d stamps, %d rewards, %d lifetime", stamps, c.Balance, c.Rewards, c.LifetimePoints)
		}
		var rewardLines int64
		s.read.QueryRow(`SELECT COUNT(*) FROM transactions WHERE serial_number = ? AND rewards = 1`, serial).Scan(&rewardLines)
		if rewardLines != 10 {
			t.Errorf("%d lines made a reward, want 10", rewardLines)
		}
		// Every stamp told the merchant's webhook, the rewards with it, and
		// queued the card's push, in the stamp's own transaction.
		var events, withRewards, pushes int64
		s.read.QueryRow(`SELECT COUNT(*) FROM webhook_deliveries WHERE event = 'balance.changed'`).Scan(&events)
		s.read.QueryRow(`SELECT COUNT(*) FROM webhook_deliveries WHERE payload LIKE '%"rewards":%'`).Scan(&withRewards)
		s.read.QueryRow(`SELECT COUNT(*) FROM outbox WHERE serial_number = ?`, serial).Scan(&pushes)
		if events != stamps || withRewards != stamps-2 || pushes != stamps {
			t.Errorf("%d stamps: %d webhook events, %d with rewards, %d outbox rows", stamps, events, withRewards, pushes)
		}

		errs = race(12, func(i int) error {
			return post(s, m, serial, fmt.Sprint("reward-", i), loyalty.Posting{Kind: loyalty.RedeemReward})
		})
		used, refused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				used++
			case errors.Is(err, loyalty.ErrNoReward):
				refused++
			default:
				t.Fatal(err)
			}
		}
		if used != 10 || refused != 2 {
			t.Errorf("12 redemptions of 10 rewards: %d used, %d refused", used, refused)
		}
		if c := checkLedger(t, s, m, serial); c.Rewards != 0 || c.Balance != 1 {
			t.Errorf("after using every reward: %d stamps, %d rewards", c.Balance, c.Rewards)
		}
		// A replay of a stamp writes nothing.
		before := checkLedger(t, s, m, serial).Version
		if err := post(s, m, serial, "stamp-0", loyalty.Posting{Kind: loyalty.Stamp, Points: 1}); err != nil {
			t.Fatal(err)
		}
		if after := checkLedger(t, s, m, serial).Version; after != before {
			t.Errorf("a replayed stamp moved the card from version %d to %d", before, after)
		}
	})
}

// TestConcurrentCouponRedemptions: twelve tills redeeming one coupon at
// once: exactly one succeeds.
func TestConcurrentCouponRedemptions(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		m, p := newKindProgram(t, s, "Coupons", loyalty.Program{Kind: loyalty.KindCoupon, Offer: "−20%", ValidDays: 30})
		serials := issueCards(t, s, m, p, 2)
		c := checkLedger(t, s, m, serials[0])
		if c.Balance != 1 || c.ValidUntil == nil || c.ValidUntil.Sub(c.CreatedAt) != 30*24*time.Hour {
			t.Fatalf("new coupon: balance %d, valid until %v (issued %v)", c.Balance, c.ValidUntil, c.CreatedAt)
		}
		errs := race(12, func(i int) error {
			return post(s, m, serials[0], fmt.Sprint("redeem-", i), loyalty.Posting{Kind: loyalty.RedeemCoupon})
		})
		ok, redeemed := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, loyalty.ErrCouponRedeemed):
				redeemed++
			default:
				t.Fatal(err)
			}
		}
		if ok != 1 || redeemed != 11 {
			t.Fatalf("12 redemptions: %d succeeded, %d refused as redeemed", ok, redeemed)
		}
		if c := checkLedger(t, s, m, serials[0]); c.Balance != 0 || c.RedeemedAt == nil {
			t.Errorf("redeemed coupon: balance %d, redeemed at %v", c.Balance, c.RedeemedAt)
		}

		// The other coupon lapses at its date: the expiry job takes it, and
		// it can no longer be redeemed.
		n, pts, err := s.Cards().ExpirePoints(context.Background(), time.Now().AddDate(0, 0, 31), 100)
		if err != nil || n != 1 || pts != 1 {
			t.Fatalf("ExpirePoints = %d cards, %d, %v", n, pts, err)
		}
		if c := checkLedger(t, s, m, serials[1]); c.Balance != 0 || c.RedeemedAt != nil {
			t.Errorf("lapsed coupon: %+v", c)
		}
		err = post(s, m, serials[1], "late", loyalty.Posting{Kind: loyalty.RedeemCoupon})
		if !errors.Is(err, loyalty.ErrCouponExpired) {
			t.Errorf("redeeming a lapsed coupon: %v", err)
		}
	})
}

// TestConcurrentGiftSpends: spends racing on one gift card never take it
// below zero, and every one that succeeded is in the ledger.
func TestConcurrentGiftSpends(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, p := newKindProgram(t, s, "Gifts", loyalty.Program{Kind: loyalty.KindGift, Currency: "RUB"})
		card, created, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79120000001",
			InitialAmount: 100_000})
		if err != nil || !created || card.Balance != 100_000 {
			t.Fatalf("IssueCard = %+v, %v, %v", card, created, err)
		}
		_, _, err = s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79120000001", InitialAmount: 5})
		if !errors.Is(err, ErrCardExists) {
			t.Errorf("money onto a second card: %v", err)
		}
		errs := race(20, func(i int) error {
			return post(s, m, card.SerialNumber, fmt.Sprint("spend-", i), loyalty.Posting{Kind: loyalty.Spend, Points: 7_000})
		})
		spent, refused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				spent++
			case errors.Is(err, loyalty.ErrInsufficientFunds):
				refused++
			default:
				t.Fatal(err)
			}
		}
		if spent != 14 || refused != 6 {
			t.Errorf("20 spends of 7,000 from 100,000: %d spent, %d refused", spent, refused)
		}
		if c := checkLedger(t, s, m, card.SerialNumber); c.Balance != 2_000 {
			t.Errorf("balance %d, want 2,000", c.Balance)
		}
		o, err := s.Liabilities().Outstanding(ctx, m.ID, p.ID)
		if err != nil || o.Balance != 2_000 || o.Cards != 1 {
			t.Errorf("Outstanding = %+v, %v", o, err)
		}
		if _, err := s.Liabilities().Outstanding(ctx, "mer_other", p.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("another merchant's liability: %v", err)
		}
	})
}

func TestDiscountPurchasesMoveTheTier(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		m, p := newKindProgram(t, s, "Discount", loyalty.Program{Kind: loyalty.KindDiscount, DiscountPercent: 5,
			TierBasis: loyalty.BasisSpend, Tiers: []loyalty.Tier{{Code: "base", Name: "Базовый"},
				{Code: "gold", Name: "Золотой", Threshold: 1_000_000, DiscountPercent: 10}}})
		serial := issueCards(t, s, m, p, 1)[0]
		for i, amount := range []int64{600_000, 400_000} {
			if err := post(s, m, serial, fmt.Sprint("buy-", i), loyalty.Posting{Kind: loyalty.Purchase, PurchaseAmount: amount}); err != nil {
				t.Fatal(err)
			}
			c := checkLedger(t, s, m, serial)
			want := []int{5, 10}[i]
			if got := p.DiscountFor(c.Tier); got != want || c.LastPurchaseAt == nil {
				t.Errorf("after %d spent: tier %s gives %d%%, want %d%%", c.LifetimeSpend, c.Tier, got, want)
			}
		}
		if err := post(s, m, serial, "earn", loyalty.Posting{Kind: loyalty.Earn, PurchaseAmount: 100}); !errors.Is(err, loyalty.ErrKindMismatch) {
			t.Errorf("an earn on a discount card: %v", err)
		}
	})
}

// race runs n calls of f at once and returns their errors.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = f(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}
