package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// CouponIssueStore persists coupons issued to a segment of a program's
// customers at once: the job, and one row of work per customer.
type CouponIssueStore struct{ s *Store }

// CouponIssues returns the coupon issue aggregate.
func (s *Store) CouponIssues() *CouponIssueStore { return &CouponIssueStore{s} }

// Statuses of a coupon issue's rows.
const (
	IssuePending  = "pending"
	IssueIssued   = "issued"   // a new coupon card
	IssueExisting = "existing" // the customer held a coupon of the program already
	IssueFailed   = "failed"
)

// CouponSegment picks the customers of a source program who get the
// coupon: its active cards, in Tier when set, whose last purchase is
// InactiveDays or more ago (or who never bought) when set.
type CouponSegment struct {
	SourceProgramID string
	Tier            string
	InactiveDays    int
}

// CouponIssue is a job and its progress.
type CouponIssue struct {
	ID         string
	MerchantID string
	ProgramID  string
	Segment    CouponSegment
	Total      int64
	// Counts of the rows by status.
	Pending, Issued, Existing, Failed int64
	CreatedAt                         time.Time
}

// CouponIssueItem is one customer's row of work.
type CouponIssueItem struct {
	ID         int64
	IssueID    string
	CustomerID string
	Phone      string
	Attempts   int
	// MerchantID and ProgramID are the job's.
	MerchantID, ProgramID string
}

var couponItemTable = workTable{table: "coupon_issue_items", waiting: "status = 'pending'", leased: true,
	order: "due_at, id", returns: "id, issue_id, customer_id, phone, attempts"}

const (
	insertCouponIssue = `INSERT INTO coupon_issues (id, merchant_id, program_id, source_program_id, tier, inactive_days,
		total, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)`
	// insertCouponItems queues a row per active card of the source program
	// in the segment; a customer has one active card per program.
	insertCouponItems = `INSERT INTO coupon_issue_items (issue_id, customer_id, phone, status, due_at)
		SELECT ?, c.customer_id, u.phone, 'pending', ? FROM cards c JOIN customers u ON u.id = c.customer_id
		WHERE c.merchant_id = ? AND c.program_id = ? AND c.status = 'active' AND (? = '' OR c.tier = ?)
		AND (? = 0 OR c.last_purchase_at IS NULL OR c.last_purchase_at < ?)`
	setCouponIssueTotal = `UPDATE coupon_issues SET total = ? WHERE id = ?`
	selectCouponIssue   = `SELECT id, merchant_id, program_id, source_program_id, tier, inactive_days, total, created_at
		FROM coupon_issues WHERE merchant_id = ? AND id = ?`
	countCouponItems = `SELECT status, COUNT(*) FROM coupon_issue_items WHERE issue_id = ? GROUP BY status`
	selectIssueIDs   = `SELECT id FROM coupon_issues WHERE merchant_id = ? AND program_id = ?
		ORDER BY created_at DESC, id DESC LIMIT ?`
	selectIssueOwner = `SELECT merchant_id, program_id FROM coupon_issues WHERE id = ?`
	finishCouponItem = `UPDATE coupon_issue_items SET status = ?, serial_number = ?, error = ?, claimed_until = NULL
		WHERE id = ? AND status = 'pending'`
)

// CreateCouponIssue queues a coupon of the merchant's coupon program for
// every customer of the segment, in one transaction: the job and its
// rows, which the coupon issuer works through. It refuses a program of
// another kind (loyalty.ErrNotCoupon) or whose fixed date has passed
// (loyalty.ErrCouponExpired), and answers ErrNotFound for a program or
// source program the merchant does not have.
func (cs *CouponIssueStore) CreateCouponIssue(ctx context.Context, merchantID, programID string, seg CouponSegment) (CouponIssue, error) {
	s := cs.s
	now := s.nowUTC()
	ci := CouponIssue{ID: newID("cis"), MerchantID: merchantID, ProgramID: programID, Segment: seg, CreatedAt: now}
	err := s.inTx(ctx, func(tx *writeTx) error {
		prog, err := s.program(ctx, tx, merchantID, programID)
		if err != nil {
			return err
		}
		if err := loyalty.CheckCouponIssue(prog, now); err != nil {
			return err
		}
		if _, err := s.program(ctx, tx, merchantID, seg.SourceProgramID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, insertCouponIssue, ci.ID, merchantID, programID, seg.SourceProgramID, seg.Tier,
			seg.InactiveDays, now)
		if err != nil {
			return fmt.Errorf("insert coupon issue: %w", err)
		}
		before := now.AddDate(0, 0, -seg.InactiveDays)
		res, err := tx.ExecContext(ctx, insertCouponItems, ci.ID, now, merchantID, seg.SourceProgramID, seg.Tier, seg.Tier,
			seg.InactiveDays, before)
		if err != nil {
			return fmt.Errorf("queue coupon issue: %w", err)
		}
		if ci.Total, err = res.RowsAffected(); err != nil {
			return err
		}
		ci.Pending = ci.Total
		if _, err := tx.ExecContext(ctx, setCouponIssueTotal, ci.Total, ci.ID); err != nil {
			return fmt.Errorf("count coupon issue: %w", err)
		}
		if ci.Total > 0 {
			tx.enqueued(couponQueue)
		}
		return s.auditIn(ctx, tx, merchantID, ci.ID, fmt.Sprintf("%s ← %s (%d)", programID, seg.SourceProgramID, ci.Total))
	})
	return ci, err
}

