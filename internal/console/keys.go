package console

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/apikey"
	"github.com/loyalpass/loyalpass/internal/store"
)

// The Keys screen (owners): the merchant's API keys, a new one shown
// once, and revoking. Keys are made as `loyalpass keys create` makes them
// (internal/apikey: random, stored hashed); the store writes each with its
// audit entry, whose Ref is the form's key, so a form sent twice makes one.

type keysView struct {
	layout
	Keys []keyRow
	// New is the key just made, shown this once.
	New     string
	FormKey string
	Error   string
}

type keyRow struct {
	ID, Created, Revoked string
	Active               bool
}

func (con *Console) keysShow(c *gin.Context, v *viewer) {
	con.renderKeys(c, v, http.StatusOK, "", "")
}

func (con *Console) renderKeys(c *gin.Context, v *viewer, status int, newKey, errKey string) {
	keys, err := con.opts.Keys.List(c.Request.Context(), v.user.MerchantID)
	if err != nil {
		con.fail(c, err)
		return
	}
	kv := &keysView{layout: con.newLayout(c, v, v.lang.Text("con_nav_keys")), New: newKey, FormKey: newToken()}
	if errKey != "" {
		kv.Error = v.lang.Text(errKey)
	}
	for _, k := range keys {
		r := keyRow{ID: k.ID, Created: when(v.lang, k.CreatedAt), Active: k.RevokedAt == nil}
		if k.RevokedAt != nil {
			r.Revoked = when(v.lang, *k.RevokedAt)
		}
		kv.Keys = append(kv.Keys, r)
	}
	con.render(c, status, "keys", kv)
}

// keysCreate makes a key and shows it once, on the answer to the post
// itself (never in a URL, never again).
func (con *Console) keysCreate(c *gin.Context, v *viewer) {
	form := postForm(c, "key")
	if len(form) < 16 || len(form) > 64 {
		con.renderKeys(c, v, http.StatusUnprocessableEntity, "", "con_err_reload")
		return
	}
	k := apikey.New()
	err := con.opts.Keys.Create(c.Request.Context(), store.APIKey{ID: k.ID, MerchantID: v.user.MerchantID, SecretHash: k.Hash()},
		store.AuditEntry{UserID: v.user.ID, UserEmail: v.user.Email, Action: "apikey.create", Ref: "form:" + form})
	if errors.Is(err, store.ErrConflict) {
		con.renderKeys(c, v, http.StatusConflict, "", "con_keys_already")
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	con.renderKeys(c, v, http.StatusCreated, k.String(), "")
}

func (con *Console) keysRevoke(c *gin.Context, v *viewer) {
	err := con.opts.Keys.Revoke(c.Request.Context(), v.user.MerchantID, c.Param("id"),
		store.AuditEntry{UserID: v.user.ID, UserEmail: v.user.Email, Action: "apikey.revoke"})
	if errors.Is(err, store.ErrNotFound) {
		con.notFound(c)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/keys")
}
