package console

import (
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/store"
)

// viewer is the signed-in person a request is made by.
type viewer struct {
	user  store.User
	role  Role
	csrf  string // the session's CSRF token, in every form
	token string // the session cookie's value
	lang  *locale.Lang
}

const viewerKey = "console_viewer"

// sessionCookie names the session cookie. With Secure it takes the
// __Host- prefix, so the browser also insists on Path=/ and no Domain:
// no other host under the same domain can set or shadow it.
func (con *Console) sessionCookie() string {
	if con.secure {
		return "__Host-lp_console"
	}
	return "lp_console"
}

// newToken returns 256 bits of randomness, base32 (52 characters).
func newToken() string { return rand.Text() + rand.Text() }

// setCookie writes an HttpOnly, SameSite=Strict cookie, Secure unless the
// console runs on http://localhost. maxAge < 0 deletes it.
func (con *Console) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: con.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// startSession signs u in: a new session, its cookie, and a fresh CSRF
// token (a token shown before signing in is never reused after).
func (con *Console) startSession(c *gin.Context, u store.User) error {
	token := newToken()
	if _, err := con.opts.Sessions.Create(c.Request.Context(), token,
		store.Session{UserID: u.ID, CSRFToken: newToken()}, con.opts.SessionTTL); err != nil {
		return err
	}
	con.setCookie(c, con.sessionCookie(), token, int(con.opts.SessionTTL.Seconds()))
	return nil
}

// viewerOf returns the signed-in viewer of the request, if any.
func (con *Console) viewerOf(c *gin.Context) (*viewer, error) {
	token, err := c.Cookie(con.sessionCookie())
	if err != nil || token == "" || len(token) > 128 {
		return nil, nil
	}
	sess, u, err := con.opts.Sessions.Get(c.Request.Context(), token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	role, err := ParseRole(u.Role)
	if err != nil {
		return nil, nil // a role this binary does not know opens nothing
	}
	v := &viewer{user: u, role: role, csrf: sess.CSRFToken, token: token, lang: con.lang(c)}
	c.Set(viewerKey, v)
	return v, nil
}

// signedIn returns the viewer, or answers for the anonymous: a page
// request goes to the sign-in with a way back, a form post is refused.
func (con *Console) signedIn(c *gin.Context) (*viewer, bool) {
	v, err := con.viewerOf(c)
	if err != nil {
		con.fail(c, err)
		return nil, false
	}
	if v != nil {
		return v, true
	}
	if c.Request.Method == http.MethodGet {
		c.Redirect(http.StatusSeeOther, "/console/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
	} else {
		c.Redirect(http.StatusSeeOther, "/console/login")
	}
	c.Abort()
	return nil, false
}

// safeNext returns next if it is a console path of this site, else
// /console: the sign-in never redirects elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/console"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/console"
	}
	return next
}

const langCookie = "lp_lang"

// lang is the viewer's language: the one they chose (a cookie), else the
// browser's, else Russian.
func (con *Console) lang(c *gin.Context) *locale.Lang {
	if tag, err := c.Cookie(langCookie); err == nil && con.texts.Has(tag) {
		return con.texts.Lang(tag)
	}
	return con.texts.Lang(con.texts.Pick(c.GetHeader("Accept-Language"), "ru"))
}

// setLang remembers a chosen language and goes back to the console.
func (con *Console) setLang(c *gin.Context) {
	if tag := c.Param("tag"); con.texts.Has(tag) {
		con.setCookie(c, langCookie, tag, 365*24*3600)
	}
	c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
}
