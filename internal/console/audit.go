package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/store"
)

// audited returns the request's context carrying the audit entry of the
// change the viewer is about to make (store.WithAudit): the store method
// that makes the change writes e in the change's own transaction, so an
// entry never exists without its change nor a change without its entry.
// The console's changes are API requests made in-process; the context
// reaches the store through the API's handler unchanged.
//
// e.Ref, when set, is a one-time form token: a second change with the same
// Ref is refused (store.ErrFormUsed; the API answers 409 form_used), so a
// form sent twice makes one row. Subject and Detail may be left for the
// store to fill (a new row's id, a ledger line's change).
func (con *Console) audited(c *gin.Context, v *viewer, e store.AuditEntry) context.Context {
	e.MerchantID, e.UserID, e.UserEmail = v.user.MerchantID, v.user.ID, v.user.Email
	return store.WithAudit(c.Request.Context(), e)
}

// formUsed reports whether err is the API's refusal of a form sent twice.
func formUsed(err error) bool {
	ae, ok := asAPIError(err)
	return ok && ae.Code == "form_used"
}

// formToken is the one-time token a create form carries, made when the
// form is shown; "" when the posted one is not of our making.
func formToken(c *gin.Context) string {
	t := postForm(c, "form")
	if len(t) < 16 || len(t) > 64 {
		return ""
	}
	return t
}

// formSent reports whether a change was made with the one-time form
// token already: the form is being sent again.
func (con *Console) formSent(c *gin.Context, v *viewer, token string) (bool, error) {
	_, err := con.opts.Audit.ByRef(c.Request.Context(), v.user.MerchantID, "form:"+token)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// openMade answers a create form sent twice: it opens what the first
// sending made (the entry of its token names it) under prefix.
func (con *Console) openMade(c *gin.Context, v *viewer, token, prefix string) {
	e, err := con.opts.Audit.ByRef(c.Request.Context(), v.user.MerchantID, "form:"+token)
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, prefix+url.PathEscape(e.Subject))
}
