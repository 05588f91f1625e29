package landing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// JoinProgram is what a program's join page shows.
type JoinProgram struct {
	// Code is the program's join code (/j/{code}).
	Code                          string
	ProgramName, OrganizationName string
	Locale                        string
	BackgroundColor               string
	ForegroundColor               string
	// WelcomeBonus is credited to a new card; 0 shows no offer.
	WelcomeBonus int64
	// AskName and AskBirthday show the optional fields.
	AskName, AskBirthday bool
	// PersonalDataText and AdsText are the program's own consent texts;
	// "" shows the catalogue's in the page's language.
	PersonalDataText, AdsText string
	// Referral is the referral code of the link the customer came by, and
	// FriendPoints what the friend gets for a first purchase.
	Referral     string
	FriendPoints int64
}

// JoinRequest is a filled-in join form, checked, to text a code for.
type JoinRequest struct {
	Phone, Name, Birthday string
	// PersonalDataText is the consent text the customer agreed to;
	// AdsText the advertising one, "" when its box was left unticked.
	PersonalDataText, AdsText string
	Referral                  string
	IP, UserAgent             string
	// Lang is the page's language, for the text with the code.
	Lang string
}

// JoinSource runs the join behind the pages.
type JoinSource interface {
	// JoinProgram returns the program of a join code; ReferralProgram
	// that of a referral code, with Referral set. Unknown codes are
	// ErrNotFound.
	JoinProgram(ctx context.Context, code string) (JoinProgram, error)
	ReferralProgram(ctx context.Context, referral string) (JoinProgram, error)
	// SendCode texts a code for the request and returns the phone in
	// E.164. It answers the same whether or not the phone has a card;
	// ErrBadPhone and *RetryError refuse.
	SendCode(ctx context.Context, code string, r JoinRequest) (string, error)
	// Verify checks the code texted to phone; a good one joins (or
	// restores the card of) the customer and returns the URL of their
	// card's page. *WrongCodeError and ErrCodeGone refuse.
	Verify(ctx context.Context, code, phone, smsCode string) (string, error)
}

// JoinViews is what a JoinSource may do besides: count each showing of
// the join page (for the dashboard's join funnel).
type JoinViews interface {
	JoinViewed(ctx context.Context, code string)
}

// Refusals of a JoinSource.
var (
	// ErrBadPhone is a number no text can go to.
	ErrBadPhone = errors.New("landing: not a mobile phone number")
	// ErrCodeGone is a code that expired, was used, or was killed by
	// wrong tries: the customer must ask for a new one.
	ErrCodeGone = errors.New("landing: code expired")
)

// WrongCodeError is a wrong code with Left tries before it dies.
type WrongCodeError struct{ Left int }

func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("landing: wrong code, %d tries left", e.Left)
}

// RetryError refuses a code for now: a limit is reached until At.
// Budget tells that the program's SMS budget for the day is spent.
type RetryError struct {
	At     time.Time
	Budget bool
}

func (e *RetryError) Error() string {
	return "landing: rate limited until " + e.At.Format(time.RFC3339)
}

// Join serves the join pages: /j/{code} (the form; posting it texts a
// code and shows the code page), /j/{code}/verify (the code; a good one
// redirects to the card's page) and /r/{code} (the form, from a friend's
// referral link). Build it with NewJoin and mount it with Register.
type Join struct {
	*Handler
	join JoinSource
	now  func() time.Time
}

// NewJoin returns the join pages over src.
func NewJoin(src JoinSource, log *slog.Logger, opts ...Option) *Join {
	return &Join{Handler: New(nil, log, opts...), join: src, now: time.Now}
}

// Register adds the join routes to r.
func (j *Join) Register(r gin.IRouter) {
	g := r.Group("", securityHeaders)
	g.GET("/j/:code", j.showForm)
	g.POST("/j/:code", j.submitForm)
	g.POST("/j/:code/verify", j.verify)
	g.GET("/r/:code", j.showReferral)
}

