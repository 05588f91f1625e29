package delivery_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/apikey"
	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
	"github.com/loyalpass/loyalpass/passes"
	"github.com/loyalpass/loyalpass/push/apns"
	"github.com/loyalpass/loyalpass/push/apns/apnstest"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// TestTwoInstancesOnePostgreSQL runs two instances (each its own store
// pool, API and outbox worker) on one PostgreSQL database, drives
// transactions through both at once with both workers running, and checks
// that every outbox row was claimed exactly once, every device got the
// last change, and every balance equals its ledger sum. Skipped unless
// LOYALPASS_TEST_POSTGRES is set.
func TestTwoInstancesOnePostgreSQL(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	_, material := devChain(t)
	fake := apnstest.NewServer(t)

	type instance struct {
		store  *store.Store
		http   http.Handler
		worker *delivery.Worker
	}
	var inst [2]instance
	for i := range inst {
		st, err := store.Open(ctx, store.Options{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		cert := material.TLSCertificate()
		client, err := apns.New(apns.Options{Certificate: &cert, Topic: material.PassTypeID, Host: fake.URL, RootCAs: fake.CertPool()})
		if err != nil {
			t.Fatal(err)
		}
		inst[i] = instance{store: st,
			http: api.New(api.Options{Stores: api.StoresOf(st), PublicURL: "https://cards.example.com", PassTypeID: material.PassTypeID,
				Passes: cardpass.New(cardpass.StoreOf(st), passes.NewRenderer(material, "https://cards.example.com/wallet"), nil)}).Handler(),
			worker: delivery.New(delivery.Options{Store: delivery.StoreOf(st), Apple: client, PassTypeID: material.PassTypeID, Poll: 20 * time.Millisecond})}
	}
	m, _, err := inst[0].store.Merchants().EnsureMerchant(ctx, "shop", "RU")
	if err != nil {
		t.Fatal(err)
	}
	k := apikey.New()
	if err := inst[0].store.Merchants().CreateAPIKey(ctx, store.APIKey{ID: k.ID, MerchantID: m.ID, SecretHash: k.Hash()}); err != nil {
		t.Fatal(err)
	}
	do := func(i int, method, path, idem, body string, hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+k.String())
		req.Header.Set("Content-Type", "application/json")
		if idem != "" {
			req.Header.Set("Idempotency-Key", idem)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		inst[i].http.ServeHTTP(rec, req)
		return rec
	}
	rec := do(0, "POST", "/api/v1/programs", "", `{"name":"Кофейня","earn_rate_bp":1000}`, nil)
	prog := jsonField(t, rec, "id")
	const cards = 8
	serials := make([]string, cards)
	for c := range cards {
		serials[c] = jsonField(t, do(c%2, "POST", "/api/v1/programs/"+prog+"/cards", "", fmt.Sprintf(`{"phone":"+7912345670%d"}`, c), nil), "serial_number")
		card, _ := inst[0].store.Cards().Card(ctx, m.ID, serials[c])
		reg := do(c%2, "POST", "/wallet/v1/devices/dev"+fmt.Sprint(c)+"/registrations/"+material.PassTypeID+"/"+serials[c], "",
			fmt.Sprintf(`{"pushToken":"%064x"}`, c), map[string]string{"Authorization": "ApplePass " + card.AuthToken})
		if reg.Code != 201 {
			t.Fatalf("register = %d %s", reg.Code, reg.Body.String())
		}
	}

	runCtx, stop := context.WithCancel(ctx)
	var workers sync.WaitGroup
	for i := range inst {
		workers.Go(func() { inst[i].worker.Run(runCtx) })
	}
	var clients sync.WaitGroup
	for w := range 8 {
		clients.Go(func() {
			for j := range 25 {
				serial := serials[(w+j)%cards]
				body := `{"kind":"earn","purchase_amount":10000}`
				if j%5 == 4 {
					body = `{"kind":"redeem","points":1}`
				}
				// Half the requests go to each instance; each key is sent
				// to both, so the two instances race on every posting.
				key := fmt.Sprintf("w%d-%d", w, j)
				for i := range inst {
					if rec := do((w+i)%2, "POST", "/api/v1/cards/"+serial+"/transactions", key, body, nil); rec.Code != 201 && rec.Code != 409 {
						t.Errorf("posting %s on instance %d = %d %s", key, (w+i)%2, rec.Code, rec.Body.String())
					}
				}
			}
		})
	}
	clients.Wait()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitFor(t, func() bool {
		var pending int
		queryRow(t, db, `SELECT COUNT(*) FROM outbox WHERE done_at IS NULL`).Scan(&pending)
		return pending == 0
	})
	stop()
	workers.Wait()

	var claimedTwice, rows int
	queryRow(t, db, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN attempts <> 1 THEN 1 ELSE 0 END), 0) FROM outbox WHERE topic = 'card.changed'`).Scan(&rows, &claimedTwice)
	if rows == 0 || claimedTwice != 0 {
		t.Fatalf("%d card.changed rows, %d claimed more than once", rows, claimedTwice)
	}
	var behind int
	queryRow(t, db, `SELECT COUNT(*) FROM registrations r JOIN cards c ON c.serial_number = r.serial_number WHERE r.pushed_seq <> c.change_seq`).Scan(&behind)
	if behind != 0 {
		t.Fatalf("%d devices were not pushed their card's last change", behind)
	}
	var unbalanced, lines int
	queryRow(t, db, `SELECT COUNT(*) FROM cards c WHERE c.balance <> (SELECT COALESCE(SUM(points), 0) FROM transactions t WHERE t.serial_number = c.serial_number)`).Scan(&unbalanced)
	queryRow(t, db, `SELECT COUNT(*) FROM transactions WHERE kind IN ('earn', 'redeem')`).Scan(&lines)
	if unbalanced != 0 || lines > 200 {
		t.Fatalf("%d cards off their ledger; %d lines for 200 keys sent twice each", unbalanced, lines)
	}
	t.Logf("%d postings, %d outbox rows each claimed once, %d pushes to APNs for %d devices", lines, rows, fake.Count(), cards)
}

func jsonField(t *testing.T, rec *httptest.ResponseRecorder, field string) string {
	t.Helper()
	if rec.Code >= 300 {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	return m[field].(string)
}

// queryRow asks the database directly, for assertions.
func queryRow(t *testing.T, db *sql.DB, q string) *sql.Row {
	t.Helper()
	return db.QueryRow(q)
}

// waitFor polls cond until it holds, failing after a generous deadline.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatal("condition not met within 60 s")
		case <-tick.C:
		}
	}
}
