package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// balancesEqualLedgers checks every card's balance against its ledger.
func balancesEqualLedgers(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.read.QueryContext(context.Background(), `SELECT c.serial_number, c.balance,
		COALESCE((SELECT SUM(points) FROM transactions t WHERE t.serial_number = c.serial_number), 0) FROM cards c`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var serial string
		var balance, sum int64
		if err := rows.Scan(&serial, &balance, &sum); err != nil {
			t.Fatal(err)
		}
		n++
		if balance != sum {
			t.Errorf("card %s: balance %d, ledger %d", serial, balance, sum)
		}
	}
	if n == 0 {
		t.Error("no cards")
	}
}

func TestEraseLeavesNoTraceOfThePerson(t *testing.T) {
	const (
		phone = "+79169876543"
		name  = "Зинаида Эрасова"
		email = "zinaida.erasova@example.com"
	)
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			url := b.URL(t)
			clk := newClock()
			s := openTestStore(t, url, withClock(clk))
			m, p := joinProgram(t, s, "shop")
			// A webhook endpoint, so the card's events are stored with the phone.
			if err := s.Webhooks().CreateWebhookEndpoint(ctx, &WebhookEndpoint{MerchantID: m.ID, URL: "https://hooks.example.com/x",
				Events: WebhookEvents}); err != nil {
				t.Fatal(err)
			}
			form := joinForm(name)
			form.Birthday, form.AdsText = "1990-05-17", "Реклама v1"
			j := joinPhone(t, s, p.ID, phone, form)
			serial, customer := j.Card.SerialNumber, j.Card.CustomerID
			// Through the API: e-mail, a purchase whose stored answer quotes the customer.
			email := email
			if _, err := s.Customers().Update(ctx, m.ID, customer, CustomerChange{Email: &email}); err != nil {
				t.Fatal(err)
			}
			_, _, err := s.Cards().Post(ctx, loyalty.Posting{MerchantID: m.ID, Serial: serial, Kind: loyalty.Earn, PurchaseAmount: 300_00,
				IdempotencyKey: "buy", RequestHash: []byte("buy")}, func(p Posted) (Answer, error) {
				return Answer{Status: 201, Body: []byte(`{"card":{"customer":{"phone":"` + p.Card.Customer.Phone +
					`","name":"` + p.Card.Customer.Name + `","email":"` + p.Card.Customer.Email + `"}}}`)}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// A device follows the card, and a pass was rendered with the name.
			if _, err := s.Devices().Register(ctx, Registration{DeviceID: "dev-zina", SerialNumber: serial, PassTypeID: "pass.x",
				PushToken: "push-token-zina", Channel: "apple"}); err != nil {
				t.Fatal(err)
			}
			if err := s.Cards().PutPassFile(ctx, serial, PassFile{CardVersion: 9, ProgramVersion: 1, Data: []byte("pass.json " + name)}); err != nil {
				t.Fatal(err)
			}
			// A pending code of the same phone, with the form in it.
			clk.advance(time.Hour)
			if _, err := s.Joins().Start(ctx, startJoin(JoinStart{ProgramID: p.ID, Phone: phone, IP: "203.0.113.7",
				Form: joinForm(name)})); err != nil {
				t.Fatal(err)
			}
			other := joinPhone(t, s, p.ID, "+79161112233", joinForm("Другой"))

			if err := s.Customers().Erase(ctx, m.ID, customer); err != nil {
				t.Fatal(err)
			}
			if err := s.Customers().Erase(ctx, m.ID, customer); err != nil {
				t.Fatalf("erasing twice: %v", err)
			}

			d, err := s.Customers().Customer(ctx, m.ID, customer)
			if err != nil {
				t.Fatal(err)
			}
			c := d.Customer
			if c.ErasedAt == nil || c.Name != "" || c.Email != "" || c.Birthday != "" || !strings.HasPrefix(c.Phone, "erased:") {
				t.Errorf("erased customer = %+v", c)
			}
			if len(d.Cards) != 1 || d.Cards[0].Status != loyalty.CardVoided || d.Cards[0].Balance != 115 {
				t.Errorf("cards after erasure: %+v; want the one card voided with its balance of 115", d.Cards)
			}
			for _, r := range d.Consents {
				if r.IP != "" || r.UserAgent != "" {
					t.Errorf("consent record kept %q %q", r.IP, r.UserAgent)
				}
			}
			if loyalty.MaySendAds(d.Consents) {
				t.Error("an erased customer may still be texted")
			}
			var regs, tokens int
			s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM registrations WHERE serial_number = ?`, serial).Scan(&regs)
			s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM devices WHERE id = 'dev-zina'`).Scan(&tokens)
			if regs != 0 || tokens != 0 {
				t.Errorf("registrations %d, devices %d left", regs, tokens)
			}
			// A new join with the number is a new customer: nothing links it back.
			clk.advance(time.Hour)
			again := joinPhone(t, s, p.ID, phone, joinForm(""))
			if again.Card.CustomerID == customer || again.Card.SerialNumber == serial {
				t.Error("the erased customer came back")
			}
			if err := s.Customers().Erase(ctx, m.ID, again.Card.CustomerID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Customers().Update(ctx, m.ID, customer, CustomerChange{Name: &email}); !errors.Is(err, ErrErased) {
				t.Errorf("changing an erased customer: %v", err)
			}
			if d, err := s.Customers().Customer(ctx, m.ID, other.Card.CustomerID); err != nil || d.Customer.Name != "Другой" {
				t.Errorf("another customer: %+v, %v", d.Customer, err)
			}
			balancesEqualLedgers(t, s)

			if b.Name != "sqlite" {
				assertNoTraceInRows(t, s, phone, name, email)
				return
			}
			// The file itself, once the log is checkpointed into it.
			if _, err := s.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				t.Fatal(err)
			}
			path := strings.TrimPrefix(url, "sqlite:")
			for _, f := range []string{path, path + "-wal"} {
				data, err := os.ReadFile(f)
				if errors.Is(err, os.ErrNotExist) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, secret := range []string{phone, strings.TrimPrefix(phone, "+"), name, email, "Зинаида", "push-token-zina"} {
					if bytes.Contains(data, []byte(secret)) {
						t.Errorf("%s still holds %q", filepath.Base(f), secret)
					}
				}
			}
			if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
				t.Fatalf("database file: %v", err)
			}
		})
	}
}

// assertNoTraceInRows searches every text column of every table (where
// the file cannot be read, as with PostgreSQL).
func assertNoTraceInRows(t *testing.T, s *Store, secrets ...string) {
	t.Helper()
	ctx := context.Background()
	rows, err := s.read.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type IN ('text', 'bytea')`)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ table, column string }
	var cols []col
	for rows.Next() {
		var c col
		rows.Scan(&c.table, &c.column)
		cols = append(cols, c)
	}
	rows.Close()
	for _, c := range cols {
		for _, secret := range secrets {
			var n int
			q := `SELECT COUNT(*) FROM "` + c.table + `" WHERE position(convert_to(?, 'UTF8') in convert_to("` + c.column + `"::text, 'UTF8')) > 0`
			if err := s.read.QueryRowContext(ctx, q, secret).Scan(&n); err != nil {
				t.Fatalf("%s.%s: %v", c.table, c.column, err)
			}
			if n > 0 {
				t.Errorf("%s.%s still holds %q in %d rows", c.table, c.column, secret, n)
			}
		}
	}
}
