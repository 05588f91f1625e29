package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// Several instances of loyalpass may share one database (PostgreSQL).
// These tests open two Stores — two pools, as two processes would have —
// on one database and let them race.

func created(p Posted) (Answer, error) {
	return Answer{Status: 201, Body: []byte(p.Transaction.ID)}, nil
}

// twoInstances opens two stores on url with one clock.
func twoInstances(t *testing.T, url string, now func() time.Time) [2]*Store {
	withClock := func(o *Options) { o.Now = now }
	return [2]*Store{openTestStore(t, url, withClock), openTestStore(t, url, withClock)}
}

// issueCards issues n cards in p.
func issueCards(t *testing.T, s *Store, m Merchant, p loyalty.Program, n int) []string {
	t.Helper()
	serials := make([]string, n)
	for i := range serials {
		c, _, err := s.Cards().IssueCard(context.Background(), IssueCard{MerchantID: m.ID, ProgramID: p.ID,
			Phone: fmt.Sprintf("+7912%07d", i)})
		if err != nil {
			t.Fatal(err)
		}
		serials[i] = c.SerialNumber
	}
	return serials
}

func earn(t *testing.T, s *Store, m Merchant, serial, key string, amount int64) {
	t.Helper()
	_, _, err := s.Cards().Post(context.Background(), loyalty.Posting{MerchantID: m.ID, Serial: serial, Kind: loyalty.Earn,
		PurchaseAmount: amount, IdempotencyKey: key, RequestHash: []byte(key)}, created)
	if err != nil {
		t.Fatal(err)
	}
}

