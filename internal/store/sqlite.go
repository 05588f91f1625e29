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
type sqliteConnector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c sqliteConnector) Driver() driver.Driver                        { return c.driver }

const sqlitePragmas = "PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 0"

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
// writer). A log still longer than checkpointTruncateFrames after one (a
// writer that never paused long enough for the log to start over) gets a
// truncating checkpoint, which waits for the writer's transaction in hand
// and then empties the log. At rest it does nothing: it waits for a commit.

const (
	checkpointEvery          = 100 * time.Millisecond
	checkpointTruncateFrames = 10_000 // 40 MB of 4 KB pages
)

type checkpointer struct {
	signal chan struct{}
	quit   chan struct{}
	done   chan struct{}
}

func newCheckpointer() *checkpointer {
	return &checkpointer{signal: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

// committed tells the checkpointer that the log grew.
func (c *checkpointer) committed() {
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

// run checkpoints db's log after commits until stop.
func (c *checkpointer) run(db *sql.DB, log *slog.Logger) {
	defer close(c.done)
	for {
		select {
		case <-c.signal:
		case <-c.quit:
			return
		}
		if err := checkpoint(db); err != nil {
			log.Warn("checkpoint failed", "err", err)
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

// checkpoint runs one passive checkpoint, and a truncating one when the
// log is still long after it.
func checkpoint(db *sql.DB) error {
	ctx := context.Background()
	var busy, frames, copied int
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		return err
	}
	if frames < checkpointTruncateFrames {
		return nil
	}
	return db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied)
}
