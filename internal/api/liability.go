package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// liabilityStore is what the liability route needs of the database.
type liabilityStore interface {
	Outstanding(ctx context.Context, merchantID, programID string) (store.Outstanding, error)
}

// liabilityHandlers answer what a program owes its cards' holders.
type liabilityHandlers struct {
	base
	store liabilityStore
}

func (h *liabilityHandlers) routes(v1 gin.IRouter) {
	v1.GET("/programs/:id/liability", h.wrap(h.get))
}

type liabilityJSON struct {
	ProgramID string `json:"program_id"`
	Kind      string `json:"kind"`
	// Outstanding is the sum of the active cards' balances in the
	// program's unit (points, or minor units of a gift program's currency).
	Outstanding int64 `json:"outstanding"`
	Cards       int64 `json:"cards"`
	// Amount is Outstanding as money, in minor units of Currency: a gift
	// program's balances as they are, points at PointValue minor units each.
	Amount     int64  `json:"amount"`
	Currency   string `json:"currency"`
	PointValue int64  `json:"point_value,omitempty"`
}

func (h *liabilityHandlers) get(c *gin.Context) error {
	o, err := h.store.Outstanding(c.Request.Context(), merchantID(c), c.Param("id"))
	if err != nil {
		return storeError(err, "program")
	}
	l, err := loyalty.ProgramLiability(o.Program, o.Balance)
	if errors.Is(err, loyalty.ErrNoLiability) {
		return &Error{Status: http.StatusConflict, Code: "no_liability",
			Message: "only gift and points programs owe their holders money; a " + o.Program.KindOf() + " program owes none"}
	}
	if err != nil {
		return internal(err)
	}
	out := liabilityJSON{ProgramID: o.Program.ID, Kind: o.Program.KindOf(), Outstanding: l.Outstanding, Cards: o.Cards,
		Amount: l.Amount, Currency: l.Currency}
	if out.Kind == loyalty.KindPoints {
		out.PointValue, _ = pointValue(o.Program)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// pointValue is what a point of p is worth in minor units.
func pointValue(p loyalty.Program) (int64, error) {
	l, err := loyalty.ProgramLiability(p, 1)
	return l.Amount, err
}
