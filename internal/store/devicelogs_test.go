package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// TestDeviceLogsArePrunedByAgeAndCount stores device logs under a clock:
// messages past the retention go on a later insert (no timer runs), and
// however many arrive, the table holds at most MaxRows plus the slack
// between prunes, keeping the newest.
func TestDeviceLogsArePrunedByAgeAndCount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		var now atomic.Int64
		now.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
		s := openTestStore(t, url, func(o *Options) {
			o.Now = func() time.Time { return time.Unix(0, now.Load()) }
			o.DeviceLogs = DeviceLogLimits{Retention: 24 * time.Hour, MaxRows: 200}
		})
		ctx := context.Background()
		count := func() int {
			t.Helper()
			var n int
			if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM device_logs`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		add := func(msgs ...string) {
			t.Helper()
			if err := s.Devices().AddDeviceLogs(ctx, "Wallet", msgs); err != nil {
				t.Fatal(err)
			}
		}

		add("old 1", "old 2", "old 3")
		now.Add(int64(2 * time.Hour))
		add("recent")
		if n := count(); n != 4 {
			t.Fatalf("%d rows within the retention, want 4", n)
		}
		now.Add(int64(23 * time.Hour)) // the first three are 25 h old
		add("new")
		if n := count(); n != 2 {
			t.Fatalf("%d rows after the retention passed, want 2 (recent, new)", n)
		}

		for i := range 50 {
			batch := make([]string, 100)
			for j := range batch {
				batch[j] = fmt.Sprintf("flood %d/%d", i, j)
			}
			add(batch...)
			if n := count(); n > 200+20+100 {
				t.Fatalf("%d rows after %d messages, want at most %d", n, (i+1)*100, 200+20+100)
			}
		}
		if err := s.Devices().PruneDeviceLogs(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 200 {
			t.Fatalf("%d rows after a prune, want exactly 200", n)
		}
		var oldest string
		if err := s.read.QueryRowContext(ctx, `SELECT message FROM device_logs ORDER BY id LIMIT 1`).Scan(&oldest); err != nil {
			t.Fatal(err)
		}
		if oldest != "flood 48/0" {
			t.Fatalf("oldest kept row = %q, want the newest 200 kept", oldest)
		}
	})
}
