package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// sqliteConnector opens connections to one SQLite file with the pragmas
// the DSN cannot set, run on every new connection:
//   - temp_store=MEMORY keeps SQLite's temporary files in memory, among them
//     the statement journal that every savepoint of a group commit fills with
//     the pages its posting changes: on a file, that journal cost two
//     pwrite(2) calls per page, more than the commit itself.
//   - mmap_size lets reads of the database file skip pread(2).
//   - wal_autocheckpoint=0: the checkpointer does the checkpoints, on a
//     connection of its own, instead of the writer in its commits.
//   - journal_size_limit: a log that starts over is cut back to 64 MB.
type sqliteConnector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c sqliteConnector) Driver() driver.Driver                        { return c.driver }

const sqlitePragmas = "PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 0; " +
	"PRAGMA journal_size_limit = 67108864"

// openSQLite opens the writer and reader pools of a SQLite file; every
// commit of the writer signals ck.
func openSQLite(url string, ck *checkpointer) (write, read *sql.DB, err error) {
	path, ok := strings.CutPrefix(url, "sqlite:")
	if !ok && strings.Contains(url, "://") {
		return nil, nil, fmt.Errorf("unsupported database URL %q (want sqlite:PATH or postgres://…)", redactURL(url))
	}
	if path == "" {
		return nil, nil, errors.New("database path is empty")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, nil, fmt.Errorf("create database directory: %w", err)
	}
	// busy_timeout first so that every later pragma waits for a lock instead
	// of failing; _txlock=immediate takes the write lock at BEGIN, which
	// avoids deadlocks between readers that upgrade to writers.
	// secure_delete zeroes what a delete or an update frees, so an erased
	// customer's data does not linger in free pages of the file.
	dsn := "file:" + path + "?_busy_timeout=10000&_journal_mode=WAL&_synchronous=NORMAL&_foreign_keys=on&_txlock=immediate&_stmt_cache_size=64" +
		"&_secure_delete=on"
	w := sql.OpenDB(sqliteConnector{dsn: dsn, driver: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		c.RegisterCommitHook(func() int { ck.committed(); return 0 })
		_, err := c.Exec(sqlitePragmas, nil)
		return err
	}}})
	w.SetMaxOpenConns(1)
	r := sql.OpenDB(sqliteConnector{dsn: dsn, driver: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(sqlitePragmas, nil)
		return err
	}}})
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return w, r, nil
}

// SQLite appends commits to its write-ahead log and copies them into the
// database file in checkpoints. By default the writer checkpoints in the
// commit that takes the log past 1,000 pages: a third of a commit's cost on
// average, fsync(2) included, on the one goroutine every posting waits
// for. The checkpointer does it instead, beside the writer: after a commit,
// at most every checkpointEvery, a passive checkpoint (it never blocks the
// writer). The log starts over only when a write begins with all of it
// copied, which a writer that never pauses does not allow: the commits
// made while a checkpoint copies are always left. So when the log is longer
// than checkpointLongFrames after a checkpoint, the writer copies that rest
// itself after its next commit (catchUp), a few pages, with no other
// writer to wait for, and the log starts over. (A truncating checkpoint
// from the checkpointer's connection did the same but made the writer
// sleep in SQLite's busy handler, 1, 2, 5, 10 ms at a time: p99 64 ms
// instead of 15.) At rest it does nothing: it waits for a commit.

const (
	checkpointEvery      = 100 * time.Millisecond
	checkpointLongFrames = 100_000 // 400 MB of 4 KB pages
)

type checkpointer struct {
	signal chan struct{}
	quit   chan struct{}
	done   chan struct{}
	// longAt is the log's length in pages at which the writer catches up;
	// long says it should.
	longAt int
	long   atomic.Bool
	// write is the writer's pool, for catchUp; log takes the failures.
	write *sql.DB
	log   *slog.Logger
}

func newCheckpointer() *checkpointer {
	return &checkpointer{signal: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
		longAt: checkpointLongFrames, log: slog.New(slog.DiscardHandler)}
}

// committed tells the checkpointer that the log grew.
func (c *checkpointer) committed() {
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

// run checkpoints db's log after commits until stop, on a connection of
// db, the reader pool; c.write and c.log must be set before.
func (c *checkpointer) run(db *sql.DB) {
	defer close(c.done)
	for {
		select {
		case <-c.signal:
		case <-c.quit:
			return
		}
		if err := c.checkpoint(db); err != nil {
			c.log.Warn("checkpoint failed", "err", err)
		}
		select {
		case <-time.After(checkpointEvery):
		case <-c.quit:
			return
		}
	}
}

// stop ends run; SQLite checkpoints what is left when the last connection
// closes.
func (c *checkpointer) stop() {
	close(c.quit)
	<-c.done
}

// checkpoint runs one passive checkpoint and notes whether the log is
// long.
func (c *checkpointer) checkpoint(db *sql.DB) error {
	var busy, frames, copied int
	if err := db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		return err
	}
	c.long.Store(frames >= c.longAt)
	return nil
}

// catchUp copies, on the writer's connection between its transactions,
// what the last checkpoint left of a long log, so that the next write
// starts the log over. It does nothing when the log is not long (or on
// PostgreSQL, with no checkpointer).
func (c *checkpointer) catchUp(ctx context.Context) {
	if c == nil || !c.long.CompareAndSwap(true, false) {
		return
	}
	var busy, frames, copied int
	err := c.write.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	if err != nil { // the commit stands; the next checkpoint tries again
		c.log.Warn("checkpoint on the writer failed", "err", err)
	}
}
