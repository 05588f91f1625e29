package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Several instances share one database. Each is a row in instances with a
// heartbeat lease it renews while it runs, and every claim on a durable
// queue carries the id of the instance that made it. A claim is another
// instance's to recover only once that instance's lease has run out: a
// restarting instance (a new id) recovers what its previous life held
// once that life's lease expires, and never touches what a live instance
// is sending. A claim made by no instance (before the instances table, or
// by a store that never joined, as in tests) keeps the per-row lease of
// its table.

// InstanceStore persists the running instances and their leases, and
// recovers the claims of instances that died.
type InstanceStore struct{ s *Store }

// Instances returns the instance aggregate.
func (s *Store) Instances() *InstanceStore { return &InstanceStore{s} }

// ErrClaimLost is returned for work whose claim this instance no longer
// holds: its lease ran out and another instance recovered the work.
var ErrClaimLost = errors.New("claim lost: recovered by another instance")

// liveClaim is true when the claim of the row of table named by the
// column ref is held by an instance whose lease has not run out ($1: now).
func liveClaim(ref string) string {
	return "EXISTS (SELECT 1 FROM instances WHERE instances.id = " + ref + " AND instances.lease_until >= ?)"
}

const (
	insertInstance = `INSERT INTO instances (id, host, pid, started_at, lease_until) VALUES (?, ?, ?, ?, ?)`
	renewInstance  = `UPDATE instances SET lease_until = ? WHERE id = ?`
	deleteInstance = `DELETE FROM instances WHERE id = ?`
	// Instances gone for a while are forgotten; their claims are
	// recovered first, in the same transaction.
	deleteDeadInstances = `DELETE FROM instances WHERE lease_until < ?`
	countLiveInstances  = `SELECT COUNT(*) FROM instances WHERE lease_until >= ?`

	// A recipient a dead instance claimed but never handed to the
	// provider was not texted: it waits again, its attempt not counted.
	// One handed over may have been texted: failed, never texted twice.
	recoverUnhanded = `UPDATE campaign_recipients SET status = 'pending', attempts = attempts - 1, claimed_by = NULL
		WHERE status = 'sending' AND claimed_by IS NOT NULL AND handed_at IS NULL AND NOT ` + recipientClaimLive
	recoverHanded = `UPDATE campaign_recipients SET status = 'failed',
		reason = 'interrupted while sending: not sent again, so nobody gets two texts' WHERE status = 'sending' AND NOT ` +
		recipientClaimLive
	recipientClaimLive = `EXISTS (SELECT 1 FROM instances WHERE instances.id = campaign_recipients.claimed_by
		AND instances.lease_until >= ?)`
)

// leasedTables are the tables whose claims are leases: a dead instance's
// lease is given up at once, so the work is claimed again without waiting
// for the row's own lease to run out.
var leasedTables = []struct {
	table string
	queue queue
}{{"outbox", outboxQueue}, {"webhook_deliveries", webhookQueue}, {"coupon_issue_items", couponQueue},
	{"automations", numQueues}}

// ID is this store's instance id, which its claims carry.
func (is *InstanceStore) ID() string { return is.s.instance }

// Join records this instance as running, with a lease until now+lease.
func (is *InstanceStore) Join(ctx context.Context, lease time.Duration) error {
	host, _ := os.Hostname()
	now := is.s.nowUTC()
	_, err := is.s.write.ExecContext(ctx, insertInstance, is.s.instance, host, os.Getpid(), now, now.Add(lease))
	if err != nil {
		return fmt.Errorf("join instances: %w", err)
	}
	return nil
}

// Heartbeat renews this instance's lease until now+lease.
func (is *InstanceStore) Heartbeat(ctx context.Context, lease time.Duration) error {
	_, err := is.s.write.ExecContext(ctx, renewInstance, is.s.nowUTC().Add(lease), is.s.instance)
	if err != nil {
		return fmt.Errorf("renew instance lease: %w", err)
	}
	return nil
}

// Leave removes this instance on a clean stop, once its work is finished
// or given back: whatever it may still hold is recoverable at once.
func (is *InstanceStore) Leave(ctx context.Context) error {
	_, err := is.s.write.ExecContext(ctx, deleteInstance, is.s.instance)
	return err
}

// Live counts the instances whose lease has not run out.
func (is *InstanceStore) Live(ctx context.Context) (int, error) {
	var n int
	err := is.s.read.QueryRowContext(ctx, countLiveInstances, is.s.nowUTC()).Scan(&n)
	return n, err
}

// Recovered counts what Recover took back from dead instances.
type Recovered struct {
	Leases        int64 // leased rows (outbox, webhooks, coupons, automations) free again
	Recipients    int64 // campaign recipients never handed over, pending again
	Interrupted   int64 // campaign recipients handed over, failed rather than texted twice
	Messages      int64 // automation messages never handed over, pending again
	MessagesLost  int64 // automation texts handed over, failed rather than sent twice
	DeadInstances int64 // instance rows forgotten
}

// Recover takes back, in one transaction, the claims of instances whose
// lease has run out, and forgets those instances. Claims of live
// instances, this one's included, are left alone. Workers of every
// instance are woken if work became claimable again.
func (is *InstanceStore) Recover(ctx context.Context) (Recovered, error) {
	var r Recovered
	s := is.s
	err := s.inTx(ctx, func(tx *writeTx) error {
		now := s.nowUTC()
		r = Recovered{}
		for _, lt := range leasedTables {
			res, err := tx.ExecContext(ctx, `UPDATE `+lt.table+` SET claimed_until = NULL, claimed_by = NULL
				WHERE claimed_until IS NOT NULL AND claimed_by IS NOT NULL AND NOT `+liveClaim(lt.table+".claimed_by"), now)
			if err != nil {
				return fmt.Errorf("recover %s: %w", lt.table, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				r.Leases += n
				if lt.queue < numQueues {
					tx.enqueued(lt.queue)
				}
			}
		}
		var err error
		if r.Recipients, r.Interrupted, err = s.recoverRecipients(ctx, tx, now); err != nil {
			return err
		}
		if r.Messages, r.MessagesLost, err = s.recoverMessages(ctx, tx, deadMessageClaim, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, deleteDeadInstances, now)
		if err != nil {
			return fmt.Errorf("forget dead instances: %w", err)
		}
		r.DeadInstances, _ = res.RowsAffected()
		return s.notifyWork(ctx, tx, tx.queued)
	})
	return r, err
}

// recoverRecipients puts back the campaign recipients dead instances
// claimed and never handed over, and fails those they handed over.
func (s *Store) recoverRecipients(ctx context.Context, tx *writeTx, now time.Time) (back, failed int64, err error) {
	res, err := tx.ExecContext(ctx, recoverUnhanded, now)
	if err != nil {
		return 0, 0, fmt.Errorf("recover campaign recipients: %w", err)
	}
	if back, _ = res.RowsAffected(); back > 0 {
		tx.enqueued(campaignQueue)
	}
	if res, err = tx.ExecContext(ctx, recoverHanded, now); err != nil {
		return 0, 0, fmt.Errorf("fail interrupted campaign recipients: %w", err)
	}
	failed, _ = res.RowsAffected()
	return back, failed, nil
}
