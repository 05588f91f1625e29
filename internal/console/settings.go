package console

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/store"
)

// The Settings screen (owners): the merchant's time zone, in which the
// dashboard cuts its days and its weeks (Monday to Sunday there).

type settingsView struct {
	layout
	Timezone string
	Errors   formErrors
	Saved    bool
}

// zone is the merchant's time zone: its setting, else
// store.DefaultTimezone.
func (con *Console) zone(ctx context.Context, merchantID string) (*time.Location, error) {
	name := store.DefaultTimezone
	if con.opts.Settings != nil {
		var err error
		if name, err = con.opts.Settings.Timezone(ctx, merchantID); err != nil {
			return nil, err
		}
	}
	return time.LoadLocation(name)
}

func (con *Console) settingsShow(c *gin.Context, v *viewer) {
	loc, err := con.zone(c.Request.Context(), v.user.MerchantID)
	if err != nil {
		con.fail(c, err)
		return
	}
	con.render(c, http.StatusOK, "settings", &settingsView{layout: con.newLayout(c, v, v.lang.Text("con_nav_settings")),
		Timezone: loc.String(), Errors: formErrors{}, Saved: c.Query("saved") == "1"})
}

func (con *Console) settingsSave(c *gin.Context, v *viewer) {
	tz := postForm(c, "timezone")
	if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" || strings.ContainsAny(tz, " \\") ||
		con.opts.Settings == nil {
		con.render(c, http.StatusUnprocessableEntity, "settings", &settingsView{
			layout: con.newLayout(c, v, v.lang.Text("con_nav_settings")), Timezone: tz,
			Errors: formErrors{"timezone": v.lang.Text("con_settings_bad_zone")}})
		return
	}
	err := con.opts.Settings.SetTimezone(c.Request.Context(), v.user.MerchantID, tz,
		store.AuditEntry{UserID: v.user.ID, UserEmail: v.user.Email, Action: "settings.timezone", Detail: tz})
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/settings?saved=1")
}
