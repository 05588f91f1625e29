package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRelayRetriesCarriedOver runs migration 0008 over device retries
// written before it, which named the wallet app: those still waiting now
// name the relay channel, so the worker finds their adapter; Apple's,
// Google's, FCM's and finished rows are left as they were.
func TestRelayRetriesCarriedOver(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, _ := newTestProgram(t, s, "shop")
		rows := []struct {
			payload string
			done    bool
			want    string
		}{
			{`{"channel":"walletpasses","device_id":"d1"}`, false, `{"channel":"relay","device_id":"d1"}`},
			{`{"channel":"walletunion","device_id":"d2"}`, false, `{"channel":"relay","device_id":"d2"}`},
			{`{"channel":"walletunion_hms","device_id":"d3"}`, false, `{"channel":"relay","device_id":"d3"}`},
			{`{"channel":"passwallet","device_id":"d4"}`, false, `{"channel":"relay","device_id":"d4"}`},
			{`{"channel":"apple","device_id":"d5"}`, false, `{"channel":"apple","device_id":"d5"}`},
			{`{"channel":"fcm","token":"t"}`, false, `{"channel":"fcm","token":"t"}`},
			{`{"channel":"google"}`, false, `{"channel":"google"}`},
			{`{"channel":"pass2u","device_id":"d6"}`, true, `{"channel":"pass2u","device_id":"d6"}`},
		}
		now := time.Now().UTC()
		for _, r := range rows {
			var done any
			if r.done {
				done = now
			}
			if _, err := s.write.ExecContext(ctx, `INSERT INTO outbox (merchant_id, topic, serial_number, payload, created_at,
				due_at, attempts, last_error, dead, done_at) VALUES (?, ?, 'S', ?, ?, ?, 1, '', FALSE, ?)`,
				m.ID, TopicPushRetry, r.payload, now, now, done); err != nil {
				t.Fatal(err)
			}
		}
		ms, err := s.dialect.loadMigrations()
		if err != nil {
			t.Fatal(err)
		}
		for _, mig := range ms {
			if strings.HasPrefix(mig.name, "0008_") {
				if _, err := s.write.ExecContext(ctx, mig.sql); err != nil {
					t.Fatal(err)
				}
			}
		}
		res, err := s.read.QueryContext(ctx, `SELECT payload FROM outbox ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Close()
		for i := 0; res.Next(); i++ {
			var got string
			res.Scan(&got)
			if got != rows[i].want {
				t.Errorf("row %d: %s became %s, want %s", i, rows[i].payload, got, rows[i].want)
			}
		}
	})
}
