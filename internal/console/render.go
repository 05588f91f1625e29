package console

import (
	"bytes"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/assets"
)

// pages holds one template set per page; each page file defines "body"
// (and may define "scripts") and is executed through "layout".
type pages map[string]*template.Template

// pageNames lists the page files under assets/console; each is parsed
// with layout.html and parts.html (the charts' and previews' markup).
var pageNames = []string{"login", "message", "customers", "customer", "programs", "program", "cashier",
	"reports", "keys", "webhooks", "dashboard", "campaigns", "campaign", "automations", "automation", "coupons", "coupon",
	"users", "password", "settings"}

// mustParsePages parses the embedded templates. missingkey=error turns a
// mistyped catalogue key into an execution error instead of an empty text.
func mustParsePages() pages {
	base := template.Must(template.New("layout.html").Option("missingkey=error").Funcs(templateFuncs).
		ParseFS(assets.Console, "console/layout.html", "console/parts.html"))
	ps := make(pages, len(pageNames))
	for _, name := range pageNames {
		ps[name] = template.Must(template.Must(base.Clone()).ParseFS(assets.Console, "console/"+name+".html"))
	}
	return ps
}

// view is implemented by every page's data through its embedded layout.
type view interface{ base() *layout }

// layout is what the page frame needs.
type layout struct {
	Lang  string
	T     map[string]string
	Title string
	// Nav, User and Role are empty on the sign-in page.
	Nav        []navEntry
	User, Role string
	// CSRF goes into every form of the page; FormToken into a form that
	// creates something, made fresh for each page, so the same form sent
	// twice creates once (audited in audit.go).
	CSRF, FormToken string
	// Langs are the other languages, for the switch in the footer; Here
	// is the request path the switch returns to.
	Langs []langLink
	Here  string
	// Static maps a file name to its URL; Scripts lists the page's own.
	Static  map[string]string
	Scripts []string
}

type langLink struct{ Tag, Name string }

func (l *layout) base() *layout { return l }

// newLayout is the frame of a page for v (nil: nobody is signed in).
func (con *Console) newLayout(c *gin.Context, v *viewer, title string) layout {
	lang := con.lang(c)
	l := layout{Lang: lang.Tag(), T: lang.Texts(), Title: title, Here: c.Request.URL.Path, Static: con.static.urls}
	if v != nil {
		lang = v.lang
		l.Lang, l.T = lang.Tag(), lang.Texts()
		l.Nav, l.User, l.Role, l.CSRF = con.nav(v, c.Request.URL.Path), v.user.Email, lang.Text("con_role_"+string(v.role)), v.csrf
		l.FormToken = newToken()
	}
	for _, tag := range con.texts.Tags() {
		if tag != l.Lang {
			l.Langs = append(l.Langs, langLink{Tag: tag, Name: con.texts.Lang(tag).Name()})
		}
	}
	return l
}

// contentPolicy admits only this server's own styles, scripts and images:
// no inline code at all, no other origin.
const contentPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// render executes page name into a buffer, so a template error still
// yields a clean 500, and writes it.
func (con *Console) render(c *gin.Context, status int, name string, v view) {
	var buf bytes.Buffer
	if err := con.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		con.log.LogAttrs(c.Request.Context(), slog.LevelError, "console template",
			slog.String("page", name), slog.String("err", err.Error()))
		c.String(http.StatusInternalServerError, "internal error\n")
		c.Abort()
		return
	}
	c.Header("Content-Security-Policy", contentPolicy)
	// The camera is for the cashier's scanner; nothing else is used.
	c.Header("Permissions-Policy", "camera=(self), microphone=(), geolocation=(), payment=()")
	c.Header("Vary", "Accept-Language, Cookie")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// messageView is a page with a heading and a sentence.
type messageView struct {
	layout
	Heading, Body string
}

func (con *Console) message(c *gin.Context, v *viewer, status int, headingKey, bodyKey string) {
	lang := con.lang(c)
	if v != nil {
		lang = v.lang
	}
	heading := lang.Text(headingKey)
	con.render(c, status, "message", &messageView{layout: con.newLayout(c, v, heading), Heading: heading,
		Body: lang.Text(bodyKey)})
}

// forbidden answers a role that may not use a route.
func (con *Console) forbidden(c *gin.Context, v *viewer) {
	con.message(c, v, http.StatusForbidden, "con_forbidden_title", "con_forbidden_body")
}

// refuse answers a form without its CSRF token, or from another site.
func (con *Console) refuse(c *gin.Context, v *viewer) {
	con.message(c, v, http.StatusForbidden, "con_refused_title", "con_refused_body")
}

func (con *Console) notFound(c *gin.Context) {
	v, _ := con.viewerOf(c)
	con.message(c, v, http.StatusNotFound, "con_notfound_title", "con_notfound_body")
}

// fail logs err once (when there is one) and answers with the error page,
// which says nothing of the cause.
func (con *Console) fail(c *gin.Context, err error) {
	if err != nil {
		con.log.LogAttrs(c.Request.Context(), slog.LevelError, "console request failed",
			slog.String("route", c.FullPath()), slog.String("err", err.Error()))
	}
	var v *viewer
	if x, ok := c.Get(viewerKey); ok {
		v = x.(*viewer)
	}
	con.message(c, v, http.StatusInternalServerError, "con_error_title", "con_error_body")
}
