package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// TestPipelinedCommitSkippedAfterAFailedCheck: the writes of a pipelined
// posting travel with their COMMIT, so a write that changes other than
// its rows must abort the transaction itself. Here the outbox row goes in,
// the card update finds no card, and nothing is committed.
func TestPipelinedCommitSkippedAfterAFailedCheck(t *testing.T) {
	s := openTestStore(t, storetest.PostgresURL(t))
	ctx := context.Background()
	m, _ := newTestProgram(t, s, "shop")
	conn, err := s.write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c := dc.(*rebindConn).Conn.Conn()
		if _, err := c.Exec(ctx, "BEGIN"); err != nil {
			return err
		}
		defer c.Exec(ctx, "ROLLBACK") //nolint:errcheck // what the posting does after a failure
		writes := []write{outboxWrite(m.ID, "no-such-card", 2, time.Now()),
			{what: "update card", query: `UPDATE cards SET version = 2 WHERE serial_number = ?`, args: []any{"no-such-card"}, rows: 1}}
		_, err := commitWrites(ctx, c, writes)
		if err == nil || !strings.Contains(err.Error(), "update card: not 1 rows changed") {
			t.Errorf("commitWrites = %v, want the card update's check to fail", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil || n != 0 {
		t.Errorf("outbox rows after the failed transaction = %d, %v; want 0", n, err)
	}
}
