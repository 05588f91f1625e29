package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// TestConcurrentProgramUpdatesKeepEachOthersChanges runs two partial
// updates of different fields of one program at once, from two instances,
// many times: each reads the program, changes its field and saves the
// whole row, so without the program's row lock one would write back the
// other's field as it read it, and lose that change.
func TestConcurrentProgramUpdatesKeepEachOthersChanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		inst := twoInstances(t, url, time.Now)
		m, p := newTestProgram(t, inst[0], "shop")
		issueCards(t, inst[0], m, p, 5)
		const rounds = 25
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Go(func() {
				for range rounds {
					_, err := inst[w].Programs().UpdateProgram(ctx, m.ID, p.ID, func(p *loyalty.Program) error {
						if w == 0 {
							p.WelcomeBonus++
						} else {
							p.PointsLifetimeDays++
						}
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		got, err := inst[1].Programs().Program(ctx, m.ID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.WelcomeBonus != p.WelcomeBonus+rounds || got.PointsLifetimeDays != p.PointsLifetimeDays+rounds {
			t.Errorf("after %d updates of each field: welcome bonus %d (from %d), points lifetime %d (from %d)",
				rounds, got.WelcomeBonus, p.WelcomeBonus, got.PointsLifetimeDays, p.PointsLifetimeDays)
		}
		if got.Version != p.Version+2*rounds {
			t.Errorf("version %d, want %d", got.Version, p.Version+2*rounds)
		}
	})
}

// TestProgramWideChangesDoNotDeadlock runs program-wide messages, program
// updates and postings on the program's cards at once from two instances.
// Every program-wide change locks the cards in one order, so none waits
// for another in a cycle (PostgreSQL would abort one as a deadlock) and
// every call succeeds.
func TestProgramWideChangesDoNotDeadlock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		inst := twoInstances(t, url, time.Now)
		m, p := newTestProgram(t, inst[0], "shop")
		serials := issueCards(t, inst[0], m, p, 40)
		const rounds = 15
		var wg sync.WaitGroup
		for w := range 6 {
			s := inst[w%2]
			wg.Go(func() {
				for i := range rounds {
					var err error
					switch w % 3 {
					case 0:
						_, err = s.Programs().SetProgramMessage(ctx, m.ID, p.ID, fmt.Sprint("message ", w, i))
					case 1:
						_, err = s.Programs().UpdateProgram(ctx, m.ID, p.ID, func(p *loyalty.Program) error {
							p.Terms = fmt.Sprint("terms ", w, i)
							return nil
						})
					default:
						key := fmt.Sprint("k", w, "-", i)
						_, _, err = s.Cards().Post(ctx, loyalty.Posting{MerchantID: m.ID, Serial: serials[(w*7+i*13)%len(serials)],
							Kind: loyalty.Earn, PurchaseAmount: 100_00, IdempotencyKey: key, RequestHash: []byte(key)}, created)
					}
					if err != nil {
						t.Errorf("worker %d round %d: %v", w, i, err)
						return
					}
				}
			})
		}
		wg.Wait()
		var messages int
		if err := inst[0].read.QueryRowContext(ctx, `SELECT COUNT(*) FROM cards WHERE message LIKE 'message %'`).Scan(&messages); err != nil || messages != len(serials) {
			t.Errorf("%d of %d cards carry a program message (%v)", messages, len(serials), err)
		}
	})
}
