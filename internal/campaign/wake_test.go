package campaign_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/campaign"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/sms/smstest"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// TestStartedCampaignWakesSender: a campaign started on instance A is
// texted by instance B's sender, whose tick is an hour, so only a wake-up
// can bring it: on PostgreSQL A's commit reaches B through LISTEN/NOTIFY
// (A and B are two stores), on SQLite through the store's own signal (one
// store, as one process holds the database).
func TestStartedCampaignWakesSender(t *testing.T) {
	for _, backend := range storetest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			url := backend.URL(t)
			clk := &clock{}
			clk.Set(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
			open := func() *store.Store {
				st, err := store.Open(ctx, store.Options{URL: url, Now: clk.Now})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				return st
			}
			a, b := open(), (*store.Store)(nil)
			if store.IsPostgresURL(url) {
				b = open()
			} else {
				b = a
			}
			first := newWakeCampaign(t, a, "first", 1)
			second := newWakeCampaign(t, a, "second", 3)
			clk.Advance(100 * 24 * time.Hour) // everyone lapsed
			if _, err := a.Campaigns().StartCampaign(ctx, first.MerchantID, first.ID); err != nil {
				t.Fatal(err)
			}
			// B listens (on SQLite: no-op); the wake-up it gives on
			// connecting, or the first campaign's on SQLite, is taken here,
			// so that from now on only a commit can wake B's sender.
			go b.Listen(ctx, slog.New(slog.DiscardHandler))
			select {
			case <-b.Campaigns().CampaignsQueued():
			case <-time.After(30 * time.Second):
				t.Fatal("no wake-up from B's listening connection or the first start")
			}

			fake := smstest.NewSMSRu(t, "wake-api-id")
			provider, err := sms.NewSMSRu(sms.SMSRuConfig{BaseURL: fake.URL, APIID: "wake-api-id"})
			if err != nil {
				t.Fatal(err)
			}
			sender := campaign.New(campaign.Options{Store: campaign.StoreOf(b), ShortURL: "https://k.example",
				Providers: map[string]sms.Provider{"smsru": provider}, Now: clk.Now, Tick: time.Hour})
			done := make(chan struct{})
			go func() { defer close(done); sender.Run(ctx) }()
			defer func() { stop(); <-done }()
			// Run's first round texts the first campaign; then B sleeps,
			// its next tick an hour away.
			waitTexts(t, fake, 1)
			clk.Advance(time.Minute) // a minute's worth of the send rate
			if _, err := a.Campaigns().StartCampaign(ctx, second.MerchantID, second.ID); err != nil {
				t.Fatal(err)
			}
			waitTexts(t, fake, 4)
			texted := map[string]int{}
			for _, m := range fake.Messages() {
				texted[strings.TrimPrefix(m.To, "+")]++
			}
			for _, phone := range []string{"79130000000", "79140000000", "79140000001", "79140000002"} {
				if texted[phone] != 1 {
					t.Errorf("%s texted %d times, want once (texts: %v)", phone, texted[phone], texted)
				}
			}
		})
	}
}

// newWakeCampaign creates, on st, a draft campaign of a program of its
// own with n consenting customers who last bought now.
func newWakeCampaign(t *testing.T, st *store.Store, name string, n int) store.Campaign {
	t.Helper()
	ctx := context.Background()
	m, _, err := st.Merchants().EnsureMerchant(ctx, "wake", "RU")
	if err != nil {
		t.Fatal(err)
	}
	p := loyalty.Program{MerchantID: m.ID, Name: name, CurrencyLabel: "баллы", EarnRateBP: 500, BarcodeFormat: "qr", Locale: "ru"}
	if err := st.Programs().CreateProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	prefix := map[string]string{"first": "+7913", "second": "+7914"}[name]
	yes := true
	for i := range n {
		if _, _, err := st.Cards().IssueCard(ctx, store.IssueCard{MerchantID: m.ID, ProgramID: p.ID,
			Phone: fmt.Sprintf("%s%07d", prefix, i), SMSConsent: &yes}); err != nil {
			t.Fatal(err)
		}
	}
	c := store.Campaign{MerchantID: m.ID, ProgramID: p.ID, Name: name, LapsedDays: 90, Installed: "any",
		BonusOn: "open", Template: "Вернитесь: {link}", Timezone: "UTC", SendRate: 60, Provider: "smsru"}
	if err := st.Campaigns().CreateCampaign(ctx, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitTexts waits until the fake provider got n texts.
func waitTexts(t *testing.T, fake *smstest.SMSRu, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(fake.Messages()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the provider got %d texts, want %d: the sender was not woken", len(fake.Messages()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