// program loads the program of the route's join code, answering with the
// 404 or error page itself when it cannot.
func (j *Join) program(c *gin.Context, referral bool) (JoinProgram, bool) {
	code := c.Param("code")
	if !validToken(code) {
		j.notFound(c)
		return JoinProgram{}, false
	}
	var p JoinProgram
	var err error
	if referral {
		p, err = j.join.ReferralProgram(c.Request.Context(), code)
	} else {
		p, err = j.join.JoinProgram(c.Request.Context(), code)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		j.notFound(c)
		return JoinProgram{}, false
	case err != nil:
		j.fail(c, "load join program", err, code)
		return JoinProgram{}, false
	}
	return p, true
}

// refuseCrossSite refuses a form posted from another site's page.
func (j *Join) refuseCrossSite(c *gin.Context) bool {
	if c.GetHeader("Sec-Fetch-Site") == "cross-site" {
		j.refuse(c, http.StatusForbidden)
		return true
	}
	return false
}

func (j *Join) showForm(c *gin.Context) {
	p, ok := j.program(c, false)
	if !ok {
		return
	}
	j.viewed(c, p)
	lang := j.lang(c, p.Locale)
	j.render(c, http.StatusOK, "join", newJoinView(p, lang, joinForm{}, nil))
}

func (j *Join) showReferral(c *gin.Context) {
	p, ok := j.program(c, true)
	if !ok {
		return
	}
	j.viewed(c, p)
	lang := j.lang(c, p.Locale)
	j.render(c, http.StatusOK, "join", newJoinView(p, lang, joinForm{Ref: p.Referral}, nil))
}

// viewed counts a showing of p's join page, where the source counts them.
func (j *Join) viewed(c *gin.Context, p JoinProgram) {
	if v, ok := j.join.(JoinViews); ok {
		v.JoinViewed(c.Request.Context(), p.Code)
	}
}

// submitForm checks the form and asks for a code; the code page follows,
// the same whoever the phone belongs to.
func (j *Join) submitForm(c *gin.Context) {
	if j.refuseCrossSite(c) {
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxJoinForm)
	p, ok := j.program(c, false)
	if !ok {
		return
	}
	lang := j.lang(c, p.Locale)
	f := parseJoinForm(c)
	if f.Ref != "" {
		p.Referral = f.Ref
	}
	v := newJoinView(p, lang, f, nil)
	if errs := f.validate(lang, v.PDVersion); len(errs) > 0 {
		v.Errors = errs
		j.render(c, http.StatusUnprocessableEntity, "join", v)
		return
	}
	if f.Honeypot != "" {
		// A bot filled the field no person sees: it is shown the code
		// page, and nothing is sent.
		j.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "join form honeypot filled")
		j.render(c, http.StatusOK, "code", newCodeView(p, lang, f, f.Phone))
		return
	}
	req := JoinRequest{Phone: f.Phone, Name: f.Name, Birthday: f.Birthday, PersonalDataText: v.PDText,
		Referral: f.Ref, IP: c.ClientIP(), UserAgent: c.Request.UserAgent(), Lang: lang.Tag()}
	if f.Ads {
		req.AdsText = v.AdsText
	}
	phone, err := j.join.SendCode(c.Request.Context(), p.Code, req)
	var retry *RetryError
	switch {
	case errors.Is(err, ErrBadPhone):
		v.Errors = map[string]string{"phone": lang.Text("join_err_phone_invalid")}
		j.render(c, http.StatusUnprocessableEntity, "join", v)
		return
	case errors.As(err, &retry):
		j.limited(c, lang, retry, "/j/"+p.Code)
		return
	case err != nil:
		j.fail(c, "send join code", err, p.Code)
		return
	}
	j.render(c, http.StatusOK, "code", newCodeView(p, lang, f, phone))
}

