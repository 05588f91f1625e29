package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
)

// fcmStore is what the FCM token routes need of the database.
type fcmStore interface {
	AddFCMToken(ctx context.Context, merchantID, serial, token string) (bool, error)
	RemoveFCMToken(ctx context.Context, merchantID, serial, token string) error
}

// fcmHandlers register and remove the tokens of a merchant's app for a
// card.
type fcmHandlers struct {
	base
	store fcmStore
	on    bool // FCM is configured
}

func (h *fcmHandlers) routes(v1 gin.IRouter) {
	v1.POST("/cards/:serial/fcm-tokens", h.wrap(h.add))
	v1.DELETE("/cards/:serial/fcm-tokens/:token", h.wrap(h.remove))
}

// maxFCMToken bounds a registration token; real ones are about 160
// characters.
const maxFCMToken = 4096

type fcmTokenInput struct {
	Token string `json:"token"`
}

type fcmTokenJSON struct {
	SerialNumber string `json:"serial_number"`
	Token        string `json:"token"`
}

// validFCMToken accepts the characters FCM tokens are made of (base64url
// and ':'), which also keeps them safe in a path.
func validFCMToken(t string) bool {
	if t == "" || len(t) > maxFCMToken {
		return false
	}
	for i := 0; i < len(t); i++ {
		b := t[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == ':' || b == '_' || b == '-' || b == '.') {
			return false
		}
	}
	return true
}

// add registers a token of the merchant's app for a card: every
// later change of the card goes to it as an FCM data message.
// While FCM is off nothing would ever reach the token, so the
// registration is refused rather than stored.
func (h *fcmHandlers) add(c *gin.Context) error {
	if !h.on {
		return &Error{Status: http.StatusConflict, Code: "fcm_not_configured",
			Message: "FCM is not configured on this server, so app tokens cannot be registered: " +
				"set fcm.project_id and fcm.credentials_file (LOYALPASS_FCM_PROJECT_ID, LOYALPASS_FCM_CREDENTIALS_FILE)"}
	}
	var in fcmTokenInput
	if err := h.decodeJSON(c, &in); err != nil {
		return err
	}
	if !validFCMToken(in.Token) {
		return invalid("token", "token must be an FCM registration token")
	}
	serial := c.Param("serial")
	created, err := h.store.AddFCMToken(c.Request.Context(), merchantID(c), serial, in.Token)
	if err != nil {
		return storeError(err, "card")
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, fcmTokenJSON{SerialNumber: serial, Token: in.Token})
	return nil
}

// remove stops sending a card's changes to a token.
func (h *fcmHandlers) remove(c *gin.Context) error {
	if err := h.store.RemoveFCMToken(c.Request.Context(), merchantID(c), c.Param("serial"), c.Param("token")); err != nil {
		return storeError(err, "token")
	}
	c.Status(http.StatusNoContent)
	return nil
}
