package console

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// route is one path of the console: who may use it and what serves it.
// Every route but the sign-in, sign-out and static files is one of these,
// so no screen or action can be mounted without a role check.
type route struct {
	method, path string
	// allow lists the roles that may use the route; the others get 403.
	allow  []Role
	handle func(c *gin.Context, v *viewer)
	// nav, when set, is the text key of the route's navigation entry,
	// shown to the roles in allow, in table order.
	nav string
}

// table lists the console's routes. Adding a screen is a line here (its
// path, roles and, for a navigation entry, its text key) and a file with
// its show and save handlers. The first navigation entry a role may use is
// where /console takes it.
func (con *Console) table() []route {
	const get, post = http.MethodGet, http.MethodPost
	return []route{
		{method: get, path: "/console/dashboard", allow: staff, nav: "con_nav_dashboard", handle: con.dashboardShow},

		{method: get, path: "/console/customers", allow: staff, nav: "con_nav_customers", handle: con.customersShow},
		{method: post, path: "/console/customers", allow: staff, handle: con.customersIssue},
		{method: get, path: "/console/customers/:id", allow: staff, handle: con.customerShow},
		{method: post, path: "/console/customers/:id/adjust", allow: staff, handle: con.customerAdjust},

		{method: get, path: "/console/programs", allow: staff, nav: "con_nav_programs", handle: con.programsShow},
		{method: post, path: "/console/programs", allow: staff, handle: con.programsCreate},
		{method: get, path: "/console/programs/:id", allow: staff, handle: con.programShow},
		{method: post, path: "/console/programs/:id", allow: staff, handle: con.programSave},
		{method: get, path: "/console/programs/:id/preview", allow: staff, handle: con.programPreview},
		{method: get, path: "/console/programs/:id/image/:name", allow: staff, handle: con.programImage},
		{method: post, path: "/console/programs/:id/images", allow: staff, handle: con.programImageUpload},
		{method: get, path: "/console/programs/:id/poster/:format", allow: staff, handle: con.programPoster},

		{method: get, path: "/console/campaigns", allow: staff, nav: "con_nav_campaigns", handle: con.campaignsShow},
		{method: post, path: "/console/campaigns", allow: staff, handle: con.campaignsCreate},
		{method: get, path: "/console/campaigns/preview", allow: staff, handle: con.campaignPreviewJSON},
		{method: get, path: "/console/campaigns/:id", allow: staff, handle: con.campaignShow},
		{method: post, path: "/console/campaigns/:id/:action", allow: staff, handle: con.campaignAct},

		{method: get, path: "/console/automations", allow: staff, nav: "con_nav_automations", handle: con.automationsShow},
		{method: post, path: "/console/automations", allow: staff, handle: con.automationsCreate},
		{method: get, path: "/console/automations/:id", allow: staff, handle: con.automationShow},
		{method: post, path: "/console/automations/:id/:action", allow: staff, handle: con.automationAct},

		{method: get, path: "/console/coupons", allow: staff, nav: "con_nav_coupons", handle: con.couponsShow},
		{method: post, path: "/console/coupons", allow: staff, handle: con.couponsStart},
		{method: get, path: "/console/coupons/:id", allow: staff, handle: con.couponJobShow},

		{method: get, path: "/console/cashier", allow: everyone, nav: "con_nav_cashier", handle: con.cashierShow},
		{method: post, path: "/console/cashier", allow: everyone, handle: con.cashierPost},

		{method: get, path: "/console/reports", allow: staff, nav: "con_nav_reports", handle: con.reportsShow},

		{method: get, path: "/console/keys", allow: owners, nav: "con_nav_keys", handle: con.keysShow},
		{method: post, path: "/console/keys", allow: owners, handle: con.keysCreate},
		{method: post, path: "/console/keys/:id/revoke", allow: owners, handle: con.keysRevoke},

		{method: get, path: "/console/webhooks", allow: owners, nav: "con_nav_webhooks", handle: con.webhooksShow},
		{method: post, path: "/console/webhooks", allow: owners, handle: con.webhooksCreate},
		{method: post, path: "/console/webhooks/:id/delete", allow: owners, handle: con.webhooksDelete},

		{method: get, path: "/console/users", allow: owners, nav: "con_nav_users", handle: con.usersShow},
		{method: post, path: "/console/users", allow: owners, handle: con.usersCreate},
		{method: post, path: "/console/users/:id/disable", allow: owners, handle: con.usersDisable},

		{method: get, path: "/console/settings", allow: owners, nav: "con_nav_settings", handle: con.settingsShow},
		{method: post, path: "/console/settings", allow: owners, handle: con.settingsSave},

		{method: get, path: "/console/password", allow: everyone, nav: "con_nav_password", handle: con.passwordShow},
		{method: post, path: "/console/password", allow: everyone, handle: con.passwordChange},

		{method: get, path: "/console", allow: everyone, handle: con.home},
	}
}

// register mounts the public routes and the table, each table route
// behind the session, the role check and, for POST, the CSRF check.
func (con *Console) register(r gin.IRouter) {
	r.GET("/console/login", con.loginShow)
	r.POST("/console/login", con.loginPost)
	r.POST("/console/logout", con.logout)
	r.GET("/console/lang/:tag", con.setLang)
	r.GET("/console/static/:hash/*name", con.serveStatic)
	for _, rt := range con.routes {
		if len(rt.allow) == 0 {
			panic("console: route " + rt.path + " names no role") // caught by the role-matrix test
		}
		rt := rt
		r.Handle(rt.method, rt.path, func(c *gin.Context) {
			v, ok := con.signedIn(c)
			if !ok {
				return
			}
			if !may(v.role, rt.allow) {
				con.forbidden(c, v)
				return
			}
			if rt.method == http.MethodPost && !con.checkCSRF(c, v.csrf) {
				con.refuse(c, v)
				return
			}
			rt.handle(c, v)
		})
	}
}

// navEntry is one link of the navigation.
type navEntry struct {
	Path, Text string
	Current    bool
}

// nav lists the navigation entries role may use, marking the one that
// holds current (a request path).
func (con *Console) nav(v *viewer, current string) []navEntry {
	var out []navEntry
	for _, rt := range con.routes {
		if rt.nav == "" || !may(v.role, rt.allow) {
			continue
		}
		out = append(out, navEntry{Path: rt.path, Text: v.lang.Text(rt.nav),
			Current: current == rt.path || len(current) > len(rt.path) && current[:len(rt.path)+1] == rt.path+"/"})
	}
	return out
}

// home sends the viewer to the first screen their role may use.
func (con *Console) home(c *gin.Context, v *viewer) {
	if n := con.nav(v, ""); len(n) > 0 {
		c.Redirect(http.StatusSeeOther, n[0].Path)
		return
	}
	con.forbidden(c, v)
}
