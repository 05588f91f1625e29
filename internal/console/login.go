package console

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/password"
	"github.com/loyalpass/loyalpass/internal/store"
)

// loginCSRFCookie carries the sign-in form's CSRF token before there is a
// session: the form must echo it (double submit).
const loginCSRFCookie = "lp_login_csrf"

type loginView struct {
	layout
	Email, Next, Error string
}

// loginShow serves the sign-in form; a signed-in visitor goes on.
func (con *Console) loginShow(c *gin.Context) {
	if v, err := con.viewerOf(c); err == nil && v != nil {
		c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
		return
	}
	con.renderLogin(c, http.StatusOK, "", c.Query("next"), "")
}

func (con *Console) renderLogin(c *gin.Context, status int, email, next, errKey string) {
	token := newToken()
	con.setCookie(c, loginCSRFCookie, token, 3600)
	lang := con.lang(c)
	v := &loginView{layout: con.newLayout(c, nil, lang.Text("con_login_title")), Email: email, Next: safeNext(next)}
	v.layout.CSRF = token
	if errKey != "" {
		v.Error = lang.Text(errKey)
	}
	con.render(c, status, "login", v)
}

// loginPost checks the email and password. Every refusal for a wrong
// email, a wrong password or a locked account reads the same, so the form
// tells nobody which emails have accounts; a locked account is not even
// asked for its password until the lock ends.
func (con *Console) loginPost(c *gin.Context) {
	cookie, _ := c.Cookie(loginCSRFCookie)
	if !sameOrigin(c.Request) || !parseForm(c) || cookie == "" ||
		subtle.ConstantTimeCompare([]byte(c.Request.PostForm.Get("csrf")), []byte(cookie)) != 1 {
		con.refuse(c, nil)
		return
	}
	form := c.Request.PostForm
	email, pw, next := strings.TrimSpace(form.Get("email")), form.Get("password"), form.Get("next")
	if ok, _ := con.limiter.Allow(c.ClientIP()); !ok {
		con.renderLogin(c, http.StatusTooManyRequests, email, next, "con_login_slow_down")
		return
	}
	ctx := c.Request.Context()
	u, err := con.opts.Users.ByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Spend the time a real check takes, so timing tells nothing.
		_, _ = password.Verify(con.dummyHash(), pw)
		con.renderLogin(c, http.StatusUnauthorized, email, next, "con_login_wrong")
		return
	case err != nil:
		con.fail(c, err)
		return
	}
	if u.DisabledAt != nil || u.LockedUntil != nil && con.now().Before(*u.LockedUntil) {
		_, _ = password.Verify(con.dummyHash(), pw) // as long as any other refusal
		con.renderLogin(c, http.StatusUnauthorized, email, next, "con_login_wrong")
		return
	}
	ok, err := password.Verify(u.PasswordHash, pw)
	if err != nil {
		con.log.LogAttrs(ctx, slog.LevelError, "stored password hash unreadable", slog.String("user", u.ID))
	}
	if !ok {
		if err := con.opts.Users.LoginFailed(ctx, u.ID, con.opts.LockAfter, con.opts.LockFor); err != nil {
			con.fail(c, err)
			return
		}
		con.log.LogAttrs(ctx, slog.LevelInfo, "console sign-in refused", slog.String("user", u.ID))
		con.renderLogin(c, http.StatusUnauthorized, email, next, "con_login_wrong")
		return
	}
	if err := con.opts.Users.LoginSucceeded(ctx, u.ID); err != nil {
		con.fail(c, err)
		return
	}
	if err := con.startSession(c, u); err != nil {
		con.fail(c, err)
		return
	}
	con.setCookie(c, loginCSRFCookie, "", -1)
	c.Redirect(http.StatusSeeOther, safeNext(next))
}

// logout ends the session. It takes the session's CSRF token, so no other
// site can sign a person out.
func (con *Console) logout(c *gin.Context) {
	v, err := con.viewerOf(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	if v != nil {
		if !con.checkCSRF(c, v.csrf) {
			con.refuse(c, v)
			return
		}
		if err := con.opts.Sessions.Delete(c.Request.Context(), v.token); err != nil {
			con.fail(c, err)
			return
		}
	}
	con.setCookie(c, con.sessionCookie(), "", -1)
	c.Redirect(http.StatusSeeOther, "/console/login")
}

// dummyHash is a hash of nothing under the console's costs, verified
// against for unknown emails.
func (con *Console) dummyHash() string {
	con.dummyOnce.Do(func() { con.dummy, _ = password.Hash(newToken(), con.opts.Passwords) })
	return con.dummy
}
