package store

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// TestAuditCommitsWithItsChange: an entry carried by WithAudit is written
// in the change's own transaction: a change that fails leaves no entry
// (a ledger refusal inside the group-committed batch, a refused program
// edit), one that commits leaves exactly one, filled in with what only
// the store knows; a Ref seen before refuses the change itself
// (ErrFormUsed), even when two arrive at once, so no row exists without
// its entry.
func TestAuditCommitsWithItsChange(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, p := newTestProgram(t, s, "Coffee")
		card, _, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79123456789"})
		if err != nil {
			t.Fatal(err)
		}
		entries := func() []AuditEntry {
			t.Helper()
			log, err := s.Audit().List(ctx, m.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			return log
		}
		as := func(action, ref string) context.Context {
			return WithAudit(ctx, AuditEntry{MerchantID: m.ID, UserID: "usr_1", UserEmail: "anna@example.com",
				Action: action, Ref: ref})
		}
		post := func(ctx context.Context, kind string, points, amount int64, key string) error {
			_, _, err := s.Cards().Post(ctx, loyalty.Posting{MerchantID: m.ID, Serial: card.SerialNumber, Kind: kind,
				Points: points, PurchaseAmount: amount, IdempotencyKey: key, RequestHash: []byte(key)}, created)
			return err
		}

		// Failing changes: no entry.
		if err := post(as("ledger.redeem", "form:r1"), loyalty.Redeem, 500, 0, "r1"); !errors.Is(err, loyalty.ErrInsufficientPoints) {
			t.Fatalf("redeem beyond the balance: %v", err)
		}
		refused := errors.New("refused")
		if _, err := s.Programs().UpdateProgram(as("program.update", ""), m.ID, p.ID,
			func(*loyalty.Program) error { return refused }); !errors.Is(err, refused) {
			t.Fatalf("refused edit: %v", err)
		}
		if log := entries(); len(log) != 0 {
			t.Fatalf("failed changes left entries: %+v", log)
		}

		// A committed posting: one entry, with the card and the change;
		// its replay records nothing more.
		for range 2 {
			if err := post(as("ledger.earn", "form:e1"), loyalty.Earn, 0, 100000, "e1"); err != nil {
				t.Fatal(err)
			}
		}
		log := entries()
		if len(log) != 1 || log[0].Action != "ledger.earn" || log[0].Subject != card.Number || log[0].Detail != "+50" ||
			log[0].UserEmail != "anna@example.com" || log[0].Ref != "form:e1" {
			t.Fatalf("entries after an earn and its replay: %+v", log)
		}

		// One form sent twice at once: one program, one entry; the other
		// is refused whole.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() {
				q := loyalty.Program{MerchantID: m.ID, Name: "Вторая", BarcodeFormat: "qr", Locale: "ru"}
				errs[i] = s.Programs().CreateProgram(as("program.create", "form:p1"), &q)
			})
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), ErrFormUsed) ||
			!errors.Is(errors.Join(errs...), ErrConflict) {
			t.Fatalf("a form sent twice: %v", errs)
		}
		ps, err := s.Programs().Programs(ctx, m.ID, Cursor{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		var made []string
		for _, q := range ps {
			if q.Name == "Вторая" {
				made = append(made, q.ID)
			}
		}
		e, err := s.Audit().ByRef(ctx, m.ID, "form:p1")
		if len(made) != 1 || err != nil || e.Subject != made[0] || e.Detail != "Вторая" || e.Action != "program.create" {
			t.Fatalf("programs %v, entry %+v, %v", made, e, err)
		}
		if _, err := s.Audit().ByRef(ctx, m.ID, "form:none"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an unknown ref: %v", err)
		}
		if n := len(entries()); n != 2 {
			t.Fatalf("%d entries, want 2", n)
		}
	})
}
