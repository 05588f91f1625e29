package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/store"
)

// deadLetterStore is what the dead-letter route needs of the database.
type deadLetterStore interface {
	DeadLetters(ctx context.Context, merchantID string, afterID int64, limit int) ([]store.DeadLetter, error)
}

// deadLetterHandlers show the merchant's work that failed for good.
type deadLetterHandlers struct {
	base
	store deadLetterStore
}

func (h *deadLetterHandlers) routes(v1 gin.IRouter) {
	v1.GET("/dead-letters", h.wrap(h.list))
}

type deadLetterJSON struct {
	ID           int64     `json:"id"`
	Topic        string    `json:"topic"`
	SerialNumber string    `json:"serial_number,omitempty"`
	Payload      string    `json:"payload"`
	Attempts     int       `json:"attempts"`
	LastError    string    `json:"last_error"`
	CreatedAt    time.Time `json:"created_at"`
}

// list shows the merchant's work that failed for good: pushes
// refused by a channel or retried until the limit.
func (h *deadLetterHandlers) list(c *gin.Context) error {
	limit, err := limitParam(c)
	if err != nil {
		return err
	}
	after, err := numberCursor(c, 0)
	if err != nil {
		return err
	}
	letters, err := h.store.DeadLetters(c.Request.Context(), merchantID(c), after, limit)
	if err != nil {
		return internal(err)
	}
	out := make([]deadLetterJSON, len(letters))
	for i, d := range letters {
		out[i] = deadLetterJSON{ID: d.ID, Topic: d.Topic, SerialNumber: d.Serial, Payload: d.Payload,
			Attempts: d.Attempts, LastError: d.LastError, CreatedAt: d.CreatedAt}
	}
	next := ""
	if len(letters) == limit {
		next = strconv.FormatInt(letters[len(letters)-1].ID, 10)
	}
	c.JSON(http.StatusOK, gin.H{"dead_letters": out, "next_cursor": next})
	return nil
}
