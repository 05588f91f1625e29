package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// TestUpdateTagsMissNoCommittedChange is the property the pass web service
// promises a device: whoever follows the tags it hands out is told of every
// committed change. Two instances (two pools on one PostgreSQL database)
// change cards concurrently — postings, card messages and program-wide
// messages — while two devices, one asking each instance, follow the tags
// from the first answer on. A card's tag grows with every change, so a
// device has been told of a card's last change once an answer listed the
// card with that change's tag or a later one. Once the writers stop, each
// device keeps asking until it has been told of every card's last change;
// a tag that ran past a change before its commit was visible would leave
// the device stuck short of it, and the test fails at its deadline. The
// tags a device is handed never go back.
func TestUpdateTagsMissNoCommittedChange(t *testing.T) {
	inst := twoInstances(t, storetest.PostgresURL(t), time.Now)
	ctx := context.Background()
	m, p := newTestProgram(t, inst[0], "shop")
	serials := issueCards(t, inst[0], m, p, 16)
	const passType = "pass.test.tags"
	devices := []string{"phone-a", "phone-b"}
	for _, d := range devices {
		for _, serial := range serials {
			if _, err := inst[0].Devices().Register(ctx, Registration{DeviceID: d, PassTypeID: passType,
				SerialNumber: serial, PushToken: "tok-" + d, Channel: ChannelApple}); err != nil {
				t.Fatal(err)
			}
		}
	}

	var writers sync.WaitGroup
	var keys, changes atomic.Int64
	for w := range 6 {
		s := inst[w%2]
		writers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range 80 {
				serial := serials[rng.IntN(len(serials))]
				var err error
				switch r := rng.IntN(20); {
				case r == 0:
					_, err = s.Programs().SetProgramMessage(ctx, m.ID, p.ID, fmt.Sprint("program ", w))
				case r < 6:
					_, err = s.Cards().SetCardMessage(ctx, m.ID, serial, fmt.Sprint("card ", w))
				default:
					key := fmt.Sprint("k", keys.Add(1))
					_, _, err = s.Cards().Post(ctx, loyalty.Posting{MerchantID: m.ID, Serial: serial, Kind: loyalty.Earn,
						PurchaseAmount: 100_00, IdempotencyKey: key, RequestHash: []byte(key)}, created)
				}
				if err != nil {
					t.Error(err)
					return
				}
				changes.Add(1)
			}
		})
	}

	// final is every card's tag once the writers are done.
	final := make(chan map[string]int64, len(devices))
	var readers sync.WaitGroup
	for i, device := range devices {
		s := inst[i%2]
		readers.Go(func() {
			told := map[string]int64{} // serial → the highest tag it was listed with
			var want map[string]int64
			tag := int64(-1)
			var deadline time.Time
			for {
				if want == nil {
					select {
					case want = <-final:
						deadline = time.Now().Add(time.Minute)
					default:
					}
				}
				listed, next, err := s.changedSince(ctx, device, passType, tag)
				if err != nil {
					t.Error(err)
					return
				}
				if next < tag {
					t.Errorf("%s: tag went back from %d to %d", device, tag, next)
				}
				tag = next
				for _, c := range listed {
					told[c.serial] = max(told[c.serial], c.tag)
				}
				if want == nil {
					continue
				}
				var missing []string
				for serial, v := range want {
					if told[serial] < v {
						missing = append(missing, fmt.Sprintf("%s (tag %d, told %d)", serial, v, told[serial]))
					}
				}
				if len(missing) == 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Errorf("%s at tag %d was never told of the last change of %d cards: %v", device, tag, len(missing), missing)
					return
				}
			}
		})
	}
	writers.Wait()
	tags := map[string]int64{}
	for _, serial := range serials {
		c, err := inst[0].Cards().Card(ctx, m.ID, serial)
		if err != nil {
			t.Error(err) // the readers stop at their deadline
		}
		tags[serial] = c.ChangeSeq
	}
	for range devices {
		final <- tags
	}
	readers.Wait()
	t.Logf("%d changes by 6 writers on 2 instances", changes.Load())
	if changes.Load() == 0 {
		t.Fatal("no change committed")
	}
}
