package console

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// The Coupons screen (owners, managers): a coupon program's coupon issued
// to a segment of another program's customers (its active cards, in a
// tier, who bought nothing for some days), as the API's coupon issue job;
// the program's recent jobs with their progress, and a job's own page.

// recentIssues is how many of a program's jobs the screen shows.
const recentIssues = 10

type couponsView struct {
	layout
	// Programs are the coupon programs; Sources every program.
	Programs, Sources []option
	Form              couponIssueForm
	Errors            formErrors
	Jobs              []couponJobRow
}

type couponIssueForm struct{ ProgramID, SourceProgramID, Tier, InactiveDays string }

type couponJobRow struct {
	ID, Program, Source, Segment, Status, StatusClass, Created string
	Total, Issued, Existing, Failed, Pending, Done             string
	Percent                                                    int
}

// apiCouponIssue is a coupon issue job as the API answers it.
type apiCouponIssue struct {
	ID              string    `json:"id"`
	ProgramID       string    `json:"program_id"`
	SourceProgramID string    `json:"source_program_id"`
	Tier            string    `json:"tier"`
	InactiveDays    int       `json:"inactive_days"`
	Status          string    `json:"status"`
	Total           int64     `json:"total"`
	Pending         int64     `json:"pending"`
	Issued          int64     `json:"issued"`
	Existing        int64     `json:"existing"`
	Failed          int64     `json:"failed"`
	CreatedAt       time.Time `json:"created_at"`
}

func (con *Console) couponsShow(c *gin.Context, v *viewer) {
	con.renderCoupons(c, v, http.StatusOK, couponIssueForm{ProgramID: c.Query("program"), InactiveDays: "0"}, formErrors{})
}

func (con *Console) renderCoupons(c *gin.Context, v *viewer, status int, f couponIssueForm, errs formErrors) {
	ctx := c.Request.Context()
	programs, err := con.programs(c, v)
	if err != nil {
		con.fail(c, err)
		return
	}
	cv := &couponsView{layout: con.newLayout(c, v, v.lang.Text("con_nav_coupons")), Errors: errs}
	names := map[string]string{}
	for _, p := range programs {
		names[p.ID] = p.Name
		cv.Sources = append(cv.Sources, option{Value: p.ID, Text: p.Name, Selected: p.ID == f.SourceProgramID})
	}
	for _, p := range programs {
		if kindOf(p) != loyalty.KindCoupon {
			continue
		}
		if f.ProgramID == "" {
			f.ProgramID = p.ID
		}
		cv.Programs = append(cv.Programs, option{Value: p.ID, Text: p.Name + " · " + p.Offer, Selected: p.ID == f.ProgramID})
		if con.opts.CouponIssues == nil {
			continue
		}
		ids, err := con.opts.CouponIssues.RecentCouponIssues(ctx, v.user.MerchantID, p.ID, recentIssues)
		if err != nil {
			con.fail(c, err)
			return
		}
		for _, id := range ids {
			job, err := con.couponIssue(c, v, id)
			if err != nil {
				con.fail(c, err)
				return
			}
			cv.Jobs = append(cv.Jobs, con.couponJobRow(v, job, names))
		}
	}
	cv.Form = f
	con.render(c, status, "coupons", cv)
}

func (con *Console) couponIssue(c *gin.Context, v *viewer, id string) (apiCouponIssue, error) {
	var job apiCouponIssue
	err := con.api.call(c.Request.Context(), v.user.MerchantID, http.MethodGet, "/api/v1/coupon-issues/"+url.PathEscape(id), nil, "", &job)
	return job, err
}

func (con *Console) couponJobRow(v *viewer, job apiCouponIssue, names map[string]string) couponJobRow {
	l := v.lang
	segment := l.Text("con_coupons_all")
	if job.Tier != "" {
		segment = l.Text("con_coupons_tier_n", "tier", job.Tier)
	}
	if job.InactiveDays > 0 {
		segment += ", " + l.Text("con_coupons_inactive_n", "n", l.Int(int64(job.InactiveDays)))
	}
	r := couponJobRow{ID: job.ID, Program: names[job.ProgramID], Source: names[job.SourceProgramID], Segment: segment,
		Status: l.Text("con_coupons_status_" + job.Status), StatusClass: job.Status, Created: when(l, job.CreatedAt),
		Total: l.Int(job.Total), Issued: l.Int(job.Issued), Existing: l.Int(job.Existing), Failed: l.Int(job.Failed),
		Pending: l.Int(job.Pending), Done: l.Int(job.Total - job.Pending), Percent: 100}
	if job.Total > 0 {
		r.Percent = int((job.Total - job.Pending) * 100 / job.Total)
	}
	return r
}

// couponsStart starts a job through the API.
func (con *Console) couponsStart(c *gin.Context, v *viewer) {
	f := couponIssueForm{ProgramID: postForm(c, "program_id"), SourceProgramID: postForm(c, "source_program_id"),
		Tier: postForm(c, "tier"), InactiveDays: postForm(c, "inactive_days")}
	errs := formErrors{}
	days := int64(0)
	if f.InactiveDays != "" {
		n, ok := parseInt(f.InactiveDays)
		if !ok || n < -1<<31 || n > 1<<31 {
			errs["inactive_days"] = v.lang.Text("con_err_whole")
		}
		days = n
	}
	if len(errs) > 0 {
		con.renderCoupons(c, v, http.StatusUnprocessableEntity, f, errs)
		return
	}
	token := formToken(c)
	if token == "" {
		con.renderCoupons(c, v, http.StatusUnprocessableEntity, f, formErrors{"": v.lang.Text("con_err_reload")})
		return
	}
	var job apiCouponIssue
	ctx := con.audited(c, v, store.AuditEntry{Action: "coupon_issue.start", Ref: "form:" + token})
	err := con.api.call(ctx, v.user.MerchantID, http.MethodPost,
		"/api/v1/programs/"+url.PathEscape(f.ProgramID)+"/coupon-issues",
		map[string]any{"source_program_id": f.SourceProgramID, "tier": f.Tier, "inactive_days": days}, "", &job)
	if formUsed(err) {
		con.openMade(c, v, token, "/console/coupons/")
		return
	}
	if ae, ok := asAPIError(err); ok {
		switch {
		case ae.Field != "":
		case ae.Code == "not_a_coupon_program" || ae.Code == "coupon_expired":
			ae.Field = "program_id"
		}
		errs.fromAPI(ae, v.lang, nil)
		con.renderCoupons(c, v, http.StatusUnprocessableEntity, f, errs)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/coupons/"+url.PathEscape(job.ID))
}

type couponJobView struct {
	layout
	Job couponJobRow
}

// couponJobShow is a job's progress and result.
func (con *Console) couponJobShow(c *gin.Context, v *viewer) {
	job, err := con.couponIssue(c, v, c.Param("id"))
	if ae, ok := asAPIError(err); ok && ae.Status == http.StatusNotFound {
		con.notFound(c)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	programs, err := con.programs(c, v)
	if err != nil {
		con.fail(c, err)
		return
	}
	names := map[string]string{}
	for _, p := range programs {
		names[p.ID] = p.Name
	}
	con.render(c, http.StatusOK, "coupon", &couponJobView{layout: con.newLayout(c, v, v.lang.Text("con_coupons_job")),
		Job: con.couponJobRow(v, job, names)})
}
