package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/push"
)

// TestGoogleObjectState records what Google shows of a card: versions
// never go back, notification times are kept per card, and the cards
// with an object are found by serial and by program.
func TestGoogleObjectState(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, p := newTestProgram(t, s, "shop")
		serials := issueCards(t, s, m, p, 2)
		if _, err := s.Devices().GoogleObject(ctx, serials[0]); !errors.Is(err, ErrNotFound) {
			t.Fatalf("GoogleObject before insert: %v", err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		o := GoogleObject{Serial: serials[0], ObjectID: "1." + serials[0], ClassID: "1." + p.ID, CardVersion: 3,
			ProgramVersion: 1, Balance: 0, Tier: "", Message: "hi"}
		if err := s.Devices().SaveGoogleObject(ctx, o, now); err != nil {
			t.Fatal(err)
		}
		stale := o
		stale.CardVersion, stale.Balance = 2, 99
		if err := s.Devices().SaveGoogleObject(ctx, stale, time.Time{}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Devices().GoogleObject(ctx, serials[0])
		if err != nil || got.CardVersion != 3 || got.Balance != 0 || got.Message != "hi" || got.ObjectID != o.ObjectID {
			t.Fatalf("GoogleObject = %+v, %v (an older state overwrote a newer one?)", got, err)
		}
		if err := s.Devices().SaveGoogleObject(ctx, GoogleObject{Serial: serials[0], ObjectID: o.ObjectID, ClassID: o.ClassID,
			CardVersion: 4, ProgramVersion: 1, Balance: 10}, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		sent, err := s.Devices().GoogleNotifications(ctx, serials[0], now.Add(-time.Minute))
		if err != nil || len(sent) != 2 || !sent[0].Equal(now) || !sent[1].Equal(now.Add(time.Hour)) {
			t.Fatalf("notifications = %v, %v", sent, err)
		}
		if sent, _ := s.Devices().GoogleNotifications(ctx, serials[0], now); len(sent) != 1 {
			t.Fatalf("notifications after the first = %v", sent)
		}
		if sent, _ := s.Devices().GoogleNotifications(ctx, serials[1], now.Add(-time.Hour)); len(sent) != 0 {
			t.Fatalf("another card's notifications = %v", sent)
		}
		if got, err := s.Devices().GoogleSerials(ctx, serials); err != nil || len(got) != 1 || got[0] != serials[0] {
			t.Fatalf("GoogleSerials = %v, %v", got, err)
		}
		if got, err := s.Devices().ProgramGoogleSerials(ctx, p.ID, "", 10); err != nil || len(got) != 1 {
			t.Fatalf("ProgramGoogleSerials = %v, %v", got, err)
		}
		if got, _ := s.Devices().ProgramGoogleSerials(ctx, p.ID, serials[0], 10); len(got) != 0 {
			t.Fatalf("ProgramGoogleSerials after the last = %v", got)
		}

		if v, err := s.Devices().GoogleClassVersion(ctx, o.ClassID); err != nil || v != 0 {
			t.Fatalf("class version before = %d, %v", v, err)
		}
		for _, v := range []int64{2, 1} { // 1 comes late and is ignored
			if err := s.Devices().SaveGoogleClass(ctx, o.ClassID, p.ID, v); err != nil {
				t.Fatal(err)
			}
		}
		if v, _ := s.Devices().GoogleClassVersion(ctx, o.ClassID); v != 2 {
			t.Fatalf("class version = %d, want 2", v)
		}
	})
}

// TestGoogleCallbacksAreRegistrations: a save registers the card's object
// on channel google, a redelivered nonce changes nothing, a delete
// unregisters, and device pushes never target it.
func TestGoogleCallbacksAreRegistrations(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, p := newTestProgram(t, s, "shop")
		serial := issueCards(t, s, m, p, 1)[0]
		cb := GoogleCallback{Nonce: "n1", ObjectID: "1." + serial, ClassID: "1." + p.ID, Serial: serial, Save: true}
		for i, want := range []bool{true, false} {
			if changed, err := s.Devices().RecordGoogleCallback(ctx, cb); err != nil || changed != want {
				t.Fatalf("save %d: changed %v, %v", i, changed, err)
			}
		}
		cb.Nonce = "n2" // a second save of a saved card: no change
		if changed, _ := s.Devices().RecordGoogleCallback(ctx, cb); changed {
			t.Fatal("a second save counted twice")
		}
		in, err := s.Devices().CardInstalls(ctx, serial)
		if err != nil || len(in) != 1 || in[0].Channel != ChannelGoogle || in[0].Installed != 1 {
			t.Fatalf("installs = %+v, %v", in, err)
		}
		earn(t, s, m, serial, "e1", 10000)
		apple, err := s.Devices().DeviceTargets(ctx, ChannelApple, []string{serial})
		relays, rerr := s.Devices().DeviceTargets(ctx, ChannelRelay, []string{serial})
		if ts := append(apple, relays...); errors.Join(err, rerr) != nil || len(ts) != 0 {
			t.Fatalf("push targets of a Google install = %+v, %v", ts, err)
		}
		del := GoogleCallback{Nonce: "n3", ObjectID: cb.ObjectID, ClassID: cb.ClassID, Serial: serial}
		if changed, err := s.Devices().RecordGoogleCallback(ctx, del); err != nil || !changed {
			t.Fatalf("delete: changed %v, %v", changed, err)
		}
		if in, _ := s.Devices().CardInstalls(ctx, serial); in[0].Installed != 0 || in[0].Uninstalled != 1 {
			t.Fatalf("installs after delete = %+v", in)
		}
		del.Nonce, del.Serial = "n4", "nosuchcard"
		if _, err := s.Devices().RecordGoogleCallback(ctx, del); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown card: %v", err)
		}
	})
}

