package main

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

// TestTwoServerProcessesOnePostgreSQL starts two loyalpass processes on
// one PostgreSQL database with APNs pointed at a fake, drives transactions
// through both, and checks that every change was pushed exactly once
// (each outbox row claimed once, every device holding its card's last
// change) and every balance equals its ledger sum. Skipped unless
// LOYALPASS_TEST_POSTGRES is set.
func TestTwoServerProcessesOnePostgreSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dbURL := storetest.PostgresURL(t)
	ctx := context.Background()

	// One signing chain for both instances, as in production.
	dirs := []string{t.TempDir(), t.TempDir()}
	const typeID = "pass.dev.loyalpass.card"
	chain, err := certs.GenerateDev(filepath.Join(dirs[0], "certs"), certs.DevOptions{PassTypeID: typeID, TeamID: "LOYALDEV01"})
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dirs[1], "certs"), 0o700)
	for _, f := range []string{chain.Root, chain.Intermediate, chain.Cert, chain.Key} {
		b, _ := os.ReadFile(f)
		os.WriteFile(filepath.Join(dirs[1], "certs", filepath.Base(f)), b, 0o600)
	}
	roots := x509.NewCertPool()
	for _, f := range []string{chain.Root, chain.Intermediate} {
		b, _ := os.ReadFile(f)
		roots.AppendCertsFromPEM(b)
	}
	fake := apnstest.NewServer(t, apnstest.WithClientCAs(roots))
	caFile := filepath.Join(t.TempDir(), "apns-ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw}), 0o600)
	env := []string{"LOYALPASS_DATABASE_URL=" + dbURL, "LOYALPASS_APNS_ENABLED=on", "LOYALPASS_APNS_HOST=" + fake.URL,
		"LOYALPASS_APNS_CA_FILE=" + caFile}

	t.Setenv("LOYALPASS_DATABASE_URL", dbURL)
	code, out, errOut := runCLI(t, "keys", "create", "--merchant", "two", "--data", dirs[0])
	if code != 0 {
		t.Fatal(errOut)
	}
	key := strings.TrimSpace(out)
	servers := []*server{startServer(t, dirs[0], env...), startServer(t, dirs[1], env...)}

	_, prog, err := servers[0].request(ctx, "POST", "/api/v1/programs", key, "", map[string]any{"name": "Две", "earn_rate_bp": 1000})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const cards = 6
	serials := make([]string, cards)
	for c := range cards {
		_, card, err := servers[c%2].request(ctx, "POST", "/api/v1/programs/"+prog["id"].(string)+"/cards", key, "",
			map[string]any{"phone": fmt.Sprintf("+7912345670%d", c)})
		if err != nil {
			t.Fatal(err)
		}
		serials[c] = card["serial_number"].(string)
		var token string
		db.QueryRow(`SELECT auth_token FROM cards WHERE serial_number = $1`, serials[c]).Scan(&token)
		status := registerDevice(t, servers[(c+1)%2], typeID, serials[c], token, fmt.Sprintf("dev%d", c), fmt.Sprintf("%064x", c+1))
		if status != 201 {
			t.Fatalf("register = %d", status)
		}
	}

	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for j := range 20 {
				body := map[string]any{"kind": "earn", "purchase_amount": 10000}
				// Every key goes to both instances: they race on each posting.
				for i := range servers {
					status, _, err := servers[(w+i)%2].request(ctx, "POST", "/api/v1/cards/"+serials[(w+j)%cards]+"/transactions",
						key, fmt.Sprintf("p%d-%d", w, j), body)
					if err != nil || status != 201 {
						t.Errorf("posting = %d %v", status, err)
					}
				}
			}
		})
	}
	wg.Wait()

	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var pending, behind int
		db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE done_at IS NULL`).Scan(&pending)
		db.QueryRow(`SELECT COUNT(*) FROM registrations r JOIN cards c ON c.serial_number = r.serial_number
			WHERE r.pushed_seq <> c.change_seq`).Scan(&behind)
		if pending == 0 && behind == 0 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("after 60 s: %d outbox rows pending, %d devices behind", pending, behind)
		case <-tick.C:
		}
	}
	var rows, again, lines, unbalanced int
	db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN attempts <> 1 THEN 1 ELSE 0 END), 0) FROM outbox WHERE topic = 'card.changed'`).Scan(&rows, &again)
	db.QueryRow(`SELECT COUNT(*) FROM transactions WHERE kind = 'earn'`).Scan(&lines)
	db.QueryRow(`SELECT COUNT(*) FROM cards c WHERE c.balance <> (SELECT COALESCE(SUM(points), 0) FROM transactions t
		WHERE t.serial_number = c.serial_number)`).Scan(&unbalanced)
	if again != 0 || lines != 120 || unbalanced != 0 {
		t.Fatalf("%d of %d outbox rows claimed more than once; %d earn lines for 120 keys; %d cards off their ledger", again, rows, lines, unbalanced)
	}
	if n := fake.Count(); n == 0 || n > int64(rows) {
		t.Fatalf("the fake APNs got %d pushes for %d changes", n, rows)
	}
	t.Logf("two processes: %d postings, %d changes each claimed once, %d pushes reached the fake APNs", lines, rows, fake.Count())
}

// registerDevice plays a phone registering for a card on a server.
func registerDevice(t *testing.T, s *server, typeID, serial, token, device, pushToken string) int {
	t.Helper()
	req := fmt.Sprintf(`{"pushToken":"%s"}`, pushToken)
	r, _ := newRequest("POST", "http://"+s.addr+"/wallet/v1/devices/"+device+"/registrations/"+typeID+"/"+serial, req)
	r.Header.Set("Authorization", "ApplePass "+token)
	r.Header.Set("Content-Type", "application/json")
	res, err := httpClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func newRequest(method, url, body string) (*http.Request, error) {
	return http.NewRequest(method, url, strings.NewReader(body))
}
