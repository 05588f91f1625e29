package console

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// The Reports screen (owners, managers): the audit log, newest first, a
// page at a time. The dashboard's plots are to join it.

const auditPage = 50

type reportsView struct {
	layout
	Entries []auditRow
	Older   string // the cursor of the next page, "" on the last
}

type auditRow struct{ When, Who, Action, Subject, Detail string }

func (con *Console) reportsShow(c *gin.Context, v *viewer) {
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	entries, err := con.opts.Audit.List(c.Request.Context(), v.user.MerchantID, before, auditPage)
	if err != nil {
		con.fail(c, err)
		return
	}
	rv := &reportsView{layout: con.newLayout(c, v, v.lang.Text("con_nav_reports"))}
	for _, e := range entries {
		rv.Entries = append(rv.Entries, auditRow{When: when(v.lang, e.CreatedAt), Who: e.UserEmail,
			Action: v.lang.Text("con_audit_" + e.Action), Subject: e.Subject, Detail: e.Detail})
	}
	if len(entries) == auditPage {
		rv.Older = strconv.FormatInt(entries[len(entries)-1].ID, 10)
	}
	con.render(c, http.StatusOK, "reports", rv)
}
