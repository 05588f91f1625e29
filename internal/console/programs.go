package console

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// The Programs screen: the list of the merchant's programs with a form
// for a new one. Each program's settings and its card designer are in
// program.go; both read and write through the API's program routes.

type programsView struct {
	layout
	Programs []programRow
	Name     string
	Kinds    []option
	Errors   formErrors
}

type programRow struct {
	ID, Name, Kind, EarnRate, Welcome string
	BG, FG                            string
}

func (con *Console) programsShow(c *gin.Context, v *viewer) {
	con.renderPrograms(c, v, http.StatusOK, "", formErrors{})
}

func (con *Console) renderPrograms(c *gin.Context, v *viewer, status int, name string, errs formErrors) {
	ps, err := con.programs(c, v)
	if err != nil {
		con.fail(c, err)
		return
	}
	pv := &programsView{layout: con.newLayout(c, v, v.lang.Text("con_nav_programs")), Name: name, Errors: errs}
	for _, k := range loyalty.Kinds {
		pv.Kinds = append(pv.Kinds, option{Value: k, Text: v.lang.Text("con_kind_" + k), Selected: k == loyalty.KindPoints})
	}
	for _, p := range ps {
		pv.Programs = append(pv.Programs, programRow{ID: p.ID, Name: p.Name, Kind: v.lang.Text("con_kind_" + p.Kind),
			EarnRate: v.lang.EarnRate(p.EarnRateBP), Welcome: v.lang.Points(p.WelcomeBonus),
			BG: p.Design.BackgroundColor, FG: p.Design.ForegroundColor})
	}
	con.render(c, status, "programs", pv)
}

// programs lists the merchant's programs (the first 200).
func (con *Console) programs(c *gin.Context, v *viewer) ([]apiProgram, error) {
	var out struct {
		Programs []apiProgram `json:"programs"`
	}
	err := con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodGet, "/api/v1/programs?limit=200", nil, "", &out)
	return out.Programs, err
}

// programsCreate makes a program with the API's defaults and opens its
// settings.
func (con *Console) programsCreate(c *gin.Context, v *viewer) {
	name, kind := postForm(c, "name"), postForm(c, "kind")
	body := map[string]any{"name": name}
	// A kind's settings that have no default start with a sample, changed
	// on the program's page.
	switch kind {
	case "":
	case loyalty.KindStamps:
		body["kind"], body["stamps_required"], body["reward"] = kind, 6, v.lang.Text("con_sample_reward")
	case loyalty.KindCoupon:
		body["kind"], body["offer"], body["valid_days"] = kind, v.lang.Text("con_sample_offer"), 30
	default:
		body["kind"] = kind
	}
	token := formToken(c)
	if token == "" {
		con.renderPrograms(c, v, http.StatusUnprocessableEntity, name, formErrors{"": v.lang.Text("con_err_reload")})
		return
	}
	var p apiProgram
	ctx := con.audited(c, v, store.AuditEntry{Action: "program.create", Ref: "form:" + token})
	err := con.api.call(ctx, v.user.MerchantID, http.MethodPost, "/api/v1/programs", body, "", &p)
	if formUsed(err) { // sent twice: open what the first one made
		con.openMade(c, v, token, "/console/programs/")
		return
	}
	if ae, ok := asAPIError(err); ok {
		errs := formErrors{}
		errs.fromAPI(ae, v.lang, nil)
		con.renderPrograms(c, v, http.StatusUnprocessableEntity, name, errs)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/programs/"+url.PathEscape(p.ID))
}

type option struct {
	Value, Text string
	Selected    bool
}
