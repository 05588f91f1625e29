package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// couponIssueStore is what issuing a coupon to a segment needs of the
// database: the job and its progress.
type couponIssueStore interface {
	CreateCouponIssue(ctx context.Context, merchantID, programID string, seg store.CouponSegment) (store.CouponIssue, error)
	CouponIssue(ctx context.Context, merchantID, id string) (store.CouponIssue, error)
}

// couponIssueHandlers issue a coupon program's coupon to a segment of
// another program's customers, as a job the coupon issuer works through.
type couponIssueHandlers struct {
	base
	store couponIssueStore
}

func (h *couponIssueHandlers) routes(v1 gin.IRouter) {
	v1.POST("/programs/:id/coupon-issues", h.wrap(h.create))
	v1.GET("/coupon-issues/:id", h.wrap(h.get))
}

// couponIssueInput names the segment: the customers holding an active
// card of SourceProgramID, in Tier when given, who bought nothing in the
// last InactiveDays when given.
type couponIssueInput struct {
	SourceProgramID string `json:"source_program_id"`
	Tier            string `json:"tier"`
	InactiveDays    int    `json:"inactive_days"`
}

type couponIssueJSON struct {
	ID              string    `json:"id"`
	ProgramID       string    `json:"program_id"`
	SourceProgramID string    `json:"source_program_id"`
	Tier            string    `json:"tier,omitempty"`
	InactiveDays    int       `json:"inactive_days,omitempty"`
	Status          string    `json:"status"` // running, done
	Total           int64     `json:"total"`
	Pending         int64     `json:"pending"`
	Issued          int64     `json:"issued"`
	Existing        int64     `json:"existing"`
	Failed          int64     `json:"failed"`
	CreatedAt       time.Time `json:"created_at"`
}

func toCouponIssueJSON(ci store.CouponIssue) couponIssueJSON {
	status := "running"
	if ci.Pending == 0 {
		status = "done"
	}
	return couponIssueJSON{ID: ci.ID, ProgramID: ci.ProgramID, SourceProgramID: ci.Segment.SourceProgramID,
		Tier: ci.Segment.Tier, InactiveDays: ci.Segment.InactiveDays, Status: status, Total: ci.Total,
		Pending: ci.Pending, Issued: ci.Issued, Existing: ci.Existing, Failed: ci.Failed, CreatedAt: ci.CreatedAt}
}

func (h *couponIssueHandlers) create(c *gin.Context) error {
	var in couponIssueInput
	if err := h.decodeJSON(c, &in); err != nil {
		return err
	}
	in.SourceProgramID, in.Tier = strings.TrimSpace(in.SourceProgramID), strings.TrimSpace(in.Tier)
	switch {
	case in.SourceProgramID == "":
		return invalid("source_program_id", "source_program_id (the program whose customers get the coupon) is required")
	case in.InactiveDays < 0 || in.InactiveDays > loyalty.MaxValidDays:
		return invalid("inactive_days", "inactive_days must be 0 (everyone) to %d", loyalty.MaxValidDays)
	}
	if err := (textRule{field: "tier", max: 32}).check(in.Tier); err != nil {
		return err
	}
	ci, err := h.store.CreateCouponIssue(c.Request.Context(), merchantID(c), c.Param("id"),
		store.CouponSegment{SourceProgramID: in.SourceProgramID, Tier: in.Tier, InactiveDays: in.InactiveDays})
	switch {
	case errors.Is(err, loyalty.ErrNotCoupon):
		return &Error{Status: http.StatusConflict, Code: "not_a_coupon_program",
			Message: "coupons are issued from a coupon program; this program is of another kind"}
	case errors.Is(err, loyalty.ErrCouponExpired):
		return &Error{Status: http.StatusConflict, Code: "coupon_expired",
			Message: "the program's valid_until has passed: its coupons can no longer be issued"}
	case err != nil:
		return storeError(err, "program")
	}
	c.Header("Location", "/api/v1/coupon-issues/"+ci.ID)
	c.JSON(http.StatusAccepted, toCouponIssueJSON(ci))
	return nil
}

func (h *couponIssueHandlers) get(c *gin.Context) error {
	ci, err := h.store.CouponIssue(c.Request.Context(), merchantID(c), c.Param("id"))
	if err != nil {
		return storeError(err, "coupon issue")
	}
	c.JSON(http.StatusOK, toCouponIssueJSON(ci))
	return nil
}
