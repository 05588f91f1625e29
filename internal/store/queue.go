package store

import (
	"context"
	"database/sql"
)

// A worker sleeps until its queue gets work. Only a commit that wrote
// work wakes it: a claim, a completion or any other write does not, or
// two workers whose empty claims woke each other would spin forever on
// an idle server. The wake-up is a hint for this process; workers still
// poll for work that falls due later or that another instance queued.

// queue names a kind of durable work that a worker waits for.
type queue int

const (
	outboxQueue   queue = iota // outbox rows: pushes, Google patches, FCM messages
	webhookQueue               // webhook deliveries
	messageQueue               // automation messages
	couponQueue                // coupons issued to a segment
	campaignQueue              // campaign recipients waiting to be texted
	numQueues
)

// queues is the set of queues a transaction wrote work to.
type queues [numQueues]bool

// writeTx is a write transaction that remembers which queues it wrote
// work to, so that its commit wakes exactly their workers.
type writeTx struct {
	*sql.Tx
	queued queues
}

// enqueued records that the transaction wrote work to q.
func (tx *writeTx) enqueued(q queue) { tx.queued[q] = true }

// OutboxQueued receives after a commit that queued outbox rows; the
// delivery worker waits on it between polls.
func (qs *QueueStore) OutboxQueued() <-chan struct{} { return qs.s.queued[outboxQueue] }

// WebhooksQueued receives after a commit that queued webhook deliveries;
// the webhook sender waits on it between polls.
func (ws *WebhookStore) WebhooksQueued() <-chan struct{} { return ws.s.queued[webhookQueue] }

// CampaignsQueued receives after a commit that gave the campaign sender
// recipients to text (a campaign started or resumed, recipients taken
// back from a dead instance); the sender waits on it between ticks.
func (cp *CampaignStore) CampaignsQueued() <-chan struct{} { return cp.s.queued[campaignQueue] }

// queueWork records that tx made work of q claimable without inserting
// rows a notifying trigger sees: its commit wakes this process's workers
// of q and, on PostgreSQL, those of the other instances.
func (s *Store) queueWork(ctx context.Context, tx *writeTx, q queue) error {
	tx.enqueued(q)
	var qs queues
	qs[q] = true
	return s.notifyWork(ctx, tx, qs)
}

// wake tells the workers of the given queues, without blocking: a
// wake-up already pending covers this one too.
func (s *Store) wake(qs queues) {
	for q, queued := range qs {
		if !queued {
			continue
		}
		select {
		case s.queued[q] <- struct{}{}:
		default:
		}
	}
}