func TestTwoInstancesNeverClaimAnOutboxRowTwice(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		inst := twoInstances(t, url, time.Now)
		m, p := newTestProgram(t, inst[0], "shop")
		serials := issueCards(t, inst[0], m, p, 10)
		for i := range 150 {
			earn(t, inst[i%2], m, serials[i%len(serials)], fmt.Sprint("k", i), 1000)
		}
		var total int
		if err := inst[0].read.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&total); err != nil || total < 150 {
			t.Fatalf("outbox rows = %d, %v", total, err)
		}

		// Four workers per instance claim small batches until none is left.
		var mu sync.Mutex
		claimed := map[int64]int{}
		var wg sync.WaitGroup
		for w := range 8 {
			s := inst[w%2]
			wg.Go(func() {
				for {
					rows, err := s.Queue().ClaimOutbox(ctx, 7, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					if len(rows) == 0 {
						return
					}
					mu.Lock()
					for _, r := range rows {
						claimed[r.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for id, n := range claimed {
			if n != 1 {
				t.Errorf("outbox row %d claimed %d times", id, n)
			}
		}
		if len(claimed) != total {
			t.Errorf("claimed %d rows of %d", len(claimed), total)
		}
		var twice int
		err := inst[1].read.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE attempts <> 1 OR claimed_until IS NULL`).Scan(&twice)
		if err != nil || twice != 0 {
			t.Errorf("%d rows not claimed exactly once (%v)", twice, err)
		}
	})
}

func TestTwoInstancesExpireEachLotOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		var clockMu sync.Mutex
		clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		now := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
		inst := twoInstances(t, url, now)
		m, p := newTestProgram(t, inst[0], "shop")
		if _, err := inst[0].Programs().UpdateProgram(ctx, m.ID, p.ID, func(p *loyalty.Program) error {
			p.PointsLifetimeDays = 30
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		serials := issueCards(t, inst[0], m, p, 20)
		for i := range 60 {
			earn(t, inst[i%2], m, serials[i%len(serials)], fmt.Sprint("k", i), 200_00)
		}
		var earned int64
		if err := inst[0].read.QueryRowContext(ctx, `SELECT SUM(points) FROM transactions`).Scan(&earned); err != nil || earned == 0 {
			t.Fatalf("earned %d points, %v", earned, err)
		}

		// Both instances, two runs each, all at once, 31 days later.
		expireAt := clock.AddDate(0, 0, 31)
		var mu sync.Mutex
		var cards int
		var points int64
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				c, n, err := inst[w%2].Cards().ExpirePoints(ctx, expireAt, 100)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				cards, points = cards+c, points+n
				mu.Unlock()
			})
		}
		wg.Wait()
		if cards != len(serials) || points != earned {
			t.Errorf("expired %d points on %d cards; want %d on %d", points, cards, earned, len(serials))
		}
		rows, err := inst[0].read.QueryContext(ctx, `SELECT c.serial_number, c.balance,
			(SELECT COUNT(*) FROM transactions t WHERE t.serial_number = c.serial_number AND t.kind = 'expire'),
			(SELECT COALESCE(SUM(points), 0) FROM transactions t WHERE t.serial_number = c.serial_number),
			(SELECT COALESCE(SUM(remaining), 0) FROM transactions t WHERE t.serial_number = c.serial_number)
			FROM cards c`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var serial string
			var balance, expires, sum, remaining int64
			if err := rows.Scan(&serial, &balance, &expires, &sum, &remaining); err != nil {
				t.Fatal(err)
			}
			if expires != 1 || balance != 0 || sum != 0 || remaining != 0 {
				t.Errorf("card %s: %d expire lines, balance %d, ledger sum %d, lots hold %d; want 1, 0, 0, 0",
					serial, expires, balance, sum, remaining)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTwoInstancesPostToOneCard(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		inst := twoInstances(t, url, time.Now)
		m, p := newTestProgram(t, inst[0], "shop")
		serials := issueCards(t, inst[0], m, p, 2)
		for _, serial := range serials {
			earn(t, inst[0], m, serial, "seed-"+serial, 10_000_00) // 500 points
		}

		// Eight clients per instance post earns and redeems to two cards; every
		// posting is sent twice, from both instances at once, with its key.
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := range 10 {
					key := fmt.Sprintf("w%d-%d", w, i)
					post := loyalty.Posting{MerchantID: m.ID, Serial: serials[(w+i)%2], Kind: loyalty.Earn,
						PurchaseAmount: 100_00, IdempotencyKey: key, RequestHash: []byte(key)}
					if i%3 == 2 {
						post.Kind, post.PurchaseAmount, post.Points = loyalty.Redeem, 0, 10
					}
					var both sync.WaitGroup
					answers := make([]Answer, 2)
					for j, s := range inst {
						both.Go(func() {
							ans, _, err := s.Cards().Post(ctx, post, created)
							if err != nil {
								t.Errorf("post %s via instance %d: %v", key, j, err)
							}
							answers[j] = ans
						})
					}
					both.Wait()
					if string(answers[0].Body) != string(answers[1].Body) {
						t.Errorf("post %s: instances answered %q and %q", key, answers[0].Body, answers[1].Body)
					}
				}
			})
		}
		wg.Wait()
		for _, serial := range serials {
			c, err := inst[1].Cards().Card(ctx, m.ID, serial)
			if err != nil {
				t.Fatal(err)
			}
			var lines, sum, lots int64
			err = inst[1].read.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(points), 0), COALESCE(SUM(remaining), 0)
				FROM transactions WHERE serial_number = ?`, serial).Scan(&lines, &sum, &lots)
			if err != nil {
				t.Fatal(err)
			}
			// One seed and 40 postings per card.
			if lines != 41 || c.Balance != sum || c.Balance != lots || c.Version != lines+1 {
				t.Errorf("card %s: %d lines summing to %d, lots %d, balance %d, version %d; want 41 lines, all equal, version 42",
					serial, lines, sum, lots, c.Balance, c.Version)
			}
		}
	})
}

func TestTwoInstancesNeverClaimARecipientTwice(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		var clockMu sync.Mutex
		clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		now := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
		inst := twoInstances(t, url, now)
		m, p := newTestProgram(t, inst[0], "shop")
		yes := true
		for i := range 60 {
			_, _, err := inst[0].Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID,
				Phone: fmt.Sprintf("+7912%07d", i), SMSConsent: &yes})
			if err != nil {
				t.Fatal(err)
			}
		}
		clockMu.Lock()
		clock = clock.AddDate(0, 0, 100) // every card has lapsed
		clockMu.Unlock()
		c := Campaign{MerchantID: m.ID, ProgramID: p.ID, Name: "Win-back", LapsedDays: 90, Installed: "any",
			BonusOn: "open", Template: "{link}", QuietStart: 21, QuietEnd: 9, Timezone: "Europe/Moscow",
			SendRate: 600, FrequencyCapDays: 30, PurchaseWindowDays: 30, Provider: "log"}
		if err := inst[0].Campaigns().CreateCampaign(ctx, &c); err != nil {
			t.Fatal(err)
		}
		if c, err := inst[1].Campaigns().StartCampaign(ctx, m.ID, c.ID); err != nil || c.Audience != 60 {
			t.Fatalf("start: audience %d, %v", c.Audience, err)
		}

		var mu sync.Mutex
		claimed := map[int64]int{}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for {
					rs, err := inst[w%2].Campaigns().ClaimRecipients(ctx, c.ID, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(rs) == 0 {
						return
					}
					mu.Lock()
					for _, r := range rs {
						claimed[r.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for id, n := range claimed {
			if n != 1 {
				t.Errorf("recipient %d claimed %d times: texted %d times", id, n, n)
			}
		}
		if len(claimed) != 60 {
			t.Errorf("claimed %d recipients of 60", len(claimed))
		}
	})
}
