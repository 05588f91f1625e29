package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// User is a person at a merchant who signs in to the console.
type User struct {
	ID, MerchantID string
	// Email is stored lower case and unique across merchants: it alone
	// names the account at sign-in.
	Email string
	Role  string
	// PasswordHash is an argon2id PHC string (internal/password).
	PasswordHash string
	// FailedLogins counts wrong passwords since the last good one;
	// LockedUntil, while in the future, refuses every sign-in.
	FailedLogins int
	LockedUntil  *time.Time
	// DisabledAt, when set, is when the user was disabled: no sign-in,
	// no session.
	DisabledAt *time.Time
	CreatedAt  time.Time
}

// UserStore keeps the console's users. Reach it with Store.Users.
type UserStore struct{ s *Store }

// Users returns the console users' store.
func (s *Store) Users() *UserStore { return &UserStore{s} }

const (
	userColumns       = `id, merchant_id, email, role, password_hash, failed_logins, locked_until, disabled_at, created_at`
	insertUser        = `INSERT INTO console_users (` + userColumns + `) VALUES (?, ?, ?, ?, ?, 0, NULL, NULL, ?)`
	selectUserByEmail = `SELECT ` + userColumns + ` FROM console_users WHERE email = ?`
	selectUserByID    = `SELECT ` + userColumns + ` FROM console_users WHERE id = ?`
	selectUsers       = `SELECT ` + userColumns + ` FROM console_users WHERE merchant_id = ? ORDER BY created_at, id`
	countUsers        = `SELECT COUNT(*) FROM console_users WHERE merchant_id = ?`
	// failLogin counts a wrong password and, at the limit, locks the
	// account and starts the count again.
	failLogin = `UPDATE console_users SET
		locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END,
		failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END
		WHERE id = ?`
	resetLogins      = `UPDATE console_users SET failed_logins = 0, locked_until = NULL WHERE id = ?`
	disableUser      = `UPDATE console_users SET disabled_at = ? WHERE merchant_id = ? AND id = ? AND disabled_at IS NULL`
	endSessions      = `DELETE FROM console_sessions WHERE user_id = ?`
	setPassword      = `UPDATE console_users SET password_hash = ? WHERE id = ? AND password_hash = ? AND disabled_at IS NULL`
	endOtherSessions = `DELETE FROM console_sessions WHERE user_id = ? AND token_hash <> ?`
)

// NormalizeEmail is how emails are compared and stored: trimmed, lower case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Create stores u with a new id and its creation time, and writes audit
// in the same transaction. An email already taken is ErrConflict.
func (us *UserStore) Create(ctx context.Context, u *User, audit AuditEntry) error {
	s := us.s
	u.ID, u.Email, u.CreatedAt = newID("usr"), NormalizeEmail(u.Email), s.nowUTC()
	return s.inTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, insertUser, u.ID, u.MerchantID, u.Email, u.Role, u.PasswordHash, u.CreatedAt)
		if s.dialect.isUniqueViolation(err) {
			return fmt.Errorf("user %s: %w", u.Email, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		audit.MerchantID, audit.Subject = u.MerchantID, u.Email
		_, err = s.Audit().insert(ctx, tx, audit)
		return err
	})
}

// ByEmail returns the user who signs in with email, or ErrNotFound.
func (us *UserStore) ByEmail(ctx context.Context, email string) (User, error) {
	return scanUser(us.s.read.QueryRowContext(ctx, selectUserByEmail, NormalizeEmail(email)))
}

// ByID returns the user with the given id, or ErrNotFound.
func (us *UserStore) ByID(ctx context.Context, id string) (User, error) {
	return scanUser(us.s.read.QueryRowContext(ctx, selectUserByID, id))
}

// List returns the merchant's users, oldest first.
func (us *UserStore) List(ctx context.Context, merchantID string) ([]User, error) {
	rows, err := us.s.read.QueryContext(ctx, selectUsers, merchantID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Count returns how many users the merchant has.
func (us *UserStore) Count(ctx context.Context, merchantID string) (int, error) {
	var n int
	err := us.s.read.QueryRowContext(ctx, countUsers, merchantID).Scan(&n)
	return n, err
}

// LoginFailed counts a wrong password for the user. The limit-th failure
// in a row locks the account until lockFor from now.
func (us *UserStore) LoginFailed(ctx context.Context, id string, limit int, lockFor time.Duration) error {
	until := us.s.nowUTC().Add(lockFor)
	if _, err := us.s.write.ExecContext(ctx, failLogin, limit, until, limit, id); err != nil {
		return fmt.Errorf("count failed login: %w", err)
	}
	return nil
}

// LoginSucceeded clears the user's count of wrong passwords.
func (us *UserStore) LoginSucceeded(ctx context.Context, id string) error {
	if _, err := us.s.write.ExecContext(ctx, resetLogins, id); err != nil {
		return fmt.Errorf("reset failed logins: %w", err)
	}
	return nil
}

// Disable disables the merchant's user id and ends their sessions, with
// audit in the same transaction. A user of another merchant is
// ErrNotFound; one already disabled is ErrConflict.
func (us *UserStore) Disable(ctx context.Context, merchantID, id string, audit AuditEntry) error {
	s := us.s
	return s.inTx(ctx, func(tx *writeTx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, selectUserByID, id))
		if err != nil {
			return err
		}
		if u.MerchantID != merchantID {
			return fmt.Errorf("user %s: %w", id, ErrNotFound)
		}
		res, err := tx.ExecContext(ctx, disableUser, s.nowUTC(), merchantID, id)
		if err != nil {
			return fmt.Errorf("disable user: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("user %s already disabled: %w", id, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, endSessions, id); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		audit.MerchantID, audit.Subject = merchantID, u.Email
		_, err = s.Audit().insert(ctx, tx, audit)
		return err
	})
}

// SetPassword replaces the user's password hash, if it is still old (a
// change made meanwhile is ErrConflict), ends the user's other sessions
// than the one of keepToken, and writes audit, in one transaction.
func (us *UserStore) SetPassword(ctx context.Context, id, old, hash, keepToken string, audit AuditEntry) error {
	s := us.s
	return s.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, setPassword, hash, id, old)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("password of %s changed meanwhile: %w", id, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, endOtherSessions, id, tokenHash(keepToken)); err != nil {
			return fmt.Errorf("end other sessions: %w", err)
		}
		_, err = s.Audit().insert(ctx, tx, audit)
		return err
	})
}

// scanUser reads userColumns, after the destinations in first (the
// columns a query selects before them).
func scanUser(row scanner, first ...any) (User, error) {
	var u User
	var locked, disabled sql.NullTime
	err := row.Scan(append(first, &u.ID, &u.MerchantID, &u.Email, &u.Role, &u.PasswordHash, &u.FailedLogins,
		&locked, &disabled, &u.CreatedAt)...)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("load user: %w", err)
	}
	if locked.Valid {
		t := locked.Time.UTC()
		u.LockedUntil = &t
	}
	if disabled.Valid {
		t := disabled.Time.UTC()
		u.DisabledAt = &t
	}
	return u, nil
}