// TestFCMTokens registers tokens per merchant's card and records sends:
// a delivered version is not sent again, a dead token is dropped unless
// it registered again after the send, and failures queue retries.
func TestFCMTokens(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, p := newTestProgram(t, s, "shop")
		other, _ := newTestProgram(t, s, "other")
		serial := issueCards(t, s, m, p, 1)[0]
		if _, err := s.Devices().AddFCMToken(ctx, other.ID, serial, "tok"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another merchant's card: %v", err)
		}
		for i, want := range []bool{true, false} {
			if created, err := s.Devices().AddFCMToken(ctx, m.ID, serial, "tok-a"); err != nil || created != want {
				t.Fatalf("add %d: created %v, %v", i, created, err)
			}
		}
		if _, err := s.Devices().AddFCMToken(ctx, m.ID, serial, "tok-b"); err != nil {
			t.Fatal(err)
		}
		if ts, _ := s.Devices().FCMTargets(ctx, []string{serial}); len(ts) != 0 {
			t.Fatalf("new tokens are taken to know the card: %+v", ts)
		}
		earn(t, s, m, serial, "e1", 10000)
		ts, err := s.Devices().FCMTargets(ctx, []string{serial})
		if err != nil || len(ts) != 2 || ts[0].Token != "tok-a" || ts[0].Balance == 0 {
			t.Fatalf("targets = %+v, %v", ts, err)
		}
		if page, _ := s.Devices().ProgramFCMTargets(ctx, p.ID, ts[0], 10); len(page) != 1 || page[0].Token != "tok-b" {
			t.Fatalf("program page after tok-a = %+v", page)
		}
		sentAt := time.Now().Add(-time.Hour) // tok-b registered again since
		if err := s.Devices().RecordOutcomes(ctx, m.ID, []Outcome{{Target: ts[0], Result: push.Delivered},
			{Target: ts[1], Result: push.Gone, At: sentAt}}); err != nil {
			t.Fatal(err)
		}
		if left, _ := s.Devices().FCMTargets(ctx, []string{serial}); len(left) != 1 || left[0].Token != "tok-b" {
			t.Fatalf("after the round = %+v", left)
		}
		if err := s.Devices().RecordOutcomes(ctx, m.ID, []Outcome{{Target: ts[1], Result: push.Gone, At: time.Now().Add(time.Hour)},
			{Target: ts[0], Result: push.Retry, Reason: "UNAVAILABLE"}}); err != nil {
			t.Fatal(err)
		}
		if left, _ := s.Devices().FCMTargets(ctx, []string{serial}); slices.ContainsFunc(left, func(t Target) bool { return t.Token == "tok-b" }) {
			t.Fatalf("dead token kept: %+v", left)
		}
		if err := s.Devices().RemoveFCMToken(ctx, other.ID, serial, "tok-a"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another merchant removed a token: %v", err)
		}
		if err := s.Devices().RemoveFCMToken(ctx, m.ID, serial, "tok-a"); err != nil {
			t.Fatal(err)
		}
		rows, err := s.Queue().ClaimOutbox(ctx, 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var retries int
		for _, r := range rows {
			if r.Topic == TopicPushRetry && r.Payload == `{"channel":"fcm","token":"tok-a"}` {
				retries++
			}
		}
		if retries != 1 {
			t.Fatalf("claimed %+v, want one fcm retry", rows)
		}
	})
}
