package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"
)

// Session is a signed-in console user. The cookie's token is never
// stored: the row is found by its SHA-256.
type Session struct {
	UserID    string
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionStore keeps console sessions. Reach it with Store.Sessions.
type SessionStore struct{ s *Store }

// Sessions returns the console sessions' store.
func (s *Store) Sessions() *SessionStore { return &SessionStore{s} }

const (
	insertSession = `INSERT INTO console_sessions (token_hash, user_id, csrf_token, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`
	selectSession = `SELECT s.user_id, s.csrf_token, s.created_at, s.expires_at, ` + userColumnsU + `
		FROM console_sessions s JOIN console_users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL`
	userColumnsU          = `u.id, u.merchant_id, u.email, u.role, u.password_hash, u.failed_logins, u.locked_until, u.disabled_at, u.created_at`
	deleteSession         = `DELETE FROM console_sessions WHERE token_hash = ?`
	deleteExpiredSessions = `DELETE FROM console_sessions WHERE expires_at <= ?`
)

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Create stores a session for token, valid for ttl, and drops the
// sessions that have expired (there are few: one per sign-in).
func (ss *SessionStore) Create(ctx context.Context, token string, sess Session, ttl time.Duration) (Session, error) {
	s := ss.s
	now := s.nowUTC()
	sess.CreatedAt, sess.ExpiresAt = now, now.Add(ttl)
	err := s.inTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, deleteExpiredSessions, now); err != nil {
			return fmt.Errorf("drop expired sessions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, insertSession, tokenHash(token), sess.UserID, sess.CSRFToken,
			sess.CreatedAt, sess.ExpiresAt); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		return nil
	})
	return sess, err
}

// Get returns the live session of token and its user, or ErrNotFound
// for an unknown or expired token.
func (ss *SessionStore) Get(ctx context.Context, token string) (Session, User, error) {
	var sess Session
	u, err := scanUser(ss.s.read.QueryRowContext(ctx, selectSession, tokenHash(token), ss.s.nowUTC()),
		&sess.UserID, &sess.CSRFToken, &sess.CreatedAt, &sess.ExpiresAt)
	return sess, u, err
}

// Delete ends the session of token; an unknown token is no error.
func (ss *SessionStore) Delete(ctx context.Context, token string) error {
	if _, err := ss.s.write.ExecContext(ctx, deleteSession, tokenHash(token)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
