package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

func TestReferralPaysBothOnlyAfterTheFriendsQualifyingPurchase(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clk := newClock()
		s := openTestStore(t, url, withClock(clk))
		m, p := joinProgram(t, s, "shop") // referrer 100, friend 50, minimum 500.00, 2 a month
		referrer := joinPhone(t, s, p.ID, "+79160000001", joinForm("Анна"))
		code, err := s.Referrals().Code(ctx, referrer.Card.SerialNumber)
		if err != nil {
			t.Fatal(err)
		}
		form := joinForm("Борис")
		form.Referral = code
		friend := joinPhone(t, s, p.ID, "+79160000002", form)
		if friend.Referral != nil {
			t.Fatalf("the friend's join was not attributed: %v", friend.Referral)
		}
		balance := func(serial string) int64 {
			c, err := s.Cards().Card(ctx, m.ID, serial)
			if err != nil {
				t.Fatal(err)
			}
			return c.Balance
		}
		// Joining pays nobody; a purchase under the minimum neither.
		if b := balance(referrer.Card.SerialNumber); b != 100 {
			t.Errorf("referrer after the friend's join: %d, want the 100 welcome points only", b)
		}
		earn(t, s, m, friend.Card.SerialNumber, "small", 499_99) // 24 points
		if b := balance(referrer.Card.SerialNumber); b != 100 {
			t.Errorf("referrer after a small purchase: %d", b)
		}
		// The qualifying purchase pays both, in its own transaction.
		ans, _, err := s.Cards().Post(ctx, loyalty.Posting{MerchantID: m.ID, Serial: friend.Card.SerialNumber, Kind: loyalty.Earn,
			PurchaseAmount: 500_00, IdempotencyKey: "big", RequestHash: []byte("big")}, func(p Posted) (Answer, error) {
			return Answer{Status: 201, Body: fmt.Appendf(nil, "%d", p.Card.Balance)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// 100 welcome + 24 + 25 earned + 50 friend bonus; the answer shows it.
		if b := balance(friend.Card.SerialNumber); b != 199 || string(ans.Body) != "199" {
			t.Errorf("friend after the qualifying purchase: %d (answer %s), want 199", b, ans.Body)
		}
		if b := balance(referrer.Card.SerialNumber); b != 200 {
			t.Errorf("referrer after the qualifying purchase: %d, want 200", b)
		}
		// A replay and a later purchase pay nothing more.
		earn(t, s, m, friend.Card.SerialNumber, "big", 500_00)
		earn(t, s, m, friend.Card.SerialNumber, "later", 1000_00)
		if b := balance(referrer.Card.SerialNumber); b != 200 {
			t.Errorf("referrer after more purchases: %d, want 200", b)
		}
		r, err := s.Referrals().Report(ctx, m.ID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r != (ReferralReport{Joins: 1, Qualified: 1, ReferrerPoints: 100, FriendPoints: 50}) {
			t.Errorf("report = %+v", r)
		}
		balancesEqualLedgers(t, s)

		// Self-referral (the referrer's own number), a known phone, and a
		// third friend in a month are refused; the joins still get cards.
		clk.advance(time.Hour)
		self := form
		self.Referral = code
		if j := joinPhone(t, s, p.ID, "+79160000001", self); !errors.Is(j.Referral, loyalty.ErrKnownFriend) ||
			j.Card.SerialNumber != referrer.Card.SerialNumber {
			t.Errorf("the referrer joining by their own link: %v", j.Referral)
		}
		if j := joinPhone(t, s, p.ID, "+79160000002", self); !errors.Is(j.Referral, loyalty.ErrKnownFriend) {
			t.Errorf("a known phone by a referral link: %v", j.Referral)
		}
		if j := joinPhone(t, s, p.ID, "+79160000003", self); j.Referral != nil {
			t.Errorf("second friend: %v", j.Referral)
		}
		if j := joinPhone(t, s, p.ID, "+79160000004", self); !errors.Is(j.Referral, loyalty.ErrReferralLimit) || !j.Created {
			t.Errorf("third friend in a month: %v, created %v", j.Referral, j.Created)
		}
		r, _ = s.Referrals().Report(ctx, m.ID, p.ID)
		if r.Joins != 2 || r.Pending != 1 || r.Refused != 1 {
			t.Errorf("report = %+v", r)
		}
		// Another merchant cannot read the program's report.
		other, _, _ := s.Merchants().EnsureMerchant(ctx, "other", "RU")
		if _, err := s.Referrals().Report(ctx, other.ID, p.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("another merchant's report: %v", err)
		}
	})
}

func TestReferralRefusesSelfReferral(t *testing.T) {
	a := loyalty.ReferralAttempt{Terms: loyalty.ReferralTerms{ReferrerPoints: 1}, ReferrerCustomer: "c1", FriendCustomer: "c1",
		ReferrerActive: true}
	if err := loyalty.AttributeReferral(a); !errors.Is(err, loyalty.ErrSelfReferral) {
		t.Errorf("self-referral: %v", err)
	}
}

func TestConcurrentQualifyingPurchasesPayOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		inst := twoInstances(t, url, time.Now)
		s := inst[0]
		m, p := joinProgram(t, s, "shop")
		referrer := joinPhone(t, s, p.ID, "+79160000001", joinForm(""))
		code, _ := s.Referrals().Code(ctx, referrer.Card.SerialNumber)
		form := joinForm("")
		form.Referral = code
		friend := joinPhone(t, s, p.ID, "+79160000002", form)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				key := fmt.Sprintf("buy-%d", i)
				_, _, err := inst[i%2].Cards().Post(ctx, loyalty.Posting{MerchantID: m.ID, Serial: friend.Card.SerialNumber,
					Kind: loyalty.Earn, PurchaseAmount: 600_00, IdempotencyKey: key, RequestHash: []byte(key)}, created)
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		var bonuses int
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM transactions WHERE reason LIKE 'referral bonus%'`).Scan(&bonuses); err != nil {
			t.Fatal(err)
		}
		if bonuses != 2 {
			t.Errorf("%d referral bonus lines, want one per side", bonuses)
		}
		c, _ := s.Cards().Card(ctx, m.ID, referrer.Card.SerialNumber)
		if c.Balance != 200 {
			t.Errorf("referrer balance %d, want 200", c.Balance)
		}
		balancesEqualLedgers(t, s)
	})
}

// TestRefundTakesBackTheReferral: a refund that leaves the friend's
// qualifying purchase above the minimum keeps the referral; one that takes
// it below takes both bonuses back in the refund's transaction, once.
func TestRefundTakesBackTheReferral(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openTestStore(t, url, withClock(newClock()))
		m, p := joinProgram(t, s, "shop") // referrer 100, friend 50, minimum 500.00, 5 %
		if err := s.Webhooks().CreateWebhookEndpoint(ctx, &WebhookEndpoint{MerchantID: m.ID, URL: "https://hooks.example.com/",
			Events: []string{EventReferralReversed}}); err != nil {
			t.Fatal(err)
		}
		reversals := func() (n int, payload string) {
			t.Helper()
			if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(payload), '') FROM webhook_deliveries
				WHERE event = ?`, EventReferralReversed).Scan(&n, &payload); err != nil {
				t.Fatal(err)
			}
			return n, payload
		}
		referrer := joinPhone(t, s, p.ID, "+79160000011", joinForm("Анна"))
		code, err := s.Referrals().Code(ctx, referrer.Card.SerialNumber)
		if err != nil {
			t.Fatal(err)
		}
		form := joinForm("Борис")
		form.Referral = code
		friend := joinPhone(t, s, p.ID, "+79160000012", form)
		post := func(key string, posting loyalty.Posting) (Posted, bool) {
			t.Helper()
			posting.MerchantID, posting.Serial = m.ID, friend.Card.SerialNumber
			posting.IdempotencyKey, posting.RequestHash = key, []byte(key)
			var got Posted
			_, replayed, err := s.Cards().Post(ctx, posting, func(p Posted) (Answer, error) {
				got = p
				return Answer{Status: 201, Body: []byte("{}")}, nil
			})
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			return got, replayed
		}
		balance := func(serial string) int64 {
			t.Helper()
			c, err := s.Cards().Card(ctx, m.ID, serial)
			if err != nil {
				t.Fatal(err)
			}
			return c.Balance
		}
		status := func() string {
			t.Helper()
			var st string
			if err := s.read.QueryRowContext(ctx, `SELECT status FROM referrals WHERE friend_serial = ?`,
				friend.Card.SerialNumber).Scan(&st); err != nil {
				t.Fatal(err)
			}
			return st
		}
		buy, _ := post("buy", loyalty.Posting{Kind: loyalty.Earn, PurchaseAmount: 600_00}) // 30 points + 50 bonus
		if b := balance(referrer.Card.SerialNumber); b != 200 || status() != loyalty.ReferralQualified {
			t.Fatalf("after the qualifying purchase: referrer %d, referral %s", b, status())
		}
		// 550.00 left: still above the minimum.
		post("part", loyalty.Posting{Kind: loyalty.Refund, RefundOf: buy.Transaction.ID, PurchaseAmount: 50_00})
		if b := balance(referrer.Card.SerialNumber); b != 200 || status() != loyalty.ReferralQualified {
			t.Fatalf("after a partial refund: referrer %d, referral %s", b, status())
		}
		if n, _ := reversals(); n != 0 {
			t.Errorf("%d referral.reversed events for a referral that still qualifies", n)
		}
		// The rest: nothing of the purchase is left, nor of either bonus.
		rest, _ := post("rest", loyalty.Posting{Kind: loyalty.Refund, RefundOf: buy.Transaction.ID})
		if n, payload := reversals(); n != 1 || !strings.Contains(payload, `"refund_id":"`+rest.Transaction.ID+`"`) ||
			!strings.Contains(payload, `"referrer_points":100`) || !strings.Contains(payload, `"friend_points":50`) {
			t.Errorf("referral.reversed: %d events, %s", n, payload)
		}
		if b := balance(referrer.Card.SerialNumber); b != 100 {
			t.Errorf("referrer after the full refund: %d, want the 100 welcome points", b)
		}
		if b := balance(friend.Card.SerialNumber); b != 100 {
			t.Errorf("friend after the full refund: %d, want the 100 welcome points", b)
		}
		if st := status(); st != loyalty.ReferralReversed {
			t.Errorf("referral %s, want reversed", st)
		}
		for _, serial := range []string{referrer.Card.SerialNumber, friend.Card.SerialNumber} {
			if lines, sum := ledgerOf(t, s, serial); sum != balance(serial) {
				t.Errorf("%s: ledger sum %d (%d lines) ≠ balance %d", serial, sum, lines, balance(serial))
			}
		}
		// The refund sent again changes nothing.
		if _, replayed := post("rest", loyalty.Posting{Kind: loyalty.Refund, RefundOf: buy.Transaction.ID}); !replayed ||
			balance(referrer.Card.SerialNumber) != 100 {
			t.Errorf("replayed refund: replayed %v, referrer %d", replayed, balance(referrer.Card.SerialNumber))
		}
		if n, _ := reversals(); n != 1 {
			t.Errorf("%d referral.reversed events after the replay, want 1", n)
		}
	})
}