// verify checks the code and sends the customer on to their card.
func (j *Join) verify(c *gin.Context) {
	if j.refuseCrossSite(c) {
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxJoinForm)
	p, ok := j.program(c, false)
	if !ok {
		return
	}
	lang := j.lang(c, p.Locale)
	f := parseJoinForm(c)
	code := c.PostForm("code")
	v := newCodeView(p, lang, f, f.Phone)
	if f.Phone == "" || len(f.Phone) > 20 {
		j.refuse(c, http.StatusBadRequest)
		return
	}
	if !validSMSCode(code) {
		v.Error = lang.Text("code_invalid")
		j.render(c, http.StatusUnprocessableEntity, "code", v)
		return
	}
	target, err := j.join.Verify(c.Request.Context(), p.Code, f.Phone, code)
	var wrong *WrongCodeError
	switch {
	case errors.As(err, &wrong):
		v.Error = lang.Plural("code_wrong", int64(wrong.Left))
		j.render(c, http.StatusUnprocessableEntity, "code", v)
		return
	case errors.Is(err, ErrCodeGone):
		v.Error, v.Gone = lang.Text("code_gone"), true
		j.render(c, http.StatusGone, "code", v)
		return
	case err != nil:
		j.fail(c, "verify join code", err, p.Code)
		return
	}
	c.Redirect(http.StatusSeeOther, target)
}

// limited answers 429 with a page that says when to try again.
func (j *Join) limited(c *gin.Context, lang *locale.Lang, e *RetryError, back string) {
	wait := max(e.At.Sub(j.now()), time.Second)
	minutes := int64(math.Ceil(wait.Minutes()))
	c.Header("Retry-After", strconv.FormatInt(int64(math.Ceil(wait.Seconds())), 10))
	v := newMessageView(lang, "limited_title", "limited_title")
	v.Body = lang.Plural("limited_body", minutes)
	if e.Budget {
		v.Body = lang.Text("limited_budget")
	}
	v.Back = back
	v.BackText = lang.Text("join_title")
	j.render(c, http.StatusTooManyRequests, "message", v)
}

func validSMSCode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// maxJoinForm caps the form bodies: a few short fields.
const maxJoinForm = 8 << 10

// joinView is the data of the join form.
type joinView struct {
	layout
	Program, Org, Intro  string
	Action               string
	Welcome, Referral    string
	AskName, AskBirthday bool
	PDText, AdsText      string
	PDVersion            string
	Form                 joinForm
	// Errors holds a message per form field ("phone", "birthday", …).
	Errors map[string]string
}

func newJoinView(p JoinProgram, lang *locale.Lang, f joinForm, errs map[string]string) *joinView {
	org := p.OrganizationName
	if org == "" {
		org = p.ProgramName
	}
	v := &joinView{layout: newLayout(lang, p.ProgramName, p.BackgroundColor, p.ForegroundColor),
		Program: p.ProgramName, Org: p.OrganizationName, Action: "/j/" + p.Code,
		AskName: p.AskName, AskBirthday: p.AskBirthday, Form: f, Errors: errs,
		PDText: p.PersonalDataText, AdsText: p.AdsText}
	if v.Program == v.Org {
		v.Org = ""
	}
	if v.PDText == "" {
		v.PDText = lang.Text("join_consent_pd_default", "org", org)
	}
	if v.AdsText == "" {
		v.AdsText = lang.Text("join_consent_ads_default", "org", org)
	}
	v.PDVersion = loyalty.TextVersion(v.PDText)
	if p.WelcomeBonus > 0 {
		v.Welcome = lang.Text("join_welcome", "points", lang.Points(p.WelcomeBonus))
	}
	if p.Referral != "" {
		v.Referral = lang.Text("join_referral_plain")
		if p.FriendPoints > 0 {
			v.Referral = lang.Text("join_referral", "points", lang.Points(p.FriendPoints))
		}
	}
	return v
}

// codeView is the page that takes the texted code.
type codeView struct {
	layout
	Program, Org   string
	Action, Resend string
	Phone, Sent    string
	Form           joinForm
	PDVersion      string
	Error          string
	Gone           bool
}

func newCodeView(p JoinProgram, lang *locale.Lang, f joinForm, phone string) *codeView {
	jv := newJoinView(p, lang, f, nil)
	f.Phone = phone
	return &codeView{layout: newLayout(lang, lang.Text("code_title"), p.BackgroundColor, p.ForegroundColor),
		Program: jv.Program, Org: jv.Org, Action: "/j/" + p.Code + "/verify", Resend: "/j/" + p.Code,
		Phone: phone, Sent: lang.Text("code_sent", "phone", phone), Form: f, PDVersion: jv.PDVersion}
}
