package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// TestCampaignPlanningFigure measures planning a campaign over 1,000,000
// customers (audience selected, recipients written); it runs only with
// LOYALPASS_FIGURES=1.
func TestCampaignPlanningFigure(t *testing.T) {
	if os.Getenv("LOYALPASS_FIGURES") == "" {
		t.Skip("set LOYALPASS_FIGURES=1 to measure")
	}
	ctx := context.Background()
	s, err := Open(ctx, Options{URL: "sqlite:" + filepath.Join(t.TempDir(), "plan.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, _, _ := s.Merchants().EnsureMerchant(ctx, "big", "RU")
	p := loyalty.Program{MerchantID: m.ID, Name: "Big", CurrencyLabel: "баллы", BarcodeFormat: "qr", Locale: "ru"}
	if err := s.Programs().CreateProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	const n = 1_000_000
	seedStart := time.Now()
	tx, err := s.write.Begin()
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().UTC().Add(-200 * 24 * time.Hour)
	cust, _ := tx.Prepare(`INSERT INTO customers (id, merchant_id, phone, name, email, sms_consent, sms_consent_source, created_at, holdout_seed)
		VALUES (?, ?, ?, '', '', TRUE, 'api', ?, ?)`)
	card, _ := tx.Prepare(`INSERT INTO cards (serial_number, merchant_id, program_id, customer_id, number, auth_token, balance, tier,
		status, version, created_at, updated_at, last_purchase_at) VALUES (?, ?, ?, ?, ?, 'x', 0, 'base', 'active', 1, ?, ?, ?)`)
	for i := range n {
		id := fmt.Sprintf("cus%07d", i)
		if _, err := cust.Exec(id, m.ID, fmt.Sprintf("+7912%07d", i), old, i%10000); err != nil {
			t.Fatal(err)
		}
		last := old
		if i%4 == 0 { // a quarter bought recently
			last = time.Now().UTC()
		}
		if _, err := card.Exec(fmt.Sprintf("s%07d", i), m.ID, p.ID, id, fmt.Sprintf("9%012d", i), old, old, last); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d customers and cards in %v", n, time.Since(seedStart).Round(time.Millisecond))

	c := Campaign{MerchantID: m.ID, ProgramID: p.ID, Name: "Win-back", LapsedDays: 90, Installed: "any", BonusOn: "open",
		Template: "{link}", HoldoutBP: 1000, QuietStart: 21, QuietEnd: 9, Timezone: "Europe/Moscow", SendRate: 600,
		FrequencyCapDays: 30, PurchaseWindowDays: 30, Provider: "log"}
	if err := s.Campaigns().CreateCampaign(ctx, &c); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := s.Campaigns().StartCampaign(ctx, m.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if got.Audience != n*3/4 {
		t.Fatalf("audience %d, want %d", got.Audience, n*3/4)
	}
	t.Logf("planned a campaign over %d customers: audience %d, holdout %d, in %v", n, got.Audience, got.Holdout, elapsed.Round(time.Millisecond))
}
