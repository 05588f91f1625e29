package api

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

type messageStore interface {
	SetCardMessage(ctx context.Context, merchantID, serial, text string) (loyalty.Card, error)
	SetProgramMessage(ctx context.Context, merchantID, programID, text string) (int64, error)
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

func (s *Server) cardMessage(c *gin.Context) error {
	var in messageInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	text, warning, err := checkMessage(in)
	if err != nil {
		return err
	}
	card, err := s.store.SetCardMessage(c.Request.Context(), merchantID(c), c.Param("serial"), text)
	if err != nil {
		return ledgerError(err)
	}
	c.JSON(http.StatusOK, gin.H{"card": s.cardJSON(card), "length": utf8.RuneCountInString(text), "warning": warning})
	return nil
}

func (s *Server) programMessage(c *gin.Context) error {
	var in messageInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	text, warning, err := checkMessage(in)
	if err != nil {
		return err
	}
	n, err := s.store.SetProgramMessage(c.Request.Context(), merchantID(c), c.Param("id"), text)
	if err != nil {
		return storeError(err, "program")
	}
	c.JSON(http.StatusOK, gin.H{"cards": n, "length": utf8.RuneCountInString(text), "warning": warning})
	return nil
}
