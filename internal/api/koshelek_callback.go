package api

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push/koshelek"
)

// koshelekCallbackStore is what the Push Callback API needs.
type koshelekCallbackStore interface {
	PushState(ctx context.Context, programID, messageID, state string) error
}

// koshelekCallbackHandlers take the delivery statuses Кошелёк posts for
// the messages a program sent (push/koshelek.Callback), with the same
// login as the partner API.
type koshelekCallbackHandlers struct {
	base
	auth  *koshelekAuth
	store koshelekCallbackStore
}

func (h *koshelekCallbackHandlers) routes(r gin.IRouter) {
	r.POST("/koshelek/:program"+koshelekCallbackPath, h.callback)
	r.POST("/koshelek/:program"+koshelekCallbackPath+"/*rest", h.callback)
}

func (h *koshelekCallbackHandlers) callback(c *gin.Context) {
	kp, kerr := h.auth.check(c)
	if kerr == nil && h.store == nil {
		kerr = errKoshelekAuth
	}
	if kerr != nil {
		h.writeKoshelek(c, kerr)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, h.maxBody))
	if err != nil {
		h.writeKoshelek(c, koshelekFail(koshelekCodeInvalid, "could not read the body (at most %d bytes)", h.maxBody))
		return
	}
	reports, err := koshelek.ParseCallbacks(body)
	if err != nil {
		h.writeKoshelek(c, koshelekFail(koshelekCodeInvalid, "%s", err.Error()))
		return
	}
	ctx := c.Request.Context()
	for _, r := range reports {
		err := h.store.PushState(ctx, kp.Program.ID, r.MessageID, r.State)
		switch {
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrKoshelekStateBehind):
			// Another program's message, or news older than what we know:
			// nothing to record, and nothing Кошелёк should send again.
			h.log.DebugContext(ctx, "koshelek status ignored", "state", r.State, "why", err.Error())
		case err != nil:
			h.writeKoshelek(c, koshelekInternal(err))
			return
		}
	}
	c.Data(http.StatusOK, koshelekContentType, nil)
}
