package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/store"
)

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
