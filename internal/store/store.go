// Package store keeps loyalpass's state in a relational database: SQLite by
// default, or PostgreSQL for several instances on one database. The SQL is
// written once; every dialect difference is in dialect.go.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Errors callers can test for with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Store is the database behind loyalpass. It is safe for concurrent use.
type Store struct {
	// SQLite allows one writer: write is a pool of one connection and read
	// a separate pool. In PostgreSQL both are the same pool.
	write   *sql.DB
	read    *sql.DB
	dialect dialect
	now     func() time.Time
	// hashKey keys the hashes of join phone numbers and codes (joins.go).
	hashKey []byte
	// tagBase lifts PostgreSQL's update tags above the counter's (changefeed.go).
	tagBase int64
	// instance is the id this process's claims carry (instances.go).
	instance string
	// listenURL is the PostgreSQL database whose work notifications
	// Listen waits for; "" for SQLite (listen.go).
	listenURL string
	// logPruner bounds the device logs (devicelogs.go).
	logPruner *deviceLogPruner
	// keys caches the API keys requests present (keycache.go).
	keys keyCache
	// checkpoints copies SQLite's log into the database file (sqlite.go);
	// nil on PostgreSQL.
	checkpoints *checkpointer

	// queued holds one wake-up per queue of durable work (queue.go).
	queued [numQueues]chan struct{}

	// The group-commit writer (groupcommit.go), when the dialect uses it.
	posts      chan *postRequest
	quit       chan struct{}
	posterDone chan struct{}
}

// Options configures Open.
type Options struct {
	// URL is "sqlite:PATH", a bare file path, or a PostgreSQL URL
	// ("postgres://user@host:5432/db?sslmode=disable").
	URL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// DeviceLogs bounds the messages the wallet log endpoint stores.
	DeviceLogs DeviceLogLimits
	// HashKey keys the hashes the join page keeps of phone numbers and
	// codes (HMAC-SHA256), so a copy of the database alone cannot give
	// them back by trying every number. Every instance on one database
	// needs the same key. Nil hashes with SHA-256 alone (tests).
	HashKey []byte
	// Log takes what the store's own goroutines have to say (SQLite's
	// checkpointer); nil discards it.
	Log *slog.Logger
}

// Open connects to the database named by opts.URL and brings its schema up
// to date. It refuses a database whose schema is newer than this binary.
func Open(ctx context.Context, opts Options) (*Store, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{now: now, hashKey: opts.HashKey, logPruner: newDeviceLogPruner(opts.DeviceLogs), instance: newID("ins")}
	for q := range s.queued {
		s.queued[q] = make(chan struct{}, 1)
	}
	var err error
	if IsPostgresURL(opts.URL) {
		s.dialect = postgresDialect
		if s.write, err = openPostgres(opts.URL, s.instance); err != nil {
			return nil, err
		}
		s.listenURL = opts.URL
		s.read = s.write
	} else {
		s.dialect = sqliteDialect
		s.checkpoints = newCheckpointer()
		if s.write, s.read, err = openSQLite(opts.URL, s.checkpoints); err != nil {
			return nil, err
		}
		log := opts.Log
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		s.checkpoints.write, s.checkpoints.log = s.write, log.With("component", "checkpoint")
		go s.checkpoints.run(s.read)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.loadTagBase(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.dialect.groupCommit {
		s.startPoster()
	}
	return s, nil
}

// IsPostgresURL reports whether url names a PostgreSQL database.
func IsPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Close releases the database connections.
func (s *Store) Close() error {
	s.stopPoster()
	if s.checkpoints != nil {
		s.checkpoints.stop()
	}
	return errors.Join(s.write.Close(), s.read.Close())
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.read.PingContext(ctx)
}

// inTx runs fn in a write transaction and commits if fn returns nil; a
// commit that queued work wakes the workers of its queues.
func (s *Store) inTx(ctx context.Context, fn func(tx *writeTx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer sqlTx.Rollback() //nolint:errcheck // a no-op after Commit
	tx := &writeTx{Tx: sqlTx}
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.wake(tx.queued)
	s.checkpoints.catchUp(ctx)
	return nil
}

// inTxRetry is inTx for work that looks a row up and inserts it if it is
// missing. Where writers run in parallel (PostgreSQL) a concurrent
// transaction may insert the same row first; the loser fails on the
// unique constraint and runs again, and then finds the row.
func (s *Store) inTxRetry(ctx context.Context, fn func(tx *writeTx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.inTx(ctx, fn)
		if err == nil || attempt == 2 || !s.dialect.isUniqueViolation(err) {
			return err
		}
	}
}

// lockRows runs one of the dialect's locking statements (a no-op where
// the dialect needs none).
func lockRows(ctx context.Context, tx *writeTx, query string, args ...any) error {
	if query == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return nil
}

// newID returns a random identifier with a readable prefix, e.g. "prg_…".
func newID(prefix string) string {
	return prefix + "_" + strings.ToLower(rand.Text())
}

// sortableIDs is base32 in an alphabet in ASCII order (the characters of
// newID's, in lower case), so that the text sorts as the number does.
const sortableIDs = "234567abcdefghijklmnopqrstuvwxyz"

// newSortableID is newID for rows written all the time, like ledger
// lines: the time in milliseconds (10 characters, 50 bits), then 80
// random bits (16 characters). A new row's key lands at the right end of
// its index, where the rows of one commit share pages, instead of on a
// random page of its own that the commit must write out.
func newSortableID(prefix string, now time.Time) string {
	var id [26]byte
	ms := uint64(now.UnixMilli())
	for i := 9; i >= 0; i-- {
		id[i] = sortableIDs[ms&31]
		ms >>= 5
	}
	var random [10]byte
	rand.Read(random[:])
	base32.NewEncoding(sortableIDs).Encode(id[10:], random[:])
	return prefix + "_" + string(id[:])
}

func (s *Store) nowUTC() time.Time { return s.now().UTC() }

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "…" + u[i:]
		}
	}
	return u
}
