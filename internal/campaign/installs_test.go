package campaign_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/api"
)

// TestFakeDevicesDoNotInflateInstallAttribution registers a texted
// recipient's card from many made-up device ids: past the cap they are
// refused, and the campaign still counts one installed recipient and pays
// its install bonus once.
func TestFakeDevicesDoNotInflateInstallAttribution(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	prog := e.must(201, "POST", "/api/v1/programs", map[string]any{"name": "Кофейня"})["id"].(string)
	e.customers(prog, 4, 0) // 3 consented, all lapsed
	id := e.must(201, "POST", "/api/v1/campaigns", map[string]any{"program_id": prog, "name": "Скучаем",
		"template": "Вернитесь: {link}", "holdout_percent": 0, "send_rate": 600, "bonus_on": "install",
		"bonus_points": 20})["id"].(string)
	e.must(200, "POST", "/api/v1/campaigns/"+id+"/start", nil)
	sender := e.sender()
	for range 3 {
		e.clock.Advance(time.Second)
		if _, err := sender.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.twilio.Messages()); n != 3 {
		t.Fatalf("%d texts, want 3", n)
	}
	// One texted recipient's card, as its holder has it.
	db, err := sql.Open("sqlite3", "file:"+e.path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var serial string
	if err := db.QueryRow(`SELECT serial_number FROM campaign_recipients WHERE campaign_id = ? AND sent_at IS NOT NULL
		ORDER BY serial_number LIMIT 1`, id).Scan(&serial); err != nil {
		t.Fatal(err)
	}
	card, err := e.store.Cards().CardBySerial(ctx, serial)
	if err != nil {
		t.Fatal(err)
	}

	codes := map[int]int{}
	for i := range 3 * api.DefaultMaxDevicesPerCard {
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/wallet/v1/devices/fake%03d/registrations/%s/%s",
			e.url, i, material(t).PassTypeID, serial), strings.NewReader(`{"pushToken":"`+strings.Repeat("ab", 32)+`"}`))
		req.Header.Set("Authorization", "ApplePass "+card.AuthToken)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		codes[res.StatusCode]++
	}
	if codes[201] != api.DefaultMaxDevicesPerCard || codes[403] != 2*api.DefaultMaxDevicesPerCard {
		t.Fatalf("answers to %d fake devices: %v", 3*api.DefaultMaxDevicesPerCard, codes)
	}
	rep := e.must(200, "GET", "/api/v1/campaigns/"+id+"/report", nil)
	texted := rep["texted"].(map[string]any)
	if texted["installed"] != 1.0 || texted["bonus_credited"] != 1.0 {
		t.Fatalf("texted funnel = %v; want 1 installed recipient and 1 bonus", texted)
	}
	if n := e.count(`SELECT COUNT(*) FROM transactions WHERE serial_number = ? AND reason LIKE 'win-back bonus%'`, serial); n != 1 {
		t.Fatalf("%d install bonuses on the card, want 1", n)
	}
	installs := e.must(200, "GET", "/api/v1/cards/"+serial, nil)["installs"].([]any)
	if len(installs) != 1 || installs[0].(map[string]any)["installed"] != float64(api.DefaultMaxDevicesPerCard) {
		t.Fatalf("card installs = %v", installs)
	}
}
