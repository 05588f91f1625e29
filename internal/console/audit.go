package console

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/store"
)

// audit records that the viewer did e. It runs after the change it
// reports has been made; an entry about a ledger line carries the line's
// id as its Ref, so a replayed request is not recorded twice. A failure is
// logged, not shown: the change itself stands.
func (con *Console) audit(c *gin.Context, v *viewer, e store.AuditEntry) {
	e.MerchantID, e.UserID, e.UserEmail = v.user.MerchantID, v.user.ID, v.user.Email
	if err := con.opts.Audit.Record(c.Request.Context(), e); err != nil {
		con.log.LogAttrs(c.Request.Context(), slog.LevelError, "audit entry not recorded",
			slog.String("action", e.Action), slog.String("subject", e.Subject), slog.String("err", err.Error()))
	}
}
