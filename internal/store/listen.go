package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Within one process a commit that queued work wakes the workers of its
// queues directly (queue.go). Work another instance queued on the same
// PostgreSQL database reaches them through LISTEN/NOTIFY: a transaction
// that inserts durable work notifies channel workChannel with
// "<queue>:<schema>:<instance>" (a trigger, migration 0015), PostgreSQL
// delivers the notification only when that transaction commits, and every
// instance holds one connection that listens and wakes its own workers.
// An instance skips its own notifications (its commits woke it already)
// and those of other schemas (channels are per database, not per schema).

// workChannel is the channel work notifications go to.
const workChannel = "loyalpass_work"

// queueNames are the names notifications give the queues.
var queueNames = map[string]queue{"outbox": outboxQueue, "webhooks": webhookQueue, "messages": messageQueue,
	"coupons": couponQueue, "campaigns": campaignQueue}

// Listen backoff: the first reconnect waits listenRetryMin, each failure
// doubles it up to listenRetryMax.
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 30 * time.Second
)

// Listen wakes this instance's workers when another instance commits work,
// until ctx ends. It keeps one connection to PostgreSQL, reconnecting with
// back-off when it breaks; after each (re)connection it wakes every worker
// once, since notifications sent while it was away are lost. It returns
// at once on SQLite, where one process holds the database.
func (s *Store) Listen(ctx context.Context, log *slog.Logger) {
	if s.listenURL == "" {
		return
	}
	log = log.With("component", "listen")
	wait := listenRetryMin
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, func() { wait = listenRetryMin })
		if ctx.Err() != nil {
			return
		}
		log.Warn("work notifications interrupted; reconnecting", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, listenRetryMax)
	}
}

// listenOnce connects, listens and wakes workers until the connection
// fails or ctx ends; connected is called once LISTEN is in place.
func (s *Store) listenOnce(ctx context.Context, connected func()) error {
	cfg, err := pgx.ParseConfig(s.listenURL)
	if err != nil {
		return fmt.Errorf("database URL: %w", err)
	}
	cfg.RuntimeParams["application_name"] = s.instance + " listen"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+workChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	connected()
	// Work may have been queued, and keys revoked, while no connection
	// listened.
	s.keys.clear()
	var all queues
	for q := range all {
		all[q] = true
	}
	s.wake(all)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if qs, ok := s.parseNotification(schema, n.Payload); ok {
			s.wake(qs)
		}
	}
}

// parseNotification reads "<queue>:<schema>:<instance>": the queue to
// wake, unless this instance sent it or it concerns another schema. A
// revocation's notification ("apikeys:…") empties the key cache instead.
func (s *Store) parseNotification(schema, payload string) (queues, bool) {
	var qs queues
	name, rest, _ := strings.Cut(payload, ":")
	in, from, _ := strings.Cut(rest, ":")
	if in != schema || from == s.instance {
		return qs, false
	}
	if name == keysChanged {
		s.keys.clear()
		return qs, false
	}
	q, known := queueNames[name]
	if !known {
		return qs, false
	}
	qs[q] = true
	return qs, true
}

// notifyWork sends, within tx, the notifications for the queues of qs,
// for work a transaction made claimable without inserting it (the
// triggers cover inserts).
func (s *Store) notifyWork(ctx context.Context, tx *writeTx, qs queues) error {
	if s.dialect.notifyWork == "" {
		return nil
	}
	for name, q := range queueNames {
		if qs[q] {
			if _, err := tx.ExecContext(ctx, s.dialect.notifyWork, workChannel, name, s.instance); err != nil {
				return fmt.Errorf("notify %s: %w", name, err)
			}
		}
	}
	return nil
}
