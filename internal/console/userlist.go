package console

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/password"
	"github.com/loyalpass/loyalpass/internal/store"
)

// The Users screen (owners): the merchant's people, a new one with a
// role and a generated password shown once (on the answer to the post,
// never in a URL), and disabling one (their sessions end; the audit log
// keeps their name). And the Password screen, for every role: a person
// changes their own password, the current one required.

type usersView struct {
	layout
	Users  []userRow
	Roles  []option
	Email  string
	Errors formErrors
	// New is the account just made and Password its password, this once.
	New, Password string
}

type userRow struct {
	ID, Email, Role, Created, Disabled string
	Self                               bool
}

func (con *Console) usersShow(c *gin.Context, v *viewer) {
	con.renderUsers(c, v, http.StatusOK, usersView{Errors: formErrors{}})
}

func (con *Console) renderUsers(c *gin.Context, v *viewer, status int, uv usersView) {
	users, err := con.opts.Users.List(c.Request.Context(), v.user.MerchantID)
	if err != nil {
		con.fail(c, err)
		return
	}
	l := v.lang
	uv.layout = con.newLayout(c, v, l.Text("con_nav_users"))
	role := postForm(c, "role")
	if role == "" {
		role = string(Cashier)
	}
	for _, r := range Roles {
		uv.Roles = append(uv.Roles, option{Value: string(r), Text: l.Text("con_role_" + string(r)), Selected: string(r) == role})
	}
	for _, u := range users {
		row := userRow{ID: u.ID, Email: u.Email, Role: l.Text("con_role_" + u.Role), Created: when(l, u.CreatedAt), Self: u.ID == v.user.ID}
		if u.DisabledAt != nil {
			row.Disabled = when(l, *u.DisabledAt)
		}
		uv.Users = append(uv.Users, row)
	}
	con.render(c, status, "users", &uv)
}

// usersCreate makes an account with a generated password (CreateUser, as
// `loyalpass users create` does) and shows the password once.
func (con *Console) usersCreate(c *gin.Context, v *viewer) {
	email := store.NormalizeEmail(postForm(c, "email"))
	uv := usersView{Email: email, Errors: formErrors{}}
	role, err := ParseRole(postForm(c, "role"))
	if err != nil {
		uv.Errors["role"] = v.lang.Text("con_users_bad_role")
		con.renderUsers(c, v, http.StatusUnprocessableEntity, uv)
		return
	}
	pw, err := CreateUser(c.Request.Context(), con.opts.Users, NewUser{MerchantID: v.user.MerchantID, Email: email, Role: role,
		By: v.user.Email, ByID: v.user.ID, Params: con.opts.Passwords})
	switch {
	case errors.Is(err, store.ErrConflict):
		uv.Errors["email"] = v.lang.Text("con_users_taken")
	case err != nil && strings.HasPrefix(err.Error(), "email"):
		uv.Errors["email"] = v.lang.Text("con_users_bad_email")
	case err != nil:
		con.fail(c, err)
		return
	}
	if len(uv.Errors) > 0 {
		con.renderUsers(c, v, http.StatusUnprocessableEntity, uv)
		return
	}
	uv.New, uv.Password, uv.Email = email, pw, ""
	con.renderUsers(c, v, http.StatusCreated, uv)
}

// usersDisable disables a user of the merchant; an owner cannot disable
// themselves (and so lock the merchant out).
func (con *Console) usersDisable(c *gin.Context, v *viewer) {
	id := c.Param("id")
	if id == v.user.ID {
		uv := usersView{Errors: formErrors{"": v.lang.Text("con_users_not_self")}}
		con.renderUsers(c, v, http.StatusConflict, uv)
		return
	}
	err := con.opts.Users.Disable(c.Request.Context(), v.user.MerchantID, id,
		store.AuditEntry{UserID: v.user.ID, UserEmail: v.user.Email, Action: "user.disable"})
	switch {
	case errors.Is(err, store.ErrNotFound):
		con.notFound(c)
		return
	case errors.Is(err, store.ErrConflict): // disabled already: the form was sent twice
	case err != nil:
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/users")
}

type passwordView struct {
	layout
	Errors formErrors
	Done   bool
}

// minPassword and maxPassword bound a chosen password, in characters.
const minPassword, maxPassword = 10, 256

func (con *Console) passwordShow(c *gin.Context, v *viewer) {
	con.render(c, http.StatusOK, "password", &passwordView{layout: con.newLayout(c, v, v.lang.Text("con_nav_password")),
		Errors: formErrors{}, Done: c.Query("done") == "1"})
}

// passwordChange sets the viewer's new password once the current one is
// verified; a wrong current password counts as a failed sign-in, so the
// form cannot be used to guess it. The viewer's other sessions end.
func (con *Console) passwordChange(c *gin.Context, v *viewer) {
	ctx := c.Request.Context()
	l := v.lang
	current, next, again := c.Request.PostForm.Get("current_password"), c.Request.PostForm.Get("new_password"),
		c.Request.PostForm.Get("confirm_password")
	errs := formErrors{}
	ok, err := password.Verify(v.user.PasswordHash, current)
	if err != nil {
		con.fail(c, err)
		return
	}
	switch n := utf8.RuneCountInString(next); {
	case !ok:
		errs["current_password"] = l.Text("con_password_wrong")
		if err := con.opts.Users.LoginFailed(ctx, v.user.ID, con.opts.LockAfter, con.opts.LockFor); err != nil {
			con.fail(c, err)
			return
		}
	case n < minPassword || n > maxPassword:
		errs["new_password"] = l.Text("con_password_length", "min", l.Int(minPassword), "max", l.Int(maxPassword))
	case next == current:
		errs["new_password"] = l.Text("con_password_same")
	case next != again:
		errs["confirm_password"] = l.Text("con_password_mismatch")
	}
	if len(errs) > 0 {
		con.render(c, http.StatusUnprocessableEntity, "password", &passwordView{
			layout: con.newLayout(c, v, l.Text("con_nav_password")), Errors: errs})
		return
	}
	hash, err := password.Hash(next, con.opts.Passwords)
	if err != nil {
		con.fail(c, err)
		return
	}
	err = con.opts.Users.SetPassword(ctx, v.user.ID, v.user.PasswordHash, hash, v.token,
		store.AuditEntry{MerchantID: v.user.MerchantID, UserID: v.user.ID, UserEmail: v.user.Email, Action: "user.password",
			Subject: v.user.Email})
	if errors.Is(err, store.ErrConflict) {
		con.render(c, http.StatusConflict, "password", &passwordView{layout: con.newLayout(c, v, l.Text("con_nav_password")),
			Errors: formErrors{"": l.Text("con_password_changed_meanwhile")}})
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/password?done=1")
}
