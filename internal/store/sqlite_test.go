package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointerCopiesCommitsIntoTheFile: with the writer's own
// checkpoints off, the checkpointer copies committed postings from the log
// into the database file, so that the file alone holds them; with no
// commits it does nothing.
func TestCheckpointerCopiesCommitsIntoTheFile(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, "sqlite:"+filepath.Join(dir, "main.db"))
	m, p := newTestProgram(t, s, "shop")
	serials := issueCards(t, s, m, p, 20)
	for i := range 300 {
		earn(t, s, m, serials[i%len(serials)], fmt.Sprint("k", i), 1000)
	}
	lines := func() (int, error) {
		// The database file alone, as if the log were lost.
		data, err := os.ReadFile(filepath.Join(dir, "main.db"))
		if err != nil {
			return 0, err
		}
		copyPath := filepath.Join(t.TempDir(), "copy.db")
		if err := os.WriteFile(copyPath, data, 0o600); err != nil {
			return 0, err
		}
		db, err := sql.Open("sqlite3", "file:"+copyPath+"?mode=ro")
		if err != nil {
			return 0, err
		}
		defer db.Close()
		var n int
		err = db.QueryRow(`SELECT COUNT(*) FROM transactions WHERE kind = 'earn'`).Scan(&n)
		return n, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := lines()
		if err == nil && n == 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database file holds %d of 300 earns (%v): the log was not checkpointed", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// At rest: no commit, no checkpoint.
	time.Sleep(2 * checkpointEvery)
	select {
	case <-s.checkpoints.signal:
		t.Fatal("the checkpointer was signalled with no commit")
	default:
	}
	var busy, frames, copied int
	if err := s.read.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		t.Fatal(err)
	}
	if frames != copied {
		t.Fatalf("the log holds %d frames, %d checkpointed", frames, copied)
	}
}
