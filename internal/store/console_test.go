package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

func TestUsersAndLockout(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return now }
		m, _ := newTestProgram(t, s, "Coffee")
		u := User{MerchantID: m.ID, Email: "  Anna@Example.COM ", Role: "owner", PasswordHash: "$argon2id$x"}
		if err := s.Users().Create(ctx, &u, AuditEntry{UserEmail: "cli", Action: "user.create"}); err != nil {
			t.Fatal(err)
		}
		dup := User{MerchantID: m.ID, Email: "anna@example.com", Role: "cashier", PasswordHash: "x"}
		if err := s.Users().Create(ctx, &dup, AuditEntry{UserEmail: "cli", Action: "user.create"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("second user with the same email: %v, want ErrConflict", err)
		}
		got, err := s.Users().ByEmail(ctx, "ANNA@example.com")
		if err != nil || got.ID != u.ID || got.Email != "anna@example.com" || got.Role != "owner" {
			t.Fatalf("ByEmail = %+v, %v", got, err)
		}
		// Three failures with a limit of three lock the account and
		// start the count again; a success clears the lock.
		for range 2 {
			if err := s.Users().LoginFailed(ctx, u.ID, 3, 15*time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		got, _ = s.Users().ByID(ctx, u.ID)
		if got.FailedLogins != 2 || got.LockedUntil != nil {
			t.Fatalf("after 2 failures: %d failed, locked %v", got.FailedLogins, got.LockedUntil)
		}
		_ = s.Users().LoginFailed(ctx, u.ID, 3, 15*time.Minute)
		got, _ = s.Users().ByID(ctx, u.ID)
		if got.FailedLogins != 0 || got.LockedUntil == nil || !got.LockedUntil.Equal(now.Add(15*time.Minute)) {
			t.Fatalf("after 3 failures: %d failed, locked until %v", got.FailedLogins, got.LockedUntil)
		}
		_ = s.Users().LoginSucceeded(ctx, u.ID)
		if got, _ = s.Users().ByID(ctx, u.ID); got.LockedUntil != nil {
			t.Fatalf("lock kept after a good login: %v", got.LockedUntil)
		}
		// The user's creation is in the audit log, once.
		log, err := s.Audit().List(ctx, m.ID, 0, 10)
		if err != nil || len(log) != 1 || log[0].Action != "user.create" || log[0].Subject != "anna@example.com" {
			t.Fatalf("audit log = %+v, %v", log, err)
		}
	})
}

func TestSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return now }
		m, _ := newTestProgram(t, s, "Coffee")
		u := User{MerchantID: m.ID, Email: "a@example.com", Role: "manager", PasswordHash: "h"}
		if err := s.Users().Create(ctx, &u, AuditEntry{Action: "user.create"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sessions().Create(ctx, "tok-1", Session{UserID: u.ID, CSRFToken: "c1"}, time.Hour); err != nil {
			t.Fatal(err)
		}
		sess, su, err := s.Sessions().Get(ctx, "tok-1")
		if err != nil || sess.CSRFToken != "c1" || su.ID != u.ID || su.Role != "manager" || su.MerchantID != m.ID {
			t.Fatalf("Get = %+v %+v %v", sess, su, err)
		}
		if _, _, err := s.Sessions().Get(ctx, "tok-2"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		var stored int
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM console_sessions WHERE token_hash = ?`,
			[]byte("tok-1")).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("the token itself is stored (%d rows, %v)", stored, err)
		}
		now = now.Add(time.Hour)
		if _, _, err := s.Sessions().Get(ctx, "tok-1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired session: %v", err)
		}
		_, _ = s.Sessions().Create(ctx, "tok-3", Session{UserID: u.ID, CSRFToken: "c3"}, time.Hour)
		if err := s.Sessions().Delete(ctx, "tok-3"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Sessions().Get(ctx, "tok-3"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted session: %v", err)
		}
	})
}

func TestAuditRefIsRecordedOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, _ := newTestProgram(t, s, "Coffee")
		other, _ := newTestProgram(t, s, "Other")
		e := AuditEntry{MerchantID: m.ID, UserID: "usr_1", UserEmail: "a@example.com", Action: "ledger.adjust",
			Subject: "1234", Detail: "+10", Ref: "txn_1"}
		for range 2 {
			if err := s.Audit().Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		e.Ref = ""
		_ = s.Audit().Record(ctx, e)
		_ = s.Audit().Record(ctx, e)
		log, _ := s.Audit().List(ctx, m.ID, 0, 10)
		if len(log) != 3 || log[2].Ref != "txn_1" || log[0].Ref != "" {
			t.Fatalf("log = %+v, want the ref'd entry once and two without ref", log)
		}
		if log, _ := s.Audit().List(ctx, other.ID, 0, 10); len(log) != 0 {
			t.Fatalf("another merchant sees %d entries", len(log))
		}
		if page, _ := s.Audit().List(ctx, m.ID, log[1].ID, 10); len(page) != 1 || page[0].ID != log[2].ID {
			t.Fatalf("page below %d = %+v", log[1].ID, page)
		}
	})
}

func TestAPIKeysCreateOnceAndRevoke(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, _ := newTestProgram(t, s, "Coffee")
		other, _ := newTestProgram(t, s, "Other")
		a := AuditEntry{UserID: "usr_1", UserEmail: "o@example.com", Action: "apikey.create", Ref: "form_1"}
		if err := s.APIKeys().Create(ctx, APIKey{ID: "k1", MerchantID: m.ID, SecretHash: []byte("h")}, a); err != nil {
			t.Fatal(err)
		}
		// The same form again stores no second key.
		if err := s.APIKeys().Create(ctx, APIKey{ID: "k2", MerchantID: m.ID, SecretHash: []byte("h")}, a); !errors.Is(err, ErrConflict) {
			t.Fatalf("same form twice: %v, want ErrConflict", err)
		}
		keys, _ := s.APIKeys().List(ctx, m.ID)
		if len(keys) != 1 || keys[0].ID != "k1" || keys[0].RevokedAt != nil {
			t.Fatalf("keys = %+v", keys)
		}
		// Looked up once before the revocation, so the key cache holds it.
		if k, err := s.Merchants().APIKey(ctx, "k1"); err != nil || k.Revoked || k.MerchantID != m.ID {
			t.Fatalf("key before revoking = %+v, %v", k, err)
		}
		rev := AuditEntry{UserID: "usr_1", UserEmail: "o@example.com", Action: "apikey.revoke"}
		if err := s.APIKeys().Revoke(ctx, other.ID, "k1", rev); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another merchant revokes: %v, want ErrNotFound", err)
		}
		for range 2 {
			if err := s.APIKeys().Revoke(ctx, m.ID, "k1", rev); err != nil {
				t.Fatal(err)
			}
		}
		if k, _ := s.Merchants().APIKey(ctx, "k1"); !k.Revoked {
			t.Fatal("key not revoked")
		}
		log, _ := s.Audit().List(ctx, m.ID, 0, 10)
		if len(log) != 2 || log[0].Action != "apikey.revoke" || log[1].Subject != "k1" {
			t.Fatalf("audit = %+v, want one create and one revoke", log)
		}
	})
}

func TestCustomerSearch(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, p := newTestProgram(t, s, "Coffee")
		other, op := newTestProgram(t, s, "Other")
		issue := func(mid, pid, phone, name string) loyalty.Card {
			c, _, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: mid, ProgramID: pid, Phone: phone, Name: name})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		anna := issue(m.ID, p.ID, "+79123456789", "Анна Петрова")
		bob := issue(m.ID, p.ID, "+79990001122", "Bob 100%")
		issue(other.ID, op.ID, "+79123456789", "Анна Другая")
		tests := []struct {
			name string
			q    CustomerQuery
			want []string
		}{
			{"phone", CustomerQuery{Phone: "+79123456789"}, []string{anna.Number}},
			{"last digits", CustomerQuery{PhoneDigits: "1122"}, []string{bob.Number}},
			{"middle digits", CustomerQuery{PhoneDigits: "99900"}, []string{bob.Number}},
			{"number", CustomerQuery{Number: bob.Number}, []string{bob.Number}},
			{"name lower case", CustomerQuery{Name: "анна"}, []string{anna.Number}},
			{"name part", CustomerQuery{Name: "Петр"}, []string{anna.Number}},
			{"percent is literal", CustomerQuery{Name: "0%"}, []string{bob.Number}},
			{"underscore is literal", CustomerQuery{Name: "_"}, nil},
			{"empty", CustomerQuery{}, nil},
		}
		for _, tt := range tests {
			got, err := s.Customers().Search(ctx, m.ID, tt.q, 10)
			if err != nil {
				t.Fatal(err)
			}
			var nums []string
			for _, c := range got {
				if c.MerchantID != m.ID {
					t.Errorf("%s: card of another merchant", tt.name)
				}
				nums = append(nums, c.Number)
			}
			if len(nums) != len(tt.want) || len(nums) > 0 && nums[0] != tt.want[0] {
				t.Errorf("%s: %v, want %v", tt.name, nums, tt.want)
			}
		}
		cards, err := s.Customers().CustomerCards(ctx, m.ID, anna.CustomerID)
		if err != nil || len(cards) != 1 || cards[0].SerialNumber != anna.SerialNumber {
			t.Fatalf("CustomerCards = %v, %v", cards, err)
		}
		if cards, _ := s.Customers().CustomerCards(ctx, other.ID, anna.CustomerID); len(cards) != 0 {
			t.Fatalf("another merchant sees the customer's cards")
		}
	})
}
