package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
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

// budgetStore is what the SMS budget routes need of the database.
type budgetStore interface {
	SetSMSBudget(ctx context.Context, merchantID, programID string, monthly int64) (store.SMSBudget, error)
	SMSBudget(ctx context.Context, merchantID, programID string) (store.SMSBudget, error)
}

// budgetHandlers set and show a program's monthly SMS budget: what its
// automations may spend on texts (the cheaper channels cost nothing).
type budgetHandlers struct {
	base
	store budgetStore
}

func (h *budgetHandlers) routes(v1 gin.IRouter) {
	v1.GET("/programs/:id/sms-budget", h.wrap(h.get))
	v1.PUT("/programs/:id/sms-budget", h.wrap(h.put))
}

type budgetInput struct {
	Monthly *int64 `json:"monthly"`
}

func budgetJSON(b store.SMSBudget) gin.H {
	return gin.H{"program_id": b.ProgramID, "monthly": b.Monthly, "month": b.Month, "spent": b.Spent,
		"left": max(b.Monthly-b.Spent, 0)}
}

func (h *budgetHandlers) get(c *gin.Context) error {
	b, err := h.store.SMSBudget(c.Request.Context(), merchantID(c), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("SMS budget of program " + c.Param("id"))
	}
	if err != nil {
		return internal(err)
	}
	c.JSON(http.StatusOK, budgetJSON(b))
	return nil
}

func (h *budgetHandlers) put(c *gin.Context) error {
	var in budgetInput
	if err := h.decodeJSON(c, &in); err != nil {
		return err
	}
	switch {
	case in.Monthly == nil:
		return invalid("monthly", "monthly is required: the budget in minor units (kopecks, cents) per calendar month")
	case *in.Monthly < 0 || *in.Monthly > 1_000_000_000_000:
		return invalid("monthly", "monthly must be 0 to 1000000000000 minor units")
	}
	b, err := h.store.SetSMSBudget(c.Request.Context(), merchantID(c), c.Param("id"), *in.Monthly)
	if err != nil {
		return storeError(err, "program")
	}
	c.JSON(http.StatusOK, budgetJSON(b))
	return nil
}
