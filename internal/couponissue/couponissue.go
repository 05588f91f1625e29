// Package couponissue works through coupons issued to a segment of a
// program's customers at once (POST /programs/{id}/coupon-issues): it
// claims the job's rows from the store's work table, issues each
// customer's coupon card, and records how it went, so the job's progress
// is what the rows say. Issuing is idempotent per phone, so a row claimed
// again after a crash issues no second coupon.
package couponissue

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/phone"
	"github.com/loyalpass/loyalpass/internal/store"
)

// Store is the work table of coupon rows.
type Store interface {
	ClaimCouponItems(ctx context.Context, limit int, lease time.Duration) ([]store.CouponIssueItem, error)
	FinishCouponItem(ctx context.Context, id int64, status, serial, reason string) error
	CouponItemsQueued() <-chan struct{}
}

// Cards issues cards (store.CardStore).
type Cards interface {
	IssueCard(ctx context.Context, in store.IssueCard) (loyalty.Card, bool, error)
}

// Options configures an Issuer.
type Options struct {
	Store Store
	Cards Cards
	// Batch is how many rows one claim takes (default 50); Lease how long
	// they stay claimed (default 2 minutes); Poll how often the issuer
	// looks for rows it was not woken for (default 5 seconds).
	Batch int
	Lease time.Duration
	Poll  time.Duration
	// MaxAttempts is how often a row that fails for a passing reason is
	// tried before it counts as failed (default 5).
	MaxAttempts int
	Log         *slog.Logger
}

// Issuer issues the coupons of queued rows.
type Issuer struct {
	o   Options
	log *slog.Logger
}

// New returns an Issuer.
func New(o Options) *Issuer {
	if o.Batch <= 0 {
		o.Batch = 50
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Issuer{o: o, log: o.Log.With("component", "couponissue")}
}

// Run issues until ctx ends. Rows claimed but not reached when it ends
// are claimed again once their lease runs out.
func (is *Issuer) Run(ctx context.Context) {
	for {
		n, err := is.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			is.log.Error("coupon issue round failed", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-is.o.Store.CouponItemsQueued():
		case <-time.After(is.o.Poll):
		}
	}
}

// RunOnce claims one batch of rows and issues their coupons; it returns
// how many rows it finished.
func (is *Issuer) RunOnce(ctx context.Context) (int, error) {
	items, err := is.o.Store.ClaimCouponItems(ctx, is.o.Batch, is.o.Lease)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		status, serial, reason := is.issue(context.WithoutCancel(ctx), it)
		if status == store.IssuePending {
			continue // tried again once the lease runs out
		}
		if err := is.o.Store.FinishCouponItem(context.WithoutCancel(ctx), it.ID, status, serial, reason); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// issue issues one row's coupon and says how it went.
func (is *Issuer) issue(ctx context.Context, it store.CouponIssueItem) (status, serial, reason string) {
	card, created, err := is.o.Cards.IssueCard(ctx, store.IssueCard{MerchantID: it.MerchantID, ProgramID: it.ProgramID,
		Phone: it.Phone})
	switch {
	case err == nil && created:
		return store.IssueIssued, card.SerialNumber, ""
	case err == nil:
		return store.IssueExisting, card.SerialNumber, ""
	case errors.Is(err, loyalty.ErrCouponExpired):
		return store.IssueFailed, "", "coupon_expired"
	case errors.Is(err, store.ErrNotFound):
		return store.IssueFailed, "", "program_not_found"
	case it.Attempts >= is.o.MaxAttempts:
		is.log.Error("coupon not issued", "issue", it.IssueID, "phone", phone.Mask(it.Phone), "err", err)
		return store.IssueFailed, "", "error"
	}
	is.log.Warn("coupon not issued yet", "issue", it.IssueID, "phone", phone.Mask(it.Phone), "attempt", it.Attempts, "err", err)
	return store.IssuePending, "", ""
}
