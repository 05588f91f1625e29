package campaign_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/locale/localetest"
	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// TestPointsInTheProgramsLanguage: the sender words {points} in the
// language of the campaign's program, a test-only one added as one file
// included.
func TestPointsInTheProgramsLanguage(t *testing.T) {
	tests := []struct {
		locale string
		want   string
	}{
		{"ru", "Дарим 21 балл: "},
		{"en", "Дарим 21 points: "},
		{localetest.PseudoTag, "Дарим [21 póints]: "},
	}
	for _, tt := range tests {
		t.Run(tt.locale, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			apiLocale := tt.locale
			if apiLocale == localetest.PseudoTag {
				apiLocale = "ru" // the API takes shipped languages only; the store is set below
			}
			prog := e.must(201, "POST", "/api/v1/programs", map[string]any{"name": "Кофейня", "locale": apiLocale})["id"].(string)
			if tt.locale == localetest.PseudoTag {
				mer, _, err := e.store.Merchants().EnsureMerchant(ctx, "shop", "RU")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.store.Programs().UpdateProgram(ctx, mer.ID, prog, func(p *loyalty.Program) error {
					p.Locale = tt.locale
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			e.customers(prog, 3, 0)
			id := e.must(201, "POST", "/api/v1/campaigns", map[string]any{"program_id": prog, "name": "Скучаем",
				"bonus_points": 21, "template": "Дарим {points}: {link}", "holdout_percent": 0})["id"].(string)
			e.must(200, "POST", "/api/v1/campaigns/"+id+"/start", nil)
			sender := e.senderWith(localetest.Pseudo(t))
			e.clock.Advance(time.Second)
			if _, err := sender.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			msgs := e.twilio.Messages()
			if len(msgs) == 0 {
				t.Fatal("nothing texted")
			}
			for _, m := range msgs {
				if !strings.HasPrefix(m.Text, tt.want) {
					t.Errorf("text = %q, want it to start %q", m.Text, tt.want)
				}
			}
		})
	}
}
