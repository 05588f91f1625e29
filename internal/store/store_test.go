package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// forEachStore runs test against a fresh store on every backend:
// SQLite always, PostgreSQL when storetest.PostgresEnv is set.
func forEachStore(t *testing.T, test func(t *testing.T, s *Store)) {
	forEachBackend(t, func(t *testing.T, url string) {
		test(t, openTestStore(t, url))
	})
}

// forEachBackend runs test with the URL of a fresh, empty database on
// every backend, for tests that open stores themselves.
func forEachBackend(t *testing.T, test func(t *testing.T, url string)) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { test(t, b.URL(t)) })
	}
}

// openTestStore opens url and closes the store when the test ends.
func openTestStore(t *testing.T, url string, opts ...func(*Options)) *Store {
	t.Helper()
	o := Options{URL: url}
	for _, f := range opts {
		f(&o)
	}
	s, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newTestStore is a fresh SQLite store; tests that should hold on every
// backend use forEachStore instead.
func newTestStore(t *testing.T) *Store {
	t.Helper()
	return openTestStore(t, storetest.SQLiteURL(t))
}

func newTestProgram(t *testing.T, s *Store, merchant string) (Merchant, loyalty.Program) {
	t.Helper()
	ctx := context.Background()
	m, _, err := s.Merchants().EnsureMerchant(ctx, merchant, "RU")
	if err != nil {
		t.Fatal(err)
	}
	p := loyalty.Program{MerchantID: m.ID, Name: "Кофе", CurrencyLabel: "баллы", EarnRateBP: 500, BarcodeFormat: "qr", Locale: "ru"}
	if err := s.Programs().CreateProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	return m, p
}

func TestMigrateIsIdempotentAndRefusesNewerSchema(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s, err := Open(ctx, Options{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := s.dialect.loadMigrations()
		if v, err := s.SchemaVersion(ctx); err != nil || v != len(want) {
			t.Fatalf("schema version = %d, %v; want %d", v, err, len(want))
		}
		s.Close()
		s = openTestStore(t, url) // a second start applies nothing
		if v, err := s.SchemaVersion(ctx); err != nil || v != len(want) {
			t.Fatalf("schema version after reopening = %d, %v; want %d", v, err, len(want))
		}
		if _, err := s.write.ExecContext(ctx, insertMigration, 999, "999_future.sql", time.Now()); err != nil {
			t.Fatal(err)
		}
		if s, err := Open(ctx, Options{URL: url}); err == nil {
			s.Close()
			t.Fatal("Open accepted a database with a newer schema")
		}
	})
}

func TestDialectsHaveTheSameMigrations(t *testing.T) {
	lite, err := sqliteDialect.loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	pg, err := postgresDialect.loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL ones: every migration needs its twin", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].name != pg[i].name {
			t.Errorf("migration %d is %s in SQLite, %s in PostgreSQL", i+1, lite[i].name, pg[i].name)
		}
	}
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() {
				s, err := Open(context.Background(), Options{URL: url})
				if err == nil {
					s.Close()
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestIssueCardIsIdempotentPerPhone(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, p := newTestProgram(t, s, "shop")
		yes := true
		in := IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79123456789", Name: "Анна", SMSConsent: &yes}

		var wg sync.WaitGroup
		serials := make(chan string, 8)
		created := make(chan bool, 8)
		for range 8 {
			wg.Go(func() {
				c, isNew, err := s.Cards().IssueCard(ctx, in)
				if err != nil {
					t.Error(err)
					return
				}
				serials <- c.SerialNumber
				created <- isNew
			})
		}
		wg.Wait()
		close(serials)
		close(created)
		distinct := map[string]bool{}
		for s := range serials {
			distinct[s] = true
		}
		news := 0
		for c := range created {
			if c {
				news++
			}
		}
		if len(distinct) != 1 || news != 1 {
			t.Fatalf("8 concurrent issues made %d cards (%d reported created); want 1", len(distinct), news)
		}
		var n int
		if err := s.read.QueryRow(`SELECT COUNT(*) FROM cards`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("cards rows = %d, %v", n, err)
		}

		card, err := s.Cards().Card(ctx, m.ID, maps1(distinct))
		if err != nil {
			t.Fatal(err)
		}
		if len(card.Number) != 13 || luhnDigit(card.Number[:12]) != card.Number[12]-'0' {
			t.Errorf("card number %q is not 12 digits + Luhn", card.Number)
		}
		if len(card.AuthToken) < 32 || card.Customer.Name != "Анна" || !card.Customer.SMSConsent {
			t.Errorf("card = %+v", card)
		}

		// After a void the same phone gets a new card.
		if v, err := s.Cards().VoidCard(ctx, m.ID, card.SerialNumber); err != nil || v.Status != loyalty.CardVoided || v.Version != 2 {
			t.Fatalf("void = %+v, %v", v, err)
		}
		again, isNew, err := s.Cards().IssueCard(ctx, in)
		if err != nil || !isNew || again.SerialNumber == card.SerialNumber || again.CustomerID != card.CustomerID {
			t.Fatalf("issue after void = %+v new=%v err=%v", again, isNew, err)
		}
	})
}

func maps1(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

func TestOtherMerchantsDataIsNotFound(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, pa := newTestProgram(t, s, "a")
		b, _ := newTestProgram(t, s, "b")
		card, _, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: a.ID, ProgramID: pa.ID, Phone: "+79123456789"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Programs().Program(ctx, b.ID, pa.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("Program across merchants: %v", err)
		}
		if _, err := s.Cards().Card(ctx, b.ID, card.SerialNumber); !errors.Is(err, ErrNotFound) {
			t.Errorf("Card across merchants: %v", err)
		}
		if _, _, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: b.ID, ProgramID: pa.ID, Phone: "+79123456780"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("IssueCard into another merchant's program: %v", err)
		}
		if _, err := s.Cards().VoidCard(ctx, b.ID, card.SerialNumber); !errors.Is(err, ErrNotFound) {
			t.Errorf("VoidCard across merchants: %v", err)
		}
		if c, _ := s.Cards().Card(ctx, a.ID, card.SerialNumber); c.Status != loyalty.CardActive {
			t.Errorf("card status after foreign void = %q", c.Status)
		}
	})
}

func TestCardsPaginate(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, p := newTestProgram(t, s, "shop")
		want := map[string]bool{}
		for i := range 7 {
			c, _, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+7912345678" + string(rune('0'+i))})
			if err != nil {
				t.Fatal(err)
			}
			want[c.SerialNumber] = true
		}
		seen := map[string]bool{}
		var cur Cursor
		for pages := 0; ; pages++ {
			cards, err := s.Cards().Cards(ctx, m.ID, CardFilter{ProgramID: p.ID}, cur, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(cards) == 0 {
				break
			}
			for _, c := range cards {
				if seen[c.SerialNumber] {
					t.Fatalf("card %s listed twice", c.SerialNumber)
				}
				seen[c.SerialNumber] = true
			}
			last := cards[len(cards)-1]
			cur, err = ParseCursor(Cursor{Time: last.CreatedAt, ID: last.SerialNumber}.String())
			if err != nil || pages > 5 {
				t.Fatalf("cursor: %v (pages %d)", err, pages)
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("listed %d cards, want %d", len(seen), len(want))
		}
	})
}
