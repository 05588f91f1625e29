package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/store"
)

// referralReports is what the referral report needs of the database
// (store.ReferralStore).
type referralReports interface {
	Report(ctx context.Context, merchantID, programID string) (store.ReferralReport, error)
}

// referralHandlers report a program's referrals.
type referralHandlers struct {
	base
	store referralReports
}

func (h *referralHandlers) routes(v1 gin.IRouter) {
	v1.GET("/programs/:id/referrals", h.wrap(h.report))
}

func (h *referralHandlers) report(c *gin.Context) error {
	r, err := h.store.Report(c.Request.Context(), merchantID(c), c.Param("id"))
	if err != nil {
		return storeError(err, "program")
	}
	c.JSON(http.StatusOK, gin.H{"program_id": c.Param("id"), "joins": r.Joins, "pending": r.Pending,
		"qualified": r.Qualified, "refused": r.Refused, "referrer_points": r.ReferrerPoints,
		"friend_points": r.FriendPoints, "points_paid": r.ReferrerPoints + r.FriendPoints})
	return nil
}
