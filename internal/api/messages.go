package api

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// messageStore is what the lock-screen message routes need of the database.
type messageStore interface {
	SetCardMessage(ctx context.Context, merchantID, serial, text string) (loyalty.Card, error)
	SetProgramMessage(ctx context.Context, merchantID, programID, text string) (int64, error)
	Program(ctx context.Context, merchantID, id string) (loyalty.Program, error)
}

// messageHandlers put a lock-screen message on one card or on every card
// of a program.
type messageHandlers struct {
	base
	store messageStore
	urls  cardURLs
}

func (h *messageHandlers) routes(v1 gin.IRouter) {
	v1.POST("/cards/:serial/messages", h.wrap(h.card))
	v1.POST("/programs/:id/messages", h.wrap(h.program))
}

// Lock-screen message limits. Wallet shows the changeMessage on the lock
// screen; peers advise under 90 characters so it is not cut, and report
// 260 as the most a notification shows. We refuse more than the hard limit
// and warn above the recommended one.
const (
	messageRecommended = 90
	messageHardLimit   = 260
)

type messageInput struct {
	Text string `json:"text"`
}

// checkMessage validates a message and returns a warning for long ones.
func checkMessage(in messageInput) (string, string, error) {
	text := strings.TrimSpace(in.Text)
	n := utf8.RuneCountInString(text)
	switch {
	case n == 0:
		return "", "", invalid("text", "text is required (1 to %d characters)", messageHardLimit)
	case n > messageHardLimit:
		return "", "", invalid("text", "text has %d characters; the lock screen shows at most %d (keep it under %d)", n, messageHardLimit, messageRecommended)
	case strings.ContainsFunc(text, func(c rune) bool { return isControl(c, false) }):
		return "", "", textRule{field: "text", max: messageHardLimit}.check(text)
	case n > messageRecommended:
		return text, "the text is longer than 90 characters: phones may cut it on the lock screen", nil
	}
	return text, "", nil
}

func (h *messageHandlers) card(c *gin.Context) error {
	var in messageInput
	if err := h.decodeJSON(c, &in); err != nil {
		return err
	}
	text, warning, err := checkMessage(in)
	if err != nil {
		return err
	}
	card, err := h.store.SetCardMessage(c.Request.Context(), merchantID(c), c.Param("serial"), text)
	if err != nil {
		return ledgerError(err)
	}
	prog, err := h.store.Program(c.Request.Context(), card.MerchantID, card.ProgramID)
	if err != nil {
		return internal(err)
	}
	c.JSON(http.StatusOK, gin.H{"card": h.urls.cardJSON(card, prog), "length": utf8.RuneCountInString(text), "warning": warning})
	return nil
}

func (h *messageHandlers) program(c *gin.Context) error {
	var in messageInput
	if err := h.decodeJSON(c, &in); err != nil {
		return err
	}
	text, warning, err := checkMessage(in)
	if err != nil {
		return err
	}
	n, err := h.store.SetProgramMessage(c.Request.Context(), merchantID(c), c.Param("id"), text)
	if err != nil {
		return storeError(err, "program")
	}
	c.JSON(http.StatusOK, gin.H{"cards": n, "length": utf8.RuneCountInString(text), "warning": warning})
	return nil
}
