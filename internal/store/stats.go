package store

import (
	"context"
	"fmt"
	"time"
)

// selectOutboxStats counts the rows still waiting. MIN of a TIMESTAMP
// loses its type in SQLite, hence dbTime.
const selectOutboxStats = `SELECT COUNT(*), MIN(created_at) FROM outbox WHERE done_at IS NULL AND NOT dead`

// OutboxStats returns how many outbox rows are neither done nor dead and
// when the oldest of them was written; oldest is zero when none wait.
func (qs *QueueStore) OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error) {
	var first any
	if err := qs.s.read.QueryRowContext(ctx, selectOutboxStats).Scan(&depth, &first); err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox stats: %w", err)
	}
	if oldest, err = dbTime(first); err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox stats: %w", err)
	}
	return depth, oldest, nil
}

// LatestSchemaVersion is the number of the newest migration this binary
// embeds for the store's dialect: SchemaVersion equals it once every
// migration has run.
func (s *Store) LatestSchemaVersion() (int, error) {
	ms, err := s.dialect.loadMigrations()
	if err != nil {
		return 0, err
	}
	return len(ms), nil
}
