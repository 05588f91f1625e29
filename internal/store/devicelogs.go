package store

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults of the device log limits (Options.DeviceLogs).
const (
	DefaultDeviceLogRetention = 7 * 24 * time.Hour
	DefaultDeviceLogMaxRows   = 10000
)

// DeviceLogLimits bound what the unauthenticated log endpoint can store.
type DeviceLogLimits struct {
	// Retention is how long a message is kept; 0 means
	// DefaultDeviceLogRetention.
	Retention time.Duration
	// MaxRows is how many messages are kept, the newest; 0 means
	// DefaultDeviceLogMaxRows. Between prunes the table may run over by
	// MaxRows/10 plus one request's messages (per instance).
	MaxRows int
}

// pruneInterval is the longest a store goes between prunes while logs
// keep arriving, so rows past their retention go even when few arrive.
const pruneInterval = time.Hour

// deviceLogPruner decides when AddDeviceLogs prunes: after every MaxRows/10
// messages stored, or an hour after the last prune. There is no timer, so
// an idle server does no work.
type deviceLogPruner struct {
	limits   DeviceLogLimits
	every    int64
	inserted atomic.Int64 // messages stored since the last prune
	prunedAt atomic.Int64 // unix nanoseconds of the last prune; 0 = never
	running  atomic.Bool
}

func newDeviceLogPruner(l DeviceLogLimits) *deviceLogPruner {
	if l.Retention <= 0 {
		l.Retention = DefaultDeviceLogRetention
	}
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultDeviceLogMaxRows
	}
	return &deviceLogPruner{limits: l, every: int64(max(l.MaxRows/10, 1))}
}

// due records n new messages and reports whether this caller should prune
// now; only one caller at a time is told to.
func (p *deviceLogPruner) due(n int, now time.Time) bool {
	inserted := p.inserted.Add(int64(n))
	last := p.prunedAt.Load()
	if inserted < p.every && last != 0 && now.Sub(time.Unix(0, last)) < pruneInterval {
		return false
	}
	return p.running.CompareAndSwap(false, true)
}

func (p *deviceLogPruner) done(now time.Time) {
	p.inserted.Store(0)
	p.prunedAt.Store(now.UnixNano())
	p.running.Store(false)
}

const (
	insertDeviceLog = `INSERT INTO device_logs (message, user_agent, created_at) VALUES (?, ?, ?)`
	pruneOldLogs    = `DELETE FROM device_logs WHERE created_at < ?`
	// pruneExtraLogs keeps the newest ? rows: it deletes from the id of
	// the first row past them down (no row there: nothing to delete).
	pruneExtraLogs = `DELETE FROM device_logs
		WHERE id <= (SELECT id FROM device_logs ORDER BY id DESC LIMIT 1 OFFSET ?)`
)

// maxLogLength caps one stored device log message.
const maxLogLength = 2000

// AddDeviceLogs stores what a device reported to the log endpoint, and
// now and then prunes the stored messages to the limits of
// Options.DeviceLogs.
func (ds *DeviceStore) AddDeviceLogs(ctx context.Context, userAgent string, messages []string) error {
	now := ds.s.nowUTC()
	err := ds.s.inTx(ctx, func(tx *writeTx) error {
		for _, m := range messages {
			if len(m) > maxLogLength {
				m = strings.ToValidUTF8(m[:maxLogLength], "") + "…"
			}
			if _, err := tx.ExecContext(ctx, insertDeviceLog, m, userAgent, now); err != nil {
				return fmt.Errorf("store device log: %w", err)
			}
		}
		return nil
	})
	if err != nil || !ds.s.logPruner.due(len(messages), now) {
		return err
	}
	defer ds.s.logPruner.done(now)
	return ds.PruneDeviceLogs(ctx)
}

// PruneDeviceLogs deletes the device log messages past their retention,
// then all but the newest MaxRows.
func (ds *DeviceStore) PruneDeviceLogs(ctx context.Context) error {
	l := ds.s.logPruner.limits
	if _, err := ds.s.write.ExecContext(ctx, pruneOldLogs, ds.s.nowUTC().Add(-l.Retention)); err != nil {
		return fmt.Errorf("prune old device logs: %w", err)
	}
	if _, err := ds.s.write.ExecContext(ctx, pruneExtraLogs, l.MaxRows); err != nil {
		return fmt.Errorf("prune device logs to %d: %w", l.MaxRows, err)
	}
	return nil
}