// CouponIssue returns the merchant's job with its progress.
func (cs *CouponIssueStore) CouponIssue(ctx context.Context, merchantID, id string) (CouponIssue, error) {
	var ci CouponIssue
	err := cs.s.read.QueryRowContext(ctx, selectCouponIssue, merchantID, id).Scan(&ci.ID, &ci.MerchantID, &ci.ProgramID,
		&ci.Segment.SourceProgramID, &ci.Segment.Tier, &ci.Segment.InactiveDays, &ci.Total, &ci.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return ci, ErrNotFound
	}
	if err != nil {
		return ci, fmt.Errorf("load coupon issue: %w", err)
	}
	rows, err := cs.s.read.QueryContext(ctx, countCouponItems, id)
	if err != nil {
		return ci, fmt.Errorf("count coupon issue: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return ci, err
		}
		switch status {
		case IssuePending:
			ci.Pending = n
		case IssueIssued:
			ci.Issued = n
		case IssueExisting:
			ci.Existing = n
		case IssueFailed:
			ci.Failed = n
		}
	}
	return ci, rows.Err()
}

// RecentCouponIssues returns the ids of the merchant's newest limit jobs
// of a program, newest first.
func (cs *CouponIssueStore) RecentCouponIssues(ctx context.Context, merchantID, programID string, limit int) ([]string, error) {
	rows, err := cs.s.read.QueryContext(ctx, selectIssueIDs, merchantID, programID, limit)
	if err != nil {
		return nil, fmt.Errorf("list coupon issues: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list coupon issues: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ClaimCouponItems leases up to limit due rows for lease.
func (cs *CouponIssueStore) ClaimCouponItems(ctx context.Context, limit int, lease time.Duration) ([]CouponIssueItem, error) {
	var out []CouponIssueItem
	err := cs.s.claim(ctx, couponItemTable, claimOpts{Limit: limit, Lease: lease,
		Scan: func(rows *sql.Rows) error {
			var it CouponIssueItem
			if err := rows.Scan(&it.ID, &it.IssueID, &it.CustomerID, &it.Phone, &it.Attempts); err != nil {
				return err
			}
			out = append(out, it)
			return nil
		},
		Then: func(tx *writeTx) error {
			for i := range out {
				if err := tx.QueryRowContext(ctx, selectIssueOwner, out[i].IssueID).Scan(&out[i].MerchantID, &out[i].ProgramID); err != nil {
					return fmt.Errorf("load coupon issue: %w", err)
				}
			}
			return nil
		}})
	return out, err
}

// FinishCouponItem records a row's outcome: issued or existing with the
// card's serial, or failed with why.
func (cs *CouponIssueStore) FinishCouponItem(ctx context.Context, id int64, status, serial, reason string) error {
	var sn any
	if serial != "" {
		sn = serial
	}
	_, err := cs.s.write.ExecContext(ctx, finishCouponItem, status, sn, reason, id)
	if err != nil {
		return fmt.Errorf("finish coupon issue row %d: %w", id, err)
	}
	return nil
}

// CouponItemsQueued receives after a commit that queued coupon rows; the
// coupon issuer waits on it between polls.
func (cs *CouponIssueStore) CouponItemsQueued() <-chan struct{} { return cs.s.queued[couponQueue] }
