package api

import (
	"context"
	"math"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// rhythmStore is what the rhythm route needs: the card's purchase rhythm.
type rhythmStore interface {
	CardRhythm(ctx context.Context, merchantID, serial string) (loyalty.Rhythm, error)
}

// rhythmHandlers show a customer's purchase rhythm: the usual gap
// between purchases that repurchase_due automations fire on.
type rhythmHandlers struct {
	base
	store rhythmStore
}

func (h *rhythmHandlers) routes(v1 gin.IRouter) {
	v1.GET("/cards/:serial/rhythm", h.wrap(h.get))
}

func (h *rhythmHandlers) get(c *gin.Context) error {
	r, err := h.store.CardRhythm(c.Request.Context(), merchantID(c), c.Param("serial"))
	if err != nil {
		return storeError(err, "card")
	}
	basis := "program"
	if r.Own {
		basis = "own"
	}
	var last, due *time.Time
	if !r.Last.IsZero() {
		l, d := r.Last, r.DueAt(0)
		last, due = &l, &d
	}
	c.JSON(http.StatusOK, gin.H{"serial_number": c.Param("serial"), "purchases": r.Purchases,
		"gap_days": math.Round(r.Gap.Hours()/24*100) / 100, "basis": basis, "last_purchase_at": last, "due_at": due})
	return nil
}
