package campaign_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/push/koshelek/koshelektest"
)

// TestKoshelekInstallCountsInTheCampaignReport: a texted customer adds
// the card to «Кошелёк» (Кошелёк finds it and sends the consents), and
// the campaign counts an installed recipient and pays its install bonus,
// as for a wallet install.
func TestKoshelekInstallCountsInTheCampaignReport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	prog := e.must(201, "POST", "/api/v1/programs", map[string]any{"name": "Кофейня"})["id"].(string)
	p := e.must(200, "PATCH", "/api/v1/programs/"+prog, map[string]any{"koshelek": map[string]any{
		"login": "zerno", "password": "Partner-pass-2024"}})
	e.customers(prog, 2, 0) // the first has no SMS consent
	id := e.must(201, "POST", "/api/v1/campaigns", map[string]any{"program_id": prog, "name": "Скучаем",
		"template": "Вернитесь: {link}", "holdout_percent": 0, "send_rate": 600, "bonus_on": "install",
		"bonus_points": 20})["id"].(string)
	e.must(200, "POST", "/api/v1/campaigns/"+id+"/start", nil)
	e.clock.Advance(time.Second)
	if _, err := e.sender().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+e.path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var serial string
	if err := db.QueryRow(`SELECT serial_number FROM campaign_recipients WHERE campaign_id = ? AND sent_at IS NOT NULL`,
		id).Scan(&serial); err != nil {
		t.Fatalf("nobody was texted: %v", err)
	}
	card, err := e.store.Cards().CardBySerial(ctx, serial)
	if err != nil {
		t.Fatal(err)
	}
	k := &koshelektest.Client{T: t, BaseURL: p["koshelek_base_url"].(string), Login: "zerno", Pass: "Partner-pass-2024"}
	if e := k.Communication(card.Number, []string{"sms"}, nil); e != nil {
		t.Fatalf("communication = %+v", e)
	}
	if e := k.Communication(card.Number, []string{"sms"}, nil); e != nil { // sent again: still one install
		t.Fatalf("communication = %+v", e)
	}
	texted := e.must(200, "GET", "/api/v1/campaigns/"+id+"/report", nil)["texted"].(map[string]any)
	if texted["installed"] != 1.0 || texted["bonus_credited"] != 1.0 {
		t.Fatalf("texted funnel = %v; want 1 installed recipient and 1 bonus", texted)
	}
}
