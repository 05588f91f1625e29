package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// startTestCampaign starts a campaign of n lapsed, consenting customers
// on s, moving clk past their lapse.
func startTestCampaign(t *testing.T, s *Store, clk *testClock, n int) Campaign {
	t.Helper()
	ctx := context.Background()
	m, p := newTestProgram(t, s, "shop")
	yes := true
	for i := range n {
		if _, _, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID,
			Phone: fmt.Sprintf("+7912%07d", i), SMSConsent: &yes}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(100 * 24 * time.Hour)
	c := Campaign{MerchantID: m.ID, ProgramID: p.ID, Name: "Win-back", LapsedDays: 90, Installed: "any",
		BonusOn: "open", Template: "{link}", QuietStart: 21, QuietEnd: 9, Timezone: "Europe/Moscow",
		SendRate: 600, FrequencyCapDays: 30, PurchaseWindowDays: 30, Provider: "log"}
	if err := s.Campaigns().CreateCampaign(ctx, &c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Campaigns().StartCampaign(ctx, m.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRecoveryLeavesLiveInstancesAlone: instance A claims recipients and
// hands one text to the provider; instance B, starting (or on its
// heartbeat), recovers nothing while A's lease lasts, however long A
// takes. Once A's lease runs out, B puts back the recipients A never
// handed over and fails the one it did; A, waking up late, may not hand
// over what B took back.
func TestRecoveryLeavesLiveInstancesAlone(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clk := newTestClock()
		inst := twoInstances(t, url, clk.Now)
		a, b := inst[0], inst[1]
		c := startTestCampaign(t, a, clk, 6)
		const lease = 30 * time.Second
		for _, s := range inst {
			if err := s.Instances().Join(ctx, lease); err != nil {
				t.Fatal(err)
			}
		}
		rs, err := a.Campaigns().ClaimRecipients(ctx, c.ID, 3)
		if err != nil || len(rs) != 3 {
			t.Fatalf("claim: %d %v", len(rs), err)
		}
		if _, err := a.Campaigns().NewRecipientLink(ctx, rs[0]); err != nil {
			t.Fatal(err)
		}
		// A keeps its lease through a long send: nothing is recovered.
		for range 4 {
			clk.Advance(lease / 3)
			for _, s := range inst {
				if err := s.Instances().Heartbeat(ctx, lease); err != nil {
					t.Fatal(err)
				}
			}
			if r, err := b.Instances().Recover(ctx); err != nil || r != (Recovered{}) {
				t.Fatalf("recovered %+v from a live instance (%v)", r, err)
			}
			if back, failed, err := b.Campaigns().AbandonInterrupted(ctx); err != nil || back+failed != 0 {
				t.Fatalf("a starting instance took %d+%d recipients of a live one (%v)", back, failed, err)
			}
		}
		if n, _ := b.Instances().Live(ctx); n != 2 {
			t.Fatalf("%d live instances, want 2", n)
		}
		// A stops renewing: past its lease, B recovers its claims.
		clk.Advance(lease + time.Second)
		if err := b.Instances().Heartbeat(ctx, lease); err != nil {
			t.Fatal(err)
		}
		r, err := b.Instances().Recover(ctx)
		if err != nil || r.Recipients != 2 || r.Interrupted != 1 || r.DeadInstances != 1 {
			t.Fatalf("recovered %+v (%v); want 2 recipients back, 1 interrupted, 1 instance forgotten", r, err)
		}
		if _, err := a.Campaigns().NewRecipientLink(ctx, rs[1]); !errors.Is(err, ErrClaimLost) {
			t.Fatalf("a late instance handed over a recovered recipient: %v", err)
		}
		again, err := b.Campaigns().ClaimRecipients(ctx, c.ID, 10)
		if err != nil || len(again) != 5 {
			t.Fatalf("B claims %d recipients, want the 3 never claimed and the 2 put back (%v)", len(again), err)
		}
		for _, r := range again {
			if r.ID == rs[0].ID {
				t.Fatal("the recipient handed to the provider was claimed again")
			}
		}
		if n, _ := b.Instances().Live(ctx); n != 1 {
			t.Fatalf("%d live instances, want 1", n)
		}
	})
}

// TestLeasesOfLiveInstancesHold: an outbox row claimed by a live instance
// is not claimed by another even after the row's own lease ran out; once
// the instance is dead, recovery frees it at once, without waiting for
// the row's lease, and wakes the workers.
func TestLeasesOfLiveInstancesHold(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clk := newTestClock()
		inst := twoInstances(t, url, clk.Now)
		a, b := inst[0], inst[1]
		m, p := newTestProgram(t, a, "shop")
		serials := issueCards(t, a, m, p, 1)
		const lease = 30 * time.Second
		for _, s := range inst {
			if err := s.Instances().Join(ctx, lease); err != nil {
				t.Fatal(err)
			}
		}
		earn(t, a, m, serials[0], "k1", 1000)
		rows, err := a.Queue().ClaimOutbox(ctx, 10, time.Minute)
		if err != nil || len(rows) == 0 {
			t.Fatalf("claim: %d %v", len(rows), err)
		}
		clk.Advance(2 * time.Minute) // the row's lease ran out, A lives on
		if err := a.Instances().Heartbeat(ctx, lease); err != nil {
			t.Fatal(err)
		}
		if got, err := b.Queue().ClaimOutbox(ctx, 10, time.Minute); err != nil || len(got) != 0 {
			t.Fatalf("B claimed %d rows a live instance holds (%v)", len(got), err)
		}
		// A extends the rows' own lease far ahead, then dies.
		for _, r := range rows {
			if err := a.Queue().ExtendLease(ctx, r.ID, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(lease + time.Second)
		if err := b.Instances().Heartbeat(ctx, lease); err != nil {
			t.Fatal(err)
		}
		if got, err := b.Queue().ClaimOutbox(ctx, 10, time.Minute); err != nil || len(got) != 0 {
			t.Fatalf("B claimed %d rows under their own lease (%v)", len(got), err)
		}
		drain(b.Queue().OutboxQueued())
		r, err := b.Instances().Recover(ctx)
		if err != nil || r.Leases != int64(len(rows)) {
			t.Fatalf("recovered %+v (%v), want %d leases", r, err, len(rows))
		}
		select {
		case <-b.Queue().OutboxQueued():
		default:
			t.Fatal("recovering outbox rows did not wake the delivery worker")
		}
		got, err := b.Queue().ClaimOutbox(ctx, 10, time.Minute)
		if err != nil || len(got) != len(rows) {
			t.Fatalf("B claimed %d of the %d rows a dead instance held (%v)", len(got), len(rows), err)
		}
	})
}

// drain empties a wake-up channel.
func drain(c <-chan struct{}) {
	select {
	case <-c:
	default:
	}
}

// TestNotificationsWakeOtherInstances: on PostgreSQL a commit that queued
// work on one instance wakes the workers of another that listens; the
// listening instance's own commits do not notify it twice.
func TestNotificationsWakeOtherInstances(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	inst := twoInstances(t, url, time.Now)
	a, b := inst[0], inst[1]
	m, p := newTestProgram(t, a, "shop")
	serials := issueCards(t, a, m, p, 1)
	done := make(chan struct{})
	go func() { defer close(done); b.Listen(ctx, slog.New(slog.DiscardHandler)) }()
	defer func() { cancel(); <-done }()
	// The listener wakes every queue once it is connected.
	for _, c := range []<-chan struct{}{b.Queue().OutboxQueued(), b.Webhooks().WebhooksQueued(),
		b.Automations().MessagesQueued(), b.CouponIssues().CouponItemsQueued()} {
		select {
		case <-c:
		case <-time.After(10 * time.Second):
			t.Fatal("the listener did not connect")
		}
	}
	for i := range 5 {
		earn(t, a, m, serials[0], fmt.Sprint("n", i), 1000)
		select {
		case <-b.Queue().OutboxQueued():
		case <-time.After(10 * time.Second):
			t.Fatalf("change %d: instance B was not woken", i)
		}
	}
	// A change no other queue has work for wakes none of them.
	select {
	case <-b.Webhooks().WebhooksQueued():
		t.Fatal("the webhook sender was woken without a webhook queued")
	default:
	}
	for payload, wake := range map[string]bool{"outbox:s1:" + a.instance: true, "outbox:s1:" + b.instance: false,
		"outbox:s2:" + a.instance: false, "nothing:s1:" + a.instance: false, "garbage": false} {
		if _, ok := b.parseNotification("s1", payload); ok != wake {
			t.Errorf("notification %q wakes B: %v, want %v", payload, ok, wake)
		}
	}
}

// TestRecoveredMessagesSentOnce: instance A claims four automation
// messages, puts one on its card, hands one text to the provider, and
// dies. While A's lease lasts nothing is recovered; past it (long before
// the messages' own stamp) instance B puts back the two A never handed
// over, fails the one it did, and sends the two once; A, waking up late,
// may send neither.
func TestRecoveredMessagesSentOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clk := newTestClock()
		inst := twoInstances(t, url, clk.Now)
		a, b := inst[0], inst[1]
		m, p := newTestProgram(t, a, "shop")
		auto := testAutomation(m, p, loyalty.Trigger{Type: loyalty.TriggerEnrolled})
		if err := a.Automations().CreateAutomation(ctx, auto); err != nil {
			t.Fatal(err)
		}
		var msgs []NewMessage
		for i := range 4 {
			c := issue(t, a, m, p, fmt.Sprintf("+7912000000%d", i), "")
			msgs = append(msgs, NewMessage{Candidate: Candidate{c.CustomerID, c.SerialNumber, "enrolled"}})
		}
		if _, err := a.Automations().RecordEvaluation(ctx, *auto, clk.Now(), clk.Now(), msgs); err != nil {
			t.Fatal(err)
		}
		const lease = 30 * time.Second
		for _, s := range inst {
			if err := s.Instances().Join(ctx, lease); err != nil {
				t.Fatal(err)
			}
		}
		out, err := a.Automations().ClaimMessages(ctx, 10, time.Hour)
		if err != nil || len(out) != 4 {
			t.Fatalf("A claims %d messages (%v), want 4", len(out), err)
		}
		onCard := func(s *Store, msg OutgoingMessage) error {
			return s.Automations().DeliverOnCard(ctx, msg, CardDelivery{Channel: loyalty.ChannelWallet, Text: "Привет", CapDays: 14})
		}
		if err := onCard(a, out[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Automations().ReserveText(ctx, out[1], 14, 450); err != nil {
			t.Fatal(err)
		}
		// A keeps its lease: nothing is recovered, however long it takes.
		for range 4 {
			clk.Advance(lease / 3)
			for _, s := range inst {
				if err := s.Instances().Heartbeat(ctx, lease); err != nil {
					t.Fatal(err)
				}
			}
			if r, err := b.Instances().Recover(ctx); err != nil || r != (Recovered{}) {
				t.Fatalf("recovered %+v from a live instance (%v)", r, err)
			}
		}
		// A dies: past its lease B takes back what A never handed over.
		clk.Advance(lease + time.Second)
		if err := b.Instances().Heartbeat(ctx, lease); err != nil {
			t.Fatal(err)
		}
		r, err := b.Instances().Recover(ctx)
		if err != nil || r.Messages != 2 || r.MessagesLost != 1 {
			t.Fatalf("recovered %+v (%v); want 2 messages back, 1 failed", r, err)
		}
		if _, err := a.Automations().ReserveText(ctx, out[2], 14, 450); !errors.Is(err, ErrClaimLost) {
			t.Fatalf("a late instance handed over a recovered text: %v", err)
		}
		again, err := b.Automations().ClaimMessages(ctx, 10, time.Hour)
		if err != nil || len(again) != 2 || again[0].ID != out[2].ID || again[1].ID != out[3].ID || again[0].Attempts != 1 {
			t.Fatalf("B claims %+v (%v); want the 2 never handed over, their attempt not counted twice", again, err)
		}
		if err := onCard(a, out[3]); !errors.Is(err, ErrMessageTaken) {
			t.Fatalf("a late instance sent a message B holds: %v", err)
		}
		for _, msg := range again {
			if err := onCard(b, msg); err != nil {
				t.Fatal(err)
			}
		}
		for i, want := range []string{"sent", "failed", "sent", "sent"} {
			if n := countRows(t, b, `SELECT COUNT(*) FROM automation_messages WHERE id = ? AND status = ?`, out[i].ID, want); n != 1 {
				t.Errorf("message %d is not %s", i, want)
			}
		}
		// Each card changed once: one pass update per message sent.
		if n := countRows(t, b, `SELECT COUNT(*) FROM outbox WHERE topic = ?`, TopicCardChanged); n != 3 {
			t.Errorf("%d card changes queued for 3 messages sent", n)
		}
		if more, _ := b.Automations().ClaimMessages(ctx, 10, time.Hour); len(more) != 0 {
			t.Fatalf("claimed %d messages again", len(more))
		}
	})
}
